"""Set commands: SADD SREM SPOP SMOVE, the algebra (SINTER SUNION SDIFF, their STORE forms,
SINTERCARD) and SSCAN, with Redis 7.0 semantics.

A set value is an `RSet` (commands/data/set_type.py); the mutators below keep its
intset flag and its scan index current.
"""
from commands.data.keyspace import WRONGTYPE
from commands.data.notifications import notify_keyspace_event
from commands.data.numbers import parse_int64
from commands.data.set_type import RSet, is_integer, members_in_order, new_set
from commands.families.scanning import (drop_index_if_small, parse_cursor, parse_scan_options,
                                        random_member, random_members, scan_collection)
from commands.families.typed_lookup import typed_lookups
from commands.server.args import (LONG_MAX, SYNTAX_ERROR, check_random_picks, positive_long_arg,
                                  ranged_int_arg)
from commands.server.numkeys import numkeys_finder, parse_intercard_limit
from commands.server.resp import ReplyError, SetReply
from commands.server.table import command, key_spec

SPOP_MOVE_STRATEGY_MUL = 5            # t_set.c: when SPOP keeps the few and rebuilds

def max_intset_entries(c) -> int:
    # The values dict, not settings.set_max_intset_entries (see hashes.limits).
    return c.server.settings.values["set-max-intset-entries"]


# ---------------------------------------------------------------- lookups and mutators

read_set, write_set = typed_lookups(RSet)


def _add(s, member, max_entries) -> bool:
    """setTypeAdd: True if the member is new. An intset converts for good on a
    non-integer member or when it grows past the limit."""
    if member in s:
        return False
    s.add(member)
    if s.intset and (len(s) > max_entries or parse_int64(member) is None):
        s.intset = False
    if s.index is not None:
        s.index.add(member)
    return True


def _remove(s, member) -> bool:
    if member not in s:
        return False
    s.remove(member)
    if s.index is not None:
        s.index.discard(member)
    return True


def _after_removals(c, key, s, event: bytes) -> None:
    """Members left `s`: an emptied set is deleted; the command's event, then 'del'."""
    drop_index_if_small(s)
    ks = c.server.keyspace
    ks.modified_or_deleted(key, s)
    notify_keyspace_event(ks, "s", event, key)
    if not s:
        notify_keyspace_event(ks, "g", b"del", key)


# ---------------------------------------------------------------- single-set writes

@command("sadd", -3, "write denyoom fast", keys=(1, 1, 1), group="set", since="1.0.0",
         complexity="O(1) for each element added, so O(N) to add N elements when the "
                    "command is called with multiple arguments.",
         summary="Add one or more members to a set",
         key_specs=[key_spec(["RW", "insert"], 1)])
def sadd(c, argv):
    key = argv[1]
    s = write_set(c.server.keyspace, key)
    limit = max_intset_entries(c)
    if s is None:
        s = RSet()
        s.intset = is_integer(argv[2])          # setTypeCreate looks at the first member
        added = 0
        for member in argv[2:]:
            added += _add(s, member, limit)
        c.server.keyspace.set(key, s)
        notify_keyspace_event(c.server.keyspace, "s", b"sadd", key)
        return added
    added = 0
    for member in argv[2:]:
        added += _add(s, member, limit)
    if added:
        ks = c.server.keyspace
        ks.modified(key)
        if ks.notify_flags:               # SADD is hot: no call while off
            notify_keyspace_event(ks, "s", b"sadd", key)
    return added


@command("srem", -3, "write fast", keys=(1, 1, 1), group="set", since="1.0.0",
         complexity="O(N) where N is the number of members to be removed.",
         summary="Remove one or more members from a set",
         key_specs=[key_spec(["RW", "delete"], 1)])
def srem(c, argv):
    key = argv[1]
    s = write_set(c.server.keyspace, key)
    if s is None:
        return 0
    removed = 0
    for member in argv[2:]:
        if _remove(s, member):
            removed += 1
            if not s:
                break
    if removed:
        _after_removals(c, key, s, b"srem")
    return removed


