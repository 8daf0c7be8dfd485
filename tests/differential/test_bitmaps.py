"""Bitmaps and bit fields: identical replies (types and error texts) from our node and
redis-server, for the edge cases by hand and for hypothesis-generated sequences.

Keys share the hash tag {b}, so BITOP is legal in cluster mode on both servers.
"""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.sequences import check_sequence, sequence_settings

I64_MAX = "9223372036854775807"
I64_MIN = "-9223372036854775808"
BAD_INTEGERS = ["+1", " 1", "01", "-0", "0x10", "1.0", "", "abc", "9223372036854775808"]


def test_setbit_getbit(diff):
    diff.check_all([
        ("SETBIT", "{b}k", "7", "1"), ("GET", "{b}k"), ("SETBIT", "{b}k", "7", "1"),
        ("SETBIT", "{b}k", "100", "1"), ("GET", "{b}k"), ("STRLEN", "{b}k"),
        ("GETBIT", "{b}k", "100"), ("GETBIT", "{b}k", "101"), ("GETBIT", "{b}k", "99999"),
        ("SETBIT", "{b}k", "100", "0"), ("GET", "{b}k"), ("OBJECT", "ENCODING", "{b}k"),
        ("GETBIT", "{b}nokey", "5"), ("SETBIT", "{b}k", "0", "0"),
        # offsets: negative, past 512 MB (4294967296 bits), not integers
        ("SETBIT", "{b}k", "-1", "1"), ("SETBIT", "{b}k", "4294967296", "1"),
        ("GETBIT", "{b}k", "4294967296"), ("GETBIT", "{b}k", "-1"),
        ("SETBIT", "{b}k", "1", "2"), ("SETBIT", "{b}k", "1", "-1"),
        ("SETBIT", "{b}k", "x", "2"), ("SETBIT", "{b}k", "1", "x"),
        # on a string SET made: its bytes, made mutable ("raw")
        ("SET", "{b}s", "12"), ("SETBIT", "{b}s", "6", "1"), ("GET", "{b}s"),
        ("OBJECT", "ENCODING", "{b}s"), ("SET", "{b}s2", "a"), ("SETBIT", "{b}s2", "1", "1"),
        ("OBJECT", "ENCODING", "{b}s2"), ("GETBIT", "{b}s2", "1"),
        ("LPUSH", "{b}l", "a"), ("SETBIT", "{b}l", "1", "1"), ("GETBIT", "{b}l", "1"),
        ("GETBIT", "{b}l", "-1"), ("SETBIT", "{b}l", "1", "5"),
    ])
    for bad in BAD_INTEGERS:
        diff.check("SETBIT", "{b}k", bad, "1")
        diff.check("GETBIT", "{b}k", bad)
        diff.check("SETBIT", "{b}k", "3", bad)


def test_setbit_at_the_limit(diff):
    """The last bit of a proto-max-bulk-len string is allowed; one more is not."""
    for both in (diff.ours, diff.redis):
        both.call("CONFIG", "SET", "proto-max-bulk-len", "1mb")
    try:
        diff.check("SETBIT", "{b}big", str(8 * 1024 * 1024 - 1), "1")
        diff.check("SETBIT", "{b}big", str(8 * 1024 * 1024), "1")
        diff.check("STRLEN", "{b}big")
        diff.check("BITCOUNT", "{b}big")
        diff.check("BITPOS", "{b}big", "1")
        diff.check("BITFIELD", "{b}big", "GET", "u8", "#131071", "GET", "u8", "#131072")
        diff.check("BITFIELD", "{b}big", "SET", "u8", "#131072", "1")
    finally:
        for both in (diff.ours, diff.redis):
            both.call("CONFIG", "SET", "proto-max-bulk-len", "512mb")


