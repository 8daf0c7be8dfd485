"""Sorted set commands on single members: ZADD ZINCRBY ZREM ZSCORE ZMSCORE ZCARD ZRANK
ZREVRANK, the pops (ZPOPMIN/MAX, ZMPOP and the blocking BZPOPMIN/MAX, BZMPOP),
ZRANDMEMBER and ZSCAN. Ranges live in zsets_ranges.py, unions and intersections in
zsets_setops.py, the data structure in zset_type.py.

Scores are Python floats (C doubles). A reply carries them as floats: RESP2 prints them
as bulk strings with %.17g, RESP3 as doubles. Commands returning member/score pairs send
a flat array in RESP2 and an array of [member, score] pairs in RESP3, as Redis 7 does.
"""
import random

from commands.data.notifications import notify_keyspace_event
from commands.data.numbers import NOT_FLOAT
from commands.data.zset_type import ZSet, listpack_limits, parse_score
from commands.families.scanning import parse_cursor, parse_scan_options, scan_collection
from commands.families.typed_lookup import typed_lookups
from commands.server.args import (LONG_MAX, SYNTAX_ERROR, check_random_picks, positive_long_arg,
                                  ranged_int_arg)
from commands.server.blocking import parse_timeout, pop_first_or_block
from commands.server.numkeys import numkeys_finder, parse_mpop_tail, parse_numkeys
from commands.server.resp import ReplyError, format_double
from commands.server.table import command, key_spec

NAN_SCORE = "ERR resulting score is not a number (NaN)"


# ---------------------------------------------------------------- helpers

read_zset, write_zset = typed_lookups(ZSet)


def score_arg(arg: bytes) -> float:
    value = parse_score(arg)
    if value is None:
        raise ReplyError(NOT_FLOAT)
    return value


def pairs_reply(c, items) -> list:
    """(score, member) items as member/score: flat in RESP2, pairs in RESP3."""
    if c.resp3:
        return [[member, score] for score, member in items]
    out = []
    for score, member in items:
        out.append(member)
        out.append(score)
    return out


def nested_pairs(items) -> list:
    """[[member, score], ...] in both protocols (ZMPOP's shape)."""
    return [[member, score] for score, member in items]


def store_zset(ks, key, zs, settings, event: bytes) -> int:
    """Store a set built by a *STORE command, with its `event` (or delete `key` if it is
    empty, with 'del' if there was one)."""
    if not len(zs):
        ks.store_result(key, None, "z", event)
        return 0
    zs.fit_encoding(settings)
    ks.store_result(key, zs, "z", event)
    return len(zs)


def members_removed(ks, key, zs, event: bytes) -> None:
    """Members left `zs`: an emptied set is deleted; the event, then 'del'."""
    ks.modified_or_deleted(key, zs)
    notify_keyspace_event(ks, "z", event, key)
    if not len(zs):
        notify_keyspace_event(ks, "g", b"del", key)


# ---------------------------------------------------------------- ZADD / ZINCRBY

_ZADD_FLAGS = (b"nx", b"xx", b"ch", b"incr", b"gt", b"lt")


