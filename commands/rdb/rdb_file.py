"""Whole RDB files, written and read incrementally (rdbSaveRio / rdbLoadRioWithLoadingCtx).

What Redis 7.0 writes, in order:

    "REDIS0010"
    AUX redis-ver, redis-bits, ctime, used-mem,
        [repl-stream-db, repl-id, repl-offset,]     (with replication info)
        aof-base
    FUNCTION2 <library code>                       (one per function library)
    SELECTDB <db>  RESIZEDB <keys> <keys with expire>
    per key: [EXPIRETIME_MS <i64 LE>] [IDLE <len>] [FREQ <u8>] <type> <key> <value>
    EOF <CRC-64 LE over everything before it, or 8 zero bytes>

An AUX record is 0xFA <RDB string name> <RDB string value> (integers go in as
int-encoded strings, e.g. redis-bits as 0xC0 0x40). A loader must skip AUX fields it
does not know.

RdbWriter writes to a file-like object in chunks (`chunk_size` bytes at a time), keeping
the CRC as it goes: a million keys never sit in memory as one bytes object.

RdbReader parses from a file-like object the same way, yielding events:

    Aux(name, value)                 every AUX field (unknown ones too; using them is
                                     the caller's business, as is ignoring them)
    FunctionLibrary(code)            FUNCTION2 (FUNCTION of 7.0-rc is converted the
                                     way Redis does: "#!<engine> name=<name>\\n<code>")
    SelectDb(db)
    ResizeDb(db_size, expires_size)
    KeyEntry(db, key, kind, value, expire_ms, idle, freq, rdb_type)

It reads `chunk_size` bytes at a time into a window; a record is parsed from the window
and, if it runs past the window's end (RdbTruncated), more is read and that record is
parsed again -- reading at least as far as the parser asked, and at least doubling the
window for a record that keeps growing, so a big value costs O(size) overall. The data
is CRC'd as the window slides. Nothing is allocated from a declared length: data is
read in bounded pieces, and when the stream's size is known (a regular file, or `size=`)
a length reaching past it fails at once. The stream must end where the RDB ends (for replication,
wrap the socket so it stops after the announced length); bytes read past the checksum
are kept in `unconsumed` (e.g. the 40-byte mark of a diskless "$EOF:" transfer).

Errors are RdbError: a bad signature or version, an unsupported type or module AUX
data, malformed values, "Unexpected EOF reading RDB file" on truncation, "RDB CRC
error" on a checksum mismatch (a stored checksum of 0 means "not computed" and is not
checked, like Redis).
"""
import io
import os
import stat
import struct
import time
from typing import NamedTuple, Optional

from commands.rdb.checksum import crc64
from commands.rdb.errors import RdbError, RdbTruncated
from commands.rdb.rdb_constants import (RDB_OPCODE_AUX, RDB_OPCODE_EOF, RDB_OPCODE_EXPIRETIME,
                                        RDB_OPCODE_EXPIRETIME_MS, RDB_OPCODE_FREQ,
                                        RDB_OPCODE_FUNCTION, RDB_OPCODE_FUNCTION2, RDB_OPCODE_IDLE,
                                        RDB_OPCODE_MODULE_AUX, RDB_OPCODE_RESIZEDB,
                                        RDB_OPCODE_SELECTDB, RDB_VERSION, REDIS_VERSION,
                                        unsupported_type_message)
from commands.rdb.rdb_decode import DECODERS
from commands.rdb.rdb_encode import _STRING_ENCODINGS, _WRITERS, encode_into, encode_legacy
from commands.rdb.rdb_strings import _LEN6, encode_length, encode_string, read_length, read_string

_I64 = struct.Struct("<q")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")


class Aux(NamedTuple):
    name: bytes
    value: bytes


class FunctionLibrary(NamedTuple):
    code: bytes


class SelectDb(NamedTuple):
    db: int


class ResizeDb(NamedTuple):
    db_size: int
    expires_size: int


