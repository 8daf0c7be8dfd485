"""Sorted set commands: the same requests to node.py and redis-server, replies compared
exactly in RESP2 and RESP3 (where scores are doubles and pairs are nested).
ZRANDMEMBER and ZSCAN of big sets are not deterministic: they get property checks."""
import pytest

from tests.differential.collections_util import check_cases

SEED = [("ZADD", "z", "1", "a", "2", "b", "2", "c", "3.5", "d", "-inf", "m", "+inf", "p",
         "0.1", "e")]
LEX = [("ZADD", "lx", "0", "a", "0", "b", "0", "bb", "0", "c", "0", "d", "0", "", "0", "\xff")]

# Key names used below, put in one hash slot so multi-key commands are legal in a cluster.
KEY_NAMES = {"z", "lx", "none", "s", "d", "y", "w", "st", "n"}


CASES = {
    "zadd_options": [
        ("ZADD", "n", "1", "x"), ("ZADD", "n", "NX", "5", "x", "2", "y"),
        ("ZADD", "n", "XX", "5", "x", "2", "q"), ("ZADD", "n", "XX", "CH", "6", "x", "7", "y"),
        ("ZADD", "n", "GT", "CH", "1", "x", "10", "y"), ("ZADD", "n", "LT", "ch", "1", "x"),
        ("ZADD", "n", "GT", "XX", "CH", "100", "x"), ("ZADD", "n", "INCR", "2", "x"),
        ("ZADD", "n", "NX", "INCR", "2", "x"), ("ZADD", "n", "XX", "INCR", "2", "zz"),
        ("ZADD", "n", "GT", "INCR", "-1", "x"), ("ZADD", "n", "LT", "INCR", "-1", "x"),
        ("ZADD", "none", "XX", "1", "a"), ("ZADD", "none", "XX", "INCR", "1", "a"),
        ("EXISTS", "none"), ("ZRANGE", "n", 0, -1, "WITHSCORES"),
        ("ZADD", "n", "1", "x", "2", "x", "3", "x"), ("ZSCORE", "n", "x"),
        ("ZADD", "n", "CH", "3", "x", "3", "x")],
    "zadd_errors": [
        ("ZADD", "n", "XX", "NX", "1", "a"), ("ZADD", "n", "GT", "LT", "1", "a"),
        ("ZADD", "n", "NX", "GT", "1", "a"), ("ZADD", "n", "INCR", "1", "a", "2", "b"),
        ("ZADD", "n", "1"), ("ZADD", "n", "1", "a", "2"), ("ZADD", "n", " 1", "a"),
        ("ZADD", "n", "1 ", "a"), ("ZADD", "n", "nan", "a"), ("ZADD", "n", "1e400", "a"),
        ("ZADD", "n", "1e-400", "a"), ("ZADD", "n", "abc", "a"), ("ZADD", "n", "", "a"),
        ("ZADD", "n", "1", "a", "x", "b"), ("EXISTS", "n"), ("ZADD", "n", "1", "a", "NX"),
        ("ZADD", "n", "XX", "FOO", "1", "a"), ("ZADD", "n", "CH")],
    "zadd_scores": [
        ("ZADD", "n", "0x10", "a", "4e-320", "b", "1e17", "c", "-0", "d", ".5", "e", "5.", "f",
         "+3", "g", "1E3", "h", "inf", "i", "-Infinity", "j", "123456789012345678", "k",
         "0.1", "l", "1.5e300", "m", "-2.5e-5", "n"),
        ("ZRANGE", "n", 0, -1, "WITHSCORES"), ("ZSCORE", "n", "b"), ("ZSCORE", "n", "d"),
        ("ZMSCORE", "n", "a", "c", "zz", "k", "n")],
    "zincrby": [("ZINCRBY", "z", "1.5", "a"), ("ZINCRBY", "z", "1", "new"),
                ("ZINCRBY", "z", "x", "a"), ("ZINCRBY", "z", "-inf", "p"),
                ("ZINCRBY", "z", "inf", "p"), ("ZINCRBY", "none", "0.1", "a"),
                ("ZINCRBY", "z", "0.2", "e"), ("ZRANGE", "z", 0, -1, "WITHSCORES")],
    "zrem_card_score_rank": [
        ("ZCARD", "z"), ("ZCARD", "none"), ("ZSCORE", "z", "d"), ("ZSCORE", "z", "nope"),
        ("ZSCORE", "none", "a"), ("ZMSCORE", "z", "a", "nope", "p", "m"),
        ("ZMSCORE", "none", "a", "b"), ("ZRANK", "z", "c"), ("ZREVRANK", "z", "c"),
        ("ZRANK", "z", "nope"), ("ZRANK", "none", "a"), ("ZREVRANK", "z", "m"),
        ("ZREM", "z", "a", "nope", "b"), ("ZREM", "none", "a"), ("ZCARD", "z"),
        ("ZREM", "z", "c", "d", "m", "p", "e"), ("EXISTS", "z")],
    "zrange_rank": [
        ("ZRANGE", "z", 0, -1), ("ZRANGE", "z", 0, -1, "WITHSCORES"), ("ZRANGE", "z", 2, 4),
        ("ZRANGE", "z", -3, -1, "withscores"), ("ZRANGE", "z", 5, 2), ("ZRANGE", "z", -100, 100),
        ("ZRANGE", "z", 0, 1, "REV"), ("ZRANGE", "z", 1, -2, "REV", "WITHSCORES"),
        ("ZREVRANGE", "z", 0, 2), ("ZREVRANGE", "z", 0, -1, "WITHSCORES"),
        ("ZRANGE", "z", "x", 1), ("ZRANGE", "z", 0, 1, "LIMIT", 0, 1),
        ("ZRANGE", "z", 0, -1, "LIMIT", 0, -1), ("ZRANGE", "z", 0, 1, "FOO"),
        ("ZRANGE", "z", 0, 1, "LIMIT", 0), ("ZRANGE", "none", 0, -1),
        ("ZREVRANGE", "z", 0, 1, "REV"), ("ZREVRANGE", "z", 0, 1, "BYSCORE"),
        ("ZRANGE", "z", 7, 7), ("ZRANGE", "z", -7, -7, "WITHSCORES")],
    "zrange_score": [
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE"), ("ZRANGE", "z", "(1", "3.5", "BYSCORE"),
        ("ZRANGE", "z", "1", "(3.5", "BYSCORE", "WITHSCORES"),
        ("ZRANGE", "z", "(2", "(2", "BYSCORE"), ("ZRANGE", "z", "2", "2", "BYSCORE"),
        ("ZRANGE", "z", "5", "1", "BYSCORE"), ("ZRANGE", "z", "5", "1", "BYSCORE", "REV"),
        ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", 1, 3),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 2, 2, "WITHSCORES"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", -1, 2),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 1, -1),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 1, 0),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 100, 1),
        ("ZRANGE", "z", "(-inf", "(inf", "BYSCORE"), ("ZRANGE", "z", "inf", "inf", "BYSCORE"),
        ("ZRANGE", "z", "x", "1", "BYSCORE"), ("ZRANGE", "z", "(", "5", "BYSCORE"),
        ("ZRANGE", "z", "", "5", "BYSCORE"), ("ZRANGE", "z", " 1", "5", "BYSCORE"),
        ("ZRANGE", "z", "nan", "5", "BYSCORE"), ("ZRANGE", "z", "1e400", "inf", "BYSCORE"),
        ("ZRANGEBYSCORE", "z", "1", "3"), ("ZRANGEBYSCORE", "z", "1", "3", "WITHSCORES"),
        ("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", 1, 2, "WITHSCORES"),
        ("ZRANGEBYSCORE", "z", "1", "3", "REV"), ("ZRANGEBYSCORE", "z", "1", "3", "BYLEX"),
        ("ZREVRANGEBYSCORE", "z", "3", "1"), ("ZREVRANGEBYSCORE", "z", "1", "3"),
        ("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", 0, 3),
        ("ZRANGEBYSCORE", "none", "1", "2"), ("ZRANGEBYSCORE", "z", "0x1", "0x2")],
    "zrange_lex": [
        ("ZRANGE", "lx", "-", "+", "BYLEX"), ("ZRANGE", "lx", "[b", "(d", "BYLEX"),
        ("ZRANGE", "lx", "(a", "[bb", "BYLEX"), ("ZRANGE", "lx", "+", "-", "BYLEX", "REV"),
        ("ZRANGE", "lx", "[c", "[a", "BYLEX", "REV", "LIMIT", 1, 2),
        ("ZRANGE", "lx", "-", "+", "BYLEX", "LIMIT", 2, 3), ("ZRANGE", "lx", "+", "-", "BYLEX"),
        ("ZRANGE", "lx", "[", "[\xff", "BYLEX"), ("ZRANGE", "lx", "(", "+", "BYLEX"),
        ("ZRANGE", "lx", "a", "+", "BYLEX"), ("ZRANGE", "lx", "-", "+", "BYLEX", "WITHSCORES"),
        ("ZRANGEBYLEX", "lx", "[a", "[c"), ("ZRANGEBYLEX", "lx", "-", "+", "LIMIT", 0, 2),
        ("ZREVRANGEBYLEX", "lx", "[c", "-"), ("ZREVRANGEBYLEX", "lx", "+", "(b", "LIMIT", 1, 1),
        ("ZRANGEBYLEX", "lx", "[a", "[c", "WITHSCORES"), ("ZRANGEBYLEX", "none", "-", "+"),
        ("ZLEXCOUNT", "lx", "-", "+"), ("ZLEXCOUNT", "lx", "[b", "(c"),
        ("ZLEXCOUNT", "lx", "x", "+"), ("ZLEXCOUNT", "none", "-", "+"),
        ("ZLEXCOUNT", "lx", "(d", "(d"), ("ZLEXCOUNT", "lx", "[d", "[d")],
    "zcount": [("ZCOUNT", "z", "-inf", "+inf"), ("ZCOUNT", "z", "(1", "2"),
               ("ZCOUNT", "z", "2", "(2"), ("ZCOUNT", "z", "x", "1"),
               ("ZCOUNT", "none", "0", "1"), ("ZCOUNT", "z", "5", "1")],
    "zrangestore": [
        ("ZRANGESTORE", "d", "z", 0, 2), ("ZRANGE", "d", 0, -1, "WITHSCORES"),
        ("ZRANGESTORE", "d", "z", "(1", "inf", "BYSCORE", "LIMIT", 0, 2),
        ("ZRANGE", "d", 0, -1, "WITHSCORES"), ("ZRANGESTORE", "d", "lx", "[b", "+", "BYLEX"),
        ("ZRANGESTORE", "d", "z", 0, -1, "REV"), ("ZRANGESTORE", "d", "none", 0, -1),
        ("EXISTS", "d"), ("ZRANGESTORE", "d", "z", 0, -1, "WITHSCORES"),
        ("ZRANGESTORE", "d", "z", 5, 1), ("EXISTS", "d"), ("SET", "s", "x"),
        ("ZRANGESTORE", "s", "z", 0, 0), ("TYPE", "s"), ("ZRANGESTORE", "d", "s", 0, 0),
        ("OBJECT", "ENCODING", "d")],
    "zremrange": [
        ("ZREMRANGEBYRANK", "z", 0, 1), ("ZRANGE", "z", 0, -1),
        ("ZREMRANGEBYSCORE", "z", "(2", "3.5"), ("ZRANGE", "z", 0, -1),
        ("ZREMRANGEBYLEX", "lx", "[b", "[c"), ("ZRANGE", "lx", 0, -1),
        ("ZREMRANGEBYRANK", "z", 5, 1), ("ZREMRANGEBYRANK", "z", "x", 1),
        ("ZREMRANGEBYSCORE", "z", "x", 1), ("ZREMRANGEBYLEX", "lx", "x", "+"),
        ("ZREMRANGEBYRANK", "none", 0, 1), ("ZREMRANGEBYSCORE", "z", "-inf", "inf"),
        ("EXISTS", "z"), ("ZREMRANGEBYLEX", "lx", "-", "+"), ("EXISTS", "lx")],
    "pops": [
        ("ZPOPMIN", "z"), ("ZPOPMAX", "z"), ("ZPOPMIN", "z", 2), ("ZPOPMAX", "z", 0),
        ("ZPOPMIN", "z", -1), ("ZPOPMIN", "z", "x"), ("ZPOPMIN", "z", 1, 2),
        ("ZPOPMIN", "none"), ("ZPOPMIN", "none", 3), ("ZPOPMAX", "z", 100), ("EXISTS", "z"),
        ("ZMPOP", 1, "lx", "MIN"), ("ZMPOP", 2, "none", "lx", "MAX", "COUNT", 2),
        ("ZMPOP", 1, "none", "MIN"), ("ZMPOP", 0, "lx", "MIN"), ("ZMPOP", 1, "lx", "FOO"),
        ("ZMPOP", 1, "lx", "MIN", "COUNT", 0), ("ZMPOP", 2, "lx", "MIN"),
        ("BZPOPMIN", "none", "lx", 0), ("BZPOPMAX", "lx", 1),
        ("BZMPOP", 0, 1, "lx", "MIN", "COUNT", 2), ("BZPOPMIN", "lx", -1),
        ("BZPOPMIN", "lx", "x"), ("BZMPOP", "x", 1, "lx", "MIN"),
        ("BZMPOP", 0, 0, "lx", "MIN")],
    "setops": [
        ("ZADD", "y", "10", "a", "20", "x", "0.5", "e"), ("SADD", "st", "a", "x", "q"),
        ("ZUNION", 2, "z", "y"), ("ZUNION", 2, "z", "y", "WITHSCORES"),
        ("ZUNION", 3, "z", "y", "st", "WEIGHTS", 1, 2, 3, "WITHSCORES"),
        ("ZUNION", 2, "z", "y", "AGGREGATE", "MIN", "WITHSCORES"),
        ("ZUNION", 2, "z", "y", "AGGREGATE", "max", "WITHSCORES"),
        ("ZINTER", 2, "z", "y", "WITHSCORES"), ("ZINTER", 3, "z", "y", "st", "WITHSCORES"),
        ("ZINTER", 2, "z", "y", "WEIGHTS", 0, "-1", "WITHSCORES"),
        ("ZINTER", 2, "z", "none"), ("ZDIFF", 2, "z", "y"), ("ZDIFF", 2, "z", "y", "WITHSCORES"),
        ("ZDIFF", 1, "none"), ("ZDIFF", 3, "z", "st", "none", "WITHSCORES"),
        ("ZUNIONSTORE", "d", 2, "z", "y"), ("ZRANGE", "d", 0, -1, "WITHSCORES"),
        ("ZINTERSTORE", "d", 2, "z", "y", "WEIGHTS", 2, 3), ("ZRANGE", "d", 0, -1, "WITHSCORES"),
        ("ZDIFFSTORE", "d", 2, "z", "y"), ("ZRANGE", "d", 0, -1, "WITHSCORES"),
        ("ZINTERSTORE", "d", 2, "z", "none"), ("EXISTS", "d"),
        ("ZUNIONSTORE", "z", 2, "z", "z"), ("ZRANGE", "z", 0, -1, "WITHSCORES"),
        ("ZUNION", 2, "z", "p", "WEIGHTS", 0, 0, "WITHSCORES"),
        ("ZINTERCARD", 2, "z", "y"), ("ZINTERCARD", 2, "z", "y", "LIMIT", 1),
        ("ZINTERCARD", 3, "z", "y", "st", "LIMIT", 0), ("ZINTERCARD", 1, "none")],
    "setops_errors": [
        ("SET", "s", "x"), ("ZUNION", 0, "z"), ("ZUNION", -1, "z"), ("ZUNION", "x", "z"),
        ("ZUNION", 3, "z", "y"), ("ZUNION", 2, "z", "y", "WEIGHTS", 1, "x"),
        ("ZUNION", 2, "z", "y", "WEIGHTS", 1), ("ZUNION", 2, "z", "y", "AGGREGATE", "avg"),
        ("ZDIFF", 2, "z", "y", "WEIGHTS", 1, 1), ("ZDIFF", 2, "z", "y", "AGGREGATE", "SUM"),
        ("ZUNIONSTORE", "d", 2, "z", "y", "WITHSCORES"), ("ZUNIONSTORE", "d", 0, "z"),
        ("ZUNION", 2, "z", "s"), ("ZUNION", 2, "s", "z", "FOO"),
        ("ZINTERSTORE", "d", 2, "z", "s"), ("ZINTERCARD", 0, "z"),
        ("ZINTERCARD", 1, "z", "LIMIT", -1), ("ZINTERCARD", 1, "z", "LIMIT", "x"),
        ("ZINTERCARD", 1, "z", "FOO"), ("ZINTERCARD", 1, "z", "WITHSCORES"),
        ("ZINTERCARD", "x", "z"), ("ZUNION", 1, "z", "WEIGHTS", "nan")],
    "wrongtype": [
        ("SET", "s", "x"), ("ZADD", "s", "1", "a"), ("ZINCRBY", "s", "1", "a"),
        ("ZREM", "s", "a"), ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a"), ("ZCARD", "s"),
        ("ZCOUNT", "s", 0, 1), ("ZCOUNT", "s", "x", 1), ("ZLEXCOUNT", "s", "-", "+"),
        ("ZRANGE", "s", 0, 1), ("ZRANGE", "s", "x", 1), ("ZRANK", "s", "a"),
        ("ZPOPMIN", "s"), ("ZPOPMIN", "s", -1), ("BZPOPMIN", "s", 0),
        ("ZREMRANGEBYRANK", "s", 0, 1), ("ZRANDMEMBER", "s"), ("ZRANDMEMBER", "s", 1),
        ("ZSCAN", "s", 0), ("ZSCAN", "s", "x"), ("ZMPOP", 1, "s", "MIN"),
        ("ZRANGESTORE", "d", "s", 0, 1), ("TYPE", "z"), ("OBJECT", "ENCODING", "z"),
        ("RPUSH", "z", "x")],
    "zrandmember_edges": [
        ("ZRANDMEMBER", "none"), ("ZRANDMEMBER", "none", 5), ("ZRANDMEMBER", "z", 0),
        ("ZRANDMEMBER", "z", "x"), ("ZRANDMEMBER", "z", 1, "FOO"),
        ("ZRANDMEMBER", "z", 1, "WITHSCORES", "x"),
        ("ZRANDMEMBER", "z", "-9223372036854775808", "WITHSCORES"),
        ("ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"),
        ("ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES"),
        ("ZRANDMEMBER", "none", -3, "WITHSCORES")],
    "zscan_small": [
        ("ZSCAN", "z", 0), ("ZSCAN", "z", 0, "MATCH", "[a-c]"), ("ZSCAN", "z", 0, "COUNT", 1),
        ("ZSCAN", "z", 0, "COUNT", 0), ("ZSCAN", "z", 0, "COUNT", "x"),
        ("ZSCAN", "z", 0, "FOO", 1), ("ZSCAN", "z", "x"), ("ZSCAN", "z", "-1"),
        ("ZSCAN", "none", 0), ("ZSCAN", "none", 0, "FOO"), ("ZSCAN", "z", 0, "MATCH")],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_zset_commands(diff, name):
    check_cases(diff, SEED + LEX + CASES[name], KEY_NAMES)


