"""Redis's HyperLogLog strings, byte for byte (hyperloglog.c of Redis 7.0).

An HLL is a plain string value: a 16-byte header, then 16384 registers.

    header   "HYLL", encoding (0 dense, 1 sparse), 3 unused bytes, the cached
             cardinality (uint64 little endian; its top bit set = stale)
    dense    16384 6-bit registers packed from the low bits up: 12288 bytes
    sparse   run-length opcodes: ZERO 00xxxxxx (1-64 zero registers), XZERO 01xxxxxx
             yyyyyyyy (1-16384 zeros), VAL 1vvvvvxx (1-4 registers of value 1-32)

An element is hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the
register, and one plus the number of zeros above them is the value it may raise the
register to. The count is Ertl's improved estimator over the register histogram.

The same inputs give the same bytes as Redis: a sparse string is edited with Redis's
steps (split the opcode, merge equal neighbours within five opcodes, promote to dense
past hll-sparse-max-bytes or for a value over 32), because the sparse form depends on
the order of the updates, not only on the registers. The stale bit is the only header
change an update makes, so even the stale cached count stays as Redis leaves it.

Speed in pure Python: hashing is a few integer operations per 8 bytes; the dense
registers are unpacked to one byte each (`unpack`) with bytes.translate and a few
16 KB integer operations, all in C, so counting is a histogram of 64 bytes.count()
calls; the union of register arrays is a per-byte max done on whole big integers.
"""
import math
import struct
from bisect import bisect_right
from itertools import accumulate

HEADER_SIZE = 16
REGISTERS = 16384
INDEX_BITS = 14
Q = 64 - INDEX_BITS                   # hash bits left for the run of zeros
DENSE_BYTES = REGISTERS * 6 // 8
DENSE_SIZE = HEADER_SIZE + DENSE_BYTES
DENSE, SPARSE = 0, 1
SPARSE_VAL_MAX = 32
SPARSE_VAL_MAX_LEN = 4
ZERO_MAX_LEN = 64
MAGIC = b"HYLL"
ALPHA_INF = 0.721347520444481703680   # 0.5 / ln(2)
SEED = 0xadc83b19

_M = 0xc6a4a7935bd1e995
_MASK64 = (1 << 64) - 1
_BLOCKS = [struct.Struct("<%dQ" % n) for n in range(32)]   # elements under 256 bytes


class Corrupted(Exception):
    """A sparse HLL whose opcodes do not cover exactly 16384 registers."""


def new_hll() -> bytearray:
    """An empty HLL as Redis creates it: sparse, one XZERO of 16384 registers."""
    return bytearray(MAGIC + bytes([SPARSE]) + bytes(11) + bytes([0x7f, 0xff]))


def is_hll(value) -> bool:
    """Redis's isHLLObjectOrReply for a string value."""
    return (len(value) >= HEADER_SIZE and value[:4] == MAGIC and value[4] <= SPARSE
            and (value[4] != DENSE or len(value) == DENSE_SIZE))


# ---------------------------------------------------------------- hashing

def murmur64a(data: bytes, seed: int = SEED) -> int:
    """MurmurHash64A as Redis has it (8-byte blocks read little endian on every host)."""
    length = len(data)
    h = (seed ^ (length * _M)) & _MASK64
    blocks = length >> 3
    if blocks:
        unpack = _BLOCKS[blocks].unpack_from if blocks < 32 else \
            struct.Struct("<%dQ" % blocks).unpack_from
        for k in unpack(data):
            k = (k * _M) & _MASK64
            k ^= k >> 47
            h ^= (k * _M) & _MASK64
            h = (h * _M) & _MASK64
    if length & 7:
        h ^= int.from_bytes(data[blocks << 3:], "little")
        h = (h * _M) & _MASK64
    h ^= h >> 47
    h = (h * _M) & _MASK64
    return h ^ (h >> 47)


def register_and_count(element: bytes):
    """(register index, run length) of an element: Redis's hllPatLen."""
    h = murmur64a(element)
    rest = (h >> INDEX_BITS) | (1 << Q)         # the sentinel bounds the run at Q+1
    return h & (REGISTERS - 1), (rest & -rest).bit_length()


# ---------------------------------------------------------------- dense registers

def dense_get(hll, index: int) -> int:
    bit = index * 6
    pos = HEADER_SIZE + (bit >> 3)
    shift = bit & 7
    if shift <= 2:
        return (hll[pos] >> shift) & 63
    return ((hll[pos] >> shift) | (hll[pos + 1] << (8 - shift))) & 63


