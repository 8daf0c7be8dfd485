"""Unit tests of the pure helpers behind KEYS/SCAN (glob), INCRBYFLOAT (long doubles) and
LCS (the bit-parallel table). Their Redis compatibility is checked end to end by the
differential suite; these pin down the algorithms themselves."""
import random
from fractions import Fraction

import pytest

from commands.data.glob import match
from commands.data.numbers import (format_long_double, parse_int64, parse_long_double,
                                   round_long_double)
from commands.families.strings import _lcs_at, lcs_rows


@pytest.mark.parametrize("pattern,string,expected", [
    (b"h?llo", b"hello", True), (b"h*llo", b"hllo", True), (b"h[^e]llo", b"hello", False),
    (b"h[a-b]llo", b"hbllo", True), (b"h[b-a]llo", b"hallo", True), (b"\\*", b"*", True),
    (b"*", b"", False), (b"", b"", True), (b"[", b"[", False), (b"[^", b"q", True),
    (b"a*b*c", b"aXbYc", True), (b"a*b*c", b"aXbY", False),
    # Range ends compare as signed chars: [a-\xff] is [-1..97], i.e. \xff and 0..'a'.
    (b"[a-\xff]", b"\xff", True), (b"[a-\xff]", b"\xfe", False),
    (b"[a-\xff]", b"b", False), (b"[a-\xff]", b"0", True),
])
def test_glob(pattern, string, expected):
    assert match(pattern, string) is expected


def test_glob_nocase():
    assert match(b"H*LLO", b"hello", nocase=True)
    assert match(b"[A-C]x", b"bx", nocase=True)
    assert match(b"[\\A]", b"a", nocase=True) is False   # escapes in classes stay exact
    assert not match(b"H*LLO", b"hello")


def test_glob_is_not_exponential():
    assert not match(b"*a" * 40 + b"b", b"a" * 2000)


@pytest.mark.parametrize("text,value", [
    (b"0", 0), (b"-1", -1), (b"9223372036854775807", 2 ** 63 - 1),
    (b"-9223372036854775808", -2 ** 63), (b"9223372036854775808", None), (b"+1", None),
    (b"01", None), (b"-0", None), (b" 1", None), (b"1_0", None), (b"", None),
])
def test_parse_int64(text, value):
    assert parse_int64(text) == value


def test_long_double_rounding_and_format():
    # 0.1 in x87 extended precision is 0.1000000000000000000013552527156068805425...
    tenth = parse_long_double(b"0.1")
    assert tenth != Fraction(1, 10) and abs(tenth - Fraction(1, 10)) < Fraction(1, 10 ** 20)
    assert format_long_double(tenth) == b"0.1"
    assert format_long_double(parse_long_double(b"10.5") + tenth) == b"10.6"
    assert format_long_double(Fraction(-1, 10 ** 30)) == b"0"
    assert round_long_double(Fraction(2) ** 16400)[1] == "inf"
    assert parse_long_double(b"1e-5000") is None and parse_long_double(b"0e-5000") == 0
    assert parse_long_double(b"nan") is None and parse_long_double(b"0x1p-2") == Fraction(1, 4)


def test_lcs_table_matches_the_textbook_dp():
    rng = random.Random(3)
    for _ in range(50):
        a = bytes(rng.choice(b"abc") for _ in range(rng.randint(0, 12)))
        b = bytes(rng.choice(b"abc") for _ in range(rng.randint(0, 12)))
        dp = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                dp[i][j] = dp[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else \
                    max(dp[i - 1][j], dp[i][j - 1])
        rows = lcs_rows(a, b)
        assert all(_lcs_at(rows, i, j) == dp[i][j]
                   for i in range(len(a) + 1) for j in range(len(b) + 1))
