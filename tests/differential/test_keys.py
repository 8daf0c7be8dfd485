"""Generic key commands: identical replies from our node and redis-server.

Replies that are not deterministic in Redis itself (RANDOMKEY, SCAN cursors, KEYS order,
TTL values, OBJECT IDLETIME) get property checks instead of equality.
"""
import time

import pytest

from tests.helpers import wait_until

I64_MAX = "9223372036854775807"
I64_MIN = "-9223372036854775808"


def both_until_gone(diff, key):
    """Poll both servers until `key` has expired (never sleep-then-assert)."""
    for client in (diff.ours, diff.redis):
        wait_until(lambda: client.call("EXISTS", key) == (":", 0), timeout=5,
                   message="%r to expire" % key)


def ttl_close(diff, *args, tolerance=1):
    ours, ref = diff.both(*args)
    assert ours[0] == ref[0] == ":" and abs(ours[1] - ref[1]) <= tolerance, (args, ours, ref)
    return ours[1]


def same_keys(diff, pattern):
    """KEYS replies hold the same keys (Redis's order is its hash table's)."""
    ours, ref = diff.both("KEYS", pattern)
    assert ours[0] == ref[0] == "*"
    assert sorted(ours[1]) == sorted(ref[1]), (pattern, ours, ref)


def test_del_unlink_exists_touch(diff):
    diff.check_all([
        ("MSET", "{t}a", "1", "{t}b", "2", "{t}c", "3"),
        ("EXISTS", "{t}a", "{t}a", "{t}x", "{t}b"), ("TOUCH", "{t}a", "{t}x", "{t}a"),
        ("DEL", "{t}a", "{t}a", "{t}x"), ("UNLINK", "{t}b", "{t}c", "{t}b"),
        ("EXISTS", "{t}a", "{t}b", "{t}c"), ("DEL", "{t}a"), ("UNLINK", "{t}zz"),
        ("DEL",), ("EXISTS",), ("TOUCH",), ("UNLINK",),
    ])


def test_type(diff):
    diff.check_all([("TYPE", "k"), ("SET", "k", "v"), ("TYPE", "k"), ("APPEND", "k", "w"),
                    ("TYPE", "k"), ("TYPE",), ("TYPE", "a", "b")])


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
@pytest.mark.parametrize("options", [
    (), ("NX",), ("XX",), ("GT",), ("LT",), ("nx",), ("NX", "XX"), ("NX", "GT"),
    ("NX", "LT"), ("XX", "GT"), ("XX", "LT"), ("GT", "LT"), ("LT", "GT"), ("XX", "NX"),
    ("GT", "NX"), ("FOO",), ("NX", "FOO"), ("GT", "GT"), ("XX", "XX", "LT"),
])
def test_expire_options(diff, cmd, options):
    now = int(time.time())
    far = {"EXPIRE": "5000", "PEXPIRE": "5000000", "EXPIREAT": str(now + 5000),
           "PEXPIREAT": str((now + 5000) * 1000)}[cmd]
    near = {"EXPIRE": "3000", "PEXPIRE": "3000000", "EXPIREAT": str(now + 3000),
            "PEXPIREAT": str((now + 3000) * 1000)}[cmd]
    for setup_ttl in [None, "4000"]:
        for when in (far, near):
            diff.check("SET", "k", "v")
            if setup_ttl:
                diff.check("EXPIRE", "k", setup_ttl)
            diff.check(cmd, "k", when, *options)
            ttl_close(diff, "TTL", "k")
    diff.check("DEL", "k")
    diff.check(cmd, "k", far, *options)


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
@pytest.mark.parametrize("when", [
    "0", "-1", "-100", I64_MAX, I64_MIN, "9223372036854775", "-9223372036854775",
    "9223372036854776", "-9223372036854776", "9223372036854775808", "abc", "1.5", "+10",
    " 10", "", "10 ",
])
def test_expire_times(diff, cmd, when):
    diff.check("SET", "k", "v")
    diff.check(cmd, "k", when)
    diff.check("EXISTS", "k")
    diff.check(cmd, "missing", when)
    diff.check(cmd, "k", when, "BAD")


