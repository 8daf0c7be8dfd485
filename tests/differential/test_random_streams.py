"""Hypothesis-generated sequences of X* commands with explicit IDs, sent to our node and
to redis-server; every reply must match, type by type (time fields masked).

IDs come from a small alphabet (so adds collide with existing IDs, deletes hit, ranges
cross tombstones) and the node size is lowered to 4 entries with
stream-node-max-entries, so approximate trimming and XINFO's node counts are exercised
with a handful of entries. Blocking never happens (no BLOCK)."""
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.sequences import sequence_settings
from tests.differential.test_streams import _is_timed, _masked, _pending_masked

KEYS = [b"{r}s1", b"{r}s2", b"{r}str"]          # {r}str sometimes holds a string
IDS = [b"%d-%d" % (ms, seq) for ms in (0, 1, 2, 3, 5, 8) for seq in (0, 1, 2)]
IDS += [b"4", b"6", b"7-*", b"9-*", b"-", b"+", b"(2-1", b"x"]
FIELDS = [b"f", b"g", b"", b"1"]
VALUES = [b"v", b"", b"12", b"-3", b"\x00\xff"]
GROUPS = [b"g1", b"g2"]
CONSUMERS = [b"c1", b"c2", b"c3"]

key = st.sampled_from(KEYS)
sid = st.sampled_from(IDS)
group = st.sampled_from(GROUPS)
consumer = st.sampled_from(CONSUMERS)
count = st.sampled_from([b"0", b"1", b"2", b"5", b"-1"])
pairs = st.lists(st.tuples(st.sampled_from(FIELDS), st.sampled_from(VALUES)), min_size=1,
                 max_size=3).map(lambda ps: tuple(x for p in ps for x in p))
trim = st.sampled_from([(), (b"MAXLEN", b"3"), (b"MAXLEN", b"~", b"2"), (b"MINID", b"3"),
                        (b"MINID", b"~", b"5"), (b"MAXLEN", b"~", b"0", b"LIMIT", b"4"),
                        (b"NOMKSTREAM",)])

stream_commands = st.one_of(
    st.tuples(key, trim, sid, pairs).map(lambda t: (b"XADD", t[0], *t[1], t[2], *t[3])),
    st.tuples(key, st.lists(sid, min_size=1, max_size=3)).map(lambda t: (b"XDEL", t[0], *t[1])),
    st.tuples(key, sid, sid).map(lambda t: (b"XRANGE", *t)),
    st.tuples(key, sid, sid, count).map(lambda t: (b"XREVRANGE", *t[:3], b"COUNT", t[3])),
    st.tuples(key).map(lambda t: (b"XLEN", *t)),
    st.tuples(key, st.sampled_from([(b"MAXLEN", b"2"), (b"MINID", b"~", b"3"),
                                    (b"MAXLEN", b"~", b"1")])).map(
        lambda t: (b"XTRIM", t[0], *t[1])),
    st.tuples(key, sid).map(lambda t: (b"XSETID", *t)),
    st.tuples(key, group, st.sampled_from([b"$", b"0", b"2-1"]),
              st.sampled_from([(), (b"MKSTREAM",)])).map(
        lambda t: (b"XGROUP", b"CREATE", t[0], t[1], t[2], *t[3])),
    st.tuples(key, group, st.sampled_from([b"$", b"0", b"3-0"])).map(
        lambda t: (b"XGROUP", b"SETID", *t)),
    st.tuples(key, group).map(lambda t: (b"XGROUP", b"DESTROY", *t)),
    st.tuples(key, group, consumer).map(lambda t: (b"XGROUP", b"DELCONSUMER", *t)),
    st.tuples(key, group, consumer, count, st.sampled_from([(), (b"NOACK",)]),
              st.sampled_from([b">", b"0", b"2-0"])).map(
        lambda t: (b"XREADGROUP", b"GROUP", t[1], t[2], b"COUNT", t[3], *t[4],
                   b"STREAMS", t[0], t[5])),
    st.tuples(key, st.sampled_from([b"0", b"$", b"2-1"])).map(
        lambda t: (b"XREAD", b"STREAMS", *t)),
    st.tuples(key, group, st.lists(sid, min_size=1, max_size=2)).map(
        lambda t: (b"XACK", t[0], t[1], *t[2])),
    st.tuples(key, group).map(lambda t: (b"XPENDING", *t)),
    st.tuples(key, group, consumer, st.lists(sid, min_size=1, max_size=2),
              st.sampled_from([(), (b"JUSTID",), (b"FORCE",), (b"RETRYCOUNT", b"4")])).map(
        lambda t: (b"XCLAIM", t[0], t[1], t[2], b"0", *t[3], *t[4])),
    st.tuples(key, group, consumer, st.sampled_from([b"0", b"(1-1", b"-"]), count).map(
        lambda t: (b"XAUTOCLAIM", t[0], t[1], t[2], b"0", t[3], b"COUNT", t[4])),
    st.tuples(key).map(lambda t: (b"XINFO", b"STREAM", *t)),
    st.tuples(key).map(lambda t: (b"XINFO", b"GROUPS", *t)),
    st.just((b"SET", b"{r}str", b"x")),
    st.tuples(key).map(lambda t: (b"DEL", *t)),
)


@sequence_settings(60)
@given(st.lists(stream_commands, min_size=1, max_size=30), st.booleans())
def test_random_stream_sequences(diff, sequence, resp3):
    diff.check("FLUSHALL")
    diff.check("CONFIG", "SET", "stream-node-max-entries", "4")
    if resp3:
        diff.both("HELLO", "3")
    try:
        for cmd in sequence:
            ours, ref = diff.both(*cmd)
            if _is_timed([c.decode("latin-1") for c in cmd]):
                ours, ref = _pending_masked(_masked(ours)), _pending_masked(_masked(ref))
            assert ours == ref, "command %r:\n  ours:  %r\n  redis: %r" % (cmd, ours, ref)
    finally:
        diff.both("HELLO", "2")
        diff.check("CONFIG", "SET", "stream-node-max-entries", "100")
