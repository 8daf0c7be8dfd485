"""The stream value type: entries in nodes like Redis's listpacks, consumer groups, PELs.

The data structure (issue 14, part 4). IDs are ints, `ms << 64 | seq`, so they compare,
sort and bisect as one number. Entries live in *nodes* that mirror Redis's rax of
listpacks: a node is keyed by its first ID (the master ID), holds at most
stream-node-max-entries entries (live + deleted) and at most stream-node-max-bytes of
listpack, and a deleted entry stays in its node as a tombstone until the whole node
empties. The node list only ever grows at its end (IDs only grow), so:

    XADD                  append to the last node, or start a node: O(1)
    XRANGE/XREAD by ID    bisect the nodes' first IDs, then the node's IDs: O(log N + K)
    XDEL                  bisect, mark a tombstone: O(log N); an emptied node leaves the
                          node list (a list delete: a memmove of N/100 pointers)
    trimming              drop whole nodes from the head (a slice), tombstone the rest

Why not a SortedDict keyed by (ms, seq): appends are the common case and an append to
the last node is cheaper in time and memory than a sorted container's insert (IDs only
grow, so the order is free), and keeping Redis's node boundaries is what makes
approximate trimming (MAXLEN ~, MINID ~), the LIMIT of trimming and XINFO's
radix-tree-keys/-nodes agree with redis-server exactly. To know a node's byte size as
Redis does, each entry's listpack size is computed when it is appended (the listpack
encoder's rules, commands/rdb/listpack.py, without building the bytes).

Memory: a node keeps its IDs in two arrays of 64-bit words and its contents in one
bytearray (values only for an entry whose field names are the master's, as Redis's
SAMEFIELDS entries), so a 1M-entry stream of one field and a 10-byte value costs about
2x redis-server's used_memory (scripts/bench_streams.py), not the ~8x of one tuple of
bytes objects per entry. Consumer groups keep their PEL in a SortedDict (ID -> Nack),
each consumer its own SortedDict of the same Nacks.
"""
import struct
from array import array

from sortedcontainers import SortedDict

from commands.data.keyspace import now_ms
from commands.data.memory_model import ROBJ, jemalloc_size
from commands.data.value_types import register_type
from commands.rdb.rdb_strings import canonical_int

SEQ_BITS = 64
SEQ_MASK = (1 << 64) - 1
MAX_ID = (1 << 128) - 1
INVALID_ENTRIES_READ = -1         # Redis's SCG_INVALID_ENTRIES_READ

LISTPACK_MAX_SIZE = 1 << 30       # STREAM_LISTPACK_MAX_SIZE
FLAG_DELETED = 1
FLAG_SAMEFIELDS = 2


def make_id(ms: int, seq: int) -> int:
    return (ms << SEQ_BITS) | seq


def id_ms(sid: int) -> int:
    return sid >> SEQ_BITS


def id_seq(sid: int) -> int:
    return sid & SEQ_MASK


def format_id(sid: int) -> bytes:
    return b"%d-%d" % (sid >> SEQ_BITS, sid & SEQ_MASK)


def as_int64(v: int) -> int:
    """A uint64 difference as the int64 Redis stores it in the listpack (wrapping)."""
    return ((v + (1 << 63)) & SEQ_MASK) - (1 << 63)


def _int_size(v: int) -> int:
    """len(listpack.encode_int(v)), without building it (XADD's hot path)."""
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def _backlen_size(n: int) -> int:
    return 1 if n <= 127 else 2 if n < 16383 else 3 if n < 2097151 else \
        4 if n < 268435455 else 5


def _str_size(s: bytes) -> int:
    """len(listpack.encode_entry(s)): an integer entry when s is a canonical int64."""
    n = len(s)
    if n <= 20 and n and (48 <= s[0] <= 57 or s[0] == 45):
        v = canonical_int(s)
        if v is not None:
            return _int_size(v)
    if n < 64:
        return n + 2
    if n < 4096:
        return n + 2 + _backlen_size(n + 2)
    return n + 5 + _backlen_size(n + 5)


_LEN = struct.Struct("<I")
_pack_len = _LEN.pack
_unpack_len = _LEN.unpack_from


