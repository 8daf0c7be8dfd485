"""Server commands: CONFIG INFO DBSIZE FLUSHALL FLUSHDB TIME LASTSAVE DEBUG SHUTDOWN MONITOR.

Replies and errors are those of redis-server 7.0.15 in cluster mode. DEBUG is enabled
by default here (enable-debug-command defaults to yes; Redis 7's default is no): test
suites use DEBUG SLEEP to simulate a stuck node, and DEBUG SET-ACTIVE-EXPIRE to freeze
expiry. `--enable-debug-command no|local` restricts it as Redis does.
"""
import time

from loguru import logger

from commands.data.value_types import OBJECT_ENCODINGS, string_encoding
from commands.server import info
from commands.server.args import SYNTAX_ERROR
from commands.server.resp import OK, Raw, ReplyError, Status, Verbatim
from commands.server.config_table import lookup
from commands.server.settings import ConfigSetError, SettingError
from commands.server.table import command, container, subcommand

_ADMIN = "admin noscript loading stale"
_NODES_ALL_OK = ("request_policy:all_nodes", "response_policy:all_succeeded")
_SHARDS_ALL_OK = ("request_policy:all_shards", "response_policy:all_succeeded")


# ---------------------------------------------------------------- CONFIG

CONFIG = container("config", -2, group="server", since="2.0.0",
                   summary="A container for server configuration commands")

_CONFIG_HELP = [
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
]


@subcommand(CONFIG, "get", -3, _ADMIN, since="2.0.0",
            summary="Get the values of configuration parameters",
            complexity="O(N) when N is the number of configuration parameters provided")
def config_get(c, argv):
    """Every pattern in turn (7.0 takes several). An exact name (or alias) is answered
    under the spelling it was asked with and finds hidden parameters too; a pattern
    lists names and aliases alike, each once, as Redis's configGetCommand does."""
    settings = c.server.settings
    found = {}                        # lowercased name -> (name as answered, value)
    for raw in argv[2:]:
        pattern = raw.decode("utf-8", "replace")
        if not any(ch in pattern for ch in "*?["):
            registered, setting = lookup(pattern)
            if setting is not None and registered not in found:
                found[registered] = (pattern, settings.format(setting))
            continue
        for name, value in settings.get_matching(pattern).items():
            found.setdefault(name, (name, value))
    return {name.encode(): value.encode() for name, value in found.values()}


@subcommand(CONFIG, "set", -4, _ADMIN, tips=_NODES_ALL_OK, since="2.0.0",
            summary="Set configuration parameters to the given values",
            complexity="O(N) when N is the number of configuration parameters provided")
def config_set(c, argv):
    """All pairs or none (commands/server/settings.py: Settings.set_many)."""
    if len(argv) % 2:
        raise ReplyError(SYNTAX_ERROR)
    pairs = [(argv[i].decode("utf-8", "replace"),
              argv[i + 1].decode("utf-8", "replace"))
             for i in range(2, len(argv), 2)]
    settings = c.server.settings
    try:
        settings.set_many(pairs, loading=c.server.loading is not None,
                          protected_ok=protected_action_allowed(
                              settings.enable_protected_configs, c))
    except ConfigSetError as exc:
        raise ReplyError(str(exc))
    return OK


def protected_action_allowed(option: str, c) -> bool:
    """Redis's allowProtectedAction: 'yes', or 'local' for a loopback client."""
    if option == "yes":
        return True
    if option == "local":
        host = c.addr_text.rsplit(":", 1)[0]
        return c.unix_socket or host.startswith("127.") or host in ("::1", "localhost") or \
            host.startswith("::ffff:127.")
    return False


@subcommand(CONFIG, "resetstat", 2, _ADMIN, since="2.0.0",
            summary="Reset the stats returned by INFO", complexity="O(1)")
def config_resetstat(c, argv):
    c.server.reset_stats()
    return OK


@subcommand(CONFIG, "rewrite", 2, _ADMIN, since="2.8.0",
            summary="Rewrite the configuration file with the in memory configuration",
            complexity="O(1)")