def test_encoding_conversions(diff):
    diff.check("FLUSHALL")
    members = []
    for i in range(128):
        members += [str(i), "m%d" % i]
    diff.check_all([("ZADD", "{t}z", *members), ("OBJECT", "ENCODING", "{t}z"),
                    ("ZADD", "{t}z", "1", "extra"), ("OBJECT", "ENCODING", "{t}z"),
                    ("ZREM", "{t}z", "extra", "m0", "m1"), ("OBJECT", "ENCODING", "{t}z"),
                    ("ZRANGESTORE", "{t}d", "{t}z", 0, 10), ("OBJECT", "ENCODING", "{t}d"),
                    ("ZADD", "{t}w", "1", "x" * 65), ("OBJECT", "ENCODING", "{t}w"),
                    ("ZADD", "{t}v", "1", "x" * 64), ("OBJECT", "ENCODING", "{t}v"),
                    ("ZUNIONSTORE", "{t}u", 1, "{t}w"), ("OBJECT", "ENCODING", "{t}u"),
                    ("ZADD", "{t}r", *(["1", "same"] * 129)), ("OBJECT", "ENCODING", "{t}r"),
                    ("COPY", "{t}z", "{t}c"), ("OBJECT", "ENCODING", "{t}c"),
                    ("ZRANGE", "{t}c", 0, 5, "WITHSCORES")])


