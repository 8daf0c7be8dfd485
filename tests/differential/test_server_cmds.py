"""Connection, server and COMMAND families: the same requests to node.py and redis-server.

Only deterministic replies are compared exactly. Replies that carry per-process values
(client ids, addresses, times) are compared on their shape: the keys of HELLO's map, the
field names of CLIENT INFO. CONFIG GET is compared as a map, since Redis answers in hash
table order. Anything that changes server settings puts them back.
"""
import pytest

from commands import load_all_commands
from commands.server.table import COMMANDS

load_all_commands()      # the table is filled at import; parametrize reads it below


def plain(reply):
    """A typed reply tree -> plain Python values (maps become dicts)."""
    kind, value = reply
    if kind in "*~>" and value is not None:
        return [plain(item) for item in value]
    if kind == "%":
        return {plain(k): plain(v) for k, v in value}
    if kind in "$=" and value is not None:
        return value.decode(errors="replace")
    return value


def as_map(reply):
    items = plain(reply)
    return dict(zip(items[::2], items[1::2]))


# ---------------------------------------------------------------- connection

@pytest.mark.parametrize("args", [
    ("PING",), ("PING", "hello"), ("PING", ""), ("PING", "a", "b"),
    ("ECHO", "x"), ("ECHO", ""), ("ECHO",), ("ECHO", "a", "b"), ("ECHO", b"\x00\xff"),
    ("SELECT", "0"), ("SELECT", "1"), ("SELECT", "-1"), ("SELECT", "x"), ("SELECT", "0", "1"),
    ("SELECT",),
    ("AUTH",), ("AUTH", "x"), ("AUTH", "a", "b"), ("AUTH", "a", "b", "c"),
    ("AUTH", "default", "anything"),
    ("HELLO", "4"), ("HELLO", "1"), ("HELLO", "x"), ("HELLO", "2", "FOO"),
    ("HELLO", "2", "SETNAME"), ("HELLO", "2", "SETNAME", "a b"), ("HELLO", "3", "AUTH"),
    ("HELLO", "3", "AUTH", "a", "b"), ("HELLO", "2", "AUTH", "default"),
    ("RESET", "x"), ("MONITOR", "x"),
])
def test_connection_replies(diff, args):
    diff.check(*args)


def hello(diff, *args):
    """HELLO on both sides: its reply carries the (different) client ids, so only the
    reply type is compared here."""
    ours, ref = diff.both("HELLO", *args)
    assert ours[0] == ref[0]


def test_hello_reply_shape(diff):
    for proto in ("2", "3", None):
        args = ("HELLO", proto) if proto else ("HELLO",)
        ours, ref = diff.both(*args)
        assert ours[0] == ref[0]
        if ours[0] == "%":
            ours_map, ref_map = plain(ours), plain(ref)
        else:
            ours_map, ref_map = as_map(ours), as_map(ref)
        assert list(ours_map) == list(ref_map)
        ours_map.pop("id"), ref_map.pop("id")
        assert ours_map == ref_map
    hello(diff, "2")


def test_hello_switches_protocol(diff):
    hello(diff, "3")
    diff.check("SET", "k", "v")
    diff.check("CONFIG", "GET", "maxmemory")       # a map in RESP3
    diff.check("GET", "nokey")                     # RESP3 null
    hello(diff, "2")
    diff.check("GET", "nokey")


def test_hello_setname_is_applied_before_a_later_error(diff):
    diff.check("HELLO", "3", "SETNAME", "first", "bogus")
    diff.check("CLIENT", "GETNAME")
    diff.check("HELLO", "2", "SETNAME", "second", "AUTH", "nobody", "x")
    diff.check("CLIENT", "GETNAME")
    diff.check("HELLO", "2", "AUTH", "nobody", "x", "SETNAME", "third")
    diff.check("CLIENT", "GETNAME")
    diff.check("PING")


def test_reset(diff):
    diff.check("CLIENT", "SETNAME", "someone")
    hello(diff, "3")
    diff.check("MULTI")
    diff.check("SET", "k", "v")
    diff.check("RESET")
    diff.check("CLIENT", "GETNAME")
    diff.check("GET", "k")            # the transaction was discarded, RESP2 again
    diff.check("EXEC")


