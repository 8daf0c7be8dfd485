"""DEBUG: the subcommands Redis's own test-suite, redis-cli and client libraries' tests use.

DEBUG is off by default, as in Redis 7 (`enable-debug-command no`; `local` allows it
from loopback clients, `yes` to all). Test suites turn it on: they use DEBUG SLEEP to
simulate a stuck node and DEBUG SET-ACTIVE-EXPIRE to freeze expiry. Replies and errors are redis-server 7.0.15's (debug.c).

    inspecting      OBJECT, LISTPACK, QUICKLIST, DIGEST, DIGEST-VALUE
    the server      SLEEP, SET-ACTIVE-EXPIRE, QUICKLIST-PACKED-THRESHOLD, CHANGE-REPL-ID,
                    RELOAD [MERGE] [NOFLUSH] [NOSAVE], LOG, STRINGMATCH-TEST
    clients' tests  PROTOCOL <type>, ERROR <text>
    the cluster     DROP-CLUSTER-PACKET-FILTER <type>, CLUSTERLINK KILL to|from|all <id>,
                    CLUSTER-ISOLATE <id> 0|1

DROP-CLUSTER-PACKET-FILTER and CLUSTERLINK behave like redis-server 7.0.15's.
CLUSTER-ISOLATE is our own: the machines the tests run on have no netem and no root, so
a partition is made inside the node. Cut node X off from the rest by isolating X on every
other node and every other node on X. Each cluster hook only sets state on the cluster
state machine (cluster/admin.py), through server.cluster_ops.

Subcommands Redis has for its C internals (SDSLEN, MALLCTL, HTSTATS, STRUCTSIZE...) or
for crashing the process (SEGFAULT, PANIC, OOM, ASSERT) are not implemented: they answer
DEBUG's unknown-subcommand error, and DEBUG HELP lists only what is here.
"""
import os
import random
import time

from loguru import logger

from cluster import messages as m
from commands.data.digest import ZERO, dataset_digest, object_digest
from commands.data.glob import match as glob_match
from commands.data.keyspace import Keyspace
from commands.data.numbers import parse_int64
from commands.data.value_codec import to_saved
from commands.data.value_types import OBJECT_ENCODINGS
from commands.data.numbers import strtod
from commands.persistence.rdb_save import SaveError
from commands.persistence.rdb_snapshot import load_into
from commands.rdb import RdbError, encode_value, listpack, quicklist
from commands.rdb.rdb_encode import hash_listpack, zset_listpack
from commands.server.args import positive_long_arg
from commands.server.resp import (OK, Bool, Push, Raw, ReplyError, SetReply, Status, Verbatim,
                                  encode_one)
from commands.server.settings import protected_action_allowed
from commands.server.settings import SettingError, parse_memory
from commands.server.table import command

_ADMIN = "admin noscript loading stale"
_NOT_INTEGER = "ERR value is not an integer or out of range"
_NO_SUCH_KEY = "ERR no such key"

# (name, argc or None for any) -> handler(c, argv); argc counts DEBUG and the name.
_DEBUG = {}


def _subcommand(name: bytes, argc=None):
    def register(handler):
        _DEBUG[(name, argc)] = handler
        return handler
    return register


_DEBUG_NOT_ALLOWED = (
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server.")


@command("debug", -2, _ADMIN, group="server", summary="A container for debugging commands",
         complexity="Depends on subcommand.")
def debug(c, argv):
    # DEBUG is one command with its own dispatch in Redis (not a container), hence its
    # own error for unknown subcommands and wrong argument counts.
    if not protected_action_allowed(c.server.settings.enable_debug_command, c):
        raise ReplyError(_DEBUG_NOT_ALLOWED)
    sub = argv[1].lower()
    handler = _DEBUG.get((sub, len(argv))) or _DEBUG.get((sub, None))
    if handler is None:
        raise _wrong_args(argv)
    return handler(c, argv)


def _wrong_args(argv) -> ReplyError:
    return ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. "
                      "Try DEBUG HELP." % argv[1].decode("utf-8", "replace"))


def _sleep_seconds(raw: bytes) -> float:
    """DEBUG SLEEP's time as Redis computes it: strtod's prefix (0 when none), made whole
    microseconds by a C cast, which on x86 turns inf, nan and anything past a long long
    into LLONG_MIN: a negative time, so no sleep at all."""
    micros = strtod(raw)[0] * 1e6
    if not (0 < micros < 2.0 ** 63):
        return 0.0
    # time.sleep() takes at most ~292 years (int64 nanoseconds); 31 years is as endless.
    return min(int(micros) / 1e6, 1e9)