@command("smove", 4, "write fast", keys=(1, 2, 1), group="set", since="1.0.0",
         complexity="O(1)", summary="Move a member from one set to another",
         key_specs=[key_spec(["RW", "access", "delete"], 1),
                    key_spec(["RW", "insert"], 2)])
def smove(c, argv):
    src_key, dst_key, member = argv[1], argv[2], argv[3]
    ks = c.server.keyspace
    src = ks.get(src_key)
    dst = ks.get(dst_key)
    if src is None:
        return 0                        # checked before either type
    if type(src) is not RSet or (dst is not None and type(dst) is not RSet):
        raise ReplyError(WRONGTYPE)
    if src is dst:
        return int(member in src)
    if not _remove(src, member):
        return 0
    _after_removals(c, src_key, src, b"srem")
    limit = max_intset_entries(c)
    if dst is None:
        dst = RSet()
        dst.intset = is_integer(member)
        _add(dst, member, limit)
        ks.set(dst_key, dst)
        notify_keyspace_event(ks, "s", b"sadd", dst_key)
    elif _add(dst, member, limit):
        ks.modified(dst_key)
        notify_keyspace_event(ks, "s", b"sadd", dst_key)
    return 1


@command("spop", -2, "write fast", keys=(1, 1, 1), group="set", since="1.0.0",
         tips=("nondeterministic_output",),
         complexity="Without the count argument O(1), otherwise O(N) where N is the value "
                    "of the passed count.",
         summary="Remove and return one or multiple random members from a set")
def spop(c, argv):
    # Replicas get SREM of the members popped here (commands/replication/rewrites.py).
    if len(argv) > 3:
        raise ReplyError(SYNTAX_ERROR)
    key = argv[1]
    if len(argv) == 3:
        return _spop_count(c, key, positive_long_arg(argv[2]))
    s = write_set(c.server.keyspace, key)
    if s is None:
        return None
    member = random_member(s)
    _remove(s, member)
    _after_removals(c, key, s, b"spop")
    return member


def _spop_count(c, key, count):
    s = write_set(c.server.keyspace, key)
    if s is None or count == 0:
        return SetReply()
    size = len(s)
    if count >= size:
        # Redis answers with SUNION of the one set (so in the order of a set built
        # whole from it), then deletes the key.
        reply = members_in_order(new_set(s, max_intset_entries(c)))
        s.clear()
        _after_removals(c, key, s, b"spop")
        return SetReply(reply)
    remaining = size - count
    if remaining * SPOP_MOVE_STRATEGY_MUL > count:
        popped = random_members(s, count, distinct=True)
        for member in popped:
            _remove(s, member)
    else:
        # Few remain: pick those, rebuild the set from them (which may make it an
        # intset again, as in Redis) and return the rest.
        keep = random_members(s, remaining, distinct=True)
        kept = set(keep)
        popped = [m for m in members_in_order(s) if m not in kept]
        rebuilt = new_set(keep, max_intset_entries(c))
        s.clear()
        s.update(rebuilt)
        s.intset = rebuilt.intset
        s.index = None
    _after_removals(c, key, s, b"spop")
    return SetReply(popped)


# ---------------------------------------------------------------- single-set reads

@command("scard", 2, "readonly fast", keys=(1, 1, 1), group="set", since="1.0.0",
         complexity="O(1)", summary="Get the number of members in a set",
         key_specs=[key_spec(["RO"], 1)])
def scard(c, argv):
    s = read_set(c, argv[1])
    return 0 if s is None else len(s)


@command("sismember", 3, "readonly fast", keys=(1, 1, 1), group="set", since="1.0.0",
         complexity="O(1)", summary="Determine if a given value is a member of a set",
         key_specs=[key_spec(["RO"], 1)])
def sismember(c, argv):
    s = read_set(c, argv[1])
    return int(s is not None and argv[2] in s)