def _zadd(c, key, flags, pairs):
    if flags:
        nx, xx, ch, incr, gt, lt = (f in flags for f in _ZADD_FLAGS)
    else:
        nx = xx = ch = incr = gt = lt = False
    if nx and xx:
        raise ReplyError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise ReplyError("ERR GT, LT, and/or NX options at the same time are not "
                         "compatible")
    if incr and len(pairs) > 1:
        raise ReplyError("ERR INCR option supports a single increment-element pair")
    # Every score is parsed before anything changes: all or nothing.
    scores = [score_arg(score) for score, _ in pairs]
    ks = c.server.keyspace
    settings = c.server.settings
    zs = write_zset(ks, key)
    added = updated = processed = 0
    result = None
    if zs is None:
        if xx:
            return None if incr else 0
        # Redis 7.0 decides the first encoding from the first member alone.
        entries, value_max = listpack_limits(settings)
        zs = ZSet(skiplist=entries == 0 or len(pairs[0][1]) > value_max)
        ks.set(key, zs)
    try:
        for score, (_, member) in zip(scores, pairs):
            current = zs.scores.get(member)
            if current is not None:
                if nx:
                    continue
                if incr:
                    score += current
                    if score != score:
                        raise ReplyError(NAN_SCORE)
                if (lt and score >= current) or (gt and score <= current):
                    continue
                processed += 1
                result = score
                if score != current:
                    zs.add(member, score)
                    updated += 1
            else:
                if xx:
                    continue
                zs.add(member, score)
                zs.note_member_size(member, settings)
                added += 1
                processed += 1
                result = score
    finally:
        if added or updated:
            ks.modified(key)
            if ks.notify_flags:           # ZADD is hot: no call while off
                notify_keyspace_event(ks, "z", b"zincr" if incr else b"zadd", key)
    if incr:
        return (result + 0.0) if processed else None
    return added + updated if ch else added


@command("zadd", -4, "write denyoom fast", keys=(1, 1, 1), group="sorted-set",
         since="1.2.0",
         complexity="O(log(N)) for each item added, where N is the number of elements in "
                    "the sorted set.",
         summary="Adds one or more members to a sorted set, or updates their scores. "
                 "Creates the key if it doesn't exist.",
         key_specs=[key_spec(["RW", "update"], 1)])
def zadd(c, argv):
    flags = set()
    i = 2
    while i < len(argv) and argv[i].lower() in _ZADD_FLAGS:
        flags.add(argv[i].lower())
        i += 1
    rest = argv[i:]
    if not rest or len(rest) % 2:
        raise ReplyError(SYNTAX_ERROR)
    pairs = [(rest[j], rest[j + 1]) for j in range(0, len(rest), 2)]
    return _zadd(c, argv[1], flags, pairs)


@command("zincrby", 4, "write denyoom fast", keys=(1, 1, 1), group="sorted-set",
         since="1.2.0",
         complexity="O(log(N)) where N is the number of elements in the sorted set.",
         summary="Increments the score of a member in a sorted set.")
def zincrby(c, argv):
    return _zadd(c, argv[1], {b"incr"}, [(argv[2], argv[3])])


# ---------------------------------------------------------------- removal and lookups

@command("zrem", -3, "write fast", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         complexity="O(M*log(N)) with N being the number of elements in the sorted set and "
                    "M the number of elements to be removed.",
         summary="Removes one or more members from a sorted set. Deletes the sorted set if "
                 "all members were removed.",
         key_specs=[key_spec(["RW", "delete"], 1)])
def zrem(c, argv):
    ks = c.server.keyspace
    zs = write_zset(ks, argv[1])
    if zs is None:
        return 0
    removed = 0
    for member in argv[2:]:
        if zs.remove(member):
            removed += 1
            if not len(zs):
                break
    if removed:
        members_removed(ks, argv[1], zs, b"zrem")
    return removed


@command("zscore", 3, "readonly fast", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         complexity="O(1)", summary="Returns the score of a member in a sorted set.")
def zscore(c, argv):
    zs = read_zset(c, argv[1])
    return None if zs is None else zs.scores.get(argv[2])


@command("zmscore", -3, "readonly fast", keys=(1, 1, 1), group="sorted-set",
         since="6.2.0", complexity="O(N) where N is the number of members being requested.",
         summary="Returns the score of one or more members in a sorted set.")
def zmscore(c, argv):
    zs = read_zset(c, argv[1])
    if zs is None:
        return [None] * (len(argv) - 2)
    get = zs.scores.get
    return [get(member) for member in argv[2:]]


@command("zcard", 2, "readonly fast", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         complexity="O(1)", summary="Returns the number of members in a sorted set.",
         key_specs=[key_spec(["RO"], 1)])
def zcard(c, argv):
    zs = read_zset(c, argv[1])
    return 0 if zs is None else len(zs)


