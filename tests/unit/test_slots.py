import itertools
import random

import pytest

from cluster.errors import ClusterError
from cluster.slots import (are_sorted_ranges, count_slots, format_ranges, key_hash_slot,
                           parse_slot, ranges_difference, ranges_minus_slot, ranges_plus_slot, ranges_to_slots,
                           slots_to_ranges)
from commands.data.keyspace import slot_of


@pytest.mark.parametrize("key,slot", [
    (b"123456789", 0x31C3 & 0x3FFF),
    (b"somekey", 11058),
    (b"foo{hash_tag}", 2515),
    (b"bar{hash_tag}", 2515),
])
def test_key_hash_slot_vectors(key, slot):
    assert key_hash_slot(key) == slot


def test_hash_tag_rules():
    # Empty tag: the whole key is hashed.
    assert key_hash_slot(b"foo{}{bar}") != key_hash_slot(b"bar")
    assert key_hash_slot(b"foo{}{bar}") == key_hash_slot(b"foo{}{bar}")
    # Only up to the first '}' after the first '{'.
    assert key_hash_slot(b"foo{{bar}}zap") == key_hash_slot(b"{bar")
    assert key_hash_slot(b"foo{bar}{zap}") == key_hash_slot(b"bar")
    assert key_hash_slot(b"{user1000}.following") == key_hash_slot(b"{user1000}.followers")
    assert key_hash_slot(b"no-close{brace") == key_hash_slot(b"no-close{brace")


def test_keyspace_slot_of_agrees_with_key_hash_slot():
    # commands/data/keyspace.py has its own, faster slot_of for the hot path.
    keys = [b"", b"{", b"}", b"{}", b"}{", b"{a", b"a}", b"{a}", b"a{b}c", b"{}{a}",
            b"}{a}", b"{{a}}", b"{a}}", b"a}b{c}", b"foo{}{bar}", b"x{y{z}w}"]
    keys += [bytes(c) for c in itertools.product(b"{}a", repeat=5)]
    for key in keys:
        assert slot_of(key) == key_hash_slot(key), key


def test_ranges_round_trip():
    slots = {0, 1, 2, 5, 7, 8, 16383}
    ranges = slots_to_ranges(slots)
    assert ranges == [(0, 2), (5, 5), (7, 8), (16383, 16383)]
    assert set(ranges_to_slots(ranges)) == slots
    assert count_slots(ranges) == len(slots)
    assert format_ranges(ranges) == ["0-2", "5", "7-8", "16383"]
    assert slots_to_ranges([]) == []


def test_slots_to_ranges_matches_a_plain_walk():
    """Bisection over long runs, the plain walk once a set shows many runs: both give
    what a step-by-step walk gives, for any set."""
    def walk(slots):
        ranges = []
        for slot in sorted(set(slots)):
            if ranges and ranges[-1][1] == slot - 1:
                ranges[-1] = (ranges[-1][0], slot)
            else:
                ranges.append((slot, slot))
        return ranges
    rng = random.Random(7)
    cases = [set(), {0}, {16383}, set(range(16384)), set(range(5461, 10923)) - {6000, 7000}]
    for _ in range(300):
        density = rng.choice([0.001, 0.1, 0.5, 0.9, 0.999])
        cases.append({s for s in range(rng.randrange(1, 16385)) if rng.random() < density})
    for slots in cases:
        assert slots_to_ranges(slots) == walk(slots)
        assert slots_to_ranges(list(slots) * 2) == walk(slots)     # duplicates, any order


def test_ranges_plus_and_minus_one_slot():
    """The incremental updates a reshard uses agree with recomputing from the set, and
    never change the list they are given (it may sit in a built message)."""
    rng = random.Random(11)
    slots = set(range(100, 200)) | {5, 7, 300}
    ranges = slots_to_ranges(slots)
    for _ in range(3000):
        slot = rng.randrange(0, 400) if rng.random() < 0.9 else rng.choice([0, 16383])
        before = list(ranges)
        if rng.random() < 0.5:
            slots.add(slot)
            updated = ranges_plus_slot(ranges, slot)
        else:
            slots.discard(slot)
            updated = ranges_minus_slot(ranges, slot)
        assert ranges == before
        assert updated == slots_to_ranges(slots)
        ranges = updated


def test_ranges_difference():
    rng = random.Random(5)
    for _ in range(500):
        a = {s for s in range(rng.randrange(1, 3000)) if rng.random() < rng.random()}
        b = {s for s in range(rng.randrange(1, 3000)) if rng.random() < rng.random()}
        assert ranges_difference(slots_to_ranges(a), slots_to_ranges(b)) == sorted(a - b)
    assert are_sorted_ranges([(0, 5), (7, 7), (9, 100)])
    assert not are_sorted_ranges([(7, 7), (0, 5)])
    assert not are_sorted_ranges([(0, 5), (5, 9)])
    assert not are_sorted_ranges([(5, 0)])


@pytest.mark.parametrize("arg", [b"-1", b"16384", b"abc", b"", b"01", b" 1", b"1.0",
                                 b"+1", b"1_2", b"-", b"1 ", b"\xd9\xa3", "01", "\u0663",
                                 "+5", "1_2"])
def test_parse_slot_rejects(arg):
    with pytest.raises(ClusterError, match="^Invalid or out of range slot$"):
        parse_slot(arg)


def test_parse_slot_accepts():
    assert parse_slot(b"0") == 0
    assert parse_slot(b"-0") == parse_slot("-0") == 0     # string2ll reads "-0" as 0
    assert parse_slot(b"10") == parse_slot("10") == 10
    assert parse_slot("16383") == 16383
    assert parse_slot(42) == 42
