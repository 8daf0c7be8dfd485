"""Numbers as Redis reads and writes them: strict integers and x87 long doubles.

Integers: Redis's string2ll accepts exactly the canonical decimal spelling of a 64-bit
integer -- no '+', no leading zeros, no spaces, no "-0". So a value is valid iff Python's
int() parses it *and* printing the result gives back the same bytes, which is also the
fastest check we can make in Python.

Long doubles: INCRBYFLOAT computes in C `long double`, which on x86-64 is the 80-bit x87
format (64-bit significand, exponents down to 2**-16445 for subnormals). Python has no such
type, so we do the arithmetic exactly with Fractions and round the result to the nearest
representable value (ties to even), which is what the FPU does for one addition. Parsing
follows strtold (decimal, hexadecimal "0x1p3", "inf"/"infinity"; "nan" and out-of-range
values are refused as Redis's string2ld refuses them) and formatting follows ld2string's
"human friendly" mode: "%.17Lf" with trailing zeros removed.
"""
import math
import re
from fractions import Fraction

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1

NOT_INTEGER = "ERR value is not an integer or out of range"

NOT_FLOAT = "ERR value is not a valid float"


def parse_int64(data):
    """The int64 spelled canonically by `data` (bytes), or None (Redis's string2ll)."""
    # The usual one first (a counter's value, an index): ASCII digits without a leading
    # zero, fewer than 19 of them, so canonical and within int64 (~40% cheaper).
    if data.isdigit() and len(data) < 19 and (data[0] != 48 or len(data) == 1):
        return int(data)
    if len(data) > 20:
        return None
    try:
        value = int(data)
    except ValueError:
        return None
    # int() is lenient (' 1', '+1', '01', '1_0'); Redis is not.
    if b"%d" % value != data or value < INT64_MIN or value > INT64_MAX:
        return None
    return value


# ---------------------------------------------------------------- x87 long double

_MANT_BITS = 64                 # significand bits, explicit leading one included
_MIN_QUANTUM_EXP = -16445       # the smallest subnormal is 2**-16445
_MAX_EXP = 16383                # the largest finite value is just under 2**16384
_MAX_LONG_DOUBLE_CHARS = 5 * 1024   # Redis refuses longer inputs (string2ld's buffer)

INF = "inf"                     # marker for an infinite result (sign kept separately)

_DECIMAL = re.compile(rb"([+-]?)(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?\Z")
_HEX = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)"
                  rb"(?:[pP]([+-]?\d+))?\Z")
_INFINITY = re.compile(rb"([+-]?)(?:inf|infinity)\Z", re.IGNORECASE)


def round_long_double(value: Fraction):
    """`value` rounded to the nearest x87 long double (ties to even).

    Returns a Fraction, or (sign, INF) when the magnitude overflows."""
    if value == 0:
        return value
    negative = value < 0
    mag = -value if negative else value
    num, den = mag.numerator, mag.denominator
    # floor(log2(mag)): estimate from bit lengths, then correct by one if needed.
    exp = num.bit_length() - den.bit_length()
    if (num << -exp if exp < 0 else num) < (den << exp if exp > 0 else den):
        exp -= 1
    quantum = max(exp - (_MANT_BITS - 1), _MIN_QUANTUM_EXP)
    scaled = mag / (Fraction(2) ** quantum)
    mant = round(scaled)        # Fraction.__round__ rounds half to even
    if mant.bit_length() > _MANT_BITS:   # rounding carried into a new binade
        mant >>= 1
        quantum += 1
    if mant and quantum + mant.bit_length() - 1 > _MAX_EXP:
        return ("-" if negative else "+", INF)
    result = Fraction(mant) * (Fraction(2) ** quantum)
    return -result if negative else result


