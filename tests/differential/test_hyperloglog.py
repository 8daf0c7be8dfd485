"""HyperLogLog: the same replies and the same bytes as redis-server.

An HLL is a string, so `GET` shows the representation itself: after the same PFADDs
both servers must hold byte-identical strings, sparse (opcode for opcode) and dense,
across the sparse -> dense promotion and with the cached count in the header. An HLL
DUMPed from either server restores on the other and counts the same.
"""
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.sequences import check_sequence, sequence_settings

ELEMENT_BATCH = 1000


def _elements(rng, count, prefix="e"):
    return [b"%s:%d" % (prefix.encode(), rng.getrandbits(48)) for _ in range(count)]


def _add_in_batches(diff, key, elements, check_bytes=False):
    """PFADD the elements in batches on both servers (pipelined); with check_bytes the
    strings are compared after every batch."""
    for start in range(0, len(elements), ELEMENT_BATCH):
        batch = elements[start:start + ELEMENT_BATCH]
        diff.check("PFADD", key, *batch)
        if check_bytes:
            diff.check("GET", key)


def test_basics_and_errors(diff):
    diff.check_all([
        ("PFADD", "{h}a", "x", "y", "z"), ("GET", "{h}a"), ("PFCOUNT", "{h}a"), ("GET", "{h}a"),
        ("PFADD", "{h}a", "x"), ("PFADD", "{h}a"), ("PFADD", "{h}new"), ("GET", "{h}new"),
        ("PFCOUNT", "{h}new"), ("PFCOUNT", "{h}nokey"), ("PFCOUNT", "{h}a", "{h}new",
                                                          "{h}nokey"),
        ("PFADD", "{h}a", "w"), ("GET", "{h}a"), ("PFCOUNT", "{h}a"), ("GET", "{h}a"),
        ("OBJECT", "ENCODING", "{h}a"), ("TYPE", "{h}a"), ("STRLEN", "{h}a"),
        # not HLLs
        ("SET", "{h}s", "hello"), ("PFADD", "{h}s", "x"), ("PFCOUNT", "{h}s"),
        ("PFCOUNT", "{h}a", "{h}s"), ("PFMERGE", "{h}m", "{h}a", "{h}s"), ("EXISTS", "{h}m"),
        ("PFMERGE", "{h}s", "{h}a"), ("PFDEBUG", "ENCODING", "{h}s"),
        ("SET", "{h}int", "123456789012345678"), ("PFADD", "{h}int", "x"),
        ("LPUSH", "{h}l", "x"), ("PFADD", "{h}l", "x"), ("PFCOUNT", "{h}l"),
        ("PFCOUNT", "{h}a", "{h}l"), ("PFMERGE", "{h}l", "{h}a"), ("PFMERGE", "{h}a", "{h}l"),
        ("PFDEBUG", "GETREG", "{h}l"),
        ("SET", "{h}fake", "HYLL"), ("PFADD", "{h}fake", "a"),
        ("SET", "{h}fake", b"HYLL\x02" + bytes(11) + b"\x7f\xff"), ("PFCOUNT", "{h}fake"),
        ("SET", "{h}fake", b"HYLL\x00" + bytes(11) + b"\x7f\xff"), ("PFCOUNT", "{h}fake"),
        ("SET", "{h}fake", b"HYLX\x01" + bytes(11) + b"\x7f\xff"), ("PFCOUNT", "{h}fake"),
        ("PFADD",), ("PFCOUNT",), ("PFMERGE",), ("PFCOUNT", "{h}a", "other"),
    ])


@pytest.mark.parametrize("payload", [
    b"\x7f\xfe",                  # XZERO of 16383: one register short
    b"\x7f\xff\x00",              # one register too many
    b"\x7f\xfc\x80\x80\x80",      # VAL runs past the last register
    b"\x7f",                      # a cut XZERO (see below)
    b"",                          # no opcodes at all
])
def test_corrupted_sparse(diff, payload):
    value = b"HYLL\x01" + bytes(10) + b"\x80" + payload
    diff.check_all([
        ("SET", "{h}bad", value), ("PFCOUNT", "{h}bad"), ("PFCOUNT", "{h}bad", "{h}nokey"),
        ("PFMERGE", "{h}m", "{h}bad"), ("PFDEBUG", "DECODE", "{h}bad"),
        ("PFDEBUG", "ENCODING", "{h}bad"), ("PFDEBUG", "GETREG", "{h}bad"),
        ("PFDEBUG", "TODENSE", "{h}bad"), ("GET", "{h}bad"),
    ])
    if payload == b"\x7f":
        # Redis edits a cut XZERO with the byte past the string's end, whatever its
        # buffer holds there (we read a zero): the bytes PFADD leaves may differ.
        return
    diff.check("PFADD", "{h}bad", "a", "b", "c")
    diff.check("GET", "{h}bad")
    diff.check("PFADD", "{h}bad", *[b"e%d" % i for i in range(300)])
    diff.check("GET", "{h}bad")


