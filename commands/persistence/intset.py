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

from .errors import RdbError
from .rdb_strings import canonical_int

_HDR = struct.Struct("<II")
_FORMAT = {2: "h", 4: "i", 8: "q"}


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
    width = width_for(vals[0], vals[-1])
    return _HDR.pack(width, len(vals)) + struct.pack("<%d%s" % (len(vals), _FORMAT[width]), *vals)


def encode(members) -> bytes:
    """The intset of set members given as bytes; each must be a canonical int64."""
    ints = []
    for m in members:
        v = canonical_int(m)
        if v is None:
            raise ValueError("intset member %r is not a canonical 64-bit integer" % (m,))
        ints.append(v)
    if len(set(ints)) != len(ints):
        raise ValueError("duplicate intset members")
    return encode_ints(ints)


def decode_ints(blob) -> list:
    size = len(blob)
    if size < 8:
        raise RdbError("Intset integrity check failed: shorter than its header")
    width, count = _HDR.unpack_from(blob, 0)
    fmt = _FORMAT.get(width)
    if fmt is None:
        raise RdbError("Intset integrity check failed: unknown encoding %d" % width)
    if 8 + count * width != size:
        raise RdbError("Intset integrity check failed: size does not match its length")
    if count == 0:
        raise RdbError("Intset integrity check failed: empty intset")
    vals = list(struct.unpack_from("<%d%s" % (count, fmt), blob, 8))
    prev = vals[0]
    for v in vals[1:]:
        if v <= prev:
            raise RdbError("Intset integrity check failed: not strictly ascending")
        prev = v
    return vals


def decode(blob) -> list:
    """The members, as decimal bytes, ascending."""
    return [b"%d" % v for v in decode_ints(blob)]
