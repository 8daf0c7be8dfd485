"""commands/data/bits.py and commands/data/hyperloglog.py against slow, obvious
reference versions written from Redis's C (bit by bit, opcode by opcode, register by
register). The differential tests compare whole commands with redis-server; these pin
the fast paths to their definitions, including inputs no command reaches (a register
over 32 in a sparse HLL needs a 2^-32 hash)."""
import random

import pytest

from commands.data import bits
from commands.data import hyperloglog as hll

# ---------------------------------------------------------------- bits


def _bit(data, i):
    return (data[i >> 3] >> (7 - (i & 7))) & 1 if (i >> 3) < len(data) else 0


@pytest.mark.parametrize("seed", range(5))
def test_bit_ranges_and_fields(seed, monkeypatch):
    rng = random.Random(seed)
    data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 40)))
    monkeypatch.setattr(bits, "_CHUNK", rng.choice([1, 2, 3, 1 << 16]))  # chunks too
    nbits = len(data) * 8
    for _ in range(200):
        a, b = sorted(rng.randrange(nbits) for _ in range(2))
        assert bits.count_ones(data, a, b) == sum(_bit(data, i) for i in range(a, b + 1))
        for want in (0, 1):
            expected = next((i for i in range(a, b + 1) if _bit(data, i) == want), -1)
            assert bits.find_bit(data, want, a, b) == expected
        width = rng.randrange(1, 65)
        offset = rng.randrange(nbits + 20)
        field = 0
        for i in range(offset, offset + width):
            field = (field << 1) | _bit(data, i)
        assert bits.read_field(data, offset, width) == field
        buffer = bytearray(data) + bytes(12)
        value = rng.getrandbits(width)
        bits.write_field(buffer, offset, width, value)
        assert bits.read_field(buffer, offset, width) == value
        for i in range(len(buffer) * 8):         # nothing else moved
            if not offset <= i < offset + width:
                assert _bit(buffer, i) == _bit(data, i)


def test_overflow_rules():
    assert bits.signed_result(128, 8, bits.WRAP) == (-128, True)
    assert bits.signed_result(-129, 8, bits.SAT) == (-128, True)
    assert bits.signed_result(2 ** 63, 64, bits.WRAP) == (-2 ** 63, True)
    assert bits.signed_result(5, 8, bits.FAIL) == (5, False)
    assert bits.signed_result(300, 8, bits.FAIL) == (None, True)
    assert bits.unsigned_result(-1, 8, bits.SAT) == (0, True)
    assert bits.unsigned_result((-1) % 2 ** 64, 8, bits.SAT) == (255, True)
    assert bits.unsigned_result(256 + 7, 8, bits.WRAP) == (7, True)


# ---------------------------------------------------------------- HyperLogLog

def _murmur_reference(data: bytes, seed=hll.SEED) -> int:
    m, mask = 0xc6a4a7935bd1e995, (1 << 64) - 1
    h = (seed ^ (len(data) * m)) & mask
    whole = len(data) - len(data) % 8
    for i in range(0, whole, 8):
        k = int.from_bytes(data[i:i + 8], "little")
        k = (k * m) & mask
        k ^= k >> 47
        k = (k * m) & mask
        h ^= k
        h = (h * m) & mask
    tail = data[whole:]
    for i in range(len(tail) - 1, -1, -1):
        h ^= tail[i] << (8 * i)
    if tail:
        h = (h * m) & mask
    h ^= h >> 47
    h = (h * m) & mask
    h ^= h >> 47
    return h


def test_murmur64a():
    rng = random.Random(1)
    for size in list(range(0, 40)) + [100, 1000]:
        data = bytes(rng.getrandbits(8) for _ in range(size))
        assert hll.murmur64a(data) == _murmur_reference(data)


def test_pack_unpack_and_single_registers():
    rng = random.Random(2)
    registers = bytes(rng.getrandbits(6) for _ in range(hll.REGISTERS))
    packed = hll.pack(registers)
    assert len(packed) == hll.DENSE_BYTES
    assert hll.unpack(bytes(packed)) == registers
    dense = bytearray(hll.DENSE_SIZE)
    for index in range(0, hll.REGISTERS, 7):
        hll.dense_set(dense, index, registers[index])
    for index in range(hll.REGISTERS):
        assert hll.dense_get(dense, index) == (registers[index] if index % 7 == 0 else 0)


def test_merge_into():
    rng = random.Random(3)
    a = bytes(rng.getrandbits(6) for _ in range(hll.REGISTERS))
    b = bytes(rng.getrandbits(6) for _ in range(hll.REGISTERS))
    assert hll.merge_into(bytearray(a), b) == bytes(map(max, a, b))


def _locate_reference(data, index):
    """hllSparseSet's step 1, one opcode at a time."""
    pos, first, prev, end = hll.HEADER_SIZE, 0, -1, len(data)
    while pos < end:
        op = data[pos]
        if op & 0x80:
            span, size = (op & 3) + 1, 1
        elif op & 0x40:
            span, size = (((op & 63) << 8) | (data[pos + 1] if pos + 1 < end else 0)) + 1, 2
        else:
            span, size = (op & 63) + 1, 1
        if index < first + span:
            return pos, first, span, prev
        prev, pos, first = pos, pos + size, first + span
    return None


@pytest.mark.parametrize("elements", [0, 3, 40, 400, 1500])
def test_locate_matches_the_opcode_walk(elements):
    rng = random.Random(elements)
    value = hll.new_hll()
    for i in range(elements):
        hll.add(value, b"x%d" % i, 3000)
    assert value[4] == hll.SPARSE
    for index in [0, 1, hll.REGISTERS - 1] + [rng.randrange(hll.REGISTERS) for _ in range(300)]:
        assert hll.locate(value, index) == _locate_reference(value, index)


def test_a_register_over_32_makes_a_sparse_hll_dense():
    value = hll.new_hll()
    for i in range(30):
        hll.add(value, b"y%d" % i, 3000)
    before = hll.sparse_registers(value)
    assert hll.sparse_raise(value, 1234, 40, 3000) == 1
    assert value[4] == hll.DENSE and len(value) == hll.DENSE_SIZE
    after = hll.dense_registers(value)
    assert after[1234] == max(40, before[1234])
    assert all(after[i] == before[i] for i in range(hll.REGISTERS) if i != 1234)


def test_estimates():
    assert hll.count(hll.new_hll()) == 0
    value = hll.new_hll()
    for i in range(20000):
        hll.add(value, b"z%d" % i, 3000)
    assert value[4] == hll.DENSE
    # Sparse and dense give the same estimate for the same registers.
    sparse = hll.new_hll()
    for i in range(500):
        hll.add(sparse, b"z%d" % i, 3000)
    dense = bytearray(sparse)
    hll.to_dense(dense)
    assert hll.count(sparse) == hll.count(dense)
    assert abs(hll.count(value) - 20000) < 20000 * 0.03
