"""A string as an array of bits and of bit fields, as Redis's bitops.c sees it.

Bit 0 is the most significant bit of the first byte, so a string is one big-endian
number and a bit range is a slice of it: every function here turns the bytes it needs
into one Python int (int.from_bytes, done in C) and answers with int operations, instead
of walking bytes or bits in Python. Bits past the end of the string read as 0.

Pure functions on bytes/bytearray: no keyspace, no clients (commands/encoded/ has the
commands).
"""

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64 = 1 << 64

# BITFIELD's overflow behaviours (Redis's BFOVERFLOW_*).
WRAP, SAT, FAIL = 0, 1, 2


def _bits_of(data, first_byte: int, last_byte: int) -> int:
    """Bytes first_byte..last_byte (inclusive, inside the string) as one number."""
    return int.from_bytes(data[first_byte:last_byte + 1], "big")


def count_ones(data, first_bit: int, last_bit: int) -> int:
    """How many bits are set among bits first_bit..last_bit (inside the string)."""
    first_byte, last_byte = first_bit >> 3, last_bit >> 3
    number = _bits_of(data, first_byte, last_byte)
    number >>= 7 - (last_bit & 7)                       # drop the bits after last_bit
    number &= (1 << (last_bit - first_bit + 1)) - 1     # and the bits before first_bit
    return number.bit_count()


def count_ones_in_bytes(data, first_byte: int, last_byte: int) -> int:
    return _bits_of(data, first_byte, last_byte).bit_count()


def find_bit(data, bit: int, first_bit: int, last_bit: int) -> int:
    """The position of the first bit equal to `bit` among first_bit..last_bit (inside the
    string), or -1."""
    width = last_bit - first_bit + 1
    first_byte, last_byte = first_bit >> 3, last_bit >> 3
    number = _bits_of(data, first_byte, last_byte) >> (7 - (last_bit & 7))
    number &= (1 << width) - 1
    if not bit:
        number ^= (1 << width) - 1                      # look for a one in the complement
    if not number:
        return -1
    return first_bit + width - number.bit_length()


# ---------------------------------------------------------------- bit fields

def read_field(data, offset: int, width: int) -> int:
    """The unsigned `width`-bit field at bit `offset` (zero past the string's end)."""
    first_byte = offset >> 3
    span = ((offset & 7) + width + 7) >> 3
    chunk = bytes(data[first_byte:first_byte + span])
    if len(chunk) < span:
        chunk += bytes(span - len(chunk))
    number = int.from_bytes(chunk, "big")
    return (number >> (span * 8 - (offset & 7) - width)) & ((1 << width) - 1)


def write_field(buffer: bytearray, offset: int, width: int, value: int) -> None:
    """Store the low `width` bits of `value` at bit `offset` (the buffer is long enough)."""
    first_byte = offset >> 3
    span = ((offset & 7) + width + 7) >> 3
    shift = span * 8 - (offset & 7) - width
    mask = ((1 << width) - 1) << shift
    number = int.from_bytes(buffer[first_byte:first_byte + span], "big")
    number = (number & ~mask) | ((value << shift) & mask)
    buffer[first_byte:first_byte + span] = number.to_bytes(span, "big")


def as_signed(value: int, width: int) -> int:
    """A `width`-bit two's complement field read as a signed number."""
    if value >> (width - 1):
        return value - (1 << width)
    return value


def wrap_signed(value: int, width: int) -> int:
    """`value` reduced into the signed `width`-bit range, two's complement style."""
    half = 1 << (width - 1)
    return ((value + half) & ((1 << width) - 1)) - half


def signed_result(value: int, width: int, overflow: int):
    """(new value, overflowed) for a signed field that should hold `value` (the exact sum
    or the value to SET), under Redis's checkSignedBitfieldOverflow rules; new value None
    for FAIL on overflow."""
    high = (1 << (width - 1)) - 1
    low = -high - 1
    if low <= value <= high:
        return value, False
    if overflow == WRAP:
        return wrap_signed(value, width), True
    if overflow == SAT:
        return (high if value > high else low), True
    return None, True


def unsigned_result(value: int, width: int, overflow: int):
    """As signed_result, for an unsigned field (width <= 63). A negative SET value is
    seen as the uint64 it casts to in C, so it is too big (SAT gives the maximum)."""
    high = (1 << width) - 1
    if 0 <= value <= high:
        return value, False
    if overflow == WRAP:
        return value & high, True
    if overflow == SAT:
        return (high if value > high else 0), True
    return None, True
