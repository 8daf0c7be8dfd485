"""Streams in RDB: RDB_TYPE_STREAM_LISTPACKS_2 (19, what Redis 7.0 writes) and the older
RDB_TYPE_STREAM_LISTPACKS (15, Redis 5/6), read and written (rdb.c: rdbSaveObject,
rdbLoadObject; t_stream.c: the node layout).

The neutral form (a dict), IDs as ints `ms << 64 | seq`:

    nodes           [(master_id, master_fields, [(id, deleted, [f1, v1, f2, v2...])...])...]
    length, last_id, first_id, max_deleted_id, entries_added
    groups          [(name, last_id, entries_read (-1: unknown),
                      pel [(id, delivery_time_ms, delivery_count)...],
                      consumers [(name, seen_time_ms, [id...])...])...]

The body of type 19:

    <len: node count> then per node <string: 16-byte master ID, big-endian ms, seq>
                                    <string: the node's listpack>
    <len: length> <len: last ms> <len: last seq>
    <len: first ms> <len: first seq> <len: max deleted ms> <len: max deleted seq>
    <len: entries added>                         (these five: type 19 only)
    <len: group count> then per group
        <string: name> <len: last ms> <len: last seq>
        <len: entries read, 2**64-1 for unknown>   (type 19 only)
        <len: PEL size> then per entry <16 raw bytes: ID> <8 bytes LE: delivery time>
                                       <len: delivery count>
        <len: consumer count> then per consumer <string: name> <8 bytes LE: seen time>
                                       <len: PEL size> <16 raw bytes: ID>...

A node's listpack: the master entry `count deleted numfields field... 0`, then per entry
`flags ms-delta seq-delta [numfields field value... | value...] lp-count`, where flags
has 1 for deleted and 2 when the fields are the master's (then only values follow), the
deltas are from the master ID (int64, wrapping), and lp-count counts the entry's
elements after itself for backward walks.
"""
import struct

from commands.rdb import listpack
from commands.rdb.errors import RdbError, RdbTruncated
from commands.rdb.rdb_strings import encode_length, encode_string, read_length, read_string

FLAG_DELETED = 1
FLAG_SAMEFIELDS = 2
U64 = (1 << 64) - 1
_MS = struct.Struct("<q")
_ID = struct.Struct(">QQ")


def _as_int64(v: int) -> int:
    return ((v + (1 << 63)) & U64) - (1 << 63)


def _id_bytes(sid: int) -> bytes:
    return _ID.pack(sid >> 64, sid & U64)


def node_listpack(master: int, master_fields, entries) -> bytes:
    """The listpack Redis would hold for one node."""
    enc_int = listpack.encode_int
    live = sum(1 for _, deleted, _ in entries if not deleted)
    out = [enc_int(live), enc_int(len(entries) - live), enc_int(len(master_fields))]
    out += listpack.encode_entries(master_fields)
    out.append(enc_int(0))
    nfields = len(master_fields)
    for sid, deleted, flat in entries:
        n = len(flat) // 2
        same = n == nfields and all(flat[2 * i] == master_fields[i] for i in range(n))
        flags = (FLAG_DELETED if deleted else 0) | (FLAG_SAMEFIELDS if same else 0)
        out.append(enc_int(flags))
        out.append(enc_int(_as_int64((sid >> 64) - (master >> 64))))
        out.append(enc_int(_as_int64((sid & U64) - (master & U64))))
        if same:
            out += listpack.encode_entries(flat[1::2])
            lp_count = n + 3
        else:
            out.append(enc_int(n))
            out += listpack.encode_entries(flat)
            lp_count = 2 * n + 4
        out.append(enc_int(lp_count))
    return listpack.assemble(out, len(out))


def write_stream(parts: list, value: dict, compress: bool) -> None:
    """Append the type-19 body of a neutral stream to `parts`."""
    nodes = value["nodes"]
    parts.append(encode_length(len(nodes)))
    for master, master_fields, entries in nodes:
        parts.append(encode_string(_id_bytes(master), compress))
        parts.append(encode_string(node_listpack(master, master_fields, entries), compress))
    parts.append(encode_length(value["length"]))
    for sid in (value["last_id"], value["first_id"], value["max_deleted_id"]):
        parts.append(encode_length(sid >> 64))
        parts.append(encode_length(sid & U64))
    parts.append(encode_length(value["entries_added"]))
    groups = value["groups"]
    parts.append(encode_length(len(groups)))
    for name, last_id, entries_read, pel, consumers in groups:
        parts.append(encode_string(name, compress))
        parts.append(encode_length(last_id >> 64))
        parts.append(encode_length(last_id & U64))
        parts.append(encode_length(entries_read & U64))
        parts.append(encode_length(len(pel)))
        for sid, delivery_time, delivery_count in pel:
            parts.append(_id_bytes(sid))
            parts.append(_MS.pack(delivery_time))
            parts.append(encode_length(delivery_count))
        parts.append(encode_length(len(consumers)))
        for cname, seen_time, ids in consumers:
            parts.append(encode_string(cname, compress))
            parts.append(_MS.pack(seen_time))
            parts.append(encode_length(len(ids)))
            parts.extend(_id_bytes(sid) for sid in ids)


# ---------------------------------------------------------------- reading

def _bad(why) -> RdbError:
    return RdbError("Stream integrity check failed: " + why)


def _int(item: bytes) -> int:
    try:
        return int(item)
    except ValueError:
        raise _bad("an integer field holds a string") from None