def test_bitcount(diff):
    diff.check_all([("SET", "{b}s", "foobar"), ("SETBIT", "{b}k", "100", "1")])
    ranges = [(), ("0", "-1"), ("1", "1"), ("-2", "-1"), ("-1", "-2"), ("-5", "-100"),
              ("5", "2"), ("0", "100"), ("100", "200"), ("-100", "-50"),
              (I64_MIN, I64_MAX), ("1",), ("1", "2", "3"), ("a", "b"), ("1", "b")]
    for args in ranges:
        for unit in ((), ("BIT",), ("byte",), ("bit",), ("FOO",)):
            if len(args) != 2 and unit:
                continue
            for key in ("{b}s", "{b}k", "{b}nokey"):
                diff.check("BITCOUNT", key, *args, *unit)
    for args in [("5", "30", "BIT"), ("0", "47", "BIT"), ("7", "7", "BIT"), ("8", "8", "BIT"),
                 ("-1", "-1", "BIT"), ("-48", "-1", "BIT"), ("-1", "-5", "FOO"),
                 ("0", "0", "FOO"), ("3", "12", "BIT"), ("1", "2", "BIT", "x")]:
        diff.check("BITCOUNT", "{b}s", *args)
    diff.check_all([("SET", "{b}e", ""), ("BITCOUNT", "{b}e"), ("BITCOUNT", "{b}e", "0", "0"),
                    ("BITCOUNT", "{b}e", "0", "-1", "BIT"), ("LPUSH", "{b}l", "x"),
                    ("BITCOUNT", "{b}l"), ("BITCOUNT", "{b}l", "x", "y")])


def test_bitpos(diff):
    diff.check_all([("SET", "{b}s", "\x00\xff\xf0"), ("SET", "{b}ones", "\xff\xff\xff"),
                    ("SET", "{b}zeros", "\x00\x00\x00"), ("SET", "{b}e", "")])
    forms = [(), ("0",), ("1",), ("2",), ("-1",), ("-100",), ("0", "-1"), ("1", "1"),
             ("2", "0"), ("-2", "-1"), ("0", "100"), ("100",), ("0", "-1", "BYTE"),
             ("0", "-1", "BIT"), ("7", "15", "BIT"), ("3", "5", "bit"), ("8", "8", "BIT"),
             ("9", "22", "BIT"), ("17", "23", "BIT"), ("-3", "-1", "BIT"), ("0", "0", "BIT"),
             ("23", "23", "BIT"), ("4", "3", "BIT"), ("0", "-1", "FOO"), ("x",),
             ("0", "x"), ("0", "1", "BIT", "extra")]
    for key in ("{b}s", "{b}ones", "{b}zeros", "{b}e", "{b}nokey"):
        for bit in ("0", "1"):
            for form in forms:
                diff.check("BITPOS", key, bit, *form)
    for bad in ("2", "-1", "x", ""):
        diff.check("BITPOS", "{b}s", bad)
        diff.check("BITPOS", "{b}nokey", bad)
    diff.check_all([("LPUSH", "{b}l", "x"), ("BITPOS", "{b}l", "1"),
                    ("BITPOS", "{b}l", "3")])


