"""RDB bytes to values (rdbLoadObject), for every type Redis 7.0 writes and the older
ones of Redis 6 and before. The layouts are described in rdb_encode (7.0 types) and in
listpack / ziplist / intset / zipmap (the blobs).

    decode_value(rdb_type, buf, pos, end) -> (kind, value, new_pos)

Values come back in the neutral forms of rdb_encode, whatever the type byte: a
LIST_ZIPLIST and a LIST_QUICKLIST_2 both give a list of bytes. An empty collection is
returned as such (Redis skips such keys when loading a file and refuses them in
RESTORE; the callers decide).

Validation follows Redis's deep sanitization (sanitize-dump-payload yes), which is
stricter than what it does when loading its own file: blob integrity, element counts,
duplicate set members / hash fields / zset members, NaN scores, an odd number of
entries in a pairs listpack. Anything wrong raises RdbError; running past `end` raises
RdbTruncated (see rdb_strings). A declared element count is checked against the bytes
left (every element takes at least one byte) before the loop.
"""
import math
import struct

from commands.rdb import intset, listpack, ziplist, zipmap
from commands.rdb.errors import RdbError, RdbTruncated
from commands.rdb.rdb_constants import (KIND_OF_TYPE, QUICKLIST_NODE_CONTAINER_PACKED,
                                        QUICKLIST_NODE_CONTAINER_PLAIN, RDB_TYPE_HASH,
                                        RDB_TYPE_HASH_LISTPACK, RDB_TYPE_HASH_ZIPLIST,
                                        RDB_TYPE_HASH_ZIPMAP, RDB_TYPE_LIST,
                                        RDB_TYPE_LIST_QUICKLIST, RDB_TYPE_LIST_QUICKLIST_2,
                                        RDB_TYPE_LIST_ZIPLIST, RDB_TYPE_SET, RDB_TYPE_SET_INTSET,
                                        RDB_TYPE_STREAM_LISTPACKS, RDB_TYPE_STREAM_LISTPACKS_2,
                                        RDB_TYPE_STRING, RDB_TYPE_ZSET, RDB_TYPE_ZSET_2,
                                        RDB_TYPE_ZSET_LISTPACK, RDB_TYPE_ZSET_ZIPLIST,
                                        unsupported_type_message)
from commands.rdb.rdb_strings import read_length, read_string
from commands.rdb.stream_listpacks import read_stream

_DOUBLE = struct.Struct("<d")
_unpack_double = _DOUBLE.unpack_from


def _check_count(count, pos, end, per_item=1):
    """A declared count can't exceed the bytes left; in a stream, ask for at least
    that many (the reader then fails on EOF instead of looping)."""
    if pos + count * per_item > end:
        raise RdbTruncated(needed=pos + count * per_item)


def _parse_score(text: bytes) -> float:
    try:
        score = float(text)
    except ValueError:
        raise RdbError("Invalid sorted set score %r" % text[:40]) from None
    if score != score:
        raise RdbError("Zset with NAN score detected")
    return score


def _pairs(items, what):
    if len(items) & 1:
        raise RdbError("%s with an odd number of entries" % what)
    it = iter(items)
    return list(zip(it, it))


def _no_dups(names, what):
    if len(set(names)) != len(names):
        raise RdbError("Duplicate %s detected" % what)


def _zset_from_flat(items, what):
    """member, score, member, score... (a zset listpack / ziplist) as (member, float)
    pairs; C-level passes (slices, map) because this runs for every small zset."""
    if len(items) & 1:
        raise RdbError("%s with an odd number of entries" % what)
    members = items[0::2]
    try:
        scores = list(map(float, items[1::2]))
    except ValueError:
        scores = [_parse_score(s) for s in items[1::2]]     # names the culprit
    if any(map(math.isnan, scores)):
        raise RdbError("Zset with NAN score detected")
    if len(set(members)) != len(members):
        raise RdbError("Duplicate zset members detected")
    return list(zip(members, scores))


def _string(buf, pos, end):
    value, pos = read_string(buf, pos, end)
    return "string", value, pos


def _strings(buf, pos, end):
    """<count> <string>...: the body of the plain LIST and SET types."""
    count, pos = read_length(buf, pos, end)
    _check_count(count, pos, end)
    out = []
    for _ in range(count):
        item, pos = read_string(buf, pos, end)
        out.append(item)
    return out, pos


def _list_plain(buf, pos, end):
    items, pos = _strings(buf, pos, end)
    return "list", items, pos


def _set_plain(buf, pos, end):
    members, pos = _strings(buf, pos, end)
    _no_dups(members, "set members")
    return "set", members, pos


def _zset_plain(buf, pos, end, binary):
    count, pos = read_length(buf, pos, end)
    _check_count(count, pos, end, 2)
    out = []
    for _ in range(count):
        member, pos = read_string(buf, pos, end)
        if binary:
            if pos + 8 > end:
                raise RdbTruncated(needed=pos + 8)
            score = _unpack_double(buf, pos)[0]
            pos += 8
        else:                               # rdbLoadDoubleValue: length byte + text
            if pos >= end:
                raise RdbTruncated(needed=pos + 1)
            n = buf[pos]
            pos += 1
            if n == 253:
                score = math.nan
            elif n == 254:
                score = math.inf
            elif n == 255:
                score = -math.inf
            else:
                if pos + n > end:
                    raise RdbTruncated(needed=pos + n)
                score = _parse_score(bytes(buf[pos:pos + n]))
                pos += n
        if score != score:
            raise RdbError("Zset with NAN score detected")
        out.append((member, score))
    _no_dups([m for m, _ in out], "zset members")
    return "zset", out, pos


