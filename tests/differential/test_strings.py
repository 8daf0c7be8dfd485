"""String commands: identical replies (types and error texts) from our node and redis-server.

Multi-key commands use keys with one hash tag ({t}) so both cluster nodes serve them
without CROSSSLOT. Replies that depend on the clock (TTL values) are compared with a
tolerance; everything else must be byte-identical.
"""
import pytest

from tests.helpers import wait_until

I64_MAX = "9223372036854775807"
I64_MIN = "-9223372036854775808"

# Integers Redis refuses: sign, spaces, leading zeros, hex, floats, overflow, "-0".
BAD_INTEGERS = ["+1", " 1", "1 ", "01", "-0", "0x10", "1.0", "1e3", "", "abc",
                "9223372036854775808", "-9223372036854775809", "99999999999999999999999",
                "1_000", "\x001"]


def test_get_set_basic(diff):
    diff.check_all([
        ("GET", "k"), ("SET", "k", "v"), ("GET", "k"), ("SET", "k", ""), ("GET", "k"),
        ("STRLEN", "k"), ("SET", "k", "x" * 100), ("GET", "k"), ("TYPE", "k"),
    ])


def test_binary_keys_and_values(diff):
    key = b"k\x00\xff\r\n{x}"
    value = bytes(range(256)) * 4
    diff.check_all([
        ("SET", key, value), ("GET", key), ("STRLEN", key), ("APPEND", key, b"\x00\xff"),
        ("GET", key), ("GETRANGE", key, "250", "260"), ("EXISTS", key), ("DEL", key),
        ("GET", key), ("SET", b"", b"empty key"), ("GET", b""), ("DEL", b""),
    ])


def test_huge_value(diff):
    value = b"\xab" * (3 * 1024 * 1024 + 7)
    diff.check("SET", "big", value)
    diff.check("GET", "big")
    diff.check("STRLEN", "big")
    diff.check("APPEND", "big", "tail")
    diff.check("GETRANGE", "big", "-10", "-1")
    diff.check("SETRANGE", "big", str(4 * 1024 * 1024), "x")
    diff.check("STRLEN", "big")


@pytest.mark.parametrize("options", [
    ("NX",), ("XX",), ("GET",), ("KEEPTTL",), ("EX", "100"), ("PX", "100000"),
    ("EXAT", "99999999999"), ("PXAT", "99999999999999"), ("NX", "GET"), ("XX", "GET"),
    ("EX", "100", "GET"), ("GET", "KEEPTTL"), ("ex", "10", "ex", "20"), ("nx", "NX"),
    ("NX", "XX"), ("XX", "NX"), ("EX", "10", "PX", "100"), ("PX", "10", "EX", "100"),
    ("EX", "10", "KEEPTTL"), ("KEEPTTL", "EX", "10"), ("EXAT", "1", "PXAT", "1"),
    ("EX",), ("PX",), ("EXAT",), ("PXAT",), ("PERSIST",), ("FOO",), ("EX", "10", "FOO"),
    ("EX", "0"), ("EX", "-1"), ("PX", "0"), ("EXAT", "0"), ("PXAT", "-5"),
    ("EX", "abc"), ("EX", "1.5"), ("EX", "+1"), ("EX", "9223372036854775"),
    ("EX", "9223372036854770"), ("PX", I64_MAX), ("EXAT", "9223372036854775"),
    ("PXAT", I64_MAX), ("EX", I64_MAX), ("EX", "9223372036854776"),
    ("GET", "GET"), ("KEEPTTL", "KEEPTTL"),
])
def test_set_options(diff, options):
    # The same options against a missing key, an existing key, and a key with a TTL.
    for setup in [None, ("SET", "k", "old"), ("SET", "k", "old", "EX", "1000")]:
        diff.check("DEL", "k")
        if setup:
            diff.check(*setup)
        diff.check("SET", "k", "new", *options)
        diff.check("GET", "k")
        ours, ref = diff.both("TTL", "k")
        assert ours[0] == ref[0] and abs(ours[1] - ref[1]) <= 1, (options, ours, ref)