def test_bitop(diff):
    diff.check_all([
        ("SET", "{b}a", "foobar"), ("SET", "{b}b", "abcdefghij"), ("SET", "{b}c", "\xff"),
        ("BITOP", "AND", "{b}d", "{b}a", "{b}b"), ("GET", "{b}d"),
        ("BITOP", "or", "{b}d", "{b}a", "{b}b", "{b}c"), ("GET", "{b}d"),
        ("BITOP", "XOR", "{b}d", "{b}a", "{b}b", "{b}nokey"), ("GET", "{b}d"),
        ("BITOP", "NOT", "{b}d", "{b}a"), ("GET", "{b}d"), ("OBJECT", "ENCODING", "{b}d"),
        ("BITOP", "AND", "{b}d", "{b}a", "{b}nokey"), ("GET", "{b}d"),
        ("BITOP", "NOT", "{b}d", "{b}a", "{b}b"), ("BITOP", "NAND", "{b}d", "{b}a"),
        ("BITOP", "AND", "{b}d"), ("BITOP", "NOT", "{b}d"),
        ("SET", "{b}e", ""), ("EXPIRE", "{b}d", "100"),
        ("BITOP", "OR", "{b}d", "{b}a"), ("TTL", "{b}d"),
        ("BITOP", "AND", "{b}d", "{b}nokey", "{b}e"), ("EXISTS", "{b}d"),
        ("BITOP", "AND", "{b}d", "{b}nokey"),
        ("LPUSH", "{b}l", "x"), ("BITOP", "AND", "{b}d", "{b}a", "{b}l"),
        ("BITOP", "AND", "{b}l", "{b}a"), ("TYPE", "{b}l"),
        ("BITOP", "AND", "{b}d", "{b}a", "other"),
    ])
    big = bytes(range(256)) * 40
    diff.check_all([("SET", "{b}x", big), ("SET", "{b}y", big[::-1] + b"tail"),
                    ("BITOP", "XOR", "{b}z", "{b}x", "{b}y"), ("GET", "{b}z"),
                    ("BITOP", "AND", "{b}z", "{b}x", "{b}y", "{b}a"), ("GET", "{b}z")])