def _atoi(raw: bytes) -> int:
    """C atoi: an optional sign and the digits that follow, 0 when there are none."""
    text = raw.decode("ascii", "replace").lstrip()
    end = 1 if text[:1] in ("-", "+") else 0
    while end < len(text) and text[end].isdigit():
        end += 1
    try:
        return int(text[:end])
    except ValueError:
        return 0


# ---------------------------------------------------------------- HELP

_HELP = [
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
    "CLUSTER-ISOLATE <node-id> <0|1>",
    "    Drop all cluster bus traffic to and from a node (1), or let it through (0).",
    "HELP",
    "    Prints this help.",
]


@_subcommand(b"help", 2)
def debug_help(c, argv):
    return [Status(line) for line in _HELP]


# ---------------------------------------------------------------- inspecting values

def _list_fill(settings) -> int:
    return settings.values.get("list-max-listpack-size", quicklist.DEFAULT_FILL)


@_subcommand(b"object", 3)
def debug_object(c, argv):
    """Redis's line; serializedlength is the value's exact RDB length as a SAVE would
    write it now (rdbSavedObjectLen), and a list adds its quicklist's shape (the nodes
    an RDB save cuts it into, as redis-server lays out a list it loads)."""
    ks = c.server.keyspace
    key = argv[2]
    value = ks.peek(key)              # dictFind: a logically expired key still answers
    if value is None:
        raise ReplyError(_NO_SUCH_KEY)
    settings = c.server.settings
    encoding = OBJECT_ENCODINGS[type(value)](value)
    kind, neutral, saved_encoding = to_saved(value)
    fill = _list_fill(settings)
    _, body = encode_value(kind, neutral, saved_encoding,
                           compress=settings.values["rdbcompression"], fill=fill)
    extra = ""
    if encoding == "quicklist":
        nodes = quicklist.split(neutral, fill)
        size = sum(len(blob) for _, blob in nodes)
        extra = (" ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d "
                 "ql_uncompressed_size:%d" % (
                     len(nodes), len(neutral) / len(nodes), quicklist.clamp_fill(fill),
                     settings.values.get("list-compress-depth", 0) != 0, size))
    return Status("Value at:0x%x refcount:1 encoding:%s serializedlength:%d lru:%d "
                  "lru_seconds_idle:%d%s" % (
                      id(value), encoding, len(body),
                      _access_word(ks, key) & 0xFFFFFF, ks.idle_seconds(key),
                      extra))


def _access_word(ks, key) -> int:
    """DEBUG OBJECT's lru: the key's LRU clock or LFU word (the clock when unknown)."""
    word = ks.access_word(key)
    return ks.lru_clock if word is None else word


def _lookup(c, key):
    """objectCommandLookupOrReply: an expired key is missing."""
    value = c.server.keyspace.get(key)
    if value is None:
        raise ReplyError(_NO_SUCH_KEY)
    return value


@_subcommand(b"listpack", 3)
def debug_listpack(c, argv):
    """Redis prints the listpack (lpRepr) on its stdout; we print it in our log."""
    value = _lookup(c, argv[2])
    if OBJECT_ENCODINGS[type(value)](value) != "listpack":
        raise ReplyError("ERR Not a listpack encoded object.")
    kind, neutral, _ = to_saved(value)
    blob = hash_listpack(neutral) if kind == "hash" else zset_listpack(neutral)
    entries = listpack.decode(blob)
    lines = ["{total bytes %d} {num entries %d}" % (len(blob), len(entries))]
    lines += ["{index %d} %r" % (i, entry) for i, entry in enumerate(entries)]
    logger.info("DEBUG LISTPACK {}:\n{}\n{{end}}", argv[2], "\n".join(lines))
    return Status("Listpack structure printed on stdout")


