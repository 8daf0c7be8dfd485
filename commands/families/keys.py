"""Generic key commands: DEL EXISTS TYPE, expiry (EXPIRE... TTL... PERSIST), RENAME, COPY,
KEYS SCAN RANDOMKEY TOUCH and OBJECT, with Redis 7 semantics and errors.

Commands that only *inspect* a key (EXISTS, TYPE, TTL, OBJECT) look it up without touching
its LRU time, as Redis's LOOKUP_NOTOUCH does, so OBJECT IDLETIME stays meaningful.

OBJECT ENCODING and COPY ask the registries of commands/data/value_types.py, where every
value type registers its encoding and its copier.
"""
from cluster.slots import CLUSTER_SLOTS
from commands.data.glob import matcher
from commands.data.keyspace import TYPE_NAMES, now_ms
from commands.data.notifications import notify_keyspace_event
from commands.data.numbers import INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN
from commands.data.value_types import OBJECT_ENCODINGS, copy_value, string_encoding
from commands.families.scanning import parse_cursor, parse_scan_options
from commands.server.args import SYNTAX_ERROR, int_arg, ranged_int_arg
from commands.server.resp import OK, ReplyError, Status
from commands.server.table import command, container, key_spec, subcommand

OBJ_SHARED_INTEGERS = 10000          # Redis shares the objects of integers 0..9999
OBJ_SHARED_REFCOUNT = 2147483647     # ... and reports INT_MAX as their refcount


# ---------------------------------------------------------------- lookups

def peek_live(ks, key, miss_event=True):
    """The value at `key` without touching its LRU time (LOOKUP_NOTOUCH); an expired key
    is deleted and reported missing. Counts a keyspace hit or miss, as Redis's read
    lookups do, and publishes a 'keymiss' unless miss_event is False (OBJECT and SCAN
    look keys up with Redis's LOOKUP_NONOTIFY)."""
    value = ks.peek(key)
    if value is not None:
        when = ks.expires.get(key)
        if when is not None and when < now_ms():      # keyIsExpired: now > when
            value = ks.get(key)      # expires it
    if value is None:
        ks.keyspace_misses += 1
        if miss_event:
            notify_keyspace_event(ks, "m", b"keymiss", key)
    else:
        ks.keyspace_hits += 1
    return value


# ---------------------------------------------------------------- existence and type

# Command tips (COMMAND INFO), as Redis declares them for multi-key counting commands.
_MULTI_SHARD_SUM = ("request_policy:multi_shard", "response_policy:agg_sum")

@command("del", -2, "write", tips=_MULTI_SHARD_SUM,
         keys=(1, -1, 1), since="1.0.0",
         complexity="O(N) where N is the number of keys that will be removed.",
         summary="Deletes one or more keys.",
         key_specs=[key_spec(["RM", "delete"], 1, -1)])
def del_(c, argv):
    ks = c.server.keyspace
    deleted = 0
    for key in argv[1:]:
        if ks.delete(key):
            deleted += 1
            notify_keyspace_event(ks, "g", b"del", key)
    return deleted


@command("unlink", -2, "write fast", tips=_MULTI_SHARD_SUM,
         keys=(1, -1, 1), since="4.0.0",
         complexity="O(1) for each key removed regardless of its size.",
         summary="Asynchronously deletes one or more keys.",
         key_specs=[key_spec(["RM", "delete"], 1, -1)])
def unlink(c, argv):
    # Freeing is cheap for our values (refcounting does it), so UNLINK is DEL.
    return del_(c, argv)


@command("exists", -2, "readonly fast", tips=_MULTI_SHARD_SUM,
         keys=(1, -1, 1), since="3.0.3",
         complexity="O(N) where N is the number of keys to check.",
         summary="Determines whether one or more keys exist.",
         key_specs=[key_spec(["RO"], 1, -1)])
