"""The keyspace's layout: a slot's dict maps each key to its position in that slot's
`values` and `clocks` lists (commands/data/keyspace.py). A long random mix of writes,
deletes, expiries, flushes and policy switches, checked against a plain dict after every
step: every key reads back its value, the lists stay aligned, positions are distinct and
point at live cells, holes are compacted away, and access times follow their keys."""
import random
import time

from commands.data import keyspace as keyspace_module
from commands.data.eviction import LFU_INIT_VAL, LfuCells
from commands.data.keyspace import Keyspace, slot_of


def _check(ks, expected):
    assert ks.size == len(expected)
    assert dict(ks.items()) == expected
    for key, value in expected.items():
        assert ks.peek(key) == value
    for table, values, clocks in zip(ks.slots, ks.values, ks.clocks):
        assert len(values) == len(clocks)
        positions = list(table.values())
        assert len(set(positions)) == len(positions)
        assert all(values[pos] is not None for pos in positions)
        # holes never outnumber the keys by more than the compaction's slack
        assert len(values) <= 2 * len(table) + 8
        if not table:
            assert values == [] and len(clocks) == 0


def test_random_mix_keeps_values_and_positions_aligned():
    rng = random.Random(7)
    ks = Keyspace()
    expected = {}
    # a few hash tags, so some slots hold hundreds of keys (positions above 256)
    keys = [b"{t%d}k%d" % (rng.randrange(3), i) for i in range(1500)] + \
           [b"k%d" % i for i in range(300)]
    for step in range(20000):
        key = rng.choice(keys)
        op = rng.random()
        if op < 0.55:
            value = b"v%d" % step
            if rng.random() < 0.5:
                ks.set_string(key, value)
            else:
                ks.set(key, value)
            expected[key] = value
        elif op < 0.62:
            argv = [b"MSET"]
            for other in rng.sample(keys, 3):
                argv += [other, b"m%d" % step]
                expected[other] = b"m%d" % step
            ks.set_strings(argv)
        elif op < 0.9:
            assert ks.delete(key) == (key in expected)
            expected.pop(key, None)
        elif op < 0.93 and key in expected:
            ks.set_expire(key, int(time.time() * 1000) - 1)     # past: gone when read
            assert ks.get(key) is None
            del expected[key]
        elif op < 0.935:
            ks.flush()
            expected.clear()
        elif op < 0.94:
            ks.use_lfu(10, 1)
        elif op < 0.945:
            ks.use_lru()
        else:
            assert ks.lookup_read(key) == expected.get(key)
        if step % 500 == 0:
            _check(ks, expected)
    _check(ks, expected)


def test_big_slot_shares_its_position_ints_and_compacts():
    ks = Keyspace()
    keys = [b"{one}%d" % i for i in range(3000)]
    for key in keys:
        ks.set_string(key, b"x")
    table = ks.slots[slot_of(keys[0])]
    assert table[keys[2999]] is keyspace_module._shared_position(2999)
    for key in keys[:2500]:
        ks.delete(key)
    values = ks.values[slot_of(keys[0])]
    assert len(values) <= 2 * 500 + 8          # compacted as the holes grew
    assert all(ks.get(key) == b"x" for key in keys[2500:])


def test_access_times_follow_their_keys_through_compaction():
    ks = Keyspace()
    keys = [b"{s}%d" % i for i in range(100)]
    for i, key in enumerate(keys):
        ks.set_string(key, b"v")
        ks.restore_access(key, idle=i)             # idle i seconds
    for key in keys[:60]:
        ks.delete(key)                            # compacts the slot on the way
    assert len(ks.values[slot_of(keys[0])]) < 100
    assert [ks.idle_seconds(key) for key in keys[60:]] == list(range(60, 100))
    ks.use_lfu(10, 1)
    assert isinstance(ks.clocks[slot_of(keys[0])], LfuCells)
    assert ks.lfu_frequency(keys[70]) == LFU_INIT_VAL       # afresh
    ks.restore_access(keys[70], freq=200)
    ks.delete(keys[61])
    assert ks.lfu_frequency(keys[70]) == 200
    ks.use_lru()
    assert ks.idle_seconds(keys[70]) == 0                    # no access known yet


def test_restore_access_without_hints_changes_nothing():
    # MIGRATE's RESTORE-ASKING gives neither IDLETIME nor FREQ: the key keeps the access
    # time its creation gave it, under LRU and LFU alike.
    ks = Keyspace()
    ks.set_string(b"k", b"v")
    ks.restore_access(b"k", idle=50)
    ks.restore_access(b"k")
    assert ks.idle_seconds(b"k") == 50
    ks.restore_access(b"missing")                 # no key: nothing happens either
    ks.use_lfu(10, 1)
    ks.restore_access(b"k", freq=9)
    ks.restore_access(b"k")
    assert ks.lfu_frequency(b"k") == 9