def test_big_zset_ranges(diff):
    """A skiplist-sized set: ranges, ranks, lex ranges over equal scores, removals."""
    diff.check("FLUSHALL")
    args = []
    for i in range(1000):
        args += [str((i * 7919) % 1000 / 10.0), "m%04d" % i]
    diff.check("ZADD", "{t}big", *args)
    diff.check("ZADD", "{t}lex", *sum((["0", "k%04d" % i] for i in range(500)), []))
    diff.check_all([
        ("ZRANGE", "{t}big", 100, 120, "WITHSCORES"), ("ZRANGE", "{t}big", -20, -1, "REV"),
        ("ZRANGE", "{t}big", "(10", "20.5", "BYSCORE", "LIMIT", 5, 10, "WITHSCORES"),
        ("ZRANGE", "{t}big", "20", "(10", "BYSCORE", "REV", "LIMIT", 3, 7),
        ("ZCOUNT", "{t}big", "(25", "75"), ("ZRANK", "{t}big", "m0500"),
        ("ZREVRANK", "{t}big", "m0500"), ("ZRANGE", "{t}lex", "[k0100", "(k0120", "BYLEX"),
        ("ZRANGE", "{t}lex", "(k0300", "[k0250", "BYLEX", "REV", "LIMIT", 2, 5),
        ("ZLEXCOUNT", "{t}lex", "[k0001", "+"), ("ZREMRANGEBYLEX", "{t}lex", "[k0100", "[k0199"),
        ("ZREMRANGEBYSCORE", "{t}big", "10", "20"), ("ZREMRANGEBYRANK", "{t}big", 0, 99),
        ("ZCARD", "{t}big"), ("ZRANGE", "{t}big", 0, 9, "WITHSCORES"),
        ("ZPOPMAX", "{t}big", 3), ("ZMPOP", 1, "{t}big", "MIN", "COUNT", 3)])