def test_set_keepttl_and_get_with_wrong_values(diff):
    diff.check_all([
        ("SET", "k", "1", "EX", "100"), ("SET", "k", "2", "KEEPTTL"), ("GET", "k"),
        ("SET", "k", "3", "XX", "KEEPTTL", "GET"), ("GET", "k"),
        ("SET", "k", "4"), ("TTL", "k"),
        ("SET", "m", "v", "NX", "GET"), ("SET", "m", "w", "NX", "GET"), ("GET", "m"),
    ])


def test_set_past_absolute_time_removes_the_key(diff):
    diff.check_all([
        ("SET", "k", "v", "EXAT", "1"), ("GET", "k"), ("EXISTS", "k"),
        ("SET", "k", "v", "PXAT", "1000"), ("GET", "k"),
    ])


def test_setnx_setex_psetex(diff):
    diff.check_all([
        ("SETNX", "k", "a"), ("SETNX", "k", "b"), ("GET", "k"),
        ("SETEX", "k", "100", "c"), ("GET", "k"), ("SETEX", "k", "0", "c"),
        ("SETEX", "k", "-1", "c"), ("SETEX", "k", "abc", "c"),
        ("SETEX", "k", "9223372036854775", "c"), ("PSETEX", "k", "0", "d"),
        ("PSETEX", "k", "100000", "d"), ("GET", "k"), ("PSETEX", "k", I64_MAX, "d"),
        ("SETEX", "k", "10"), ("SETNX", "k"),
    ])
    ours, ref = diff.both("PTTL", "k")
    assert ours[0] == ref[0] == ":" and abs(ours[1] - ref[1]) < 2000


def test_setex_expires(diff):
    diff.check("PSETEX", "k", "1", "v")
    for client in (diff.ours, diff.redis):
        wait_until(lambda: client.call("GET", "k") == ("$", None), timeout=5,
                   message="PSETEX key to expire")
    diff.check("EXISTS", "k")


def test_getset_getdel(diff):
    diff.check_all([
        ("GETSET", "k", "a"), ("GETSET", "k", "b"), ("GET", "k"),
        ("SET", "t", "v", "EX", "100"), ("GETSET", "t", "w"), ("TTL", "t"),
        ("GETDEL", "k"), ("GETDEL", "k"), ("EXISTS", "k"),
        ("APPEND", "r", "raw"), ("APPEND", "r", "!"), ("GETSET", "r", "x"), ("GET", "r"),
        ("APPEND", "r", "y"), ("GETDEL", "r"),
    ])


@pytest.mark.parametrize("options", [
    (), ("PERSIST",), ("EX", "100"), ("PX", "100000"), ("EXAT", "99999999999"),
    ("PXAT", "99999999999999"), ("EX", "0"), ("EX", "-1"), ("EX", "abc"),
    ("EX", "9223372036854775"), ("EX",), ("NX",), ("XX",), ("GET",), ("KEEPTTL",),
    ("PERSIST", "EX", "10"), ("EX", "10", "PERSIST"), ("EX", "10", "PX", "10"),
    ("EX", "10", "EX", "20"), ("PERSIST", "PERSIST"), ("FOO",), ("EXAT", "1"),
    ("PXAT", "1"),
])
def test_getex(diff, options):
    for setup in [None, ("SET", "k", "v"), ("SET", "k", "v", "EX", "1000")]:
        diff.check("DEL", "k")
        if setup:
            diff.check(*setup)
        diff.check("GETEX", "k", *options)
        diff.check("GET", "k")
        ours, ref = diff.both("TTL", "k")
        assert ours[0] == ref[0] and abs(ours[1] - ref[1]) <= 1, (options, ours, ref)