@command("smismember", -3, "readonly fast", keys=(1, 1, 1), group="set", since="6.2.0",
         complexity="O(N) where N is the number of elements being checked for membership",
         summary="Returns the membership associated with the given elements for a set")
def smismember(c, argv):
    s = read_set(c, argv[1])
    if s is None:
        return [0] * (len(argv) - 2)
    return [int(member in s) for member in argv[2:]]


@command("smembers", 2, "readonly", keys=(1, 1, 1), group="set", since="1.0.0",
         tips=("nondeterministic_output_order",),
         complexity="O(N) where N is the set cardinality.",
         summary="Get all the members in a set")
def smembers(c, argv):
    s = read_set(c, argv[1])
    return SetReply() if s is None else SetReply(members_in_order(s))


@command("srandmember", -2, "readonly", keys=(1, 1, 1), group="set", since="1.0.0",
         tips=("nondeterministic_output",),
         complexity="Without the count argument O(1), otherwise O(N) where N is the "
                    "absolute value of the passed count.",
         summary="Get one or multiple random members from a set")
def srandmember(c, argv):
    if len(argv) > 3:
        raise ReplyError(SYNTAX_ERROR)
    if len(argv) == 2:
        s = read_set(c, argv[1])
        return None if s is None else random_member(s)
    count = ranged_int_arg(argv[2], -LONG_MAX, LONG_MAX)
    s = read_set(c, argv[1])
    if s is None or count == 0:
        return []
    check_random_picks(count)
    if count < 0 or count == 1:
        return random_members(s, -count if count < 0 else 1, distinct=False)
    if count >= len(s):
        return members_in_order(s)            # the whole set, in its own order
    return random_members(s, count, distinct=True)


# ---------------------------------------------------------------- SSCAN

@command("sscan", -3, "readonly", keys=(1, 1, 1), group="set", since="2.8.0",
         tips=("nondeterministic_output",),
         complexity="O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection..",
         summary="Incrementally iterate Set elements")
def sscan(c, argv):
    cursor = parse_cursor(argv[2])
    s = read_set(c, argv[1])
    if s is None:
        return [b"0", []]                     # options are not even parsed
    count, accept, _ = parse_scan_options(argv, 3)
    next_cursor, members = scan_collection(s, cursor, count, s.intset)
    if members is None:
        members = members_in_order(s)
    if accept is not None:
        members = [m for m in members if accept(m)]
    return [b"%d" % next_cursor, members]


# ---------------------------------------------------------------- set algebra

def _sources(c, keys):
    """The sets at `keys` (None for a missing key); WRONGTYPE if any is another type.

    Every key is checked, even after a missing one, as Redis 7 does. The STORE forms
    look their sources up as reads too (Redis's lookupKeyRead: misses are counted and
    published as 'keymiss')."""
    lookup = c.server.keyspace.lookup_read
    sets = []
    for key in keys:
        value = lookup(key)
        if value is not None and type(value) is not RSet:
            raise ReplyError(WRONGTYPE)
        sets.append(value)
    return sets


def _intersection(sets, limit=0) -> list:
    """Members in all of `sets`, in the order of the smallest one (Redis walks it and
    probes the others); stops at `limit` members when limit > 0."""
    if not sets or any(s is None for s in sets):
        return []
    ordered = sorted(sets, key=len)         # stable, like glibc's merge-sorting qsort
    smallest, others = ordered[0], ordered[1:]
    out = []
    for member in members_in_order(smallest):
        for other in others:
            if member not in other:
                break
        else:
            out.append(member)
            if len(out) == limit:
                break
    return out


def _union(sets) -> set:
    result = set()
    for s in sets:
        if s is not None:
            result |= s
    return result


def _difference(sets) -> set:
    first = sets[0]
    if first is None:
        return set()
    result = set(first)
    for s in sets[1:]:
        if s is not None and result:
            result -= s
    return result


