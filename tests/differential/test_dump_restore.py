"""DUMP / RESTORE / RESTORE-ASKING / MIGRATE / DEBUG DIGEST* against redis-server 7.0.

Both sides speak Redis's DUMP payload: the payload bytes are compared for every value
type and encoding, each side restores the other's payloads, and MIGRATE moves keys from
redis-server to our node and back. The PLACEHOLDER tests restore each side's own payload
and compare every error reply and the behaviour around it (BUSYKEY, REPLACE, TTL,
ABSTTL, IDLETIME...).
"""
import time

import pytest

PAYLOAD = object()                    # stands for "this server's own DUMP of key src"


def _own_payloads(diff, key="src", value="hello"):
    diff.check("SET", key, value)
    ours = diff.ours.call("DUMP", key)
    ref = diff.redis.call("DUMP", key)
    assert ours[0] == ref[0] == "$"
    return ours[1], ref[1]


def check_restore(diff, *args, payloads):
    """Send args with PAYLOAD replaced by each side's own payload; replies must match."""
    ours_payload, ref_payload = payloads
    ours = diff.ours.call(*[ours_payload if a is PAYLOAD else a for a in args])
    ref = diff.redis.call(*[ref_payload if a is PAYLOAD else a for a in args])
    assert ours == ref, "%r:\n  ours:  %r\n  redis: %r" % (args, ours, ref)
    return ours


@pytest.fixture
def payloads(diff):
    return _own_payloads(diff)


# ---------------------------------------------------------------- DUMP

def test_dump_basics(diff):
    diff.check("DUMP", "missing")
    diff.check("DUMP")
    diff.check("DUMP", "a", "b")
    diff.check("SET", "k", "v")
    assert diff.ours.call("DUMP", "k")[0] == diff.redis.call("DUMP", "k")[0] == "$"


# ---------------------------------------------------------------- RESTORE errors

@pytest.mark.parametrize("name", ["RESTORE", "RESTORE-ASKING"])
def test_restore_errors(diff, payloads, name):
    check = lambda *args: check_restore(diff, name, *args, payloads=payloads)  # noqa: E731
    diff.check(name)
    diff.check(name, "k", "0")
    check("k", "0", "garbage")
    check("k", "0", "")
    check("k", "0", "x" * 10)
    check("k", "-1", PAYLOAD)
    check("k", "abc", PAYLOAD)
    check("k", "1.5", PAYLOAD)
    check("k", "99999999999999999999", PAYLOAD)
    for zero in ("00", "-0", "+0", " 0", "0 "):     # only "0" itself is read unparsed
        check("k", zero, PAYLOAD)
    check("k", "0", PAYLOAD, "bogus")
    check("k", "0", PAYLOAD, "idletime")
    check("k", "0", PAYLOAD, "idletime", "-1")
    check("k", "0", PAYLOAD, "idletime", "abc")
    check("k", "0", PAYLOAD, "freq")
    check("k", "0", PAYLOAD, "freq", "256")
    check("k", "0", PAYLOAD, "freq", "-1")
    check("k", "0", PAYLOAD, "freq", "x")
    check("k", "0", PAYLOAD, "freq", "1", "idletime", "2")
    check("k", "0", PAYLOAD, "idletime", "1", "freq", "2")
    check("k", "0", PAYLOAD, "replace", "bogus")
    diff.check("EXISTS", "k")


def test_restore_order_of_checks(diff, payloads):
    check = lambda *args: check_restore(diff, "RESTORE", *args, payloads=payloads)  # noqa
    diff.check("SET", "busy", "x")
    check("busy", "-1", "garbage", "bogus")          # options first
    check("busy", "-1", "garbage")                   # then BUSYKEY
    check("busy", "-1", "garbage", "REPLACE")        # then the TTL
    check("busy", "0", "garbage", "REPLACE")         # then the payload
    check("new", "abc", "garbage")
    check("new", "0", "garbage", "idletime", "-5")
    diff.check("GET", "busy")


