"""The `struct` library Redis loads into Lua (Roberto Ierusalimschy's lua_struct 0.2 as
Redis bundles it, on x86-64): struct.pack(fmt, ...), struct.unpack(fmt, s [, pos]),
struct.size(fmt).

Formats: ">" big endian, "<" little, "=" native (little), "![n]" alignment (default 8);
"b/B" 1 byte, "h/H" 2, "l/L" and "T" 8, "i/I[n]" n bytes (default 4, at most 32),
"f" float, "d" double, "c[n]" n chars (c0: the length comes from the previous value),
"s" zero-terminated string, "x" a zero byte, " " ignored. Integers are C's: a number
becomes a 64-bit integer (bytes past the eighth are zero), read back into a Lua number.
"""
import struct

from commands.scripting.lua_bit import NAME, LuaArgumentError, check_number

MAXINTSIZE = 32
MAXALIGN = 8
_SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1}
_MASK64 = (1 << 64) - 1


class StructError(Exception):
    """luaL_error from the library (raised at the script's line)."""


def _arg_error(index: int, message: str):
    return LuaArgumentError("bad argument #%d to '%s' (%s)" % (index, NAME, message))


def _check_string(args, index: int) -> bytes:
    """luaL_checklstring (index from 1, as Lua counts)."""
    value = args[index - 1] if index <= len(args) else None
    if type(value) is bytes:
        return value
    if type(value) in (int, float):
        return b"%.14g" % value
    got = "no value" if index > len(args) else \
        {type(None): "nil", bool: "boolean"}.get(type(value), "table")
    raise _arg_error(index, "string expected, got %s" % got)


class _Format:
    def __init__(self, fmt: bytes):
        self.fmt = fmt.decode("latin-1")
        self.pos = 0
        self.little = True
        self.align = 1

    def __iter__(self):
        while self.pos < len(self.fmt):
            opt = self.fmt[self.pos]
            self.pos += 1
            yield opt, self._size(opt)

    def _number(self, default: int) -> int:
        if self.pos >= len(self.fmt) or not self.fmt[self.pos].isdigit():
            return default
        value = 0
        while self.pos < len(self.fmt) and self.fmt[self.pos].isdigit():
            value = value * 10 + int(self.fmt[self.pos])
            if value > 2 ** 31 - 1:
                raise StructError("integral size overflow")
            self.pos += 1
        return value

    def _size(self, opt: str) -> int:
        if opt in _SIZES:
            return _SIZES[opt]
        if opt == "c":
            return self._number(1)
        if opt in "iI":
            size = self._number(4)
            if size > MAXINTSIZE:
                raise StructError("integral size %d is larger than limit of %d"
                                  % (size, MAXINTSIZE))
            return size
        return 0

    def padding(self, length: int, opt: str, size: int) -> int:
        if size == 0 or opt == "c":
            return 0
        size = min(size, self.align)
        return (size - (length & (size - 1))) & (size - 1)

    def control(self, opt: str) -> None:
        if opt == " ":
            return
        if opt == ">":
            self.little = False
        elif opt == "<" or opt == "=":
            self.little = True
        elif opt == "!":
            align = self._number(MAXALIGN)
            if align <= 0 or align & (align - 1):
                raise StructError("alignment %d is not a power of 2" % align)
            self.align = align
        else:
            raise _arg_error(1, "invalid format option '%s'" % opt)


def _integer_bytes(number, size: int, little: bool) -> bytes:
    value = int(number) & _MASK64          # (Uinttype)(Inttype)n, or (Uinttype)n
    out = bytearray(size)
    for i in range(size):
        out[i if little else size - 1 - i] = value & 0xFF
        value >>= 8
    return bytes(out)


def _integer_value(data: bytes, little: bool, signed: bool) -> int:
    value = 0
    for byte in (reversed(data) if little else data):
        value = ((value << 8) | byte) & _MASK64
    if signed:
        bits = len(data) * 8 - 1
        mask = (_MASK64 << bits) & _MASK64 if bits < 64 else 0
        if value & mask:
            value |= mask
        if value & (1 << 63):
            value -= 1 << 64
    return value


def pack(*args):
    fmt = _Format(_check_string(args, 1))
    out = bytearray()
    arg = 2
    for opt, size in fmt:
        pad = fmt.padding(len(out), opt, size)
        out += b"\0" * pad
        if opt in "bBhHlLTiI":
            out += _integer_bytes(check_number(args, arg - 1), size, fmt.little)
            arg += 1
        elif opt == "x":
            out += b"\0"
        elif opt in "fd":
            number = float(check_number(args, arg - 1))
            arg += 1
            code = ("<" if fmt.little else ">") + opt
            try:
                out += struct.pack(code, number)
            except OverflowError:
                out += struct.pack(code, float("inf") if number > 0 else float("-inf"))
        elif opt in "cs":
            text = _check_string(args, arg)
            arg += 1
            if size == 0:
                size = len(text)
            if len(text) < size:
                raise _arg_error(arg, "string too short")
            out += text[:size]
            if opt == "s":
                out += b"\0"
        else:
            fmt.control(opt)
    return bytes(out)


def unpack(*args):
    fmt = _Format(_check_string(args, 1))
    data = _check_string(args, 2)
    pos = 1
    if len(args) >= 3 and args[2] is not None:
        pos = int(check_number(args, 2))
    if pos <= 0:
        raise _arg_error(3, "offset must be 1 or greater")
    pos -= 1
    results = []
    for opt, size in fmt:
        pos += fmt.padding(pos, opt, size)
        if not (size <= len(data) and pos <= len(data) - size):
            raise _arg_error(2, "data string too short")
        if opt in "bBhHlLTiI":
            results.append(_integer_value(data[pos:pos + size], fmt.little, opt.islower()))
        elif opt in "fd":
            code = ("<" if fmt.little else ">") + opt
            results.append(struct.unpack(code, data[pos:pos + size])[0])
        elif opt == "c":
            if size == 0:
                if not results or type(results[-1]) not in (int, float):
                    raise StructError("format 'c0' needs a previous size")
                size = int(results.pop())
                if not (size <= len(data) and pos <= len(data) - size):
                    raise _arg_error(2, "data string too short")
            results.append(data[pos:pos + size])
        elif opt == "s":
            end = data.find(b"\0", pos)
            if end < 0:
                raise StructError("unfinished string in data")
            size = end - pos + 1
            results.append(data[pos:end])
        elif opt != "x":
            fmt.control(opt)
        pos += size
    results.append(pos + 1)
    return tuple(results)


def size(*args):
    fmt = _Format(_check_string(args, 1))
    pos = 0
    for opt, length in fmt:
        pos += fmt.padding(pos, opt, length)
        if opt == "s":
            raise _arg_error(1, "option 's' has no fixed size")
        if opt == "c" and length == 0:
            raise _arg_error(1, "option 'c0' has no fixed size")
        if not opt.isalnum():
            fmt.control(opt)
        pos += length
    return pos


FUNCTIONS = {"pack": pack, "unpack": unpack, "size": size}