def _plain(reply):
    kind, value = reply
    if kind in "*~" and value is not None:
        return [_plain(item) for item in value]
    return value


def test_zrandmember_properties(diff):
    diff.check("FLUSHALL")
    diff.check(*SEED[0])
    members = set(_plain(diff.ours.call("ZRANGE", "z", 0, -1)))
    scores = dict(zip(*[iter(_plain(diff.ours.call("ZRANGE", "z", 0, -1, "WITHSCORES")))] * 2))
    one = _plain(diff.ours.call("ZRANDMEMBER", "z"))
    assert one in members
    distinct = _plain(diff.ours.call("ZRANDMEMBER", "z", 5))
    assert len(distinct) == 5 == len(set(distinct)) and set(distinct) <= members
    everything = _plain(diff.ours.call("ZRANDMEMBER", "z", 100))
    assert sorted(everything) == sorted(members)
    repeats = _plain(diff.ours.call("ZRANDMEMBER", "z", -50))
    assert len(repeats) == 50 and set(repeats) <= members
    flat = _plain(diff.ours.call("ZRANDMEMBER", "z", -6, "WITHSCORES"))
    assert len(flat) == 12
    for member, score in zip(flat[::2], flat[1::2]):
        assert scores[member] == score
    diff.ours.call("HELLO", "3")
    pairs = diff.ours.call("ZRANDMEMBER", "z", 3, "WITHSCORES")
    assert pairs[0] == "*" and all(p[0] == "*" and p[1][1][0] == "," for p in pairs[1])