def test_a_corrupted_own_payload_is_refused(diff, payloads):
    ours, ref = payloads
    flip = lambda p, i: p[:i] + bytes([p[i] ^ 0x20]) + p[i + 1:]  # noqa: E731
    for index in (0, len(ours) // 2, -10, -9, -1):
        check_restore(diff, "RESTORE", "k", "0", PAYLOAD,
                      payloads=(flip(ours, index % len(ours)), flip(ref, index % len(ref))))
    check_restore(diff, "RESTORE", "k", "0", PAYLOAD, payloads=(ours[:-1], ref[:-1]))
    check_restore(diff, "RESTORE", "k", "0", PAYLOAD, payloads=(ours[:9], ref[:9]))
    diff.check("EXISTS", "k")


# One key per value type and encoding Redis 7.0 writes (default thresholds).
VALUES = {
    "str-raw": [["SET", "{v}str-raw", "hello world"]],
    "str-int": [["SET", "{v}str-int", "-12345"]],
    "str-long": [["SET", "{v}str-long", "ab" * 200]],          # LZF-compressed
    "list": [["RPUSH", "{v}list", "a", "b", "1", "2" * 100]],
    "list-big": [["RPUSH", "{v}list-big", *("item-%d" % i for i in range(2000))]],
    "set-intset": [["SADD", "{v}set-intset", "1", "-2", "300000", "70000000000"]],
    "set-table": [["SADD", "{v}set-table", "a", "b", "c"]],
    "hash-listpack": [["HSET", "{v}hash-listpack", "f1", "v1", "f2", "12"]],
    "hash-table": [["HSET", "{v}hash-table", "f", "x" * 100]],
    "zset-listpack": [["ZADD", "{v}zset-listpack", "1", "a", "2.5", "b", "-inf", "c"]],
    "zset-skiplist": [["ZADD", "{v}zset-skiplist", *sum((["%d.5" % i, "m%d" % i]
                                                          for i in range(200)), [])]],
}


# A hashtable set is saved in hash-table order, which differs between implementations.
ORDER_FREE = {"set-table"}


@pytest.mark.parametrize("name", sorted(set(VALUES) - ORDER_FREE))
def test_payloads_are_redis_s_byte_for_byte(diff, name):
    key = "{v}" + name
    diff.check("DEL", key)
    for args in VALUES[name]:
        diff.check(*args)
    diff.check("OBJECT", "ENCODING", key)
    diff.check("DUMP", key)


@pytest.mark.parametrize("name", sorted(VALUES))
def test_each_side_restores_the_other_s_payloads(diff, name):
    key = "{v}" + name
    diff.check("DEL", key, key + "-copy")
    for args in VALUES[name]:
        diff.check(*args)
    ours = diff.ours.call("DUMP", key)[1]
    ref = diff.redis.call("DUMP", key)[1]
    assert diff.ours.call("RESTORE", key + "-copy", "0", ref) == ("+", "OK")
    assert diff.redis.call("RESTORE", key + "-copy", "0", ours) == ("+", "OK")
    # Each side's copy equals its original (digests are each server's own).
    for side in (diff.ours, diff.redis):
        assert side.call("DEBUG", "DIGEST-VALUE", key + "-copy") == \
            side.call("DEBUG", "DIGEST-VALUE", key)
    diff.check("TYPE", key + "-copy")
    diff.check("OBJECT", "ENCODING", key + "-copy")
    diff.check("DEL", key, key + "-copy")


def test_corrupt_payloads_are_refused_the_same_way(diff, payloads):
    ours, ref = payloads
    assert ours == ref
    for bad in (ours[:-1], ours[:5], b"x" + ours[1:], ours[:-10] + b"\x0b\x00" + ours[-8:]):
        check_restore(diff, "RESTORE", "k", "0", PAYLOAD, payloads=(bad, bad))
    diff.check("EXISTS", "k")


def test_migrate_between_redis_server_and_our_node(diff):
    """MIGRATE from redis-server to us and back: the value arrives whole both ways."""
    ours_port = diff.ours.sock.getpeername()[1]
    redis_port = diff.redis.sock.getpeername()[1]
    diff.check("DEL", "{m}k")
    assert diff.redis.call("HSET", "{m}k", "f", "v", "g", "w") == (":", 2)
    assert diff.redis.call("PEXPIRE", "{m}k", "100000") == (":", 1)
    assert diff.redis.call("MIGRATE", "127.0.0.1", str(ours_port), "{m}k", "0",
                           "5000") == ("+", "OK")
    assert diff.ours.call("HGETALL", "{m}k") == ("*", [("$", b"f"), ("$", b"v"), ("$", b"g"), ("$", b"w")])
    assert 0 < diff.ours.call("PTTL", "{m}k")[1] <= 100000
    assert diff.ours.call("MIGRATE", "127.0.0.1", str(redis_port), "{m}k", "0",
                          "5000") == ("+", "OK")
    assert diff.redis.call("HGETALL", "{m}k") == ("*", [("$", b"f"), ("$", b"v"), ("$", b"g"), ("$", b"w")])
    assert diff.ours.call("EXISTS", "{m}k") == (":", 0)      # MIGRATE moved it away
    diff.redis.call("DEL", "{m}k")


# ---------------------------------------------------------------- RESTORE behaviour

def test_restore_busykey_and_replace(diff, payloads):
    check = lambda *args: check_restore(diff, "RESTORE", *args, payloads=payloads)  # noqa
    check("k", "0", PAYLOAD)
    diff.check("GET", "k")
    diff.check("TTL", "k")
    check("k", "0", PAYLOAD)
    diff.check("SET", "k", "other")
    check("k", "0", PAYLOAD, "REPLACE")
    diff.check("GET", "k")
    diff.check("LPUSH", "list", "a")
    check("list", "0", PAYLOAD)
    check("list", "0", PAYLOAD, "replace", "REPLACE")
    diff.check("TYPE", "list")
    diff.check("GET", "list")


def test_restore_ttl(diff, payloads):
    check = lambda *args: check_restore(diff, "RESTORE", *args, payloads=payloads)  # noqa
    check("k", "100000", PAYLOAD)
    diff.check("TTL", "k")
    # REPLACE drops the old TTL; a zero TTL means none.
    check("k", "0", PAYLOAD, "REPLACE")
    diff.check("TTL", "k")
    # A relative TTL that overflows is a past time: OK, but no key.
    check("huge", "9223372036854775807", PAYLOAD)
    diff.check("EXISTS", "huge")


def test_restore_absttl(diff, payloads):
    check = lambda *args: check_restore(diff, "RESTORE", *args, payloads=payloads)  # noqa
    future = int(time.time() * 1000) + 100000
    check("k", str(future), PAYLOAD, "ABSTTL")
    diff.check("TTL", "k")
    diff.check("PEXPIRETIME", "k")
    # A past absolute time: OK and nothing is created...
    check("gone", "1", PAYLOAD, "ABSTTL")
    diff.check("EXISTS", "gone")
    # ... and with REPLACE the old key is deleted.
    check("k", "1", PAYLOAD, "REPLACE", "ABSTTL")
    diff.check("EXISTS", "k")
    check("k", "0", PAYLOAD, "ABSTTL")
    diff.check("TTL", "k")


def test_restore_idletime_and_freq(diff, payloads):
    check = lambda *args: check_restore(diff, "RESTORE", *args, payloads=payloads)  # noqa
    check("idle", "0", PAYLOAD, "IDLETIME", "1000")
    diff.check("OBJECT", "IDLETIME", "idle")
    check("freq", "0", PAYLOAD, "FREQ", "100")
    diff.check("OBJECT", "FREQ", "freq")            # no LFU policy: both refuse
    diff.check("GET", "freq")


def test_restore_freq_under_an_lfu_policy(diff, payloads):
    check = lambda *args: check_restore(diff, "RESTORE", *args, payloads=payloads)  # noqa
    diff.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    try:
        check("freq2", "0", PAYLOAD, "FREQ", "100")
        diff.check("OBJECT", "FREQ", "freq2")
        diff.check("SET", "freq2", "new value")    # an overwrite keeps the counter (dbOverwrite)
        diff.check("OBJECT", "FREQ", "freq2")
    finally:
        diff.check("CONFIG", "SET", "maxmemory-policy", "noeviction")


def test_restored_strings_look_new(diff):
    for value in ("12345", "short", "x" * 100, ""):
        payloads = _own_payloads(diff, value=value)
        check_restore(diff, "RESTORE", "k", "0", PAYLOAD, "REPLACE", payloads=payloads)
        diff.check("GET", "k")
        diff.check("OBJECT", "ENCODING", "k")
        diff.check("STRLEN", "k")


# ---------------------------------------------------------------- the command table

@pytest.mark.parametrize("name", ["dump", "restore", "restore-asking", "migrate"])
def test_command_info(diff, name):
    ours = diff.ours.call("COMMAND", "INFO", name)[1][0][1]
    ref = diff.redis.call("COMMAND", "INFO", name)[1][0][1]
    # name, arity, flags, first, last, step, ACL categories, tips (key specs differ in
    # detail flags only).
    assert ours[:8] == ref[:8]


@pytest.mark.parametrize("args", [
    ["MIGRATE", "h", "1", "k", "0", "5000"],
    ["MIGRATE", "h", "1", "", "0", "5000"],
    ["MIGRATE", "h", "1", "", "0", "5000", "KEYS", "a", "b"],
    ["MIGRATE", "h", "1", "k", "0", "5000", "KEYS", "a", "b"],
    ["MIGRATE", "h", "1", "", "0", "5000", "COPY", "REPLACE", "AUTH", "p", "KEYS", "a"],
    ["MIGRATE", "h", "1", "", "0", "5000", "KEYS"],
    ["MIGRATE", "h", "1", "k", "0", "5000", "KEYS"],
    ["MIGRATE", "h", "1", "keys", "0", "5000", "COPY"],
    ["MIGRATE", "h", "1", "", "0", "5000", "AUTH", "keys", "KEYS", "a"],
    ["MIGRATE", "h", "1", "", "0", "5000", "AUTH2", "keys", "keys", "KEYS", "a", "b"],
    ["MIGRATE", "h", "1", "", "0", "5000", "BOGUS", "KEYS", "a"],
    ["MIGRATE", "h", "1", "k", "0"],
    ["RESTORE", "k", "0", "p"],
    ["RESTORE-ASKING", "k", "0", "p", "REPLACE"],
    ["DUMP", "k"],
])
def test_command_getkeys(diff, args):
    diff.check("COMMAND", "GETKEYS", *args)


# ---------------------------------------------------------------- MIGRATE errors

def test_migrate_argument_errors(diff):
    diff.check("SET", "k", "v")
    diff.check("MIGRATE", "127.0.0.1", "1", "k", "0")
    diff.check("MIGRATE", "127.0.0.1", "1", "k", "0", "100", "KEYS", "a")
    diff.check("MIGRATE", "127.0.0.1", "1", "k", "0", "100", "bogus")
    diff.check("MIGRATE", "127.0.0.1", "1", "k", "0", "100", "AUTH")
    diff.check("MIGRATE", "127.0.0.1", "1", "k", "0", "100", "AUTH2", "user")
    diff.check("MIGRATE", "127.0.0.1", "1", "k", "0", "100", "COPY", "bogus", "KEYS")
    diff.check("MIGRATE", "127.0.0.1", "1", "k", "0", "soon")
    diff.check("MIGRATE", "127.0.0.1", "1", "k", "db", "100")
    diff.check("MIGRATE", "127.0.0.1", "1", "k", "0", "99999999999999999999")
    diff.check("MIGRATE", "127.0.0.1", "1", "missing", "0", "100")
    diff.check("MIGRATE", "127.0.0.1", "1", "", "0", "100")
    diff.check("MIGRATE", "127.0.0.1", "1", "", "0", "100", "KEYS")
    diff.check("MIGRATE", "127.0.0.1", "1", "", "0", "100", "KEYS", "{t}x", "{t}y")
    diff.check("GET", "k")


def test_migrate_io_errors(diff):
    diff.check("SET", "k", "v")
    diff.check("MIGRATE", "127.0.0.1", "1", "k", "0", "300")     # nothing listens on 1
    diff.check("MIGRATE", "nonexistent.invalid", "1", "k", "0", "300")
    diff.check("GET", "k")


# ---------------------------------------------------------------- DEBUG digests

def test_debug_digests(diff):
    diff.check("DEBUG", "DIGEST")                    # empty: forty zeros on both
    diff.check("DEBUG", "DIGEST-VALUE")
    diff.check("DEBUG", "DIGEST-VALUE", "missing", "missing2")
    diff.check("SET", "k", "v")
    ours = diff.ours.call("DEBUG", "DIGEST-VALUE", "k", "missing")
    ref = diff.redis.call("DEBUG", "DIGEST-VALUE", "k", "missing")
    assert [r[0] for r in ours[1]] == [r[0] for r in ref[1]] == ["+", "+"]
    assert ours[1][1] == ref[1][1] and len(ours[1][0][1]) == 40
    assert diff.ours.call("DEBUG", "DIGEST")[1] != "0" * 40


@pytest.mark.parametrize("fill", ["4", "-1", "1"])
def test_list_max_listpack_size_cuts_dumped_lists_as_redis(diff, fill):
    """A list is one deque here; list-max-listpack-size decides the quicklist nodes a
    DUMP (and so an RDB save, MIGRATE and a full sync) cuts it into, as on redis-server."""
    diff.check("CONFIG", "SET", "list-max-listpack-size", fill)
    try:
        diff.check("RPUSH", "biglist", *["element-%04d" % i for i in range(600)])
        ours, ref = diff.ours.call("DUMP", "biglist"), diff.redis.call("DUMP", "biglist")
        assert ours == ref
        shape = lambda server: [field for field in server.call("DEBUG", "OBJECT", "biglist")[1]
                                .split() if not field.startswith(("at:", "lru"))]  # noqa: E731
        assert shape(diff.ours) == shape(diff.redis)
    finally:
        diff.check("CONFIG", "SET", "list-max-listpack-size", "-2")
