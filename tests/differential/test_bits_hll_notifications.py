"""Keyspace notifications of the bit and HyperLogLog commands, event by event against
redis-server (notify-keyspace-events KEA plus 'n' for created keys): setbit for SETBIT
and BITFIELD when a bit changed, set/del for BITOP, pfadd for PFADD and PFMERGE, nothing
for reads, no-ops, PFCOUNT and PFDEBUG."""
import pytest

from tests.differential.notify_streams import StreamPair


@pytest.fixture
def streams(diff_servers):
    ours, ref = diff_servers
    pair = StreamPair(ours.port, ref.port)
    pair.both("FLUSHALL")
    pair.both("CONFIG", "SET", "notify-keyspace-events", "KEAn")
    pair.ours.drain(), pair.redis.drain()
    yield pair
    pair.both("CONFIG", "SET", "notify-keyspace-events", "")
    pair.both("FLUSHALL")
    pair.close()


def test_bit_command_events(streams):
    events = streams.run([
        ("SETBIT", "{n}b", "7", "1"), ("SETBIT", "{n}b", "7", "1"), ("SETBIT", "{n}b", "20", "0"),
        ("GETBIT", "{n}b", "7"), ("BITCOUNT", "{n}b"), ("BITPOS", "{n}b", "1"),
        ("BITPOS", "{n}missing", "1"), ("GETBIT", "{n}missing", "1"),
        ("BITOP", "NOT", "{n}d", "{n}b"), ("BITOP", "OR", "{n}d", "{n}b"),
        ("BITOP", "AND", "{n}d", "{n}missing"), ("BITOP", "AND", "{n}d", "{n}missing"),
        ("BITFIELD", "{n}b", "GET", "u8", "0"), ("BITFIELD_RO", "{n}missing", "GET", "u8", "0"),
        ("BITFIELD", "{n}b", "SET", "u8", "0", "1", "INCRBY", "u4", "8", "3"),
        ("BITFIELD", "{n}b", "SET", "u8", "0", "1"),
        ("BITFIELD", "{n}f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"),
        ("SETBIT", "{n}b", "-1", "1"),
    ])
    assert (b"__keyevent@0__:setbit", b"{n}b") in events


def test_hyperloglog_events(streams):
    events = streams.run([
        ("PFADD", "{n}h", "a", "b"), ("PFADD", "{n}h", "a"), ("PFADD", "{n}h2"),
        ("PFCOUNT", "{n}h"), ("PFCOUNT", "{n}h", "{n}h2", "{n}missing"),
        ("PFMERGE", "{n}m", "{n}h", "{n}h2"), ("PFMERGE", "{n}m"),
        ("PFDEBUG", "TODENSE", "{n}h"), ("PFDEBUG", "ENCODING", "{n}h"),
        ("PFDEBUG", "GETREG", "{n}h2"), ("PFADD", "{n}h", "c"),
        ("SET", "{n}s", "x"), ("PFADD", "{n}s", "a"), ("PFMERGE", "{n}m", "{n}s"),
    ])
    assert (b"__keyevent@0__:pfadd", b"{n}m") in events
