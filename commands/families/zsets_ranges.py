"""Sorted set range commands: ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES) and its legacy
forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT and ZREMRANGEBYRANK/SCORE/LEX.

Every range becomes a [start, stop) window of ranks by bisecting the ordered list
(zset_type.ZSet.score_range / lex_range), then LIMIT narrows the window, and only the
items inside it are read: O(log n + k).

The argument handling follows Redis's zrangeGenericCommand step by step, because the
order of its checks decides which error a client sees: options first, then conflicting
options, then the range itself, and only then the key.
"""
from commands.data.index_range import clamp_range
from commands.data.zset_type import ZSet, parse_lex_range, parse_score_range
from commands.families.zsets import (members_removed, pairs_reply, read_zset, store_zset,
                                     write_zset)
from commands.server.args import SYNTAX_ERROR, int_arg
from commands.server.resp import ReplyError
from commands.server.table import command, key_spec

NOT_FLOAT_RANGE = "ERR min or max is not a float"
NOT_LEX_RANGE = "ERR min or max not valid string range item"

RANK, SCORE, LEX = "rank", "score", "lex"


def score_range_arg(min_arg, max_arg):
    spec = parse_score_range(min_arg, max_arg)
    if spec is None:
        raise ReplyError(NOT_FLOAT_RANGE)
    return spec


def lex_range_arg(min_arg, max_arg):
    spec = parse_lex_range(min_arg, max_arg)
    if spec is None:
        raise ReplyError(NOT_LEX_RANGE)
    return spec


def parse_range(kind, min_arg, max_arg):
    """The range spec of one kind: two ranks, a score range or a lex range."""
    if kind == RANK:
        return int_arg(min_arg), int_arg(max_arg)
    if kind == SCORE:
        return score_range_arg(min_arg, max_arg)
    return lex_range_arg(min_arg, max_arg)


def range_window(zs, kind, spec):
    """[start, stop) ranks of the elements `spec` covers; empty when start >= stop.
    Ranks follow LRANGE's index rules (commands/data/index_range.py)."""
    if kind == RANK:
        bounds = clamp_range(spec[0], spec[1], len(zs))
        return (0, 0) if bounds is None else (bounds[0], bounds[1] + 1)
    if kind == SCORE:
        return zs.score_range(spec)
    return zs.lex_range(spec)


def select(zs, kind, spec, reverse, offset, limit) -> list:
    """The (score, member) items a range asks for, in reply order."""
    start, stop = range_window(zs, kind, spec)
    if kind == RANK:
        if reverse:      # ranks count from the highest score
            start, stop = len(zs) - stop, len(zs) - start
        return zs.items(start, stop, reverse)
    if offset < 0:
        return []        # Redis's skip loop runs past the end for a negative offset
    if reverse:
        stop -= offset
        if limit >= 0:
            start = max(start, stop - limit)
    else:
        start += offset
        if limit >= 0:
            stop = min(stop, start + limit)
    return zs.items(start, stop, reverse)


def zrange_generic(c, argv, key_index, store, kind=None, reverse=None):
    """Redis's zrangeGenericCommand. `kind`/`reverse` fixed by the legacy commands."""
    min_i, max_i = key_index + 1, key_index + 2
    withscores = False
    offset, limit = 0, -1
    j = key_index + 3
    while j < len(argv):
        word = argv[j].lower()
        left = len(argv) - j - 1
        if not store and word == b"withscores":
            withscores = True
        elif word == b"limit" and left >= 2:
            offset, limit = int_arg(argv[j + 1]), int_arg(argv[j + 2])
            j += 2
        elif reverse is None and word == b"rev":
            reverse = True
        elif kind is None and word == b"bylex":
            kind = LEX
        elif kind is None and word == b"byscore":
            kind = SCORE
        else:
            raise ReplyError(SYNTAX_ERROR)
        j += 1
    reverse = bool(reverse)
    kind = kind or RANK
    # Redis tells LIMIT apart by its count: "LIMIT x -1" on a rank range passes.
    if limit != -1 and kind == RANK:
        raise ReplyError("ERR syntax error, LIMIT is only supported in combination with "
                         "either BYSCORE or BYLEX")
    if withscores and kind == LEX:
        raise ReplyError("ERR syntax error, WITHSCORES not supported in combination with "
                         "BYLEX")
    if reverse and kind != RANK:
        min_i, max_i = max_i, min_i          # given as max, min
    spec = parse_range(kind, argv[min_i], argv[max_i])

    ks = c.server.keyspace
    src = argv[key_index]
    zs = read_zset(c, src)
    items = [] if zs is None else select(zs, kind, spec, reverse, offset, limit)
    if store:
        dst = argv[1]
        result = ZSet()
        for score, member in items:
            result.add(member, score)
        return store_zset(ks, dst, result, c.server.settings, b"zrangestore")
    if withscores:
        return pairs_reply(c, items)
    return [member for _, member in items]



# COMMAND DOCS complexity texts, as Redis words them, shared by the range commands.
_LOG_N_PLUS_M = "O(log(N)+M) with N being the number of elements in the sorted set and "
_RANGE_COMPLEXITY = _LOG_N_PLUS_M + "M the number of elements returned."
_RANGE_LIMIT_COMPLEXITY = (_LOG_N_PLUS_M + "M the number of elements being returned. If M "
                           "is constant (e.g. always asking for the first 10 elements with "
                           "LIMIT), you can consider it O(log(N)).")
_REMRANGE_COMPLEXITY = _LOG_N_PLUS_M + "M the number of elements removed by the operation."