@pytest.mark.parametrize("args", [
    ("CLIENT",), ("CLIENT", "FOO"), ("CLIENT", "GETNAME"), ("CLIENT", "GETNAME", "x"),
    ("CLIENT", "SETNAME"), ("CLIENT", "SETNAME", "a b"), ("CLIENT", "SETNAME", "a\nb"),
    ("CLIENT", "SETNAME", "caf\xe9"), ("CLIENT", "ID", "x"), ("CLIENT", "INFO", "x"),
    ("CLIENT", "LIST", "TYPE", "foo"), ("CLIENT", "LIST", "ID"), ("CLIENT", "LIST", "ID", "x"),
    ("CLIENT", "LIST", "ID", "0"), ("CLIENT", "LIST", "ID", "99999", "99998"),
    ("CLIENT", "LIST", "FOO"), ("CLIENT", "LIST", "TYPE", "normal", "x"),
    ("CLIENT", "KILL"), ("CLIENT", "KILL", "1.2.3.4:5"), ("CLIENT", "KILL", "ID", "99999"),
    ("CLIENT", "KILL", "ID", "x"), ("CLIENT", "KILL", "ID", "0"), ("CLIENT", "KILL", "ID", "-1"),
    ("CLIENT", "KILL", "FOO", "bar"), ("CLIENT", "KILL", "ADDR", "1.1.1.1:1", "SKIPME", "maybe"),
    ("CLIENT", "KILL", "ADDR", "1.1.1.1:1", "SKIPME"), ("CLIENT", "KILL", "LADDR", "1.1.1.1:1"),
    ("CLIENT", "KILL", "TYPE", "x"), ("CLIENT", "KILL", "TYPE", "pubsub"),
    ("CLIENT", "KILL", "TYPE", "master", "ID", "3"), ("CLIENT", "KILL", "USER", "nobody"),
    ("CLIENT", "KILL", "ADDR"), ("CLIENT", "KILL", "SKIPME", "yes"),
    ("CLIENT", "NO-EVICT", "on"), ("CLIENT", "NO-EVICT", "off"), ("CLIENT", "NO-EVICT", "x"),
    ("CLIENT", "GETREDIR"),
])
def test_client_replies(diff, args):
    diff.check(*args)


def test_client_setname_getname(diff):
    diff.check("CLIENT", "SETNAME", "worker-1")
    diff.check("CLIENT", "GETNAME")
    diff.check("CLIENT", "SETNAME", "")
    diff.check("CLIENT", "GETNAME")


def test_client_info_fields(diff):
    """Same field names in the same order as Redis 7.0.15 (no 7.2 lib-name/lib-ver)."""
    def fields(reply):
        assert reply[0] == "$"
        line = reply[1].decode()
        assert line.endswith("\n") and line.count("\n") == 1
        return dict(item.split("=", 1) for item in line.split())
    diff.check("CLIENT", "SETNAME", "probe")
    ours, ref = (fields(r) for r in diff.both("CLIENT", "INFO"))
    assert list(ours) == list(ref)
    for same in ("name", "flags", "db", "multi", "cmd", "user", "redir", "resp", "sub",
                 "argv-mem", "obl", "events", "qbuf"):
        assert ours[same] == ref[same], same
    ours_line = diff.ours.call("CLIENT", "LIST", "ID", ours["id"])[1].decode()
    assert ours_line.startswith("id=%s " % ours["id"])


def test_client_list_in_multi_shows_flags(diff):
    diff.check("MULTI")
    diff.check("CLIENT", "INFO")          # queued on both
    ours, ref = diff.both("EXEC")
    ours_line, ref_line = ours[1][0][1].decode(), ref[1][0][1].decode()
    pick = lambda line, key: dict(f.split("=", 1) for f in line.split())[key]  # noqa: E731
    assert pick(ours_line, "flags") == pick(ref_line, "flags") == "x"


# ---------------------------------------------------------------- CONFIG

