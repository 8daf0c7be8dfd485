"""Hypothesis-generated command sequences over lists and sorted sets, sent to our node and
to redis-server; every reply must match, type by type.

Keys share the hash tag {r} so multi-key commands are legal in cluster mode. Blocking
commands appear only with data present or inside MULTI (they never block here). Lex
range commands only touch keys whose members all have score 0 (Redis documents lex ranges
only for equal scores), and scores are binary-exact values so sums do not depend on
the order in which they are added. ZRANDMEMBER is non-deterministic and left out.
"""
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.sequences import check_sequence, sequence_settings

LIST_KEYS = [b"{r}l1", b"{r}l2", b"{r}s"]          # {r}s sometimes holds a string
ELEMENTS = [b"a", b"b", b"c", b"", b"\x00\xff", b"1", b"-1"]
INDEXES = [b"0", b"1", b"2", b"-1", b"-2", b"5", b"-6", b"100", b"x"]
COUNTS = [b"0", b"1", b"2", b"3", b"-1", b"-2", b"10"]

ZKEYS = [b"{r}z1", b"{r}z2", b"{r}s"]
LEXKEYS = [b"{r}x1", b"{r}x2"]
MEMBERS = [b"a", b"b", b"c", b"d", b"", b"m\x00"]
SCORES = [b"0", b"1", b"-1", b"1.5", b"2", b"-3.25", b"inf", b"-inf", b"0.5", b"1e3"]
SCORE_BOUNDS = [b"-inf", b"+inf", b"0", b"(0", b"1", b"(1.5", b"2", b"(2", b"x"]
LEX_BOUNDS = [b"-", b"+", b"[a", b"(a", b"[b", b"(c", b"[", b"a"]

lkey = st.sampled_from(LIST_KEYS)
element = st.sampled_from(ELEMENTS)
index = st.sampled_from(INDEXES)
where = st.sampled_from([b"LEFT", b"RIGHT"])

list_commands = st.one_of(
    st.tuples(st.sampled_from([b"LPUSH", b"RPUSH", b"LPUSHX", b"RPUSHX"]), lkey,
              st.lists(element, min_size=1, max_size=4)).map(lambda t: (t[0], t[1], *t[2])),
    st.tuples(st.sampled_from([b"LPOP", b"RPOP"]), lkey),
    st.tuples(st.sampled_from([b"LPOP", b"RPOP"]), lkey, st.sampled_from(COUNTS)),
    st.tuples(st.just(b"LLEN"), lkey),
    st.tuples(st.just(b"LRANGE"), lkey, index, index),
    st.tuples(st.just(b"LINDEX"), lkey, index),
    st.tuples(st.just(b"LSET"), lkey, index, element),
    st.tuples(st.just(b"LREM"), lkey, st.sampled_from(COUNTS), element),
    st.tuples(st.just(b"LTRIM"), lkey, index, index),
    st.tuples(st.just(b"LINSERT"), lkey, st.sampled_from([b"BEFORE", b"AFTER"]), element,
              element),
    st.tuples(lkey, element, st.sampled_from([(), (b"RANK", b"-1"), (b"RANK", b"2"),
                                              (b"COUNT", b"0"), (b"COUNT", b"2", b"RANK",
                                                                 b"-2"), (b"MAXLEN", b"2")]))
      .map(lambda t: (b"LPOS", t[0], t[1]) + t[2]),
    st.tuples(st.just(b"LMOVE"), lkey, lkey, where, where),
    st.tuples(st.just(b"RPOPLPUSH"), lkey, lkey),
    st.tuples(st.lists(lkey, min_size=1, max_size=2), where, st.sampled_from(
        [(), (b"COUNT", b"2"), (b"COUNT", b"5")]))
      .map(lambda t: (b"LMPOP", b"%d" % len(t[0]), *t[0], t[1]) + t[2]),
    st.tuples(st.just(b"SET"), st.just(b"{r}s"), element),
    st.tuples(st.just(b"DEL"), lkey),
    st.tuples(st.just(b"TYPE"), lkey),
)

zkey = st.sampled_from(ZKEYS)
member = st.sampled_from(MEMBERS)
score = st.sampled_from(SCORES)
bound = st.sampled_from(SCORE_BOUNDS)
lex = st.sampled_from(LEX_BOUNDS)
zadd_flags = st.sampled_from([(), (b"NX",), (b"XX",), (b"CH",), (b"GT",), (b"LT", b"CH"),
                              (b"XX", b"GT"), (b"INCR",), (b"NX", b"INCR")])
limit = st.sampled_from([(), (b"LIMIT", b"0", b"2"), (b"LIMIT", b"1", b"-1"),
                         (b"LIMIT", b"-1", b"1")])
