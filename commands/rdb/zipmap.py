"""Zipmap: the small-hash encoding of Redis 2.4 and earlier (zipmap.c), still readable
as RDB_TYPE_HASH_ZIPMAP.

    <zmlen u8> (<len> <field> <len> <free u8> <value> <free bytes>)* <0xFF>

`zmlen` is the pair count, or 254 (and up) for "count them". Each <len> is one byte
0..253, or 254 followed by a u32 (host order; little-endian on every machine that wrote
these files); 255 is the end marker. <free> is the number of unused bytes after a value
(left by in-place updates), skipped on reading.

Validation as zipmapValidateIntegrity(deep=1): terminator present, every length and
string inside the blob, at least one pair, count equal to zmlen unless zmlen >= 254.
Redis 7.0 also refuses duplicate fields in a zipmap; the RDB decoder checks that. The
encoder exists to produce Redis 2.4 era data for tests.
"""
import struct

from commands.rdb.errors import RdbError

_U32 = struct.Struct("<I")
ZIPMAP_BIGLEN = 254


def _len(n: int) -> bytes:
    return bytes((n,)) if n < ZIPMAP_BIGLEN else b"\xfe" + _U32.pack(n)


def encode(pairs, free: int = 0) -> bytes:
    """A zipmap of (field, value) pairs; `free` unused bytes after each value, as an
    updated zipmap may hold."""
    parts = [bytes((min(len(pairs), ZIPMAP_BIGLEN),))]
    for f, v in pairs:
        parts += [_len(len(f)), f, _len(len(v)), bytes((free,)), v, b"\x00" * free]
    parts.append(b"\xff")
    return b"".join(parts)


def _bad(why):
    return RdbError("Zipmap integrity check failed: " + why)


def decode(blob) -> list:
    """The (field, value) pairs, validated."""
    size = len(blob)
    if size < 2:
        raise _bad("too short")
    end = size - 1
    if blob[end] != 0xFF:
        raise _bad("no terminator")
    out = []
    p = 1
    while blob[p] != 0xFF:          # p <= end always holds: blob[end] is 0xFF
        strings = []
        for is_value in (False, True):
            b = blob[p]
            if b < ZIPMAP_BIGLEN:
                n = b
                p += 1
            elif b == ZIPMAP_BIGLEN:
                if p + 5 > end:
                    raise _bad("entry past the end")
                n = _U32.unpack_from(blob, p + 1)[0]
                p += 5
            else:
                raise _bad("unexpected end marker")
            free = 0
            if is_value:
                if p >= end:
                    raise _bad("entry past the end")
                free = blob[p]
                p += 1
            if p + n + free > end:
                raise _bad("entry past the end")
            strings.append(blob[p:p + n])
            p += n + free
        out.append((strings[0], strings[1]))
    if not out:
        raise _bad("empty zipmap")
    if blob[0] < ZIPMAP_BIGLEN and blob[0] != len(out):
        raise _bad("header count does not match the entries")
    return out