COMMON_CONFIG = ("save", "appendonly", "maxmemory", "databases", "maxmemory-policy",
                 "maxclients", "timeout", "tcp-keepalive", "hz", "proto-max-bulk-len",
                 "client-query-buffer-limit", "cluster-node-timeout", "cluster-enabled",
                 "cluster-require-full-coverage", "cluster-allow-reads-when-down",
                 "cluster-migration-barrier", "cluster-replica-validity-factor",
                 "cluster-allow-replica-migration", "cluster-replica-no-failover",
                 "cluster-link-sendbuf-limit", "cluster-allow-pubsubshard-when-down",
                 "loglevel", "requirepass", "repl-backlog-size", "repl-ping-replica-period",
                 "daemonize", "cluster-announce-ip")


@pytest.fixture
def restore_config(diff):
    saved = {name: as_map(diff.redis.call("CONFIG", "GET", name))[name]
             for name in ("hash-max-listpack-value", "hz", "save", "maxclients",
                          "cluster-node-timeout", "loglevel", "timeout", "maxmemory-policy")}
    yield
    for name, value in saved.items():
        for client in (diff.ours, diff.redis):
            assert client.call("CONFIG", "SET", name, value) == ("+", "OK")


@pytest.mark.parametrize("name", COMMON_CONFIG)
def test_config_get_common(diff, name):
    ours, ref = diff.both("CONFIG", "GET", name)
    assert as_map(ours) == as_map(ref)


def test_config_get_several_patterns_as_a_map(diff):
    ours, ref = diff.both("CONFIG", "GET", "maxmemory", "save", "appendonly", "databases")
    assert as_map(ours) == as_map(ref)
    ours, ref = diff.both("CONFIG", "GET", "cluster-allow*", "CLUSTER-allow-reads-when-down",
                          "HZ", "hz")
    assert as_map(ours) == as_map(ref)


@pytest.mark.parametrize("args", [
    ("CONFIG",), ("CONFIG", "GET"), ("CONFIG", "GET", "nosuch"), ("CONFIG", "GET", "Hz"),
    ("CONFIG", "SET"), ("CONFIG", "SET", "maxmemory"),
    ("CONFIG", "SET", "hash-max-listpack-value", "1mb", "hz"),
    ("CONFIG", "SET", "nosuch", "1"), ("CONFIG", "SET", "maxmemory", "abc"),
    ("CONFIG", "SET", "maxmemory", "-1"), ("CONFIG", "SET", "hz", "abc"),
    ("CONFIG", "SET", "appendonly", "maybe"), ("CONFIG", "SET", "maxmemory-policy", "foo"),
    ("CONFIG", "SET", "hash-max-listpack-value", "1mb", "hash-max-listpack-value", "2mb"),
    ("CONFIG", "SET", "hash-max-listpack-value", "1mb", "hz", "5", "nosuch", "1"),
    ("CONFIG", "SET", "databases", "3"), ("CONFIG", "SET", "maxclients", "0"),
    ("CONFIG", "SET", "cluster-node-timeout", "-1"), ("CONFIG", "SET", "loglevel", "x"),
    ("CONFIG", "SET", "timeout", "-1"), ("CONFIG", "SET", "save", "3600"),
    ("CONFIG", "SET", "save", "a b"), ("CONFIG", "SET", "proto-max-bulk-len", "10"),
    ("CONFIG", "RESETSTAT", "x"), ("CONFIG", "REWRITE"), ("CONFIG", "REWRITE", "x"),
    ("CONFIG", "FOO"), ("CONFIG", "HELP"),
])
def test_config_replies(diff, restore_config, args):
    diff.check(*args)


def test_config_set_error_names(diff, restore_config):
    diff.check("CONFIG", "SET", "MAXMEMORY", "abc")
    diff.check("CONFIG", "SET", "Hz", "5", "HZ", "6")
    diff.check("CONFIG", "SET", "DATABASES", "3")
    diff.check("CONFIG", "SET", "NoSuch", "3")


def test_shutdown_and_monitor_in_multi(diff):
    diff.check("MULTI")
    diff.check("SHUTDOWN")
    diff.check("EXEC")
    diff.check("MULTI")
    diff.check("MONITOR")
    diff.check("EXEC")


def test_config_set_is_all_or_nothing(diff, restore_config):
    diff.check("CONFIG", "SET", "hash-max-listpack-value", "1mb", "hz", "x")
    diff.check("CONFIG", "GET", "hash-max-listpack-value")
    diff.check("CONFIG", "SET", "hash-max-listpack-value", "1mb", "hz", "20")
    diff.check("CONFIG", "GET", "hash-max-listpack-value")
    diff.check("CONFIG", "GET", "hz")