def test_mget_mset_msetnx(diff):
    diff.check_all([
        ("MSET", "{t}a", "1", "{t}b", "2"), ("MGET", "{t}a", "{t}b", "{t}c", "{t}a"),
        ("MSET", "{t}a"), ("MSET", "{t}a", "1", "{t}b"), ("MSETNX", "{t}a", "1", "{t}b"),
        ("MSETNX", "{t}c", "3", "{t}a", "9"), ("MGET", "{t}a", "{t}c"),
        ("MSETNX", "{t}c", "3", "{t}d", "4"), ("MGET", "{t}c", "{t}d"),
        ("MSET", "{t}a", "x", "{t}a", "y"), ("GET", "{t}a"),
        ("MSETNX", "{t}e", "1", "{t}e", "2"), ("GET", "{t}e"),
        ("SET", "{t}ttl", "v", "EX", "100"), ("MSET", "{t}ttl", "w"), ("TTL", "{t}ttl"),
    ])


@pytest.mark.parametrize("start", ["0", "1", "-1", "41", "-41", I64_MAX, I64_MIN,
                                   "9223372036854775806", "-9223372036854775807"])
def test_incr_decr_values(diff, start):
    diff.check("SET", "n", start)
    for cmd in [("INCR", "n"), ("DECR", "n"), ("INCRBY", "n", "5"), ("DECRBY", "n", "5"),
                ("INCRBY", "n", I64_MAX), ("DECRBY", "n", I64_MAX),
                ("INCRBY", "n", I64_MIN), ("DECRBY", "n", I64_MIN),
                ("INCRBY", "n", "-1"), ("DECRBY", "n", "-1"), ("GET", "n")]:
        diff.check(*cmd)
        diff.check("GET", "n")


@pytest.mark.parametrize("value", BAD_INTEGERS + ["1.5", "inf", "x" * 30])
def test_incr_on_non_integers(diff, value):
    diff.check("SET", "n", value)
    diff.check("INCR", "n")
    diff.check("DECRBY", "n", "1")
    diff.check("GET", "n")


@pytest.mark.parametrize("arg", BAD_INTEGERS)
def test_incrby_bad_increment(diff, arg):
    diff.check("INCRBY", "n", arg)
    diff.check("DECRBY", "n", arg)
    diff.check("EXISTS", "n")


def test_incr_keeps_ttl_and_missing_key(diff):
    diff.check_all([
        ("INCR", "a"), ("DECR", "b"), ("INCRBY", "c", "-7"), ("DECRBY", "d", "-7"),
        ("SET", "t", "5", "EX", "100"), ("INCR", "t"), ("TTL", "t"),
        ("INCRBYFLOAT", "t", "1.5"), ("TTL", "t"), ("GET", "t"),
    ])


@pytest.mark.parametrize("start,incr", [
    ("10.5", "0.1"), ("3.0e3", "5.0e3"), ("0", "1"), ("1", "-1"), ("-0.0", "0"),
    ("0.1", "0.2"), ("1e300", "1"), ("1", "1e-20"), ("0", "5e-18"), ("0", "5e-17"),
    ("0", "1.5e-17"), ("0", "2.5e-17"), ("1e4000", "1"), ("-1e4000", "-1e4000"),
    ("0x10", "0x1p-3"), ("1.7e308", "1.7e308"), ("17", "-17.0000000000000001"),
    ("3", "inf"), ("inf", "1"), ("-inf", "1"), ("1", "nan"), ("1", "1e-5000"),
    ("1", "0e-5000"), ("1", "1e5000"), ("1", "abc"), ("1", "1 "), ("1", " 1"),
    ("1", ""), ("1", "+.5"), ("1", "5."), ("1", ".5e1"), ("1", "1e"), ("1", "0x"),
    ("1", "0x.8"), ("1", "INFINITY"), ("1", "1.5\x00junk"), ("abc", "1"),
    ("1.5", "1e-4950"), ("9223372036854775807", "1"), ("123456789.123456789", "0.000000001"),
    ("0.1", "0.1"), ("1e17", "1"), ("1e18", "-0.1"), ("5.0e3", "5.0e3"),
    ("1.1", "2.2"), ("-3.3", "3.3"), ("100", "-100.00000000000000001"),
])
def test_incrbyfloat(diff, start, incr):
    diff.check("SET", "f", start)
    diff.check("INCRBYFLOAT", "f", incr)
    diff.check("GET", "f")
    diff.check("INCRBYFLOAT", "f", incr)
    diff.check("INCRBYFLOAT", "missing", incr)
    diff.check("DEL", "missing")