@command("zrange", -4, "readonly", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         complexity=_RANGE_COMPLEXITY,
         summary="Returns members in a sorted set within a range of indexes.")
def zrange(c, argv):
    return zrange_generic(c, argv, 1, store=False)


@command("zrangestore", -5, "write denyoom", keys=(1, 2, 1), group="sorted-set",
         since="6.2.0",
         complexity=_LOG_N_PLUS_M + "M the number of elements stored into the destination key.",
         summary="Stores a range of members from sorted set in a key.",
         key_specs=[key_spec(["OW", "update"], 1),
                    key_spec(["RO", "access"], 2)])
def zrangestore(c, argv):
    return zrange_generic(c, argv, 2, store=True)


@command("zrevrange", -4, "readonly", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         complexity=_RANGE_COMPLEXITY,
         summary="Returns members in a sorted set within a range of indexes in reverse "
                 "order.")
def zrevrange(c, argv):
    return zrange_generic(c, argv, 1, store=False, kind=RANK, reverse=True)


@command("zrangebyscore", -4, "readonly", keys=(1, 1, 1), group="sorted-set",
         since="1.0.5",
         complexity=_RANGE_LIMIT_COMPLEXITY,
         summary="Returns members in a sorted set within a range of scores.")
def zrangebyscore(c, argv):
    return zrange_generic(c, argv, 1, store=False, kind=SCORE, reverse=False)


@command("zrevrangebyscore", -4, "readonly", keys=(1, 1, 1), group="sorted-set",
         since="2.2.0",
         complexity=_RANGE_LIMIT_COMPLEXITY,
         summary="Returns members in a sorted set within a range of scores in reverse "
                 "order.")
def zrevrangebyscore(c, argv):
    return zrange_generic(c, argv, 1, store=False, kind=SCORE, reverse=True)


@command("zrangebylex", -4, "readonly", keys=(1, 1, 1), group="sorted-set",
         since="2.8.9",
         complexity=_RANGE_LIMIT_COMPLEXITY,
         summary="Returns members in a sorted set within a lexicographical range.")
def zrangebylex(c, argv):
    return zrange_generic(c, argv, 1, store=False, kind=LEX, reverse=False)


@command("zrevrangebylex", -4, "readonly", keys=(1, 1, 1), group="sorted-set",
         since="2.8.9",
         complexity=_RANGE_LIMIT_COMPLEXITY,
         summary="Returns members in a sorted set within a lexicographical range in "
                 "reverse order.")
def zrevrangebylex(c, argv):
    return zrange_generic(c, argv, 1, store=False, kind=LEX, reverse=True)


# ---------------------------------------------------------------- counts

@command("zcount", 4, "readonly fast", keys=(1, 1, 1), group="sorted-set", since="2.0.0",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         summary="Returns the count of members in a sorted set that have scores within a "
                 "range.")
def zcount(c, argv):
    spec = score_range_arg(argv[2], argv[3])
    zs = read_zset(c, argv[1])
    if zs is None:
        return 0
    start, stop = zs.score_range(spec)
    return stop - start


@command("zlexcount", 4, "readonly fast", keys=(1, 1, 1), group="sorted-set",
         since="2.8.9",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         summary="Returns the number of members in a sorted set within a lexicographical "
                 "range.")
def zlexcount(c, argv):
    spec = lex_range_arg(argv[2], argv[3])
    zs = read_zset(c, argv[1])
    if zs is None:
        return 0
    start, stop = zs.lex_range(spec)
    return stop - start


# ---------------------------------------------------------------- removals by range

_REMRANGE_EVENTS = {RANK: b"zremrangebyrank", SCORE: b"zremrangebyscore",
                    LEX: b"zremrangebylex"}


def _zremrange(c, argv, kind):
    spec = parse_range(kind, argv[2], argv[3])
    ks = c.server.keyspace
    key = argv[1]
    zs = write_zset(ks, key)
    if zs is None:
        return 0
    start, stop = range_window(zs, kind, spec)
    if start >= stop:
        return 0
    removed = len(zs.pop_range(start, stop))
    members_removed(ks, key, zs, _REMRANGE_EVENTS[kind])
    return removed


@command("zremrangebyrank", 4, "write", keys=(1, 1, 1), group="sorted-set",
         since="2.0.0",
         complexity=_REMRANGE_COMPLEXITY,
         summary="Removes members in a sorted set within a range of indexes. Deletes the "
                 "sorted set if all members were removed.",
         key_specs=[key_spec(["RW", "delete"], 1)])
def zremrangebyrank(c, argv):
    return _zremrange(c, argv, RANK)


@command("zremrangebyscore", 4, "write", keys=(1, 1, 1), group="sorted-set",
         since="1.2.0",
         complexity=_REMRANGE_COMPLEXITY,
         summary="Removes members in a sorted set within a range of scores. Deletes the "
                 "sorted set if all members were removed.",
         key_specs=[key_spec(["RW", "delete"], 1)])
def zremrangebyscore(c, argv):
    return _zremrange(c, argv, SCORE)


@command("zremrangebylex", 4, "write", keys=(1, 1, 1), group="sorted-set", since="2.8.9",
         complexity=_REMRANGE_COMPLEXITY,
         summary="Removes members in a sorted set within a lexicographical range. Deletes "
                 "the sorted set if all members were removed.",
         key_specs=[key_spec(["RW", "delete"], 1)])
def zremrangebylex(c, argv):
    return _zremrange(c, argv, LEX)
