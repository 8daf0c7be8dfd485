"""RDB lengths and strings: the two primitives every other record is built from.

Length (rdbSaveLen): 1, 2, 5 or 9 bytes, see rdb_constants. String (rdbSaveRawString),
in the first form that applies:

1. integer: a string of at most 11 bytes that is the canonical decimal form of an
   integer (no sign but '-', no leading zero, no space; as string2ll) *and* fits 32
   bits is stored as 0xC0 + int8, 0xC1 + int16 LE or 0xC2 + int32 LE;
2. LZF: longer than 20 bytes, compression on, and LZF saves at least 4 bytes:
   0xC3 <compressed len> <original len> <compressed bytes>;
3. raw: <len> <bytes>.

Decoding accepts all three; an integer comes back as its decimal bytes.

Every reader here takes (buf, pos, end) and returns (value, new_pos). Reading past `end`
raises RdbTruncated with the offset it needed, so a streaming reader can fetch more and
retry; a declared length is compared with `end` before anything is allocated.
"""
import struct

import lzf

from commands.rdb import compression
from commands.rdb.errors import RdbError, RdbTruncated

_U16BE = struct.Struct(">H")
_U32BE = struct.Struct(">I")
_U64BE = struct.Struct(">Q")
_I16LE = struct.Struct("<h")
_I32LE = struct.Struct("<i")
_unpack_u32be = _U32BE.unpack_from
_unpack_u64be = _U64BE.unpack_from
_lzf_compress = lzf.compress

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

# One-byte lengths, prebuilt: most keys and small values take this path.
_LEN6 = [bytes((n,)) for n in range(64)]


def encode_length(n: int) -> bytes:
    """rdbSaveLen: the shortest of the 6/14/32/64-bit forms."""
    if n < 64:
        return _LEN6[n]
    if n < 16384:
        return _U16BE.pack(n | 0x4000)
    if n <= 0xFFFFFFFF:
        return b"\x80" + _U32BE.pack(n)
    return b"\x81" + _U64BE.pack(n)


def canonical_int(s: bytes, max_len: int = 20):
    """The int `s` spells if it is the canonical form of a signed 64-bit integer
    (Redis's string2ll / lpStringToInt64: "-?[1-9][0-9]*" or "0"), else None."""
    n = len(s)
    if n == 0 or n > max_len:
        return None
    c = s[0]
    if c == 45:                                   # '-'
        if n == 1 or s[1] == 48 or not s[1:].isdigit():
            return None
    elif c == 48:                                 # '0'
        return 0 if n == 1 else None
    elif not s.isdigit():
        return None
    v = int(s)
    if INT64_MIN <= v <= INT64_MAX:
        return v
    return None


def encode_int_string(v: int):
    """rdbEncodeInteger: the 2/3/5-byte integer form of v, or None if v needs more than
    32 bits."""
    if -128 <= v <= 127:
        return bytes((0xC0, v & 0xFF))
    if -32768 <= v <= 32767:
        return b"\xc1" + _I16LE.pack(v)
    if -2147483648 <= v <= 2147483647:
        return b"\xc2" + _I32LE.pack(v)
    return None


def encode_string(s: bytes, compress: bool = True) -> bytes:
    """rdbSaveRawString: the RDB form of one string."""
    n = len(s)
    if n <= 11 and n:
        c = s[0]
        # cheap pre-filter before canonical_int: a digit or '-' first
        if 48 <= c <= 57 or c == 45:
            v = canonical_int(s)
            if v is not None:
                enc = encode_int_string(v)
                if enc is not None:
                    return enc
    elif compress and n > 20:
        packed = _lzf_compress(s, n - 5)      # = compression.compress, inlined (hot)
        if packed is not None:
            if n < 64:                        # both lengths fit one byte
                return b"\xc3" + _LEN6[len(packed)] + _LEN6[n] + packed
            return b"\xc3" + encode_length(len(packed)) + encode_length(n) + packed
    if n < 64:
        return _LEN6[n] + s
    return encode_length(n) + s


def read_length(buf, pos: int, end: int):
    """rdbLoadLen for a plain length (a special-encoding marker is an error here)."""
    if pos >= end:
        raise RdbTruncated(needed=pos + 1)
    b = buf[pos]
    t = b >> 6
    if t == 0:
        return b, pos + 1
    if t == 1:
        if pos + 2 > end:
            raise RdbTruncated(needed=pos + 2)
        return ((b & 0x3F) << 8) | buf[pos + 1], pos + 2
    if b == 0x80:
        if pos + 5 > end:
            raise RdbTruncated(needed=pos + 5)
        return _unpack_u32be(buf, pos + 1)[0], pos + 5
    if b == 0x81:
        if pos + 9 > end:
            raise RdbTruncated(needed=pos + 9)
        return _unpack_u64be(buf, pos + 1)[0], pos + 9
    if t == 3:
        raise RdbError("Unexpected string encoding where a length was expected")
    raise RdbError("Unknown length encoding %d in rdbLoadLen()" % b)


def read_string(buf, pos: int, end: int):
    """rdbGenericLoadStringObject: one RDB string, as bytes."""
    if pos >= end:
        raise RdbTruncated(needed=pos + 1)
    b = buf[pos]
    if b < 0x40:                                   # the common case: 6-bit length
        q = pos + 1 + b
        if q > end:
            raise RdbTruncated(needed=q)
        return buf[pos + 1:q], q
    if b < 0xC0:
        n, p = read_length(buf, pos, end)
        q = p + n
        if q > end:
            raise RdbTruncated(needed=q)
        return buf[p:q], q
    enc = b & 0x3F
    if enc == 0:
        if pos + 2 > end:
            raise RdbTruncated(needed=pos + 2)
        v = buf[pos + 1]
        return b"%d" % (v - 256 if v > 127 else v), pos + 2
    if enc == 1:
        if pos + 3 > end:
            raise RdbTruncated(needed=pos + 3)
        return b"%d" % _I16LE.unpack_from(buf, pos + 1)[0], pos + 3
    if enc == 2:
        if pos + 5 > end:
            raise RdbTruncated(needed=pos + 5)
        return b"%d" % _I32LE.unpack_from(buf, pos + 1)[0], pos + 5
    if enc == 3:
        if pos + 3 <= end and buf[pos + 1] < 64 and buf[pos + 2] < 64:
            clen = buf[pos + 1]               # both lengths in one byte: the common case
            ulen = buf[pos + 2]
            p = pos + 3
        else:
            clen, p = read_length(buf, pos + 1, end)
            ulen, p = read_length(buf, p, end)
        q = p + clen
        if q > end:
            raise RdbTruncated(needed=q)
        return compression.decompress(bytes(buf[p:q]), ulen), q
    raise RdbError("Unknown RDB string encoding type %d" % enc)