@_subcommand(b"quicklist", 3)
@_subcommand(b"quicklist", 4)
def debug_quicklist(c, argv):
    value = _lookup(c, argv[2])
    full = _atoi(argv[3]) if len(argv) == 4 else 0
    if OBJECT_ENCODINGS[type(value)](value) != "quicklist":
        raise ReplyError("ERR Not a quicklist encoded object.")
    _, neutral, _ = to_saved(value)
    fill = _list_fill(c.server.settings)
    nodes = quicklist.split(neutral, fill)
    lines = ["{count : %d}" % len(neutral), "{len : %d}" % len(nodes),
             "{fill : %d}" % quicklist.clamp_fill(fill)]
    for i, (container, blob) in enumerate(nodes):
        plain = container == quicklist.PLAIN
        lines.append("{quicklist node(%d)" % i)
        lines.append("{container : %s, size: %d}" % ("PLAIN" if plain else "PACKED", len(blob)))
        if full:
            lines.append("  %r" % ([blob] if plain else listpack.decode(blob),))
        lines.append("}")
    logger.info("DEBUG QUICKLIST {}:\n{}", argv[2], "\n".join(lines))
    return Status("Quicklist structure printed on stdout")


@_subcommand(b"digest", 2)
def debug_digest(c, argv):
    """One hex digest of the whole data set (commands/data/digest.py), as Redis's: every
    key in the table counts, also one whose TTL passed but is not yet removed."""
    ks = c.server.keyspace
    expires = ks.expires
    items = ((key, value, key in expires) for key, value in ks.items())
    return Status(dataset_digest(items).hex())


@_subcommand(b"digest-value")
def debug_digest_value(c, argv):
    """One hex digest per key's value, forty zeros for a missing key; like Redis, a
    logically expired key is still digested."""
    ks = c.server.keyspace
    replies = []
    for key in argv[2:]:
        value = ks.peek(key)
        digest = ZERO if value is None else object_digest(value, key in ks.expires)
        replies.append(Status(digest.hex()))
    return replies


# ---------------------------------------------------------------- the server

@_subcommand(b"sleep", 3)
def debug_sleep(c, argv):
    # Deliberately a blocking time.sleep, not gevent.sleep: Redis's DEBUG SLEEP stops the
    # whole server (clients and the cluster bus), which is how tests simulate a stuck
    # node. A non-number sleeps 0 seconds.
    time.sleep(_sleep_seconds(argv[2]))
    return OK


@_subcommand(b"populate", 3)
@_subcommand(b"populate", 4)
@_subcommand(b"populate", 5)
def debug_populate(c, argv):
    """DEBUG POPULATE count [prefix] [size]: keys prefix:0.. (default "key") holding
    "value:N", cut or padded with zero bytes to `size`; existing keys are left alone.
    As in Redis, the slots are not checked, nothing is propagated, and the key names are
    cut to the 127 bytes of Redis's buffer."""
    count = positive_long_arg(argv[2])
    size = positive_long_arg(argv[4]) if len(argv) == 5 else 0
    prefix = argv[3] if len(argv) >= 4 else b"key"
    ks = c.server.keyspace
    for j in range(count):
        key = (b"%s:%d" % (prefix, j))[:127]
        if ks.get(key) is not None:
            continue
        value = b"value:%d" % j
        if size:
            value = value[:size].ljust(size, b"\0")
        ks.set(key, value)
    return OK


@_subcommand(b"set-active-expire", 3)
def debug_set_active_expire(c, argv):
    # atoi() semantics: anything non-numeric is 0, any non-zero number enables.
    c.server.active_expire_enabled = _atoi(argv[2]) != 0
    return OK


@_subcommand(b"quicklist-packed-threshold", 3)
def debug_quicklist_packed_threshold(c, argv):
    """From which size a list element gets a PLAIN quicklist node of its own: our lists
    are deques, so it shapes how lists are written (RDB, DUMP, full sync) and what DEBUG
    OBJECT reports, as it shapes Redis's in-memory quicklists."""
    try:
        size = parse_memory(argv[2].decode("utf-8", "replace"))
    except SettingError:
        size = None
    if size is None or not quicklist.set_packed_threshold(size):
        raise ReplyError("ERR argument must be a memory value bigger than 1 and smaller "
                         "than 4gb")
    return OK


@_subcommand(b"change-repl-id", 2)
def debug_change_repl_id(c, argv):
    logger.warning("Changing replication IDs after receiving DEBUG change-repl-id")
    c.server.replication.change_replid()
    return OK


@_subcommand(b"log", 3)
def debug_log(c, argv):
    logger.warning("DEBUG LOG: {}", argv[2].decode("utf-8", "replace"))
    return OK