def parse_node(master: int, blob: bytes):
    """(master_fields, entries) of one node's listpack, validated like
    streamValidateListpackIntegrity(deep)."""
    items = listpack.decode(blob)
    if len(items) < 4:
        raise _bad("a node shorter than its master entry")
    live, deleted, nfields = _int(items[0]), _int(items[1]), _int(items[2])
    if live < 0 or deleted < 0 or nfields < 0 or len(items) < 4 + nfields:
        raise _bad("bad master entry")
    master_fields = items[3:3 + nfields]
    p = 3 + nfields
    if _int(items[p]) != 0:
        raise _bad("no master entry terminator")
    p += 1
    entries = []
    seen_deleted = 0
    for _ in range(live + deleted):
        if p + 3 > len(items):
            raise _bad("entries past the end")
        flags, ms_delta, seq_delta = _int(items[p]), _int(items[p + 1]), _int(items[p + 2])
        p += 3
        if flags & FLAG_SAMEFIELDS:
            values = items[p:p + nfields]
            if len(values) != nfields:
                raise _bad("entry past the end")
            p += nfields
            flat = [x for pair in zip(master_fields, values) for x in pair]
            expected = nfields + 3
        else:
            if p >= len(items):
                raise _bad("entry past the end")
            n = _int(items[p])
            p += 1
            if n < 0 or p + 2 * n > len(items):
                raise _bad("entry past the end")
            flat = items[p:p + 2 * n]
            p += 2 * n
            expected = 2 * n + 4
        if p >= len(items) or _int(items[p]) != expected:
            raise _bad("bad lp-count")
        p += 1
        ms = ((master >> 64) + ms_delta) & U64
        seq = ((master & U64) + seq_delta) & U64
        if flags & FLAG_DELETED:
            seen_deleted += 1
        entries.append(((ms << 64) | seq, bool(flags & FLAG_DELETED), flat))
    if p != len(items):
        raise _bad("trailing elements in a node")
    if seen_deleted != deleted:
        raise _bad("deleted count mismatch")
    return master_fields, entries


def _raw(buf, pos, end, n):
    if pos + n > end:
        raise RdbTruncated(needed=pos + n)
    return buf[pos:pos + n], pos + n


def _stream_id(buf, pos, end):
    raw, pos = _raw(buf, pos, end, 16)
    ms, seq = _ID.unpack(raw)
    return (ms << 64) | seq, pos


def _len_id(buf, pos, end):
    ms, pos = read_length(buf, pos, end)
    seq, pos = read_length(buf, pos, end)
    return (ms << 64) | seq, pos


def read_stream(buf, pos: int, end: int, version: int):
    """(neutral stream, new pos) from a type 15 (version 1) or 19 (version 2) body."""
    count, pos = read_length(buf, pos, end)
    nodes = []
    masters = set()
    for _ in range(count):
        key, pos = read_string(buf, pos, end)
        if len(key) != 16:
            raise _bad("Stream node key entry is not the size of a stream ID")
        blob, pos = read_string(buf, pos, end)
        ms, seq = _ID.unpack(key)
        master = (ms << 64) | seq
        if master in masters:
            raise _bad("Listpack re-added with existing key")
        masters.add(master)
        fields, entries = parse_node(master, blob)
        if not entries:
            raise _bad("Empty listpack inside stream")
        nodes.append((master, fields, entries))
    nodes.sort(key=lambda node: node[0])
    length, pos = read_length(buf, pos, end)
    last_id, pos = _len_id(buf, pos, end)
    live = [sid for _, _, entries in nodes for sid, deleted, _ in entries if not deleted]
    if version == 2:
        first_id, pos = _len_id(buf, pos, end)
        max_deleted_id, pos = _len_id(buf, pos, end)
        entries_added, pos = read_length(buf, pos, end)
    else:
        max_deleted_id = 0
        entries_added = length
        first_id = live[0] if live else U64 << 64 | U64
    stream = {"nodes": nodes, "length": length, "last_id": last_id, "first_id": first_id,
              "max_deleted_id": max_deleted_id, "entries_added": entries_added,
              "groups": []}
    ngroups, pos = read_length(buf, pos, end)
    for _ in range(ngroups):
        name, pos = read_string(buf, pos, end)
        group_last, pos = _len_id(buf, pos, end)
        if version == 2:
            entries_read, pos = read_length(buf, pos, end)
            if entries_read == U64:
                entries_read = -1
        else:
            entries_read = _estimate_distance(stream, group_last)
        npel, pos = read_length(buf, pos, end)
        pel = []
        for _ in range(npel):
            sid, pos = _stream_id(buf, pos, end)
            raw, pos = _raw(buf, pos, end, 8)
            delivery_count, pos = read_length(buf, pos, end)
            pel.append((sid, _MS.unpack(raw)[0], delivery_count))
        nconsumers, pos = read_length(buf, pos, end)
        consumers = []
        for _ in range(nconsumers):
            cname, pos = read_string(buf, pos, end)
            raw, pos = _raw(buf, pos, end, 8)
            nids, pos = read_length(buf, pos, end)
            ids = []
            for _ in range(nids):
                sid, pos = _stream_id(buf, pos, end)
                ids.append(sid)
            consumers.append((cname, _MS.unpack(raw)[0], ids))
        stream["groups"].append((name, group_last, entries_read, pel, consumers))
    return stream, pos


def _estimate_distance(stream, sid: int) -> int:
    """streamEstimateDistanceFromFirstEverEntry, for groups of a type-15 stream."""
    added, length = stream["entries_added"], stream["length"]
    if not added:
        return 0
    if not length and sid <= stream["last_id"]:
        return added
    if sid == stream["last_id"]:
        return added
    if sid > stream["last_id"]:
        return -1
    if sid < stream["first_id"]:
        return added - length
    if sid == stream["first_id"]:
        return added - length + 1
    return -1