@pytest.mark.parametrize("name,value", [
    ("hash-max-listpack-value", "1GB"), ("hash-max-listpack-value", "100kb"), ("hz", "600"),
    ("hz", "0"),
    ("save", "3600 1 300 100"), ("save", ""), ("maxclients", "100"),
    ("cluster-node-timeout", "3000"), ("loglevel", "WARNING"), ("maxmemory-policy", "ALLKEYS-LRU"),
])
def test_config_set_then_get(diff, restore_config, name, value):
    diff.check("CONFIG", "SET", name, value)
    ours, ref = diff.both("CONFIG", "GET", name)
    assert as_map(ours) == as_map(ref)


def test_config_resetstat(diff):
    diff.check("CONFIG", "RESETSTAT")


# ---------------------------------------------------------------- server

@pytest.mark.parametrize("args", [
    ("DBSIZE",), ("DBSIZE", "x"), ("FLUSHALL", "x"), ("FLUSHALL", "ASYNC"), ("FLUSHALL", "sync"),
    ("FLUSHALL", "SYNC", "ASYNC"), ("FLUSHDB",), ("FLUSHDB", "ASYNC"), ("FLUSHDB", "y"),
    ("TIME", "x"), ("LASTSAVE", "x"), ("INFO", "foo"), ("INFO", "cluster"),
    ("INFO", "CLUSTER", "nosuch"), ("SHUTDOWN", "FOO"), ("SHUTDOWN", "NOSAVE", "SAVE"),
    ("SHUTDOWN", "ABORT"), ("SHUTDOWN", "ABORT", "NOSAVE"), ("DEBUG",), ("MONITOR", "x"),
])
def test_server_replies(diff, args):
    diff.check(*args)


def test_dbsize_and_flush(diff):
    diff.check("SET", "a", "1")
    diff.check("SET", "{a}b", "2")
    diff.check("DBSIZE")
    diff.check("FLUSHDB")
    diff.check("DBSIZE")
    diff.check("SET", "a", "1")
    diff.check("FLUSHALL", "ASYNC")
    diff.check("DBSIZE")


def test_info_keyspace(diff):
    diff.check("INFO", "keyspace")
    diff.check("SET", "a", "1")
    diff.check("SET", "b", "2")
    diff.check("INFO", "keyspace")
    diff.check("INFO", "cluster", "keyspace")
    diff.check("INFO", "keyspace", "cluster")


def test_info_sections_and_order(diff):
    def headers(reply):
        return [line for line in reply[1].decode().split("\r\n") if line.startswith("# ")]
    for args in [("INFO",), ("INFO", "default"), ("INFO", "all"), ("INFO", "everything"),
                 ("INFO", "cluster", "server"), ("INFO", "commandstats", "default"),
                 ("INFO", "latencystats")]:
        ours, ref = diff.both(*args)
        assert ours[0] == ref[0] == "$"
        assert headers(ours) == headers(ref), args


def test_info_server_fields_tools_read(diff):
    ours = diff.ours.call("INFO", "server")[1].decode()
    ref = diff.redis.call("INFO", "server")[1].decode()
    pick = lambda text: dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l)  # noqa
    ours, ref = pick(ours), pick(ref)
    for field in ("redis_version", "redis_mode", "tcp_port", "arch_bits"):
        assert field in ours
    assert ours["redis_version"] == ref["redis_version"]
    assert ours["redis_mode"] == ref["redis_mode"] == "cluster"


def test_time_shape(diff):
    ours, ref = diff.both("TIME")
    assert [kind for kind, _ in ours[1]] == [kind for kind, _ in ref[1]] == ["$", "$"]
    assert abs(int(ours[1][0][1]) - int(ref[1][0][1])) <= 2


# ---------------------------------------------------------------- COMMAND

def _entry(diff_client, name):
    return plain(diff_client.call("COMMAND", "INFO", name))[0]


MY_COMMANDS = ("ping", "echo", "quit", "reset", "select", "auth", "hello", "client",
               "config", "info", "dbsize", "flushall", "flushdb", "time", "lastsave",
               "debug", "shutdown", "monitor", "command")


