"""The value codec registry: how each value type becomes the neutral form Redis's formats
are written from (commands/rdb: RDB files, DUMP payloads, the full-sync RDB stream, and
the digests of DEBUG DIGEST-VALUE), and back. Each value type registers its functions
through commands/data/value_types.register_type:

    neutral forms (commands/rdb/__init__.py)
        string  bytes
        list    list[bytes]
        set     list[bytes]
        hash    list[(field, value)]
        zset    list[(member, score)]

* `type_name` is the Redis type name (what TYPE answers, the `kind` of commands/rdb).
* `python_class` is the class (or a tuple of classes) stored in the keyspace for that
  type; values are looked up by exact `type(value)`.
* `to_neutral(value)` builds the neutral form from the live value, copying what is
  mutable (the caller may hold it while other code runs). `encoding(value)` names the
  encoding Redis would save it in (OBJECT ENCODING's answer).
* `from_neutral(neutral)` returns a new live value. It must *validate*: on anything
  malformed (duplicate members, wrong element types) raise ValueError/TypeError, which
  loading turns into its error (RESTORE: `ERR Bad data format`). An empty collection is
  refused by the callers (Redis never stores one), so from_neutral need not check that.
* `unordered=True` for types whose neutral order says nothing about the value (sets,
  hashes): digests then sort the elements, so equal values digest alike on every node.
"""
from commands.data.keyspace import TYPE_NAMES


class UnsupportedValue(TypeError):
    """A value whose type registered no codec; the message is the error reply's text."""


class ValueCodec:
    __slots__ = ("type_name", "to_neutral", "from_neutral", "encoding", "unordered")

    def __init__(self, type_name, to_neutral, from_neutral, encoding, unordered):
        self.type_name = type_name
        self.to_neutral = to_neutral
        self.from_neutral = from_neutral
        self.encoding = encoding
        self.unordered = unordered


_BY_CLASS: dict = {}                  # python class -> ValueCodec
_BY_NAME: dict = {}                   # type name -> ValueCodec


def register_value_codec(type_name: str, python_class, to_neutral, from_neutral,
                         encoding=None, unordered: bool = False) -> None:
    """Make values of `python_class` savable, DUMP-able and MIGRATE-able (see the module
    docstring for the contract)."""
    codec = ValueCodec(type_name, to_neutral, from_neutral, encoding, unordered)
    classes = python_class if isinstance(python_class, tuple) else (python_class,)
    for cls in classes:
        _BY_CLASS[cls] = codec
    _BY_NAME[type_name] = codec


def registered_types() -> dict:
    """Type name -> ValueCodec, for tests that round-trip every registered type."""
    return dict(_BY_NAME)


def codec_of(value) -> ValueCodec:
    codec = _BY_CLASS.get(type(value))
    if codec is None:
        # A type module that forgot to register: say so rather than write something
        # no node can read back.
        raise UnsupportedValue("ERR DUMP is not supported for values of type '%s'"
                               % TYPE_NAMES.get(type(value), type(value).__name__))
    return codec


def codec_named(type_name: str) -> ValueCodec:
    """The codec of a type name; KeyError for a type nobody registered."""
    return _BY_NAME[type_name]


def to_saved(value):
    """(type name, neutral form, encoding) of a live value: what the RDB writer takes."""
    if type(value) is bytes:          # the common case, without a registry lookup
        return "string", value, None
    codec = codec_of(value)
    encoding = codec.encoding(value) if codec.encoding is not None else None
    return codec.type_name, codec.to_neutral(value), encoding


def from_saved(type_name: str, neutral):
    """A new live value from a neutral form; raises on malformed input (KeyError for an
    unknown type, ValueError/TypeError for bad contents)."""
    if type_name == "string":
        if type(neutral) is not bytes:
            raise TypeError("a string holds bytes")
        return neutral
    value = _BY_NAME[type_name].from_neutral(neutral)
    if not value:
        # Redis never stores an empty collection (a stream may be empty: its bool is True)
        raise ValueError("an empty collection")
    return value


def _string_to_neutral(value) -> bytes:
    return bytes(value)


def _string_from_neutral(neutral) -> bytes:
    if type(neutral) is not bytes:
        raise TypeError("a string holds bytes")
    return neutral


register_value_codec("string", (bytes, bytearray), _string_to_neutral, _string_from_neutral)