def _hash_plain(buf, pos, end):
    count, pos = read_length(buf, pos, end)
    _check_count(count, pos, end, 2)
    out = []
    for _ in range(count):
        field, pos = read_string(buf, pos, end)
        value, pos = read_string(buf, pos, end)
        out.append((field, value))
    _no_dups([f for f, _ in out], "hash fields")
    return "hash", out, pos


def _quicklist(buf, pos, end, version):
    count, pos = read_length(buf, pos, end)
    _check_count(count, pos, end, 2 if version == 2 else 1)
    out = []
    container = QUICKLIST_NODE_CONTAINER_PACKED
    for _ in range(count):
        if version == 2:
            # a container is an rdb length, 1 or 2: a single byte when valid
            if pos >= end:
                raise RdbTruncated(needed=pos + 1)
            container = buf[pos]
            pos += 1
            if (container != QUICKLIST_NODE_CONTAINER_PACKED
                    and container != QUICKLIST_NODE_CONTAINER_PLAIN):
                raise RdbError("Quicklist integrity check failed.")
        blob, pos = read_string(buf, pos, end)
        if not blob:
            raise RdbError("Quicklist node of zero bytes")
        if container == QUICKLIST_NODE_CONTAINER_PLAIN:
            out.append(bytes(blob))
        elif version == 2:
            out.extend(listpack.decode(blob))
        else:
            out.extend(ziplist.decode(blob))   # an empty node is skipped, as Redis does
    return "list", out, pos


def _hash_listpack(blob):
    items = listpack.decode(blob)
    fields = items[0::2]
    if len(items) & 1:
        raise RdbError("Hash listpack with an odd number of entries")
    if len(set(fields)) != len(fields):
        raise RdbError("Duplicate hash fields detected")
    return "hash", list(zip(fields, items[1::2]))


def _zset_listpack(blob):
    return "zset", _zset_from_flat(listpack.decode(blob), "Zset listpack")


def _set_intset(blob):
    return "set", intset.decode(blob)


def _list_ziplist(blob):
    return "list", ziplist.decode(blob)


def _hash_ziplist(blob):
    pairs = _pairs(ziplist.decode(blob), "Hash ziplist")
    _no_dups([f for f, _ in pairs], "hash fields")
    return "hash", pairs


def _zset_ziplist(blob):
    return "zset", _zset_from_flat(ziplist.decode(blob), "Zset ziplist")


def _hash_zipmap(blob):
    pairs = zipmap.decode(blob)
    _no_dups([f for f, _ in pairs], "hash fields")
    return "hash", pairs


def _blob_type(decode_blob):
    """The decoder of a type whose value is one RDB string holding a blob."""
    def decode(buf, pos, end):
        if pos < end and buf[pos] < 64:               # a short blob, read inline
            q = pos + 1 + buf[pos]
            if q > end:
                raise RdbTruncated(needed=q)
            kind, value = decode_blob(buf[pos + 1:q])
            return kind, value, q
        blob, pos = read_string(buf, pos, end)
        kind, value = decode_blob(blob)
        return kind, value, pos
    return decode


DECODERS = {
    RDB_TYPE_STRING: _string,
    RDB_TYPE_LIST: _list_plain,
    RDB_TYPE_SET: _set_plain,
    RDB_TYPE_ZSET: lambda b, p, e: _zset_plain(b, p, e, False),
    RDB_TYPE_ZSET_2: lambda b, p, e: _zset_plain(b, p, e, True),
    RDB_TYPE_HASH: _hash_plain,
    RDB_TYPE_LIST_QUICKLIST: lambda b, p, e: _quicklist(b, p, e, 1),
    RDB_TYPE_LIST_QUICKLIST_2: lambda b, p, e: _quicklist(b, p, e, 2),
    RDB_TYPE_STREAM_LISTPACKS: lambda b, p, e: ("stream", *read_stream(b, p, e, 1)),
    RDB_TYPE_STREAM_LISTPACKS_2: lambda b, p, e: ("stream", *read_stream(b, p, e, 2)),
}
for _t, _f in ((RDB_TYPE_HASH_ZIPMAP, _hash_zipmap), (RDB_TYPE_LIST_ZIPLIST, _list_ziplist),
               (RDB_TYPE_SET_INTSET, _set_intset), (RDB_TYPE_ZSET_ZIPLIST, _zset_ziplist),
               (RDB_TYPE_HASH_ZIPLIST, _hash_ziplist), (RDB_TYPE_HASH_LISTPACK, _hash_listpack),
               (RDB_TYPE_ZSET_LISTPACK, _zset_listpack)):
    DECODERS[_t] = _blob_type(_f)
assert set(DECODERS) == set(KIND_OF_TYPE)


def decode_value(rdb_type: int, buf, pos: int = 0, end: int = None):
    """(kind, value, new_pos): the value of type `rdb_type` starting at buf[pos]."""
    if type(buf) is not bytes:
        buf = bytes(buf)        # values are slices of buf: make them bytes
    if end is None:
        end = len(buf)
    decoder = DECODERS.get(rdb_type)
    if decoder is None:
        raise RdbError(unsupported_type_message(rdb_type))
    return decoder(buf, pos, end)