@pytest.mark.parametrize("name", MY_COMMANDS)
def test_command_info_of_our_families(diff, name):
    """Everything but key specs: name, arity, flags, keys, categories, tips; and the
    same for each subcommand both sides have."""
    ours, ref = _entry(diff.ours, name), _entry(diff.redis, name)
    assert ours[:8] == ref[:8]
    ref_subs = {sub[0]: sub for sub in ref[9]}
    for sub in ours[9]:
        assert sub[0] in ref_subs, sub[0]
        assert sub[:8] == ref_subs[sub[0]][:8]


@pytest.mark.parametrize("name", sorted(n.decode() for n in COMMANDS))
def test_command_info_table_matches_redis(diff, name):
    """For every command the node has: name, arity, flags, first/last/step."""
    ours, ref = _entry(diff.ours, name), _entry(diff.redis, name)
    if ref is None:
        pytest.skip("%s is not a Redis 7.0.15 command" % name)
    assert ours[:6] == ref[:6]


def test_command_key_specs_of_simple_commands(diff):
    for name in ("get", "mset"):
        ours, ref = _entry(diff.ours, name), _entry(diff.redis, name)
        ours_spec, ref_spec = ours[8][0], ref[8][0]
        # begin_search and find_keys are identical; only the access flags are coarser.
        assert ours_spec[2:] == ref_spec[2:]


@pytest.mark.parametrize("args", [
    ("COMMAND", "GETKEYS"), ("COMMAND", "GETKEYS", "get"), ("COMMAND", "GETKEYS", "get", "a"),
    ("COMMAND", "GETKEYS", "GET", "a"), ("COMMAND", "GETKEYS", "get", "a", "b"),
    ("COMMAND", "GETKEYS", "ping", "x"), ("COMMAND", "GETKEYS", "nosuch", "x"),
    ("COMMAND", "GETKEYS", "set", "a"), ("COMMAND", "GETKEYS", "set", "a", "b"),
    ("COMMAND", "GETKEYS", "mset", "a", "b", "c", "d"), ("COMMAND", "GETKEYS", "mset", "a"),
    ("COMMAND", "GETKEYS", "client", "id"), ("COMMAND", "GETKEYS", "client", "nosuch"),
    ("COMMAND", "GETKEYSANDFLAGS", "get", "k"), ("COMMAND", "COUNT", "x"),
    ("COMMAND", "LIST", "x"), ("COMMAND", "LIST", "FILTERBY"),
    ("COMMAND", "LIST", "FILTERBY", "foo", "x"), ("COMMAND", "LIST", "FILTERBY", "module", "x"),
    ("COMMAND", "LIST", "FILTERBY", "aclcat", "nosuch"),
    ("COMMAND", "LIST", "FILTERBY", "aclcat", "@connection"),
    ("COMMAND", "INFO", "nosuch"), ("COMMAND", "INFO", "client|nosuch"),
    ("COMMAND", "DOCS", "nosuch"), ("COMMAND", "FOO"), ("COMMAND", "HELP"),
])
def test_command_replies(diff, args):
    diff.check(*args)


def test_command_list_filters(diff):
    ours = set(plain(diff.ours.call("COMMAND", "LIST", "FILTERBY", "pattern", "config*")))
    ref = set(plain(diff.redis.call("COMMAND", "LIST", "FILTERBY", "pattern", "config*")))
    assert ours == ref
    ours = set(plain(diff.ours.call("COMMAND", "LIST")))
    ref = set(plain(diff.redis.call("COMMAND", "LIST")))
    # Nothing of Redis 7.2 (CLIENT SETINFO, CLUSTER MYSHARDID): the node is 7.0.15.
    assert ours <= ref
    assert "config|get" in ours


def test_command_docs_shape(diff):
    ours, ref = as_map(diff.ours.call("COMMAND", "DOCS", "client")), \
        as_map(diff.redis.call("COMMAND", "DOCS", "client"))
    ours_doc = dict(zip(ours["client"][::2], ours["client"][1::2]))
    ref_doc = dict(zip(ref["client"][::2], ref["client"][1::2]))
    assert ours_doc["group"] == ref_doc["group"] == "connection"
    assert set(ours_doc) <= set(ref_doc)
    ours_subs = ours_doc["subcommands"][::2]
    assert "client|list" in ours_subs