def exists(c, argv):
    ks = c.server.keyspace
    return sum(1 for key in argv[1:] if peek_live(ks, key) is not None)


@command("touch", -2, "readonly fast", tips=_MULTI_SHARD_SUM,
         keys=(1, -1, 1), since="3.2.1",
         complexity="O(N) where N is the number of keys that will be touched.",
         summary="Returns the number of existing keys out of those specified after "
                 "updating the time they were last accessed.",
         key_specs=[key_spec(["RO"], 1, -1)])
def touch(c, argv):
    lookup = c.server.keyspace.lookup_read
    return sum(1 for key in argv[1:] if lookup(key) is not None)


@command("type", 2, "readonly fast", keys=(1, 1, 1), since="1.0.0", complexity="O(1)",
         summary="Determines the type of value stored at a key.",
         key_specs=[key_spec(["RO"], 1)])
def type_(c, argv):
    value = peek_live(c.server.keyspace, argv[1])
    return Status("none" if value is None else TYPE_NAMES[type(value)])


# ---------------------------------------------------------------- expiry

_EXPIRE_NX, _EXPIRE_XX, _EXPIRE_GT, _EXPIRE_LT = 1, 2, 4, 8
_EXPIRE_OPTIONS = {b"nx": _EXPIRE_NX, b"xx": _EXPIRE_XX, b"gt": _EXPIRE_GT,
                   b"lt": _EXPIRE_LT}


def _parse_expire_options(argv) -> int:
    flags = 0
    for arg in argv[3:]:
        flag = _EXPIRE_OPTIONS.get(arg.lower())
        if flag is None:
            raise ReplyError("ERR Unsupported option %s" % arg.decode("utf-8", "replace"))
        flags |= flag
    if flags & _EXPIRE_NX and flags & (_EXPIRE_XX | _EXPIRE_GT | _EXPIRE_LT):
        raise ReplyError("ERR NX and XX, GT or LT options at the same time are not "
                         "compatible")
    if flags & _EXPIRE_GT and flags & _EXPIRE_LT:
        raise ReplyError("ERR GT and LT options at the same time are not compatible")
    return flags


def _expire_generic(c, argv, relative: bool, seconds: bool):
    """Redis's expireGenericCommand for EXPIRE PEXPIRE EXPIREAT PEXPIREAT."""
    flags = _parse_expire_options(argv)
    when = int_arg(argv[2])
    error = "ERR invalid expire time in '%s' command" % argv[0].decode().lower()
    # Negative times are allowed (they delete the key); overflow is not.
    if seconds:
        if when > INT64_MAX // 1000 or when < -(-INT64_MIN // 1000):
            raise ReplyError(error)
        when *= 1000
    if relative:
        base = now_ms()
        if when > INT64_MAX - base:
            raise ReplyError(error)
        when += base
    ks = c.server.keyspace
    key = argv[1]
    if ks.get(key) is None:
        return 0
    if flags:
        current = ks.expires.get(key)          # None: no TTL, i.e. an infinite one
        if flags & _EXPIRE_NX and current is not None:
            return 0
        if flags & _EXPIRE_XX and current is None:
            return 0
        if flags & _EXPIRE_GT and (current is None or when <= current):
            return 0
        if flags & _EXPIRE_LT and current is not None and when >= current:
            return 0
    ks.expire_at(key, when)                    # a time already past deletes the key
    notify_keyspace_event(ks, "g", b"expire" if ks.peek(key) is not None else b"del", key)
    return 1


@command("expire", -3, "write fast", keys=(1, 1, 1), since="1.0.0", complexity="O(1)",
         summary="Sets the expiration time of a key in seconds.",
         key_specs=[key_spec(["RW", "update"], 1)])
def expire(c, argv):
    return _expire_generic(c, argv, relative=True, seconds=True)


@command("pexpire", -3, "write fast", keys=(1, 1, 1), since="2.6.0", complexity="O(1)",
         summary="Sets the expiration time of a key in milliseconds.",
         key_specs=[key_spec(["RW", "update"], 1)])
