"""LZF, the compression of RDB strings (RDB_ENC_LZF) and compressed quicklist nodes.

An LZF string in an RDB is: the byte 0xC3 (11|000011), the compressed length (rdb
length), the uncompressed length (rdb length), then the compressed bytes. Redis writes
it only for strings longer than 20 bytes, and only when liblzf manages to save at least
4 bytes: rdbSaveLzfStringObject gives lzf_compress an output buffer of len-4 bytes and
falls back to the raw string when it does not fit.

The C extension `python-lzf` (module `lzf`) bundles the same liblzf 3.6 Redis ships,
built with the same settings (HLOG 16, VERY_FAST), so its streams are what Redis writes
and reads. Two of its quirks are handled here: compress(data, m) lets the output reach
m+1 bytes, and decompress allocates the declared length before looking at the data --
so a declared length is checked against what LZF can possibly expand to first (a
back-reference of 3 bytes yields at most 264 bytes: 88x).
"""
import lzf

from commands.rdb.errors import RdbError

# Strings up to this length are never compressed (rdbSaveRawString: "len > 20").
MIN_COMPRESS_LEN = 21
_MAX_EXPANSION = 88


def compress(data: bytes):
    """The LZF form of `data` if Redis would store it compressed, else None."""
    n = len(data)
    if n < MIN_COMPRESS_LEN:
        return None
    # lzf.compress(d, m) allows m+1 output bytes: m = n-5 gives Redis's n-4 buffer.
    return lzf.compress(data, n - 5)


def decompress(data: bytes, length: int) -> bytes:
    """Decompress an LZF stream that must expand to exactly `length` bytes."""
    if length == 0 or not data or length > len(data) * _MAX_EXPANSION:
        raise RdbError("Invalid LZF compressed string")
    try:
        out = lzf.decompress(data, length)
    except (ValueError, MemoryError):
        out = None
    if out is None or len(out) != length:
        raise RdbError("Invalid LZF compressed string")
    return out
