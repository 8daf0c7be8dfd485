"""List commands: the same requests to node.py and redis-server, replies compared exactly
(RESP2 and RESP3). Blocking commands are checked here only where they do not block
(data present, MULTI, argument errors); tests/integration/test_blocking.py blocks."""
import pytest

from tests.differential.collections_util import check_cases

SEED = [("RPUSH", "l", "a", "b", "c", "a", "b", "c", "a")]

# Key names in CASES, put in one hash slot so multi-key commands are legal in a cluster.
KEY_NAMES = {"l", "n", "d", "s", "none", "bin"}


CASES = {
    "push": [("LPUSH", "n", "x", "y", "z"), ("RPUSH", "n", "1", "2"), ("LRANGE", "n", 0, -1),
             ("LPUSHX", "none", "a"), ("RPUSHX", "none", "a"), ("EXISTS", "none"),
             ("LPUSHX", "n", "p", "q"), ("RPUSHX", "n", "r"), ("LRANGE", "n", 0, -1),
             ("LPUSH", "n"), ("RPUSHX", "n")],
    "pop": [("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", 2), ("RPOP", "l", 0),
            ("LPOP", "l", 100), ("EXISTS", "l"), ("LPOP", "l"), ("LPOP", "l", 1),
            ("LPOP", "l", 0), ("RPOP", "l", -1), ("RPOP", "l", "x"), ("LPOP", "l", 1, 2),
            ("LPOP", "l", "01")],
    "llen_lindex": [("LLEN", "l"), ("LLEN", "none"), ("LINDEX", "l", 0),
                    ("LINDEX", "l", -1), ("LINDEX", "l", 7), ("LINDEX", "l", -8),
                    ("LINDEX", "l", "x"), ("LINDEX", "none", 0), ("LINDEX", "none", "x")],
    "lrange": [("LRANGE", "l", 0, -1), ("LRANGE", "l", -3, -1), ("LRANGE", "l", 2, 4),
               ("LRANGE", "l", 5, 2), ("LRANGE", "l", -100, 100), ("LRANGE", "l", 7, 10),
               ("LRANGE", "l", -1, -2), ("LRANGE", "l", "a", 1), ("LRANGE", "l", 0, "1.5"),
               ("LRANGE", "none", 0, -1), ("LRANGE", "l", 6, 6), ("LRANGE", "l", -7, -7)],
    "lset": [("LSET", "l", 0, "X"), ("LSET", "l", -1, "Y"), ("LSET", "l", 7, "Z"),
             ("LSET", "l", -8, "Z"), ("LSET", "none", 0, "a"), ("LSET", "l", "x", "a"),
             ("LSET", "none", "x", "a"),
             ("LRANGE", "l", 0, -1)],
    "lrem": [("LREM", "l", 2, "a"), ("LRANGE", "l", 0, -1), ("LREM", "l", -1, "b"),
             ("LRANGE", "l", 0, -1), ("LREM", "l", 0, "c"), ("LREM", "l", 0, "zz"),
             ("LRANGE", "l", 0, -1), ("LREM", "none", 0, "a"), ("LREM", "l", "x", "a"),
             ("LREM", "l", 0, "a"), ("LREM", "l", 0, "b"), ("EXISTS", "l")],
    "ltrim": [("LTRIM", "l", 1, -2), ("LRANGE", "l", 0, -1), ("LTRIM", "l", -2, 100),
              ("LRANGE", "l", 0, -1), ("LTRIM", "l", 5, 1), ("EXISTS", "l"),
              ("LTRIM", "none", 0, 1), ("LTRIM", "l", "x", 1)],
    "linsert": [("LINSERT", "l", "BEFORE", "b", "X"), ("LINSERT", "l", "after", "c", "Y"),
                ("LINSERT", "l", "AFTER", "a", "Z"), ("LRANGE", "l", 0, -1),
                ("LINSERT", "l", "before", "zz", "Q"), ("LINSERT", "none", "before", "a", "Q"),
                ("LINSERT", "l", "middle", "a", "Q"), ("LINSERT", "none", "middle", "a", "Q")],
    "lpos": [("LPOS", "l", "a"), ("LPOS", "l", "b"), ("LPOS", "l", "zz"),
             ("LPOS", "l", "a", "RANK", 2), ("LPOS", "l", "a", "RANK", -1),
             ("LPOS", "l", "a", "RANK", -2), ("LPOS", "l", "a", "RANK", 5),
             ("LPOS", "l", "a", "COUNT", 0), ("LPOS", "l", "a", "COUNT", 2),
             ("LPOS", "l", "a", "COUNT", 0, "RANK", -1), ("LPOS", "l", "a", "MAXLEN", 3),
             ("LPOS", "l", "a", "COUNT", 0, "MAXLEN", 4), ("LPOS", "l", "c", "MAXLEN", 1),
             ("LPOS", "l", "a", "RANK", -1, "MAXLEN", 2, "COUNT", 5),
             ("LPOS", "l", "a", "RANK", 0), ("LPOS", "l", "a", "COUNT", -1),
             ("LPOS", "l", "a", "MAXLEN", -1), ("LPOS", "l", "a", "RANK"),
             ("LPOS", "l", "a", "FOO", 1), ("LPOS", "l", "a", "RANK", "x"),
             ("LPOS", "l", "a", "RANK", "-9223372036854775808"),
             ("LPOS", "none", "a"), ("LPOS", "none", "a", "COUNT", 1),
             ("LPOS", "l", "zz", "COUNT", 1), ("LPOS", "l", "a", "rank", 1, "rank", 2)],
    "lmove": [("LMOVE", "l", "d", "LEFT", "RIGHT"), ("LMOVE", "l", "d", "right", "left"),
              ("LRANGE", "d", 0, -1), ("LMOVE", "l", "l", "LEFT", "RIGHT"),
              ("LRANGE", "l", 0, -1), ("LMOVE", "l", "l", "RIGHT", "RIGHT"),
              ("LMOVE", "none", "d", "LEFT", "LEFT"), ("LMOVE", "l", "d", "UP", "LEFT"),
              ("SET", "s", "x"), ("LMOVE", "l", "s", "LEFT", "LEFT"),
              ("LMOVE", "none", "s", "LEFT", "LEFT"), ("LMOVE", "s", "d", "LEFT", "LEFT"),
              ("RPOPLPUSH", "l", "d"), ("RPOPLPUSH", "l", "l"), ("LRANGE", "l", 0, -1),
              ("RPOPLPUSH", "none", "d"), ("RPOPLPUSH", "l", "s"), ("LRANGE", "d", 0, -1)],
    "lmpop": [("LMPOP", 1, "l", "LEFT"), ("LMPOP", 2, "none", "l", "RIGHT", "COUNT", 3),
              ("LMPOP", 1, "none", "LEFT"), ("LMPOP", 1, "l", "left", "count", 100),
              ("EXISTS", "l"), ("LMPOP", 0, "l", "LEFT"), ("LMPOP", -1, "l", "LEFT"),
              ("LMPOP", "x", "l", "LEFT"), ("LMPOP", 2, "l", "LEFT"),
              ("LMPOP", 1, "l", "MIDDLE"), ("LMPOP", 1, "l", "LEFT", "COUNT", 0),
              ("LMPOP", 1, "l", "LEFT", "COUNT", -1), ("LMPOP", 1, "l", "LEFT", "COUNT"),
              ("LMPOP", 1, "l", "LEFT", "COUNT", 1, "COUNT", 2),
              ("LMPOP", 1, "l", "LEFT", "FOO"), ("LMPOP", 9223372036854775807, "l", "LEFT")],
    "wrongtype": [("SET", "s", "v"), ("LPUSH", "s", "a"), ("RPUSHX", "s", "a"),
                  ("LPOP", "s"), ("LPOP", "s", 2), ("LLEN", "s"), ("LRANGE", "s", 0, 1),
                  ("LINDEX", "s", 0), ("LSET", "s", 0, "a"), ("LREM", "s", 0, "a"),
                  ("LTRIM", "s", 0, 1), ("LINSERT", "s", "before", "a", "b"),
                  ("LPOS", "s", "a"), ("LMPOP", 2, "s", "l", "LEFT"),
                  ("LMPOP", 2, "l", "s", "LEFT"), ("BLPOP", "s", "l", 1),
                  ("BRPOP", "l", "s", 1), ("BLMOVE", "s", "d", "LEFT", "LEFT", 1),
                  ("BLMPOP", 1, 2, "s", "l", "LEFT"), ("TYPE", "l"),
                  ("OBJECT", "ENCODING", "l")],
    "blocking_with_data": [("BLPOP", "none", "l", 0), ("BRPOP", "l", 1),
                           ("BLMOVE", "l", "d", "LEFT", "RIGHT", 0),
                           ("BRPOPLPUSH", "l", "d", 0), ("LRANGE", "d", 0, -1),
                           ("BLMPOP", 0, 2, "none", "l", "RIGHT", "COUNT", 2),
                           ("BLMPOP", 0.5, 1, "l", "LEFT")],
    "blocking_errors": [("BLPOP", "l", -1), ("BLPOP", "l", "abc"), ("BLPOP", "l", "inf"),
                        ("BLPOP", "l", "nan"), ("BLPOP", "l", "1e30"),
                        ("BRPOP", "l", "-0.001"), ("BLMOVE", "l", "d", "X", "LEFT", 0),
                        ("BLMOVE", "l", "d", "LEFT", "LEFT", "x"),
                        ("BRPOPLPUSH", "l", "d", "-1"), ("BLMPOP", "x", 1, "l", "LEFT"),
                        ("BLMPOP", 0, 0, "l", "LEFT"), ("BLMPOP", 0, 1, "l", "UP"),
                        ("BLPOP", "l")],
    "binary": [("RPUSH", "bin", "", "\x00", "\xff\xfe", "a\r\nb"), ("LRANGE", "bin", 0, -1),
               ("LPOS", "bin", ""), ("LREM", "bin", 0, "\x00"), ("LRANGE", "bin", 0, -1)],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_list_commands(diff, name):
    check_cases(diff, SEED + CASES[name], KEY_NAMES)


def test_multi_blocking_commands_do_not_block(diff):
    check_cases(diff, [("MULTI",), ("BLPOP", "{t}a", 0), ("BRPOP", "{t}a", "{t}b", 0),
                       ("BLMOVE", "{t}a", "{t}b", "LEFT", "LEFT", 0),
                       ("BRPOPLPUSH", "{t}a", "{t}b", 0),
                       ("BLMPOP", 0, 1, "{t}a", "LEFT"), ("BZPOPMIN", "{t}z", 0),
                       ("RPUSH", "{t}a", "x"), ("BLPOP", "{t}a", 0), ("EXEC",)])


def test_large_list_ranges(diff):
    """Ranges near both ends of a long list (LRANGE walks from the nearer end)."""
    diff.check("FLUSHALL")
    diff.check("RPUSH", "big", *[str(i) for i in range(3000)])
    for start, end in [(0, 99), (-100, -1), (1400, 1600), (-1600, -1400), (2990, 5000),
                       (-5000, 5)]:
        diff.check("LRANGE", "big", start, end)
    diff.check_all([("LINDEX", "big", 1500), ("LINDEX", "big", -1500), ("LSET", "big", -2, "x"),
                    ("LPOS", "big", "x"), ("LTRIM", "big", 100, -100), ("LLEN", "big"),
                    ("LRANGE", "big", 0, 3), ("OBJECT", "ENCODING", "big")])


def test_copy_rename_and_type_of_lists(diff):
    diff.check_all([("RPUSH", "{k}a", "1", "2"), ("COPY", "{k}a", "{k}b"),
                    ("RPUSH", "{k}b", "3"), ("LRANGE", "{k}a", 0, -1),
                    ("LRANGE", "{k}b", 0, -1), ("RENAME", "{k}b", "{k}c"),
                    ("TYPE", "{k}c"), ("OBJECT", "ENCODING", "{k}c")])


@pytest.mark.parametrize("name", ["lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop",
                                  "llen", "lrange", "lindex", "lset", "lrem", "ltrim",
                                  "linsert", "lpos", "lmove", "rpoplpush", "lmpop", "blpop",
                                  "brpop", "blmove", "brpoplpush", "blmpop"])
def test_command_info(diff, name):
    ours = diff.ours.call("COMMAND", "INFO", name)
    ref = diff.redis.call("COMMAND", "INFO", name)
    assert ours[1][0][1][:8] == ref[1][0][1][:8]


@pytest.mark.parametrize("args", [("lmpop", 2, "{a}x", "{a}y", "LEFT"),
                                  ("blmpop", 0, 1, "x", "RIGHT", "COUNT", 2),
                                  ("lmpop", 0, "x", "LEFT"), ("blpop", "{a}x", "{a}y", 0),
                                  ("lmove", "{a}x", "{a}y", "LEFT", "LEFT")])
def test_command_getkeys(diff, args):
    diff.check("COMMAND", "GETKEYS", *args)


def test_dump_restore_round_trip(diff):
    """Redis's payload both ways: byte-equal DUMPs, each side restores the other's."""
    diff.check("FLUSHALL")
    diff.check("RPUSH", "{t}l", "a", "", "\x00\xff", "a")
    diff.check("DUMP", "{t}l")
    payload = diff.redis.call("DUMP", "{t}l")[1]
    assert diff.ours.call("RESTORE", "{t}c", 0, payload) == ("+", "OK")
    assert diff.redis.call("RESTORE", "{t}c", 0, payload) == ("+", "OK")
    diff.check("LRANGE", "{t}c", 0, -1)
    diff.check("OBJECT", "ENCODING", "{t}c")
