"""COMMAND: the command table as Redis 7 reports it.

redis-py's RedisCluster reads COMMAND at start-up (first/last/step, the movablekeys flag,
key specs) and asks COMMAND GETKEYS for movable-keys commands; redis-cli 7 reads COMMAND
DOCS for its interactive hints. Reply shapes follow redis-server 7.0.15:

    [name, arity, [flags], first, last, step, [@categories], [tips], [key specs],
     [subcommands in the same shape]]

Key specs are derived from (first, last, step): one "index" begin_search plus a "range"
find_keys, with RO/RW access flags from the command's readonly/write flag. Redis writes
finer flags per command (OW, RM, insert, delete...); nothing we know of routes on them.
"""
import fnmatch

from commands.server.resp import ReplyError, Status
from commands.server.table import COMMANDS, all_commands, container, subcommand

# The flags COMMAND shows, in Redis's order (addReplyCommandFlags). Our table spells them
# with dashes; flags not listed here (pubsub-ok, may-replicate...) are internal.
_SHOWN_FLAGS = ("write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
                "blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
                "fast", "no_auth", "no_mandatory_keys", "no_async_loading", "no_multi",
                "movablekeys", "allow_busy")

_FLAGS = "loading stale"
_ORDER_TIP = ("nondeterministic_output_order",)

_COMMAND_HELP = [
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
]


# ---------------------------------------------------------------- reply building

def shown_flags(cmd) -> list:
    names = {flag.replace("-", "_") for flag in cmd.flags}
    if cmd.movable_keys:
        names.add("movablekeys")
    return [Status(flag) for flag in _SHOWN_FLAGS if flag in names]


def key_access_flags(cmd) -> list:
    if "pubsubshard" in cmd.flags:
        return ["not_key"]            # shard channels: routed like keys, not keys
    if "write" in cmd.flags:
        return ["RW", "access", "update"]
    return ["RO", "access"]


def _declared_spec(spec) -> dict:
    """A key spec written out by a command (table.py `key_specs`), in COMMAND's shape:
    begin_search {"index": i} | {"keyword": (word, startfrom)} | {"unknown": None},
    find_keys {"range": (lastkey, keystep, limit)} | {"unknown": None}."""
    (begin, arg), = spec["begin_search"].items()
    if begin == "index":
        begin_spec = {"index": arg}
    elif begin == "keyword":
        begin_spec = {"keyword": arg[0].encode(), "startfrom": arg[1]}
    else:
        begin_spec = {}
    (find, arg), = spec["find_keys"].items()
    find_spec = dict(zip(("lastkey", "keystep", "limit"), arg)) if find == "range" else {}
    out = {}
    if spec.get("notes"):
        out["notes"] = spec["notes"].encode()
    out["flags"] = [Status(f) for f in spec["flags"]]
    out["begin_search"] = {"type": begin.encode(), "spec": begin_spec}
    out["find_keys"] = {"type": find.encode(), "spec": find_spec}
    return out


def key_specs(cmd) -> list:
    if cmd.key_specs:
        return [_declared_spec(spec) for spec in cmd.key_specs]
    flags = [Status(f) for f in key_access_flags(cmd)]
    if cmd.movable_keys:
        # Keys found by code (numkeys arguments, options): Redis's "unknown" spec.
        return [{"flags": flags + [Status("variable_flags")],
                 "begin_search": {"type": b"unknown", "spec": {}},
                 "find_keys": {"type": b"unknown", "spec": {}}}]
    if not cmd.first_key:
        return []
    last = cmd.last_key - cmd.first_key if cmd.last_key >= 0 else cmd.last_key
    return [{"flags": flags,
             "begin_search": {"type": b"index", "spec": {"index": cmd.first_key}},
             "find_keys": {"type": b"range",
                           "spec": {"lastkey": last, "keystep": cmd.key_step, "limit": 0}}}]


def command_entry(cmd) -> list:
    """One command's COMMAND / COMMAND INFO entry."""
    return [cmd.full_name.encode(), cmd.arity, shown_flags(cmd), cmd.first_key,
            cmd.last_key, cmd.key_step, [Status(cat) for cat in cmd.categories],
            [tip.encode() for tip in cmd.tips], key_specs(cmd),
            [command_entry(sub) for sub in cmd.subcommands.values()]]