def test_cached_count_and_invalidation(diff):
    """PFCOUNT stores the count in the header; a PFADD that changes a register marks it
    stale (only the top bit, the old count stays); one that changes nothing does not."""
    diff.check("PFADD", "{h}c", *[b"x%d" % i for i in range(50)])
    for _ in range(2):
        diff.check("PFCOUNT", "{h}c")
        diff.check("GET", "{h}c")
        diff.check("PFADD", "{h}c", "x1")
        diff.check("GET", "{h}c")
        diff.check("PFADD", "{h}c", "new-one", "another")
        diff.check("GET", "{h}c")


def test_pfdebug(diff):
    diff.check_all([
        ("PFADD", "{h}d", *[b"v%d" % i for i in range(40)]), ("PFDEBUG", "ENCODING", "{h}d"),
        ("PFDEBUG", "DECODE", "{h}d"), ("PFDEBUG", "decode", "{h}d"),
        ("PFDEBUG", "GETREG", "{h}d"), ("PFDEBUG", "ENCODING", "{h}d"), ("GET", "{h}d"),
        ("PFDEBUG", "DECODE", "{h}d"), ("PFDEBUG", "TODENSE", "{h}d"),
        ("PFADD", "{h}d2", "a"), ("PFDEBUG", "TODENSE", "{h}d2"), ("GET", "{h}d2"),
        ("PFDEBUG", "TODENSE", "{h}d2"), ("PFCOUNT", "{h}d2"),
        ("PFDEBUG", "FOO", "{h}d2"), ("PFDEBUG", "FOO", "{h}nokey"),
        ("PFDEBUG", "GETREG", "{h}nokey"), ("PFDEBUG", "GETREG"),
        ("PFDEBUG", "GETREG", "{h}d", "extra"),
    ])


def test_sparse_to_dense_bytes_equal(diff):
    """Add elements one PFADD at a time around the promotion: equal bytes throughout, and
    the promotion happens at the same element on both."""
    rng = random.Random(7)
    elements = _elements(rng, 3000)
    promoted = None
    for i in range(0, len(elements), 25):
        diff.check("PFADD", "{h}p", *elements[i:i + 25])
        diff.check("GET", "{h}p")
        encoding = diff.check("PFDEBUG", "ENCODING", "{h}p")
        if encoding == ("+", "dense"):
            promoted = i
            break
    assert promoted is not None
    diff.check("PFCOUNT", "{h}p")
    diff.check("GET", "{h}p")


@pytest.mark.parametrize("max_bytes", ["0", "60", "500", "20000"])
def test_hll_sparse_max_bytes(diff, max_bytes):
    rng = random.Random(int(max_bytes))
    for both in (diff.ours, diff.redis):
        assert both.call("CONFIG", "SET", "hll-sparse-max-bytes", max_bytes) == ("+", "OK")
    try:
        diff.check("CONFIG", "GET", "hll-sparse-max-bytes")
        for element in _elements(rng, 300):
            diff.check("PFADD", "{h}m", element)
        diff.check("GET", "{h}m")
        diff.check("PFDEBUG", "ENCODING", "{h}m")
        diff.check("PFCOUNT", "{h}m")
    finally:
        for both in (diff.ours, diff.redis):
            both.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_pfmerge_and_union(diff):
    rng = random.Random(11)
    sets = {"{h}s1": 10, "{h}s2": 200, "{h}s3": 1500, "{h}d1": 5000, "{h}d2": 20000}
    for key, size in sets.items():
        _add_in_batches(diff, key, _elements(rng, size, key))
    diff.check("PFCOUNT", "{h}s1", "{h}s2")
    diff.check("PFCOUNT", "{h}s1", "{h}s2", "{h}s3", "{h}d1", "{h}d2", "{h}nokey")
    for sources in [("{h}s1",), ("{h}s1", "{h}s2"), ("{h}s2", "{h}s3"), ("{h}s1", "{h}d1"),
                    ("{h}d1", "{h}d2", "{h}s3"), ("{h}nokey",), ()]:
        diff.check("DEL", "{h}dest")
        diff.check("PFMERGE", "{h}dest", *sources)
        diff.check("GET", "{h}dest")
        diff.check("PFCOUNT", "{h}dest")
        diff.check("GET", "{h}dest")
    # Into an existing destination, sparse and dense, keeping its TTL.
    diff.check("EXPIRE", "{h}s2", "1000")
    diff.check("PFMERGE", "{h}s2", "{h}s1", "{h}s3")
    diff.check("GET", "{h}s2")
    diff.check("TTL", "{h}s2")
    diff.check("PFMERGE", "{h}d1", "{h}s1")
    diff.check("GET", "{h}d1")