class Node:
    """One listpack node: its master ID and fields, its entries and their tombstones.

    Stored compactly (the memory of a million entries is mostly here): the IDs in two
    arrays of 64-bit words (ms, seq), and the entries' contents in one bytearray, each
    element prefixed by its 4-byte length, found through an array of offsets. An entry
    whose field names are the master's stores its values only (`same` flags it), like
    Redis's SAMEFIELDS entries; any other stores its element count, then fields and
    values interleaved."""

    __slots__ = ("master", "master_fields", "ms", "seq", "offsets", "blob", "same", "dead",
                 "live", "deleted", "entry_bytes", "master_bytes")

    def __init__(self, master: int, fields: tuple):
        self.master = master
        self.master_fields = fields
        self.ms = array("Q")
        self.seq = array("Q")
        self.offsets = array("I")   # where each entry starts in blob
        self.blob = bytearray()
        self.same = bytearray()     # 1 where the entry has the master's fields
        self.dead = None            # positions of tombstones (a set), None while none
        self.live = 0
        self.deleted = 0
        self.entry_bytes = 0        # listpack bytes of the entries (flags, deltas, ...)
        # numfields, the fields and the zero terminator of the master entry
        self.master_bytes = (_int_size(len(fields)) + sum(_str_size(f) for f in fields)
                             + _int_size(0))

    def __len__(self) -> int:
        return len(self.ms)

    def id_at(self, i: int) -> int:
        return (self.ms[i] << SEQ_BITS) | self.seq[i]

    def last_id(self) -> int:
        return self.id_at(len(self.ms) - 1)

    def bisect(self, sid: int) -> int:
        """The position of the first entry with an ID >= sid."""
        ms, seq = sid >> SEQ_BITS, sid & SEQ_MASK
        mss, seqs = self.ms, self.seq
        lo, hi = 0, len(mss)
        while lo < hi:
            mid = (lo + hi) // 2
            m = mss[mid]
            if m < ms or (m == ms and seqs[mid] < seq):
                lo = mid + 1
            else:
                hi = mid
        return lo

    def entry_at(self, i: int) -> tuple:
        """The entry's (f1, v1, f2, v2...)."""
        blob = self.blob
        pos = self.offsets[i]
        if self.same[i]:
            fields = self.master_fields
            if len(fields) == 1:
                return (fields[0], bytes(blob[pos + 4:pos + 4 + _unpack_len(blob, pos)[0]]))
            out = []
            for field in fields:
                n = _unpack_len(blob, pos)[0]
                out.append(field)
                out.append(bytes(blob[pos + 4:pos + 4 + n]))
                pos += 4 + n
            return tuple(out)
        count = _unpack_len(blob, pos)[0]
        pos += 4
        out = []
        for _ in range(count):
            n = _unpack_len(blob, pos)[0]
            out.append(bytes(blob[pos + 4:pos + 4 + n]))
            pos += 4 + n
        return tuple(out)

    def same_fields(self, flat) -> bool:
        mf = self.master_fields
        if len(flat) != 2 * len(mf):
            return False
        for i, f in enumerate(mf):
            if flat[2 * i] != f:
                return False
        return True

    def append(self, sid: int, flat: tuple) -> None:
        """Append an entry (an ID above the node's last)."""
        master = self.master
        numfields = len(flat) // 2
        same = self.same_fields(flat)
        size = (_int_size(FLAG_SAMEFIELDS if same else 0)
                + _int_size(as_int64((sid >> SEQ_BITS) - (master >> SEQ_BITS)))
                + _int_size(as_int64((sid & SEQ_MASK) - (master & SEQ_MASK))))
        blob = self.blob
        self.offsets.append(len(blob))
        if same:
            values = flat[1::2]
            size += sum(_str_size(v) for v in values)
            lp_count = numfields + 3
            for v in values:
                blob += _pack_len(len(v))
                blob += v
        else:
            size += _int_size(numfields) + sum(_str_size(x) for x in flat)
            lp_count = numfields * 2 + 4
            blob += _pack_len(len(flat))
            for x in flat:
                blob += _pack_len(len(x))
                blob += x
        size += _int_size(lp_count)
        self.entry_bytes += size
        self.ms.append(sid >> SEQ_BITS)
        self.seq.append(sid & SEQ_MASK)
        self.same.append(1 if same else 0)
        self.live += 1

    def is_dead(self, i: int) -> bool:
        return self.dead is not None and i in self.dead

    def kill(self, i: int) -> None:
        """Mark position i deleted (the caller checked it was live)."""
        if self.dead is None:
            self.dead = set()
        self.dead.add(i)
        self.live -= 1
        self.deleted += 1

    def first_live(self):
        for i in range(len(self.ms)):
            if not self.is_dead(i):
                return self.id_at(i)
        return None

    def last_live(self):
        for i in range(len(self.ms) - 1, -1, -1):
            if not self.is_dead(i):
                return self.id_at(i)
        return None

    def listpack_bytes(self) -> int:
        """lpBytes of this node as Redis would have it: header, count, deleted, the
        master entry, the entries, the terminator."""
        return (7 + _int_size(self.live) + _int_size(self.deleted) + self.master_bytes
                + self.entry_bytes)


