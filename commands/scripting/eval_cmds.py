"""EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD / EXISTS / FLUSH / HELP (Redis 7.0's
eval.c).

The script cache maps the sha1 of a script's body to its compiled function and its
shebang flags; EVAL adds to it, SCRIPT FLUSH throws it away with the Lua VM itself (as
Redis's scriptingReset does, so nothing a script left in the VM survives). Routing sees
EVAL's declared keys (`numkeys` of them after the script) like any command's keys, so
CROSSSLOT / MOVED / ASK / TRYAGAIN come from the ordinary path before the script runs.
"""
from commands.data.keyspace import slot_of
from commands.data.numbers import parse_int64
from commands.scripting.lua_engine import LuaEngine, ScriptRun, kill_run, sha1hex
from commands.server.executor import (MASTERDOWN_ERROR, MISCONF_ERROR, NOREPLICAS_ERROR,
                                      READONLY_REPLICA, feed_monitors)
from commands.server.resp import OK, ReplyError, Status
from commands.server.routing import DOWN_READONLY, redirect
from commands.server.table import COMMANDS, command, container, subcommand

NOSCRIPT = ReplyError("NOSCRIPT No matching script. Please use EVAL.")
_NOT_AN_INTEGER = ReplyError("ERR value is not an integer or out of range")

# Shebang flags (script.c scripts_flags_def).
_SHEBANG_FLAGS = frozenset(("no-writes", "allow-oom", "allow-stale", "no-cluster",
                            "allow-cross-slot-keys"))
_EVAL_FLAGS = "noscript skip-monitor may-replicate no-mandatory-keys stale"
SCRIPT_ENTRY_BYTES = 112        # dictEntry + the sha's sds + the body's robj and sds header
_EVAL_RO_FLAGS = "noscript skip-monitor no-mandatory-keys stale readonly"


class Script:
    """A cached script: its compiled function and its shebang flags (None: no shebang,
    Redis's compatibility mode)."""

    def __init__(self, body: bytes, function, flags):
        self.body = body
        self.function = function
        self.flags = flags


class ScriptCache:
    def __init__(self, server):
        self.server = server
        self.engine = LuaEngine(server)
        self.scripts = {}                 # sha (str, lower case) -> Script

    def load(self, body: bytes):
        """The Script for `body`, compiling and caching it; or a ReplyError."""
        sha = sha1hex(body)
        script = self.scripts.get(sha)
        if script is not None:
            return sha, script
        flags, shebang_len = parse_shebang(body)
        # The shebang line is left out, its line feed kept: line numbers stay the user's.
        function = self.engine.compile(body[shebang_len:])
        if isinstance(function, ReplyError):
            return sha, function
        script = self.scripts[sha] = Script(body, function, flags)
        return sha, script

    def flush(self) -> None:
        self.engine = LuaEngine(self.server)
        self.scripts = {}

    def vm_memory(self) -> int:
        """INFO used_memory_lua: the Lua VM's heap (collectgarbage counts kilobytes)."""
        return int(self.engine.lua.eval("collectgarbage('count')") * 1024)

    def cache_memory(self) -> int:
        """INFO used_memory_scripts_eval: the cached bodies, with Redis's per-script
        entry, sha and object overhead."""
        return sum(len(script.body) + SCRIPT_ENTRY_BYTES for script in self.scripts.values())


def script_cache(server) -> ScriptCache:
    cache = server.scripting
    if cache is None:
        cache = server.scripting = ScriptCache(server)
    return cache


def parse_shebang(body: bytes):
    """(set of flags or None, length of the shebang line) — evalExtractShebangFlags."""
    if not body.startswith(b"#!"):
        return None, 0
    end = body.find(b"\n")
    if end < 0:
        raise ReplyError("ERR Invalid script shebang")
    parts = body[:end].decode("utf-8", "surrogateescape").split()
    if not parts:
        raise ReplyError("ERR Invalid engine in script shebang")
    if parts[0] != "#!lua":
        raise ReplyError("ERR Unexpected engine in script shebang: %s" % parts[0])
    flags = set()
    for part in parts[1:]:
        if not part.startswith("flags="):
            raise ReplyError("ERR Unknown lua shebang option: %s" % part)
        for flag in part[6:].split(","):
            if flag not in _SHEBANG_FLAGS:
                raise ReplyError("ERR Unexpected flag in script shebang: %s" % flag)
            flags.add(flag)
    return frozenset(flags), end


def eval_keys(argv) -> list:
    """EVAL's keys for routing and COMMAND GETKEYS: the `numkeys` arguments after it."""
    if len(argv) < 3:
        return []
    n = parse_int64(argv[2])
    if n is None or n <= 0 or n > len(argv) - 3:
        return []
    return list(range(3, 3 + n))


