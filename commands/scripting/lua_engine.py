"""The Lua VM scripts run in, and what `redis.call` does (Redis 7.0's script_lua.c and
script.c).

One Lua 5.1 VM per server (lupa.lua51 embeds the real Lua 5.1, Redis's version), built
on first use: sandbox.lua makes its globals read-only, removes what Redis removes (os, io,
debug, loadfile, ...) and defines the `redis` table on top of the Python functions
here. A script runs to completion inside the EVAL handler, without yielding, as EXEC's
commands do: no other client's command runs in the middle of it.

`redis.call` runs a command the way Redis's scriptCall does: lookup and arity, the
command's `noscript` flag, write refusal in read-only scripts, the cluster check (every key
must be served here and, unless the script allows cross-slot keys, all in one slot), then
the handler, with the statistics, MONITOR and propagation of commands/server/executor.py's
call_queued: the commands a script ran are what replicas and the AOF get (a unit of
more than one is wrapped in MULTI/EXEC), never the script itself.
"""
import hashlib
import os
import time

import gevent
import gevent.event

from loguru import logger
from lupa import lua51

from commands.data.keyspace import slot_of
from commands.scripting import lua_bit, lua_cjson, lua_cmsgpack, lua_struct
from commands.scripting.lua_values import LuaToReply, RespToLua
from commands.server.executor import (BUSY_SCRIPT_ERROR, account_call, feed_monitors,
                                      internal_error, lookup_command)
from commands.server.memory import OOM_ERROR
from commands.server.resp import ReplyError, encode

REDIS_VERSION = "7.0.15"
REDIS_VERSION_NUM = 0x07000F

# How a long script shares the process: the Lua count hook runs every HOOK_INSTRUCTIONS
# VM instructions (Redis's own figure; about a millisecond of Lua), and gives the gevent
# loop a turn once YIELD_INTERVAL has passed since the last one. So no greenlet (the
# cluster bus's pings and failure detection above all) waits more than about
# YIELD_INTERVAL plus one hook period for a script, far below any node timeout. The
# one thing that does not yield is a single long command called by the script (as in
# Redis, where it blocks everything too).
HOOK_INSTRUCTIONS = 100000
YIELD_INTERVAL = 0.05

_SANDBOX = os.path.join(os.path.dirname(__file__), "sandbox.lua")
_LOG_LEVELS = {0: "DEBUG", 1: "INFO", 2: "INFO", 3: "WARNING"}
_VERBOSITY = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3}

# Routing errors a command called from a script gets as its own text (script.c).
_CLUSTER_DOWN = "Script attempted to execute a command while the cluster is down"
_NON_LOCAL = "Script attempted to access a non local key in a cluster node"
_CROSS_SLOT = "Script attempted to access keys that do not hash to the same slot"