def _rank(c, argv, reverse: bool):
    zs = read_zset(c, argv[1])
    if zs is None:
        return None
    rank = zs.rank(argv[2])
    if rank is None:
        return None
    return len(zs) - 1 - rank if reverse else rank


@command("zrank", 3, "readonly fast", keys=(1, 1, 1), group="sorted-set", since="2.0.0",
         complexity="O(log(N))",
         summary="Returns the index of a member in a sorted set ordered by ascending "
                 "scores.")
def zrank(c, argv):
    return _rank(c, argv, reverse=False)


@command("zrevrank", 3, "readonly fast", keys=(1, 1, 1), group="sorted-set",
         since="2.0.0", complexity="O(log(N))",
         summary="Returns the index of a member in a sorted set ordered by descending "
                 "scores.")
def zrevrank(c, argv):
    return _rank(c, argv, reverse=True)


# ---------------------------------------------------------------- pops

def pop_items(ks, key, zs, maximum: bool, count: int) -> list:
    """Remove up to `count` lowest (or highest) items; in pop order."""
    n = len(zs)
    count = min(count, n)
    if maximum:
        items = zs.pop_range(n - count, n)
        items.reverse()
    else:
        items = zs.pop_range(0, count)
    members_removed(ks, key, zs, b"zpopmax" if maximum else b"zpopmin")
    return items


def _zpop(c, argv, maximum: bool):
    if len(argv) > 3:
        raise ReplyError(SYNTAX_ERROR)
    count = 1
    if len(argv) == 3:
        count = positive_long_arg(argv[2])
    ks = c.server.keyspace
    zs = write_zset(ks, argv[1])
    if zs is None or count == 0:
        return []
    items = pop_items(ks, argv[1], zs, maximum, count)
    if len(argv) == 3:
        return pairs_reply(c, items)
    score, member = items[0]
    return [member, score]            # flat, even in RESP3, without a count


@command("zpopmin", -2, "write fast", keys=(1, 1, 1), group="sorted-set", since="5.0.0",
         complexity="O(log(N)*M) with N being the number of elements in the sorted set, "
                    "and M being the number of elements popped.",
         summary="Returns the lowest-scoring members from a sorted set after removing "
                 "them. Deletes the sorted set if the last member was popped.")
def zpopmin(c, argv):
    return _zpop(c, argv, maximum=False)


@command("zpopmax", -2, "write fast", keys=(1, 1, 1), group="sorted-set", since="5.0.0",
         complexity="O(log(N)*M) with N being the number of elements in the sorted set, "
                    "and M being the number of elements popped.",
         summary="Returns the highest-scoring members from a sorted set after removing "
                 "them. Deletes the sorted set if the last member was popped.")
def zpopmax(c, argv):
    return _zpop(c, argv, maximum=True)


def _bzpop(c, argv, maximum: bool):
    timeout = parse_timeout(argv[-1])
    ks = c.server.keyspace

    def take(key, zs):
        score, member = pop_items(ks, key, zs, maximum, 1)[0]
        return [key, member, score]
    return pop_first_or_block(c, argv[1:-1], write_zset, ZSet, take, timeout)


@command("bzpopmin", -3, "write noscript blocking fast", keys=(1, -2, 1),
         group="sorted-set", since="5.0.0",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         summary="Removes and returns the member with the lowest score from one or more "
                 "sorted sets. Blocks until a member is available otherwise. Deletes the "
                 "sorted set if the last element was popped.")
def bzpopmin(c, argv):
    return _bzpop(c, argv, maximum=False)


@command("bzpopmax", -3, "write noscript blocking fast", keys=(1, -2, 1),
         group="sorted-set", since="5.0.0",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         summary="Removes and returns the member with the highest score from one or more "
                 "sorted sets. Blocks until a member available otherwise.  Deletes the "
                 "sorted set if the last element was popped.")
def bzpopmax(c, argv):
    return _bzpop(c, argv, maximum=True)