def command_docs(cmd) -> dict:
    docs = {"summary": cmd.summary.encode(), "since": cmd.since.encode(),
            "group": cmd.group.encode()}
    if cmd.complexity:
        docs["complexity"] = cmd.complexity.encode()
    if cmd.deprecated:
        docs["doc_flags"] = [Status("deprecated")]
        docs["deprecated_since"] = cmd.deprecated[0].encode()
        docs["replaced_by"] = cmd.deprecated[1].encode()
    if cmd.subcommands:
        docs["subcommands"] = {sub.full_name.encode(): command_docs(sub)
                               for sub in cmd.subcommands.values()}
    return docs


def find_by_full_name(name: bytes):
    """'get' or 'config|get' (any case) -> Command or None."""
    parent_name, _, sub_name = name.lower().partition(b"|")
    cmd = COMMANDS.get(parent_name)
    if cmd is None or not sub_name:
        return cmd
    return cmd.subcommands.get(sub_name)


def _everything():
    for cmd in all_commands():
        yield cmd
        yield from cmd.subcommands.values()


# ---------------------------------------------------------------- COMMAND

def command_all(c, argv):
    return [command_entry(cmd) for cmd in all_commands()]


# COMMAND alone lists every command; its categories come from Redis's json (connection),
# not from its group (server).
COMMAND = container("command", -1, group="server", since="2.8.13", flags=_FLAGS,
                    categories=("@connection",), tips=_ORDER_TIP, handler=command_all,
                    summary="Get array of Redis command details")


@subcommand(COMMAND, "count", 2, _FLAGS, categories=("@connection",), since="2.8.13",
            summary="Get total number of Redis commands", complexity="O(1)")
def command_count(c, argv):
    return len(COMMANDS)


@subcommand(COMMAND, "list", -2, _FLAGS, categories=("@connection",), tips=_ORDER_TIP,
            since="7.0.0", summary="Get an array of Redis command names",
            complexity="O(N) where N is the total number of Redis commands")
def command_list(c, argv):
    names = [cmd.full_name for cmd in _everything()]
    if len(argv) == 2:
        return [name.encode() for name in names]
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise ReplyError("ERR syntax error")
    kind, value = argv[3].lower(), argv[4].decode("utf-8", "replace")
    if kind == b"module":
        return []                     # no modules
    if kind == b"aclcat":
        wanted = "@" + value.lower()
        return [cmd.full_name.encode() for cmd in _everything() if wanted in cmd.categories]
    if kind == b"pattern":
        return [name.encode() for name in names
                if fnmatch.fnmatchcase(name, value.lower())]
    raise ReplyError("ERR syntax error")


@subcommand(COMMAND, "info", -2, _FLAGS, categories=("@connection",), tips=_ORDER_TIP,
            since="2.8.13", summary="Get array of specific Redis command details, or all "
            "when no argument is given.",
            complexity="O(N) where N is the number of commands to look up")
def command_info(c, argv):
    if len(argv) == 2:
        return command_all(c, argv)
    entries = []
    for name in argv[2:]:
        cmd = find_by_full_name(name)
        entries.append(command_entry(cmd) if cmd is not None else None)
    return entries


@subcommand(COMMAND, "docs", -2, _FLAGS, categories=("@connection",), tips=_ORDER_TIP,
            since="7.0.0", summary="Get array of specific Redis command documentation",
            complexity="O(N) where N is the number of commands to look up")
def command_docs_(c, argv):
    if len(argv) == 2:
        chosen = all_commands()
    else:
        chosen = [cmd for cmd in map(find_by_full_name, argv[2:]) if cmd is not None]
    return {cmd.full_name.encode(): command_docs(cmd) for cmd in chosen}