withscores = st.sampled_from([(), (b"WITHSCORES",)])

zset_commands = st.one_of(
    st.tuples(zkey, zadd_flags, st.lists(st.tuples(score, member), min_size=1, max_size=3))
      .map(lambda t: (b"ZADD", t[0], *t[1], *sum(t[2], ()))),
    st.tuples(st.sampled_from(LEXKEYS), st.lists(member, min_size=1, max_size=3))
      .map(lambda t: (b"ZADD", t[0], *sum(((b"0", m) for m in t[1]), ()))),
    st.tuples(st.just(b"ZINCRBY"), zkey, score, member),
    st.tuples(st.just(b"ZREM"), st.sampled_from(ZKEYS + LEXKEYS), member),
    st.tuples(st.sampled_from([b"ZSCORE", b"ZRANK", b"ZREVRANK"]), zkey, member),
    st.tuples(st.just(b"ZMSCORE"), zkey, member, member),
    st.tuples(st.just(b"ZCARD"), zkey),
    st.tuples(st.just(b"ZCOUNT"), zkey, bound, bound),
    st.tuples(st.just(b"ZRANGE"), zkey, index, index, st.sampled_from([(), (b"REV",)]),
              withscores).map(lambda t: t[:4] + t[4] + t[5]),
    st.tuples(st.just(b"ZRANGE"), zkey, bound, bound, st.sampled_from([(), (b"REV",)]),
              limit, withscores).map(lambda t: t[:4] + (b"BYSCORE",) + t[4] + t[5] + t[6]),
    st.tuples(st.sampled_from([b"ZRANGEBYSCORE", b"ZREVRANGEBYSCORE"]), zkey, bound, bound,
              withscores, limit).map(lambda t: t[:4] + t[4] + t[5]),
    st.tuples(st.sampled_from([b"ZRANGEBYLEX", b"ZREVRANGEBYLEX"]),
              st.sampled_from(LEXKEYS), lex, lex, limit).map(lambda t: t[:4] + t[4]),
    st.tuples(st.just(b"ZLEXCOUNT"), st.sampled_from(LEXKEYS), lex, lex),
    st.tuples(st.just(b"ZREMRANGEBYLEX"), st.sampled_from(LEXKEYS), lex, lex),
    st.tuples(st.just(b"ZREMRANGEBYSCORE"), zkey, bound, bound),
    st.tuples(st.just(b"ZREMRANGEBYRANK"), zkey, index, index),
    st.tuples(st.sampled_from([b"ZPOPMIN", b"ZPOPMAX"]), zkey),
    st.tuples(st.sampled_from([b"ZPOPMIN", b"ZPOPMAX"]), zkey, st.sampled_from(COUNTS)),
    st.tuples(st.just(b"ZMPOP"), st.sampled_from([b"MIN", b"MAX"]), zkey)
      .map(lambda t: (b"ZMPOP", b"1", t[2], t[1])),
    st.tuples(st.just(b"ZRANGESTORE"), zkey, zkey, index, index),
    st.tuples(st.sampled_from([b"ZUNIONSTORE", b"ZINTERSTORE"]), zkey,
              st.sampled_from([(), (b"WEIGHTS", b"2", b"0.5"), (b"AGGREGATE", b"MIN"),
                               (b"AGGREGATE", b"MAX")]))
      .map(lambda t: (t[0], t[1], b"2", b"{r}z1", b"{r}z2") + t[2]),
    st.tuples(st.sampled_from([b"ZUNION", b"ZINTER", b"ZDIFF"]), withscores)
      .map(lambda t: (t[0], b"2", b"{r}z1", b"{r}z2") + t[1]),
    st.tuples(st.just(b"ZDIFFSTORE"), zkey).map(lambda t: (t[0], t[1], b"2", b"{r}z2",
                                                           b"{r}z1")),
    st.just((b"ZINTERCARD", b"2", b"{r}z1", b"{r}z2")),
    st.tuples(st.just(b"ZSCAN"), zkey, st.just(b"0")),
    st.tuples(st.just(b"SET"), st.just(b"{r}s"), member),
    st.tuples(st.just(b"OBJECT"), st.just(b"ENCODING"), zkey),
)


@sequence_settings(50)
@given(st.lists(list_commands, min_size=1, max_size=25), st.booleans())
def test_random_list_sequences(diff, sequence, resp3):
    check_sequence(diff, sequence, resp3)


@sequence_settings(50)
@given(st.lists(zset_commands, min_size=1, max_size=25), st.booleans())
def test_random_zset_sequences(diff, sequence, resp3):
    check_sequence(diff, sequence, resp3)