def pexpire(c, argv):
    return _expire_generic(c, argv, relative=True, seconds=False)


@command("expireat", -3, "write fast", keys=(1, 1, 1), since="1.2.0", complexity="O(1)",
         summary="Sets the expiration time of a key to a Unix timestamp.",
         key_specs=[key_spec(["RW", "update"], 1)])
def expireat(c, argv):
    return _expire_generic(c, argv, relative=False, seconds=True)


@command("pexpireat", -3, "write fast", keys=(1, 1, 1), since="2.6.0", complexity="O(1)",
         summary="Sets the expiration time of a key to a Unix milliseconds timestamp.",
         key_specs=[key_spec(["RW", "update"], 1)])
def pexpireat(c, argv):
    return _expire_generic(c, argv, relative=False, seconds=False)


def _ttl_generic(c, key, in_ms: bool, absolute: bool) -> int:
    """TTL PTTL EXPIRETIME PEXPIRETIME: -2 no key, -1 no expiry."""
    ks = c.server.keyspace
    if peek_live(ks, key) is None:
        return -2
    when = ks.expires.get(key)
    if when is None:
        return -1
    value = when if absolute else max(when - now_ms(), 0)
    return value if in_ms else (value + 500) // 1000


@command("ttl", 2, "readonly fast", tips=("nondeterministic_output",),
         keys=(1, 1, 1), since="1.0.0", complexity="O(1)",
         summary="Returns the expiration time in seconds of a key.")
def ttl(c, argv):
    return _ttl_generic(c, argv[1], in_ms=False, absolute=False)


@command("pttl", 2, "readonly fast", tips=("nondeterministic_output",),
         keys=(1, 1, 1), since="2.6.0", complexity="O(1)",
         summary="Returns the expiration time in milliseconds of a key.")
def pttl(c, argv):
    return _ttl_generic(c, argv[1], in_ms=True, absolute=False)


@command("expiretime", 2, "readonly fast", keys=(1, 1, 1), since="7.0.0", complexity="O(1)",
         summary="Returns the expiration time of a key as a Unix timestamp.")
def expiretime(c, argv):
    return _ttl_generic(c, argv[1], in_ms=False, absolute=True)


@command("pexpiretime", 2, "readonly fast", keys=(1, 1, 1), since="7.0.0",
         complexity="O(1)",
         summary="Returns the expiration time of a key as a Unix milliseconds timestamp.")
def pexpiretime(c, argv):
    return _ttl_generic(c, argv[1], in_ms=True, absolute=True)


@command("move", 3, "write fast", keys=(1, 1, 1), since="1.0.0", complexity="O(1)",
         summary="Move a key to another database")
def move(c, argv):
    # A cluster node has only database 0: Redis refuses MOVE before looking at anything.
    raise ReplyError("ERR MOVE is not allowed in cluster mode")


@command("persist", 2, "write fast", keys=(1, 1, 1), since="2.2.0", complexity="O(1)",
         summary="Removes the expiration time of a key.",
         key_specs=[key_spec(["RW", "update"], 1)])
def persist(c, argv):
    ks = c.server.keyspace
    if ks.get(argv[1]) is None or not ks.persist(argv[1]):
        return 0
    notify_keyspace_event(ks, "g", b"persist", argv[1])
    return 1


# ---------------------------------------------------------------- rename and copy

def _rename_generic(c, argv, nx: bool):
    ks = c.server.keyspace
    src, dst = argv[1], argv[2]
    value = ks.get(src)
    if value is None:
        raise ReplyError("ERR no such key")
    if src == dst:
        return 0 if nx else OK
    if ks.get(dst) is not None:
        if nx:
            return 0
        ks.delete(dst)
    when = ks.expires.get(src)
    ks.delete(src)
    ks.set(dst, value)
    if when is not None:
        ks.set_expire(dst, when)
    notify_keyspace_event(ks, "g", b"rename_from", src)
    notify_keyspace_event(ks, "g", b"rename_to", dst)
    return 1 if nx else OK