def keys_by_specs(cmd, args):
    """(index, flags) of the keys a command's declared key specs find (Redis's
    getKeysUsingKeySpecs, which COMMAND GETKEYS prefers), or None where they cannot tell
    ('unknown' specs) and the command's own key finder answers."""
    if not cmd.key_specs:
        return None
    found = []
    for spec in cmd.key_specs:
        (begin, arg), = spec["begin_search"].items()
        (find, span), = spec["find_keys"].items()
        if begin == "unknown" or find != "range":
            return None
        if begin == "index":
            first = arg
        else:                       # the first keyword from startfrom on, not the last arg
            keyword, startfrom = arg[0].encode().lower(), arg[1]
            first = next((i + 1 for i in range(startfrom, len(args) - 1)
                          if args[i].lower() == keyword), None)
            if first is None:
                continue
        lastkey, keystep, limit = span
        if lastkey >= 0:
            last = first + lastkey
        elif limit:                 # XREAD's keys: 1/limit of what follows the keyword
            last = first + (len(args) - first) // limit + lastkey
        else:
            last = len(args) + lastkey
        if last >= len(args) or last < first:
            return None
        found.extend((i, spec["flags"]) for i in range(first, last + 1, keystep))
    return found


def _flags_by_position(cmd, indexes) -> list:
    """Flags for keys found by a command's own key finder: where it declared specs (SORT),
    the key at an "index" spec's position has that spec's flags and any other key (SORT's
    STORE) the last spec's, as Redis's sortGetKeys flags them; otherwise the flags the
    command's read/write nature gives."""
    if not cmd.key_specs:
        return [(i, key_access_flags(cmd)) for i in indexes]
    by_index = {spec["begin_search"]["index"]: spec["flags"] for spec in cmd.key_specs
                if "index" in spec["begin_search"]}
    other = cmd.key_specs[-1]["flags"]
    return [(i, by_index.get(i, other)) for i in indexes]


def keys_of(argv_in_command):
    """(Command, key indexes) for COMMAND GETKEYS[ANDFLAGS] <full command>, with Redis's
    errors, checked in Redis's order: unknown command, no keys, arity, no keys found."""
    cmd, keys = keys_and_flags(argv_in_command)
    return cmd, [i for i, _ in keys]


def keys_with_flags(cmd, args) -> list:
    """[(key index, access flags)] of one call of `cmd` (args[0] is the command's name):
    from its variable-flags finder, its declared key specs, or its key positions. ACL
    key permissions are checked on these flags too (commands/security/acl_rules.py)."""
    if cmd.key_flags_finder is not None:
        keys = cmd.key_flags_finder(args)
    else:
        keys = keys_by_specs(cmd, args)
    if keys is None:
        keys = _flags_by_position(cmd, cmd.key_indexes(args))
    return keys


def keys_and_flags(argv_in_command):
    """(Command, [(key index, access flags)]): keys_of with each key's flags."""
    args = argv_in_command
    cmd = COMMANDS.get(args[0].lower())
    if cmd is not None and cmd.subcommands and len(args) > 1:
        cmd = cmd.subcommands.get(args[1].lower())
    if cmd is None:
        raise ReplyError("ERR Invalid command specified")
    if not cmd.has_keys or "pubsubshard" in cmd.flags:     # shard channels are not keys
        raise ReplyError("ERR The command has no key arguments")
    if not cmd.arity_ok(len(args)):
        raise ReplyError("ERR Invalid number of arguments specified for command")
    keys = keys_with_flags(cmd, args)
    if not keys and "no-mandatory-keys" not in cmd.flags:
        raise ReplyError("ERR Invalid arguments specified for command")
    return cmd, keys


@subcommand(COMMAND, "getkeys", -4, _FLAGS, categories=("@connection",), since="2.8.13",
            summary="Extract keys given a full Redis command",
            complexity="O(N) where N is the number of arguments to the command")
def command_getkeys(c, argv):
    args = argv[2:]
    _, indexes = keys_of(args)
    return [args[i] for i in indexes]


@subcommand(COMMAND, "getkeysandflags", -4, _FLAGS, categories=("@connection",),
            since="7.0.0", summary="Extract keys and access flags given a full Redis "
            "command", complexity="O(N) where N is the number of arguments to the command")
def command_getkeysandflags(c, argv):
    args = argv[2:]
    _, keys = keys_and_flags(args)
    return [[args[i], [Status(f) for f in flags]] for i, flags in keys]


@subcommand(COMMAND, "help", 2, _FLAGS, categories=("@connection",), since="5.0.0",
            summary="Show helpful text about the different subcommands", complexity="O(1)")
def command_help(c, argv):
    return [Status(line) for line in _COMMAND_HELP]
