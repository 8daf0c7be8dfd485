"""MEMORY and OBJECT FREQ/IDLETIME against redis-server 7.0.15.

Error texts, HELP, the command table entries and MEMORY STATS's field names are compared
exactly. MEMORY USAGE is an estimate on both sides (objectComputeSize samples, and our
model is not Redis's allocator): it must land within 0.5x-2x of redis-server's figure for
every type, small (listpack / intset / embstr encodings) and large.
"""
import pytest

from tests.differential.test_server_cmds import _entry, plain


@pytest.mark.parametrize("args", [
    ("MEMORY",), ("MEMORY", "HELP"), ("MEMORY", "help", "x"), ("MEMORY", "NOSUCH"),
    ("MEMORY", "USAGE"), ("MEMORY", "USAGE", "missing"),
    ("MEMORY", "USAGE", "k", "SAMPLES"), ("MEMORY", "USAGE", "k", "SAMPLES", "x"),
    ("MEMORY", "USAGE", "k", "SAMPLES", "-1"), ("MEMORY", "USAGE", "k", "FOO", "1"),
    ("MEMORY", "USAGE", "missing", "SAMPLES", "0"), ("MEMORY", "STATS", "x"),
    ("MEMORY", "DOCTOR", "x"), ("MEMORY", "PURGE"), ("MEMORY", "PURGE", "x"),
    ("MEMORY", "MALLOC-STATS", "x"),
])
def test_memory_replies(diff, args):
    diff.check("SET", "k", "v")
    diff.check(*args)


def test_object_freq_and_idletime_follow_the_policy(diff):
    diff.check("SET", "k", "v")
    diff.check("OBJECT", "FREQ", "k")              # LRU policy: the error
    diff.check("OBJECT", "FREQ", "missing")
    try:
        diff.check("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        diff.check("OBJECT", "IDLETIME", "k")      # LFU policy: the error
        # (k's old LRU field is read as an LFU word by Redis until k is touched: "will
        # take some time to adjust"; a key created now is comparable.)
        diff.check("SET", "n", "v")
        diff.check("OBJECT", "FREQ", "n")          # a new key's counter, both sides: 5
        diff.check("CONFIG", "SET", "lfu-log-factor", "0")
        for _ in range(3):
            diff.check("GET", "n")
        diff.check("OBJECT", "FREQ", "n")          # every access counted: 8
        diff.check("CONFIG", "SET", "maxmemory-policy", "volatile-lfu")
        diff.check("OBJECT", "FREQ", "n")
    finally:
        diff.check("CONFIG", "SET", "lfu-log-factor", "10")
        diff.check("CONFIG", "SET", "maxmemory-policy", "noeviction")
    # Idle seconds again: both count from their own one-second LRU clock.
    ours, ref = diff.both("OBJECT", "IDLETIME", "k")
    assert ours[0] == ref[0] == ":" and abs(ours[1] - ref[1]) <= 2, (ours, ref)


def test_memory_table_entries(diff):
    ours, ref = _entry(diff.ours, "memory"), _entry(diff.redis, "memory")
    assert ours[:8] == ref[:8]
    assert sorted(sub[:8] for sub in ours[9]) == sorted(sub[:8] for sub in ref[9])


def test_memory_stats_fields(diff):
    diff.check("SET", "k", "v")
    ours = plain(diff.ours.call("MEMORY", "STATS"))
    ref = plain(diff.redis.call("MEMORY", "STATS"))
    assert ours[::2] == ref[::2]
    stats = dict(zip(ours[::2], ours[1::2]))
    assert stats["keys.count"] == 1
    assert stats["total.allocated"] > stats["startup.allocated"] > 0
    assert stats["db.0"][::2] == ["overhead.hashtable.main", "overhead.hashtable.expires",
                                  "overhead.hashtable.slot-to-keys"]


def _fill(client, commands):
    for args in commands:
        client.call(*args)


CASES = {
    "embstr": [("SET", "x", "hello")],
    "int": [("SET", "x", "12345")],
    "raw": [("SET", "x", "y" * 1000)],
    "big string": [("SET", "x", "y" * 100000)],
    "appended": [("SET", "x", "y" * 50), ("APPEND", "x", "z" * 50)],
    "small hash": [("HSET", "x", *sum((("f%d" % i, "v%d" % i) for i in range(10)), ()))],
    "big hash": [("HSET", "x", *sum((("field%d" % i, "value%d" % i) for i in range(2000)),
                                    ()))],
    "small list": [("RPUSH", "x", *("e%d" % i for i in range(10)))],
    "big list": [("RPUSH", "x", *("element%d" % i for i in range(20000)))],
    "intset": [("SADD", "x", *range(100))],
    "small set": [("SADD", "x", *("m%d" % i for i in range(10)))],
    "big set": [("SADD", "x", *("member%d" % i for i in range(5000)))],
    "small zset": [("ZADD", "x", *sum(((i, "m%d" % i) for i in range(10)), ()))],
    "big zset": [("ZADD", "x", *sum(((i * 1.5, "member%d" % i) for i in range(5000)), ()))],
    "small stream": [("XADD", "x", "*", "f", "v") for _ in range(5)],
    "big stream": [("XADD", "x", "%d-1" % i, "field", "value%d" % i) for i in range(1, 1501)],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_memory_usage_is_in_redis_order_of_magnitude(diff, case):
    for client in (diff.ours, diff.redis):
        _fill(client, CASES[case])
    for extra in ((), ("SAMPLES", "0")):
        ours = diff.ours.call("MEMORY", "USAGE", "x", *extra)[1]
        ref = diff.redis.call("MEMORY", "USAGE", "x", *extra)[1]
        assert 0.5 * ref <= ours <= 2 * ref, (case, extra, ours, ref)
