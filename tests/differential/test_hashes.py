"""Hash commands: identical replies (types and error texts) from our node and redis-server.

Small hashes are listpacks in Redis and their order is insertion order, which we keep
too, so their replies are compared exactly. Hashes converted to hashtables list their
fields in an order that depends on Redis's dict internals; those replies are compared
as multisets (`check_unordered`). Random replies (HRANDFIELD) and HSCAN cursors over
hashtables get property checks instead.
"""
import pytest

from tests.differential.collections_util import (check_restored_copies, check_unordered, full_scan,
                                                 pairs, plain, resp3)

I64_MAX = "9223372036854775807"
I64_MIN = "-9223372036854775808"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
BAD_INTEGERS = ["+1", " 1", "01", "-0", "0x10", "1.0", "1e3", "", "abc",
                "9223372036854775808", "-9223372036854775809", "1_000", "\x001"]


def test_basic_set_get(diff):
    diff.check_all([
        ("HSET", "h", "a", "1"), ("HSET", "h", "a", "2", "b", "3"), ("HGET", "h", "a"),
        ("HGET", "h", "nope"), ("HGET", "missing", "a"), ("HLEN", "h"), ("HLEN", "missing"),
        ("HEXISTS", "h", "a"), ("HEXISTS", "h", "z"), ("HEXISTS", "missing", "a"),
        ("HMGET", "h", "a", "z", "b"), ("HMGET", "missing", "a", "b"),
        ("HSTRLEN", "h", "a"), ("HSTRLEN", "h", "z"), ("HSTRLEN", "missing", "z"),
        ("HKEYS", "h"), ("HVALS", "h"), ("HGETALL", "h"), ("HKEYS", "missing"),
        ("HVALS", "missing"), ("HGETALL", "missing"), ("TYPE", "h"),
        ("OBJECT", "ENCODING", "h"),
    ])


def test_listpack_order_is_insertion_order(diff):
    diff.check_all([
        ("HSET", "h", "c", "1", "a", "2", "b", "3"), ("HSET", "h", "a", "x"),
        ("HGETALL", "h"), ("HDEL", "h", "c"), ("HSET", "h", "c", "again"),
        ("HKEYS", "h"), ("HVALS", "h"), ("HGETALL", "h"), ("HSCAN", "h", "0"),
    ])


def test_hset_hmset_replies_and_arity(diff):
    diff.check_all([
        ("HSET", "h", "a"), ("HSET", "h", "a", "1", "b"), ("HMSET", "h", "a"),
        ("HMSET", "h", "a", "1", "b"), ("HMSET", "h", "a", "1", "b", "2"),
        ("HSET", "h", "a", "1", "a", "2"), ("HGET", "h", "a"), ("HLEN", "h"),
        ("HSET", "h"), ("HGET", "h"), ("HMGET", "h"), ("HDEL", "h"),
        ("HSETNX", "h", "a"), ("HINCRBY", "h", "a"), ("HLEN",), ("HSCAN", "h"),
        ("HRANDFIELD",), ("HSTRLEN", "h"), ("HGETALL", "h", "x"),
    ])


def test_hsetnx(diff):
    diff.check_all([
        ("HSETNX", "h", "a", "1"), ("HSETNX", "h", "a", "2"), ("HGET", "h", "a"),
        ("HSETNX", "h", "b", ""), ("HGETALL", "h"),
        # An unused long value leaves a listpack as it is; a stored one converts it.
        ("HSETNX", "h", "a", "x" * 100), ("OBJECT", "ENCODING", "h"),
        ("HSETNX", "h", "c", "x" * 100), ("OBJECT", "ENCODING", "h"),
    ])


def test_hdel(diff):
    diff.check_all([
        ("HDEL", "missing", "a"), ("HSET", "h", "a", "1", "b", "2", "c", "3"),
        ("HDEL", "h", "a", "a", "z"), ("HGETALL", "h"), ("HDEL", "h", "b", "c", "d"),
        ("EXISTS", "h"), ("HLEN", "h"), ("TYPE", "h"),
    ])


