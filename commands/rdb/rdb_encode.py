"""Values to RDB bytes, in the encoding Redis 7.0 would write (rdbSaveObject).

The caller names the encoding, because the live value knows it (OBJECT ENCODING):

    kind      encoding                     type byte written, layout
    string    raw/embstr/int/None          0  STRING: one RDB string (rdb_strings)
    list      quicklist/None               18 LIST_QUICKLIST_2: <node count>, then per
                                              node <container> <RDB string: listpack,
                                              or the element itself for PLAIN nodes>
    set       intset                       11 SET_INTSET: <RDB string: intset>
    set       hashtable                    2  SET: <count> <member>...
    hash      listpack                     16 HASH_LISTPACK: <RDB string: listpack of
                                              field, value, field, value...>
    hash      hashtable                    4  HASH: <count> (<field> <value>)...
    zset      listpack                     17 ZSET_LISTPACK: <RDB string: listpack of
                                              member, score, ... ascending>
    zset      skiplist                     5  ZSET_2: <count> (<member> <binary double
                                              LE>)... descending, as Redis walks its
                                              skiplist from the tail

With encoding None for a set, hash or zset the choice is Redis's with default thresholds
(set-max-intset-entries 512, hash-max-listpack-entries 512, zset-max-listpack-entries
128, *-max-listpack-value 64).

Every blob (listpack, intset) is itself stored as an RDB string, so it is LZF-compressed
when `compress` (rdbcompression) is on and that saves 4 bytes or more.

In a sorted-set listpack a score is an integer entry when the double is integral and
within +-2**62 (double2ll), else the "%.17g" text (d2string); "inf"/"-inf" as text.

`encode_legacy` writes the types Redis 6 and earlier wrote (ziplist, zipmap, quicklist
v1 and the plain LIST / ZSET): Redis 7.0 still loads them, and the tests use them to
check the decoder against real files.
"""
import math
import operator
import struct

from commands.rdb import intset, listpack, quicklist, ziplist, zipmap
from commands.rdb.rdb_constants import (RDB_TYPE_HASH, RDB_TYPE_HASH_LISTPACK,
                                        RDB_TYPE_HASH_ZIPLIST, RDB_TYPE_HASH_ZIPMAP, RDB_TYPE_LIST,
                                        RDB_TYPE_LIST_QUICKLIST, RDB_TYPE_LIST_QUICKLIST_2,
                                        RDB_TYPE_LIST_ZIPLIST, RDB_TYPE_SET, RDB_TYPE_SET_INTSET,
                                        RDB_TYPE_STREAM_LISTPACKS_2, RDB_TYPE_STRING,
                                        RDB_TYPE_ZSET, RDB_TYPE_ZSET_2, RDB_TYPE_ZSET_LISTPACK,
                                        RDB_TYPE_ZSET_ZIPLIST)
from commands.rdb.rdb_strings import canonical_int, encode_length, encode_string
from commands.rdb.stream_listpacks import write_stream

_DOUBLE = struct.Struct("<d")
_pack_double = _DOUBLE.pack

_STRING_ENCODINGS = (None, "raw", "embstr", "int")
_TYPE_FOR = {
    ("list", None): RDB_TYPE_LIST_QUICKLIST_2,
    ("list", "quicklist"): RDB_TYPE_LIST_QUICKLIST_2,
    ("set", "intset"): RDB_TYPE_SET_INTSET,
    ("set", "hashtable"): RDB_TYPE_SET,
    ("hash", "listpack"): RDB_TYPE_HASH_LISTPACK,
    ("hash", "hashtable"): RDB_TYPE_HASH,
    ("stream", None): RDB_TYPE_STREAM_LISTPACKS_2,
    ("stream", "stream"): RDB_TYPE_STREAM_LISTPACKS_2,
    ("zset", "listpack"): RDB_TYPE_ZSET_LISTPACK,
    ("zset", "skiplist"): RDB_TYPE_ZSET_2,
}