def _zmpop(c, argv, numkeys_index: int, timeout):
    n = parse_numkeys(argv, numkeys_index)
    keys = argv[numkeys_index + 1:numkeys_index + 1 + n]
    maximum, count = parse_mpop_tail(argv, numkeys_index + 1 + n,
                                     {b"min": False, b"max": True})
    ks = c.server.keyspace
    return pop_first_or_block(
        c, keys, write_zset, ZSet,
        lambda key, zs: [key, nested_pairs(pop_items(ks, key, zs, maximum, count))], timeout)


@command("zmpop", -4, "write", keys=None, key_finder=numkeys_finder(1),
         group="sorted-set", since="7.0.0",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the "
                    "number of elements in the sorted set, and M being the number of "
                    "elements popped.",
         summary="Returns the highest- or lowest-scoring members from one or more sorted "
                 "sets after removing them. Deletes the sorted set if the last member was "
                 "popped.")
def zmpop(c, argv):
    return _zmpop(c, argv, 1, None)


@command("bzmpop", -5, "write blocking", keys=None, key_finder=numkeys_finder(2),
         group="sorted-set", since="7.0.0",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the "
                    "number of elements in the sorted set, and M being the number of "
                    "elements popped.",
         summary="Removes and returns a member by score from one or more sorted sets. "
                 "Blocks until a member is available otherwise. Deletes the sorted set if "
                 "the last element was popped.")
def bzmpop(c, argv):
    timeout = parse_timeout(argv[1])
    return _zmpop(c, argv, 2, timeout)


# ---------------------------------------------------------------- ZRANDMEMBER

_rng = random.Random()


@command("zrandmember", -2, "readonly", keys=(1, 1, 1), group="sorted-set",
         since="6.2.0", tips=("nondeterministic_output",),
         complexity="O(N) where N is the number of members returned",
         summary="Returns one or more random members from a sorted set.")
def zrandmember(c, argv):
    if len(argv) == 2:
        zs = read_zset(c, argv[1])
        if zs is None:
            return None
        return zs.ordered[_rng.randrange(len(zs))][1]
    if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withscores"):
        raise ReplyError(SYNTAX_ERROR)
    withscores = len(argv) == 4
    count = ranged_int_arg(argv[2], -LONG_MAX, LONG_MAX)
    if withscores and (count > LONG_MAX // 2 or count < -(LONG_MAX // 2)):
        raise ReplyError("ERR value is out of range")
    zs = read_zset(c, argv[1])
    if zs is None or count == 0:
        return []
    check_random_picks(count)
    ordered = zs.ordered
    n = len(ordered)
    if count < 0:
        # Repetitions allowed: exactly -count picks.
        items = [ordered[_rng.randrange(n)] for _ in range(-count)]
    elif count >= n:
        items = list(ordered)
        _rng.shuffle(items)
    else:
        items = [ordered[i] for i in _rng.sample(range(n), count)]
    if withscores:
        return pairs_reply(c, items)
    return [member for _, member in items]


# ---------------------------------------------------------------- ZSCAN

@command("zscan", -3, "readonly", keys=(1, 1, 1), group="sorted-set", since="2.8.0",
         tips=("nondeterministic_output",),
         complexity="O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection..",
         summary="Iterates over members and scores of a sorted set.")
def zscan(c, argv):
    cursor = parse_cursor(argv[2])
    zs = read_zset(c, argv[1])
    if zs is None:
        return [b"0", []]             # Redis answers before it looks at the options
    count, accept, _ = parse_scan_options(argv, 3)
    next_cursor, members = scan_collection(zs, cursor, count, not zs.skiplist)
    if members is None:
        members = [member for _, member in zs.ordered]    # whole, in listpack order
    scores = zs.scores
    out = []
    for member in members:
        if accept is None or accept(member):
            out.append(member)
            out.append(format_double(scores[member]))
    return [b"%d" % next_cursor, out]