def test_binary_fields_and_values(diff):
    field = b"f\x00\xff\r\n"
    value = bytes(range(64))                    # still a listpack: exact order
    diff.check_all([
        ("HSET", b"k\x00{x}", field, value, b"", b""), ("HGET", b"k\x00{x}", field),
        ("HGET", b"k\x00{x}", b""), ("HGETALL", b"k\x00{x}"), ("HSTRLEN", b"k\x00{x}", field),
        ("HEXISTS", b"k\x00{x}", b""), ("OBJECT", "ENCODING", b"k\x00{x}"),
        ("HSCAN", b"k\x00{x}", "0", "MATCH", "*"), ("HSCAN", b"k\x00{x}", "0", "MATCH", "f*"),
        ("HDEL", b"k\x00{x}", b"", field), ("EXISTS", b"k\x00{x}"),
        ("HSET", "big", field, bytes(range(256)) * 4), ("HGET", "big", field),
        ("HSTRLEN", "big", field), ("OBJECT", "ENCODING", "big"),
    ])


def test_wrong_type_everywhere(diff):
    diff.check("SET", "s", "v")
    diff.check("SADD", "set", "m")
    for key in ("s", "set"):
        for args in [("HSET", key, "a", "1"), ("HMSET", key, "a", "1"), ("HSETNX", key, "a", "1"),
                     ("HGET", key, "a"), ("HMGET", key, "a"), ("HDEL", key, "a"),
                     ("HLEN", key), ("HEXISTS", key, "a"), ("HSTRLEN", key, "a"),
                     ("HKEYS", key), ("HVALS", key), ("HGETALL", key),
                     ("HINCRBY", key, "a", "1"), ("HINCRBYFLOAT", key, "a", "1"),
                     ("HRANDFIELD", key), ("HRANDFIELD", key, "0"),
                     ("HRANDFIELD", key, "-3", "WITHVALUES"), ("HSCAN", key, "0"),
                     ("HSCAN", key, "0", "COUNT", "0")]:
            reply = diff.check(*args)
            assert reply == ("-", WRONGTYPE), args
    diff.check("HSET", "h", "a", "1")
    for args in [("GET", "h"), ("SADD", "h", "x"), ("INCR", "h"), ("APPEND", "h", "x")]:
        assert diff.check(*args) == ("-", WRONGTYPE)


# ---------------------------------------------------------------- counters

def test_hincrby(diff):
    diff.check_all([
        ("HINCRBY", "h", "n", "5"), ("HINCRBY", "h", "n", "-7"), ("HGET", "h", "n"),
        ("HINCRBY", "h", "n", I64_MAX), ("HSET", "h", "max", I64_MAX),
        ("HINCRBY", "h", "max", "1"), ("HINCRBY", "h", "max", "0"),
        ("HSET", "h", "min", I64_MIN), ("HINCRBY", "h", "min", "-1"),
        ("HINCRBY", "h", "min", I64_MAX), ("HGET", "h", "min"),
        ("HSET", "h", "f", "1.5", "s", "abc", "e", "", "z", "007", "sp", " 1"),
        ("HINCRBY", "h", "f", "1"), ("HINCRBY", "h", "s", "1"), ("HINCRBY", "h", "e", "1"),
        ("HINCRBY", "h", "z", "1"), ("HINCRBY", "h", "sp", "1"),
        ("HINCRBY", "new", "f", "0"), ("HGETALL", "new"),
    ])


@pytest.mark.parametrize("bad", BAD_INTEGERS)
def test_hincrby_bad_increment(diff, bad):
    diff.check("SET", "str", "x")
    diff.check("HINCRBY", "h", "f", bad)
    diff.check("HINCRBY", "str", "f", bad)      # the increment is parsed first
    diff.check("EXISTS", "h")


def test_hincrbyfloat(diff):
    diff.check_all([
        ("HINCRBYFLOAT", "h", "x", "10.5"), ("HINCRBYFLOAT", "h", "x", "0.1"),
        ("HINCRBYFLOAT", "h", "x", "-5"), ("HINCRBYFLOAT", "h", "x", "5.0e3"),
        ("HINCRBYFLOAT", "h", "x", "-10560.6"), ("HGET", "h", "x"),
        ("HINCRBYFLOAT", "h", "y", "1e-20"), ("HINCRBYFLOAT", "h", "y", "0x10"),
        ("HINCRBYFLOAT", "h", "z", "3"), ("HINCRBYFLOAT", "h", "z", "1e300"),
        ("HSET", "h", "i", "5"), ("HINCRBYFLOAT", "h", "i", "0.25"),
        ("HSET", "h", "inf", "inf", "bad", "abc", "e", "", "sp", " 1"),
        ("HINCRBYFLOAT", "h", "inf", "1"), ("HINCRBYFLOAT", "h", "bad", "1"),
        ("HINCRBYFLOAT", "h", "e", "1"), ("HINCRBYFLOAT", "h", "sp", "1"),
        ("HINCRBYFLOAT", "h", "x", "inf"), ("HINCRBYFLOAT", "h", "x", "-inf"),
        ("HINCRBYFLOAT", "h", "x", "nan"), ("HINCRBYFLOAT", "h", "x", "abc"),
        ("HINCRBYFLOAT", "h", "x", ""), ("HINCRBYFLOAT", "h", "x", "1e5000"),
        ("HINCRBYFLOAT", "h", "x", " 1"), ("HINCRBYFLOAT", "new", "x", "inf"),
        ("EXISTS", "new"), ("HINCRBYFLOAT", "new", "x", "1e4000"), ("HSTRLEN", "new", "x"),
        ("OBJECT", "ENCODING", "new"), ("HINCRBYFLOAT", "new", "x", "1e4932"),
        ("OBJECT", "ENCODING", "h"),
    ])
    check_unordered(diff, "HGETALL", "h", paired=True)     # z's long value converted h


