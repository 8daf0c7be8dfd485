"""Client-side caching with the bit and HyperLogLog commands, message by message against
redis-server (the harness of test_tracking.py): their reads are remembered, their writes
invalidate, and a PFCOUNT that stores its count invalidates like a write."""
import pytest

from tests.differential.test_tracking import Scenario, run


@pytest.fixture
def pair(diff):
    """(ours, redis) Scenarios, as test_tracking.py's fixture makes them."""
    ours_port, redis_port = diff.ours.sock.getpeername()[1], diff.redis.sock.getpeername()[1]
    ours, ref = Scenario(ours_port, redis_port), Scenario(redis_port, ours_port)
    yield ours, ref
    ours.shut()
    ref.shut()


def test_reads_remembered_writes_invalidate(pair):
    log = run(pair, [("a", True), ("b", False)], [
        ("a", "CLIENT", "TRACKING", "on"),
        ("a", "GETBIT", "{t}b", "1"), ("a", "BITCOUNT", "{t}c"), ("a", "BITPOS", "{t}d", "1"),
        ("a", "BITFIELD_RO", "{t}e", "GET", "u8", "0"), ("a", "PFCOUNT", "{t}h"),
        ("b", "SETBIT", "{t}b", "1", "1"), ("b", "SETBIT", "{t}b", "1", "1"),
        ("b", "SET", "{t}c", "x"), ("b", "BITOP", "NOT", "{t}d", "{t}c"),
        ("b", "BITFIELD", "{t}e", "SET", "u8", "0", "7"),
        ("b", "PFADD", "{t}h", "x"),
        ("a", "PFCOUNT", "{t}h"),                 # stores the count: a change
        ("a", "PFCOUNT", "{t}h"),                 # cached: nothing
        ("b", "PFADD", "{t}h", "x"),              # no register raised: nothing
        ("b", "PFADD", "{t}h", "y"),
        ("a", "PFCOUNT", "{t}h", "{t}g"), ("b", "PFMERGE", "{t}g", "{t}h"),
        ("a", "GETBIT", "{t}b", "1"), ("b", "BITFIELD", "{t}b", "GET", "u8", "0"),
        ("b", "BITFIELD", "{t}b", "SET", "u1", "1", "1"),   # the same bit: no change
    ])
    assert any(entry[1] == "push" for entry in log)