def dense_set(hll: bytearray, index: int, value: int) -> None:
    bit = index * 6
    pos = HEADER_SIZE + (bit >> 3)
    shift = bit & 7
    hll[pos] = (hll[pos] & ~(63 << shift) & 0xff) | ((value << shift) & 0xff)
    if shift > 2:
        hll[pos + 1] = (hll[pos + 1] & ~(63 >> (8 - shift)) & 0xff) | (value >> (8 - shift))


def dense_raise(hll: bytearray, index: int, count: int) -> int:
    """Redis's hllDenseSet: raise the register to `count`; 1 if it changed."""
    if count > dense_get(hll, index):
        dense_set(hll, index, count)
        return 1
    return 0


# Every 3 bytes hold 4 registers: r0 = b0 & 63, r1 = b0 >> 6 | (b1 & 15) << 2,
# r2 = b1 >> 4 | (b2 & 3) << 4, r3 = b2 >> 2. The tables give each byte's share.
def _table(fn) -> bytes:
    return bytes(fn(b) & 0xff for b in range(256))


_R0 = _table(lambda b: b & 63)
_R1_FROM_B0 = _table(lambda b: b >> 6)
_R1_FROM_B1 = _table(lambda b: (b & 15) << 2)
_R2_FROM_B1 = _table(lambda b: b >> 4)
_R2_FROM_B2 = _table(lambda b: (b & 3) << 4)
_R3 = _table(lambda b: b >> 2)
# ... and back: each register's share of each byte.
_B0_FROM_R1 = _table(lambda r: r << 6)
_B1_FROM_R1 = _table(lambda r: r >> 2)
_B1_FROM_R2 = _table(lambda r: r << 4)
_B2_FROM_R2 = _table(lambda r: r >> 4)
_B2_FROM_R3 = _table(lambda r: r << 2)


def _or_bytes(a: bytes, b: bytes) -> bytes:
    """Bytewise OR of two equal-length strings (as two big integers)."""
    return (int.from_bytes(a, "big") | int.from_bytes(b, "big")).to_bytes(len(a), "big")


def unpack(packed) -> bytearray:
    """12288 bytes of packed dense registers -> 16384 bytes, one register each."""
    b0, b1, b2 = packed[0::3], packed[1::3], packed[2::3]
    registers = bytearray(REGISTERS)
    registers[0::4] = b0.translate(_R0)
    registers[1::4] = _or_bytes(b0.translate(_R1_FROM_B0), b1.translate(_R1_FROM_B1))
    registers[2::4] = _or_bytes(b1.translate(_R2_FROM_B1), b2.translate(_R2_FROM_B2))
    registers[3::4] = b2.translate(_R3)
    return registers


def pack(registers) -> bytearray:
    """16384 registers of one byte each (values < 64) -> the 12288 packed bytes."""
    r0, r1, r2, r3 = (bytes(registers[i::4]) for i in range(4))
    packed = bytearray(DENSE_BYTES)
    packed[0::3] = _or_bytes(r0, r1.translate(_B0_FROM_R1))
    packed[1::3] = _or_bytes(r1.translate(_B1_FROM_R1), r2.translate(_B1_FROM_R2))
    packed[2::3] = _or_bytes(r2.translate(_B2_FROM_R2), r3.translate(_B2_FROM_R3))
    return packed


def dense_registers(hll) -> bytearray:
    return unpack(bytes(hll[HEADER_SIZE:DENSE_SIZE]))


# ---------------------------------------------------------------- sparse opcodes

def _val(value: int, run: int) -> int:
    return 0x80 | ((value - 1) << 2) | (run - 1)


def _zeros(run: int) -> bytes:
    """The opcode for `run` zero registers: ZERO up to 64, XZERO beyond."""
    if run > ZERO_MAX_LEN:
        return bytes([0x40 | ((run - 1) >> 8), (run - 1) & 0xff])
    return bytes([run - 1])


def sparse_runs(hll):
    """Yield (first register, run length, value) for each opcode. Corrupted if a VAL run
    passes the last register or the runs do not add up to 16384 (hllSparseToDense)."""
    end = len(hll)
    pos = HEADER_SIZE
    index = 0
    while pos < end:
        op = hll[pos]
        if op & 0x80:
            run = (op & 3) + 1
            if index + run > REGISTERS:
                raise Corrupted()
            yield index, run, ((op >> 2) & 31) + 1
            pos += 1
        elif op & 0x40:
            run = (((op & 63) << 8) | (hll[pos + 1] if pos + 1 < end else 0)) + 1
            pos += 2
        else:
            run = (op & 63) + 1
            pos += 1
        index += run
    if index != REGISTERS:
        raise Corrupted()