def _numkeys(argv) -> int:
    n = parse_int64(argv[2])
    if n is None:
        raise _NOT_AN_INTEGER
    if n > len(argv) - 3:
        raise ReplyError("ERR Number of keys can't be greater than number of args")
    if n < 0:
        raise ReplyError("ERR Number of keys can't be negative")
    return n


def _run(c, argv, by_sha: bool, read_only_cmd: bool):
    # EVAL is skip-monitor: like Redis's evalCommand it feeds MONITOR itself, first, so
    # the script's line comes before those of the commands it runs.
    if c.server.monitors:
        feed_monitors(c, argv)
    cache = script_cache(c.server)
    if by_sha:
        sha = argv[1].decode("latin-1").lower()
        script = cache.scripts.get(sha) if len(argv[1]) == 40 else None
        if script is not None and script.flags is not None:
            refuse_as_command(c, argv, script.flags)
    else:
        # evalGetCommandFlags: the shebang's flags count before the script compiles.
        try:
            shebang_flags = parse_shebang(argv[1])[0]
        except ReplyError:
            shebang_flags = None            # the handler reports a bad shebang
        if shebang_flags is not None:
            refuse_as_command(c, argv, shebang_flags)
    numkeys = _numkeys(argv)
    if by_sha:
        if script is None:
            raise NOSCRIPT
    else:
        sha, script = cache.load(argv[1])
        if isinstance(script, ReplyError):
            raise script
    flags = script.flags
    check_script_flags(c, flags, read_only_cmd)
    read_only = read_only_cmd or (flags is not None and "no-writes" in flags)
    cross_slot = flags is None or "allow-cross-slot-keys" in flags
    run = ScriptRun(c, sha, read_only, cross_slot)
    run.allow_oom = flags is not None and "allow-oom" in flags
    keys = argv[3:3 + numkeys]
    reply = cache.engine.execute(script.function, run, keys, argv[3 + numkeys:])
    return reply


def refuse_as_command(c, argv, flags) -> None:
    """What processCommand refuses once EVAL or FCALL wear their script's flags
    (scriptFlagsToCmdFlags: a write unless no-writes, stale only with allow-stale). The
    executor let the command through on its static flags (not a write, stale); these
    are the checks that come out differently, in processCommand's order and with its
    generic texts: a write on a replica is MOVED to the master even for a READONLY
    client, then MISCONF, NOREPLICAS, READONLY, MASTERDOWN."""
    if c.is_master_link:
        return
    server = c.server
    if "no-writes" not in flags:
        view = server.cluster
        if view is not None:
            keys = eval_keys(argv)
            if keys:
                if not view.cluster_ok:
                    if server.settings.cluster_allow_reads_when_down:
                        raise DOWN_READONLY
                elif not view.myself.is_master:
                    slot = slot_of(argv[keys[0]])
                    owner = view.slots[slot]
                    if owner is not None and owner is not view.myself:
                        raise redirect("MOVED", slot, view.preferred_endpoint(owner),
                                       owner.port)
        if server.degraded:
            if server.misconf:
                raise MISCONF_ERROR
            if server.aof_misconf is not None:
                raise server.aof_misconf
            if server.noreplicas:
                raise NOREPLICAS_ERROR
        if server.read_only_replica:
            raise READONLY_REPLICA
    if server.masterdown and "allow-stale" not in flags:
        raise MASTERDOWN_ERROR


def check_script_flags(c, flags, read_only_cmd: bool) -> None:
    """scriptPrepareForRun: what a script's shebang flags forbid before it starts."""
    server = c.server
    running_stale = server.masterdown and not c.is_master_link
    if flags is None:
        if running_stale:
            raise MASTERDOWN_ERROR
        return
    if running_stale and "allow-stale" not in flags:
        raise ReplyError("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is "
                         "set to 'no' and 'allow-stale' flag is not set on the script.")
    if "no-cluster" in flags and server.cluster is not None:
        raise ReplyError("ERR Can not run script on cluster, 'no-cluster' flag is set.")
    if "no-writes" not in flags:
        if server.read_only_replica and not c.is_master_link:
            raise ReplyError("READONLY Can not run script with write flag on readonly replica")
        if read_only_cmd:
            raise ReplyError("ERR Can not execute a script with write flag using *_ro command.")
        # The no-writes flag implies allow-oom (scriptPrepareForRun).
        if "allow-oom" not in flags and server.maxmemory_on and \
                server.maxmemory.pre_command_oom:
            raise ReplyError("OOM allow-oom flag is not set on the script, can not run it "
                             "when used memory > 'maxmemory'")


@command("eval", -3, _EVAL_FLAGS, key_finder=eval_keys, group="scripting",
         categories=("@scripting",), since="2.6.0",
         complexity="Depends on the script that is executed.",
         summary="Execute a Lua script server side",
         key_specs=[{"flags": ["RW", "access", "update"],
                     "begin_search": {"index": 2}, "find_keys": {"unknown": None}}])
