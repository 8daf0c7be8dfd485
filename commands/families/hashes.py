"""Hash commands: HSET HGET HDEL HINCRBY HRANDFIELD HSCAN and friends, Redis 7.0 semantics.

A hash value is a `Hash` (commands/data/hash_type.py); the mutators below keep its
listpack flag and its scan index current.
"""
from commands.data.hash_type import Hash
from commands.data.notifications import notify_keyspace_event
from commands.data.numbers import (INT64_MAX, INT64_MIN, NOT_FLOAT, add_long_double,
                                   format_long_double, parse_int64, parse_long_double)
from commands.families.scanning import (drop_index_if_small, parse_cursor, parse_scan_options,
                                        random_member, random_members, random_positions,
                                        scan_collection)
from commands.families.typed_lookup import typed_lookups
from commands.server.args import (LONG_MAX, SYNTAX_ERROR, check_random_picks, int_arg,
                                  ranged_int_arg)
from commands.server.resp import OK, ReplyError
from commands.server.table import command, key_spec


def limits(c):
    """(max listpack entries, max listpack value length): CONFIG's current values.

    Read from the values dict: Settings' attribute access goes through __getattr__,
    which costs a failed normal lookup first -- too slow for every HSET."""
    values = c.server.settings.values
    return values["hash-max-listpack-entries"], values["hash-max-listpack-value"]


# ---------------------------------------------------------------- lookups and mutators

read_hash, write_hash = typed_lookups(Hash)


def _check_lengths(h, args, max_value) -> None:
    """hashTypeTryConversion: a field or value too long for a listpack converts first."""
    if h.listpack:
        for arg in args:
            if len(arg) > max_value:
                h.listpack = False
                return


def _put(h, field, value, max_entries) -> bool:
    """hashTypeSet after the length checks: True if the field is new."""
    is_new = field not in h
    h[field] = value
    if is_new:
        if h.index is not None:
            h.index.add(field)
        if h.listpack and len(h) > max_entries:
            h.listpack = False
    return is_new


def _store(c, key, h, created, event: bytes) -> None:
    """A new hash enters the keyspace (its 'new' event); an existing one was changed in
    place. Then the command's event."""
    ks = c.server.keyspace
    if created:
        ks.set(key, h)
    else:
        ks.modified(key)
    if ks.notify_flags:                   # HSET is hot: no call while off
        notify_keyspace_event(ks, "h", event, key)


def _set_pairs(c, argv, name):
    """HSET/HMSET. The hot path of the family, so _put is inlined: the entry limit is
    checked once at the end, which is equivalent because a hash only grows here and the
    conversion is one-way."""
    argc = len(argv)
    if argc % 2:
        raise ReplyError("ERR wrong number of arguments for '%s' command" % name)
    key = argv[1]
    ks = c.server.keyspace
    h = write_hash(ks, key)
    created = h is None
    if created:
        h = Hash()
    if h.listpack:              # (a hash that is not a listpack never becomes one here)
        max_entries, max_value = limits(c)
        _check_lengths(h, argv[2:], max_value)
    index = h.index
    before = len(h)
    for i in range(2, argc, 2):
        field = argv[i]
        if index is not None and field not in h:
            index.add(field)
        h[field] = argv[i + 1]
    if h.listpack and len(h) > max_entries:
        h.listpack = False
    # _store, written out (HSET is hot)
    if created:
        ks.set(key, h)
    else:
        ks.modified(key)
    if ks.notify_flags:
        notify_keyspace_event(ks, "h", b"hset", key)
    return len(h) - before


# ---------------------------------------------------------------- writes

@command("hset", -4, "write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         complexity="O(1) for each field/value pair added, so O(N) to add N field/value "
                    "pairs when the command is called with multiple field/value pairs.",
         summary="Set the string value of a hash field",
         key_specs=[key_spec(["RW", "update"], 1)])
def hset(c, argv):
    return _set_pairs(c, argv, "hset")


@command("hmset", -4, "write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         complexity="O(N) where N is the number of fields being set.",
         summary="Set multiple hash fields to multiple values",
         key_specs=[key_spec(["RW", "update"], 1)])
def hmset(c, argv):
    _set_pairs(c, argv, "hmset")
    return OK