@_subcommand(b"stringmatch-test", 2)
def debug_stringmatch_test(c, argv):
    """Redis's stringmatchlen_fuzz_test: random patterns against random strings, only to
    show the matcher neither crashes nor hangs (its results are not checked)."""
    rng = random.Random()
    for _ in range(200):              # about 0.2 s: the node serves no one meanwhile
        pattern = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 32)))
        string = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 32)))
        glob_match(pattern, string)
        glob_match(pattern, string, nocase=True)
    return Status("Apparently Redis did not crash: test passed")


_RELOAD_OPTIONS = (b"merge", b"noflush", b"nosave")


@_subcommand(b"reload")
def debug_reload(c, argv):
    """Save the RDB file and load it back (the default), or load the file as it is
    (NOSAVE), into an emptied data set or (NOFLUSH) over the current one, the file's
    keys winning with MERGE. Where Redis stops the process on a key present both in
    memory and in the file (NOFLUSH without MERGE), we answer the load error and keep
    the data set unchanged."""
    options = set()
    for raw in argv[2:]:
        option = raw.lower()
        if option not in _RELOAD_OPTIONS:
            raise ReplyError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE "
                             "options.")
        options.add(option)
    server = c.server
    persistence = server.persistence
    if persistence is None:
        raise ReplyError("ERR persistence is not set up")
    if b"nosave" not in options:
        try:
            persistence.save()
        except SaveError:
            raise ReplyError("ERR") from None
    # The file's libraries replace ours, as emptyData empties them (not under NOFLUSH,
    # where a file with libraries is refused: merging them is not done here).
    loaded = _load_rdb_file(persistence.path, server.settings.values["rdbchecksum"],
                            None if b"noflush" in options else server.functions)
    if loaded is None:
        raise ReplyError("ERR Error trying to load the RDB dump")
    ks = server.keyspace
    if b"noflush" not in options:
        ks.replace_with(loaded)
    else:
        keys = [key for table in loaded.slots if table for key in table]
        if b"merge" not in options and any(ks.peek(key) is not None for key in keys):
            logger.warning("DEBUG RELOAD NOFLUSH: the RDB file holds keys the data set "
                           "has too, and MERGE was not given")
            raise ReplyError("ERR Error trying to load the RDB dump")
        for key in keys:
            ks.set(key, loaded.peek(key))
            when = loaded.expires.get(key)
            if when is not None:
                ks.expire_at(key, when)
    logger.warning("DB reloaded by DEBUG RELOAD")
    return OK


def _load_rdb_file(path: str, verify_checksum: bool, functions=None):
    """A new Keyspace holding the RDB file's keys, or None when it cannot be loaded.
    The file's function libraries replace `functions`' (emptyData empties them too)."""
    loaded = Keyspace()
    try:
        with open(path, "rb") as f:
            load_into(loaded, f, verify_checksum=verify_checksum, functions=functions)
    except (OSError, RdbError) as exc:
        logger.warning("DEBUG RELOAD: error loading {}: {}", os.path.basename(path), exc)
        return None
    return loaded


# ---------------------------------------------------------------- clients' tests

# The test values of DEBUG PROTOCOL, per type, as Redis sends them; our encoder turns
# each into RESP3 or into Redis's RESP2 fallback (a set or map becomes an array, a
# double or verbatim string a bulk string, true/false the integers 1/0).
_PROTOCOL_VALUES = {
    b"string": lambda: b"Hello World",
    b"integer": lambda: 12345,
    b"double": lambda: 3.141,
    b"null": lambda: None,
    b"array": lambda: [0, 1, 2],
    b"set": lambda: SetReply([0, 1, 2]),
    b"map": lambda: {0: Bool(False), 1: Bool(True), 2: Bool(False)},
    b"true": lambda: Bool(True),
    b"false": lambda: Bool(False),
    b"verbatim": lambda: Verbatim(b"This is a verbatim\nstring"),
}
_BIGNUM = b"1234567999999999999999999999999999999"
_AFTER_ATTRIBUTE = b"Some real reply following the attribute"
_AFTER_PUSH = b"Some real reply following the push reply"


