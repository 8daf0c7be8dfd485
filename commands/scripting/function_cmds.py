"""FUNCTION LOAD / DELETE / FLUSH / LIST / DUMP / RESTORE / STATS / KILL / HELP, FCALL and
FCALL_RO (Redis 7.0's functions.c).

The libraries are server.functions (function_libraries.FunctionLibraries, built by
node.py so that loading an RDB can fill it). FUNCTION LOAD, DELETE, FLUSH and RESTORE are
write commands: the executor propagates them verbatim to replicas and the AOF, as Redis
does. FCALL propagates what the function ran (lua_engine.py), never the call itself.
Routing sees FCALL's declared keys like EVAL's (eval_cmds.eval_keys), so CROSSSLOT /
MOVED / ASK come from the ordinary path before the function runs.
"""
from commands.data.numbers import parse_int64
from commands.rdb.function_payload import dump_functions
from commands.scripting.eval_cmds import check_script_flags, eval_keys, refuse_as_command
from commands.scripting.function_libraries import (ENGINE_NAME, FunctionError,
                                                   FunctionLibraries, run_duration_ms)
from commands.scripting.lua_engine import BUSY_EVAL_ERROR, LOAD_TIMEOUT_MS, ScriptRun, kill_run
from commands.server.executor import feed_monitors
from commands.server.resp import OK, ReplyError, SetReply, Status
from commands.server.table import COMMANDS, command, container, subcommand

_FCALL_FLAGS = "noscript skip-monitor may-replicate no-mandatory-keys stale"
_FCALL_RO_FLAGS = "noscript skip-monitor no-mandatory-keys stale readonly"
_ALL_SHARDS = ("request_policy:all_shards", "response_policy:all_succeeded")


def _syntax_error(argv) -> ReplyError:
    """addReplySubcommandSyntaxError: the subcommand as the client spelled it."""
    return ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. Try "
                      "FUNCTION HELP." % argv[1].decode("utf-8", "surrogateescape")[:128])


def libraries(server) -> FunctionLibraries:
    """server.functions, made here when nothing built it (a bare server in tests)."""
    functions = server.functions
    if functions is None:
        functions = server.functions = FunctionLibraries(server)
    return functions


# ---------------------------------------------------------------- FCALL