class Nack:
    """A pending entry: delivered to `consumer` at `delivery_time`, `delivery_count`
    times (Redis's streamNACK)."""

    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, consumer, delivery_time=None, delivery_count=1):
        self.consumer = consumer
        self.delivery_time = now_ms() if delivery_time is None else delivery_time
        self.delivery_count = delivery_count


class Consumer:
    __slots__ = ("name", "seen_time", "pel")

    def __init__(self, name: bytes, seen_time=None):
        self.name = name
        self.seen_time = now_ms() if seen_time is None else seen_time
        self.pel = SortedDict()    # id -> Nack (the same objects as the group's)


class ConsumerGroup:
    __slots__ = ("last_id", "entries_read", "pel", "consumers")

    def __init__(self, last_id: int, entries_read: int = INVALID_ENTRIES_READ):
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel = SortedDict()    # id -> Nack
        self.consumers = {}        # name -> Consumer

    def sorted_consumers(self):
        """In Redis's rax order: by name, bytewise."""
        return [self.consumers[name] for name in sorted(self.consumers)]

    def lookup_consumer(self, name: bytes, refresh: bool = True):
        consumer = self.consumers.get(name)
        if consumer is not None and refresh:
            consumer.seen_time = now_ms()
        return consumer

    def create_consumer(self, name: bytes):
        """A new consumer, or None when the name exists."""
        if name in self.consumers:
            return None
        consumer = self.consumers[name] = Consumer(name)
        return consumer

    def delete_consumer(self, consumer) -> int:
        pending = len(consumer.pel)
        for sid in consumer.pel:
            del self.pel[sid]
        del self.consumers[consumer.name]
        return pending

    def ack(self, sid: int) -> bool:
        nack = self.pel.pop(sid, None)
        if nack is None:
            return False
        del nack.consumer.pel[sid]
        return True

    def assign(self, sid: int, nack, consumer) -> None:
        """Move a pending entry to `consumer` (its PEL follows)."""
        if nack.consumer is not consumer:
            if nack.consumer is not None:
                nack.consumer.pel.pop(sid, None)
            consumer.pel[sid] = nack
            nack.consumer = consumer


