"""Listpack: the compact sequence Redis 7.0 uses for small hashes, sorted sets and the
nodes of quicklists (listpack.c).

Layout (all integers little-endian):

    <total-bytes u32> <num-elements u16> <entry> ... <entry> <0xFF>

`num-elements` saturates at 65535 ("unknown, count them"). Each entry is

    <encoding+data> <backlen>

Encoding, by the first byte:

    0xxxxxxx                          7-bit unsigned int 0..127
    10xxxxxx <data>                   string of 0..63 bytes
    110xxxxx yyyyyyyy                 13-bit signed int -4096..4095 (x = high bits)
    1110xxxx yyyyyyyy <data>          string of 64..4095 bytes (12-bit length, big end first)
    11110000 <len u32> <data>         string of 4096+ bytes
    11110001 <i16>  11110010 <i24>  11110011 <i32>  11110100 <i64>
    11111111                          end of listpack (only as the terminator)

A string goes in as an integer when it is the canonical decimal form of an int64 (no
leading zeros, no '+', at most 20 characters: lpStringToInt64), in the smallest of the
int encodings above; otherwise as a string. So b"007" stays a string, b"7" is one byte.

`backlen` is the size of <encoding+data>, written so it can be read *backwards* from
the next entry: 1 byte if <= 127, else 7 bits per byte with the high bit set on all but
the first-written (most significant) byte; Redis's thresholds are 127, 16382, 2097150,
268435454 (lpEncodeBacklen compares with `<`, not `<=`).

The decoder validates like lpValidateIntegrity(deep=1): header size equals the blob
size, terminator present, every entry and its backlen inside the blob and consistent,
element count matches the header (unless saturated).
"""
import struct

from commands.rdb.errors import RdbError
from commands.rdb.rdb_strings import canonical_int

HEADER_SIZE = 6
NUMELE_UNKNOWN = 65535
EMPTY_SIZE = HEADER_SIZE + 1

_HDR = struct.Struct("<IH")
_I16 = struct.Struct("<h")
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")
_U32 = struct.Struct("<I")

_STR6_HDR = [bytes((0x80 | n,)) for n in range(64)]
_BYTE = [bytes((n,)) for n in range(256)]
_SMALL_INT_BYTES = [b"%d" % n for n in range(128)]


def encode_backlen(size: int) -> bytes:
    """lpEncodeBacklen: `size` in 1..5 bytes, readable right to left."""
    if size <= 127:
        return _BYTE[size]
    if size < 16383:
        return bytes((size >> 7, (size & 127) | 128))
    if size < 2097151:
        return bytes((size >> 14, ((size >> 7) & 127) | 128, (size & 127) | 128))
    if size < 268435455:
        return bytes((size >> 21, ((size >> 14) & 127) | 128, ((size >> 7) & 127) | 128,
                      (size & 127) | 128))
    return bytes((size >> 28, ((size >> 21) & 127) | 128, ((size >> 14) & 127) | 128,
                  ((size >> 7) & 127) | 128, (size & 127) | 128))


def encode_int(v: int) -> bytes:
    """lpEncodeIntegerGetType + backlen: one integer entry."""
    if 0 <= v <= 127:
        return bytes((v, 1))
    if -4096 <= v <= 4095:
        if v < 0:
            v += 8192
        return bytes((0xC0 | (v >> 8), v & 0xFF, 2))
    if -32768 <= v <= 32767:
        return b"\xf1" + _I16.pack(v) + b"\x03"
    if -8388608 <= v <= 8388607:
        if v < 0:
            v += 1 << 24
        return bytes((0xF2, v & 0xFF, (v >> 8) & 0xFF, v >> 16, 4))
    if -2147483648 <= v <= 2147483647:
        return b"\xf3" + _I32.pack(v) + b"\x05"
    return b"\xf4" + _I64.pack(v) + b"\x09"


def encode_entry(s: bytes) -> bytes:
    """One element as lpAppend writes it (integer form when canonical), with backlen."""
    n = len(s)
    if n <= 20 and n:
        c = s[0]
        if 48 <= c <= 57 or c == 45:
            v = canonical_int(s)
            if v is not None:
                return encode_int(v)
    if n < 64:                    # 1-byte header; 1+n <= 64 fits a 1-byte backlen
        return _STR6_HDR[n] + s + _BYTE[n + 1]
    if n < 4096:
        return bytes((0xE0 | (n >> 8), n & 0xFF)) + s + encode_backlen(n + 2)
    return b"\xf0" + _U32.pack(n) + s + encode_backlen(n + 5)