def _store(c, dst_key, result, event: bytes) -> int:
    """Replace `dst_key` (any type, its TTL dropped) by the result, with `event`; an
    empty result deletes it ('del' if there was one)."""
    value = new_set(result, max_intset_entries(c)) if result else None
    c.server.keyspace.store_result(dst_key, value, "s", event)
    return len(value) if value is not None else 0


def _reply_built(c, members) -> SetReply:
    """SUNION/SDIFF answer from a set Redis builds whole, so in that set's order."""
    return SetReply(members_in_order(new_set(members, max_intset_entries(c))))


_ALGEBRA_TIPS = ("nondeterministic_output_order",)


@command("sinter", -2, "readonly", keys=(1, -1, 1), group="set", since="1.0.0",
         tips=_ALGEBRA_TIPS,
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and "
                    "M is the number of sets.",
         summary="Intersect multiple sets")
def sinter(c, argv):
    return SetReply(_intersection(_sources(c, argv[1:])))


@command("sunion", -2, "readonly", keys=(1, -1, 1), group="set", since="1.0.0",
         tips=_ALGEBRA_TIPS,
         complexity="O(N) where N is the total number of elements in all given sets.",
         summary="Add multiple sets")
def sunion(c, argv):
    return _reply_built(c, _union(_sources(c, argv[1:])))


@command("sdiff", -2, "readonly", keys=(1, -1, 1), group="set", since="1.0.0",
         tips=_ALGEBRA_TIPS,
         complexity="O(N) where N is the total number of elements in all given sets.",
         summary="Subtract multiple sets")
def sdiff(c, argv):
    return _reply_built(c, _difference(_sources(c, argv[1:])))


@command("sinterstore", -3, "write denyoom", keys=(1, -1, 1), group="set", since="1.0.0",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and "
                    "M is the number of sets.",
         summary="Intersect multiple sets and store the resulting set in a key",
         key_specs=[key_spec(["RW", "update"], 1),
                    key_spec(["RO", "access"], 2, -1)])
def sinterstore(c, argv):
    return _store(c, argv[1], _intersection(_sources(c, argv[2:])), b"sinterstore")


@command("sunionstore", -3, "write denyoom", keys=(1, -1, 1), group="set", since="1.0.0",
         complexity="O(N) where N is the total number of elements in all given sets.",
         summary="Add multiple sets and store the resulting set in a key",
         key_specs=[key_spec(["OW", "update"], 1),
                    key_spec(["RO", "access"], 2, -1)])
def sunionstore(c, argv):
    return _store(c, argv[1], _union(_sources(c, argv[2:])), b"sunionstore")


@command("sdiffstore", -3, "write denyoom", keys=(1, -1, 1), group="set", since="1.0.0",
         complexity="O(N) where N is the total number of elements in all given sets.",
         summary="Subtract multiple sets and store the resulting set in a key",
         key_specs=[key_spec(["OW", "update"], 1),
                    key_spec(["RO", "access"], 2, -1)])
def sdiffstore(c, argv):
    return _store(c, argv[1], _difference(_sources(c, argv[2:])), b"sdiffstore")


@command("sintercard", -3, "readonly", group="set", since="7.0.0",
         key_finder=numkeys_finder(1),
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and "
                    "M is the number of sets.",
         summary="Intersect multiple sets and return the cardinality of the result")
def sintercard(c, argv):
    numkeys = parse_int64(argv[1])
    if numkeys is None or numkeys < 1:
        raise ReplyError("ERR numkeys should be greater than 0")
    if numkeys > len(argv) - 2:
        raise ReplyError("ERR Number of keys can't be greater than number of args")
    limit = 0
    i = 2 + numkeys
    while i < len(argv):
        if argv[i].lower() == b"limit" and i + 1 < len(argv):
            limit = parse_intercard_limit(argv[i + 1])
            i += 2
        else:
            raise ReplyError(SYNTAX_ERROR)
    return len(_intersection(_sources(c, argv[2:2 + numkeys]), limit))