def _run(c, argv, read_only_cmd: bool):
    # FCALL is skip-monitor: it feeds MONITOR itself, before the commands it runs.
    if c.server.monitors:
        feed_monitors(c, argv)
    registry = libraries(c.server)
    function = registry.find(argv[1])
    if function is None:
        raise ReplyError("ERR Function not found")
    refuse_as_command(c, argv, function.flags)
    numkeys = parse_int64(argv[2])
    if numkeys is None:
        raise ReplyError("ERR Bad number of keys provided")
    if numkeys > len(argv) - 3:
        raise ReplyError("ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise ReplyError("ERR Number of keys can't be negative")
    flags = function.flags
    check_script_flags(c, flags, read_only_cmd)
    # A function is never in EVAL's compatibility mode: without no-writes it may write,
    # without allow-cross-slot-keys its keys must share one slot.
    run = ScriptRun(c, function.name.decode("utf-8", "surrogateescape"),
                    read_only_cmd or "no-writes" in flags, "allow-cross-slot-keys" in flags,
                    is_function=True, argv=argv)
    run.allow_oom = "allow-oom" in flags
    return registry.engine.call_function(function.callback, run, argv[3:3 + numkeys],
                                         argv[3 + numkeys:])


@command("fcall", -3, _FCALL_FLAGS, key_finder=eval_keys, group="scripting",
         categories=("@scripting",), since="7.0.0",
         complexity="Depends on the function that is executed.",
         summary="Invoke a function")
def fcall(c, argv):
    return _run(c, argv, read_only_cmd=False)


@command("fcall_ro", -3, _FCALL_RO_FLAGS, key_finder=eval_keys, group="scripting",
         categories=("@scripting",), since="7.0.0",
         complexity="Depends on the function that is executed.",
         summary="Invoke a read-only function")
def fcall_ro(c, argv):
    return _run(c, argv, read_only_cmd=True)


def _function_denies_oom(c, argv) -> bool:
    """For the maxmemory check (scriptFlagsToCmdFlags): FCALL of a function that may
    write is denyoom unless the function is flagged allow-oom; an unknown function is
    not (it fails with "Function not found")."""
    functions = c.server.functions
    function = functions.find(argv[1]) if functions is not None and len(argv) > 1 else None
    return function is not None and not function.flags & {"allow-oom", "no-writes"}


COMMANDS[b"fcall"].denyoom_finder = COMMANDS[b"fcall_ro"].denyoom_finder = _function_denies_oom


# ---------------------------------------------------------------- FUNCTION

FUNCTION = container("function", -2, group="scripting", since="7.0.0",
                     summary="A container for function commands")


@subcommand(FUNCTION, "load", -3, "noscript write denyoom", categories=("@scripting",),
            since="7.0.0", tips=_ALL_SHARDS,
            complexity="O(1) (considering compilation time is redundant)",
            summary="Create a function with the given arguments (name, code, description)")
def function_load(c, argv):
    replace = False
    pos = 2
    while pos < len(argv) - 1:
        option = argv[pos]
        pos += 1
        if option.lower() == b"replace":
            replace = True
            continue
        raise ReplyError("ERR Unknown option given: %s"
                         % option.decode("utf-8", "surrogateescape"))
    # A master's stream and the AOF are obeyed whatever the body takes (timeout 0).
    timeout = 0 if c.is_master_link else LOAD_TIMEOUT_MS
    try:
        name = libraries(c.server).load(argv[pos], replace, timeout)
    except FunctionError as exc:
        raise ReplyError("ERR %s" % exc) from None
    c.server.keyspace.dirty += 1
    return name


@subcommand(FUNCTION, "delete", 3, "noscript write", categories=("@scripting",),
            since="7.0.0", tips=_ALL_SHARDS, complexity="O(1)",
            summary="Delete a function by name")
def function_delete(c, argv):
    if not libraries(c.server).delete(argv[2]):
        raise ReplyError("ERR Library not found")
    c.server.keyspace.dirty += 1
    return OK


@subcommand(FUNCTION, "flush", -2, "noscript write", categories=("@scripting",),
            since="7.0.0", tips=_ALL_SHARDS,
            complexity="O(N) where N is the number of functions deleted",
            summary="Deleting all functions")
def function_flush(c, argv):
    if len(argv) > 3:
        raise _syntax_error(argv)
    if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
        raise ReplyError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    # Both modes drop the libraries at once: dicts and a Lua VM go in microseconds here.
    libraries(c.server).flush()
    c.server.keyspace.dirty += 1
    return OK


@subcommand(FUNCTION, "list", -2, "noscript", categories=("@scripting",), since="7.0.0",
            tips=("nondeterministic_output_order",),
            complexity="O(N) where N is the number of functions",
            summary="List information about all the functions")
def function_list(c, argv):
    with_code = False
    pattern = None
    i = 2
    while i < len(argv):
        arg = argv[i]
        if not with_code and arg.lower() == b"withcode":
            with_code = True
        elif pattern is None and arg.lower() == b"libraryname":
            if i >= len(argv) - 1:
                raise ReplyError("ERR library name argument was not given")
            i += 1
            pattern = argv[i]
        else:
            raise ReplyError("ERR Unknown argument %s" % arg.decode("utf-8", "surrogateescape"))
        i += 1
    reply = []
    for library in libraries(c.server).listing(pattern):
        entry = {"library_name": library.name, "engine": ENGINE_NAME,
                 "functions": [{"name": function.name,
                                "description": function.description,
                                "flags": SetReply(Status(flag) for flag in function.flag_list())}
                               for function in library.functions.values()]}
        if with_code:
            entry["library_code"] = library.code
        reply.append(entry)
    return reply


@subcommand(FUNCTION, "dump", 2, "noscript", categories=("@scripting",), since="7.0.0",
            complexity="O(N) where N is the number of functions",
            summary="Dump all functions into a serialized binary payload")
def function_dump(c, argv):
    return dump_functions(libraries(c.server).codes(),
                          c.server.settings.values["rdbcompression"])


@subcommand(FUNCTION, "restore", -3, "noscript write denyoom", categories=("@scripting",),
            since="7.0.0", tips=_ALL_SHARDS,
            complexity="O(N) where N is the number of functions on the payload",
            summary="Restore all the functions on the given payload")
def function_restore(c, argv):
    if len(argv) > 4:
        raise _syntax_error(argv)
    policy = "append"
    if len(argv) == 4:
        policy = argv[3].decode("latin-1").lower()
        if policy not in ("append", "replace", "flush"):
            raise ReplyError("ERR Wrong restore policy given, value should be either FLUSH, "
                             "APPEND or REPLACE.")
    try:
        libraries(c.server).restore(argv[2], policy)
    except FunctionError as exc:
        raise ReplyError("ERR %s" % exc) from None
    c.server.keyspace.dirty += 1
    return OK


@subcommand(FUNCTION, "stats", 2, "noscript allow-busy", categories=("@scripting",),
            since="7.0.0", complexity="O(1)",
            tips=("nondeterministic_output", "request_policy:all_shards",
                  "response_policy:special"),
            summary="Return information about the function currently running (name, "
                    "description, duration)")
def function_stats(c, argv):
    server = c.server
    script_cache = server.scripting
    if script_cache is not None and script_cache.engine.run is not None:
        raise BUSY_EVAL_ERROR
    registry = libraries(server)
    run = registry.running
    running = None
    if run is not None:
        running = {"name": run.name.encode("utf-8", "surrogateescape"),
                   "command": list(run.argv), "duration_ms": run_duration_ms(run)}
    library_count, function_count = registry.stats()
    return {"running_script": running,
            "engines": {ENGINE_NAME: {"libraries_count": library_count,
                                      "functions_count": function_count}}}


@subcommand(FUNCTION, "kill", 2, "noscript allow-busy", categories=("@scripting",),
            since="7.0.0", complexity="O(1)",
            tips=("request_policy:all_shards", "response_policy:one_succeeded"),
            summary="Kill the function currently in execution.")
def function_kill(c, argv):
    server = c.server
    script_cache = server.scripting
    eval_run = script_cache.engine.run if script_cache is not None else None
    run = eval_run or libraries(server).running
    kill_run(run, by_script_kill=False)
    return OK


_FUNCTION_HELP = [
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME "
    "argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored "
    "using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a "
    "restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
    "abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
    "replace the old",
    "      libraries with the new libraries (notice that even on this option there is a "
    "chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
]


@subcommand(FUNCTION, "help", 2, "loading stale", categories=("@scripting",), since="7.0.0",
            complexity="O(1)", summary="Show helpful text about the different subcommands")
def function_help(c, argv):
    return [Status(line) for line in _FUNCTION_HELP]
