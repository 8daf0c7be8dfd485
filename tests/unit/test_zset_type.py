"""The sorted set structure: ordering, score and lex ranges by bisection, score parsing,
and that a range of k items out of n touches O(log n + k) elements, counted."""
import math

import pytest
from sortedcontainers import SortedList

from commands.data.zset_type import ZSet, parse_lex_range, parse_score, parse_score_range
from commands.families.scanning import scan_collection


class CountingMember(bytes):
    """A member that counts how often it is compared (tuple order compares members only
    when scores tie, so with equal scores every bisection step is counted)."""
    comparisons = 0

    def _count(self, other, op):
        CountingMember.comparisons += 1
        return op(bytes(self), bytes(other))

    def __lt__(self, other):
        return self._count(other, bytes.__lt__)

    def __le__(self, other):
        return self._count(other, bytes.__le__)

    def __gt__(self, other):
        return self._count(other, bytes.__gt__)

    def __ge__(self, other):
        return self._count(other, bytes.__ge__)

    __hash__ = bytes.__hash__


class NoFullScan(SortedList):
    """Fails the test if anything iterates over the whole list."""
    def __iter__(self):
        raise AssertionError("full iteration of the sorted list")


def big_zset(n, equal_scores=False):
    zs = ZSet()
    for i in range(n):
        zs.add(CountingMember(b"m%07d" % i), 0.0 if equal_scores else float(i % 1000))
    zs.ordered = NoFullScan(zs.ordered)
    return zs


def test_order_is_score_then_member_bytes():
    zs = ZSet()
    for member, score in [(b"b", 1.0), (b"a", 1.0), (b"\xff", 0.5), (b"", 1.0),
                          (b"z", -math.inf), (b"y", math.inf)]:
        zs.add(member, score)
    assert [m for _, m in zs.items(0, len(zs))] == [b"z", b"\xff", b"", b"a", b"b", b"y"]
    zs.add(b"a", 0.0)
    assert zs.rank(b"a") == 1 and zs.scores[b"a"] == 0.0
    assert zs.remove(b"a") and not zs.remove(b"a") and len(zs) == 5


def test_rank_range_touches_only_k_items():
    zs = big_zset(50_000)
    items = zs.items(25_000, 25_010)
    assert [s for s, _ in items] == [500.0] * 10       # 50 members per score
    assert zs.items(49_995, 50_000, reverse=True)[0] == (999.0, b"m0049999")


def test_lex_range_is_a_bisection():
    zs = big_zset(50_000, equal_scores=True)
    CountingMember.comparisons = 0
    start, stop = zs.lex_range(parse_lex_range(b"[m0030000", b"(m0030020"))
    assert (start, stop) == (30_000, 30_020)
    assert len(zs.items(start, stop)) == 20
    assert CountingMember.comparisons < 200      # ~2 * log2(100k) * a few, not 50k


def test_score_range_is_a_bisection():
    zs = big_zset(50_000)
    start, stop = zs.score_range(parse_score_range(b"(10", b"12"))
    assert stop - start == 100                   # scores 11 and 12, 50 members each
    assert all(10 < s <= 12 for s, _ in zs.items(start, stop))
    assert zs.score_range(parse_score_range(b"5", b"4"))[0] == \
        zs.score_range(parse_score_range(b"5", b"4"))[1]
    assert zs.score_range(parse_score_range(b"(inf", b"+inf")) == (50_000, 50_000)


def test_pop_range_and_scan():
    zs = ZSet(skiplist=True)
    for i in range(300):
        zs.add(b"m%d" % i, float(i))
    assert [m for _, m in zs.pop_range(0, 3)] == [b"m0", b"m1", b"m2"]
    seen, cursor = [], 0
    while True:
        cursor, members = scan_collection(zs, cursor, 25, compact=False)
        seen += members
        if cursor == 0:
            break
    assert sorted(seen) == sorted(b"m%d" % i for i in range(3, 300))
    # The index built by the scan follows later changes.
    zs.pop_range(0, 2)
    zs.remove(b"m10")
    zs.add(b"new", 1.5)
    zs.add(b"m20", 99.0)                # a score change: still one member
    assert sorted(zs.index.items) == sorted((hash(m) & (1 << 64) - 1, m) for m in zs)


@pytest.mark.parametrize("text, value", [(b"1", 1.0), (b"-1.5", -1.5), (b"+3", 3.0),
                                         (b".5", 0.5), (b"5.", 5.0), (b"1e3", 1000.0),
                                         (b"inf", math.inf), (b"-Infinity", -math.inf),
                                         (b"0x10", 16.0), (b"0x1p-2", 0.25),
                                         (b"4e-320", 4e-320)])
def test_parse_score(text, value):
    assert parse_score(text) == value


@pytest.mark.parametrize("text", [b"", b" 1", b"1 ", b"nan", b"1e400", b"1e-400", b"abc",
                                  b"1e", b"0x", b"--1", b"1\x00"])
def test_parse_score_refuses(text):
    assert parse_score(text) is None


def test_range_bounds_are_strtod_lenient():
    assert parse_score_range(b"", b"(5") == (0.0, False, 5.0, True)
    assert parse_score_range(b" 1", b"1e400") == (1.0, False, math.inf, False)
    assert parse_score_range(b"(", b"+inf") == (0.0, True, math.inf, False)
    assert parse_score_range(b"x", b"1") is None
    assert parse_score_range(b"nan", b"1") is None
    assert parse_lex_range(b"a", b"+") is None
    assert parse_lex_range(b"-", b"[") == ("-", (b"", False))