class KeyEntry(NamedTuple):
    db: int
    key: bytes
    kind: str                   # "string" | "list" | "set" | "hash" | "zset"
    value: object               # the neutral form (see rdb_encode)
    expire_ms: Optional[int]    # absolute unix time in ms, or None
    idle: Optional[int]         # LRU idle seconds (IDLE opcode), or None
    freq: Optional[int]         # LFU counter (FREQ opcode), or None
    rdb_type: int               # the type byte it was stored with


# --------------------------------------------------------------------------- writing

class RdbWriter:
    """Writes an RDB file to `stream` (anything with .write(bytes)).

        w = RdbWriter(f)
        w.write_header(ctime=..., used_mem=...)
        w.write_function(code)                 # any number
        w.select_db(0, db_size, expires_size)
        w.write_key(key, kind, value, encoding, expire_ms=None)   # for each key
        w.finish()                             # EOF + CRC-64, flushed to `stream`

    checksum=False writes 8 zero bytes instead of the CRC (rdbchecksum no); compress is
    rdbcompression; fill and packed_threshold shape list nodes (see quicklist)."""

    def __init__(self, stream, *, checksum: bool = True, compress: bool = True,
                 fill=None,
                 packed_threshold=None,
                 chunk_size: int = 1 << 20):
        self._stream = stream
        self._checksum = checksum
        self.compress = compress
        self.fill = fill
        self.packed_threshold = packed_threshold
        self._chunk_size = chunk_size
        self._parts = []
        self._blocks = []         # joined groups of parts, not yet written
        self._pending = 0         # bytes in _blocks
        self._crc = 0
        self.bytes_written = 0
        self.keys_written = 0
        self._finished = False
        self._parts.append(b"REDIS%04d" % RDB_VERSION)

    # -- records
    def write_aux(self, name, value):
        """One AUX field; str and int values are written as Redis writes them."""
        if isinstance(name, str):
            name = name.encode()
        if isinstance(value, int):
            value = b"%d" % value
        elif isinstance(value, str):
            value = value.encode()
        self._parts += (b"\xfa", encode_string(name, self.compress),
                        encode_string(value, self.compress))

    def write_header(self, *, ctime: Optional[int] = None, used_mem: int = 0,
                     repl_stream_db: Optional[int] = None, repl_id=None,
                     repl_offset: Optional[int] = None, aof_base: int = 0,
                     redis_ver: str = REDIS_VERSION, redis_bits: int = 64):
        """The AUX fields of rdbSaveInfoAuxFields, in its order; the replication trio
        only when repl_id is given (Redis writes them when it has replication info)."""
        self.write_aux("redis-ver", redis_ver)
        self.write_aux("redis-bits", redis_bits)
        self.write_aux("ctime", int(time.time()) if ctime is None else ctime)
        self.write_aux("used-mem", used_mem)
        if repl_id is not None:
            self.write_aux("repl-stream-db", repl_stream_db or 0)
            self.write_aux("repl-id", repl_id)
            self.write_aux("repl-offset", repl_offset or 0)
        self.write_aux("aof-base", aof_base)

    def write_function(self, code: bytes):
        """One function library (RDB_OPCODE_FUNCTION2 + its code as an RDB string)."""
        self._parts += (b"\xf5", encode_string(code, self.compress))

    def write_functions(self, codes):
        for code in codes:
            self.write_function(code)

    def select_db(self, db: int, db_size: int, expires_size: int):
        """SELECTDB and RESIZEDB (Redis writes both before a non-empty database)."""
        self._parts += (b"\xfe", encode_length(db), b"\xfb", encode_length(db_size),
                        encode_length(expires_size))

    def write_key(self, key: bytes, kind: str, value, encoding=None,
                  expire_ms: Optional[int] = None, idle: Optional[int] = None,
                  freq: Optional[int] = None):
        """One key: [EXPIRETIME_MS] [IDLE] [FREQ] type key value. idle (seconds) and freq
        (0..255) only when given, as Redis writes them only under an LRU / LFU policy."""
        # The key, inline for the common short non-numeric key (this runs per key):
        # up to 20 bytes neither the integer nor the LZF form applies.
        n = len(key)
        c = key[0] if n else 0
        key_part = (_LEN6[n] + key if n < 21 and not (48 <= c <= 57 or c == 45)
                    else encode_string(key, self.compress))
        parts = self._parts
        start = len(parts)
        try:
            if expire_ms is not None:
                parts += (b"\xfc", _I64.pack(expire_ms))
            if idle is not None:
                parts += (b"\xf8", encode_length(idle))
            if freq is not None:
                parts += (b"\xf9", bytes((freq,)))
            if kind == "string" and encoding in _STRING_ENCODINGS:
                n = len(value)
                c = value[0] if n else 0
                if n < 21 and not (48 <= c <= 57 or c == 45):
                    parts += (b"\x00", key_part, _LEN6[n] + value)
                else:
                    parts += (b"\x00", key_part, encode_string(value, self.compress))
            else:
                type_at = len(parts)
                parts += (None, key_part)         # the type byte, known once encoded
                writer = _WRITERS.get((kind, encoding)) if value else None
                if writer is not None:
                    rdb_type = writer(parts, value, self.compress, self.fill,
                                      self.packed_threshold)
                else:                             # default encoding, or the error to raise
                    rdb_type = encode_into(parts, kind, value, encoding, self.compress,
                                           self.fill, self.packed_threshold)
                parts[type_at] = _TYPE_BYTE[rdb_type]
        except BaseException:
            del parts[start:]                     # a refused key leaves no trace
            raise
        self.keys_written += 1
        if len(parts) >= 2048:
            self._maybe_flush()

    def write_legacy_key(self, key: bytes, rdb_type: int, value,
                         expire_ms: Optional[int] = None):
        """One key in a pre-7.0 type (ziplist, zipmap, quicklist v1, plain LIST/ZSET; see
        rdb_encode.encode_legacy): what a Redis 6 or older file holds. Redis 7.0 never
        writes these; this is for producing such files (tests, interop checks)."""
        body = encode_legacy(rdb_type, value, self.compress)
        if expire_ms is not None:
            self._parts += (b"\xfc", _I64.pack(expire_ms))
        self._parts += (_TYPE_BYTE[rdb_type], encode_string(key, self.compress), body)
        self.keys_written += 1
        if len(self._parts) >= 2048:
            self._maybe_flush()

    def _maybe_flush(self, force=False):
        """Collapse the small parts into a block; write the blocks once they reach
        chunk_size (or when forced). Joining every few thousand parts keeps the parts
        list short without summing lengths on every key."""
        parts = self._parts
        if parts:
            block = b"".join(parts)
            parts.clear()
            self._blocks.append(block)
            self._pending += len(block)
        if self._pending >= self._chunk_size or (force and self._pending):
            chunk = b"".join(self._blocks) if len(self._blocks) > 1 else self._blocks[0]
            self._blocks.clear()
            self._pending = 0
            if self._checksum:
                self._crc = crc64(chunk, self._crc)
            self._stream.write(chunk)
            self.bytes_written += len(chunk)

    def finish(self):
        """EOF, then the CRC-64 (or zeros); everything is handed to the stream."""
        if self._finished:
            raise RuntimeError("RdbWriter.finish() called twice")
        self._finished = True
        self._parts.append(b"\xff")
        self._maybe_flush(force=True)
        self._stream.write(_U64.pack(self._crc if self._checksum else 0))
        self.bytes_written += 8
        flush = getattr(self._stream, "flush", None)
        if flush is not None:
            flush()