def config_rewrite(c, argv):
    try:
        c.server.settings.rewrite()
    except SettingError as exc:
        raise ReplyError("ERR %s" % exc)
    except OSError as exc:
        logger.warning("CONFIG REWRITE failed: {}", exc)
        raise ReplyError("ERR Rewriting config file: %s" % (exc.strerror or exc))
    logger.info("CONFIG REWRITE executed with success.")
    return OK


@subcommand(CONFIG, "help", 2, "loading stale", since="5.0.0", complexity="O(1)",
            summary="Show helpful text about the different subcommands")
def config_help(c, argv):
    return [Status(line) for line in _CONFIG_HELP]


# ---------------------------------------------------------------- INFO and stats

@command("info", -1, "loading stale", group="server", categories=("@dangerous",),
         tips=("nondeterministic_output", "request_policy:all_shards",
               "response_policy:special"),
         summary="Get information and statistics about the server",
         complexity="O(1)")
def info_(c, argv):
    text = info.generate(c.server, info.select_sections(argv[1:])).encode()
    return Verbatim(text) if c.resp3 else text


@command("dbsize", 1, "readonly fast", group="server", categories=("@keyspace",),
         tips=("request_policy:all_shards", "response_policy:agg_sum"),
         summary="Return the number of keys in the selected database", complexity="O(1)")
def dbsize(c, argv):
    return c.server.keyspace.size


def _flush(c, argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"async", b"sync")):
        raise ReplyError(SYNTAX_ERROR)
    # ASYNC frees in the background in Redis; dropping our dicts is already O(1) for us
    # apart from the garbage collector, so both modes flush at once.
    c.server.keyspace.flush()
    return OK


@command("flushall", -1, "write", group="server", categories=("@keyspace", "@dangerous"),
         tips=_SHARDS_ALL_OK, summary="Remove all keys from all databases",
         complexity="O(N) where N is the total number of keys in all databases")
def flushall(c, argv):
    return _flush(c, argv)


@command("flushdb", -1, "write", group="server", categories=("@keyspace", "@dangerous"),
         tips=_SHARDS_ALL_OK, summary="Remove all keys from the current database",
         complexity="O(N) where N is the number of keys in the selected database")
def flushdb(c, argv):
    return _flush(c, argv)


@command("time", 1, "loading stale fast", group="server",
         tips=("nondeterministic_output",), summary="Return the current server time",
         since="2.6.0", complexity="O(1)")
def time_(c, argv):
    now = time.time()
    seconds = int(now)
    return [b"%d" % seconds, b"%d" % int((now - seconds) * 1e6)]


# ---------------------------------------------------------------- DEBUG

_DEBUG_HELP = [
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "OBJECT <key>",
    "    Show low level info about the `key` and associated value.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
]


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
        raise ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. "
                         "Try DEBUG HELP." % argv[1].decode("utf-8", "replace"))
    return handler(c, argv)


def _debug_sleep(c, argv):
    # Deliberately a blocking time.sleep, not gevent.sleep: Redis's DEBUG SLEEP stops the
    # whole server (clients and the cluster bus), which is how tests simulate a stuck
    # node. Like atof(), a non-number sleeps 0 seconds.
    time.sleep(max(0.0, _atof(argv[2])))
    return OK


def _atof(raw: bytes) -> float:
    """C atof: the longest numeric prefix, 0 when there is none."""
    text = raw.decode("ascii", "replace").strip()
    for end in range(len(text), 0, -1):
        try:
            value = float(text[:end])
        except ValueError:
            continue
        return value if value == value else 0.0   # nan -> 0
    return 0.0


def _debug_object(c, argv):
    ks = c.server.keyspace
    key = argv[2]
    value = ks.peek(key)
    if value is None:
        raise ReplyError("ERR no such key")
    encoding = OBJECT_ENCODINGS[type(value)](value)
    return Status("Value at:0x%x refcount:1 encoding:%s serializedlength:%d lru:%d "
                  "lru_seconds_idle:%d" % (id(value), encoding, _serialized_length(value),
                                           ks.lru.get(key, ks.lru_clock) & 0xFFFFFF,
                                           ks.idle_seconds(key)))