@command("rename", 3, "write", keys=(1, 2, 1), since="1.0.0", complexity="O(1)",
         summary="Renames a key and overwrites the destination.",
         key_specs=[key_spec(["RW", "access", "delete"], 1),
                    key_spec(["OW", "update"], 2)])
def rename(c, argv):
    return _rename_generic(c, argv, nx=False)


@command("renamenx", 3, "write fast", keys=(1, 2, 1), since="1.0.0", complexity="O(1)",
         summary="Renames a key only when the target key name doesn't exist.",
         key_specs=[key_spec(["RW", "access", "delete"], 1),
                    key_spec(["OW", "insert"], 2)])
def renamenx(c, argv):
    return _rename_generic(c, argv, nx=True)


@command("copy", -3, "write denyoom", keys=(1, 2, 1), since="6.2.0",
         complexity="O(N) worst case for collections, where N is the number of nested "
                    "items. O(1) for string values.",
         summary="Copies the value of a key to a new key.",
         key_specs=[key_spec(["RO", "access"], 1),
                    key_spec(["OW", "update"], 2)])
def copy(c, argv):
    src, dst = argv[1], argv[2]
    replace = False
    db = 0
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and i + 1 < len(argv):
            db = ranged_int_arg(argv[i + 1], INT32_MIN, INT32_MAX)   # getIntFromObjectOrReply
            if not 0 <= db < c.server.settings.databases:
                raise ReplyError("ERR DB index is out of range")
            i += 1
        else:
            raise ReplyError(SYNTAX_ERROR)
        i += 1
    if db != 0:
        raise ReplyError("ERR Copying to another database is not allowed in cluster mode")
    if src == dst:
        raise ReplyError("ERR source and destination objects are the same")
    ks = c.server.keyspace
    value = ks.lookup_read(src)
    if value is None:
        return 0
    if ks.get(dst) is not None:
        if not replace:
            return 0
        ks.delete(dst)
    when = ks.expires.get(src)
    ks.set(dst, copy_value(value))
    if when is not None:
        ks.set_expire(dst, when)
    notify_keyspace_event(ks, "g", b"copy_to", dst)
    return 1


# ---------------------------------------------------------------- whole keyspace

@command("keys", 2, "readonly",
         tips=("request_policy:all_shards", "nondeterministic_output_order"),
         since="1.0.0", categories=("@dangerous",),
         complexity="O(N) with N being the number of keys in the database, under the "
                    "assumption that the key names in the database and the given pattern "
                    "have limited length.",
         summary="Returns all key names that match a pattern.")
def keys(c, argv):
    pattern = argv[1]
    found = list(c.server.keyspace.iter_keys())
    if pattern == b"*":
        return found
    accept = matcher(pattern)
    return [key for key in found if accept(key)]


@command("scan", -2, "readonly", tips=("nondeterministic_output", "request_policy:special"),
         since="2.8.0",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection.",
         summary="Iterates over the key names in the database.")
def scan(c, argv):
    cursor = parse_cursor(argv[1])
    count, accept, type_name = parse_scan_options(argv, 2, allow_type=True)
    ks = c.server.keyspace
    # The keyspace cursor is a slot number: anything past the last slot ends the scan.
    next_cursor, found = ks.scan(min(cursor, CLUSTER_SLOTS), count)
    out = []
    for key in found:
        if accept is not None and not accept(key):
            continue
        value = peek_live(ks, key, miss_event=False)
        if value is None:
            continue                     # expired: filtered (and deleted), as Redis does
        if type_name is not None and TYPE_NAMES[type(value)] != type_name:
            continue
        out.append(key)
    return [b"%d" % next_cursor, out]


