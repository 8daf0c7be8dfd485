"""The full-sync snapshot: the dataset as a sequence of chunks, one or more hash slots each.

Redis forks and writes an RDB. We cannot fork a gevent process usefully and must not hold
a second copy of the data, but the keyspace is already one dict per hash slot, so the
master serializes a few slots at a time into a chunk (~64 KB), sends it and lets other
greenlets run before the next one (replication.py explains how writes made meanwhile stay
consistent with it). Memory is bounded by one chunk plus what the socket has not taken.

Wire format, inside the replication stream (RESP bulk strings, told apart from the RESP
arrays of replicated commands by their type byte):

    $<len>\\r\\nS<msgpack [first_slot, end_slot]><msgpack [slot, entries]>...\\r\\n
    $<len>\\r\\nE<msgpack [offset]>\\r\\n

An `S` chunk covers the slots first_slot .. end_slot-1 *exactly*: the replica empties
each of them before loading the chunk's keys, so whatever it applied for those slots
before (commands queued ahead of the chunk) is replaced by the master's state as of the
moment the chunk was built. Only non-empty slots have an entry. `entries` is flat,
four items per key: key, type (0 for a string, else the type name of the value codec in
commands/data/value_codec.py), neutral value, absolute expire time in unix ms (0: none).

`E` ends the snapshot and carries the master's replication offset at that moment: the
replica's offset from then on.

Pure functions over a Keyspace: no sockets, no greenlets.
"""
import msgpack

from cluster.slots import CLUSTER_SLOTS
from commands.data.keyspace import now_ms
from commands.data.value_codec import from_saved, to_saved

CHUNK_BUDGET = 64 * 1024          # bytes of packed slots per chunk (whole slots: may exceed)

SLOTS_TAG = b"S"
END_TAG = b"E"


class SnapshotError(Exception):
    pass


def _bulk(payload: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(payload), payload)


def encode_slots(keyspace, start: int, budget: int = CHUNK_BUDGET):
    """(chunk bytes, next slot): whole slots from `start` until `budget` bytes are packed
    or the last slot is done. Never yields: every slot is serialized atomically."""
    slots = keyspace.slots
    expires = keyspace.expires
    now = now_ms()
    parts = []
    size = 0
    slot = start
    while slot < CLUSTER_SLOTS:
        table = slots[slot]
        slot += 1
        if not table:
            continue
        entries = []
        add = entries.extend
        for key, value in table.items():
            when = expires.get(key, 0) if expires else 0
            if when and when < now:
                continue              # logically gone: the master will DEL it anyway
            kind = type(value)
            if kind is bytes:
                add((key, 0, value, when))
            elif kind is bytearray:
                add((key, 0, bytes(value), when))
            else:
                name, neutral, _ = to_saved(value)
                add((key, name, neutral, when))
        packed = msgpack.packb([slot - 1, entries], use_bin_type=True)
        parts.append(packed)
        size += len(packed)
        if size >= budget:
            break
    header = msgpack.packb([start, slot])
    return _bulk(SLOTS_TAG + header + b"".join(parts)), slot


def encode_end(offset: int) -> bytes:
    return _bulk(END_TAG + msgpack.packb([offset]))


def load_chunk(keyspace, payload: bytes):
    """Apply one chunk on the replica. Returns ("slots", keys loaded) or ("end", offset).
    Raises SnapshotError on anything malformed (the replica drops the link)."""
    tag = payload[:1]
    try:
        if tag == END_TAG:
            offset, = msgpack.unpackb(payload[1:])
            if type(offset) is not int or offset < 0:
                raise SnapshotError("bad end-of-snapshot offset")
            return "end", offset
        if tag != SLOTS_TAG:
            raise SnapshotError("unknown snapshot chunk type %r" % tag)
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False,
                                    max_buffer_size=max(len(payload), 1024 * 1024))
        unpacker.feed(memoryview(payload)[1:])
        first, end = next(unpacker)
        if not 0 <= first <= end <= CLUSTER_SLOTS:
            raise SnapshotError("bad slot range %r..%r" % (first, end))
        for slot in range(first, end):
            if keyspace.slots[slot]:
                keyspace.delete_slot(slot)
        loaded = 0
        now = now_ms()
        for slot, entries in unpacker:
            if not first <= slot < end:
                raise SnapshotError("slot %r outside the chunk's range" % slot)
            for i in range(0, len(entries), 4):
                key, kind, plain, when = entries[i:i + 4]
                if when and when < now:
                    continue
                value = plain if kind == 0 else from_saved(kind, plain)
                keyspace.set(key, value, slot=slot)
                if when:
                    keyspace.expire_at(key, when)
                loaded += 1
        return "slots", loaded
    except SnapshotError:
        raise
    except Exception as exc:          # noqa: BLE001 - any decoding failure is "bad data"
        raise SnapshotError("malformed snapshot chunk: %r" % (exc,)) from None