def test_zscan_big_set_returns_every_member_once(diff):
    diff.check("FLUSHALL")
    args = []
    for i in range(500):
        args += [str(i), "m%d" % i]
    diff.ours.call("ZADD", "big", *args)
    seen = []
    cursor = b"0"
    for _ in range(1000):
        cursor, items = _plain(diff.ours.call("ZSCAN", "big", cursor, "COUNT", 20))
        seen += items[::2]
        for member, score in zip(items[::2], items[1::2]):
            assert score == member[1:]
        if cursor == b"0":
            break
    assert sorted(seen) == sorted(b"m%d" % i for i in range(500))
    # Members removed and added during a scan: the ones present throughout still come back.
    cursor, first = _plain(diff.ours.call("ZSCAN", "big", 0, "COUNT", 50))
    diff.ours.call("ZREM", "big", *first[::2][:10])
    diff.ours.call("ZADD", "big", "1", "newcomer")
    seen = set(first[::2])
    while cursor != b"0":
        cursor, items = _plain(diff.ours.call("ZSCAN", "big", cursor, "COUNT", 50,
                                              "MATCH", "m*"))
        seen.update(items[::2])
    assert {b"m%d" % i for i in range(500)} <= seen


@pytest.mark.parametrize("name", ["zadd", "zrem", "zscore", "zmscore", "zincrby", "zcard",
                                  "zcount", "zlexcount", "zrange", "zrangestore",
                                  "zrangebyscore", "zrevrangebyscore", "zrangebylex",
                                  "zrevrangebylex", "zrevrange", "zrank", "zrevrank",
                                  "zpopmin", "zpopmax", "bzpopmin", "bzpopmax", "zmpop",
                                  "bzmpop", "zremrangebyscore", "zremrangebyrank",
                                  "zremrangebylex", "zrandmember", "zunionstore",
                                  "zinterstore", "zdiffstore", "zunion", "zinter", "zdiff",
                                  "zintercard", "zscan"])
