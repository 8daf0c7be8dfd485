"""Stream IDs as the commands read them (Redis's streamGenericParseIDOrReply & co).

An ID is `ms-seq` or `ms` (the sequence then defaults to the caller's `missing_seq`),
each part a 64-bit unsigned decimal. `-` and `+` are the smallest and largest IDs
where the command allows them (not in the "strict" places: XADD, XDEL, XACK, group
IDs...). XADD also takes `ms-*` (the sequence is chosen) and `*`. Intervals (XRANGE,
XPENDING, XAUTOCLAIM) take `(id` for an exclusive bound.
"""
from commands.server.resp import ReplyError
from commands.streams.stream_type import MAX_ID, SEQ_MASK, make_id

INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
INVALID_START = "ERR invalid start ID for the interval"
INVALID_END = "ERR invalid end ID for the interval"

_U64_MAX = (1 << 64) - 1


def _u64(text: bytes):
    """string2ull: decimal digits only (no sign, no spaces), 0..2**64-1; None if not."""
    if not text or len(text) > 20 or not text.isdigit():
        return None
    value = int(text)
    return value if value <= _U64_MAX else None


def parse_id(arg: bytes, missing_seq: int = 0, strict: bool = False,
             allow_seq_star: bool = False):
    """The ID as an int; with allow_seq_star, (ms, None) for `ms-*` is returned as a
    tuple (ms, None), and (id) otherwise. Raises the invalid-ID error."""
    if len(arg) > 127:
        raise ReplyError(INVALID_ID)
    if arg == b"-" or arg == b"+":
        if strict:
            raise ReplyError(INVALID_ID)
        return 0 if arg == b"-" else MAX_ID
    ms_text, dash, seq_text = arg.partition(b"-")
    ms = _u64(ms_text)
    if ms is None:
        raise ReplyError(INVALID_ID)
    if dash:
        if allow_seq_star and seq_text == b"*":
            return (ms, None)
        seq = _u64(seq_text)
        if seq is None:
            raise ReplyError(INVALID_ID)
    else:
        seq = missing_seq
    return make_id(ms, seq)


def parse_strict_id(arg: bytes, missing_seq: int = 0) -> int:
    return parse_id(arg, missing_seq, strict=True)


def try_strict_id(arg: bytes):
    """A strict ID or None, without an error (XCLAIM's ID list ends at the first
    argument that is not one)."""
    try:
        return parse_id(arg, 0, strict=True)
    except ReplyError:
        return None


def parse_interval(arg: bytes, missing_seq: int, start: bool) -> int:
    """An XRANGE-style bound: `(id` is exclusive (moved by one; past the edge is the
    interval error), `-`/`+` only when not exclusive."""
    if len(arg) > 1 and arg[:1] == b"(":
        sid = parse_id(arg[1:], missing_seq, strict=True)
        if start:
            if sid == MAX_ID:
                raise ReplyError(INVALID_START)
            return sid + 1
        if sid == 0:
            raise ReplyError(INVALID_END)
        return sid - 1
    return parse_id(arg, missing_seq)


def next_id(last: int, now: int) -> int:
    """streamNextID: the ID `*` gets (time-based, after `last`)."""
    last_ms = last >> 64
    if now > last_ms:
        return make_id(now, 0)
    if (last & SEQ_MASK) == SEQ_MASK:
        return make_id(last_ms + 1, 0)   # streamIncrID across the millisecond
    return last + 1