def test_counters_convert_long_fields(diff):
    diff.check_all([
        ("HSET", "a", "x", "1"), ("HINCRBY", "a", "f" * 65, "1"), ("OBJECT", "ENCODING", "a"),
        ("HSET", "b", "x", "1"), ("HINCRBYFLOAT", "b", "f" * 65, "1"),
        ("OBJECT", "ENCODING", "b"), ("HSET", "c", "x", "1"),
        ("HINCRBYFLOAT", "c", "x", "0.000000000000000000000000000001"),
        ("OBJECT", "ENCODING", "c"), ("HSET", "d", "f" * 64, "v" * 64),
        ("OBJECT", "ENCODING", "d"), ("HINCRBY", "d", "n", "1"), ("OBJECT", "ENCODING", "d"),
    ])


# ---------------------------------------------------------------- encodings

def test_encoding_by_entries(diff):
    pairs_ = []
    for i in range(512):
        pairs_ += ["f%d" % i, "v%d" % i]
    diff.check("HSET", "h", *pairs_)
    diff.check("OBJECT", "ENCODING", "h")
    diff.check("HGETALL", "h")                 # still a listpack: exact order
    diff.check("HSCAN", "h", "0", "COUNT", "5")
    diff.check("HRANDFIELD", "h", "600")
    diff.check("HSET", "h", "f0", "again")
    diff.check("OBJECT", "ENCODING", "h")
    diff.check("HSET", "h", "one-more", "x")
    diff.check("OBJECT", "ENCODING", "h")
    diff.check("HDEL", "h", "one-more", "f1", "f2", "f3")
    diff.check("OBJECT", "ENCODING", "h")      # never converted back
    diff.check("HLEN", "h")
    for args in [("HGETALL", "h"), ("HKEYS", "h"), ("HVALS", "h"), ("HRANDFIELD", "h", "600"),
                 ("HRANDFIELD", "h", "600", "WITHVALUES")]:
        check_unordered(diff, *args)


@pytest.mark.parametrize("field,value", [(64, 1), (65, 1), (1, 64), (1, 65)])
def test_encoding_by_length(diff, field, value):
    diff.check("HSET", "h", "a", "1", "f" * field, "v" * value)
    diff.check("OBJECT", "ENCODING", "h")
    diff.check("HSET", "h2", "a", "1")
    diff.check("HMSET", "h2", "f" * field, "v" * value)
    diff.check("OBJECT", "ENCODING", "h2")


def test_copy_rename_keep_encoding(diff):
    diff.check_all([
        ("HSET", "{h}a", "x", "1", "y", "v" * 100), ("HDEL", "{h}a", "y"),
        ("COPY", "{h}a", "{h}b"), ("OBJECT", "ENCODING", "{h}b"), ("HGETALL", "{h}b"),
        ("HSET", "{h}b", "z", "2"), ("HGETALL", "{h}a"), ("RENAME", "{h}a", "{h}c"),
        ("OBJECT", "ENCODING", "{h}c"), ("HSET", "{h}d", "k", "v"), ("COPY", "{h}d", "{h}e"),
        ("OBJECT", "ENCODING", "{h}e"), ("HSET", "{h}d", "k2", "v2"), ("HGETALL", "{h}e"),
        ("TYPE", "{h}e"), ("SET", "{h}s", "x"),
    ])
    for client in (diff.ours, diff.redis):      # SCAN's TYPE filter knows hashes
        keys, cursor = [], b"0"
        while True:
            reply = plain(client.call("SCAN", cursor, "TYPE", "hash", "COUNT", "1000"))
            cursor = reply[0]
            keys += reply[1]
            assert len(keys) < 100000, "SCAN never returned cursor 0"
            if cursor == b"0":
                break
        assert sorted(keys) == [b"{h}b", b"{h}c", b"{h}d", b"{h}e"]


