"""Sorted set algebra: ZUNION ZINTER ZDIFF, their STORE forms, and ZINTERCARD.

As in Redis, plain sets are accepted as inputs (every member scoring 1), WEIGHTS
multiply scores (a NaN product, 0 * inf, counts as 0), AGGREGATE SUM/MIN/MAX combines
them (a NaN sum, inf + -inf, is 0), and the inputs are visited smallest first for
ZINTER, which also fixes the order in which SUM adds the scores.

The steps follow Redis's zunionInterDiffGenericCommand in order, because that order
decides which error a client sees: numkeys, then the keys (WRONGTYPE), then the options.
"""
from commands.data.keyspace import TYPE_NAMES, WRONGTYPE
from commands.data.zset_type import ZSet, parse_score
from commands.families.zsets import pairs_reply, store_zset
from commands.server.args import SYNTAX_ERROR, int_arg
from commands.server.numkeys import numkeys_finder, parse_intercard_limit
from commands.server.resp import ReplyError
from commands.server.table import command, key_spec

UNION, INTER, DIFF = "union", "inter", "diff"
_STORE_EVENTS = {UNION: b"zunionstore", INTER: b"zinterstore", DIFF: b"zdiffstore"}


def _sum(a, b):
    total = a + b
    return 0.0 if total != total else total


_AGGREGATES = {b"sum": _sum, b"min": min, b"max": max}


class _Source:
    """One input: member -> score (a sorted set's dict, or a set with scores of 1)."""
    __slots__ = ("scores", "weight")

    def __init__(self, value):
        self.weight = 1.0
        if value is None:
            self.scores = {}
        elif type(value) is ZSet:
            self.scores = value.scores
        else:
            self.scores = dict.fromkeys(value, 1.0)

    def weighted(self, score):
        value = score * self.weight
        return 0.0 if value != value else value


def _parse(c, argv, numkeys_index, op, store, card_only):
    """(sources, aggregate, withscores, limit) after Redis's checks, in Redis's order."""
    n = int_arg(argv[numkeys_index])
    if n < 1:
        raise ReplyError("ERR at least 1 input key is needed for '%s' command"
                         % argv[0].decode(errors="replace").lower())
    if n > len(argv) - numkeys_index - 1:
        raise ReplyError(SYNTAX_ERROR)
    ks = c.server.keyspace
    sources = []
    for key in argv[numkeys_index + 1:numkeys_index + 1 + n]:
        value = ks.lookup_read(key)
        if value is not None and type(value) is not ZSet and \
                TYPE_NAMES.get(type(value)) != "set":
            raise ReplyError(WRONGTYPE)
        sources.append(_Source(value))
    aggregate, withscores, limit = _sum, False, 0
    j = numkeys_index + 1 + n
    while j < len(argv):
        word = argv[j].lower()
        left = len(argv) - j
        if op != DIFF and not card_only and left >= n + 1 and word == b"weights":
            for i in range(n):
                weight = parse_score(argv[j + 1 + i])
                if weight is None:
                    raise ReplyError("ERR weight value is not a float")
                sources[i].weight = weight
            j += n + 1
        elif op != DIFF and not card_only and left >= 2 and word == b"aggregate":
            aggregate = _AGGREGATES.get(argv[j + 1].lower())
            if aggregate is None:
                raise ReplyError(SYNTAX_ERROR)
            j += 2
        elif not store and not card_only and word == b"withscores":
            withscores = True
            j += 1
        elif card_only and left >= 2 and word == b"limit":
            limit = parse_intercard_limit(argv[j + 1])
            j += 2
        else:
            raise ReplyError(SYNTAX_ERROR)
    return sources, aggregate, withscores, limit


def _compute(op, sources, aggregate) -> dict:
    """member -> score of the result."""
    if op == UNION:
        result = {}
        for src in sources:
            for member, score in src.scores.items():
                value = src.weighted(score)
                current = result.get(member)
                result[member] = value if current is None else aggregate(current, value)
        return result
    if op == INTER:
        ordered = sorted(sources, key=lambda s: len(s.scores))    # stable, like qsort here
        if not ordered[0].scores:
            return {}
        result = {}
        first, rest = ordered[0], ordered[1:]
        for member, score in first.scores.items():
            value = first.weighted(score)
            for src in rest:
                other = src.scores.get(member)
                if other is None:
                    break
                value = aggregate(value, src.weighted(other))
            else:
                result[member] = value
        return result
    first, rest = sources[0], sources[1:]
    return {member: score for member, score in first.scores.items()
            if not any(member in src.scores for src in rest)}


