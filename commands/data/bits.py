"""A string as an array of bits and of bit fields, as Redis's bitops.c sees it.

Bit 0 is the most significant bit of the first byte, so a string is one big-endian
number and a bit range is a slice of it: every function here turns the bytes it needs
into one Python int (int.from_bytes, done in C) and answers with int operations, instead
of walking bytes or bits in Python. Bits past the end of the string read as 0.

Pure functions on bytes/bytearray: no keyspace, no clients (the commands are in
commands/families/encoded/).
"""

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64 = 1 << 64

# BITFIELD's overflow behaviours (Redis's BFOVERFLOW_*).
WRAP, SAT, FAIL = 0, 1, 2


# Long ranges are read this many bytes at a time (through a memoryview, no copy of the
# string): the memory a command needs stays small, and BITPOS stops at the first hit.
_CHUNK = 1 << 16


def count_ones_in_bytes(data, first_byte: int, last_byte: int) -> int:
    """How many bits are set in bytes first_byte..last_byte (inside the string)."""
    total = 0
    with memoryview(data) as view:
        for start in range(first_byte, last_byte + 1, _CHUNK):
            chunk = view[start:min(start + _CHUNK, last_byte + 1)]
            total += int.from_bytes(chunk, "big").bit_count()
    return total


def count_ones(data, first_bit: int, last_bit: int) -> int:
    """How many bits are set among bits first_bit..last_bit (inside the string): the
    whole bytes, less the bits of the edge bytes outside the range (as Redis does)."""
    first_byte, last_byte = first_bit >> 3, last_bit >> 3
    total = count_ones_in_bytes(data, first_byte, last_byte)
    total -= (data[first_byte] & ~(0xff >> (first_bit & 7)) & 0xff).bit_count()
    total -= (data[last_byte] & ((1 << (7 - (last_bit & 7))) - 1)).bit_count()
    return total


def find_bit(data, bit: int, first_bit: int, last_bit: int) -> int:
    """The position of the first bit equal to `bit` among first_bit..last_bit (inside the
    string), or -1."""
    first_byte, last_byte = first_bit >> 3, last_bit >> 3
    with memoryview(data) as view:
        for start in range(first_byte, last_byte + 1, _CHUNK):
            stop = min(start + _CHUNK, last_byte + 1)
            low, high = max(first_bit, start * 8), min(last_bit, stop * 8 - 1)
            width = high - low + 1
            # Bits low..high of the chunk as a number, bit `high` lowest.
            number = int.from_bytes(view[start:stop], "big") >> (stop * 8 - 1 - high)
            number &= (1 << width) - 1
            if not bit:
                number ^= (1 << width) - 1      # look for a one in the complement
            if number:
                return low + width - number.bit_length()
    return -1


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
