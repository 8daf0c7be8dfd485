"""The `bit` library Redis loads into Lua (LuaBitOp 1.0.2): 32-bit operations on Lua
numbers, results as signed 32-bit numbers.

A number becomes 32 bits as LuaBitOp does it: rounded to the nearest integer (ties to
even: it adds 2^52 + 2^51 and reads the low word), then taken modulo 2^32. Arguments
follow luaL_checknumber: numbers, or strings that read as numbers; anything else is
"bad argument #n to 'name' (number expected, got <type>)" at the script's line.
"""
import math

from lupa import lua51

_LUA_TYPE_NAMES = {type(None): "nil", bool: "boolean", bytes: "string"}


class LuaArgumentError(Exception):
    """A library function's bad argument: the message without the position, and with
    NAME where the function's name goes (Lua names it as the caller sees it: 'band'
    for bit.band(...), '?' through pcall(bit.band, ...))."""


NAME = "\0name\0"


def _type_name(value) -> str:
    name = _LUA_TYPE_NAMES.get(type(value))
    if name is not None:
        return name
    return lua51.lua_type(value) or "userdata"


def check_number(args, index: int):
    """luaL_checknumber(args[index]) (index from 0; messages count from 1)."""
    if index >= len(args):
        raise LuaArgumentError("bad argument #%d to '%s' (number expected, got no value)"
                               % (index + 1, NAME))
    value = args[index]
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is bytes:
        number = lua_string_to_number(value)
        if number is not None:
            return number
    raise LuaArgumentError("bad argument #%d to '%s' (number expected, got %s)"
                           % (index + 1, NAME, _type_name(value)))


def lua_string_to_number(text: bytes):
    """Lua 5.1's luaO_str2d: what strtod reads (decimal, inf, nan) or 0x hex, with
    spaces around; None if the string is not a number."""
    s = text.strip(b" \t\n\r\f\v")
    try:
        if s[:2].lower() == b"0x":
            return float(int(s, 16))
        return float(s)
    except ValueError:
        return None


def tobit(number) -> int:
    if isinstance(number, float):
        if math.isnan(number) or math.isinf(number):
            return 0
        number = round(number)        # ties to even, as the 2^52 + 2^51 trick
    number &= 0xFFFFFFFF
    return number - (1 << 32) if number & 0x80000000 else number


def _signed(number: int) -> int:
    number &= 0xFFFFFFFF
    return number - (1 << 32) if number & 0x80000000 else number


def _reduce(op):
    def fn(*args):
        result = tobit(check_number(args, 0))
        for i in range(1, len(args)):
            result = op(result, tobit(check_number(args, i)))
        return _signed(result)
    return fn


def _shift(op):
    def fn(*args):
        value = tobit(check_number(args, 0)) & 0xFFFFFFFF
        count = tobit(check_number(args, 1)) & 31
        return _signed(op(value, count))
    return fn


def _tohex(*args):
    value = tobit(check_number(args, 0))
    digits = 8
    if len(args) > 1 and args[1] is not None:
        digits = tobit(check_number(args, 1))
    upper = digits < 0
    if upper:
        digits = -digits
    digits = min(digits, 8)
    text = "%08x" % (value & 0xFFFFFFFF)
    text = text[8 - digits:] if digits else ""
    return (text.upper() if upper else text).encode()


def _bswap(*args):
    value = tobit(check_number(args, 0)) & 0xFFFFFFFF
    return _signed(int.from_bytes(value.to_bytes(4, "little"), "big"))


FUNCTIONS = {
    "tobit": lambda *args: tobit(check_number(args, 0)),
    "tohex": _tohex,
    "bnot": lambda *args: _signed(~tobit(check_number(args, 0))),
    "band": _reduce(lambda a, b: a & b),
    "bor": _reduce(lambda a, b: a | b),
    "bxor": _reduce(lambda a, b: a ^ b),
    "lshift": _shift(lambda v, n: v << n),
    "rshift": _shift(lambda v, n: v >> n),
    "arshift": _shift(lambda v, n: _signed(v) >> n),
    "rol": _shift(lambda v, n: (v << n) | (v >> (32 - n)) if n else v),
    "ror": _shift(lambda v, n: (v >> n) | (v << (32 - n)) if n else v),
    "bswap": _bswap,
}