@command("hsetnx", 4, "write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         complexity="O(1)",
         summary="Set the value of a hash field, only if the field does not exist",
         key_specs=[key_spec(["RW", "insert"], 1)])
def hsetnx(c, argv):
    key, field = argv[1], argv[2]
    h = write_hash(c.server.keyspace, key)
    if h is not None and field in h:
        return 0                 # an unused long value does not convert the hash
    created = h is None
    if created:
        h = Hash()
    max_entries, max_value = limits(c)
    _check_lengths(h, argv[2:4], max_value)
    _put(h, field, argv[3], max_entries)
    _store(c, key, h, created, b"hset")
    return 1


@command("hdel", -3, "write fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         complexity="O(N) where N is the number of fields to be removed.",
         summary="Delete one or more hash fields",
         key_specs=[key_spec(["RW", "delete"], 1)])
def hdel(c, argv):
    key = argv[1]
    h = write_hash(c.server.keyspace, key)
    if h is None:
        return 0
    deleted = 0
    for field in argv[2:]:
        if field in h:
            del h[field]
            if h.index is not None:
                h.index.discard(field)
            deleted += 1
            if not h:
                break            # Redis stops and deletes the key once it is empty
    if deleted:
        drop_index_if_small(h)
        ks = c.server.keyspace
        ks.modified_or_deleted(key, h)
        notify_keyspace_event(ks, "h", b"hdel", key)
        if not h:
            notify_keyspace_event(ks, "g", b"del", key)
    return deleted


def _incr_field(c, key, field, compute, event: bytes):
    """HINCRBY/HINCRBYFLOAT: `compute(old bytes or None)` gives the new value (bytes) or
    raises; the field is stored with hashTypeSet's length checks."""
    h = write_hash(c.server.keyspace, key)
    old = h.get(field) if h is not None else None
    new = compute(old)
    created = h is None
    if created:
        h = Hash()
    max_entries, max_value = limits(c)
    _check_lengths(h, (field, new), max_value)
    _put(h, field, new, max_entries)
    _store(c, key, h, created, event)
    return new


@command("hincrby", 4, "write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         complexity="O(1)",
         summary="Increment the integer value of a hash field by the given number")
def hincrby(c, argv):
    increment = int_arg(argv[3])        # parsed before the key is looked at

    def compute(old):
        current = 0
        if old is not None:
            current = parse_int64(old)
            if current is None:
                raise ReplyError("ERR hash value is not an integer")
        result = current + increment
        if result > INT64_MAX or result < INT64_MIN:
            raise ReplyError("ERR increment or decrement would overflow")
        return b"%d" % result

    return int(_incr_field(c, argv[1], argv[2], compute, b"hincrby"))


@command("hincrbyfloat", 4, "write denyoom fast", keys=(1, 1, 1), group="hash",
         since="2.6.0", complexity="O(1)",
         summary="Increment the float value of a hash field by the given amount")
def hincrbyfloat(c, argv):
    increment = parse_long_double(argv[3])
    if increment is None:
        raise ReplyError(NOT_FLOAT)
    if type(increment) is tuple:        # +-inf parses, but is refused as an increment
        raise ReplyError("ERR value is NaN or Infinity")

    def compute(old):
        current = 0
        if old is not None:
            current = parse_long_double(old)
            if current is None:
                raise ReplyError("ERR hash value is not a float")
        result = add_long_double(current, increment)
        if type(result) is tuple:
            raise ReplyError("ERR increment would produce NaN or Infinity")
        return format_long_double(result)

    # (Replicas get HSET with the result: commands/replication/rewrites.py.)
    return _incr_field(c, argv[1], argv[2], compute, b"hincrbyfloat")


# ---------------------------------------------------------------- reads

