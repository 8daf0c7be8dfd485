"""The value codec registry: how each value type becomes a "plain" value msgpack can carry
(DUMP payloads, MIGRATE, the replication snapshot, DEBUG DIGEST-VALUE) and back. Each
value type registers its pair of functions:

    register_value_codec("hash", Hash, to_plain, from_plain)
    register_value_codec("set", SetValue, to_plain, from_plain, unordered=True)

(Type modules call it through commands/data/value_types.register_type, which also registers
the type's name, encoding and COPY.)

* `type_name` is the Redis type name (what TYPE answers); it is the tag in the payload, so
  it must never change once payloads exist.
* `python_class` is the class (or a tuple of classes) stored in the keyspace for that type.
  encode looks values up by exact `type(value)`.
* `to_plain(value)` returns only: bytes, int (64-bit), float, bool, None, list, and dict
  with bytes keys -- nested as needed. Members and field names are bytes, never str.
  It must not keep references to the live value (copy what is mutable); it is called on
  the live value and the result is packed at once.
* `from_plain(plain)` gets what msgpack gives back for that (bytes stay bytes, lists are
  lists, dicts are dicts) and returns a new value of `python_class`. It must *validate*:
  on anything malformed raise ValueError/TypeError (any exception is turned into
  `ERR Bad data format`). An empty collection is refused here generically (Redis never
  stores one), so from_plain need not check that.
* `unordered=True` for types whose to_plain order is arbitrary (sets): digests then sort
  the elements, so two equal sets give one DEBUG DIGEST-VALUE on every node.
"""
from commands.data.keyspace import TYPE_NAMES


class UnsupportedValue(TypeError):
    """A value whose type registered no codec; the message is the error reply's text."""


class ValueCodec:
    __slots__ = ("type_name", "to_plain", "from_plain", "unordered")

    def __init__(self, type_name, to_plain, from_plain, unordered):
        self.type_name = type_name
        self.to_plain = to_plain
        self.from_plain = from_plain
        self.unordered = unordered


_BY_CLASS: dict = {}                  # python class -> ValueCodec
_BY_NAME: dict = {}                   # type name (payload tag) -> ValueCodec


def register_value_codec(type_name: str, python_class, to_plain, from_plain,
                         unordered: bool = False) -> None:
    """Make values of `python_class` DUMP-able, RESTORE-able and MIGRATE-able
    (see the module docstring for the contract)."""
    codec = ValueCodec(type_name, to_plain, from_plain, unordered)
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
        # A type module that forgot to register: say so rather than send something
        # no node can read back.
        raise UnsupportedValue("ERR DUMP is not supported for values of type '%s'"
                               % TYPE_NAMES.get(type(value), type(value).__name__))
    return codec


def codec_named(type_name: str) -> ValueCodec:
    """The codec of a payload tag; KeyError for a tag no type registered."""
    return _BY_NAME[type_name]


def value_to_plain(value):
    """(type name, plain value) of a live value: the codec without the DUMP framing
    (the replication snapshot packs many values in one msgpack chunk)."""
    codec = codec_of(value)
    return codec.type_name, codec.to_plain(value)


def value_from_plain(type_name: str, plain):
    """A new value from value_to_plain's output; raises on malformed input."""
    return _BY_NAME[type_name].from_plain(plain)


def _string_to_plain(value) -> bytes:
    return bytes(value)


def _string_from_plain(plain) -> bytes:
    if type(plain) is not bytes:
        raise TypeError("a string payload holds bytes")
    return plain


register_value_codec("string", (bytes, bytearray), _string_to_plain, _string_from_plain)