def sha1hex(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()


# What other clients get while a script is past busy-reply-threshold (server.c's
# slowevalerr / slowscripterr): each names the command that can kill it.
BUSY_EVAL_ERROR = BUSY_SCRIPT_ERROR
BUSY_FUNCTION_ERROR = ReplyError("BUSY Redis is busy running a script. You can only call "
                                 "FUNCTION KILL or SHUTDOWN NOSAVE.")
# FUNCTION LOAD gives up on a library body running longer than this (functions.c
# LOAD_TIMEOUT_MS); a master, or the AOF, is obeyed without a limit.
LOAD_TIMEOUT_MS = 500


class ScriptRun:
    """One running script or function: who runs it and what it may do."""

    def __init__(self, client, name: str, read_only: bool, allow_cross_slot: bool,
                 is_function: bool = False, argv=None):
        self.client = client
        self.name = name                  # sha or function name: "script: <name>"
        self.is_function = is_function    # FCALL: FUNCTION KILL stops it, not SCRIPT KILL
        self.argv = argv                  # the caller's command (FUNCTION STATS)
        self.busy_error = BUSY_FUNCTION_ERROR if is_function else BUSY_EVAL_ERROR
        self.read_only = read_only
        self.allow_cross_slot = allow_cross_slot
        self.resp3 = False                # redis.setresp
        self.slot = -1                    # the slot of the keys accessed so far
        self.wrote = False                # a write ran: SCRIPT KILL can no longer stop it
        self.allow_oom = False            # shebang flag allow-oom: no -OOM for its writes
        # redis.set_repl: 3 (ALL) propagates the commands run, 0 (NONE) nothing. AOF-only
        # and replicas-only (1, 2) still feed both: the propagator has one stream for both.
        self.repl = 3
        self.start = time.monotonic()
        self.last_yield = self.start
        self.busy = False                 # past busy-reply-threshold: others get -BUSY
        self.killed = False               # SCRIPT KILL asked
        # Set when busy or done; made at the first yield (only then can anyone wait:
        # most scripts never yield, and an Event costs a few microseconds per call).
        self.changed = None

    def wait_busy_or_done(self, until_done: bool = False) -> None:
        """Another client's command waits here while the script yields the loop."""
        while not self.changed.is_set() or (until_done and not self.done):
            self.changed.wait(0.1)
            if until_done and not self.done:
                gevent.sleep(0.001)

    @property
    def done(self) -> bool:
        return self.changed is not None and self.changed.is_set() and not self.busy


class LuaEngine:
    """One Lua VM. EVAL's scripts get one (thrown away by SCRIPT FLUSH) and the
    function libraries another (functions=True: with redis.register_function for
    FUNCTION LOAD), as in Redis 7.0, which keeps the two in separate lua_States: flushing
    one side must leave the other's compiled code alive, and neither may see the other's
    leftovers."""

    def __init__(self, server, functions: bool = False):
        self.server = server
        self.run = None                   # the ScriptRun in progress, or None
        self.registering = None           # FUNCTION LOAD: fn(name, callback, flags, desc)
        self.load_deadline = None         # FUNCTION LOAD: monotonic time it times out
        self.lua = lua51.LuaRuntime(encoding=None, unpack_returned_tuples=True,
                                    register_eval=False, register_builtins=False)
        self.to_lua = RespToLua(self.lua)
        self.to_reply = LuaToReply(self.lua)
        api = self.lua.table_from({
            b"call": self._redis_call, b"pcall": self._redis_pcall,
            b"sha1hex": self._sha1hex, b"error_reply": self._error_reply,
            b"status_reply": self._status_reply, b"log": self._log,
            b"setresp": self._setresp, b"set_repl": self._set_repl,
            b"replicate_commands": lambda *args: True,
            b"breakpoint": lambda *args: False, b"debug": lambda *args: None,
            b"error_of": self._error_of, b"interrupt": self._interrupt,
            b"hook_instructions": HOOK_INSTRUCTIONS,
            b"version": REDIS_VERSION.encode(), b"version_num": REDIS_VERSION_NUM,
            b"libraries": self.lua.table(b"bit", b"cjson", b"cmsgpack", b"struct"),
            b"struct": self._library(lua_struct.FUNCTIONS),
            b"cmsgpack": self._library(lua_cmsgpack.functions(self.lua)),
            b"bit": self._library(lua_bit.FUNCTIONS),
            b"cjson": self._library(lua_cjson.functions(self.lua)),
        })
        if functions:
            api[b"register_function"] = self._register_function
            api[b"load_timed_out"] = self._load_timed_out
        self._collectgarbage = self.lua.globals().collectgarbage
        with open(_SANDBOX, "rb") as f:
            prelude = self.lua.execute(b"return loadstring(...)", f.read(), b"=redis")
        self._engine = prelude(api)
        self._where = self._engine[b"where"]
        self._compile = self._engine[b"compile"]
        self._run = self._engine[b"run"]
        self._compile_library = self._engine[b"compile_library"]
        self._load_library = self._engine[b"load_library"]
        self._call_function = self._engine[b"call_function"]

    def memory(self) -> int:
        """The VM's heap in bytes (luaMemory: what INFO's used_memory_vm_* report)."""
        return int(self._collectgarbage(b"count") * 1024)

    def _library(self, functions: dict):
        """A Lua table of Python functions: a bad argument is raised as a Lua error at
        the script's line ("user_script:1: bad argument #1 to 'band' ...")."""
        def wrap(function):
            if not callable(function):
                return function                 # a constant (cjson.null)

            def call(*args):
                try:
                    return function(*args)
                except (lua_bit.LuaArgumentError, lua_cjson.CjsonError,
                        lua_cmsgpack.CmsgpackError, lua_struct.StructError) as exc:
                    where, name = self._where()
                    message = str(exc).replace(lua_bit.NAME, name.decode()).encode()
                    raise ScriptError(where + message) from None
            return call
        return self.lua.table_from({name.encode(): wrap(fn) for name, fn in functions.items()})

    # ------------------------------------------------------------ running a script

    def compile(self, body: bytes):
        """The script's Lua function, or a ReplyError for a script that does not compile."""
        ok, result = self._compile(body)
        if not ok:
            return ReplyError("ERR Error compiling script (new function): %s"
                              % result.decode("utf-8", "replace"))
        return result

    # ------------------------------------------------------------ function libraries

    def load_library(self, body: bytes, register, timeout_ms: int):
        """Run a library's body (FUNCTION LOAD): register(name, callback, flags,
        description) is called for each redis.register_function; it returns an error
        message or None. Returns an error text ("Error compiling function: ...") or None."""
        ok, function = self._compile_library(body)
        if not ok:
            return "Error compiling function: %s" % function.decode("utf-8", "replace")
        self.registering = register
        self.load_deadline = time.monotonic() + timeout_ms / 1000 if timeout_ms else None
        try:
            ok, error = self._load_library(function)
        finally:
            self.registering = None
            self.load_deadline = None
        if not ok:
            return "Error registering functions: %s" % error.decode("utf-8", "replace")
        return None

    def _load_timed_out(self) -> bool:
        return self.load_deadline is not None and time.monotonic() > self.load_deadline

    def _register_function(self, *args):
        """redis.register_function(name, callback) or ({function_name=, callback=,
        flags=, description=}) -- function_lua.c luaRegisterFunction, its checks and texts."""
        register = self.registering
        if register is None:
            self._raise("redis.register_function can only be called on FUNCTION LOAD "
                        "command")
        if len(args) < 1 or len(args) > 2:
            self._raise("wrong number of arguments to redis.register_function")
        flags = set()
        description = None
        if len(args) == 2:
            name = _lua_string(self.lua, args[0])
            if name is None:
                self._raise("first argument to redis.register_function must be a string")
            callback = args[1]
            if lua51.lua_type(callback) != "function":
                self._raise("second argument to redis.register_function must be a function")
        else:
            table = args[0]
            if lua51.lua_type(table) != "table":
                self._raise("calling redis.register_function with a single argument is "
                            "only applicable to Lua table (representing named arguments).")
            name = callback = None
            for key, value in table.items():
                key = _lua_string(self.lua, key)
                if key is None:
                    self._raise("named argument key given to redis.register_function is "
                                "not a string")
                key = key.lower()
                if key == b"function_name":
                    name = _lua_string(self.lua, value)
                    if name is None:
                        self._raise("function_name argument given to "
                                    "redis.register_function must be a string")
                elif key == b"description":
                    description = _lua_string(self.lua, value)
                    if description is None:
                        self._raise("description argument given to redis.register_function "
                                    "must be a string")
                elif key == b"callback":
                    if lua51.lua_type(value) != "function":
                        self._raise("callback argument given to redis.register_function "
                                    "must be a function")
                    callback = value
                elif key == b"flags":
                    if lua51.lua_type(value) != "table":
                        self._raise("flags argument to redis.register_function must be a "
                                    "table representing function flags")
                    flags = _read_flags(self.lua, value)
                    if flags is None:
                        self._raise("unknown flag given")
                else:
                    self._raise("unknown argument given to redis.register_function")
            if name is None:
                self._raise("redis.register_function must get a function name argument")
            if callback is None:
                self._raise("redis.register_function must get a callback argument")
        error = register(name, callback, frozenset(flags), description)
        if error is not None:
            self._raise(error)
        return ()

    def call_function(self, function, run: ScriptRun, keys, args):
        """Run a registered function for FCALL; its reply value."""
        return self.execute(function, run, keys, args, self._call_function)

    # ------------------------------------------------------------ running a script

    def execute(self, function, run: ScriptRun, keys, args, runner=None):
        """Run a compiled script for `run.client`; its reply value."""
        client = run.client
        saved_resp3 = client.resp3
        saved_deny_blocking = client.deny_blocking
        # Blocking commands answer at once in a script (BLPOP: nil), as in Redis.
        client.deny_blocking = True
        client.script_run = run
        self.run = run
        try:
            ok, result = (runner or self._run)(function, self.lua.table_from(keys),
                                               self.lua.table_from(args))
        finally:
            self.run = None
            client.resp3 = saved_resp3
            client.deny_blocking = saved_deny_blocking
            client.script_run = None
            if self.server.yielding_script is run:
                self.server.yielding_script = None
                if run.busy:
                    logger.warning("Slow script detected: script finished after {} ms",
                                   int((time.monotonic() - run.start) * 1000))
            run.busy = False
            if run.changed is not None:
                run.changed.set()
        if not ok:
            if lua51.lua_type(result) == "table":
                result[b"script_name"] = run.name.encode()
                if type(self.to_reply.field(result, b"err")) is bytes:
                    return ReplyError(self.to_reply.error_text(result))
                return ReplyError("ERR Error running script (call to f_%s): unknown error"
                                  % run.name)
            return ReplyError("ERR %s" % (result.decode("utf-8", "replace")
                                          if isinstance(result, bytes) else result))
        return self.to_reply.convert(result, run.resp3, saved_resp3)

    # ------------------------------------------------------------ long scripts

    def _interrupt(self) -> bool:
        """The Lua count hook (every HOOK_INSTRUCTIONS instructions): True to kill the
        script (SCRIPT KILL asked). Gives the event loop a turn every YIELD_INTERVAL so
        the cluster bus greenlets keep running however long the script runs; the first
        turn makes the script the server's yielding_script, so other clients' commands
        wait for it and, past busy-reply-threshold, get -BUSY."""
        run = self.run
        if run is None:
            return False
        if run.killed:
            return True
        now = time.monotonic()
        if now - run.last_yield < YIELD_INTERVAL:
            return False
        server = self.server
        if run.changed is None:
            run.changed = gevent.event.Event()
        if server.yielding_script is None:
            server.yielding_script = run
        threshold = server.settings.busy_reply_threshold
        if not run.busy and threshold and (now - run.start) * 1000 >= threshold:
            run.busy = True
            run.changed.set()
            logger.warning("Slow script detected: still in execution after {} milliseconds. "
                           "You can try killing the script using the {} command. "
                           "Script name is: {}.", int((now - run.start) * 1000),
                           "FUNCTION KILL" if run.is_function else "SCRIPT KILL", run.name)
        # A timer, not sleep(0): sleep(0) comes back from the loop's callback phase,
        # before the loop polls sockets; a 1 ms timer makes it poll (reads, the bus).
        gevent.sleep(0.001)
        run.last_yield = time.monotonic()
        return run.killed

    # ------------------------------------------------------------ redis.call

    def _redis_call(self, *args):
        failed, reply = self._call(args)
        if failed:
            raise ScriptError(reply)
        return reply

    def _redis_pcall(self, *args):
        return self._call(args)[1]

    def _error_of(self, exc):
        """The {err=...} table an error raised by a redis.* function carries (the
        handler and pcall receive it as a Python exception)."""
        if isinstance(exc, ScriptError):
            return exc.args[0]
        if isinstance(exc, BaseException):     # a bug in our Python: say so, do not crash
            logger.opt(exception=exc).error("a redis.* function raised")
            return self.to_lua.error_table("internal error in a redis.* function")
        return None

    def _raise(self, message: str):
        raise ScriptError(self.to_lua.error_table(message))

    def _call(self, args):
        """(failed, reply as a Lua value) for redis.call / redis.pcall."""
        run = self.run
        if run is None:
            self._raise("redis.call/pcall can only be called inside a script invocation")
        if not args:
            return True, self.to_lua.error_table(
                "Please specify at least one argument for this redis lib call")
        argv = []
        for arg in args:
            kind = type(arg)
            if kind is bytes:
                argv.append(arg)
            elif kind is int or kind is float:
                argv.append(b"%.17g" % arg)
            else:
                return True, self.to_lua.error_table(
                    "Lua redis lib command arguments must be strings or integers")
        if time.monotonic() - run.last_yield >= YIELD_INTERVAL:
            # A script that mostly calls commands runs few Lua instructions between
            # hook calls: the loop gets its turn here too (a kill waits for the hook).
            self._interrupt()
        cmd, error = self._refusal(run, argv)
        if error is not None:
            return True, self.to_lua.error_table(error)
        reply = self._run_command(run, cmd, argv)
        out = []
        encode(reply, out, run.resp3)
        value = self.to_lua.convert(b"".join(out))
        return isinstance(reply, ReplyError), value

    def _refusal(self, run, argv):
        """Why a script may not run this command (script.c's checks, in its order)."""
        cmd, error = lookup_command(argv)
        if cmd is None:
            return None, "Unknown Redis command called from script"
        if error is not None:
            if error.args[0].startswith("ERR wrong number"):
                return None, "Wrong number of args calling Redis command from script"
            return None, "Unknown Redis command called from script"
        if "noscript" in cmd.flags:
            return None, "This Redis command is not allowed from script"
        if self.server.masterdown and "stale" not in cmd.flags and \
                not run.client.is_master_link:
            return None, "Can not execute the command on a stale replica"
        if run.client.acl_gate and self.server.acl is not None:
            denied = self.server.acl.check_script(run.client, cmd, argv)
            if denied is not None:
                return None, denied
        if run.read_only and (cmd.is_write or "may-replicate" in cmd.flags):
            return None, "Write commands are not allowed from read-only scripts."
        if not run.wrote and not run.allow_oom and "denyoom" in cmd.flags \
                and self.server.maxmemory_on and self.server.maxmemory.pre_command_oom \
                and not run.client.is_master_link:
            # scriptVerifyOOM: over maxmemory when the script started, its first write
            # is refused (after one, stopping halfway would break its atomicity).
            return None, OOM_ERROR.args[0]
        if cmd.is_write:
            run.wrote = True
        router = self.server.router
        if router is not None and cmd.has_keys and not run.client.is_master_link:
            refusal = router(run.client, cmd, argv)
            if refusal is not None:
                code = refusal.code
                if code == "CLUSTERDOWN":
                    return None, _CLUSTER_DOWN
                return None, _NON_LOCAL
            if not run.allow_cross_slot:
                for index in cmd.key_indexes(argv):
                    slot = slot_of(argv[index])
                    if run.slot == -1:
                        run.slot = slot
                    elif run.slot != slot:
                        return None, _CROSS_SLOT
        return cmd, None

    def _run_command(self, run, cmd, argv):
        """The handler, with what call() keeps around it (see call_queued)."""
        client = run.client
        server = self.server
        prop = server.propagator if client.prop_depth and run.repl else None
        keyspace = server.keyspace
        if prop is not None:
            client.propagate_as = None
            client.argv = argv
            dirty = keyspace.dirty
        client.resp3 = run.resp3
        start = time.perf_counter_ns()
        try:
            reply = cmd.handler(client, argv)
        except ReplyError as exc:
            reply = exc
        except Exception:
            reply = internal_error(server, cmd)
        account_call(client, cmd, argv, time.perf_counter_ns() - start)
        server.total_commands += 1
        if isinstance(reply, ReplyError):
            cmd.failed_calls += 1
            server.count_error(reply.code)
        if server.monitors and "admin" not in cmd.flags and "skip-monitor" not in cmd.flags:
            feed_monitors(client, argv)
        if prop is not None:
            prop.after_command(client, cmd, argv, reply, dirty, keyspace.dirty)
        return reply

    # ------------------------------------------------------------ the rest of redis.*

    def _sha1hex(self, *args):
        if len(args) != 1:
            self._raise("wrong number of arguments")
        value = args[0]
        if type(value) in (int, float):
            value = self.lua.globals().tostring(value)
        elif type(value) is not bytes:
            value = b""                     # lua_tolstring gives NULL: sha1 of nothing
        return sha1hex(value).encode()

    def _error_reply(self, *args):
        if len(args) != 1 or type(args[0]) is not bytes:
            return self.to_lua.error_table("wrong number or type of arguments")
        text = args[0].decode("utf-8", "surrogateescape")
        if not text.startswith("-"):
            text = "-" + text
        return self.to_lua.error_table(text)

    def _status_reply(self, *args):
        if len(args) != 1 or type(args[0]) is not bytes:
            return self.to_lua.error_table("wrong number or type of arguments")
        return self.to_lua.table(ok=args[0])

    def _log(self, *args):
        if len(args) < 2:
            self._raise("redis.log() requires two arguments or more.")
        level = _lua_number(args[0])
        if level is None:
            self._raise("First argument must be a number (log level).")
        level = int(level)
        if level < 0 or level > 3:
            self._raise("Invalid debug level.")
        if level < _VERBOSITY.get(self.server.settings.loglevel, 2):
            return ()
        tostring = self.lua.globals().tostring
        parts = [arg if type(arg) is bytes else tostring(arg)
                 for arg in args[1:] if type(arg) in (bytes, int, float)]
        logger.log(_LOG_LEVELS[level], b" ".join(parts).decode("utf-8", "replace"))
        return ()                           # no value, as Redis's (tostring() of it errs)

    def _setresp(self, *args):
        if self.run is None:
            self._raise("redis.setresp can only be called inside a script invocation")
        if len(args) != 1:
            self._raise("redis.setresp() requires one argument.")
        resp = _lua_number(args[0])
        if resp not in (2, 3):
            self._raise("RESP version must be 2 or 3.")
        self.run.resp3 = resp == 3
        return ()

    def _set_repl(self, *args):
        if self.run is None:
            self._raise("redis.set_repl can only be called inside a script invocation")
        if len(args) != 1:
            self._raise("redis.set_repl() requires two arguments.")
        flags = _lua_number(args[0])
        if flags is None or flags not in (0, 1, 2, 3):
            self._raise("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL "
                        "or REPL_NONE.")
        self.run.repl = int(flags)
        return ()


def kill_run(run, by_script_kill: bool) -> None:
    """scriptKill: SCRIPT KILL stops scripts, FUNCTION KILL functions (each refuses the
    other's with the -BUSY that names the right command); never a master's, nor one that
    already wrote."""
    if run is None:
        raise ReplyError("NOTBUSY No scripts in execution right now.")
    if run.client.is_master_link:
        raise ReplyError("UNKILLABLE The busy script was sent by a master instance in the "
                         "context of replication and cannot be killed.")
    if run.wrote:
        raise ReplyError("UNKILLABLE Sorry the script already executed write commands "
                         "against the dataset. You can either wait the script termination "
                         "or kill the server in a hard way using the SHUTDOWN NOSAVE "
                         "command.")
    if run.is_function == by_script_kill:
        raise run.busy_error
    run.killed = True       # the script's next hook call raises the kill


class ScriptError(Exception):
    """Raised by a redis.* function: args[0] is the Lua {err=...} table."""


# Function flags as redis.register_function spells them (script.c scripts_flags_def;
# matched without regard to case).
FUNCTION_FLAGS = ("no-writes", "allow-oom", "allow-stale", "no-cluster",
                  "allow-cross-slot-keys")


def _lua_string(lua, value):
    """lua_isstring + lua_tostring: a string, or a number as Lua writes it; else None."""
    if type(value) is bytes:
        return value
    if type(value) in (int, float):
        return lua.globals().tostring(value)
    return None


def _read_flags(lua, table):
    """The flags of a {flags={...}} table (its 1..n items), or None for an unknown one."""
    flags = set()
    index = 1
    while True:
        value = table[index]
        if value is None:
            return flags
        text = _lua_string(lua, value)
        if text is None:
            return None
        text = text.decode("latin-1").lower()
        if text not in FUNCTION_FLAGS:
            return None
        flags.add(text)
        index += 1


def _lua_number(value):
    """lua_tonumber: a number, or a string that reads as one; else None."""
    if type(value) in (int, float):
        return value
    if type(value) is bytes:
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return None
