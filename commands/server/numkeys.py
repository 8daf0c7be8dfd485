"""Arguments of the `numkeys key [key ...]` commands (LMPOP, ZMPOP, ZUNION, ...): the
key finder COMMAND GETKEYS and routing use, numkeys itself, the MPOP option tail and the
LIMIT of SINTERCARD/ZINTERCARD.
"""
from commands.data.numbers import parse_int64
from commands.server.args import SYNTAX_ERROR
from commands.server.resp import ReplyError


def numkeys_finder(numkeys_index: int):
    """key_finder for `... numkeys key [key ...] ...` commands (COMMAND GETKEYS, routing)."""
    def find(argv):
        if numkeys_index >= len(argv):
            return []
        n = parse_int64(argv[numkeys_index])
        if n is None or n <= 0 or n > len(argv) - numkeys_index - 1:
            return []
        return list(range(numkeys_index + 1, numkeys_index + 1 + n))
    return find


def parse_numkeys(argv, index: int) -> int:
    """numkeys as getRangeLongFromObjectOrReply(1, LONG_MAX) reads it, then checked
    against the arguments left (a syntax error, as in Redis)."""
    n = parse_int64(argv[index])
    if n is None or n <= 0:
        raise ReplyError("ERR numkeys should be greater than 0")
    if n > len(argv) - index - 1:
        raise ReplyError(SYNTAX_ERROR)
    return n


def parse_mpop_tail(argv, i: int, words: dict):
    """The `<where> [COUNT count]` tail of LMPOP/ZMPOP: (where value, count)."""
    if i >= len(argv):
        raise ReplyError(SYNTAX_ERROR)
    where = words.get(argv[i].lower())
    if where is None:
        raise ReplyError(SYNTAX_ERROR)
    i += 1
    count = 1
    seen_count = False
    while i < len(argv):
        if argv[i].lower() == b"count" and i + 1 < len(argv) and not seen_count:
            count = parse_int64(argv[i + 1])
            if count is None or count <= 0:
                raise ReplyError("ERR count should be greater than 0")
            seen_count = True
            i += 2
        else:
            raise ReplyError(SYNTAX_ERROR)
    return where, count


def parse_intercard_limit(arg) -> int:
    """SINTERCARD/ZINTERCARD's LIMIT: 0 (no limit) or more."""
    limit = parse_int64(arg)
    if limit is None or limit < 0:
        raise ReplyError("ERR LIMIT can't be negative")
    return limit