def test_bitfield(diff):
    diff.check_all([
        ("BITFIELD", "{b}f", "SET", "u8", "0", "255", "GET", "u8", "0",
         "INCRBY", "u8", "0", "10"),
        ("BITFIELD", "{b}f", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300", "OVERFLOW", "FAIL",
         "INCRBY", "u8", "0", "10", "OVERFLOW", "wrap", "INCRBY", "i8", "8", "200"),
        ("BITFIELD", "{b}f", "SET", "i64", "0", "-1", "GET", "u63", "1", "GET", "i64", "0",
         "GET", "u1", "0", "GET", "i1", "0"),
        ("BITFIELD", "{b}f", "INCRBY", "i64", "0", "-9223372036854775807",
         "INCRBY", "i64", "0", "-5"),
        ("BITFIELD", "{b}f", "OVERFLOW", "SAT", "INCRBY", "i64", "0", I64_MIN,
         "INCRBY", "i64", "0", I64_MAX, "INCRBY", "i64", "0", I64_MAX),
        ("BITFIELD", "{b}f", "OVERFLOW", "SAT", "SET", "u8", "#3", "-1", "GET", "u8", "#3",
         "OVERFLOW", "WRAP", "SET", "u8", "#4", "-3", "GET", "u8", "#4"),
        ("BITFIELD", "{b}f", "OVERFLOW", "FAIL", "SET", "u8", "#5", "256",
         "SET", "i8", "#6", "-129", "GET", "i8", "#6", "SET", "i8", "#6", "-128"),
        ("BITFIELD", "{b}f", "SET", "u63", "3", I64_MAX, "GET", "u63", "3",
         "INCRBY", "u63", "3", "1", "SET", "i63", "5", I64_MIN, "GET", "i63", "5"),
        ("GET", "{b}f"), ("OBJECT", "ENCODING", "{b}f"),
        ("BITFIELD_RO", "{b}f", "GET", "i8", "0", "GET", "u4", "3", "GET", "i3", "#9"),
        ("BITFIELD_RO", "{b}f", "SET", "i8", "0", "1"), ("BITFIELD_RO", "{b}f",
                                                          "OVERFLOW", "SAT"),
        ("BITFIELD_RO", "{b}f"), ("BITFIELD", "{b}f"), ("BITFIELD", "{b}nokey", "GET", "u8", "0"),
        ("BITFIELD", "{b}n", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"),
        ("EXISTS", "{b}n"), ("GET", "{b}n"),
        ("BITFIELD", "{b}n", "SET", "u2", "100", "1"), ("GET", "{b}n"),
        ("SET", "{b}s", "foobar"),
        ("BITFIELD", "{b}s", "GET", "i5", "3", "GET", "u7", "11", "GET", "i64", "5",
         "GET", "i64", "40", "GET", "u63", "47"),
        ("BITFIELD", "{b}s", "SET", "i5", "3", "10", "INCRBY", "u7", "11", "-200"),
        ("GET", "{b}s"),
        ("LPUSH", "{b}l", "x"), ("BITFIELD", "{b}l", "GET", "i8", "0"),
        ("BITFIELD_RO", "{b}l", "GET", "i8", "0"), ("BITFIELD", "{b}l", "SET", "i8", "0", "1"),
        ("BITFIELD", "{b}l"),
    ])
    bad_forms = [("GET", "u64", "0"), ("GET", "I8", "0"), ("GET", "i0", "0"),
                 ("GET", "i65", "0"), ("GET", "i08", "0"), ("GET", "i", "0"),
                 ("GET", "u8", "-1"), ("GET", "u8", "#-1"), ("GET", "u8", "#1a"),
                 ("GET", "u8", "#"), ("GET", "u8", "1.5"), ("GET", "i8"), ("SET", "i8", "0"),
                 ("SET", "i8", "0", "x"), ("INCRBY", "i8", "0", "1.5"), ("OVERFLOW", "bad"),
                 ("OVERFLOW",), ("FOO",), ("GET", "i8", "#1000000000000000000"),
                 ("GET", "i8", "4294967295"), ("GET", "i8", "4294967296"),
                 ("GET", "i8", "#536870911"), ("GET", "i8", "#536870912"),
                 ("GET", "i64", "#2305843009213693952"), ("SET", "u8", "0", "1", "GET"),
                 ("GET", "u8", "0", "SET", "u99", "0", "1")]
    for form in bad_forms:
        diff.check("BITFIELD", "{b}s", *form)
        diff.check("BITFIELD_RO", "{b}s", *form)
    diff.check("GET", "{b}s")


@pytest.mark.parametrize("width", list(range(1, 65)))
def test_bitfield_every_type(diff, width):
    """Every width, signed and unsigned, at an odd offset: SET, GET, INCRBY under each
    overflow rule, at values around the type's limits."""
    args = []
    for signed in (True, False):
        if not signed and width == 64:
            continue
        kind = ("i%d" if signed else "u%d") % width
        high = (1 << (width - 1)) - 1 if signed else (1 << width) - 1
        for value in {high, high + 1, -high - 1, -1, 0, 1, 3}:
            value = max(min(value, (1 << 63) - 1), -(1 << 63))
            args += ["SET", kind, "13", str(value), "GET", kind, "13"]
        for overflow in ("WRAP", "SAT", "FAIL"):
            args += ["OVERFLOW", overflow]
            for incr in {1, -1, high, -high, high + 1, 5}:
                incr = max(min(incr, (1 << 63) - 1), -(1 << 63))
                args += ["INCRBY", kind, "#3", str(incr)]
    diff.check("BITFIELD", "{b}w", *args)
    diff.check("GET", "{b}w")


def test_command_info(diff):
    """The whole COMMAND INFO entry, key specs included."""
    names = ["setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro"]
    diff.check("COMMAND", "INFO", *names)
    diff.check("COMMAND", "GETKEYS", "BITOP", "AND", "d", "a", "b")
    for args in [("BITOP", "AND", "d", "a", "b"), ("SETBIT", "k", "1", "1"),
                 ("BITFIELD", "k", "GET", "u8", "0"), ("BITFIELD_RO", "k", "GET", "u8", "0"),
                 ("BITFIELD", "k", "OVERFLOW", "SAT", "GET", "u8", "0", "SET", "u8", "0", "1"),
                 ("BITFIELD", "k", "GET", "u8"), ("BITFIELD", "k"), ("BITFIELD", "k", "FOO"),
                 ("PFADD", "h", "a"), ("PFCOUNT", "h", "g"), ("PFMERGE", "d", "a", "b"),
                 ("PFDEBUG", "GETREG", "h")]:
        diff.check("COMMAND", "GETKEYSANDFLAGS", *args)


def test_crossslot(diff):
    diff.check("BITOP", "AND", "{x}d", "{y}a")


# ---------------------------------------------------------------- random sequences

KEYS = [b"{r}a", b"{r}b", b"{r}c"]
VALUES = [b"", b"0", b"12", b"foobar", b"\xff\x00\xff", b"\x00" * 9, b"x" * 40]
SMALL = [b"0", b"1", b"3", b"7", b"8", b"9", b"15", b"63", b"100", b"-1", b"-8", b"-100"]
TYPES = [b"i1", b"u1", b"i5", b"u7", b"i8", b"u8", b"i16", b"u31", b"i63", b"u63", b"i64"]
FIELD_VALUES = [b"0", b"1", b"-1", b"127", b"-128", b"255", b"1000", b"-70000",
                b"9223372036854775807", b"-9223372036854775808"]

key = st.sampled_from(KEYS)
small = st.sampled_from(SMALL)
offset = st.sampled_from([b"0", b"1", b"5", b"7", b"8", b"13", b"31", b"64", b"#0", b"#1",
                          b"#3", b"200"])
field_op = st.one_of(
    st.tuples(st.just(b"GET"), st.sampled_from(TYPES), offset),
    st.tuples(st.sampled_from([b"SET", b"INCRBY"]), st.sampled_from(TYPES), offset,
              st.sampled_from(FIELD_VALUES)),
    st.tuples(st.just(b"OVERFLOW"), st.sampled_from([b"WRAP", b"SAT", b"FAIL"])),
)
unit = st.sampled_from([(), (b"BIT",), (b"BYTE",)])

commands = st.one_of(
    st.tuples(st.just(b"SET"), key, st.sampled_from(VALUES)),
    st.tuples(st.just(b"APPEND"), key, st.sampled_from(VALUES)),
    st.tuples(st.just(b"GET"), key),
    st.tuples(st.just(b"SETBIT"), key, st.sampled_from([b"0", b"1", b"7", b"8", b"30",
                                                        b"100"]),
              st.sampled_from([b"0", b"1"])),
    st.tuples(st.just(b"GETBIT"), key, small),
    st.tuples(st.just(b"BITCOUNT"), key),
    st.tuples(key, small, small, unit).map(lambda t: (b"BITCOUNT",) + t[:3] + t[3]),
    st.tuples(key, st.sampled_from([b"0", b"1"])).map(lambda t: (b"BITPOS",) + t),
    st.tuples(key, st.sampled_from([b"0", b"1"]), small)
      .map(lambda t: (b"BITPOS",) + t),
    st.tuples(key, st.sampled_from([b"0", b"1"]), small, small, unit)
      .map(lambda t: (b"BITPOS",) + t[:4] + t[4]),
    st.tuples(st.sampled_from([b"AND", b"OR", b"XOR"]), key, st.lists(key, min_size=1,
                                                                      max_size=3))
      .map(lambda t: (b"BITOP", t[0], t[1], *t[2])),
    st.tuples(key, key).map(lambda t: (b"BITOP", b"NOT") + t),
    st.tuples(key, st.lists(field_op, min_size=0, max_size=4))
      .map(lambda t: (b"BITFIELD", t[0]) + sum(t[1], ())),
    st.tuples(key, st.lists(field_op, min_size=0, max_size=3))
      .map(lambda t: (b"BITFIELD_RO", t[0]) + sum(t[1], ())),
    st.tuples(st.just(b"STRLEN"), key),
    st.tuples(st.just(b"DEL"), key),
    st.tuples(st.just(b"LPUSH"), key, st.just(b"x")),
)


@sequence_settings(60)
@given(st.lists(commands, min_size=1, max_size=25))
def test_random_sequences(diff, sequence):
    check_sequence(diff, sequence + [(b"GET", k) for k in KEYS])