def test_command_info(diff, name):
    ours = diff.ours.call("COMMAND", "INFO", name)
    ref = diff.redis.call("COMMAND", "INFO", name)
    assert ours[1][0][1][:8] == ref[1][0][1][:8]


@pytest.mark.parametrize("args", [("zunionstore", "{a}d", 2, "{a}x", "{a}y", "WEIGHTS", 1, 2),
                                  ("zinter", 2, "{a}x", "{a}y"), ("zdiff", 1, "x"),
                                  ("zintercard", 2, "{a}x", "{a}y", "LIMIT", 1),
                                  ("bzmpop", 0, 2, "{a}x", "{a}y", "MIN"),
                                  ("zrangestore", "{a}d", "{a}x", 0, 1)])
def test_command_getkeys(diff, args):
    diff.check("COMMAND", "GETKEYS", *args)


def test_dump_restore_round_trip(diff):
    """Redis's payload both ways: each side restores the other's DUMP, then compare."""
    diff.check("FLUSHALL")
    diff.check("ZADD", "{t}z", "1.5", "a", "-inf", "b", "2", "\x00c")
    diff.check("ZADD", "{t}big", *sum(([str(i), "m%d" % i] for i in range(200)), []))
    for key in ("{t}z", "{t}big"):
        diff.check("DUMP", key)
        ours, theirs = diff.ours.call("DUMP", key)[1], diff.redis.call("DUMP", key)[1]
        assert diff.ours.call("RESTORE", key + "copy", 0, theirs) == ("+", "OK")
        assert diff.redis.call("RESTORE", key + "copy", 0, ours) == ("+", "OK")
        diff.check("ZRANGE", key + "copy", 0, -1, "WITHSCORES")
        diff.check("OBJECT", "ENCODING", key + "copy")
    diff.check("RESTORE", "{t}bad", 0, b"\x05" * 12)