def _serialized_length(value) -> int:
    """An estimate of the RDB length: Redis stores small integers in 2-5 bytes and strings
    with a 1-5 byte length prefix; we do not LZF-compress, so long repetitive strings come
    out longer than Redis's figure."""
    if type(value) is bytes and string_encoding(value) == "int":
        number = int(value)
        if -2 ** 7 <= number < 2 ** 7:
            return 2
        if -2 ** 15 <= number < 2 ** 15:
            return 3
        if -2 ** 31 <= number < 2 ** 31:
            return 5
    if type(value) not in (bytes, bytearray):
        return 0
    n = len(value)
    return n + (1 if n < 64 else 2 if n < 16384 else 5)


def _debug_set_active_expire(c, argv):
    # atoi() semantics: anything non-numeric is 0, any non-zero number enables.
    c.server.active_expire_enabled = _atof(argv[2]) != 0
    return OK


def _debug_help(c, argv):
    return [Status(line) for line in _DEBUG_HELP]


_DEBUG = {(b"sleep", 3): _debug_sleep, (b"object", 3): _debug_object,
          (b"set-active-expire", 3): _debug_set_active_expire, (b"help", 2): _debug_help}


def register_debug(name: bytes, handler, argc=None) -> None:
    """Add a DEBUG subcommand defined next to what it inspects (DIGEST and DIGEST-VALUE
    live with the DUMP codecs in commands/families/dump.py). argc counts DEBUG and the
    subcommand name too; None accepts any number of arguments."""
    _DEBUG[(name, argc)] = handler


# ---------------------------------------------------------------- SHUTDOWN and MONITOR

@command("shutdown", -1, _ADMIN + " no-multi allow-busy", group="server",
         summary="Synchronously save the dataset to disk and then shut down the server",
         complexity="O(N) when saving, where N is the total number of keys in all databases")
def shutdown(c, argv):
    options = set()
    for raw in argv[1:]:
        option = raw.lower()
        if option not in (b"nosave", b"save", b"now", b"force", b"abort"):
            raise ReplyError(SYNTAX_ERROR)
        options.add(option)
    if {b"nosave", b"save"} <= options or (b"abort" in options and len(argv) > 2):
        raise ReplyError(SYNTAX_ERROR)
    server = c.server
    if b"abort" in options:
        if not server.shutdown_waiting:
            raise ReplyError("ERR No shutdown in progress.")
        server.shutdown_aborted = True
        logger.info("Shutdown manually aborted.")
        return OK
    if not wait_for_replicas(server, now=b"now" in options):
        raise ReplyError("ERR Errors trying to SHUTDOWN. Check logs.")
    # prepareForShutdown: the final save (with save points, or SAVE; not with NOSAVE)
    # happens here, so a failure is this client's error reply and the node stays up;
    # FORCE exits all the same. Like Redis, a successful SHUTDOWN sends no reply: the
    # connection is closed as the node exits.
    logger.warning("User requested shutdown...")
    persistence = server.persistence
    if persistence is not None and b"nosave" not in options:
        if not persistence.shutdown_save(force_save=b"save" in options) \
                and b"force" not in options:
            raise ReplyError("ERR Errors trying to SHUTDOWN. Check logs.")
    server.shutdown_requested(saved=True)
    c.close_after_reply = True
    return Raw(b"")


def wait_for_replicas(server, now: bool) -> bool:
    """shutdown-timeout: before its final save a shutdown (but SHUTDOWN NOW) lets
    lagging replicas catch up; False if SHUTDOWN ABORT cancelled it meanwhile."""
    repl = server.replication
    if now or repl is None or server.shutdown_waiting:
        return True
    server.shutdown_waiting, server.shutdown_aborted = True, False
    try:
        repl.wait_for_replicas_before_shutdown(server.settings.shutdown_timeout,
                                               lambda: server.shutdown_aborted)
    finally:
        server.shutdown_waiting = False
    return not server.shutdown_aborted


@command("monitor", 1, _ADMIN, group="server", since="1.0.0", complexity="",
         summary="Listen for all requests received by the server in real time")
def monitor(c, argv):
    if c.multi is not None:
        # Inside EXEC: a transaction expects one reply per command (Redis's wording).
        raise ReplyError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if not c.monitor:
        c.monitor = True
        c.server.monitors.add(c)
    return OK
