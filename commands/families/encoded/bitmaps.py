"""SETBIT GETBIT BITCOUNT BITPOS BITOP: a string as an array of bits (Redis's bitops.c).

Arguments are checked in the order Redis checks them, since with several bad arguments
the order decides which error the client sees: BITPOS parses its bit before it looks
the key up, BITCOUNT looks the key up first (a missing key answers 0 whatever follows),
and neither reads BIT|BYTE before the numbers in front of it.
"""
from commands.data.bits import count_ones, count_ones_in_bytes, find_bit
from commands.data.keyspace import WRONGTYPE
from commands.data.notifications import notify_keyspace_event
from commands.data.numbers import parse_int64
from commands.families.encoded.string_values import is_string, string_to_bit
from commands.families.strings import get_string
from commands.server.args import SYNTAX_ERROR, int_arg
from commands.server.resp import ReplyError
from commands.server.table import command, key_spec

BAD_OFFSET = "ERR bit offset is not an integer or out of range"
BAD_BIT = "ERR bit is not an integer or out of range"


def bit_offset_arg(c, arg, field_width: int = 0) -> int:
    """Redis's getBitOffsetFromArgument. With a field width (BITFIELD), '#N' means the
    N-th field of that width. The bit must lie within proto-max-bulk-len bytes, except
    for what our master or the AOF sends (Redis's mustObeyClient)."""
    hashed = field_width and arg[:1] == b"#"
    offset = parse_int64(arg[1:] if hashed else arg)
    if offset is None:
        raise ReplyError(BAD_OFFSET)
    if hashed:
        # C multiplies in 64 bits: an overflow wraps (and is then refused as negative
        # or too far, like any other offset).
        offset = ((offset * field_width + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63)
    if offset < 0 or ((offset >> 3) >= c.server.settings.proto_max_bulk_len
                      and not c.is_master_link):
        raise ReplyError(BAD_OFFSET)
    return offset


def _bit_or_byte(arg) -> bool:
    """True for BIT, False for BYTE (any case); a syntax error otherwise."""
    unit = arg.lower()
    if unit == b"bit":
        return True
    if unit == b"byte":
        return False
    raise ReplyError(SYNTAX_ERROR)


def _clamp_range(start: int, end: int, total: int):
    """Redis's conversion of start/end (negative = from the end) into [0, total-1]."""
    if start < 0:
        start += total
    if end < 0:
        end += total
    start = max(start, 0)
    end = max(end, 0)
    if end >= total:
        end = total - 1
    return start, end


@command("setbit", 4, "write denyoom", keys=(1, 1, 1), group="bitmap", since="2.2.0",
         complexity="O(1)",
         summary="Sets or clears the bit at offset in the string value stored at key")
def setbit(c, argv):
    key = argv[1]
    offset = bit_offset_arg(c, argv[2])
    on = parse_int64(argv[3])
    if on is None or on & ~1:
        raise ReplyError(BAD_BIT)
    buffer, created, grew = string_to_bit(c, key, offset)
    byte, mask = offset >> 3, 0x80 >> (offset & 7)
    old = 1 if buffer[byte] & mask else 0
    if created or grew or old != on:
        if on:
            buffer[byte] |= mask
        else:
            buffer[byte] &= ~mask
        ks = c.server.keyspace
        if not created:
            ks.modified(key)
        notify_keyspace_event(ks, "$", b"setbit", key)
    return old


@command("getbit", 3, "readonly fast", keys=(1, 1, 1), group="bitmap", since="2.2.0",
         complexity="O(1)",
         summary="Returns the bit value at offset in the string value stored at key")
def getbit(c, argv):
    offset = bit_offset_arg(c, argv[2])
    value = get_string(c, argv[1])
    if value is None:
        return 0
    byte = offset >> 3
    if byte >= len(value):
        return 0
    return 1 if value[byte] & (0x80 >> (offset & 7)) else 0


@command("bitcount", -2, "readonly", keys=(1, 1, 1), group="bitmap", since="2.6.0",
         complexity="O(N)", summary="Count set bits in a string")
def bitcount(c, argv):
    value = get_string(c, argv[1])
    if value is None:
        return 0
    argc = len(argv)
    if argc == 2:
        return count_ones_in_bytes(value, 0, len(value) - 1) if value else 0
    if argc not in (4, 5):
        raise ReplyError(SYNTAX_ERROR)
    start = int_arg(argv[2])
    end = int_arg(argv[3])
    if start < 0 and end < 0 and start > end:
        return 0
    in_bits = _bit_or_byte(argv[4]) if argc == 5 else False
    total = len(value) * 8 if in_bits else len(value)
    start, end = _clamp_range(start, end, total)
    if start > end:
        return 0
    if in_bits:
        return count_ones(value, start, end)
    return count_ones_in_bytes(value, start, end)


@command("bitpos", -3, "readonly", keys=(1, 1, 1), group="bitmap", since="2.8.7",
         complexity="O(N)", summary="Find first bit set or clear in a string")
def bitpos(c, argv):
    bit = int_arg(argv[2])
    if bit != 0 and bit != 1:
        raise ReplyError("ERR The bit argument must be 1 or 0.")
    value = c.server.keyspace.lookup_read(argv[1])
    if value is None:
        # A missing key is an endless run of zeros.
        return -1 if bit else 0
    if not is_string(value):
        raise ReplyError(WRONGTYPE)
    argc = len(argv)
    size = len(value)
    in_bits = end_given = False
    if argc == 3:
        start, end = 0, size - 1
    elif argc <= 6:
        start = int_arg(argv[3])
        if argc == 6:
            in_bits = _bit_or_byte(argv[5])
        if argc >= 5:
            end = int_arg(argv[4])
            end_given = True
        else:
            end = size - 1
        start, end = _clamp_range(start, end, size * 8 if in_bits else size)
    else:
        raise ReplyError(SYNTAX_ERROR)
    if start > end:
        return -1                          # an empty range holds neither 0 nor 1
    first_bit, last_bit = (start, end) if in_bits else (start * 8, end * 8 + 7)
    found = find_bit(value, bit, first_bit, last_bit)
    if found == -1 and bit == 0 and not end_given:
        # No end given: the string is seen as padded with zeros on the right.
        return last_bit + 1
    return found


_BITOPS = {b"and": "and", b"or": "or", b"xor": "xor", b"not": "not"}


@command("bitop", -4, "write denyoom", keys=(2, -1, 1), group="bitmap", since="2.6.0",
         complexity="O(N)", summary="Perform bitwise operations between strings",
         key_specs=[key_spec(["OW", "update"], 2), key_spec(["RO", "access"], 3, -1)])
def bitop(c, argv):
    op = _BITOPS.get(argv[1].lower())
    if op is None:
        raise ReplyError(SYNTAX_ERROR)
    if op == "not" and len(argv) != 4:
        raise ReplyError("ERR BITOP NOT must be called with a single source key.")
    sources = [get_string(c, key) for key in argv[3:]]
    size = max((len(s) for s in sources if s is not None), default=0)
    ks = c.server.keyspace
    target = argv[2]
    if not size:
        # Every source empty or missing: the target is deleted, not set to "".
        if ks.delete(target):
            notify_keyspace_event(ks, "g", b"del", target)
        return 0
    # Each source as one number of `size` bytes, zero-padded on the right.
    numbers = [int.from_bytes(s, "big") << (8 * (size - len(s))) if s else 0
               for s in sources]
    result = numbers[0]
    if op == "not":
        result ^= (1 << (8 * size)) - 1
    elif op == "and":
        for number in numbers[1:]:
            result &= number
    elif op == "or":
        for number in numbers[1:]:
            result |= number
    else:
        for number in numbers[1:]:
            result ^= number
    ks.set(target, bytearray(result.to_bytes(size, "big")))
    notify_keyspace_event(ks, "$", b"set", target)
    return size