def encode_entries(elements) -> list:
    """encode_entry for each element; the common short non-numeric string is inlined
    (this is the hot loop of every list, hash and sorted set written)."""
    hdr = _STR6_HDR
    bl = _BYTE
    out = []
    append = out.append
    for s in elements:
        n = len(s)
        if n < 64:
            c = s[0] if n else 0
            if not (48 <= c <= 57 or c == 45):      # cannot be an integer
                append(hdr[n] + s + bl[n + 1])
                continue
        append(encode_entry(s))
    return out


def encode_pairs(pairs) -> bytes:
    """The listpack field, value, field, value... of (field, value) pairs (a hash);
    encode_entries' inline path, without building the flat list first."""
    hdr = _STR6_HDR
    bl = _BYTE
    out = []
    append = out.append
    for f, v in pairs:
        n = len(f)
        c = f[0] if n else 0
        if n < 64 and not (48 <= c <= 57 or c == 45):
            append(hdr[n] + f + bl[n + 1])
        else:
            append(encode_entry(f))
        n = len(v)
        c = v[0] if n else 0
        if n < 64 and not (48 <= c <= 57 or c == 45):
            append(hdr[n] + v + bl[n + 1])
        else:
            append(encode_entry(v))
    return assemble(out, len(out))


def assemble(entries, count: int) -> bytes:
    """A listpack from a list of already encoded entries (encode_entry / encode_int
    results). The list is borrowed: the terminator joins it for one join, then leaves."""
    entries.append(b"\xff")
    body = b"".join(entries)
    entries.pop()
    return _HDR.pack(HEADER_SIZE + len(body), min(count, NUMELE_UNKNOWN)) + body


def encode(elements) -> bytes:
    """The listpack of a sequence of byte strings, as Redis would build it by appending."""
    entries = encode_entries(elements)
    return assemble(entries, len(entries))


def _bad(why):
    return RdbError("Listpack integrity check failed: " + why)


def decode(blob) -> list:
    """All entries of a listpack, validated, as bytes (integers in decimal, as Redis
    returns them)."""
    size = len(blob)
    if size < EMPTY_SIZE:
        raise _bad("shorter than its header")
    total, numele = _HDR.unpack_from(blob, 0)
    if total != size:
        raise _bad("header size %d != blob size %d" % (total, size))
    end = size - 1
    if blob[end] != 0xFF:
        raise _bad("no terminator")
    small = _SMALL_INT_BYTES
    out = []
    append = out.append
    p = HEADER_SIZE
    while p < end:
        b = blob[p]
        if 0x80 <= b < 0xC0:                    # 6-bit string: the common case first
            q = p + 1 + (b & 0x3F)              # end of data; backlen <= 64: one byte
            if q >= end:
                raise _bad("entry past the end")
            if blob[q] != q - p:
                raise _bad("bad backlen")
            append(blob[p + 1:q])
            p = q + 1
            continue
        if b < 0x80:                            # 7-bit uint
            if blob[p + 1] != 1:
                raise _bad("bad backlen")
            append(small[b])
            p += 2
            continue
        if b < 0xE0:                            # 13-bit int
            v = ((b & 0x1F) << 8) | blob[p + 1]
            append(b"%d" % (v - 8192 if v >= 4096 else v))
            size_ = 2
        elif b < 0xF0:                          # 12-bit string
            size_ = 2 + (((b & 0x0F) << 8) | blob[p + 1])
            if p + size_ >= end:
                raise _bad("entry past the end")
            append(blob[p + 2:p + size_])
        elif b == 0xF0:                         # 32-bit string
            if p + 5 >= end:
                raise _bad("entry past the end")
            size_ = 5 + _U32.unpack_from(blob, p + 1)[0]
            if p + size_ >= end:
                raise _bad("entry past the end")
            append(blob[p + 5:p + size_])
        else:
            size_ = _INT_SIZES.get(b)
            if size_ is None:
                raise _bad("invalid entry encoding 0x%02x" % b)
            if p + size_ >= end:
                raise _bad("entry past the end")
            if b == 0xF2:                       # 24-bit: no struct code, assemble it
                v = blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16)
                append(b"%d" % (v - (1 << 24) if v >= 1 << 23 else v))
            else:
                append(b"%d" % _INT_STRUCTS[b].unpack_from(blob, p + 1)[0])
        q = p + size_
        backlen = encode_backlen(size_)
        r = q + len(backlen)
        if r > end:
            raise _bad("entry past the end")
        if blob[q:r] != backlen:
            raise _bad("bad backlen")
        p = r
    if numele != NUMELE_UNKNOWN and numele != len(out):
        raise _bad("header count %d != %d entries" % (numele, len(out)))
    return out


_INT_SIZES = {0xF1: 3, 0xF2: 4, 0xF3: 5, 0xF4: 9}
_INT_STRUCTS = {0xF1: _I16, 0xF3: _I32, 0xF4: _I64}
