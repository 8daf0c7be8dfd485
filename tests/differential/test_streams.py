"""Stream commands: the same requests to node.py and redis-server, replies compared exactly
(RESP2 and RESP3). IDs are explicit wherever the reply shows them; where `*` is used,
the shapes are compared. Times (idle, delivery and seen times) are masked.
Blocking reads are in tests/integration/test_stream_blocking.py."""
import pytest

from tests.differential.collections_util import in_one_slot

KEY_NAMES = {"s", "t", "none", "str", "e"}

SEED = [("XADD", "s", "1-1", "a", "1", "b", "2"), ("XADD", "s", "1-2", "a", "3"),
        ("XADD", "s", "2-0", "c", "4"), ("XADD", "s", "5-5", "a", "5", "b", "6"),
        ("XADD", "s", "7-0", "x", "")]

CASES = {
    "xadd": [("XADD", "t", "1-1", "f", "v"), ("XADD", "t", "1-1", "f", "v"),
             ("XADD", "t", "1-0", "f", "v"), ("XADD", "t", "0-0", "f", "v"),
             ("XADD", "none2", "0-0", "f", "v"), ("XADD", "t", "0", "f", "v"),
             ("XADD", "t", "1-*", "f", "v"), ("XADD", "t", "3-*", "f", "v"),
             ("XADD", "t", "3", "f", "v"), ("XADD", "t", "4", "f"),
             ("XADD", "t", "5", "f", "v", "g"), ("XADD", "t", "x-1", "f", "v"),
             ("XADD", "t", "1-x", "f", "v"), ("XADD", "t", "-1", "f", "v"),
             ("XADD", "t", "+", "f", "v"), ("XADD", "t", "-", "f", "v"),
             ("XADD", "t", "18446744073709551616-0", "f", "v"),
             ("XADD", "t", "18446744073709551615-18446744073709551615", "f", "v"),
             ("XADD", "t", "*", "f", "v"),
             ("XADD", "t", "18446744073709551615-*", "f", "v"),
             ("XADD", "none", "NOMKSTREAM", "1-1", "f", "v"), ("EXISTS", "none"),
             ("XADD", "s", "NOMKSTREAM", "9-9", "f", "v"), ("XLEN", "s"),
             ("XADD", "str", "1-1", "f", "v"), ("SET", "str", "x"),
             ("XADD", "str", "1-1", "f", "v"), ("XADD", "s", "10-0", "f", "v", "f", "w"),
             ("XRANGE", "s", "10", "10"), ("XADD", "s", "11-0", "1", "2", "3", "-5"),
             ("XRANGE", "s", "11", "+"), ("XADD", "s", "FOO", "1-1", "f", "v"),
             ("XADD", "s"), ("XADD", "s", "12-0"), ("XADD", "0-*", "f", "v"),
             ("XADD", "e", "0-*", "f", "v"), ("XADD", "e", "0-*", "f", "v"),
             ("XRANGE", "e", "-", "+"), ("XADD", "e", "5-18446744073709551615", "f", "v"),
             ("XADD", "e", "5-*", "f", "v"), ("XADD", "e", "6-*", "f", "v")],
    "xadd_trim": [("XADD", "s", "MAXLEN", 2, "8-0", "f", "v"), ("XRANGE", "s", "-", "+"),
                  ("XADD", "s", "MAXLEN", "=", 1, "9-0", "f", "v"), ("XLEN", "s"),
                  ("XADD", "s", "MAXLEN", "~", 1, "10-0", "f", "v"), ("XLEN", "s"),
                  ("XADD", "s", "MINID", "10", "11-0", "f", "v"), ("XRANGE", "s", "-", "+"),
                  ("XADD", "s", "MAXLEN", -1, "12-0", "f", "v"),
                  ("XADD", "s", "MAXLEN", "x", "12-0", "f", "v"),
                  ("XADD", "s", "MAXLEN", 1, "MINID", 1, "12-0", "f", "v"),
                  ("XADD", "s", "MINID", 1, "MAXLEN", 1, "12-0", "f", "v"),
                  ("XADD", "s", "LIMIT", 10, "12-0", "f", "v"),
                  ("XADD", "s", "MAXLEN", 1, "LIMIT", 10, "12-0", "f", "v"),
                  ("XADD", "s", "MAXLEN", "~", 1, "LIMIT", -1, "12-0", "f", "v"),
                  ("XADD", "s", "MAXLEN", "~", 1, "LIMIT", "x", "12-0", "f", "v"),
                  ("XADD", "s", "MAXLEN", "~", 1, "LIMIT", 0, "12-0", "f", "v"),
                  ("XADD", "s", "MINID", "+", "13-0", "f", "v"),
                  ("XADD", "s", "MINID", "~", "x", "13-0", "f", "v"),
                  ("XADD", "s", "MAXLEN", "13-0", "f", "v"),
                  ("XADD", "s", "maxlen", "~", "0", "14-0", "f", "v"),
                  ("XRANGE", "s", "-", "+"), ("XINFO", "STREAM", "s")],
    "xrange": [("XRANGE", "s", "-", "+"), ("XRANGE", "s", "1", "1"),
               ("XRANGE", "s", "1-2", "5"), ("XRANGE", "s", "(1-1", "(5-5"),
               ("XRANGE", "s", "(1", "+"), ("XRANGE", "s", "-", "+", "COUNT", 2),
               ("XRANGE", "s", "-", "+", "COUNT", 0), ("XRANGE", "s", "-", "+", "COUNT", -1),
               ("XRANGE", "s", "-", "+", "COUNT", "x"), ("XRANGE", "s", "-", "+", "COUNT"),
               ("XRANGE", "s", "-", "+", "LIMIT", 1), ("XRANGE", "s", "+", "-"),
               ("XRANGE", "s", "(-", "+"), ("XRANGE", "s", "-", "(+"),
               ("XRANGE", "s", "(0-0", "+"), ("XRANGE", "s", "-", "(0-0"),
               ("XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"),
               ("XRANGE", "s", "x", "+"), ("XRANGE", "s", "-", "1-x"),
               ("XRANGE", "none", "-", "+"), ("XRANGE", "none", "-", "+", "COUNT", 0),
               ("XRANGE", "s", "(", "+"), ("XRANGE", "s", "5-5", "5-5"),
               ("XREVRANGE", "s", "+", "-"), ("XREVRANGE", "s", "+", "-", "COUNT", 2),
               ("XREVRANGE", "s", "(5-5", "(1-1"), ("XREVRANGE", "s", "5", "1-2"),
               ("XREVRANGE", "s", "-", "+"), ("XREVRANGE", "none", "+", "-"),
               ("XREVRANGE", "s", "+", "-", "COUNT", 0), ("XLEN", "s"), ("XLEN", "none"),
               ("SET", "str", "x"), ("XRANGE", "str", "-", "+"), ("XLEN", "str"),
               ("XREVRANGE", "str", "+", "-"), ("TYPE", "s"), ("OBJECT", "ENCODING", "s")],
    "xdel": [("XDEL", "s", "1-2"), ("XDEL", "s", "1-2"), ("XDEL", "s", "1-1", "9-9", "2-0"),
             ("XRANGE", "s", "-", "+"), ("XINFO", "STREAM", "s"), ("XDEL", "none", "1-1"),
             ("XDEL", "s", "x"), ("XDEL", "s", "5-5", "x"), ("XLEN", "s"),
             ("XDEL", "s", "-"), ("XDEL", "s", "5"), ("XDEL", "s", "5-5", "7-0"),
             ("XLEN", "s"), ("EXISTS", "s"), ("XINFO", "STREAM", "s"),
             ("XADD", "s", "6-0", "f", "v"), ("XADD", "s", "8-0", "f", "v"),
             ("XINFO", "STREAM", "s"), ("DEBUG", "DIGEST-VALUE", "s"), ("DEBUG", "DIGEST"),
             ("XDEL", "s", "6-0"), ("DEBUG", "DIGEST-VALUE", "s")],
    "xtrim": [("XTRIM", "s", "MAXLEN", 3), ("XRANGE", "s", "-", "+"),
              ("XTRIM", "s", "MINID", "5-5"), ("XRANGE", "s", "-", "+"),
              ("XTRIM", "s", "MAXLEN", "~", 0), ("XTRIM", "s", "MAXLEN", "=", 0),
              ("XLEN", "s"), ("EXISTS", "s"), ("XTRIM", "none", "MAXLEN", 0),
              ("XTRIM", "s", "FOO", 1), ("XTRIM", "s"), ("XTRIM", "s", "LIMIT", 1),
              ("XTRIM", "s", "MAXLEN", 1, "LIMIT", 1), ("XTRIM", "s", "MAXLEN", -2),
              ("XTRIM", "s", "MINID", "x"), ("XTRIM", "s", "MINID", "-"),
              ("XTRIM", "s", "MAXLEN", "~", 1, "LIMIT", 5),
              ("XINFO", "STREAM", "s")],
    "xsetid": [("XSETID", "s", "7-0"), ("XSETID", "s", "6-0"), ("XSETID", "s", "100-0"),
               ("XINFO", "STREAM", "s"), ("XSETID", "none", "1-1"),
               ("XSETID", "s", "200-0", "ENTRIESADDED", 2),
               ("XSETID", "s", "200-0", "ENTRIESADDED", -1),
               ("XSETID", "s", "200-0", "ENTRIESADDED", 50, "MAXDELETEDID", "300-0"),
               ("XSETID", "s", "200-0", "ENTRIESADDED", 50, "MAXDELETEDID", "150-0"),
               ("XINFO", "STREAM", "s"), ("XSETID", "s", "x"), ("XSETID", "s", "300", "FOO"),
               ("XSETID", "s", "300", "ENTRIESADDED"), ("XSETID", "s", "-"),
               ("XADD", "s", "150-0", "f", "v"), ("XADD", "s", "200-1", "f", "v"),
               ("SET", "str", "x"), ("XSETID", "str", "1-1"), ("XINFO", "STREAM", "s")],
    "xgroup": [("XGROUP", "CREATE", "s", "g1", "$"), ("XGROUP", "CREATE", "s", "g1", "$"),
               ("XGROUP", "CREATE", "s", "g2", "0"), ("XGROUP", "CREATE", "s", "g3", "1-2"),
               ("XGROUP", "CREATE", "none", "g", "$"),
               ("XGROUP", "CREATE", "none", "g", "$", "MKSTREAM"), ("TYPE", "none"),
               ("XLEN", "none"), ("XINFO", "STREAM", "none"),
               ("XGROUP", "CREATE", "s", "g4", "x"), ("XGROUP", "CREATE", "s", "g4", "-"),
               ("XGROUP", "CREATE", "s", "g4", "0", "ENTRIESREAD", 3),
               ("XGROUP", "CREATE", "s", "g5", "0", "ENTRIESREAD", -2),
               ("XGROUP", "CREATE", "s", "g5", "0", "ENTRIESREAD"),
               ("XGROUP", "CREATE", "s", "g5", "0", "FOO"),
               ("XGROUP", "CREATE", "s", "g5"),
               ("XINFO", "GROUPS", "s"),
               ("XGROUP", "SETID", "s", "g1", "0"), ("XGROUP", "SETID", "s", "g1", "$"),
               ("XGROUP", "SETID", "s", "g1", "-"), ("XGROUP", "SETID", "s", "nog", "0"),
               ("XGROUP", "SETID", "s", "g1", "2-0", "ENTRIESREAD", 3),
               ("XGROUP", "SETID", "s", "g1", "2-0", "MKSTREAM"),
               ("XGROUP", "SETID", "none2", "g1", "0"),
               ("XINFO", "GROUPS", "s"),
               ("XGROUP", "CREATECONSUMER", "s", "g1", "alice"),
               ("XGROUP", "CREATECONSUMER", "s", "g1", "alice"),
               ("XGROUP", "CREATECONSUMER", "s", "nog", "alice"),
               ("XGROUP", "DELCONSUMER", "s", "g1", "alice"),
               ("XGROUP", "DELCONSUMER", "s", "g1", "alice"),
               ("XGROUP", "DESTROY", "s", "g2"), ("XGROUP", "DESTROY", "s", "g2"),
               ("XGROUP", "DESTROY", "s", "g1", "x"), ("XGROUP", "FOO", "s", "g1"),
               ("XGROUP", "FOO"), ("XGROUP", "HELP"), ("XGROUP", "help", "x"),
               ("XGROUP",), ("SET", "str", "x"), ("XGROUP", "CREATE", "str", "g", "$"),
               ("XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"), ("XINFO", "GROUPS", "s")],
    "xreadgroup": [("XGROUP", "CREATE", "s", "g", "0"),
                   ("XREADGROUP", "GROUP", "g", "alice", "COUNT", 2, "STREAMS", "s", ">"),
                   ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"),
                   ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"),
                   ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"),
                   ("XREADGROUP", "GROUP", "g", "alice", "COUNT", 1, "STREAMS", "s", "1-1"),
                   ("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0"),
                   ("XPENDING", "s", "g"),
                   ("XDEL", "s", "1-2"),
                   ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"),
                   ("XACK", "s", "g", "1-1", "1-2", "9-9"), ("XACK", "s", "g", "1-1"),
                   ("XPENDING", "s", "g"), ("XINFO", "GROUPS", "s"),
                   ("XREADGROUP", "GROUP", "nog", "alice", "STREAMS", "s", ">"),
                   ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "none", ">"),
                   ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "$"),
                   ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s"),
                   ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "x"),
                   ("XREADGROUP", "STREAMS", "s", ">"),
                   ("XREADGROUP", "GROUP", "g", "STREAMS", "s", ">"),
                   ("XREADGROUP", "GROUP", "g", "alice", "FOO", "STREAMS", "s", ">"),
                   ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "x", "STREAMS", "s", ">"),
                   ("XREADGROUP", "GROUP", "g", "alice", "BLOCK", -1, "STREAMS", "s", ">"),
                   ("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "x", "STREAMS", "s", ">"),
                   ("XADD", "s", "8-0", "n", "1"), ("XADD", "s", "9-0", "n", "2"),
                   ("XREADGROUP", "GROUP", "g", "dave", "NOACK", "STREAMS", "s", ">"),
                   ("XPENDING", "s", "g"), ("XINFO", "GROUPS", "s"),
                   ("XREADGROUP", "GROUP", "g", "dave", "STREAMS", "s", "0"),
                   ("XREADGROUP", "GROUP", "g", "dave", "BLOCK", 10, "STREAMS", "s", ">"),
                   ("SET", "str", "x"),
                   ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "str", ">"),
                   ("XGROUP", "SETID", "s", "g", "0"),
                   ("XREADGROUP", "GROUP", "g", "erin", "COUNT", 2, "STREAMS", "s", ">"),
                   ("XINFO", "GROUPS", "s"), ("XPENDING", "s", "g")],
    "xread": [("XREAD", "STREAMS", "s", "0"), ("XREAD", "COUNT", 2, "STREAMS", "s", "1-1"),
              ("XREAD", "STREAMS", "s", "7-0"), ("XREAD", "STREAMS", "s", "$"),
              ("XREAD", "STREAMS", "s", "none", "0", "0"),
              ("XREAD", "STREAMS", "none", "s", "0", "5"),
              ("XREAD", "STREAMS", "none", "0"), ("XREAD", "STREAMS", "s"),
              ("XREAD", "STREAMS", "s", ">"), ("XREAD", "STREAMS", "s", "x"),
              ("XREAD", "STREAMS", "s", "-"), ("XREAD", "STREAMS", "s", "+"),
              ("XREAD", "COUNT", 0, "STREAMS", "s", "0"),
              ("XREAD", "COUNT", -3, "STREAMS", "s", "0"), ("XREAD", "FOO", "STREAMS", "s", "0"),
              ("XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"),
              ("XREAD", "NOACK", "STREAMS", "s", "0"), ("XREAD", "s", "0"),
              ("XREAD", "BLOCK", 10, "STREAMS", "s", "$"),
              ("XREAD", "BLOCK", -1, "STREAMS", "s", "$"), ("XREAD", "COUNT", 1),
              ("SET", "str", "x"), ("XREAD", "STREAMS", "str", "0"),
              ("XDEL", "s", "7-0"), ("XREAD", "STREAMS", "s", "5-5"),
              ("XREAD", "STREAMS", "s", "5-4"), ("XREAD", "STREAMS", "s", "s", "1-1", "5-5"),
              ("XREAD", "COUNT", 1, "STREAMS", "s", "none", "s", "0", "0", "2")],
    "xpending": [("XGROUP", "CREATE", "s", "g", "0"), ("XPENDING", "s", "g"),
                 ("XPENDING", "s", "g", "-", "+", 10),
                 ("XREADGROUP", "GROUP", "g", "alice", "COUNT", 2, "STREAMS", "s", ">"),
                 ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"),
                 ("XPENDING", "s", "g"), ("XPENDING", "s", "g", "-", "+", 0),
                 ("XPENDING", "s", "g", "-", "+", -1), ("XPENDING", "s", "g", "+", "-", 5),
                 ("XPENDING", "s", "g", "x", "+", 5), ("XPENDING", "s", "g", "-", "+", "x"),
                 ("XPENDING", "s", "g", "-", "+"), ("XPENDING", "s", "g", "-"),
                 ("XPENDING", "s", "g", "-", "+", 5, "nobody"),
                 ("XPENDING", "s", "g", "IDLE", "x", "-", "+", 5),
                 ("XPENDING", "s", "g", "IDLE", 10, "-", "+"),
                 ("XPENDING", "s", "nog"), ("XPENDING", "none", "g"),
                 ("XPENDING", "s", "g", "-", "+", 5, "c", "extra"),
                 ("SET", "str", "x"), ("XPENDING", "str", "g")],
    "xclaim": [("XGROUP", "CREATE", "s", "g", "0"),
               ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"),
               ("XCLAIM", "s", "g", "bob", 0, "1-1", "1-2"),
               ("XCLAIM", "s", "g", "bob", 0, "1-1", "JUSTID"),
               ("XCLAIM", "s", "g", "bob", 0, "1-1", "RETRYCOUNT", 7, "JUSTID"),
               ("XCLAIM", "s", "g", "carol", 3600000, "1-1"),
               ("XCLAIM", "s", "g", "carol", 0, "9-9"),
               ("XCLAIM", "s", "g", "carol", 0, "9-9", "FORCE"),
               ("XCLAIM", "s", "g", "carol", 0, "5-5", "FORCE", "JUSTID"),
               ("XDEL", "s", "2-0"), ("XCLAIM", "s", "g", "carol", 0, "2-0"),
               ("XCLAIM", "s", "g", "carol", 0, "1-1", "FOO"),
               ("XCLAIM", "s", "g", "carol", "x", "1-1"),
               ("XCLAIM", "s", "g", "carol", 0, "1-1", "IDLE", "x"),
               ("XCLAIM", "s", "g", "carol", 0, "1-1", "TIME", "x"),
               ("XCLAIM", "s", "g", "carol", 0, "1-1", "RETRYCOUNT", "x"),
               ("XCLAIM", "s", "g", "carol", 0, "1-1", "LASTID", "x"),
               ("XCLAIM", "s", "g", "carol", 0, "1-1", "LASTID", "100-0", "JUSTID"),
               ("XINFO", "GROUPS", "s"),
               ("XCLAIM", "s", "nog", "carol", 0, "1-1"),
               ("XCLAIM", "none", "g", "carol", 0, "1-1"),
               ("XCLAIM", "s", "g", "carol", 0, "x", "1-1"),
               ("XCLAIM", "s", "g", "carol", -5, "1-1", "JUSTID"),
               ("XPENDING", "s", "g")],
    "xautoclaim": [("XGROUP", "CREATE", "s", "g", "0"),
                   ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"),
                   ("XAUTOCLAIM", "s", "g", "bob", 0, "0"),
                   ("XAUTOCLAIM", "s", "g", "carol", 0, "0", "COUNT", 2),
                   ("XAUTOCLAIM", "s", "g", "carol", 0, "(1-2", "COUNT", 2, "JUSTID"),
                   ("XDEL", "s", "5-5", "7-0"),
                   ("XAUTOCLAIM", "s", "g", "dave", 0, "-", "JUSTID"),
                   ("XAUTOCLAIM", "s", "g", "dave", 3600000, "-"),
                   ("XAUTOCLAIM", "s", "g", "dave", 0, "-", "COUNT", 0),
                   ("XAUTOCLAIM", "s", "g", "dave", 0, "-", "COUNT", "x"),
                   ("XAUTOCLAIM", "s", "g", "dave", 0, "-", "FOO"),
                   ("XAUTOCLAIM", "s", "g", "dave", "x", "-"),
                   ("XAUTOCLAIM", "s", "g", "dave", 0, "x"),
                   ("XAUTOCLAIM", "s", "nog", "dave", 0, "-"),
                   ("XAUTOCLAIM", "none", "g", "dave", 0, "-"),
                   ("XAUTOCLAIM", "s", "g", "dave", 0, "(18446744073709551615-18446744073709551615"),
                   ("XPENDING", "s", "g")],
    "xinfo": [("XINFO", "STREAM", "s"), ("XINFO", "STREAM", "none"),
              ("XINFO", "STREAM", "s", "FULL", "COUNT", 2), ("XINFO", "STREAM", "s", "x"),
              ("XINFO", "STREAM", "s", "FULL", "COUNT"),
              ("XINFO", "STREAM", "s", "FULL", "FOO", 2),
              ("XINFO", "STREAM", "s", "FULL", "COUNT", "x"),
              ("XINFO", "GROUPS", "s"), ("XINFO", "GROUPS", "none"),
              ("XINFO", "CONSUMERS", "s", "g"), ("XGROUP", "CREATE", "s", "g", "0"),
              ("XINFO", "CONSUMERS", "s", "g"), ("XINFO", "HELP"), ("XINFO", "FOO", "s"),
              ("XINFO",), ("XINFO", "GROUPS"), ("XINFO", "help", "x"),
              ("SET", "str", "x"), ("XINFO", "STREAM", "str"), ("XINFO", "GROUPS", "str")],
    "lag": [("XGROUP", "CREATE", "s", "g", "0"), ("XINFO", "GROUPS", "s"),
            ("XREADGROUP", "GROUP", "g", "a", "COUNT", 1, "STREAMS", "s", ">"),
            ("XINFO", "GROUPS", "s"), ("XDEL", "s", "5-5"), ("XINFO", "GROUPS", "s"),
            ("XREADGROUP", "GROUP", "g", "a", "COUNT", 2, "STREAMS", "s", ">"),
            ("XINFO", "GROUPS", "s"),
            ("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"), ("XINFO", "GROUPS", "s"),
            ("XADD", "s", "9-0", "f", "v"), ("XINFO", "GROUPS", "s"),
            ("XGROUP", "CREATE", "s", "g2", "1-2"), ("XGROUP", "CREATE", "s", "g3", "1-1"),
            ("XGROUP", "CREATE", "s", "g4", "9-0"), ("XGROUP", "CREATE", "s", "g5", "1-0"),
            ("XINFO", "GROUPS", "s"), ("XTRIM", "s", "MAXLEN", 2), ("XINFO", "GROUPS", "s"),
            ("XGROUP", "SETID", "s", "g2", "0", "ENTRIESREAD", 0), ("XINFO", "GROUPS", "s"),
            ("XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"), ("XINFO", "GROUPS", "e")],
    "binary": [("XADD", "t", "1-1", "", "\x00", "\xff\xfe", "a\r\nb"),
               ("XRANGE", "t", "-", "+"), ("XADD", "t", "2-1", "-12", "123456789012345"),
               ("XRANGE", "t", "-", "+"), ("XGROUP", "CREATE", "t", "\x00g", "0"),
               ("XREADGROUP", "GROUP", "\x00g", "\xffc", "STREAMS", "t", ">"),
               ("XPENDING", "t", "\x00g")],
}


