"""Server commands: CONFIG INFO DBSIZE FLUSHALL FLUSHDB TIME LASTSAVE SHUTDOWN MONITOR.

Replies and errors are those of redis-server 7.0.15 in cluster mode. DEBUG is in
commands/families/debug_cmds.py.
"""
import time

from loguru import logger

from commands.server import info
from commands.server.args import SYNTAX_ERROR
from commands.server.resp import OK, Raw, ReplyError, Status, Verbatim
from commands.server.config_table import lookup
from commands.server.settings import protected_action_allowed
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


@command("swapdb", 3, "write fast", group="server", categories=("@keyspace", "@dangerous"),
         since="4.0.0", summary="Swaps two Redis databases",
         complexity="O(N) where N is the count of clients watching or blocking on keys from "
                    "both databases.")
def swapdb(c, argv):
    # A cluster node has only database 0 (Redis checks this before its arguments).
    raise ReplyError("ERR SWAPDB is not allowed in cluster mode")


@command("time", 1, "loading stale fast", group="server",
         tips=("nondeterministic_output",), summary="Return the current server time",
         since="2.6.0", complexity="O(1)")
def time_(c, argv):
    now = time.time()
    seconds = int(now)
    return [b"%d" % seconds, b"%d" % int((now - seconds) * 1e6)]


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
    # A script past busy-reply-threshold: only SHUTDOWN NOSAVE (the saved data would
    # hold the script's half-done writes).
    script = server.yielding_script
    if script is not None and script.busy and b"nosave" not in options:
        raise script.busy_error
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