def parse_long_double(data):
    """Redis's string2ld: the long double in `data` (a Fraction) or None if invalid."""
    if not data or len(data) >= _MAX_LONG_DOUBLE_CHARS:
        return None
    if b"\x00" in data:
        return None              # strtold would stop early: Redis sees unparsed bytes
    match = _DECIMAL.match(data)
    if match:
        sign, digits, exp = match.groups()
        exp = int(exp) if exp else 0
        whole, _, frac = digits.partition(b".")
        mantissa = _int_from_digits(whole + frac or b"0")
        exp -= len(frac)
        if mantissa:
            # Huge exponents would build huge Fractions; decide them by magnitude alone.
            magnitude = len((whole + frac).lstrip(b"0")) + exp
            if magnitude > 4935:
                return None                       # overflows to HUGE_VALL: refused
            if magnitude < -4955:
                return None                       # underflows to zero: refused
        exact = Fraction(mantissa) * (Fraction(10) ** exp)
    else:
        match = _HEX.match(data)
        if match:
            sign, digits, exp = match.groups()
            exp = int(exp) if exp else 0
            whole, _, frac = digits.partition(b".")
            mantissa = int(whole + frac or b"0", 16)
            exp -= 4 * len(frac)
            if mantissa:
                magnitude = mantissa.bit_length() + exp
                if magnitude > _MAX_EXP + 2:
                    return None
                if magnitude < _MIN_QUANTUM_EXP - 2:
                    return None
            exact = Fraction(mantissa) * (Fraction(2) ** exp)
        else:
            match = _INFINITY.match(data)
            if match:
                return (match.group(1).decode() or "+", INF)
            return None          # not a number at all, or nan (refused by Redis)
    if sign == b"-":
        exact = -exact
    value = round_long_double(exact)
    if type(value) is tuple:
        return None              # ERANGE with HUGE_VALL: refused
    if value == 0 and exact != 0:
        return None              # ERANGE with a zero result: refused
    return value


# Python refuses decimal int<->str conversions past 4300 digits (a guard against slow
# quadratic conversions). Long doubles reach ~4950 digits and their inputs are capped at
# 5 KB, so we convert in chunks below that limit.
_CHUNK = 4000
_CHUNK_SCALE = 10 ** _CHUNK


def _int_from_digits(digits: bytes) -> int:
    if len(digits) <= _CHUNK:
        return int(digits)
    return _int_from_digits(digits[:-_CHUNK]) * _CHUNK_SCALE + int(digits[-_CHUNK:])


def _digits(value: int) -> bytes:
    """The decimal digits of a non-negative int of any size."""
    if value < _CHUNK_SCALE:
        return b"%d" % value
    high, low = divmod(value, _CHUNK_SCALE)
    return _digits(high) + b"%0*d" % (_CHUNK, low)


def add_long_double(a, b):
    """a + b rounded once, as the FPU adds; either may be an infinity tuple."""
    if type(a) is tuple or type(b) is tuple:
        return a if type(a) is tuple else b      # inf + x; inf - inf is also "not finite"
    return round_long_double(a + b)


def format_long_double(value: Fraction) -> bytes:
    """ld2string(LD_STR_HUMAN): "%.17Lf" minus trailing zeros, "-0" printed as "0"."""
    negative = value < 0
    scaled = round(abs(value) * 10 ** 17)        # glibc rounds the exact value, ties to even
    text = _digits(scaled).rjust(18, b"0")
    whole, frac = text[:-17], text[-17:].rstrip(b"0")
    out = whole + b"." + frac if frac else whole
    if negative and out != b"0":
        out = b"-" + out
    return out


# What C's strtod accepts (after optional leading white space, which callers decide on).
_STRTOD = re.compile(
    rb"[+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?"
    rb"|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
    rb"|(?i:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?))")


def strtod(text: bytes):
    """(value, bytes consumed) as strtod; consumed 0 when nothing parses. Overflow gives
    +-inf, like HUGE_VAL; `underflow` tells a rounded-to-zero result apart."""
    stripped = text.lstrip(b" \t\n\v\f\r")
    match = _STRTOD.match(stripped)
    if not match:
        return 0.0, 0, False
    word = match.group(0)
    lower = word.lower().lstrip(b"+-")
    negative = word[:1] == b"-"
    if lower.startswith(b"nan"):
        value = math.nan
    elif lower.startswith(b"inf"):
        value = -math.inf if negative else math.inf
    elif lower.startswith(b"0x"):
        text_hex = word.decode()
        if "p" not in text_hex.lower():
            text_hex += "p0"
        try:
            value = float.fromhex(text_hex)
        except OverflowError:
            value = -math.inf if negative else math.inf
    else:
        value = float(word)
    if lower.startswith(b"0x"):
        mantissa = lower[2:].split(b"p")[0]
    else:
        mantissa = lower.split(b"e")[0]
    underflow = value == 0 and any(ch not in b"0." for ch in mantissa)
    return value, len(text) - len(stripped) + len(word), underflow