@command("randomkey", 1, "readonly", tips=("request_policy:all_shards", "nondeterministic_output"),
         since="1.0.0", complexity="O(1)",
         summary="Returns a random key name from the database.")
def randomkey(c, argv):
    return c.server.keyspace.random_key()


# ---------------------------------------------------------------- OBJECT

OBJECT = container("object", -2, group="generic", since="2.2.3",
                   summary="A container for object introspection commands.")

_LFU_NOT_SELECTED = ("ERR An LFU maxmemory policy is not selected, access frequency not "
                     "tracked. Please note that when switching between policies at runtime "
                     "LRU and LFU data will take some time to adjust.")
_LFU_SELECTED = ("ERR An LFU maxmemory policy is selected, idle time not tracked. Please "
                 "note that when switching between policies at runtime LRU and LFU data "
                 "will take some time to adjust.")


def _lfu_policy(c) -> bool:
    return "lfu" in c.server.settings.maxmemory_policy


@subcommand(OBJECT, "encoding", 3, "readonly", tips=("nondeterministic_output",),
         keys=(2, 2, 1), since="2.2.3",
            complexity="O(1)", summary="Returns the internal encoding of a Redis object.",
         key_specs=[key_spec(["RO"], 2)])
def object_encoding(c, argv):
    value = peek_live(c.server.keyspace, argv[2], miss_event=False)
    if value is None:
        return None
    return OBJECT_ENCODINGS[type(value)](value).encode()


@subcommand(OBJECT, "refcount", 3, "readonly", tips=("nondeterministic_output",),
         keys=(2, 2, 1), since="2.2.3",
            complexity="O(1)", summary="Returns the reference count of a value of a key.",
         key_specs=[key_spec(["RO"], 2)])
def object_refcount(c, argv):
    value = peek_live(c.server.keyspace, argv[2], miss_event=False)
    if value is None:
        return None
    if type(value) is bytes and string_encoding(value) == "int" and \
            0 <= int(value) < OBJ_SHARED_INTEGERS and _shared_integers(c):
        return OBJ_SHARED_REFCOUNT
    return 1


def _shared_integers(c) -> bool:
    """Redis stops sharing integer objects when maxmemory evicts by LRU or LFU
    (each key needs its own access time)."""
    settings = c.server.settings
    policy = settings.maxmemory_policy
    return settings.maxmemory == 0 or not ("lru" in policy or "lfu" in policy)


@subcommand(OBJECT, "idletime", 3, "readonly", tips=("nondeterministic_output",),
         keys=(2, 2, 1), since="2.2.3",
            complexity="O(1)",
            summary="Returns the time since the last access to a Redis object.",
         key_specs=[key_spec(["RO"], 2)])
def object_idletime(c, argv):
    ks = c.server.keyspace
    if peek_live(ks, argv[2], miss_event=False) is None:
        return None
    if _lfu_policy(c):
        raise ReplyError(_LFU_SELECTED)
    return ks.idle_seconds(argv[2])


@subcommand(OBJECT, "freq", 3, "readonly", tips=("nondeterministic_output",),
         keys=(2, 2, 1), since="4.0.0",
            complexity="O(1)",
            summary="Returns the logarithmic access frequency counter of a Redis object.",
         key_specs=[key_spec(["RO"], 2)])
def object_freq(c, argv):
    if peek_live(c.server.keyspace, argv[2], miss_event=False) is None:
        return None
    if not _lfu_policy(c):
        raise ReplyError(_LFU_NOT_SELECTED)
    return c.server.keyspace.lfu_frequency(argv[2])


_OBJECT_HELP = [
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
]


@subcommand(OBJECT, "help", 2, "loading stale", since="6.2.0", complexity="O(1)",
            summary="Returns helpful text about the different subcommands.")
def object_help(c, argv):
    return [Status(line) for line in _OBJECT_HELP]