def test_set_over_hash_and_expiry(diff):
    diff.check_all([
        ("HSET", "h", "a", "1"), ("EXPIRE", "h", "100"), ("HSET", "h", "b", "2"),
        ("TTL", "h"), ("HDEL", "h", "a", "b"), ("TTL", "h"), ("HSET", "h", "a", "1"),
        ("SET", "h", "str"), ("TYPE", "h"), ("HSET", "h", "a", "1"),
        ("HSET", "gone", "a", "1"), ("PEXPIRE", "gone", "1"),
    ])
    import time
    time.sleep(0.01)
    diff.check_all([("HGET", "gone", "a"), ("HLEN", "gone"), ("EXISTS", "gone")])


# ---------------------------------------------------------------- HRANDFIELD

@pytest.mark.parametrize("args", [
    ("0",), ("x",), ("1.5",), ("",), (I64_MIN,), ("-" + I64_MAX,), (I64_MAX,),
    ("1", "WITHVALUES"), ("1", "withvalues"), ("1", "foo"), ("1", "WITHVALUES", "x"),
    (I64_MAX, "WITHVALUES"), ("4611686018427387903", "WITHVALUES"),
    ("4611686018427387904", "WITHVALUES"), ("-4611686018427387903", "WITHVALUES"),
    ("-4611686018427387904", "WITHVALUES"), ("x", "foo"), ("0", "WITHVALUES"),
])
@pytest.mark.parametrize("key", ["h", "missing"])
def test_hrandfield_arguments(diff, key, args):
    diff.check("HSET", "h", "a", "1")           # one field: every pick is deterministic
    if key == "h" and args[0] in ("-" + I64_MAX, "-4611686018427387903"):
        # Redis would try to build that reply and run out of memory; we refuse it.
        assert diff.ours.call("HRANDFIELD", key, *args)[1].startswith("ERR value is out of")
        return
    diff.check("HRANDFIELD", key, *args)


def test_hrandfield_whole_hash_is_exact(diff):
    diff.check("HSET", "h", "c", "3", "a", "1", "b", "2")
    for count in ("3", "4", "100"):
        diff.check("HRANDFIELD", "h", count)
        diff.check("HRANDFIELD", "h", count, "WITHVALUES")
    with resp3(diff):
        diff.check("HRANDFIELD", "h", "3", "WITHVALUES")
        diff.check("HRANDFIELD", "h", "0", "WITHVALUES")
        diff.check("HRANDFIELD", "missing", "2", "WITHVALUES")
        diff.check("HRANDFIELD", "missing")


@pytest.mark.parametrize("big", [False, True])
def test_hrandfield_properties(diff, big):
    n = 700 if big else 10
    fields = {b"f%d" % i: b"v%d" % i for i in range(n)}
    args = []
    for f, v in fields.items():
        args += [f, v]
    diff.check("HSET", "h", *args)
    order = [f for f in plain(diff.ours.call("HKEYS", "h"))]
    for _ in range(20):
        one = diff.ours.call("HRANDFIELD", "h")
        assert one[0] == "$" and one[1] in fields
        for count in (1, 3, n - 1):
            reply = plain(diff.ours.call("HRANDFIELD", "h", count))
            assert len(reply) == count and len(set(reply)) == count
            assert set(reply) <= set(fields)
            if not big:         # listpack: a sample in the hash's own order, like Redis
                positions = [order.index(f) for f in reply]
                assert positions == sorted(positions)
            flat = plain(diff.ours.call("HRANDFIELD", "h", count, "WITHVALUES"))
            assert len(flat) == 2 * count
            assert all(fields[f] == v for f, v in zip(flat[::2], flat[1::2]))
        rep = plain(diff.ours.call("HRANDFIELD", "h", -25))
        assert len(rep) == 25 and set(rep) <= set(fields)
        flat = plain(diff.ours.call("HRANDFIELD", "h", -5, "WITHVALUES"))
        assert len(flat) == 10 and all(fields[f] == v for f, v in zip(flat[::2], flat[1::2]))
    # Negative counts repeat: 200 picks out of 10 fields must hit some field twice.
    if not big:
        assert len(set(plain(diff.ours.call("HRANDFIELD", "h", -200)))) < 200
    with resp3(diff):
        for count in (2, -3):
            ours, ref = diff.both("HRANDFIELD", "h", count, "WITHVALUES")
            assert ours[0] == ref[0] == "*"
            assert [k for k, _ in ours[1]] == [k for k, _ in ref[1]] == ["*"] * abs(count)
            for pair in plain(ours):
                assert fields[pair[0]] == pair[1]


