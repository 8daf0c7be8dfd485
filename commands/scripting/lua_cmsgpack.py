"""The `cmsgpack` library Redis loads into Lua (lua-cmsgpack 0.4.0 as Redis bundles it).

pack(...) encodes each argument and concatenates them, with lua-cmsgpack's choices:
integral numbers as the smallest integer form; other numbers as float 32 when that is
exact, else float 64; strings as fixstr / str 8 / str 16 / str 32; a table whose keys are
exactly 1..n as an array, any other as a map (in Lua's iteration order); tables nested
deeper than 16 and values of other types as nil. unpack(s) decodes every object in s
and returns them all (with msgpack's own parser: strings and binaries alike become Lua
strings).
"""
import math
import struct

import msgpack
from lupa import lua51

from commands.scripting.lua_bit import LuaArgumentError

MAX_NESTING = 16


class CmsgpackError(Exception):
    """A cmsgpack error message (raised at the script's line)."""


def _int(n: int) -> bytes:
    if n >= 0:
        if n <= 127:
            return bytes((n,))
        if n <= 0xFF:
            return b"\xcc" + struct.pack(">B", n)
        if n <= 0xFFFF:
            return b"\xcd" + struct.pack(">H", n)
        if n <= 0xFFFFFFFF:
            return b"\xce" + struct.pack(">I", n)
        return b"\xcf" + struct.pack(">Q", n & 0xFFFFFFFFFFFFFFFF)
    if n >= -32:
        return struct.pack(">b", n)
    if n >= -128:
        return b"\xd0" + struct.pack(">b", n)
    if n >= -32768:
        return b"\xd1" + struct.pack(">h", n)
    if n >= -2147483648:
        return b"\xd2" + struct.pack(">i", n)
    return b"\xd3" + struct.pack(">q", n)


def _number(n) -> bytes:
    if isinstance(n, int):
        return _int(n)
    if not math.isinf(n) and n == math.floor(n) and -2 ** 63 <= n < 2 ** 63:
        return _int(int(n))
    try:
        single = struct.pack(">f", n)
        if struct.unpack(">f", single)[0] == n or math.isnan(n):
            return b"\xca" + single
    except OverflowError:
        pass
    return b"\xcb" + struct.pack(">d", n)


def _bytes(s: bytes) -> bytes:
    n = len(s)
    if n < 32:
        return bytes((0xA0 | n,)) + s
    if n <= 0xFF:
        return b"\xd9" + struct.pack(">B", n) + s
    if n <= 0xFFFF:
        return b"\xda" + struct.pack(">H", n) + s
    return b"\xdb" + struct.pack(">I", n) + s


def _header(n: int, fix: int, sixteen: bytes, thirty_two: bytes) -> bytes:
    if n < 16:
        return bytes((fix | n,))
    if n <= 0xFFFF:
        return sixteen + struct.pack(">H", n)
    return thirty_two + struct.pack(">I", n)


def encode(value, level=0) -> bytes:
    kind = type(value)
    if kind is bytes:
        return _bytes(value)
    if kind is bool:
        return b"\xc3" if value else b"\xc2"
    if kind is int or kind is float:
        return _number(value)
    if lua51.lua_type(value) == "table" and level < MAX_NESTING:
        items = list(value.items())
        keys = [k for k, _ in items]
        if all(type(k) in (int, float) and k > 0 and k == math.floor(k) for k in keys) and \
                (max(keys) if keys else 0) == len(keys):
            table = dict(items)
            return _header(len(keys), 0x90, b"\xdc", b"\xdd") + b"".join(
                encode(table[i], level + 1) for i in range(1, len(keys) + 1))
        return _header(len(items), 0x80, b"\xde", b"\xdf") + b"".join(
            encode(k, level + 1) + encode(v, level + 1) for k, v in items)
    return b"\xc0"


class Unpacker:
    def __init__(self, runtime):
        self._table = runtime.table

    def to_lua(self, value):
        if isinstance(value, (list, tuple)):
            table = self._table()
            for i, item in enumerate(value):
                table[i + 1] = self.to_lua(item)
            return table
        if isinstance(value, dict):
            table = self._table()
            for key, item in value.items():
                key = self.to_lua(key)
                if key is not None:
                    table[key] = self.to_lua(item)
            return table
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
        return value

    def unpack(self, data: bytes) -> tuple:
        unpacker = msgpack.Unpacker(raw=True, strict_map_key=False, use_list=True)
        unpacker.feed(data)
        try:
            return tuple(self.to_lua(v) for v in unpacker)
        except (ValueError, msgpack.UnpackException) as exc:
            raise CmsgpackError("Bad data format in input.") from exc


def functions(runtime) -> dict:
    unpacker = Unpacker(runtime)

    def pack(*args):
        if not args:
            raise LuaArgumentError("bad argument #0 to 'pack' (MessagePack pack needs input.)")
        return b"".join(encode(arg) for arg in args)

    def unpack(*args):
        data = args[0] if args else None
        if type(data) is not bytes:
            raise LuaArgumentError("bad argument #1 to 'unpack' (string expected, got %s)"
                                   % ("no value" if not args else
                                      lua51.lua_type(data) or type(data).__name__))
        values = unpacker.unpack(data)
        return values if len(values) != 1 else values[0]

    return {"pack": pack, "unpack": unpack}