@_subcommand(b"protocol", 3)
def debug_protocol(c, argv):
    name = argv[2].lower()
    make = _PROTOCOL_VALUES.get(name)
    if make is not None:
        return make()
    if name == b"bignum":
        # RESP3's big number; RESP2 gets it as a bulk string.
        return Raw(b"(%s\r\n" % _BIGNUM) if c.resp3 else _BIGNUM
    if name == b"attrib":
        # An attribute is no reply by itself: a real one follows it. RESP2 has no
        # attributes, so only the real reply is sent.
        if not c.resp3:
            return _AFTER_ATTRIBUTE
        return Raw(b"|1\r\n" + encode_one(b"key-popularity", True)
                   + encode_one([b"key:123", 90], True) + encode_one(_AFTER_ATTRIBUTE, True))
    if name == b"push":
        if not c.resp3:
            raise ReplyError("ERR RESP2 is not supported by this command")
        # A push is out of band: a normal reply follows, so a client that drops pushes
        # still reads one reply for the command.
        return Raw(encode_one(Push([b"server-cpu-usage", 42]), True)
                   + encode_one(_AFTER_PUSH, True))
    raise ReplyError("ERR Wrong protocol type name. Please use one of the following: "
                     "string|integer|double|bignum|null|array|set|map|attrib|push|"
                     "verbatim|true|false")


@_subcommand(b"error", 3)
def debug_error(c, argv):
    """The argument as the error reply, verbatim (no ERR prefix added); newlines become
    spaces, as in Redis."""
    return Raw(b"-" + argv[2].replace(b"\r", b" ").replace(b"\n", b" ") + b"\r\n")


# ---------------------------------------------------------------- the cluster

@_subcommand(b"drop-cluster-packet-filter", 3)
def debug_drop_cluster_packet_filter(c, argv):
    """Redis stores any long and compares it with each received packet's type, so -1
    (and any other number that is no type) drops nothing. -2 drops every type, as in
    Redis 7.2+ and Valkey; 7.0 has no such value, and there it matches nothing either."""
    value = parse_int64(argv[2])
    if value is None:
        raise ReplyError(_NOT_INTEGER)
    if not -2 <= value < m.MESSAGE_TYPE_COUNT:
        value = -1
    c.server.cluster_ops.set_drop_packet_filter(value)
    return OK


@_subcommand(b"clusterlink", 5)
def debug_clusterlink(c, argv):
    """DEBUG CLUSTERLINK KILL to|from|all <node-id>: the links close, and the cron
    reconnects the outbound one on its next run, as in Redis.

    Two deliberate differences from 7.0.15: an unknown direction gets only its error
    (Redis replies the error and then +OK, two replies to one command), and killing the
    links of myself replies +OK (there are none; 7.0.15 crashes on it)."""
    if argv[2].lower() != b"kill":
        raise _wrong_args(argv)
    node_id = argv[4].decode("utf-8", "replace")
    # Redis looks the node up before it looks at the direction.
    if c.server.cluster.node(node_id) is None:
        raise ReplyError("ERR Unknown node %s" % node_id)
    c.server.cluster_ops.run("kill_links", argv[3].decode("utf-8", "replace"), node_id)
    return OK


@_subcommand(b"cluster-isolate", 4)
def debug_cluster_isolate(c, argv):
    """DEBUG CLUSTER-ISOLATE <node-id> 0|1: with 1, every packet from the node is dropped
    on arrival and nothing is sent to it; links stay up, so the node sees silence (pings
    pending, then PFAIL), as behind a firewall that drops. 0 lets traffic through again."""
    view = c.server.cluster
    node_id = argv[2].decode("utf-8", "replace")
    flag = parse_int64(argv[3])
    if flag not in (0, 1):
        raise ReplyError("ERR CLUSTER-ISOLATE takes 0 or 1")
    if flag and view.node(node_id) is None:
        raise ReplyError("ERR Unknown node %s" % node_id)
    if node_id == view.myself.name:
        raise ReplyError("ERR Can't isolate myself")
    # Unisolating an id we no longer know is allowed: a forgotten node must not leave a
    # filter behind that cannot be removed.
    c.server.cluster_ops.isolate_node(node_id, bool(flag))
    if not flag and view.node(node_id) is not None:
        # A PING sent while isolated was dropped, not delayed: unlike a firewall's drop
        # (TCP retransmits it after the heal), nothing would ever answer it, and the node
        # would stay PFAIL while its own packets arrive again. Reconnecting the outbound
        # link sends a fresh PING, keeping the pending ping's time (link_connected).
        c.server.cluster_ops.run("kill_links", "to", node_id)
    return OK