def test_expire_gt_lt_against_persistent_key(diff):
    diff.check_all([
        ("SET", "k", "v"), ("EXPIRE", "k", "100", "GT"), ("TTL", "k"),
        ("EXPIRE", "k", "100", "LT"), ("TTL", "k"), ("EXPIRE", "k", "-1", "LT"),
        ("EXISTS", "k"), ("SET", "k", "v"), ("EXPIRE", "k", "0"), ("EXISTS", "k"),
        ("SET", "k", "v", "EX", "100"), ("PEXPIRE", "k", "-1", "GT"), ("EXISTS", "k"),
    ])


def test_expire_arity(diff):
    diff.check_all([("EXPIRE", "k"), ("PEXPIREAT",), ("TTL",), ("PTTL", "a", "b"),
                    ("PERSIST",), ("EXPIRETIME",), ("PEXPIRETIME", "a", "b")])


def test_ttl_family(diff):
    diff.check_all([("TTL", "k"), ("PTTL", "k"), ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"),
                    ("SET", "k", "v"), ("TTL", "k"), ("PTTL", "k"), ("EXPIRETIME", "k"),
                    ("PEXPIRETIME", "k"), ("PEXPIREAT", "k", "99999999999999"),
                    ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"),
                    ("PEXPIREAT", "k", "99999999999499"), ("EXPIRETIME", "k"),
                    ("PEXPIREAT", "k", "99999999999500"), ("EXPIRETIME", "k")])
    diff.check("EXPIRE", "k", "100")
    ttl_close(diff, "TTL", "k")
    ttl_close(diff, "PTTL", "k", tolerance=1000)
    ttl_close(diff, "EXPIRETIME", "k")
    ttl_close(diff, "PEXPIRETIME", "k", tolerance=1000)
    diff.check_all([("PERSIST", "k"), ("PERSIST", "k"), ("TTL", "k"), ("PERSIST", "none")])


def test_keys_expire_lazily(diff):
    diff.check_all([("SET", "a", "1"), ("SET", "b", "2"), ("PEXPIRE", "a", "1"),
                    ("SET", "c", "3", "PX", "1")])
    both_until_gone(diff, "a")
    both_until_gone(diff, "c")
    diff.check_all([("GET", "a"), ("TTL", "a"), ("PERSIST", "a"), ("EXPIRE", "a", "10"),
                    ("GET", "c"), ("INCR", "c"), ("DBSIZE",)])
    same_keys(diff, "*")


def test_expired_key_is_gone_for_every_command(diff):
    for cmd in [("GET", "x"), ("TYPE", "x"), ("STRLEN", "x"), ("APPEND", "x", "y"),
                ("RENAME", "x", "{x}y"), ("OBJECT", "ENCODING", "x"), ("TOUCH", "x"),
                ("EXISTS", "x"), ("SETNX", "x", "new"), ("GETDEL", "x"), ("PTTL", "x"),
                ("SET", "x", "n", "XX"), ("GETEX", "x", "PERSIST"), ("LCS", "x", "x")]:
        diff.check("FLUSHALL")
        diff.check("SET", "x", "old", "PX", "1")
        both_until_gone(diff, "x")
        # Again, but without touching x: once {x}sentinel (set later, same TTL) is gone,
        # x has expired too and is only waiting in the table to be noticed.
        diff.check("SET", "x", "old", "PX", "1")
        diff.check("SET", "{x}sentinel", "v", "PX", "1")
        both_until_gone(diff, "{x}sentinel")
        diff.check(*cmd)
        diff.check("GET", "x")


