"""Integer arguments read the way Redis's get*FromObjectOrReply helpers read them, each
failure answered with the error reply Redis gives, plus the plain syntax error. Shared by
every command family, so that one spelling of each message exists."""
from commands.data.numbers import INT64_MAX, NOT_INTEGER, parse_int64
from commands.server.resp import ReplyError

SYNTAX_ERROR = "ERR syntax error"
OUT_OF_RANGE_POSITIVE = "ERR value is out of range, must be positive"
LONG_MAX = INT64_MAX

# HRANDFIELD/SRANDMEMBER/ZRANDMEMBER with a negative count reply with that many picks.
# Redis 7.0 accepts any int64 there and builds the reply; a huge count exhausts memory
# (redis-server 7.0.15 dies on SRANDMEMBER k -4611686018427387903). We refuse replies
# with more than this many elements, so no client can make the node grow without bound.
MAX_RANDOM_PICKS = 1 << 23
TOO_MANY_PICKS = "ERR value is out of range: more than %d random picks" % MAX_RANDOM_PICKS


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


def check_random_picks(count: int) -> None:
    """Refuse a negative (repeating) count past MAX_RANDOM_PICKS; see above."""
    if count < -MAX_RANDOM_PICKS:
        raise ReplyError(TOO_MANY_PICKS)


def positive_long_arg(arg) -> int:
    """A 64-bit integer >= 0 (getPositiveLongFromObjectOrReply): not a number and
    negative get the same message."""
    value = parse_int64(arg)
    if value is None or value < 0:
        raise ReplyError(OUT_OF_RANGE_POSITIVE)
    return value
