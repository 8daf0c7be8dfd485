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

from .errors import RdbError
from .rdb_strings import canonical_int

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


def assemble(entries, count: int) -> bytes:
    """A listpack from already encoded entries (encode_entry / encode_int results)."""
    body = b"".join(entries)
    return _HDR.pack(HEADER_SIZE + len(body) + 1, min(count, NUMELE_UNKNOWN)) + body + b"\xff"


def encode(elements) -> bytes:
    """The listpack of a sequence of byte strings, as Redis would build it by appending."""
    entries = [encode_entry(e) for e in elements]
    return assemble(entries, len(entries))


def _bad(why):
    return RdbError("Listpack integrity check failed: " + why)


def decode_raw(blob) -> list:
    """All entries of a listpack, validated; integer entries come back as int, strings
    as bytes."""
    size = len(blob)
    if size < EMPTY_SIZE:
        raise _bad("shorter than its header")
    total, numele = _HDR.unpack_from(blob, 0)
    if total != size:
        raise _bad("header size %d != blob size %d" % (total, size))
    end = size - 1
    if blob[end] != 0xFF:
        raise _bad("no terminator")
    out = []
    append = out.append
    p = HEADER_SIZE
    while p < end:
        b = blob[p]
        if b < 0x80:
            append(b)
            if blob[p + 1] != 1:
                raise _bad("bad backlen")
            p += 2
            continue
        if b < 0xC0:
            n = b & 0x3F
            q = p + 1 + n                       # end of data; backlen = n+1 <= 64: 1 byte
            if q >= end:
                raise _bad("entry past the end")
            append(blob[p + 1:q])
            if blob[q] != n + 1:
                raise _bad("bad backlen")
            p = q + 1
            continue
        if b < 0xE0:
            v = ((b & 0x1F) << 8) | blob[p + 1]
            append(v - 8192 if v >= 4096 else v)
            size_ = 2
        elif b < 0xF0:
            n = ((b & 0x0F) << 8) | blob[p + 1]
            size_ = 2 + n
            if p + size_ >= end:
                raise _bad("entry past the end")
            append(blob[p + 2:p + size_])
        elif b == 0xF0:
            if p + 5 >= end:
                raise _bad("entry past the end")
            n = _U32.unpack_from(blob, p + 1)[0]
            size_ = 5 + n
            if p + size_ >= end:
                raise _bad("entry past the end")
            append(blob[p + 5:p + size_])
        elif b == 0xF1:
            size_ = 3
            if p + size_ >= end:
                raise _bad("entry past the end")
            append(_I16.unpack_from(blob, p + 1)[0])
        elif b == 0xF2:
            size_ = 4
            if p + size_ >= end:
                raise _bad("entry past the end")
            v = blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16)
            append(v - (1 << 24) if v >= 1 << 23 else v)
        elif b == 0xF3:
            size_ = 5
            if p + size_ >= end:
                raise _bad("entry past the end")
            append(_I32.unpack_from(blob, p + 1)[0])
        elif b == 0xF4:
            size_ = 9
            if p + size_ >= end:
                raise _bad("entry past the end")
            append(_I64.unpack_from(blob, p + 1)[0])
        else:
            raise _bad("invalid entry encoding 0x%02x" % b)
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


def decode(blob) -> list:
    """All entries as bytes (integers in decimal, as Redis returns them)."""
    small = _SMALL_INT_BYTES
    return [e if e.__class__ is bytes else (small[e] if 0 <= e < 128 else b"%d" % e)
            for e in decode_raw(blob)]