def sparse_registers(hll) -> bytearray:
    """The registers of a sparse HLL, one byte each."""
    registers = bytearray(REGISTERS)
    for first, run, value in sparse_runs(hll):
        registers[first:first + run] = bytes((value,)) * run
    return registers


def to_dense(hll: bytearray) -> None:
    """Redis's hllSparseToDense, in place: the header is kept (cached count included)
    but for the encoding byte. Corrupted if the opcodes are."""
    if hll[4] == DENSE:
        return
    packed = pack(sparse_registers(hll))
    hll[4] = DENSE
    hll[HEADER_SIZE:] = packed


def invalidate(hll: bytearray) -> None:
    """Mark the cached cardinality stale (Redis's HLL_INVALIDATE_CACHE)."""
    hll[15] |= 0x80


# The span of each one-byte opcode (ZERO 00xxxxxx, VAL 1vvvvvxx); XZERO never looked up.
_ONE_BYTE_SPANS = bytes((b & 63) + 1 if b < 0x40 else (b & 3) + 1 if b & 0x80 else 0
                        for b in range(256))
# XZERO's first byte (01xxxxxx) marked "X", every other byte ".", so find() (a memchr)
# gives the next XZERO: from an opcode boundary, every byte before the next X is a
# one-byte opcode, and the byte after an XZERO's first is its second, whatever it looks
# like.
_XZERO_MARKS = bytes(88 if 0x40 <= b < 0x80 else 46 for b in range(256))


def locate(hll, index: int):
    """Step 1 of hllSparseSet: (position, first register, span) of the opcode covering
    register `index`, and the position of the opcode before it (-1 for none).

    The opcodes between two XZEROs are one byte each, so a whole run of them is skipped
    or searched with C loops (translate to spans, sum, accumulate and bisect) instead of
    a Python step per opcode: a sparse HLL has up to hll-sparse-max-bytes of them."""
    marks = hll.translate(_XZERO_MARKS)
    first = 0
    prev = -1
    pos = HEADER_SIZE
    end = len(hll)
    while pos < end:
        stop = marks.find(b"X", pos)
        if stop < 0:
            stop = end
        if stop > pos:
            spans = hll[pos:stop].translate(_ONE_BYTE_SPANS)
            total = sum(spans)
            if index < first + total:
                ends = list(accumulate(spans))
                k = bisect_right(ends, index - first)
                return (pos + k, first + (ends[k - 1] if k else 0), spans[k],
                        pos + k - 1 if k else prev)
            first += total
            prev = stop - 1
        if stop == end:
            break
        low = hll[stop + 1] if stop + 1 < end else 0
        span = (((hll[stop] & 63) << 8) | low) + 1
        if index < first + span:
            return stop, first, span, prev
        first += span
        prev = stop
        pos = stop + 2
    raise Corrupted()


def sparse_raise(hll: bytearray, index: int, count: int, max_bytes: int) -> int:
    """Redis's hllSparseSet: raise register `index` to `count` (1 if it changed, 0 if
    not), editing the opcodes in place or promoting the HLL to dense when `count` is
    over 32 or the string would pass `max_bytes`. Corrupted for invalid opcodes."""
    if count > SPARSE_VAL_MAX:
        return _promote(hll, index, count)
    pos, first, span, prev = locate(hll, index)
    op = hll[pos]
    is_val = op & 0x80
    is_xzero = not is_val and op & 0x40
    # Step 2: the cases that change one byte in place.
    if is_val:
        if ((op >> 2) & 31) + 1 >= count:
            return 0
        if span == 1:
            hll[pos] = _val(count, 1)
            return _updated(hll, prev)
    elif not is_xzero and span == 1:
        hll[pos] = _val(count, 1)
        return _updated(hll, prev)
    # The general case: split the opcode in up to three.
    last = first + span - 1
    if is_val:
        current = ((op >> 2) & 31) + 1
        before = bytes((_val(current, index - first),)) if index != first else b""
        after = bytes((_val(current, last - index),)) if index != last else b""
    else:
        before = _zeros(index - first) if index != first else b""
        after = _zeros(last - index) if index != last else b""
    sequence = before + bytes((_val(count, 1),)) + after
    old_size = 2 if is_xzero else 1
    growth = len(sequence) - old_size
    if growth > 0 and len(hll) + growth > max_bytes:
        return _promote(hll, index, count)
    hll[pos:pos + old_size] = sequence
    return _updated(hll, prev)


