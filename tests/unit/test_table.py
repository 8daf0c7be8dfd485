"""The command table: registration, arity, key positions, categories, lookup, and the
COMMAND replies built from it (no sockets)."""
import pytest

from commands import load_all_commands
from commands.families.introspection import command_docs, command_entry, key_specs, keys_of
from commands.server.executor import lookup_command
from commands.server.resp import ReplyError, Status, encode_one
from commands.server.table import (ACL_CATEGORY_ORDER, COMMANDS, Command, _make, all_commands,
                                   lookup)

load_all_commands()


def make(name="x", arity=2, flags="", keys=None, group="generic", categories=(),
         key_finder=None, tips=(), is_container=False):
    return _make(name, arity, flags, keys, group, "", "1.0.0", "", key_finder, categories,
                 None, tips, is_container)


# ---------------------------------------------------------------- entries

def test_every_command_is_well_formed():
    for top in all_commands():
        for cmd in (top, *top.subcommands.values()):
            assert isinstance(cmd, Command)
            assert cmd.name == cmd.name.lower() and " " not in cmd.name
            assert cmd.arity != 0
            assert set(cmd.categories) <= set(ACL_CATEGORY_ORDER), cmd.full_name
            ranks = [ACL_CATEGORY_ORDER.index(cat) for cat in cmd.categories]
            assert ranks == sorted(ranks), cmd.full_name
            assert ("@fast" in cmd.categories) != ("@slow" in cmd.categories), cmd.full_name
            if cmd.first_key:
                assert cmd.key_step >= 1 and cmd.has_keys
            if top.subcommands and cmd is not top:
                assert cmd.container is top and cmd.handler is not None
                assert cmd.arity >= 2 or cmd.arity <= -2


def test_registry_keys_match_names():
    for name, cmd in COMMANDS.items():
        assert name == cmd.name.encode()


def test_arity():
    exact, at_least = make(arity=2), make(arity=-2)
    assert exact.arity_ok(2) and not exact.arity_ok(1) and not exact.arity_ok(3)
    assert at_least.arity_ok(2) and at_least.arity_ok(5) and not at_least.arity_ok(1)


@pytest.mark.parametrize("keys,argv,expected", [
    ((1, 1, 1), [b"get", b"k"], [1]),
    ((1, -1, 1), [b"del", b"a", b"b", b"c"], [1, 2, 3]),
    ((1, -1, 2), [b"mset", b"a", b"1", b"b", b"2"], [1, 3]),
    ((1, 2, 1), [b"rename", b"a", b"b"], [1, 2]),
    ((2, 2, 1), [b"object", b"encoding", b"k"], [2]),
    (None, [b"ping"], []),
])
def test_key_indexes(keys, argv, expected):
    assert make(keys=keys, arity=-2).key_indexes(argv) == expected


def test_movable_keys_use_the_finder():
    cmd = make(arity=-3, key_finder=lambda argv: list(range(2, 2 + int(argv[1]))))
    assert cmd.movable_keys and cmd.has_keys
    assert cmd.key_indexes([b"x", b"2", b"a", b"b", b"arg"]) == [2, 3]


def test_categories_follow_redis_rules_and_order():
    assert make(flags="readonly fast", group="string").categories == ("@read", "@string",
                                                                     "@fast")
    assert make(flags="write denyoom", group="string").categories == ("@write", "@string",
                                                                      "@slow")
    assert make(flags="admin noscript", group="server").categories == ("@admin", "@slow",
                                                                      "@dangerous")
    assert make(flags="fast", group="connection").categories == ("@fast", "@connection")
    assert make(flags="write", group="server",
                categories=("@dangerous", "@keyspace")).categories == (
        "@keyspace", "@write", "@slow", "@dangerous")
    # A container only gets @slow (and what it declares), as in Redis.
    assert make(group="connection", is_container=True).categories == ("@slow",)


def test_lookup_is_case_insensitive():
    assert lookup(b"GET") is lookup(b"get") is COMMANDS[b"get"]
    assert lookup(b"nosuch") is None


# ---------------------------------------------------------------- dispatch errors

