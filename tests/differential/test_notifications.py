"""Keyspace notifications against a real redis-server 7.0: the notify-keyspace-events
setting, and the event streams of every command family compared event by event
(subscribed with PSUBSCRIBE __key*@*__:*, notify-keyspace-events KEA on both, plus 'n'
or 'm' where a test is about those classes).

The helpers are in notify_streams.py. Lazy expiry is made deterministic with DEBUG
SET-ACTIVE-EXPIRE 0 on both servers; active expiry is awaited with a deadline and
compared as a multiset (both servers sample keys at random, so the order is theirs).
"""
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential import test_random_hash_set as hash_set
from tests.differential import test_random_list_zset as list_zset
from tests.differential import test_random_sequences as strings_keys
from tests.differential.notify_streams import StreamPair
from tests.differential.sequences import sequence_settings
from tests.helpers import RawClient, wait_until


@pytest.fixture
def streams(diff_servers):
    ours, ref = diff_servers
    pair = StreamPair(ours.port, ref.port)
    pair.both("FLUSHALL")
    pair.both("CONFIG", "SET", "notify-keyspace-events", "KEA")
    pair.ours.drain(), pair.redis.drain()
    yield pair
    pair.both("CONFIG", "SET", "notify-keyspace-events", "")
    pair.both("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    pair.both("FLUSHALL")
    pair.close()


# ---------------------------------------------------------------- the setting

@pytest.mark.parametrize("flags", [
    "", "K", "E", "KE", "A", "KEA", "AKE", "gK", "$lshzxetd", "KEg$lshzxetd", "KEn",
    "AKEn", "KEm", "AKEm", "Em", "xeK", "KEKEKE", "nmd", "tE"])
def test_config_get_prints_redis_canonical_letters(diff, flags):
    diff.check("CONFIG", "SET", "notify-keyspace-events", flags)
    diff.check("CONFIG", "GET", "notify-keyspace-events")
    diff.check("CONFIG", "SET", "notify-keyspace-events", "")


@pytest.mark.parametrize("flags", ["KEQ", "a", "k e", "1", "*", "KE$!"])
def test_invalid_class_letters_get_redis_error(diff, flags):
    diff.check("CONFIG", "SET", "notify-keyspace-events", flags)
    diff.check("CONFIG", "GET", "notify-keyspace-events")


def test_notifications_start_off(diff):
    assert diff.check("CONFIG", "GET", "notify-keyspace-events") == \
        ("*", [("$", b"notify-keyspace-events"), ("$", b"")])


def test_only_enabled_classes_and_channels(streams):
    for flags in ("K$", "Eg", "K", "E", "g", "Kl", "Ex", "KEA", "KEn", "En$"):
        streams.both("CONFIG", "SET", "notify-keyspace-events", flags)
        streams.run([("SET", "{k}a", "1"), ("LPUSH", "{k}l", "x"), ("DEL", "{k}a", "{k}l"),
                     ("SET", "{k}b", "1", "PX", "1")])
        time.sleep(0.01)
        streams.run([("GET", "{k}b")])


# ---------------------------------------------------------------- every family

CASES = {
    "strings": [
        ("SET", "a", "1"), ("SET", "a", "2", "EX", "100"), ("SET", "a", "3", "KEEPTTL"),
        ("SET", "a", "4", "NX"), ("SET", "a", "5", "XX", "GET"), ("SET", "b", "1", "XX"),
        ("SETNX", "b", "1"), ("SETNX", "b", "2"), ("SETEX", "c", "100", "v"),
        ("PSETEX", "c", "100000", "v"), ("GETSET", "c", "w"), ("GETSET", "d", "w"),
        ("MSET", "{m}a", "1", "{m}b", "2"), ("MSETNX", "{m}a", "1", "{m}c", "2"),
        ("MSETNX", "{m}d", "1", "{m}e", "2"), ("INCR", "n"), ("DECR", "n"),
        ("INCRBY", "n", "5"), ("DECRBY", "n", "2"), ("INCRBY", "n", "x"),
        ("INCRBYFLOAT", "n", "1.5"), ("APPEND", "s", "ab"), ("APPEND", "s", "cd"),
        ("SETRANGE", "s", "1", "XY"), ("SETRANGE", "s", "1", ""), ("SETRANGE", "t", "2", ""),
        ("SETRANGE", "t", "2", "z"), ("GETDEL", "t"), ("GETDEL", "t"),
        ("GETEX", "s", "EX", "100"), ("GETEX", "s", "PERSIST"), ("GETEX", "s", "PERSIST"),
        ("GETEX", "s"), ("GETEX", "s", "PXAT", "1"), ("GETEX", "nokey", "EX", "1"),
        ("GET", "a"), ("STRLEN", "a"), ("GETRANGE", "a", "0", "1"),
    ],
    "keys": [
        ("SET", "{k}a", "1"), ("SET", "{k}b", "2"), ("DEL", "{k}a", "{k}b", "{k}c"),
        ("SET", "{k}a", "1"), ("UNLINK", "{k}a"), ("SET", "{k}a", "1"),
        ("EXPIRE", "{k}a", "100"), ("PEXPIRE", "{k}a", "200000", "GT"),
        ("EXPIRE", "{k}a", "10", "NX"), ("EXPIRE", "{k}a", "1000", "LT"), ("EXPIREAT", "{k}a", "99999999999"),
        ("PEXPIREAT", "{k}a", "99999999999000"), ("PERSIST", "{k}a"), ("PERSIST", "{k}a"),
        ("EXPIRE", "{k}a", "-1"), ("EXPIRE", "{k}nokey", "100"), ("SET", "{k}a", "1"),
        ("PEXPIREAT", "{k}a", "1"), ("SET", "{k}a", "1", "EX", "100"),
        ("RENAME", "{k}a", "{k}b"), ("SET", "{k}c", "x"), ("RENAME", "{k}b", "{k}c"),
        ("RENAME", "{k}c", "{k}c"), ("RENAMENX", "{k}c", "{k}d"), ("SET", "{k}e", "1"),
        ("RENAMENX", "{k}d", "{k}e"), ("RENAME", "{k}nokey", "{k}x"),
        ("COPY", "{k}d", "{k}f"), ("COPY", "{k}d", "{k}f"), ("COPY", "{k}d", "{k}f", "REPLACE"),
        ("RPUSH", "{k}l", "a", "b"), ("COPY", "{k}l", "{k}f", "REPLACE"),
        ("EXISTS", "{k}f"), ("TYPE", "{k}f"), ("TTL", "{k}f"), ("TOUCH", "{k}f"),
        ("FLUSHALL",), ("SET", "{k}a", "1"), ("FLUSHDB",),
    ],
    "hashes": [
        ("HSET", "h", "a", "1", "b", "2"), ("HSET", "h", "a", "1"), ("HMSET", "h", "c", "3"),
        ("HSETNX", "h", "a", "9"), ("HSETNX", "h", "d", "4"), ("HSETNX", "h2", "d", "4"),
        ("HINCRBY", "h", "n", "5"), ("HINCRBY", "h3", "n", "5"), ("HINCRBY", "h", "a", "x"),
        ("HINCRBYFLOAT", "h", "f", "1.5"), ("HINCRBYFLOAT", "h4", "f", "1.5"),
        ("HDEL", "h", "zz"), ("HDEL", "h", "a", "b"), ("HDEL", "h", "c", "d", "n", "f"),
        ("HDEL", "h2", "d"), ("HGET", "h3", "n"), ("HGETALL", "h4"),
    ],
    "lists": [
        ("LPUSH", "l", "a", "b"), ("RPUSH", "l", "c"), ("LPUSHX", "l", "d"),
        ("RPUSHX", "l", "e"), ("LPUSHX", "nol", "d"), ("RPUSHX", "nol", "d"),
        ("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "0"), ("LPOP", "l", "1"),
        ("RPOP", "nol"), ("LINSERT", "l", "BEFORE", "c", "x"),
        ("LINSERT", "l", "AFTER", "nope", "x"), ("LSET", "l", "0", "y"),
        ("LREM", "l", "0", "nope"), ("LREM", "l", "1", "y"), ("RPUSH", "l", "a", "b", "c"),
        ("LTRIM", "l", "0", "-1"), ("LTRIM", "l", "1", "2"), ("LTRIM", "l", "5", "10"),
        ("LTRIM", "nol", "0", "1"), ("RPUSH", "l", "a", "b", "c"), ("LPOP", "l", "10"),
        ("RPUSH", "l", "a"), ("RPOP", "l", "5"), ("RPUSH", "l", "a"), ("LREM", "l", "0", "a"),
        ("RPUSH", "{q}a", "1", "2"), ("LMOVE", "{q}a", "{q}b", "LEFT", "RIGHT"),
        ("LMOVE", "{q}a", "{q}b", "RIGHT", "LEFT"), ("LMOVE", "{q}b", "{q}b", "LEFT", "LEFT"),
        ("RPOPLPUSH", "{q}b", "{q}c"), ("RPOPLPUSH", "{q}b", "{q}c"),
        ("RPOPLPUSH", "{q}b", "{q}c"), ("SET", "{q}s", "x"), ("RPOPLPUSH", "{q}c", "{q}s"),
        ("RPUSH", "{q}d", "1"), ("LMOVE", "{q}d", "{q}d", "RIGHT", "LEFT"),
        ("LMPOP", "2", "{q}x", "{q}c", "LEFT", "COUNT", "1"),
        ("LMPOP", "2", "{q}x", "{q}c", "RIGHT", "COUNT", "9"),
        ("RPUSH", "{q}e", "1", "2"), ("BLPOP", "{q}x", "{q}e", "0.01"),
        ("BRPOP", "{q}e", "0.01"), ("RPUSH", "{q}e", "1", "2"),
        ("BLMOVE", "{q}e", "{q}f", "LEFT", "LEFT", "0.01"),
        ("BRPOPLPUSH", "{q}e", "{q}f", "0.01"),
        ("BLMPOP", "0.01", "1", "{q}f", "LEFT", "COUNT", "5"),
    ],
    "sets": [
        ("SADD", "s", "a", "b"), ("SADD", "s", "a"), ("SADD", "s", "c", "1"),
        ("SREM", "s", "zz"), ("SREM", "s", "a"), ("SREM", "s", "b", "c", "1"),
        ("SADD", "{t}a", "1", "2", "3"), ("SADD", "{t}b", "3", "4"),
        ("SMOVE", "{t}a", "{t}b", "1"), ("SMOVE", "{t}a", "{t}c", "2"),
        ("SMOVE", "{t}a", "{t}c", "9"), ("SMOVE", "{t}b", "{t}c", "3"),
        ("SMOVE", "{t}c", "{t}c", "3"), ("SINTERSTORE", "{t}d", "{t}b", "{t}c"),
        ("SINTERSTORE", "{t}d", "{t}b", "{t}c", "{t}none"),
        ("SINTERSTORE", "{t}d", "{t}b", "{t}none"), ("SUNIONSTORE", "{t}d", "{t}b", "{t}c"),
        ("SUNIONSTORE", "{t}d", "{t}none"), ("SUNIONSTORE", "{t}d", "{t}none"),
        ("SDIFFSTORE", "{t}d", "{t}b", "{t}c"), ("SDIFFSTORE", "{t}d", "{t}c", "{t}c"),
        ("SADD", "{t}p", "1", "2", "3", "4"), ("SPOP", "{t}p", "0"), ("SPOP", "{t}p", "100"),
        ("SADD", "{t}p", "1"), ("SPOP", "{t}p"), ("SPOP", "{t}p"), ("SPOP", "{t}p", "1"),
        ("SINTERCARD", "1", "{t}c"), ("SMEMBERS", "{t}c"),
    ],
    "zsets": [
        ("ZADD", "z", "1", "a", "2", "b"), ("ZADD", "z", "1", "a"), ("ZADD", "z", "XX", "5", "q"),
        ("ZADD", "z", "NX", "3", "a"), ("ZADD", "z", "GT", "CH", "3", "a"),
        ("ZADD", "z", "INCR", "1", "a"), ("ZADD", "z", "NX", "INCR", "1", "a"),
        ("ZINCRBY", "z", "2", "c"), ("ZINCRBY", "z2", "2", "c"), ("ZADD", "z3", "XX", "1", "a"),
        ("ZREM", "z", "nope"), ("ZREM", "z", "a"), ("ZREM", "z2", "c"),
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"),
        ("ZREMRANGEBYSCORE", "z", "10", "20"), ("ZREMRANGEBYSCORE", "z", "1", "1"),
        ("ZREMRANGEBYRANK", "z", "0", "0"), ("ZREMRANGEBYRANK", "z", "5", "9"),
        ("ZADD", "x", "0", "a", "0", "b"), ("ZREMRANGEBYLEX", "x", "[a", "[a"),
        ("ZREMRANGEBYLEX", "x", "-", "+"), ("ZREMRANGEBYRANK", "z", "0", "-1"),
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZPOPMIN", "z"), ("ZPOPMAX", "z", "0"),
        ("ZPOPMAX", "z", "5"), ("ZPOPMIN", "z"),
        ("ZADD", "{u}a", "1", "a", "2", "b"), ("ZADD", "{u}b", "2", "b", "3", "c"),
        ("ZUNIONSTORE", "{u}c", "2", "{u}a", "{u}b"), ("ZINTERSTORE", "{u}c", "2", "{u}a", "{u}b"),
        ("ZINTERSTORE", "{u}c", "2", "{u}a", "{u}none"), ("ZINTERSTORE", "{u}c", "1", "{u}none"),
        ("ZDIFFSTORE", "{u}c", "2", "{u}a", "{u}b"), ("ZDIFFSTORE", "{u}c", "1", "{u}none"),
        ("ZRANGESTORE", "{u}d", "{u}a", "0", "-1"), ("ZRANGESTORE", "{u}d", "{u}a", "5", "9"),
        ("ZRANGESTORE", "{u}d", "{u}none", "0", "-1"), ("ZADD", "{u}e", "1", "a"),
        ("ZMPOP", "2", "{u}none", "{u}e", "MIN"), ("ZADD", "{u}e", "1", "a", "2", "b"),
        ("BZPOPMIN", "{u}e", "0.01"), ("BZPOPMAX", "{u}e", "0.01"),
        ("ZADD", "{u}e", "1", "a", "2", "b"), ("BZMPOP", "0.01", "1", "{u}e", "MAX", "COUNT", "9"),
        ("ZCARD", "{u}e"), ("ZSCORE", "{u}a", "a"),
    ],
    "transactions": [
        ("MULTI",), ("SET", "a", "1"), ("LPUSH", "l", "x"), ("RPOP", "l"), ("DEL", "a"),
        ("EXEC",),
    ],
}


@pytest.mark.parametrize("family", sorted(CASES))
def test_family_event_streams(streams, family):
    streams.run(CASES[family])


@pytest.mark.parametrize("family", sorted(CASES))
def test_family_event_streams_with_new_and_keymiss(streams, family):
    streams.both("CONFIG", "SET", "notify-keyspace-events", "KEAnm")
    streams.run(CASES[family])


def test_dump_restore_events(streams):
    ours_dump = streams.ours.call("DUMP", "nokey")
    assert ours_dump == ("$", None)
    streams.both("RPUSH", "l", "a", "b")
    payload = streams.redis.call("DUMP", "l")[1]
    streams.both("CONFIG", "SET", "notify-keyspace-events", "KEAn")
    streams.run([("RESTORE", "r", "0", payload), ("RESTORE", "r", "0", payload),
                 ("RESTORE", "r", "0", payload, "REPLACE"),
                 ("RESTORE", "r", "100000", payload, "REPLACE"),
                 ("RESTORE", "r", "1", payload, "REPLACE", "ABSTTL"),
                 ("RESTORE", "r", "1", payload, "REPLACE", "ABSTTL"),
                 ("RESTORE", "t", "99999999999999", payload, "ABSTTL")])


# ---------------------------------------------------------------- expiry

def test_lazy_expiry_events(streams):
    streams.both("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    streams.run([("SET", "{e}a", "1", "PX", "5"), ("SET", "{e}b", "1", "PX", "5"),
                 ("SET", "{e}c", "1", "PX", "5"), ("RPUSH", "{e}l", "x"),
                 ("PEXPIRE", "{e}l", "5"), ("SET", "{e}d", "1", "PXAT", "1"),
                 ("SET", "{e}f", "1", "PX", "5"), ("SET", "{e}g", "1", "PX", "5"),
                 ("SET", "{e}h", "1", "PX", "5")])
    time.sleep(0.05)
    # Each lookup that meets an expired key deletes it with an 'expired' event first.
    streams.run([("GET", "{e}a"), ("DEL", "{e}b"), ("SET", "{e}c", "2"),
                 ("LPUSH", "{e}l", "y"), ("EXISTS", "{e}d"), ("RENAME", "{e}f", "{e}z"),
                 ("INCR", "{e}g"), ("TTL", "{e}h"), ("GET", "{e}h")])


def test_active_expiry_events(streams):
    streams.run([("SET", "{x}%d" % i, "v", "PX", "30") for i in range(5)] +
                [("HSET", "{x}h", "f", "v"), ("PEXPIRE", "{x}h", "30")])
    ours, ref = streams.wait_events(12)
    assert sorted(ours) == sorted(ref)
    assert sum(1 for channel, _ in ours if channel == b"__keyevent@0__:expired") == 6


# ---------------------------------------------------------------- MIGRATE

def _migrate(source, target_port, keys, copy=False):
    args = ["MIGRATE", "127.0.0.1", str(target_port), "", "0", "5000"]
    if copy:
        args.append("COPY")
    args += ["KEYS", *keys]
    return source.call(*args)


@pytest.mark.parametrize("copy", [False, True])
def test_migrate_source_and_target_events(streams, copy):
    keys = ["{g}a", "{g}b"]
    runs = {}
    for source, target in ((streams.ours, streams.redis), (streams.redis, streams.ours)):
        source.call("SET", "{g}a", "1")
        source.call("RPUSH", "{g}b", "x")
        source.drain()
        assert _migrate(source, target.port, keys, copy) == ("+", "OK")
        runs[source is streams.ours] = (source.drain(), target.drain())
        source.call("DEL", *keys)
        target.call("DEL", *keys)
        source.drain(), target.drain()
    ours_as_source, redis_as_target = runs[True]
    redis_as_source, ours_as_target = runs[False]
    assert ours_as_source == redis_as_source
    assert ours_as_target == redis_as_target


# ---------------------------------------------------------------- generated sequences

def _deterministic(cmd) -> bool:
    return cmd[0].upper() not in (b"SRANDMEMBER", b"HRANDFIELD", b"ZRANDMEMBER", b"RANDOMKEY")


generated = st.one_of(strings_keys.commands, hash_set.commands, list_zset.list_commands,
                      list_zset.zset_commands).filter(_deterministic)


@sequence_settings(40)
@given(st.lists(generated, min_size=1, max_size=30))
def test_generated_sequences_emit_the_same_events(streams, sequence):
    streams.both("FLUSHALL")
    streams.both("CONFIG", "SET", "notify-keyspace-events", "KEAnm")
    streams.run(sequence, same_replies=False)


# ---------------------------------------------------------------- blocked clients

def _blocked_clients(stream) -> int:
    text = stream.call("INFO", "clients")[1].decode()
    return int(text.split("blocked_clients:")[1].split("\r\n")[0])


def test_blocked_clients_served_by_a_write(streams):
    """The waiter's pop is published right after the write that served it (inside EXEC,
    after the transaction), as Redis's handleClientsBlockedOnKeys does."""
    waiting = []
    for stream in (streams.ours, streams.redis):
        for args in (("BLPOP", "{b}l", "0"), ("BLMOVE", "{b}m", "{b}n", "LEFT", "RIGHT", "0"),
                     ("BZPOPMIN", "{b}z", "0")):
            client = RawClient(stream.port)
            client.send_raw(RawClient.encode(args))
            waiting.append(client)
        wait_until(lambda: _blocked_clients(stream) == 3, timeout=5,
                   message="three blocked clients")
    try:
        streams.both("CONFIG", "SET", "notify-keyspace-events", "KEAn")
        streams.run([("RPUSH", "{b}l", "a", "b"), ("MULTI",), ("RPUSH", "{b}m", "x"),
                     ("ZADD", "{b}z", "1", "a"), ("SET", "{b}s", "1"), ("EXEC",)])
        replies = [client.read_reply() for client in waiting]
        assert replies[:3] == replies[3:]
    finally:
        for client in waiting:
            client.close()