class StreamValue:
    """A Redis stream. `len()` is its number of live entries (a stream may be empty
    and still exist, unlike the other collections: it is never deleted for it)."""

    __slots__ = ("nodes", "starts", "length", "last_id", "first_id", "max_deleted_id",
                 "entries_added", "groups")

    def __init__(self):
        self.nodes = []            # Node, ascending by master ID
        self.starts = []           # each node's master ID, for bisect
        self.length = 0
        self.last_id = 0
        self.first_id = 0
        self.max_deleted_id = 0
        self.entries_added = 0
        self.groups = {}           # name -> ConsumerGroup

    def __len__(self) -> int:
        return self.length

    def __bool__(self) -> bool:
        return True                # an empty stream still exists

    # ------------------------------------------------------------ appending

    def append(self, sid: int, flat: tuple, max_entries: int, max_bytes: int) -> None:
        """Add an entry with an ID greater than last_id (the caller checked)."""
        node = self.nodes[-1] if self.nodes else None
        if node is not None:
            limit = max_bytes if 0 < max_bytes <= LISTPACK_MAX_SIZE else LISTPACK_MAX_SIZE
            total = sum(len(x) for x in flat)
            if node.listpack_bytes() + total >= limit:
                node = None
            elif max_entries and node.live + node.deleted >= max_entries:
                node = None
        if node is None:
            node = Node(sid, tuple(flat[0::2]))
            self.nodes.append(node)
            self.starts.append(sid)
        node.append(sid, flat)
        self.length += 1
        self.entries_added += 1
        self.last_id = sid
        if self.length == 1:
            self.first_id = sid

    # ------------------------------------------------------------ reading

    def _locate(self, sid: int):
        """(node index, position) of the first entry with ID >= sid (tombstones too)."""
        starts = self.starts
        lo, hi = 0, len(starts)
        while lo < hi:                       # last node whose master <= sid
            mid = (lo + hi) // 2
            if starts[mid] <= sid:
                lo = mid + 1
            else:
                hi = mid
        n = lo - 1
        if n < 0:
            return 0, 0
        node = self.nodes[n]
        i = node.bisect(sid)
        if i == len(node):
            return n + 1, 0
        return n, i

    def range(self, start: int, end: int, count: int = 0, rev: bool = False):
        """Live entries (id, flat) with start <= id <= end, at most `count` (0 = all)."""
        out = []
        if start > end or not self.nodes:
            return out
        nodes = self.nodes
        if not rev:
            n, i = self._locate(start)
            while n < len(nodes):
                node = nodes[n]
                mss, seqs, dead = node.ms, node.seq, node.dead
                while i < len(mss):
                    sid = (mss[i] << SEQ_BITS) | seqs[i]
                    if sid > end:
                        return out
                    if dead is None or i not in dead:
                        out.append((sid, node.entry_at(i)))
                        if count and len(out) >= count:
                            return out
                    i += 1
                n += 1
                i = 0
            return out
        n, i = self._locate(end + 1) if end < MAX_ID else (len(nodes), 0)
        i -= 1
        if i < 0:
            n -= 1
            if n < 0:
                return out
            i = len(nodes[n]) - 1
        while n >= 0:
            node = nodes[n]
            mss, seqs, dead = node.ms, node.seq, node.dead
            while i >= 0:
                sid = (mss[i] << SEQ_BITS) | seqs[i]
                if sid < start:
                    return out
                if sid <= end and (dead is None or i not in dead):
                    out.append((sid, node.entry_at(i)))
                    if count and len(out) >= count:
                        return out
                i -= 1
            n -= 1
            if n >= 0:
                i = len(nodes[n]) - 1
        return out

    def get(self, sid: int):
        """The fields of a live entry, or None."""
        n, i = self._locate(sid)
        if n < len(self.nodes):
            node = self.nodes[n]
            if node.id_at(i) == sid and not node.is_dead(i):
                return node.entry_at(i)
        return None

    def last_valid_id(self) -> int:
        """streamLastValidID: the ID of the last live entry (0 when empty)."""
        for node in reversed(self.nodes):
            sid = node.last_live()
            if sid is not None:
                return sid
        return 0

    def _first_valid_id(self) -> int:
        for node in self.nodes:
            sid = node.first_live()
            if sid is not None:
                return sid
        return 0

    # ------------------------------------------------------------ deleting

    def delete(self, sid: int) -> bool:
        """XDEL one ID: tombstone it (a node with no live entry left goes)."""
        n, i = self._locate(sid)
        if n >= len(self.nodes):
            return False
        node = self.nodes[n]
        if node.id_at(i) != sid or node.is_dead(i):
            return False
        self.length -= 1
        if node.live == 1:
            del self.nodes[n]
            del self.starts[n]
        else:
            node.kill(i)
        return True

    def after_deletions(self, first_deleted: bool) -> None:
        """XDEL's bookkeeping of the first ID (streamGetEdgeID when the first went)."""
        if self.length == 0:
            self.first_id = 0
        elif first_deleted:
            self.first_id = self._first_valid_id()

    def trim(self, maxlen=None, minid=None, approx=False, limit=0) -> int:
        """streamTrim: by length (maxlen) or by ID (minid); returns how many entries
        went. Whole nodes first; approx stops at the first node it cannot drop whole;
        limit (0 = none) caps the entries removed, counted in whole nodes."""
        deleted = 0
        drop = 0
        nodes = self.nodes
        while drop < len(nodes):
            if maxlen is not None and self.length <= maxlen:
                break
            node = nodes[drop]
            entries = node.live
            if limit and deleted + entries > limit:
                break
            if maxlen is not None:
                remove = self.length - entries >= maxlen
            else:
                remove = node.last_id() < minid
            if remove:
                self.length -= entries
                deleted += entries
                drop += 1
                continue
            if approx:
                break
            for i in range(len(node)):
                sid = node.id_at(i)
                if maxlen is not None:
                    if self.length <= maxlen:
                        break
                elif sid >= minid:
                    break
                if not node.is_dead(i):
                    node.kill(i)
                    self.length -= 1
                    deleted += 1
            break
        if drop:
            del nodes[:drop]
            del self.starts[:drop]
        if self.length == 0:
            self.first_id = 0
        elif deleted:
            self.first_id = self._first_valid_id()
        return deleted

    # ------------------------------------------------------------ groups and counters

    def range_has_tombstones(self, start: int, end: int = MAX_ID) -> bool:
        md = self.max_deleted_id
        if not self.length or md == 0:
            return False
        if self.first_id > md:
            return False
        return start <= md <= end

    def estimate_distance(self, sid: int) -> int:
        """streamEstimateDistanceFromFirstEverEntry: the entries-read counter of `sid`,
        or INVALID_ENTRIES_READ when it cannot be known."""
        if not self.entries_added:
            return 0
        if not self.length and sid <= self.last_id:
            return self.entries_added
        if sid == self.last_id:
            return self.entries_added
        if sid > self.last_id:
            return INVALID_ENTRIES_READ
        md = self.max_deleted_id
        if md == 0 or md < self.first_id:
            if sid < self.first_id:
                return self.entries_added - self.length
            if sid == self.first_id:
                return self.entries_added - self.length + 1
        return INVALID_ENTRIES_READ

    def group_lag(self, group):
        """The lag XINFO reports (None = unknown)."""
        if not self.entries_added:
            return 0
        if group.entries_read != INVALID_ENTRIES_READ and \
                not self.range_has_tombstones(group.last_id):
            return self.entries_added - group.entries_read
        read = self.estimate_distance(group.last_id)
        if read != INVALID_ENTRIES_READ:
            return self.entries_added - read
        return None

    def group_delivered(self, group, sid: int) -> None:
        """A group's last ID moves to `sid` (an entry handed out past it)."""
        if group.entries_read != INVALID_ENTRIES_READ and \
                not self.range_has_tombstones(sid):
            group.entries_read += 1
        elif self.entries_added:
            group.entries_read = self.estimate_distance(sid)
        group.last_id = sid

    def sorted_groups(self):
        return [(name, self.groups[name]) for name in sorted(self.groups)]


