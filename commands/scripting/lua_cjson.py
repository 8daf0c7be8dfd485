"""The `cjson` library Redis loads into Lua (lua-cjson 2.1 with Redis's settings).

encode: nil and cjson.null -> null; numbers with "%.14g" (NaN and the infinities are
refused); strings escaped as lua-cjson does (including "/" -> "\\/", other control
bytes and DEL as \\u00XX, bytes >= 0x80 as they are); a table whose keys are all
positive integers is an array (holes become null) unless excessively sparse (largest
index > 2 x the count and > 10); any other table is an object with string or number
keys; an empty table is {}. Nesting deeper than 1000 is refused.

decode: JSON to Lua values (objects and arrays as tables, null as cjson.null). A
malformed document raises an error; its wording follows lua-cjson for a value that does
not start as JSON ("Expected value but found invalid token at character N"), and is
Python's description otherwise (lua-cjson's other parse messages are not reproduced).
"""
import json
import math

from lupa import lua51

from commands.scripting.lua_bit import LuaArgumentError

MAX_DEPTH = 1000


class CjsonError(Exception):
    """A cjson error message (raised at the script's line)."""


class JsonNull:
    """cjson.null: one object, a userdata to Lua."""

    def __repr__(self):
        return "cjson.null"


NULL = JsonNull()

_ESCAPES = {0x22: b'\\"', 0x5C: b"\\\\", 0x2F: b"\\/", 0x08: b"\\b", 0x0C: b"\\f",
            0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t"}
_ESCAPE_TABLE = [_ESCAPES.get(b, b"\\u%04x" % b if b < 0x20 or b == 0x7F else bytes((b,)))
                 for b in range(256)]


def encode_string(value: bytes) -> bytes:
    return b'"' + b"".join(_ESCAPE_TABLE[b] for b in value) + b'"'


def encode_number(value) -> bytes:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise CjsonError("Cannot serialise number: must not be NaN or Inf")
    return (b"%.14g" % value)


def _type_name(value) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    return lua51.lua_type(value) or "userdata"


class Encoder:
    def __init__(self, runtime):
        self._next = runtime.globals().next

    def encode(self, value, depth=0) -> bytes:
        kind = type(value)
        if value is None or value is NULL:
            return b"null"
        if kind is bool:
            return b"true" if value else b"false"
        if kind is int or kind is float:
            return encode_number(value)
        if kind is bytes:
            return encode_string(value)
        if lua51.lua_type(value) == "table":
            if depth >= MAX_DEPTH:
                raise CjsonError("Cannot serialise, excessive nesting (%d)" % (depth + 1))
            return self._table(value, depth + 1)
        raise CjsonError("Cannot serialise %s: type not supported" % _type_name(value))

    def _table(self, table, depth) -> bytes:
        items = list(table.items())
        largest = 0
        array = True
        for key, _ in items:
            if type(key) in (int, float) and key >= 1 and key == math.floor(key):
                largest = max(largest, int(key))
            else:
                array = False
                break
        if array and items:
            if largest > 2 * len(items) and largest > 10:
                raise CjsonError("Cannot serialise table: excessively sparse array")
            values = dict(items)
            return b"[" + b",".join(self.encode(values.get(i), depth)
                                    for i in range(1, largest + 1)) + b"]"
        parts = []
        for key, item in items:
            kind = type(key)
            if kind is bytes:
                name = encode_string(key)
            elif kind is int or kind is float:
                name = b'"' + encode_number(key) + b'"'
            else:
                raise CjsonError("Cannot serialise %s: table key must be a number or string"
                                 % _type_name(key))
            parts.append(name + b":" + self.encode(item, depth))
        return b"{" + b",".join(parts) + b"}"


class Decoder:
    def __init__(self, runtime):
        self._table_from = runtime.table_from
        self._table = runtime.table

    def decode(self, text: bytes):
        try:
            document = json.loads(text.decode("utf-8", "surrogateescape"),
                                  parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            position = getattr(exc, "pos", 0) + 1
            if getattr(exc, "msg", "") == "Expecting value":
                raise CjsonError("Expected value but found invalid token at character %d"
                                 % position) from None
            raise CjsonError("%s at character %d" % (getattr(exc, "msg", str(exc)),
                                                     position)) from None
        return self._to_lua(document)

    def _to_lua(self, value):
        if value is None:
            return NULL
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
        if isinstance(value, bool) or isinstance(value, (int, float)):
            return float(value) if isinstance(value, int) and abs(value) >= 2 ** 53 else value
        if isinstance(value, list):
            table = self._table()
            for i, item in enumerate(value):
                table[i + 1] = self._to_lua(item)
            return table
        table = self._table()
        for key, item in value.items():
            table[key.encode("utf-8", "surrogateescape")] = self._to_lua(item)
        return table


def _refuse_constant(name):
    raise ValueError("invalid number %s" % name)


def functions(runtime) -> dict:
    encoder = Encoder(runtime)
    decoder = Decoder(runtime)

    def encode(*args):
        if len(args) != 1:
            raise LuaArgumentError("bad argument #1 to 'encode' (expected 1 argument)")
        return encoder.encode(args[0])

    def decode(*args):
        if len(args) != 1:
            raise LuaArgumentError("bad argument #1 to 'decode' (expected 1 argument)")
        text = args[0]
        if type(text) in (int, float):
            text = encode_number(text)
        elif type(text) is not bytes:
            raise LuaArgumentError("bad argument #1 to 'decode' (string expected, got %s)"
                                   % _type_name(text))
        return decoder.decode(text)

    return {"encode": encode, "decode": decode, "null": NULL}