@pytest.mark.parametrize("nx", [False, True])
def test_rename(diff, nx):
    cmd = "RENAMENX" if nx else "RENAME"
    diff.check_all([
        (cmd, "{t}a", "{t}b"), ("SET", "{t}a", "1"), (cmd, "{t}a", "{t}a"),
        (cmd, "{t}a", "{t}b"), ("MGET", "{t}a", "{t}b"), ("SET", "{t}c", "3", "EX", "100"),
        (cmd, "{t}c", "{t}b"), ("MGET", "{t}b", "{t}c"), (cmd, "{t}c", "{t}d"),
        ("TTL", "{t}d"), ("SET", "{t}b", "x", "EX", "50"), ("SET", "{t}e", "e"),
        (cmd, "{t}e", "{t}b"), ("TTL", "{t}b"), ("GET", "{t}b"), (cmd, "{t}none", "{t}none"),
        (cmd, "{t}a"), (cmd, "{t}a", "{t}b", "{t}c"),
    ])


def test_copy(diff):
    diff.check_all([
        ("COPY", "{t}a", "{t}b"), ("SET", "{t}a", "1", "EX", "100"), ("COPY", "{t}a", "{t}b"),
        ("MGET", "{t}a", "{t}b"), ("TTL", "{t}b"), ("SET", "{t}a", "2"),
        ("COPY", "{t}a", "{t}b"), ("COPY", "{t}a", "{t}b", "REPLACE"), ("TTL", "{t}b"),
        ("GET", "{t}b"), ("COPY", "{t}a", "{t}a"), ("COPY", "{t}a", "{t}a", "REPLACE"),
        ("COPY", "{t}a", "{t}c", "DB", "0"), ("COPY", "{t}a", "{t}c", "DB", "1"),
        ("COPY", "{t}a", "{t}c", "DB", "15"), ("COPY", "{t}a", "{t}c", "DB", "16"),
        ("COPY", "{t}a", "{t}c", "DB", "-1"), ("COPY", "{t}a", "{t}c", "DB", "x"),
        ("COPY", "{t}a", "{t}c", "DB", "2147483648"), ("COPY", "{t}a", "{t}c", "DB"),
        ("COPY", "{t}a", "{t}c", "FOO"), ("COPY", "{t}a", "{t}c", "replace", "db", "0"),
        ("COPY", "{t}a", "{t}a", "DB", "1"), ("COPY", "{t}none", "{t}d", "DB", "1"),
        ("COPY", "{t}a"),
    ])


def test_copy_is_independent(diff):
    diff.check_all([
        ("SET", "{t}a", "base"), ("APPEND", "{t}a", "+"), ("COPY", "{t}a", "{t}b"),
        ("APPEND", "{t}a", "more"), ("SETRANGE", "{t}b", "0", "B"),
        ("MGET", "{t}a", "{t}b"), ("OBJECT", "ENCODING", "{t}b"),
    ])


# Patterns exercising every branch of Redis's stringmatchlen.
PATTERNS = [
    "*", "**", "", "?", "??", "a*", "*a", "*a*", "a?c", "a[bc]d", "a[^b]c", "a[!b]c",
    "[a-c]*", "[c-a]*", "[^a-c]*", "a\\*c", "a\\?c", "\\", "a\\", "[", "[^", "[abc",
    "[a-", "[\\]]*", "[]]*", "a[\\^]c", "*[0-9]", "[-a]", "[a-]", "h*llo", "h\\ello",
    "*\\*", "?*?", "*?*?*", "[\x00-\x1f]*", "[a-\xff]", "[\x80-\xff]*", "\xff*",
    "[^\xff]*", "a[b-b]c", "A*", "*{t}*", "[[]*", "[*]", "a*b*c*d*e*f", "a**",
]
KEYS = [b"", b"a", b"b", b"c", b"ab", b"abc", b"abd", b"acd", b"a*c", b"a?c", b"axc",
        b"hello", b"hallo", b"hllo", b"heello", b"h\\ello", b"\\", b"a\\", b"[", b"]x",
        b"^", b"-", b"a^c", b"1", b"x9", b"\x00", b"\x01a", b"\xff", b"\xffa", b"\x80",
        b"Abc", b"{t}x", b"*", b"abcdef", b"aXbYcZdWeVf", b"*x", b"a-"]


