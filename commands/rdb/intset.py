"""Intset: a sorted array of distinct integers, Redis's encoding for small sets whose
members are all integers (intset.c; RDB_TYPE_SET_INTSET).

Layout (little-endian):

    <encoding u32> <length u32> <length values of `encoding` bytes each, ascending>

`encoding` is 2, 4 or 8: the width of every value. Redis widens an intset when a value
needs it and never narrows it back; a freshly built one (as when Redis loads an RDB_TYPE_SET
of integers) uses the narrowest width that holds its smallest and largest member, which
is what encode() writes.

Decoding validates as intsetValidateIntegrity(deep=1): known width, size equal to the
header's count, not empty, strictly ascending (so no duplicates).
"""
import struct
import sys
from array import array

from commands.rdb.errors import RdbError
from commands.rdb.rdb_strings import INT64_MAX, INT64_MIN

_HDR = struct.Struct("<II")
# array typecodes of exactly 2, 4 and 8 bytes on this platform
_TYPECODE = {size: next(c for c in "hilq" if array(c).itemsize == size) for size in (2, 4, 8)}
_BIG_ENDIAN = sys.byteorder == "big"


def width_for(lo: int, hi: int) -> int:
    if -32768 <= lo and hi <= 32767:
        return 2
    if -2147483648 <= lo and hi <= 2147483647:
        return 4
    return 8


def encode_ints(values) -> bytes:
    """The intset of distinct int64 values (any order)."""
    vals = sorted(values)
    if not vals:
        raise ValueError("an intset cannot be empty")
    return _pack_sorted(vals)


def _pack_sorted(vals) -> bytes:
    width = width_for(vals[0], vals[-1])
    packed = array(_TYPECODE[width], vals)
    if _BIG_ENDIAN:
        packed.byteswap()
    return _HDR.pack(width, len(vals)) + packed.tobytes()


_format_int = b"%d".__mod__


def encode(members) -> bytes:
    """The intset of set members given as bytes; each must be a canonical int64."""
    members = list(members)
    try:
        ints = list(map(int, members))
    except (ValueError, TypeError):
        ints = None
    # int() also takes " 1", "+1", "01", "1_0": the round trip keeps only canonical forms
    if ints is None or list(map(_format_int, ints)) != members:
        raise ValueError("intset members must be canonical 64-bit integers")
    vals = sorted(set(ints))
    if len(vals) != len(ints):
        raise ValueError("duplicate intset members")
    if not vals or vals[0] < INT64_MIN or vals[-1] > INT64_MAX:
        raise ValueError("an intset holds 1 or more 64-bit integers")
    return _pack_sorted(vals)


def decode_ints(blob) -> list:
    size = len(blob)
    if size < 8:
        raise RdbError("Intset integrity check failed: shorter than its header")
    width, count = _HDR.unpack_from(blob, 0)
    typecode = _TYPECODE.get(width)
    if typecode is None:
        raise RdbError("Intset integrity check failed: unknown encoding %d" % width)
    if 8 + count * width != size:
        raise RdbError("Intset integrity check failed: size does not match its length")
    if count == 0:
        raise RdbError("Intset integrity check failed: empty intset")
    packed = array(typecode, blob[8:])
    if _BIG_ENDIAN:
        packed.byteswap()
    vals = packed.tolist()
    if sorted(set(vals)) != vals:
        raise RdbError("Intset integrity check failed: not strictly ascending")
    return vals


def decode(blob) -> list:
    """The members, as decimal bytes, ascending."""
    return [b"%d" % v for v in decode_ints(blob)]
