"""Ziplist: the compact sequence of Redis 2.6..6.2 (ziplist.c), still found in RDB files
written by Redis 6 or earlier (RDB_TYPE_LIST_ZIPLIST, _ZSET_ZIPLIST, _HASH_ZIPLIST and
the nodes of RDB_TYPE_LIST_QUICKLIST). Redis 7.0 converts them to listpacks on load.

Layout (little-endian unless said):

    <zlbytes u32> <zltail u32> <zllen u16> <entry> ... <entry> <0xFF>

`zltail` is the offset of the last entry, `zllen` the count (65535 = count them).
Each entry is

    <prevlen> <encoding> <data>

`prevlen` is the size of the previous entry: 1 byte if < 254, else 0xFE + u32.
`encoding`:

    00pppppp                          string of up to 63 bytes
    01pppppp qqqqqqqq                 string, 14-bit length, big-endian
    10000000 <u32 big-endian>         string, 32-bit length
    11000000 <i16>   11010000 <i32>   11100000 <i64>   11110000 <i24>   11111110 <i8>
    1111xxxx                          immediate int xxxx-1, for xxxx in 0001..1101 (0..12)

A string was stored as an integer when it is a canonical int64 of fewer than 32 chars
(zipTryEncoding). The decoder validates as ziplistValidateIntegrity(deep=1): sizes, the
terminator, every entry inside the blob, each prevlen equal to the previous entry's
size, zltail pointing at the last entry, count equal to the header's (unless 65535).
The encoder exists to produce Redis 6 era files (for tests and interop).
"""
import struct

from commands.rdb.errors import RdbError
from commands.rdb.rdb_strings import canonical_int

HEADER_SIZE = 10
_HDR = struct.Struct("<IIH")
_U32 = struct.Struct("<I")
_U32BE = struct.Struct(">I")
_I16 = struct.Struct("<h")
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")


def _encode_payload(s: bytes) -> bytes:
    """<encoding><data> of one element, as zipTryEncoding / zipStoreEntryEncoding."""
    n = len(s)
    v = canonical_int(s, 31) if 0 < n < 32 else None
    if v is not None:
        if 0 <= v <= 12:
            return bytes((0xF1 + v,))
        if -128 <= v <= 127:
            return bytes((0xFE, v & 0xFF))
        if -32768 <= v <= 32767:
            return b"\xc0" + _I16.pack(v)
        if -8388608 <= v <= 8388607:
            return b"\xf0" + _I32.pack(v)[:3]
        if -2147483648 <= v <= 2147483647:
            return b"\xd0" + _I32.pack(v)
        return b"\xe0" + _I64.pack(v)
    if n <= 0x3F:
        return bytes((n,)) + s
    if n <= 0x3FFF:
        return bytes((0x40 | (n >> 8), n & 0xFF)) + s
    return b"\x80" + _U32BE.pack(n) + s


def _prevlen(n: int) -> bytes:
    return bytes((n,)) if n < 254 else b"\xfe" + _U32.pack(n)


def encode(elements) -> bytes:
    """A ziplist of byte strings, as Redis 6 would have built it by pushing at the tail."""
    parts = []
    prev = 0
    offset = HEADER_SIZE
    tail = HEADER_SIZE
    for e in elements:
        entry = _prevlen(prev) + _encode_payload(e)
        tail = offset
        offset += len(entry)
        prev = len(entry)
        parts.append(entry)
    body = b"".join(parts)
    count = len(parts)
    return _HDR.pack(HEADER_SIZE + len(body) + 1, tail, min(count, 65535)) + body + b"\xff"


def _bad(why):
    return RdbError("Ziplist integrity check failed: " + why)


def decode(blob) -> list:
    """All entries, as bytes (integers in decimal), validated."""
    size = len(blob)
    if size < HEADER_SIZE + 1:
        raise _bad("shorter than its header")
    zlbytes, zltail, zllen = _HDR.unpack_from(blob, 0)
    if zlbytes != size:
        raise _bad("header size != blob size")
    end = size - 1
    if blob[end] != 0xFF:
        raise _bad("no terminator")
    if zltail > end:
        raise _bad("tail offset out of range")
    out = []
    p = HEADER_SIZE
    prev_size = 0
    last = None
    while blob[p] != 0xFF:          # p <= end always holds here, and blob[end] is 0xFF
        start = p
        b = blob[p]
        if b < 254:
            prevlen = b
            p += 1
        else:
            if p + 5 > end:
                raise _bad("entry past the end")
            prevlen = _U32.unpack_from(blob, p + 1)[0]
            p += 5
        if prevlen != prev_size:
            raise _bad("prevlen does not match the previous entry")
        if p >= end:
            raise _bad("entry past the end")
        enc = blob[p]
        kind = enc >> 6
        if kind == 0:
            q = p + 1 + (enc & 0x3F)
            val = None
            data = p + 1
        elif kind == 1:
            if p + 2 > end:
                raise _bad("entry past the end")
            data = p + 2
            q = data + (((enc & 0x3F) << 8) | blob[p + 1])
            val = None
        elif kind == 2:
            if enc != 0x80 or p + 5 > end:
                raise _bad("invalid entry encoding")
            data = p + 5
            q = data + _U32BE.unpack_from(blob, p + 1)[0]
            val = None
        else:
            if enc == 0xC0:
                q = p + 3
                val = _I16.unpack_from(blob, p + 1)[0] if q <= end else None
            elif enc == 0xD0:
                q = p + 5
                val = _I32.unpack_from(blob, p + 1)[0] if q <= end else None
            elif enc == 0xE0:
                q = p + 9
                val = _I64.unpack_from(blob, p + 1)[0] if q <= end else None
            elif enc == 0xF0:
                q = p + 4
                val = (_I32.unpack_from(b"\x00" + blob[p + 1:p + 4])[0] >> 8) if q <= end else None
            elif enc == 0xFE:
                q = p + 2
                v = blob[p + 1] if q <= end else 0
                val = v - 256 if v > 127 else v
            elif 0xF1 <= enc <= 0xFD:
                q = p + 1
                val = (enc & 0x0F) - 1
            else:
                raise _bad("invalid entry encoding 0x%02x" % enc)
            if q > end:
                raise _bad("entry past the end")
            out.append(b"%d" % val)
            prev_size = q - start
            last = start
            p = q
            continue
        if q > end:
            raise _bad("entry past the end")
        out.append(blob[data:q])
        prev_size = q - start
        last = start
        p = q
    if last is not None and last != zltail:
        raise _bad("tail offset does not point at the last entry")
    if zllen != 65535 and zllen != len(out):
        raise _bad("header count does not match the entries")
    return out