@command("hget", 3, "readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         complexity="O(1)", summary="Get the value of a hash field")
def hget(c, argv):
    h = read_hash(c, argv[1])
    return None if h is None else h.get(argv[2])


@command("hmget", -3, "readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         complexity="O(N) where N is the number of fields being requested.",
         summary="Get the values of all the given hash fields")
def hmget(c, argv):
    h = read_hash(c, argv[1])
    if h is None:
        return [None] * (len(argv) - 2)
    get = h.get
    return [get(field) for field in argv[2:]]


@command("hexists", 3, "readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         complexity="O(1)", summary="Determine if a hash field exists",
         key_specs=[key_spec(["RO"], 1)])
def hexists(c, argv):
    h = read_hash(c, argv[1])
    return int(h is not None and argv[2] in h)


@command("hlen", 2, "readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         complexity="O(1)", summary="Get the number of fields in a hash",
         key_specs=[key_spec(["RO"], 1)])
def hlen(c, argv):
    h = read_hash(c, argv[1])
    return 0 if h is None else len(h)


@command("hstrlen", 3, "readonly fast", keys=(1, 1, 1), group="hash", since="3.2.0",
         complexity="O(1)", summary="Get the length of the value of a hash field",
         key_specs=[key_spec(["RO"], 1)])
def hstrlen(c, argv):
    h = read_hash(c, argv[1])
    value = None if h is None else h.get(argv[2])
    return 0 if value is None else len(value)


_ORDER_TIP = ("nondeterministic_output_order",)


@command("hkeys", 2, "readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         tips=_ORDER_TIP, complexity="O(N) where N is the size of the hash.",
         summary="Get all the fields in a hash")
def hkeys(c, argv):
    h = read_hash(c, argv[1])
    return [] if h is None else list(h)


@command("hvals", 2, "readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         tips=_ORDER_TIP, complexity="O(N) where N is the size of the hash.",
         summary="Get all the values in a hash")
def hvals(c, argv):
    h = read_hash(c, argv[1])
    return [] if h is None else list(h.values())


@command("hgetall", 2, "readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         tips=_ORDER_TIP, complexity="O(N) where N is the size of the hash.",
         summary="Get all the fields and values in a hash")
def hgetall(c, argv):
    h = read_hash(c, argv[1])
    return {} if h is None else dict(h)       # a map in RESP3, flat pairs in RESP2


# ---------------------------------------------------------------- HRANDFIELD

@command("hrandfield", -2, "readonly", keys=(1, 1, 1), group="hash", since="6.2.0",
         tips=("nondeterministic_output",),
         complexity="O(N) where N is the number of fields returned",
         summary="Get one or multiple random fields from a hash")
def hrandfield(c, argv):
    if len(argv) == 2:
        h = read_hash(c, argv[1])
        return None if h is None else random_member(h)
    count = ranged_int_arg(argv[2], -LONG_MAX, LONG_MAX)
    withvalues = False
    if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withvalues"):
        raise ReplyError(SYNTAX_ERROR)
    if len(argv) == 4:
        withvalues = True
        if not -(LONG_MAX // 2) <= count <= LONG_MAX // 2:   # C division: count*2 fits
            raise ReplyError("ERR value is out of range")
    h = read_hash(c, argv[1])
    if h is None or count == 0:
        return []
    check_random_picks(count)
    if count < 0 or count == 1:
        fields = random_members(h, -count if count < 0 else 1, distinct=False)
    elif count >= len(h):
        fields = list(h)                      # the whole hash, in its own order
    elif h.listpack:
        # Redis samples a listpack in place: a random subset, in the hash's order.
        every = list(h)
        fields = [every[i] for i in random_positions(len(every), count)]
    else:
        fields = random_members(h, count, distinct=True)
    if not withvalues:
        return fields
    if c.resp3:
        return [[field, h[field]] for field in fields]
    out = []
    for field in fields:
        out.append(field)
        out.append(h[field])
    return out


# ---------------------------------------------------------------- HSCAN

@command("hscan", -3, "readonly", keys=(1, 1, 1), group="hash", since="2.8.0",
         tips=("nondeterministic_output",),
         complexity="O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection..",
         summary="Incrementally iterate hash fields and associated values")
def hscan(c, argv):
    cursor = parse_cursor(argv[2])
    h = read_hash(c, argv[1])
    if h is None:
        return [b"0", []]                     # options are not even parsed
    count, accept, _ = parse_scan_options(argv, 3)
    next_cursor, fields = scan_collection(h, cursor, count, h.listpack)
    if fields is None:
        fields = h                            # the whole hash, in its order
    out = []
    for field in fields:
        if accept is None or accept(field):
            out.append(field)
            out.append(h[field])
    return [b"%d" % next_cursor, out]