_TYPE_BYTE = [bytes((t,)) for t in range(256)]


def write_rdb(stream, keys, *, functions=(), db: int = 0, header=None, **options):
    """Convenience: a whole single-database RDB. `keys` is a sized collection of
    (key, kind, value, encoding, expire_ms) tuples (its len() feeds RESIZEDB)."""
    w = RdbWriter(stream, **options)
    w.write_header(**(header or {}))
    w.write_functions(functions)
    if len(keys):
        w.select_db(db, len(keys), sum(1 for k in keys if k[4] is not None))
        for key, kind, value, encoding, expire_ms in keys:
            w.write_key(key, kind, value, encoding, expire_ms)
    w.finish()
    return w


# --------------------------------------------------------------------------- reading

class RdbReader:
    """Iterate over the events of the RDB in `stream` (anything with .read(n)).

        for event in RdbReader(f): ...

    After a complete iteration: `version`, `checksum` (stored value, 0 when not
    computed), `empty_keys_skipped`, `unconsumed` (bytes read past the end)."""

    def __init__(self, stream, *, verify_checksum: bool = True, chunk_size: int = 1 << 20,
                 size: Optional[int] = None):
        """size: the bytes the stream holds from here, when known (a replication transfer
        announces it); by default a regular file's remaining size. A declared length
        reaching past it fails at once instead of reading the rest of the stream."""
        self._stream = stream
        if size is None:
            size = _remaining_size(stream)
        self._limit = size             # absolute offset where the data ends, or None
        self._window_start = 0         # absolute offset of _buf[0]
        self.verify_checksum = verify_checksum
        self._chunk_size = chunk_size
        self.version = None
        self.checksum = None
        self.empty_keys_skipped = 0
        self.unconsumed = b""
        self._eof = False
        self._buf = b""
        self._crc = 0

    def __iter__(self):
        return self._events()

    # -- the sliding window
    def _fill(self, pos: int, needed: Optional[int]):
        """Drop buf[:pos] (CRC'ing it), then read until the window holds `needed`
        (relative to the old window) bytes, or at least one chunk more. Returns False
        when the stream had nothing more."""
        buf = self._buf
        if pos:
            self._crc = crc64(buf[:pos], self._crc)
            buf = buf[pos:]
            self._window_start += pos
        want = len(buf) + self._chunk_size
        if needed is not None:
            want = max(want, needed - pos)
            if self._limit is not None and self._window_start + needed - pos > self._limit:
                self._buf = buf
                return False             # it cannot be there: no point reading it all
        want = max(want, 2 * len(buf))               # a record that keeps growing
        chunks = [buf]
        have = len(buf)
        got_any = False
        while have < want and not self._eof:
            data = self._stream.read(min(want - have, 1 << 26))
            if not data:
                self._eof = True
                break
            chunks.append(data)
            have += len(data)
            got_any = True
        self._buf = b"".join(chunks) if len(chunks) > 1 else buf
        return got_any

    def _events(self):
        # The header: "REDIS" + 4 digits.
        self._fill(0, 9)
        buf = self._buf
        if len(buf) < 9:
            raise RdbError("Unexpected EOF reading RDB file")
        if buf[:5] != b"REDIS":
            raise RdbError("Wrong signature trying to load DB from file")
        digits = buf[5:9]
        if not digits.isdigit() or not 1 <= int(digits) <= RDB_VERSION:
            raise RdbError("Can't handle RDB format version %r" % digits.decode("latin-1"))
        self.version = int(digits)
        pos = 9
        db = 0
        expire_ms = idle = freq = None
        decoders = DECODERS
        new_tuple = tuple.__new__         # skips NamedTuple's Python-level __new__
        buf = self._buf
        end = len(buf)
        while True:
            try:
                # One record per iteration; RdbTruncated anywhere in it means "read more
                # and parse this record again" (the attributes above survive a retry
                # because they are only assigned once their record parsed whole).
                if pos >= end:
                    raise RdbTruncated(needed=pos + 1)
                t = buf[pos]
                if t < 20:
                    # A key. Short keys and short string values inline: this runs per key.
                    p = pos + 1
                    if p < end and buf[p] < 64:
                        q = p + 1 + buf[p]
                        if q > end:
                            raise RdbTruncated(needed=q)
                        key = buf[p + 1:q]
                    else:
                        key, q = read_string(buf, p, end)
                    if t == 0:
                        if q < end and buf[q] < 64:
                            p = q + 1 + buf[q]
                            if p > end:
                                raise RdbTruncated(needed=p)
                            value = buf[q + 1:p]
                        else:
                            value, p = read_string(buf, q, end)
                        pos = p
                        yield new_tuple(KeyEntry, (db, key, "string", value, expire_ms, idle,
                                                   freq, 0))
                        expire_ms = idle = freq = None
                        continue
                    decoder = decoders.get(t)
                    if decoder is None:
                        raise RdbError(unsupported_type_message(t))
                    kind, value, pos = decoder(buf, q, end)
                    if value:
                        yield new_tuple(KeyEntry, (db, key, kind, value, expire_ms, idle, freq, t))
                    else:
                        self.empty_keys_skipped += 1
                    expire_ms = idle = freq = None
                    continue
                if t == RDB_OPCODE_EXPIRETIME_MS:
                    if pos + 9 > end:
                        raise RdbTruncated(needed=pos + 9)
                    expire_ms = _I64.unpack_from(buf, pos + 1)[0]
                    pos += 9
                elif t == RDB_OPCODE_EXPIRETIME:
                    if pos + 5 > end:
                        raise RdbTruncated(needed=pos + 5)
                    expire_ms = _I32.unpack_from(buf, pos + 1)[0] * 1000
                    pos += 5
                elif t == RDB_OPCODE_IDLE:
                    idle, pos = read_length(buf, pos + 1, end)
                elif t == RDB_OPCODE_FREQ:
                    if pos + 2 > end:
                        raise RdbTruncated(needed=pos + 2)
                    freq = buf[pos + 1]
                    pos += 2
                elif t == RDB_OPCODE_SELECTDB:
                    db, pos = read_length(buf, pos + 1, end)
                    yield SelectDb(db)
                elif t == RDB_OPCODE_RESIZEDB:
                    db_size, p = read_length(buf, pos + 1, end)
                    expires_size, pos = read_length(buf, p, end)
                    yield ResizeDb(db_size, expires_size)
                elif t == RDB_OPCODE_AUX:
                    name, p = read_string(buf, pos + 1, end)
                    value, pos = read_string(buf, p, end)
                    yield Aux(name, value)
                elif t == RDB_OPCODE_FUNCTION2:
                    code, pos = read_string(buf, pos + 1, end)
                    yield FunctionLibrary(code)
                elif t == RDB_OPCODE_FUNCTION:
                    code, pos = self._old_function(buf, pos + 1, end)
                    yield FunctionLibrary(code)
                elif t == RDB_OPCODE_MODULE_AUX:
                    raise RdbError("The RDB file contains AUX module data, which this "
                                   "server cannot load (no modules)")
                elif t == RDB_OPCODE_EOF:
                    self._finish(pos)
                    return
                else:
                    raise RdbError(unsupported_type_message(t))
            except RdbTruncated as exc:
                if not self._fill(pos, exc.needed):
                    raise RdbError("Unexpected EOF reading RDB file") from None
                pos = 0
                buf = self._buf
                end = len(buf)

    @staticmethod
    def _old_function(buf, pos, end):
        """RDB_OPCODE_FUNCTION (7.0-rc1/rc2): name, engine, [description], code."""
        name, pos = read_string(buf, pos, end)
        engine, pos = read_string(buf, pos, end)
        has_desc, pos = read_length(buf, pos, end)
        if has_desc:
            _, pos = read_string(buf, pos, end)
        blob, pos = read_string(buf, pos, end)
        return b"#!%s name=%s\n%s" % (engine, name, blob), pos

    def _finish(self, eof_pos: int):
        """After the EOF opcode at eof_pos: the checksum (RDB >= 5)."""
        covered = eof_pos + 1
        if self.version < 5:
            self.checksum = 0
            self.unconsumed = bytes(self._buf[covered:])
            return
        if covered + 8 > len(self._buf):
            self._fill(covered, covered + 8)
            covered = 0
        buf = self._buf
        if covered + 8 > len(buf):
            raise RdbError("Unexpected EOF reading RDB file")
        crc = crc64(buf[:covered], self._crc)
        stored = _U64.unpack_from(buf, covered)[0]
        self.checksum = stored
        self.unconsumed = bytes(buf[covered + 8:])
        if self.verify_checksum and stored != 0 and stored != crc:
            raise RdbError("Wrong RDB checksum expected: (%x) but got (%x): RDB CRC error"
                           % (crc, stored))


def _remaining_size(stream) -> Optional[int]:
    """Bytes left in a regular file (from its current position), else None."""
    try:
        st = os.fstat(stream.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        return st.st_size - stream.tell()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def read_rdb(stream, **options):
    """Convenience: the events of the RDB in `stream`."""
    return iter(RdbReader(stream, **options))