def test_incrbyfloat_chain(diff):
    for incr in ["0.1"] * 12 + ["1e-3", "-7.77", "12345.6789", "1e10", "-1e10", "0.3"]:
        diff.check("INCRBYFLOAT", "f", incr)


def test_append_strlen(diff):
    diff.check_all([
        ("APPEND", "a", "hello"), ("APPEND", "a", " world"), ("GET", "a"), ("STRLEN", "a"),
        ("APPEND", "a", ""), ("STRLEN", "a"), ("APPEND", "e", ""), ("EXISTS", "e"),
        ("STRLEN", "e"), ("STRLEN", "missing"), ("SET", "n", "12"), ("APPEND", "n", "3"),
        ("INCR", "n"), ("SET", "t", "v", "EX", "100"), ("APPEND", "t", "w"), ("TTL", "t"),
    ])


@pytest.mark.parametrize("start,end", [
    ("0", "-1"), ("0", "0"), ("-1", "-1"), ("-3", "-1"), ("3", "1"), ("-1", "-5"),
    ("-5", "-1"), ("-100", "100"), ("100", "200"), ("2", "100"), ("0", I64_MAX),
    (I64_MIN, I64_MAX), (I64_MIN, "-1"), ("-1", I64_MIN), ("5", "5"), ("1", "-2"),
    ("a", "1"), ("1", "b"), ("+1", "2"), ("1.0", "2"), ("9223372036854775808", "1"),
])
def test_getrange(diff, start, end):
    for value in ["Hello World", "", "1234"]:
        diff.check("SET", "s", value)
        diff.check("GETRANGE", "s", start, end)
        diff.check("SUBSTR", "s", start, end)
    diff.check("GETRANGE", "missing", start, end)


@pytest.mark.parametrize("offset,value", [
    ("0", "X"), ("5", "XYZ"), ("20", "tail"), ("0", ""), ("100", ""), ("-1", "x"),
    ("abc", "x"), ("+1", "x"), ("536870911", "xx"), ("536870912", "x"),
    ("9223372036854775807", "x"), ("1", "\x00\xff"),
])
def test_setrange(diff, offset, value):
    diff.check("SET", "s", "Hello World")
    diff.check("SETRANGE", "s", offset, value)
    diff.check("GET", "s")
    diff.check("SETRANGE", "missing", offset, value)
    diff.check("EXISTS", "missing")
    diff.check("GET", "missing")
    diff.check("DEL", "missing")


def test_setrange_keeps_ttl_and_int_values(diff):
    diff.check_all([
        ("SET", "t", "12345", "EX", "100"), ("SETRANGE", "t", "1", "9"), ("GET", "t"),
        ("TTL", "t"), ("INCR", "t"), ("SETRANGE", "t", "10", "x"), ("GET", "t"),
    ])


@pytest.mark.parametrize("a,b", [
    ("ohmytext", "mynewtext"), ("", ""), ("abc", ""), ("", "abc"), ("abc", "abc"),
    ("abcdef", "fedcba"), ("aaaa", "aa"), ("rhubarb", "barbara"),
    ("AGGTAB", "GXTXAYB"), ("x" * 50 + "y" * 50, "y" * 30 + "x" * 30),
    ("\x00\xff\x00", "\xff\x00"), ("the quick brown fox", "a quick brown dog jumps"),
])
def test_lcs(diff, a, b):
    diff.check("MSET", "{l}a", a, "{l}b", b)
    for opts in [(), ("LEN",), ("IDX",), ("IDX", "WITHMATCHLEN"),
                 ("IDX", "MINMATCHLEN", "2"), ("IDX", "MINMATCHLEN", "3", "WITHMATCHLEN"),
                 ("idx", "minmatchlen", "-5"), ("LEN", "IDX"), ("IDX", "LEN"),
                 ("MINMATCHLEN",), ("MINMATCHLEN", "x"), ("FOO",), ("LEN", "LEN")]:
        diff.check("LCS", "{l}a", "{l}b", *opts)
        diff.check("LCS", "{l}b", "{l}a", *opts)
    diff.check("LCS", "{l}a", "{l}missing")
    diff.check("LCS", "{l}a", "{l}missing", "IDX")