# Redis 7.0's defaults, for encoding=None.
SET_MAX_INTSET_ENTRIES = 512
HASH_MAX_LISTPACK_ENTRIES = 512
ZSET_MAX_LISTPACK_ENTRIES = 128
MAX_LISTPACK_VALUE = 64
_DOUBLE2LL_LIMIT = float((2 ** 63 - 1) // 2)


def default_encoding(kind: str, value) -> str:
    """The encoding Redis 7.0 with default settings gives a value built from scratch."""
    if kind == "string":
        return "raw"
    if kind == "list":
        return "quicklist"
    if kind == "set":
        if len(value) <= SET_MAX_INTSET_ENTRIES and all(
                canonical_int(m) is not None for m in value):
            return "intset"
        return "hashtable"
    if kind == "hash":
        if len(value) <= HASH_MAX_LISTPACK_ENTRIES and all(
                len(f) <= MAX_LISTPACK_VALUE and len(v) <= MAX_LISTPACK_VALUE for f, v in value):
            return "listpack"
        return "hashtable"
    if kind == "stream":
        return "stream"
    if kind == "zset":
        if len(value) <= ZSET_MAX_LISTPACK_ENTRIES and all(
                len(m) <= MAX_LISTPACK_VALUE for m, _ in value):
            return "listpack"
        return "skiplist"
    raise ValueError("unknown value kind %r" % (kind,))


def rdb_type_for(kind: str, encoding) -> int:
    """The type byte a value of `kind` in `encoding` is written with."""
    if kind == "string":
        if encoding not in _STRING_ENCODINGS:
            raise ValueError("unknown string encoding %r" % (encoding,))
        return RDB_TYPE_STRING
    try:
        return _TYPE_FOR[kind, encoding]
    except KeyError:
        raise ValueError("cannot write a %s in encoding %r" % (kind, encoding)) from None


def score_entry(score: float) -> bytes:
    """A sorted-set score as a listpack entry (zzlInsertAt)."""
    if -_DOUBLE2LL_LIMIT <= score <= _DOUBLE2LL_LIMIT:
        i = int(score)
        if i == score:
            return listpack.encode_int(i)
    if score != score:
        raise ValueError("a sorted set score cannot be NaN")
    if score == math.inf:
        return listpack.encode_entry(b"inf")
    if score == -math.inf:
        return listpack.encode_entry(b"-inf")
    return listpack.encode_entry(b"%.17g" % score)


_BY_SCORE_THEN_MEMBER = operator.itemgetter(1, 0)


def _sorted_zset(value):
    """Members ascending by (score, member): the order of Redis's listpack/skiplist."""
    return sorted(value, key=_BY_SCORE_THEN_MEMBER)


_INF_ENTRY = listpack.encode_entry(b"inf")
_NEG_INF_ENTRY = listpack.encode_entry(b"-inf")


def zset_listpack(value) -> bytes:
    """Members ascending by (score, member), each followed by its score entry."""
    ordered = _sorted_zset(value)
    members = listpack.encode_entries([m for m, _ in ordered])
    entries = []
    append = entries.append
    encode_int = listpack.encode_int
    hdr = listpack._STR6_HDR
    bl = listpack._BYTE
    for entry, (_, score) in zip(members, ordered):
        append(entry)
        # score_entry, inlined: integral within +-2**62 -> integer entry (double2ll);
        # else the "%.17g" text, which then always has a '.' or an exponent, so it is
        # never taken for an integer, and is at most 24 bytes: a 6-bit string.
        if -_DOUBLE2LL_LIMIT <= score <= _DOUBLE2LL_LIMIT and score.is_integer():
            append(encode_int(int(score)))
        elif score == math.inf:
            append(_INF_ENTRY)
        elif score == -math.inf:
            append(_NEG_INF_ENTRY)
        elif score != score:
            raise ValueError("a sorted set score cannot be NaN")
        else:
            text = b"%.17g" % score
            append(hdr[len(text)] + text + bl[len(text) + 1])
    return listpack.assemble(entries, len(entries))


def hash_listpack(value) -> bytes:
    return listpack.encode_pairs(value)


def _write_quicklist(parts, value, compress, fill, packed_threshold):
    nodes = quicklist.split(value, fill, packed_threshold)
    parts.append(encode_length(len(nodes)))
    for container, blob in nodes:
        parts.append(b"\x02" if container == quicklist.PACKED else b"\x01")
        parts.append(encode_string(blob, compress))
    return RDB_TYPE_LIST_QUICKLIST_2


def _write_hash_listpack(parts, value, compress, fill, packed_threshold):
    parts.append(encode_string(hash_listpack(value), compress))
    return RDB_TYPE_HASH_LISTPACK


def _write_intset(parts, value, compress, fill, packed_threshold):
    parts.append(encode_string(intset.encode(value), compress))
    return RDB_TYPE_SET_INTSET


def _write_zset_listpack(parts, value, compress, fill, packed_threshold):
    parts.append(encode_string(zset_listpack(value), compress))
    return RDB_TYPE_ZSET_LISTPACK


def _write_set(parts, value, compress, fill, packed_threshold):
    parts.append(encode_length(len(value)))
    parts.extend([encode_string(m, compress) for m in value])
    return RDB_TYPE_SET


def _write_hash(parts, value, compress, fill, packed_threshold):
    parts.append(encode_length(len(value)))
    for f, v in value:
        parts.append(encode_string(f, compress))
        parts.append(encode_string(v, compress))
    return RDB_TYPE_HASH


def _write_zset_2(parts, value, compress, fill, packed_threshold):
    parts.append(encode_length(len(value)))
    for member, score in reversed(_sorted_zset(value)):
        if score != score:
            raise ValueError("a sorted set score cannot be NaN")
        parts.append(encode_string(member, compress))
        parts.append(_pack_double(score))
    return RDB_TYPE_ZSET_2


def _write_stream(parts, value, compress, fill, packed_threshold):
    write_stream(parts, value, compress)
    return RDB_TYPE_STREAM_LISTPACKS_2


def _write_string(parts, value, compress, fill, packed_threshold):
    parts.append(encode_string(value, compress))
    return RDB_TYPE_STRING


# (kind, encoding) -> writer(parts, value, compress, fill, packed_threshold) -> type byte
_WRITERS = {
    ("list", "quicklist"): _write_quicklist,
    ("set", "intset"): _write_intset,
    ("set", "hashtable"): _write_set,
    ("hash", "listpack"): _write_hash_listpack,
    ("hash", "hashtable"): _write_hash,
    ("zset", "listpack"): _write_zset_listpack,
    ("zset", "skiplist"): _write_zset_2,
}
for _encoding in _STRING_ENCODINGS:
    _WRITERS["string", _encoding] = _write_string
_WRITERS["list", None] = _write_quicklist
_WRITERS["stream", None] = _WRITERS["stream", "stream"] = _write_stream


def encode_into(parts: list, kind: str, value, encoding=None, compress: bool = True,
                fill=None,
                packed_threshold=None) -> int:
    """Append the RDB form of `value` (without its type byte) to `parts`; return the type
    byte. The fast path of the file writer; see encode_value for the arguments."""
    writer = _WRITERS.get((kind, encoding))
    if writer is None:
        if encoding is None and kind in ("set", "hash", "zset"):
            writer = _WRITERS[kind, default_encoding(kind, value)]
        else:
            rdb_type_for(kind, encoding)          # raises the ValueError that explains
    if not value and kind != "string":
        raise ValueError("Redis never stores an empty %s" % kind)
    return writer(parts, value, compress, fill, packed_threshold)


def encode_value(kind: str, value, encoding=None, *, compress: bool = True,
                 fill=None,
                 packed_threshold=None):
    """(type byte, body): the RDB serialization of one value, as rdbSaveObjectType and
    rdbSaveObject write it.

    kind: "string" | "list" | "set" | "hash" | "zset"; value in the neutral form (bytes;
    list of bytes; list of bytes; list of (field, value); list of (member, score)).
    compress: rdbcompression. fill: list-max-listpack-size. packed_threshold: the
    element size from which a list element gets a PLAIN node of its own."""
    parts = []
    rdb_type = encode_into(parts, kind, value, encoding, compress, fill, packed_threshold)
    return rdb_type, b"".join(parts)


def _old_double(score: float) -> bytes:
    """rdbSaveDoubleValue (RDB_TYPE_ZSET): a length byte and the text, 253/254/255 for
    nan/+inf/-inf."""
    if score == math.inf:
        return b"\xfe"
    if score == -math.inf:
        return b"\xff"
    if -_DOUBLE2LL_LIMIT <= score <= _DOUBLE2LL_LIMIT and int(score) == score:
        text = b"%d" % int(score)
    else:
        text = b"%.17g" % score
    return bytes((len(text),)) + text


def encode_legacy(rdb_type: int, value, compress: bool = True) -> bytes:
    """The body of a value in one of the pre-7.0 types (for producing Redis 6 era data):
    LIST, ZSET, HASH_ZIPMAP, LIST_ZIPLIST, ZSET_ZIPLIST, HASH_ZIPLIST, LIST_QUICKLIST
    (ziplist nodes of up to 128 elements; how a list is cut does not change what loads)."""
    if rdb_type == RDB_TYPE_LIST:
        return encode_length(len(value)) + b"".join(encode_string(e, compress) for e in value)
    if rdb_type == RDB_TYPE_ZSET:
        return encode_length(len(value)) + b"".join(
            encode_string(m, compress) + _old_double(s) for m, s in value)
    if rdb_type == RDB_TYPE_HASH_ZIPMAP:
        return encode_string(zipmap.encode(value), compress)
    if rdb_type == RDB_TYPE_LIST_ZIPLIST:
        return encode_string(ziplist.encode(value), compress)
    if rdb_type == RDB_TYPE_ZSET_ZIPLIST:
        flat = []
        for m, s in _sorted_zset(value):
            flat.append(m)
            flat.append(listpack_score_text(s))
        return encode_string(ziplist.encode(flat), compress)
    if rdb_type == RDB_TYPE_HASH_ZIPLIST:
        return encode_string(ziplist.encode([x for pair in value for x in pair]), compress)
    if rdb_type == RDB_TYPE_LIST_QUICKLIST:
        chunks = [value[i:i + 128] for i in range(0, len(value), 128)]
        return encode_length(len(chunks)) + b"".join(
            encode_string(ziplist.encode(c), compress) for c in chunks)
    raise ValueError("not a legacy type: %d" % rdb_type)


def listpack_score_text(score: float) -> bytes:
    """A score as the text Redis stores in a (zip/list)pack entry: d2string."""
    if score == math.inf:
        return b"inf"
    if score == -math.inf:
        return b"-inf"
    if -_DOUBLE2LL_LIMIT <= score <= _DOUBLE2LL_LIMIT and int(score) == score:
        return b"%d" % int(score)
    return b"%.17g" % score