# ---------------------------------------------------------------- neutral form

def to_neutral(s: StreamValue) -> dict:
    """The neutral form (commands/rdb/stream_listpacks.py documents it)."""
    nodes = []
    for node in s.nodes:
        entries = [(sid, node.is_dead(i), list(flat))
                   for i, (sid, flat) in enumerate((node.id_at(j), node.entry_at(j))
                                                   for j in range(len(node)))]
        nodes.append((node.master, list(node.master_fields), entries))
    groups = []
    for name, g in s.sorted_groups():
        pel = [(sid, n.delivery_time, n.delivery_count) for sid, n in g.pel.items()]
        consumers = [(c.name, c.seen_time, list(c.pel.keys())) for c in g.sorted_consumers()]
        groups.append((name, g.last_id, g.entries_read, pel, consumers))
    return {"nodes": nodes, "length": s.length, "last_id": s.last_id,
            "first_id": s.first_id, "max_deleted_id": s.max_deleted_id,
            "entries_added": s.entries_added, "groups": groups}


def from_neutral(n: dict) -> StreamValue:
    s = StreamValue()
    prev = -1
    length = 0
    for master, master_fields, entries in n["nodes"]:
        if not entries:
            raise ValueError("an empty stream node")
        node = Node(master, tuple(master_fields))
        for sid, deleted, flat in entries:
            if sid <= prev or len(flat) % 2 or not flat or sid < master \
                    or any(type(x) is not bytes for x in flat):
                raise ValueError("bad stream entry")
            prev = sid
            node.append(sid, tuple(flat))
            if deleted:
                node.kill(len(node) - 1)
            else:
                length += 1
        if node.live == 0:
            raise ValueError("a stream node without live entries")
        s.nodes.append(node)
        s.starts.append(master)
    if length != n["length"]:
        raise ValueError("stream length mismatch")
    s.length = length
    s.last_id = n["last_id"]
    s.first_id = n["first_id"]
    s.max_deleted_id = n["max_deleted_id"]
    s.entries_added = n["entries_added"]
    if s.nodes and s.last_id < prev:
        raise ValueError("stream last ID below its entries")
    for name, last_id, entries_read, pel, consumers in n["groups"]:
        if name in s.groups:
            raise ValueError("duplicate consumer group")
        g = s.groups[name] = ConsumerGroup(last_id, entries_read)
        for sid, delivery_time, delivery_count in pel:
            g.pel[sid] = Nack(None, delivery_time, delivery_count)
        for cname, seen_time, ids in consumers:
            if cname in g.consumers:
                raise ValueError("duplicate consumer")
            c = g.consumers[cname] = Consumer(cname, seen_time)
            for sid in ids:
                nack = g.pel.get(sid)
                if nack is None or nack.consumer is not None:
                    raise ValueError("consumer PEL entry not in the group PEL")
                nack.consumer = c
                c.pel[sid] = nack
        if any(nack.consumer is None for nack in g.pel.values()):
            raise ValueError("group PEL entry without a consumer")
    return s