# ---------------------------------------------------------------- HSCAN

@pytest.mark.parametrize("args", [
    ("0",), ("0", "COUNT", "1"), ("0", "COUNT", "0"), ("0", "COUNT", "-1"),
    ("0", "COUNT", "x"), ("0", "COUNT"), ("0", "MATCH"), ("0", "MATCH", "a*"),
    ("0", "MATCH", "*", "COUNT", "100"), ("0", "match", "[ab]", "count", "2"),
    ("0", "TYPE", "hash"), ("0", "FOO", "bar"), ("x",), ("-1",), ("18446744073709551616",),
    ("18446744073709551615",), ("7", "COUNT", "2"), (" 1",), ("",),
    ("0", "NOVALUES"), ("0", "MATCH", "\\a*"),
])
@pytest.mark.parametrize("key", ["h", "missing", "str"])
def test_hscan_arguments(diff, key, args):
    diff.check("HSET", "h", "a", "1", "b", "2", "ab", "3", "", "empty")
    diff.check("SET", "str", "x")
    diff.check("HSCAN", key, *args)


def test_hscan_big_hash_returns_every_field(diff):
    args = []
    for i in range(2000):
        args += ["f%d" % i, "v%d" % i]
    diff.check("HSET", "h", *args)
    for count in (1, 10, 97, 5000):
        ours = full_scan(diff.ours, "HSCAN", "h", count=count)
        ref = full_scan(diff.redis, "HSCAN", "h", count=count)
        assert pairs(ours) == pairs(ref)
        assert len(ours) // 2 == 2000       # returned exactly once each
    ours = full_scan(diff.ours, "HSCAN", "h", count=50, match="f1*")
    ref = full_scan(diff.redis, "HSCAN", "h", count=50, match="f1*")
    assert pairs(ours) == pairs(ref)


def test_hscan_while_modifying(diff):
    """A field present for the whole scan is returned; fields added or deleted meanwhile
    may or may not be."""
    args = []
    for i in range(1000):
        args += ["f%d" % i, "v"]
    stable = {b"f%d" % i for i in range(900)}
    for client in (diff.ours, diff.redis):      # the property holds for Redis too
        client.call("HSET", "h", *args)
        seen = set()
        cursor = b"0"
        step = 0
        while True:
            cursor, page = plain(client.call("HSCAN", "h", cursor, "COUNT", "20"))
            seen.update(page[::2])
            step += 1
            # Churn outside the stable fields: delete old ones, add new ones.
            client.call("HDEL", "h", "f%d" % (900 + step % 100))
            client.call("HSET", "h", "new%d" % step, "x")
            assert step < 2000, "HSCAN never returned cursor 0"
            if cursor == b"0":
                break
        assert stable <= seen


def test_resp3_shapes(diff):
    diff.check("HSET", "h", "a", "1", "b", "2")
    with resp3(diff):
        for args in [("HGETALL", "h"), ("HGETALL", "missing"), ("HKEYS", "h"),
                     ("HVALS", "h"), ("HMGET", "h", "a", "zz"), ("HGET", "h", "zz"),
                     ("HSCAN", "h", "0"), ("HRANDFIELD", "h", "5"),
                     ("HRANDFIELD", "missing", "5"), ("HINCRBYFLOAT", "h", "f", "1.5"),
                     ("HEXISTS", "h", "a"), ("HSTRLEN", "h", "a")]:
            diff.check(*args)


def test_watch_sees_hash_changes(diff):
    for client in (diff.ours, diff.redis):
        client.call("HSET", "{w}h", "a", "1")
        client.call("WATCH", "{w}h")
    diff.check("HINCRBY", "{w}h", "a", "1")      # the same connection: still dirties
    diff.check("MULTI")
    diff.check("HGET", "{w}h", "a")
    diff.check("EXEC")
    for client in (diff.ours, diff.redis):
        client.call("WATCH", "{w}h")
    diff.check("HDEL", "{w}h", "nope")           # no change: the transaction runs
    diff.check("MULTI")
    diff.check("HGET", "{w}h", "a")
    diff.check("EXEC")