def _generic(c, argv, numkeys_index, op, store):
    sources, aggregate, withscores, _ = _parse(c, argv, numkeys_index, op, store, False)
    result = ZSet()
    for member, score in _compute(op, sources, aggregate).items():
        result.add(member, score)
    if store:
        return store_zset(c.server.keyspace, argv[1], result, c.server.settings,
                          _STORE_EVENTS[op])
    items = result.items(0, len(result))
    if withscores:
        return pairs_reply(c, items)
    return [member for _, member in items]


_STORE_COMPLEXITY = ("O(N)+O(M log(M)) with N being the sum of the sizes of the input "
                     "sorted sets, and M being the number of elements in the resulting "
                     "sorted set.")


def _store_keys(argv):
    """The destination, then the numkeys sources (ZUNIONSTORE's key layout)."""
    return [1] + numkeys_finder(2)(argv)


@command("zunionstore", -4, "write denyoom", keys=(1, 1, 1), key_finder=_store_keys,
         group="sorted-set", since="2.0.0", complexity=_STORE_COMPLEXITY,
         summary="Stores the union of multiple sorted sets in a key.",
         key_specs=[key_spec(["OW", "update"], 1),
                    {"flags": ["RO", "access"],
                     "begin_search": {"index": 2}, "find_keys": {"unknown": None}}])
def zunionstore(c, argv):
    return _generic(c, argv, 2, UNION, store=True)


@command("zinterstore", -4, "write denyoom", keys=(1, 1, 1), key_finder=_store_keys,
         group="sorted-set", since="2.0.0",
         complexity="O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted "
                    "set, K being the number of input sorted sets and M being the number "
                    "of elements in the resulting sorted set.",
         summary="Stores the intersect of multiple sorted sets in a key.",
         key_specs=[key_spec(["OW", "update"], 1),
                    {"flags": ["RO", "access"],
                     "begin_search": {"index": 2}, "find_keys": {"unknown": None}}])
def zinterstore(c, argv):
    return _generic(c, argv, 2, INTER, store=True)


@command("zdiffstore", -4, "write denyoom", keys=(1, 1, 1), key_finder=_store_keys,
         group="sorted-set", since="6.2.0",
         complexity="O(L + (N-K)log(N)) worst case where L is the total number of elements "
                    "in all the sets, N is the size of the first set, and K is the size of "
                    "the result set.",
         summary="Stores the difference of multiple sorted sets in a key.",
         key_specs=[key_spec(["OW", "update"], 1),
                    {"flags": ["RO", "access"],
                     "begin_search": {"index": 2}, "find_keys": {"unknown": None}}])
def zdiffstore(c, argv):
    return _generic(c, argv, 2, DIFF, store=True)


@command("zunion", -3, "readonly", keys=None, key_finder=numkeys_finder(1),
         group="sorted-set", since="6.2.0", complexity=_STORE_COMPLEXITY,
         summary="Returns the union of multiple sorted sets.")
def zunion(c, argv):
    return _generic(c, argv, 1, UNION, store=False)


@command("zinter", -3, "readonly", keys=None, key_finder=numkeys_finder(1),
         group="sorted-set", since="6.2.0",
         complexity="O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted "
                    "set, K being the number of input sorted sets and M being the number "
                    "of elements in the resulting sorted set.",
         summary="Returns the intersect of multiple sorted sets.")
def zinter(c, argv):
    return _generic(c, argv, 1, INTER, store=False)


@command("zdiff", -3, "readonly", keys=None, key_finder=numkeys_finder(1),
         group="sorted-set", since="6.2.0",
         complexity="O(L + (N-K)log(N)) worst case where L is the total number of elements "
                    "in all the sets, N is the size of the first set, and K is the size of "
                    "the result set.",
         summary="Returns the difference between multiple sorted sets.")
def zdiff(c, argv):
    return _generic(c, argv, 1, DIFF, store=False)


@command("zintercard", -3, "readonly", keys=None, key_finder=numkeys_finder(1),
         group="sorted-set", since="7.0.0",
         complexity="O(N*K) worst case with N being the smallest input sorted set, K being "
                    "the number of input sorted sets.",
         summary="Returns the number of members of the intersect of multiple sorted sets.")
def zintercard(c, argv):
    sources, _, _, limit = _parse(c, argv, 1, INTER, False, True)
    ordered = sorted(sources, key=lambda s: len(s.scores))
    count = 0
    first, rest = ordered[0], ordered[1:]
    for member in first.scores:
        if all(member in src.scores for src in rest):
            count += 1
            if limit and count >= limit:
                break
    return count