def test_lookup_command_errors():
    assert lookup_command([b"GET", b"k"]) == (COMMANDS[b"get"], None)
    cmd, error = lookup_command([b"nosuch", b"a", b"b"])
    assert cmd is None
    assert error.args[0] == "ERR unknown command 'nosuch', with args beginning with: 'a' 'b' "
    _, error = lookup_command([b"get"])
    assert error.args[0] == "ERR wrong number of arguments for 'get' command"
    _, error = lookup_command([b"config"])
    assert error.args[0] == "ERR wrong number of arguments for 'config' command"
    _, error = lookup_command([b"config", b"bogus"])
    assert error.args[0] == "ERR unknown subcommand 'bogus'. Try CONFIG HELP."
    _, error = lookup_command([b"config", b"get"])
    assert error.args[0] == "ERR wrong number of arguments for 'config|get' command"
    cmd, error = lookup_command([b"CONFIG", b"GET", b"hz"])
    assert error is None and cmd.full_name == "config|get"


def test_container_with_a_bare_handler():
    cmd, error = lookup_command([b"command"])
    assert error is None and cmd is COMMANDS[b"command"] and cmd.handler is not None
    cmd, error = lookup_command([b"command", b"count"])
    assert error is None and cmd.full_name == "command|count"


# ---------------------------------------------------------------- COMMAND replies

def test_command_entry_shape():
    entry = command_entry(COMMANDS[b"get"])
    assert entry[:6] == [b"get", 2, [Status("readonly"), Status("fast")], 1, 1, 1]
    assert entry[6] == [Status("@read"), Status("@string"), Status("@fast")]
    assert entry[7] == [] and entry[9] == []
    assert entry[8] == [{"flags": [Status("RO"), Status("access")],
                         "begin_search": {"type": b"index", "spec": {"index": 1}},
                         "find_keys": {"type": b"range",
                                       "spec": {"lastkey": 0, "keystep": 1, "limit": 0}}}]
    # Encodable in both protocols.
    assert encode_one(entry).startswith(b"*10\r\n$3\r\nget\r\n:2\r\n")
    assert b"%3\r\n" in encode_one(entry, resp3=True)


def test_command_entry_flags_use_redis_spelling_and_order():
    flags = command_entry(COMMANDS[b"hello"])[2]
    assert flags == ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"]
    assert "pubsub_ok" not in command_entry(COMMANDS[b"ping"])[2]


def test_container_entry_lists_subcommands():
    entry = command_entry(COMMANDS[b"config"])
    names = {sub[0] for sub in entry[9]}
    assert {b"config|get", b"config|set", b"config|resetstat", b"config|rewrite",
            b"config|help"} <= names
    assert entry[6] == ["@slow"]


def test_key_specs_for_ranges():
    spec = key_specs(make(keys=(1, -1, 2), flags="write", arity=-3))[0]
    assert spec["find_keys"]["spec"] == {"lastkey": -1, "keystep": 2, "limit": 0}
    spec = key_specs(make(keys=(2, 4, 1), flags="readonly", arity=-3))[0]
    assert spec["begin_search"]["spec"] == {"index": 2}
    assert spec["find_keys"]["spec"]["lastkey"] == 2
    assert key_specs(make()) == []


def test_movable_entry_is_flagged():
    cmd = make(arity=-3, key_finder=lambda argv: [2])
    entry = command_entry(cmd)
    assert "movablekeys" in entry[2]
    assert entry[8][0]["begin_search"]["type"] == b"unknown"


def test_command_docs():
    docs = command_docs(COMMANDS[b"client"])
    assert docs["group"] == b"connection" and docs["summary"]
    assert b"client|list" in docs["subcommands"]
    assert set(docs["subcommands"][b"client|list"]) >= {"summary", "since", "group"}


@pytest.mark.parametrize("args,result", [
    ([b"get", b"k"], [1]),
    ([b"mset", b"a", b"1", b"b", b"2"], [1, 3]),
    ([b"config", b"get", b"x"], "ERR The command has no key arguments"),
    ([b"nosuch", b"x"], "ERR Invalid command specified"),
    ([b"get", b"a", b"b"], "ERR Invalid number of arguments specified for command"),
])
def test_getkeys(args, result):
    if isinstance(result, str):
        with pytest.raises(ReplyError) as info:
            keys_of(args)
        assert info.value.args[0] == result
    else:
        assert keys_of(args)[1] == result