def copy_stream(s: StreamValue) -> StreamValue:
    return from_neutral(to_neutral(s))


STREAM_STRUCT = 88               # sizeof(stream)
STREAM_PREALLOC = 4096           # a stream's last listpack is allocated this big at first
CG_STRUCT, CONSUMER_STRUCT, NACK_STRUCT = 48, 40, 24


def _rax_memory(elements: int) -> int:
    """streamRadixTreeMemoryUsage: 16 bytes an ID, and per radix node its header and
    the ~30 words of children and data pointers Redis's recipe charges (we count one
    node per element, which is what a rax of 128-bit IDs mostly has)."""
    return elements * 16 + (elements + 1) * (4 + 8 * 30)


def stream_memory(s, samples: int) -> int:
    """objectComputeSize of a stream: the rax of nodes, the first `samples` listpacks'
    average for all but the last node, the last one as allocated, and every consumer
    group's PEL and consumers (not sampled, as in Redis)."""
    size = ROBJ + STREAM_STRUCT + _rax_memory(len(s.nodes))
    nodes = s.nodes
    if nodes:
        head = nodes if samples <= 0 else nodes[:samples]
        sizes = [jemalloc_size(n.listpack_bytes()) for n in head]
        if len(nodes) <= len(head):
            size += sum(sizes[:-1])
        else:
            size += sum(sizes) // len(sizes) * (len(nodes) - 1)
        size += jemalloc_size(max(STREAM_PREALLOC, nodes[-1].listpack_bytes()))
    for group in s.groups.values():
        size += CG_STRUCT + _rax_memory(len(group.pel)) + NACK_STRUCT * len(group.pel)
        for consumer in group.consumers.values():
            size += CONSUMER_STRUCT + len(consumer.name) + _rax_memory(len(consumer.pel))
    return size


register_type(StreamValue, "stream", lambda value: "stream", copy_stream, to_neutral,
              from_neutral, memory=stream_memory)