def eval_(c, argv):
    return _run(c, argv, by_sha=False, read_only_cmd=False)


@command("evalsha", -3, _EVAL_FLAGS, key_finder=eval_keys, group="scripting",
         categories=("@scripting",), since="2.6.0",
         complexity="Depends on the script that is executed.",
         summary="Execute a Lua script server side",
         key_specs=[{"flags": ["RW", "access", "update"],
                     "begin_search": {"index": 2}, "find_keys": {"unknown": None}}])
def evalsha(c, argv):
    return _run(c, argv, by_sha=True, read_only_cmd=False)


@command("eval_ro", -3, _EVAL_RO_FLAGS, key_finder=eval_keys, group="scripting",
         categories=("@scripting",), since="7.0.0",
         complexity="Depends on the script that is executed.",
         summary="Execute a read-only Lua script server side")
def eval_ro(c, argv):
    return _run(c, argv, by_sha=False, read_only_cmd=True)


@command("evalsha_ro", -3, _EVAL_RO_FLAGS, key_finder=eval_keys, group="scripting",
         categories=("@scripting",), since="7.0.0",
         complexity="Depends on the script that is executed.",
         summary="Execute a read-only Lua script server side")
def evalsha_ro(c, argv):
    return _run(c, argv, by_sha=True, read_only_cmd=True)


def _script_denies_oom(c, argv) -> bool:
    """evalGetCommandFlags + scriptFlagsToCmdFlags, for the maxmemory check: a script
    with a shebang is denyoom unless flagged allow-oom or no-writes; one without (or not
    known yet, or with a bad shebang: it fails later) is not -- its writes are checked
    one by one as it runs (lua_engine.py)."""
    if argv[0].lower().startswith(b"evalsha"):
        cache = c.server.scripting
        script = cache.scripts.get(argv[1].decode("latin-1").lower()) \
            if cache is not None and len(argv[1]) == 40 else None
        flags = script.flags if script is not None else None
    else:
        try:
            flags = parse_shebang(argv[1])[0]
        except ReplyError:
            return False
    return flags is not None and not flags & {"allow-oom", "no-writes"}


for _name in (b"eval", b"evalsha", b"eval_ro", b"evalsha_ro"):
    COMMANDS[_name].denyoom_finder = _script_denies_oom


# ---------------------------------------------------------------- SCRIPT

SCRIPT = container("script", -2, group="scripting", since="2.6.0",
                   summary="A container for Lua scripts management commands")

_SCRIPT_HELP = [
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
]


@subcommand(SCRIPT, "load", 3, "noscript stale", categories=("@scripting",),
            since="2.6.0", complexity="O(N) with N being the length in bytes of the script body.",
            summary="Load the specified Lua script into the script cache.",
            tips=("request_policy:all_nodes", "response_policy:all_succeeded"))
def script_load(c, argv):
    sha, script = script_cache(c.server).load(argv[2])
    if isinstance(script, ReplyError):
        raise script
    return sha.encode()


@subcommand(SCRIPT, "exists", -3, "noscript", categories=("@scripting",), since="2.6.0",
            complexity="O(N) with N being the number of scripts to check (so checking a "
                       "single script is an O(1) operation).",
            summary="Check existence of scripts in the script cache.",
            tips=("request_policy:all_shards", "response_policy:agg_logical_and"))
def script_exists(c, argv):
    scripts = script_cache(c.server).scripts
    return [1 if arg.decode("latin-1").lower() in scripts else 0 for arg in argv[2:]]


@subcommand(SCRIPT, "flush", -2, "noscript", categories=("@scripting",), since="2.6.0",
            complexity="O(N) with N being the number of scripts in cache",
            summary="Remove all the scripts from the script cache.",
            tips=("request_policy:all_nodes", "response_policy:all_succeeded"))
def script_flush(c, argv):
    if len(argv) == 3 and argv[2].lower() in (b"sync", b"async"):
        pass
    elif len(argv) != 2:
        raise ReplyError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    # Both modes free the cache at once: a dict and a Lua VM go in microseconds here.
    script_cache(c.server).flush()
    return OK


@subcommand(SCRIPT, "kill", 2, "noscript allow-busy", categories=("@scripting",),
            since="2.6.0", complexity="O(1)",
            summary="Kill the script currently in execution.",
            tips=("request_policy:all_shards", "response_policy:one_succeeded"))
def script_kill(c, argv):
    server = c.server
    cache = server.scripting
    run = cache.engine.run if cache is not None else None
    if run is None and server.functions is not None:
        run = server.functions.running
    kill_run(run, by_script_kill=True)
    return OK


@subcommand(SCRIPT, "help", 2, "loading stale", categories=("@scripting",), since="5.0.0",
            complexity="O(1)", summary="Show helpful text about the different subcommands")
def script_help(c, argv):
    return [Status(line) for line in _SCRIPT_HELP]