def test_keys_patterns(diff):
    for key in KEYS:
        diff.check("SET", key, b"v")
    for pattern in PATTERNS:
        same_keys(diff, pattern)


def test_keys_hide_expired_and_arity(diff):
    diff.check_all([("SET", "a", "1"), ("SET", "b", "2", "PX", "1"), ("KEYS",),
                    ("KEYS", "a", "b")])
    both_until_gone(diff, "b")
    same_keys(diff, "*")


def _full_scan(client, *options, cursor=b"0"):
    """Every key a complete SCAN returns, with the number of calls it took."""
    keys, calls = [], 0
    while True:
        reply = client.call("SCAN", cursor, *options)
        assert reply[0] == "*" and reply[1][0][0] == "$", reply
        cursor = reply[1][0][1]
        keys.extend(item[1] for item in reply[1][1][1])
        calls += 1
        assert calls < 20000
        if cursor == b"0":
            return keys, calls


def test_scan_returns_every_key_once(diff):
    names = [b"key:%d" % i for i in range(300)]
    for client in (diff.ours, diff.redis):
        client.pipeline([("SET", name, b"v") for name in names])
    for options in [(), ("COUNT", "7"), ("COUNT", "1000"), ("MATCH", "key:1*"),
                    ("MATCH", "*", "COUNT", "50"), ("TYPE", "string"), ("TYPE", "STRING"),
                    ("TYPE", "list"), ("TYPE", "nosuchtype"), ("MATCH", "nomatch*")]:
        ours, _ = _full_scan(diff.ours, *options)
        ref, _ = _full_scan(diff.redis, *options)
        assert len(ours) == len(set(ours)), options
        assert sorted(ours) == sorted(ref), options


@pytest.mark.parametrize("args", [
    ("x",), (" 1",), ("1 ",), ("+",), ("-",), ("1.5",), ("18446744073709551616",),
    ("0", "COUNT"), ("0", "COUNT", "0"), ("0", "COUNT", "-1"), ("0", "COUNT", "x"),
    ("0", "MATCH"), ("0", "TYPE"), ("0", "FOO", "bar"), ("0", "count", "2", "match"),
])
def test_scan_errors(diff, args):
    diff.check("SCAN", *args)


def test_scan_odd_cursors_are_accepted(diff):
    diff.check("SET", "k", "v")
    for cursor in [b"", b"+0", b"\x00", b"0\x00x", b"-18446744073709551616"]:
        ours, ref = diff.both("SCAN", cursor)
        assert ours[0] == ref[0], (cursor, ours, ref)
    diff.check("SCAN")


def test_randomkey(diff):
    diff.check("RANDOMKEY")
    diff.check("RANDOMKEY", "x")
    names = {b"r%d" % i for i in range(20)}
    diff.ours.pipeline([("SET", name, b"v") for name in names])
    seen = set()
    for _ in range(200):
        reply = diff.ours.call("RANDOMKEY")
        assert reply[0] == "$" and reply[1] in names
        seen.add(reply[1])
    assert len(seen) > 5
    diff.ours.call("PEXPIRE", "r1", "1")
    diff.ours.pipeline([("DEL", n) for n in names if n != b"r1"])  # one slot per command
    wait_until(lambda: diff.ours.call("RANDOMKEY") == ("$", None), timeout=5)


def test_object(diff):
    diff.check_all([
        ("OBJECT", "ENCODING", "k"), ("OBJECT", "REFCOUNT", "k"), ("OBJECT", "IDLETIME", "k"),
        ("OBJECT", "FREQ", "k"), ("SET", "k", "v"), ("OBJECT", "FREQ", "k"),
        ("OBJECT", "HELP"), ("OBJECT", "help"), ("OBJECT",), ("OBJECT", "FOO"),
        ("OBJECT", "ENCODING"), ("OBJECT", "ENCODING", "a", "b"), ("OBJECT", "HELP", "x"),
        ("OBJECT", "IDLETIME", "k"),
    ])