def test_dump_restore_both_ways(diff):
    """An HLL DUMPed from redis-server restores on ours and counts the same; and back."""
    rng = random.Random(5)
    for key, size in (("{h}small", 100), ("{h}large", 10000)):
        elements = _elements(rng, size)
        _add_in_batches(diff, key, elements)
        for source, target in ((diff.redis, diff.ours), (diff.ours, diff.redis)):
            kind, payload = source.call("DUMP", key)
            assert kind == "$"
            assert target.call("RESTORE", key + "copy", "0", payload, "REPLACE") == ("+", "OK")
        diff.check("GET", key + "copy")
        diff.check("PFCOUNT", key + "copy")
        diff.check("PFCOUNT", key)
        diff.check("GET", key + "copy")


def _count_equal(diff, total):
    rng = random.Random(total)
    elements = [b"%d" % rng.getrandbits(63) for _ in range(total)]
    for start in range(0, total, 5000):
        batch = elements[start:start + 5000]
        replies = [client.pipeline([["PFADD", "{h}million", *batch[i:i + ELEMENT_BATCH]]
                                    for i in range(0, len(batch), ELEMENT_BATCH)])
                   for client in (diff.ours, diff.redis)]
        assert replies[0] == replies[1]
    count = diff.check("PFCOUNT", "{h}million")
    assert abs(count[1] - total) < total * 0.02
    diff.check("GET", "{h}million")


def test_count_equal_10e5(diff):
    _count_equal(diff, 10 ** 5)


@pytest.mark.long
def test_count_equal_10e6(diff):
    _count_equal(diff, 10 ** 6)


def test_pfselftest(diff):
    diff.check("PFSELFTEST")
    diff.check("PFSELFTEST", "extra")


def test_command_info(diff):
    diff.check("COMMAND", "INFO", "pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest")


# ---------------------------------------------------------------- random sequences

HLL_KEYS = [b"{r}h1", b"{r}h2", b"{r}h3"]
hll_key = st.sampled_from(HLL_KEYS)
elements = st.lists(st.integers(0, 3000).map(lambda i: b"%d" % i), min_size=0, max_size=40)

hll_commands = st.one_of(
    st.tuples(hll_key, elements).map(lambda t: (b"PFADD", t[0], *t[1])),
    st.tuples(hll_key, st.integers(0, 2500)).map(
        lambda t: (b"PFADD", t[0], *[b"bulk%d:%d" % (t[1], i) for i in range(t[1])])),
    st.lists(hll_key, min_size=1, max_size=3).map(lambda ks: (b"PFCOUNT", *ks)),
    st.lists(hll_key, min_size=1, max_size=3).map(lambda ks: (b"PFMERGE", *ks)),
    st.tuples(st.sampled_from([b"ENCODING", b"TODENSE", b"DECODE"]), hll_key)
      .map(lambda t: (b"PFDEBUG",) + t),
    st.tuples(st.just(b"DEL"), hll_key),
    st.tuples(st.just(b"SET"), hll_key, st.sampled_from([b"x", b"HYLL"])),
    st.tuples(st.just(b"GET"), hll_key),
)


@sequence_settings(30)
@given(st.lists(hll_commands, min_size=1, max_size=12))
def test_random_sequences(diff, sequence):
    check_sequence(diff, sequence + [(b"GET", k) for k in HLL_KEYS])


def test_watch_sees_what_redis_signals(diff):
    """A PFCOUNT that stores its count is a modification a WATCH sees; a PFADD, SETBIT or
    BITFIELD that changes nothing is not (not even when BITFIELD creates the key)."""
    diff.check_all([("PFADD", "{w}h", "a", "b"), ("SETBIT", "{w}b", "3", "1")])
    for change in [("PFCOUNT", "{w}h"), ("PFCOUNT", "{w}h"), ("PFADD", "{w}h", "a"),
                   ("PFADD", "{w}h", "zz"), ("SETBIT", "{w}b", "3", "1"),
                   ("SETBIT", "{w}b", "3", "0"), ("BITFIELD", "{w}b", "SET", "u4", "0", "0"),
                   ("PFMERGE", "{w}h"), ("PFDEBUG", "ENCODING", "{w}h"),
                   # creates the key, but writes nothing: not a modification in Redis
                   ("BITFIELD", "{w}n", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10")]:
        diff.check_all([("WATCH", "{w}h", "{w}b", "{w}n"), change, ("MULTI",), ("PING",),
                        ("EXEC",)])
    diff.check("GET", "{w}n")
