"""Integer arguments read the way Redis's get*FromObjectOrReply helpers read them, each
failure answered with the error reply Redis gives, plus the plain syntax error. Shared by
every command family, so that one spelling of each message exists."""
from commands.numbers import INT64_MAX, NOT_INTEGER, parse_int64
from commands.resp import ReplyError

SYNTAX_ERROR = "ERR syntax error"
OUT_OF_RANGE_POSITIVE = "ERR value is out of range, must be positive"
LONG_MAX = INT64_MAX


def int_arg(arg) -> int:
    """A 64-bit integer argument (getLongLongFromObjectOrReply)."""
    value = parse_int64(arg)
    if value is None:
        raise ReplyError(NOT_INTEGER)
    return value


def ranged_int_arg(arg, low: int, high: int) -> int:
    """A 64-bit integer inside [low, high] (getRangeLongFromObjectOrReply)."""
    value = int_arg(arg)
    if not low <= value <= high:
        raise ReplyError("ERR value is out of range, value must between %d and %d"
                         % (low, high))
    return value


def positive_long_arg(arg) -> int:
    """A 64-bit integer >= 0 (getPositiveLongFromObjectOrReply): not a number and
    negative get the same message."""
    value = parse_int64(arg)
    if value is None or value < 0:
        raise ReplyError(OUT_OF_RANGE_POSITIVE)
    return value