def _updated(hll: bytearray, prev: int) -> int:
    """Step 4 of hllSparseSet: merge equal adjacent VALs, scanning five opcodes from the
    one before the change (Redis scans no further, so this is not a normal form)."""
    pos = prev if prev >= 0 else HEADER_SIZE
    end = len(hll)
    budget = 5
    while pos < end and budget:
        budget -= 1
        op = hll[pos]
        if not op & 0x80:
            pos += 2 if op & 0x40 else 1
            continue
        if pos + 1 < end and hll[pos + 1] & 0x80:
            nxt = hll[pos + 1]
            value = ((op >> 2) & 31) + 1
            run = (op & 3) + (nxt & 3) + 2
            if value == ((nxt >> 2) & 31) + 1 and run <= SPARSE_VAL_MAX_LEN:
                hll[pos + 1] = _val(value, run)
                del hll[pos]
                end -= 1
                continue                    # and try the merged one with its right
        pos += 1
    invalidate(hll)
    return 1


def _promote(hll: bytearray, index: int, count: int) -> int:
    to_dense(hll)
    dense_set(hll, index, max(count, dense_get(hll, index)))
    return 1


def add(hll: bytearray, element: bytes, sparse_max_bytes: int) -> int:
    """Redis's hllAdd: 1 if a register changed. The cache is left to the caller."""
    index, count = register_and_count(element)
    if hll[4] == DENSE:
        return dense_raise(hll, index, count)
    return sparse_raise(hll, index, count, sparse_max_bytes)


# ---------------------------------------------------------------- counting

def registers_of(hll) -> bytearray:
    """Any valid HLL's registers, one byte each (Corrupted for a bad sparse one)."""
    if hll[4] == DENSE:
        return dense_registers(hll)
    return sparse_registers(hll)


def merge_into(maxima: bytearray, registers) -> bytearray:
    """Per-register maximum of two 16384-byte register arrays (values < 128): the lanes
    of two big integers compared all at once. Returns the merged array."""
    a = int.from_bytes(maxima, "big")
    b = int.from_bytes(registers, "big")
    # (a | 0x80) - b in every byte lane never borrows across lanes; its 0x80 bit stays
    # set exactly where a >= b. Spread that bit over the lane to select a or b.
    ge = ((a | _HIGH_BITS) - b) & _HIGH_BITS
    select_a = ge | (ge - (ge >> 7))
    merged = (a & select_a) | (b & ~select_a & _ALL_BITS)
    return bytearray(merged.to_bytes(REGISTERS, "big"))


_HIGH_BITS = int.from_bytes(b"\x80" * REGISTERS, "big")
_ALL_BITS = (1 << (8 * REGISTERS)) - 1


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        z_prev = z
        y *= 0.5
        z -= math.pow(1 - x, 2) * y
        if z_prev == z:
            return z / 3


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        z_prev = z
        z += x * y
        y += y
        if z_prev == z:
            return z


def estimate(histogram) -> int:
    """Ertl's estimator over the register histogram (histogram[v] = registers at v),
    in Redis's order of double operations, rounded half away from zero (llroundl)."""
    m = float(REGISTERS)
    z = m * _tau((m - histogram[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += histogram[j]
        z *= 0.5
    z += m * _sigma(histogram[0] / m)
    e = ALPHA_INF * m * m / z
    whole = math.floor(e)
    return int(whole + 1 if e - whole >= 0.5 else whole)


def count_registers(registers) -> int:
    """The estimate from 16384 one-byte registers. A value's histogram entry is counted
    only if the value occurs (`in` is a memchr; count() a full pass)."""
    histogram = [0] * (Q + 2)
    for value in range(Q + 2):
        if value in registers:
            histogram[value] = registers.count(value)
    return estimate(histogram)


def sparse_histogram(hll) -> list:
    """Redis's hllSparseRegHisto: runs counted straight from the opcodes."""
    histogram = [0] * 64
    index = 0
    end = len(hll)
    pos = HEADER_SIZE
    while pos < end:
        op = hll[pos]
        if op & 0x80:
            run = (op & 3) + 1
            histogram[((op >> 2) & 31) + 1] += run
            pos += 1
        elif op & 0x40:
            run = (((op & 63) << 8) | (hll[pos + 1] if pos + 1 < end else 0)) + 1
            histogram[0] += run
            pos += 2
        else:
            run = (op & 63) + 1
            histogram[0] += run
            pos += 1
        index += run
    if index != REGISTERS:
        raise Corrupted()
    return histogram


def count(hll) -> int:
    """The estimated cardinality of one HLL (not its cache). Corrupted for a bad one."""
    if hll[4] == DENSE:
        return count_registers(dense_registers(hll))
    return estimate(sparse_histogram(hll))


def cached_count(hll):
    """The cached cardinality, or None when it is stale."""
    if hll[15] & 0x80:
        return None
    return int.from_bytes(hll[8:16], "little")


def store_count(hll: bytearray, cardinality: int) -> None:
    hll[8:16] = cardinality.to_bytes(8, "little")