def _masked(reply):
    """Replace the times in XINFO/XPENDING replies (ints after these names) by 0."""
    kind, value = reply
    if kind in "*%" and value is not None:
        items = list(value)
        if kind == "%":
            return kind, [(_masked(k), (":", 0) if k[1] in (b"idle", b"seen-time")
                           else _masked(v)) for k, v in items]
        out = []
        for i, item in enumerate(items):
            if i and items[i - 1][0] == "$" and items[i - 1][1] in (b"idle", b"seen-time"):
                out.append((":", 0))
            else:
                out.append(_masked(item))
        return kind, out
    return reply


def _is_timed(command) -> bool:
    name = command[0].upper()
    if name == "XPENDING" and len(command) > 3:
        return True
    if name == "XINFO" and len(command) > 1 and command[1].upper() in ("CONSUMERS",):
        return True
    return name == "XINFO" and "FULL" in [str(a).upper() for a in command]


def _pending_masked(reply):
    """XPENDING extended rows: [id, consumer, idle, count] -> idle 0; FULL's delivery
    times likewise (every int over 1e12 is a time)."""
    kind, value = reply
    if kind == ":" and value > 10 ** 12:
        return ":", 0
    if kind in "*%" and value is not None:
        if kind == "%":
            return kind, [(_pending_masked(k), _pending_masked(v)) for k, v in value]
        if len(value) == 4 and value[2][0] == ":" and value[1][0] == "$":
            value = [value[0], value[1], (":", 0), value[3]]
        return kind, [_pending_masked(v) for v in value]
    return reply