# ---------------------------------------------------------------- the command table

HASH_COMMANDS = ["hset", "hsetnx", "hget", "hmget", "hmset", "hgetall", "hdel", "hexists",
                 "hlen", "hkeys", "hvals", "hincrby", "hincrbyfloat", "hstrlen",
                 "hrandfield", "hscan"]


@pytest.mark.parametrize("name", HASH_COMMANDS)
def test_command_info(diff, name):
    """Name, arity, flags, key positions, ACL categories and tips as in Redis."""
    ours = plain(diff.ours.call("COMMAND", "INFO", name))[0]
    ref = plain(diff.redis.call("COMMAND", "INFO", name))[0]
    assert ours[:8] == ref[:8]


def test_dump_restore_round_trip(diff):
    """Each server restores its own payload; contents, order and encodings must agree
    (a hashtable hash that became small again loads as a listpack, as Redis loads it)."""
    diff.check_all([
        ("HSET", "{d}a", "x", "1", "y", "v" * 100, "z", "3"), ("HDEL", "{d}a", "y"),
        ("HSET", "{d}b", "c", "1", "a", "2", "b", "3"), ("HSET", "{d}c", "f", "v" * 100),
    ])
    check_restored_copies(diff, ("{d}a", "{d}b", "{d}c"), "HLEN")
    diff.check("HGETALL", "{d}b2")                 # a listpack keeps its order
    check_unordered(diff, "HGETALL", "{d}a2", paired=True)


def test_encoding_limits_follow_config(diff):
    try:
        diff.check("CONFIG", "SET", "hash-max-listpack-entries", "2")
        diff.check("CONFIG", "SET", "hash-max-listpack-value", "3")
        diff.check_all([
            ("CONFIG", "GET", "hash-max-listpack-entries"),
            ("CONFIG", "GET", "hash-max-listpack-value"),
            ("HSET", "a", "f1", "v", "f2", "v"), ("OBJECT", "ENCODING", "a"),
            ("HSET", "a", "f3", "v"), ("OBJECT", "ENCODING", "a"),
            ("HSET", "b", "abc", "xyz"), ("OBJECT", "ENCODING", "b"),
            ("HSET", "c", "abcd", "x"), ("OBJECT", "ENCODING", "c"),
            ("HINCRBYFLOAT", "d", "f", "1.5"), ("OBJECT", "ENCODING", "d"),
            ("HINCRBYFLOAT", "d", "f", "0.25"), ("OBJECT", "ENCODING", "d"),
            ("CONFIG", "SET", "hash-max-listpack-entries", "-1"),
            ("CONFIG", "SET", "hash-max-listpack-entries", "abc"),
        ])
    finally:
        for client in (diff.ours, diff.redis):
            client.call("CONFIG", "SET", "hash-max-listpack-entries", "512")
            client.call("CONFIG", "SET", "hash-max-listpack-value", "64")


def test_sampling_index_follows_every_change(diff):
    """A big hash gets a hash-ordered index for HSCAN/HRANDFIELD (scanning.py): after
    any mix of changes, samples and scans must see exactly the live fields."""
    import random
    rng = random.Random(7)
    client = diff.ours
    args = []
    for i in range(700):
        args += ["f%d" % i, "v"]
    client.call("HSET", "h", *args)
    client.call("HRANDFIELD", "h", "5")               # builds the index
    for step in range(300):
        op = rng.randrange(4)
        if op == 0:
            client.call("HSET", "h", "n%d" % rng.randrange(1000), "v")
        elif op == 1:
            client.call("HDEL", "h", "f%d" % rng.randrange(700), "n%d" % rng.randrange(1000))
        elif op == 2:
            client.call("HINCRBY", "h", "c%d" % rng.randrange(50), "1")
        else:
            client.call("HSETNX", "h", "x%d" % rng.randrange(50), "v")
        live = set(plain(client.call("HKEYS", "h")))
        assert set(plain(client.call("HRANDFIELD", "h", "-20"))) <= live
        if step % 50 == 0:
            assert sorted(full_scan(client, "HSCAN", "h", count=37)[::2]) == sorted(live)
    fields = sorted(live)
    client.call("HDEL", "h", *fields[10:])             # far below the index threshold
    live = set(plain(client.call("HKEYS", "h")))
    assert sorted(full_scan(client, "HSCAN", "h", count=3)[::2]) == sorted(live)
    assert set(plain(client.call("HRANDFIELD", "h", "-30"))) <= live