def test_object_idletime_grows_and_inspection_does_not_touch(raw):
    raw.call("SET", "k", "v")
    assert raw.call("OBJECT", "IDLETIME", "k") == (":", 0)
    # IDLETIME has a one-second resolution: wait until it reads at least 1.
    wait_until(lambda: raw.call("OBJECT", "IDLETIME", "k")[1] >= 1, timeout=5)
    for inspect in [("TYPE", "k"), ("EXISTS", "k"), ("TTL", "k"), ("OBJECT", "ENCODING", "k")]:
        raw.call(*inspect)
    assert raw.call("OBJECT", "IDLETIME", "k")[1] >= 1
    raw.call("GET", "k")
    assert raw.call("OBJECT", "IDLETIME", "k") == (":", 0)


def test_command_info_key_specs(diff):
    """redis-py's RedisCluster routes with these: arity, flags and key positions must be
    Redis's."""
    names = ["del", "unlink", "exists", "type", "expire", "pexpire", "expireat",
             "pexpireat", "ttl", "pttl", "expiretime", "pexpiretime", "persist", "rename",
             "renamenx", "keys", "scan", "randomkey", "touch", "copy", "get", "set",
             "setnx", "setex", "psetex", "getset", "getdel", "getex", "mget", "mset",
             "msetnx", "incr", "decr", "incrby", "decrby", "incrbyfloat", "append",
             "strlen", "getrange", "setrange", "lcs", "substr"]
    ours, ref = diff.both("COMMAND", "INFO", *names)
    for mine, theirs in zip(ours[1], ref[1]):
        # name, arity, flags, first, last, step, categories, tips
        assert mine[1][:8] == theirs[1][:8], (mine[1][0], mine[1][:8], theirs[1][:8])
    ours, ref = diff.both("COMMAND", "INFO", "object")
    assert ours[1][0][1][:8] == ref[1][0][1][:8]
    for args in [("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"),
                 ("COMMAND", "GETKEYS", "RENAME", "a", "b"),
                 ("COMMAND", "GETKEYS", "LCS", "a", "b", "IDX"),
                 ("COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k")]:
        diff.check(*args)


def test_keyspace_hits_and_misses(diff):
    """Read lookups count INFO keyspace_hits/misses; write lookups do not."""
    def stats(client):
        info = client.call("INFO", "stats")[1].decode()
        return [line for line in info.split("\r\n")
                if line.startswith(("keyspace_hits:", "keyspace_misses:"))]

    diff.check("SET", "{t}hk", "v")
    for cmd in [("EXISTS", "{t}hk", "{t}no"), ("TYPE", "{t}hk"), ("TTL", "{t}no"),
                ("OBJECT", "ENCODING", "{t}hk"), ("TOUCH", "{t}hk", "{t}no"),
                ("STRLEN", "{t}hk"), ("GETRANGE", "{t}no", "0", "1"), ("INCR", "{t}n"),
                ("EXPIRE", "{t}hk", "100"), ("LCS", "{t}hk", "{t}no"),
                ("COPY", "{t}hk", "{t}hk2"), ("GETEX", "{t}hk"), ("GETDEL", "{t}hk2"),
                ("MGET", "{t}hk", "{t}no"), ("SET", "{t}hk", "w", "GET"), ("KEYS", "*"),
                ("RENAME", "{t}hk", "{t}hk3"), ("APPEND", "{t}hk3", "x"),
                ("PERSIST", "{t}hk3"), ("SETNX", "{t}hk3", "y"), ("DEL", "{t}hk3")]:
        diff.check("CONFIG", "RESETSTAT")
        if cmd[0] == "KEYS":
            diff.both(*cmd)
        else:
            diff.check(*cmd)
        assert stats(diff.ours) == stats(diff.redis), cmd