def run_cases(diff, commands, protocols=(2, 3)):
    for proto in protocols:
        diff.check("FLUSHALL")
        if proto == 3:
            diff.both("HELLO", "3")
        for command in commands:
            command = in_one_slot(command, KEY_NAMES)
            if _is_timed(command):
                ours, ref = diff.both(*command)
                ours, ref = _pending_masked(_masked(ours)), _pending_masked(_masked(ref))
                assert ours == ref, "command %r:\n  ours:  %r\n  redis: %r" % (
                    command, ours, ref)
            else:
                diff.check(*command)
        if proto == 3:
            diff.both("HELLO", "2")


@pytest.mark.parametrize("name", sorted(CASES))
def test_stream_commands(diff, name):
    run_cases(diff, SEED + CASES[name])


def test_auto_ids_have_the_shape_of_redis_ids(diff):
    """`*` IDs depend on the clock: both servers answer an ID above the last one."""
    for client in (diff.ours, diff.redis):
        kind, first = client.call("XADD", "a", "*", "f", "v")
        kind2, second = client.call("XADD", "a", "*", "f", "v")
        assert kind == kind2 == "$"
        ms1, seq1 = map(int, first.split(b"-"))
        ms2, seq2 = map(int, second.split(b"-"))
        assert (ms2, seq2) > (ms1, seq1)
        assert client.call("XADD", "a", "%d-*" % ms2, "f", "v")[1] == b"%d-%d" % (ms2, seq2 + 1)