def test_lcs_random_strings(diff):
    import random
    rng = random.Random(7)
    for _ in range(15):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 40)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 40)))
        diff.check("MSET", "{l}a", a, "{l}b", b)
        diff.check("LCS", "{l}a", "{l}b")
        diff.check("LCS", "{l}a", "{l}b", "IDX", "WITHMATCHLEN")
        diff.check("LCS", "{l}a", "{l}b", "IDX", "MINMATCHLEN", "2")


def test_resp3_replies(diff):
    for client in (diff.ours, diff.redis):
        client.call("HELLO", "3")
    diff.check_all([
        ("SET", "{l}a", "ohmytext"), ("SET", "{l}b", "mynewtext"),
        ("LCS", "{l}a", "{l}b", "IDX"), ("GET", "nokey"), ("MGET", "{l}a", "{l}x"),
        ("INCRBYFLOAT", "f", "1.5"), ("SET", "k", "v", "GET"), ("GETEX", "nokey"),
    ])


def test_arity_errors(diff):
    diff.check_all([
        ("GET",), ("GET", "a", "b"), ("SET", "a"), ("SETNX", "a"), ("SETEX", "a", "1"),
        ("GETSET", "a"), ("GETDEL",), ("GETEX",), ("MGET",), ("MSET",), ("MSETNX",),
        ("INCR",), ("INCRBY", "a"), ("DECRBY", "a", "1", "2"), ("INCRBYFLOAT", "a"),
        ("APPEND", "a"), ("STRLEN",), ("GETRANGE", "a", "1"), ("SETRANGE", "a", "1"),
        ("LCS", "a"), ("SUBSTR", "a"),
    ])


def test_object_encoding_of_strings(diff):
    cases = [("SET", "k", "12345"), ("SET", "k", "-12345"), ("SET", "k", I64_MAX),
             ("SET", "k", "9223372036854775808"), ("SET", "k", "012"), ("SET", "k", "+1"),
             ("SET", "k", "hello"), ("SET", "k", "x" * 44), ("SET", "k", "x" * 45),
             ("SET", "k", ""), ("SET", "k", "1" * 21), ("SET", "k", "99999"),
             ("APPEND", "k", "z"), ("SETRANGE", "k", "0", "1"), ("INCR", "k"),
             ("DEL", "k"), ("APPEND", "k", "42"), ("DEL", "k"), ("SETRANGE", "k", "0", "42"),
             ("DEL", "k"), ("MSET", "k", "7"), ("GETSET", "k", "abc"), ("SETEX", "k", "9", "8"),
             ("INCRBYFLOAT", "k", "0.5")]
    for cmd in cases:
        diff.check(*cmd)
        diff.check("OBJECT", "ENCODING", "k")
        diff.check("OBJECT", "REFCOUNT", "k")


def test_proto_max_bulk_len_limits_growth(diff):
    diff.check("CONFIG", "SET", "proto-max-bulk-len", "1mb")
    try:
        mb = 1024 * 1024
        diff.check_all([
            ("SET", "s", "x" * 1000), ("APPEND", "s", "y" * (mb - 1000)), ("STRLEN", "s"),
            ("APPEND", "s", "z"), ("STRLEN", "s"), ("SETRANGE", "s", str(mb - 1), "q"),
            ("SETRANGE", "s", str(mb), "q"), ("SETRANGE", "new", str(mb), "q"),
            ("SETRANGE", "new", str(mb - 2), "qq"), ("STRLEN", "new"),
            ("SETRANGE", "new", "9223372036854775807", "x"), ("EXISTS", "nothing"),
        ])
    finally:
        diff.check("CONFIG", "SET", "proto-max-bulk-len", "512mb")