def test_many_nodes_trimming_and_radix_tree_counts(diff):
    """Enough entries for several listpack nodes: approximate trimming removes whole
    nodes only, LIMIT caps it, XINFO's radix-tree counts agree."""
    diff.check("FLUSHALL")
    for client in (diff.ours, diff.redis):
        client.pipeline([("XADD", "big", "%d-%d" % (i // 3, i), "field", "v%d" % i)
                         for i in range(1, 451)])
    checks = [("XINFO", "STREAM", "big"), ("XDEL", "big", "1-3", "33-100", "40-120"),
              ("XINFO", "STREAM", "big"), ("XTRIM", "big", "MAXLEN", "~", 300),
              ("XINFO", "STREAM", "big"), ("XTRIM", "big", "MINID", "~", "120-360"),
              ("XINFO", "STREAM", "big"), ("XTRIM", "big", "MAXLEN", "~", 10, "LIMIT", 50),
              ("XTRIM", "big", "MAXLEN", "~", 10, "LIMIT", 100), ("XINFO", "STREAM", "big"),
              ("XTRIM", "big", "MINID", "140"), ("XINFO", "STREAM", "big"),
              ("XRANGE", "big", "-", "+", "COUNT", 5), ("XREVRANGE", "big", "+", "-", "COUNT", 5),
              ("XRANGE", "big", "139-417", "145-436"),
              ("XADD", "big", "MAXLEN", "~", 5, "200-0", "f", "v"), ("XINFO", "STREAM", "big")]
    for command in checks:
        diff.check(*command)


def test_large_values_start_new_nodes_by_bytes(diff):
    diff.check("FLUSHALL")
    for i in range(1, 40):
        diff.check("XADD", "lv", "%d-0" % i, "f", "x" * (i * 37), "n", str(i * 1000))
    diff.check("XINFO", "STREAM", "lv")
    diff.check("XTRIM", "lv", "MAXLEN", "~", 20)
    diff.check("XINFO", "STREAM", "lv")
    diff.check("CONFIG", "SET", "stream-node-max-entries", "7")
    for i in range(40, 60):
        diff.check("XADD", "lv", "%d-0" % i, "f", "v")
    diff.check("XINFO", "STREAM", "lv")
    diff.check("CONFIG", "SET", "stream-node-max-entries", "100")


def test_type_scan_copy_and_rename(diff):
    diff.check_all([("XADD", "{k}a", "1-1", "f", "v"), ("TYPE", "{k}a"),
                    ("OBJECT", "ENCODING", "{k}a"), ("SET", "{k}s", "x"),
                    ("XGROUP", "CREATE", "{k}a", "g", "0"),
                    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "{k}a", ">"),
                    ("COPY", "{k}a", "{k}b"), ("XADD", "{k}b", "2-2", "f", "w"),
                    ("XRANGE", "{k}a", "-", "+"), ("XRANGE", "{k}b", "-", "+"),
                    ("XINFO", "GROUPS", "{k}b"), ("RENAME", "{k}b", "{k}c"),
                    ("XINFO", "GROUPS", "{k}c"), ("TYPE", "{k}c")])
    for client in (diff.ours, diff.redis):
        assert _scan_type(client, "stream") == [b"{k}a", b"{k}c"]


def _scan_type(client, type_name) -> list:
    found, cursor = [], b"0"
    while True:
        reply = client.call("SCAN", cursor, "TYPE", type_name)
        cursor = reply[1][0][1]
        found += [item[1] for item in reply[1][1][1]]
        if cursor == b"0":
            return sorted(found)


@pytest.mark.parametrize("name", ["xadd", "xlen", "xrange", "xrevrange", "xdel", "xtrim",
                                  "xsetid", "xread", "xreadgroup", "xack", "xpending",
                                  "xclaim", "xautoclaim", "xgroup", "xinfo"])
def test_command_info(diff, name):
    """Everything COMMAND INFO says (tips and key specs too); for the containers, whose
    subcommands Redis lists in its hash order, the command's own fields."""
    ours = diff.ours.call("COMMAND", "INFO", name)
    ref = diff.redis.call("COMMAND", "INFO", name)
    if name in ("xgroup", "xinfo"):
        assert ours[1][0][1][:9] == ref[1][0][1][:9]
        assert sorted(map(repr, ours[1][0][1][9][1])) == sorted(map(repr, ref[1][0][1][9][1]))
    else:
        assert ours == ref


@pytest.mark.parametrize("args", [("xread", "COUNT", 2, "STREAMS", "{a}x", "{a}y", 0, 0),
                                  ("xreadgroup", "GROUP", "g", "c", "BLOCK", 0, "STREAMS",
                                   "{a}x", ">")])
def test_command_getkeys(diff, args):
    diff.check("COMMAND", "GETKEYS", *args)
