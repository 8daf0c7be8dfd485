"""The data: key -> value, expiry, and the per-slot key index.

Keys live in one dict per hash slot. That *is* the per-slot index the cluster needs
(COUNTKEYSINSLOT is len(), GETKEYSINSLOT and deleting a slot's keys touch only that slot)
and it costs no memory beyond the dicts themselves. A slot's dict maps each key to its
*position* in two lists of that slot: `values` (the value objects) and `clocks` (the
key's access time, see below). The positions are small ints, which CPython does not
allocate (and above 256 they are shared, see _shared_position), so a key costs its dict
entry and two list cells. A deleted key leaves a hole (None) in the lists; a slot's
lists are compacted when holes outnumber its keys, and emptied with it. The per-slot
dicts also give SCAN an exact guarantee: the cursor walks slots, and a slot's keys are
returned together, so a key present for the whole scan is returned exactly once. The
walks over whole slots (SCAN, RANDOMKEY, a slot's keys) are in keyspace_views.py, a
mixin of Keyspace.

Values are Python objects: bytes or bytearray for strings (bytearray once modified in
place by APPEND/SETRANGE, which is Redis's "raw" encoding), other types register their
class in TYPE_NAMES.

Memory: `used_memory` is a running total of what Redis would allocate for the keys
(commands/data/memory_model.py), adjusted where keys come and go -- set(), _remove(),
flush() -- so it costs a few integer operations on the write path and nothing on reads.
A string value's share is computed from its length whenever needed (bytes never change);
any other value's share is remembered in `sizes`, and a value changed in place (every
such command calls modified()) is only noted in `resized`: settle_memory() re-estimates
those keys when the figure is read (INFO, MEMORY, the maxmemory check, the cron).

Access times: a key's cell in its slot's `clocks` holds the LRU clock (seconds) of its
last access; every read and write stores it, one list store (Redis keeps the same 24-bit
field in each object). Kept in a dict of its own, key -> clock, it cost 42 bytes a key,
about a quarter of a small string key's memory; as a list cell it costs 8. Under an LFU
maxmemory-policy each slot's `clocks` is an LfuCells (commands/data/eviction.py), whose
item assignment is Redis's updateLFU instead, so the access path stays the same
statement. None in a cell: no access known since the policy changed (idle 0, or a new
key's LFU counter).

Expiry: absolute unix times in ms in `expires`. Keys are expired lazily on access and by
`active_expire_cycle`, which samples keys with a TTL at random and repeats while more than
a quarter of a sample was expired, like Redis's activeExpireCycle. Sampling at random
needs O(1) random access, so keys with a TTL are also kept in a list (`_ttl_keys`, with
their positions in `_ttl_pos`).
"""
import random
import time

from cluster.slots import CLUSTER_SLOTS, key_hash_slot
from commands.data.eviction import KeyAccessTimes
from commands.data.keyspace_views import KeyspaceViews, now_ms
from commands.data.memory_model import EXPIRE_ENTRY, STRING_KEY_COST, accounted_size
from commands.data.notifications import KeyWatchers, notify_keyspace_event

TYPE_NAMES = {bytes: "string", bytearray: "string"}

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"

ACTIVE_EXPIRE_SAMPLE = 20           # keys per loop at active-expire-effort 1
ACTIVE_EXPIRE_ACCEPTABLE_STALE = 10  # percent of a sample expired that ends the cycle


slot_of = key_hash_slot  # the node's one CRC16 (cluster/slots.py), under its old name here

# Key positions above 256 as shared int objects (CPython keeps only -5..256 as singletons):
# in a slot of thousands of keys (hash tags) each position would otherwise be a 32-byte
# int of its own. Grown on demand to twice the largest position asked for.
_POSITIONS = list(range(512))


def _shared_position(pos: int) -> int:
    if pos >= len(_POSITIONS):
        _POSITIONS.extend(range(len(_POSITIONS), 2 * pos))
    return _POSITIONS[pos]


class ExpireCycleStats:
    """The active expire cycle's INFO stats: the running estimate of the share of keys
    with a TTL that had expired (each cycle weighs 5%, as Redis's), the cycles cut short
    by their time budget, the µs spent, and the last cycle's µs (LATENCY
    "expire-cycle")."""

    def __init__(self):
        self.stale_perc = 0.0
        self.time_cap_reached = 0
        self.time_used_us = 0
        self.last_cycle_us = 0

    def cycle_done(self, elapsed_us: int, stale: float) -> None:
        self.last_cycle_us = elapsed_us
        self.time_used_us += elapsed_us
        self.stale_perc = stale * 0.05 + self.stale_perc * 0.95


class Keyspace(KeyspaceViews, KeyAccessTimes, KeyWatchers):
    def __init__(self):
        self.slots = [dict() for _ in range(CLUSTER_SLOTS)]     # key -> position
        self.values = [[] for _ in range(CLUSTER_SLOTS)]       # position -> value
        self.clocks = [[] for _ in range(CLUSTER_SLOTS)]       # position -> access time
        self.lfu = None              # the LfuClock under an LFU policy (use_lfu)
        self.size = 0
        self.expires = {}            # key -> unix ms
        self._ttl_keys = []          # keys with a TTL, for random sampling
        self._ttl_pos = {}           # key -> index in _ttl_keys
        self.watchers = {}           # key -> set of clients WATCHing it
        # Client-side caching (commands/server/tracking.py), while a client tracks keys.
        self.tracking = None
        # Does anyone want to hear of changed keys (WATCH or tracking)? One flag for
        # every write to test.
        self.key_hooks = False
        # fn() -> bool: while true, expired keys are not deleted (a client pause keeps
        # the dataset still, Redis's checkClientPauseTimeoutAndReturnIfPaused).
        self.expiry_held = None
        self.lru_clock = int(time.monotonic())
        self.used_memory = 0         # the keys' share of used_memory (see the module doc)
        self.sizes = {}              # key -> its share, for values other than bytes
        self.resized = set()         # keys whose value changed in place since settling
        self.expired_keys = 0        # INFO stats
        self.expire_stats = ExpireCycleStats()
        self.evicted_keys = 0
        self.keyspace_hits = 0
        self.keyspace_misses = 0
        self.dirty = 0               # changes since start (INFO rdb_changes_since_last_save)
        self.on_delete = None        # hook: fn(key) when a key is removed (expiry included)
        # hook: fn(key) for a removal no command asked for (expiry, a lost slot's keys),
        # which replicas learn as a DEL (commands/replication/propagation.py)
        self.propagate_deletion = None
        # Blocked clients (commands/server/blocking.py): key -> deque of waiters, and the keys
        # written since the last command that have waiters (Redis's ready_keys).
        self.blocking_keys = {}
        self.ready_keys = {}         # used as an ordered set
        self.active_expire_enabled = True   # DEBUG SET-ACTIVE-EXPIRE
        # On a replica (lazy_expire False) a key past its time reads as missing but stays
        # until the master's DEL removes it, and while the replica applies its master's
        # stream (master_applying) it is still there: Redis's expireIfNeeded.
        self.lazy_expire = True
        self.master_applying = False
        # Keyspace notifications (commands/data/notifications.py): the enabled classes
        # (0 = off, the default) and fn(channel, message) publishing to this node.
        self.notify_flags = 0
        self.notify_publish = None
        self._rng = random.Random()
        # The slot of the key the running command was routed by, as the serve loop's
        # fast path hashed it (connection.py), or as a command that hashed a key itself
        # says (the Router for a one-key command, MIGRATE): get(), lookup_read(), set(),
        # set_string() and delete() take it from here instead of hashing the key again. A key object and its slot never part (bytes
        # are immutable, and holding the key keeps it from being another object).
        self.hint_key = None
        self.hint_slot = 0
        # The same for every key of a request with several (MSET, MIGRATE ... KEYS): the
        # Router found them all in one slot (or refused the request with CROSSSLOT) and
        # says so for that argv list. A fact about the list's keys, so it holds for as
        # long as the list lives (the hint keeps it alive: no other list can be it).
        self.hint_argv = None
        self.hint_argv_slot = 0

    # ------------------------------------------------------------ reads

    def get(self, key: bytes, slot: int = -1):
        """The value of `key` or None; expires it first if its time has passed."""
        if slot < 0:
            slot = self.hint_slot if key is self.hint_key else slot_of(key)
        pos = self.slots[slot].get(key)
        if pos is None:
            return None
        # Redis's keyIsExpired: expired once the clock is *past* the expire time.
        if self.expires and key in self.expires and self.expires[key] < now_ms():
            if self.lazy_expire:
                self._expire(key, slot)
                return None
            if not self.master_applying:
                return None
        self.clocks[slot][pos] = self.lru_clock
        return self.values[slot][pos]

    def lookup_read(self, key: bytes):
        """get() that also counts keyspace hits and misses, for read commands. The
        hottest read (GET), so a key without a TTL is looked up here, without get()."""
        slot = self.hint_slot if key is self.hint_key else slot_of(key)
        pos = self.slots[slot].get(key)
        if pos is not None and self.expires and key in self.expires \
                and self.get(key, slot) is None:    # get() has the expiry rules
            pos = None
        if pos is None:
            self.keyspace_misses += 1
            if self.notify_flags:
                notify_keyspace_event(self, "m", b"keymiss", key)
            return None
        self.clocks[slot][pos] = self.lru_clock
        self.keyspace_hits += 1
        return self.values[slot][pos]

    def exists(self, key: bytes) -> bool:
        return self.get(key) is not None

    def is_live(self, key: bytes) -> bool:
        """Does the key exist and is it unexpired? Touches nothing, deletes nothing (the
        lookup Redis's routing makes for keys of a migrating slot)."""
        if self.slots[slot_of(key)].get(key) is None:
            return False
        when = self.expires.get(key)
        return when is None or when >= now_ms()

    def peek(self, key: bytes):
        """The value without touching its LRU time or expiring it (DEBUG, cluster checks)."""
        slot = slot_of(key)
        pos = self.slots[slot].get(key)
        return None if pos is None else self.values[slot][pos]

    def items(self):
        """(key, value) of every key in the table, expired or not, slot by slot (saves,
        AOF rewrites, DEBUG DIGEST). The keyspace must not change meanwhile."""
        for table, values in zip(self.slots, self.values):
            if table:
                for key, pos in table.items():
                    yield key, values[pos]

    def type_name(self, value) -> str:
        return TYPE_NAMES[type(value)]

    # ------------------------------------------------------------ writes

    def set(self, key: bytes, value, keep_ttl: bool = False, slot: int = -1) -> None:
        """Store `value`; the old TTL is dropped unless keep_ttl. A key past its time is
        expired first; a created key publishes 'new'."""
        if slot < 0:
            slot = self.hint_slot if key is self.hint_key else slot_of(key)
        table = self.slots[slot]
        pos = table.get(key)
        if pos is None:
            self.size += 1
            values = self.values[slot]
            pos = len(values)
            table[key] = pos if pos <= 256 else _shared_position(pos)
            values.append(value)
            self.clocks[slot].append(self.lru_clock)
            if type(value) is bytes:
                self.used_memory += len(key) + len(value) + STRING_KEY_COST
            else:
                self._account(key, value)
            if self.notify_flags:
                notify_keyspace_event(self, "n", b"new", key)    # Redis's dbAdd
        elif self.expires and key in self.expires and self.expires[key] < now_ms() \
                and self.lazy_expire and self._expire(key, slot):
            # Redis's setKey looks the key up first: an expired one is deleted (its
            # 'expired' event, a DEL for replicas) and the value then makes a new key.
            # (While a pause holds expiry, the old key is overwritten in place instead.)
            return self.set(key, value, keep_ttl, slot)
        else:
            values = self.values[slot]
            old = values[pos]
            values[pos] = value
            self.clocks[slot][pos] = self.lru_clock
            if type(value) is bytes and type(old) is bytes:
                self.used_memory += len(value) - len(old)
            else:
                self._unaccount(key, old)
                self._account(key, value)
        if not keep_ttl and key in self.expires:
            self._forget_ttl(key)
        self.dirty += 1
        if self.key_hooks:
            self.signal(key)
        if self.blocking_keys and key in self.blocking_keys:
            self.ready_keys[key] = None

    def set_string(self, key: bytes, value: bytes) -> None:
        """set() for plain SET key value, the hottest write: a new key or a string
        without a TTL is stored here with no more work than it needs; anything else
        (another type, a TTL to drop or an expired key to replace) takes set()."""
        slot = self.hint_slot if key is self.hint_key else slot_of(key)
        table = self.slots[slot]
        pos = table.get(key)
        if pos is None:
            values = self.values[slot]
            pos = len(values)
            table[key] = pos if pos <= 256 else _shared_position(pos)
            values.append(value)
            self.clocks[slot].append(self.lru_clock)
            self.size += 1
            self.used_memory += len(key) + len(value) + STRING_KEY_COST
            if self.notify_flags:
                notify_keyspace_event(self, "n", b"new", key)
        else:
            values = self.values[slot]
            old = values[pos]
            if type(old) is not bytes or (self.expires and key in self.expires):
                return self.set(key, value)
            values[pos] = value
            self.clocks[slot][pos] = self.lru_clock
            self.used_memory += len(value) - len(old)
        self.dirty += 1
        if self.key_hooks:
            self.signal(key)
        if self.blocking_keys and key in self.blocking_keys:
            self.ready_keys[key] = None

    def replace_string(self, key: bytes, value: bytes, slot: int) -> None:
        """set(key, value, keep_ttl=True) for a key whose value get() has just returned as
        bytes (INCR and its kin): replaced in place, its TTL kept, as Redis overwrites
        the value it looked up without looking again."""
        pos = self.slots[slot][key]
        values = self.values[slot]
        self.used_memory += len(value) - len(values[pos])
        values[pos] = value
        self.clocks[slot][pos] = self.lru_clock
        self.dirty += 1
        if self.key_hooks:
            self.signal(key)
        if self.blocking_keys and key in self.blocking_keys:
            self.ready_keys[key] = None

    def set_strings(self, argv) -> None:
        """MSET's stores: set_string() for the key/value pairs argv[1:], with what does
        not change between them looked up once and the counters added up at the end.
        Each key is hashed unless the Router found them all in one slot (hint_argv): a
        script, our master's stream or an AOF may bring keys of several slots even to a
        cluster node."""
        expires, clock = self.expires, self.lru_clock
        hooks, blocking, notify = self.key_hooks, self.blocking_keys, self.notify_flags
        slots, values_of, clocks_of = self.slots, self.values, self.clocks
        routed_slot = self.hint_argv_slot if argv is self.hint_argv else -1
        added = grown = stored = 0
        for i in range(1, len(argv), 2):
            key = argv[i]
            value = argv[i + 1]
            if routed_slot >= 0:
                slot = routed_slot
            else:
                slot = self.hint_slot if key is self.hint_key else slot_of(key)
            keys = slots[slot]
            pos = keys.get(key)
            if pos is None:
                values = values_of[slot]
                pos = len(values)
                keys[key] = pos if pos <= 256 else _shared_position(pos)
                values.append(value)
                clocks_of[slot].append(clock)
                added += 1
                grown += len(key) + len(value) + STRING_KEY_COST
                if notify:
                    notify_keyspace_event(self, "n", b"new", key)
            else:
                values = values_of[slot]
                old = values[pos]
                if type(old) is not bytes or (expires and key in expires):
                    self.set(key, value)        # another type, a TTL to drop, expired
                    continue
                values[pos] = value
                clocks_of[slot][pos] = clock
                grown += len(value) - len(old)
            stored += 1
            if hooks:
                self.signal(key)
            if blocking and key in blocking:
                self.ready_keys[key] = None
        self.size += added
        self.used_memory += grown
        self.dirty += stored

    def load_key(self, key: bytes, value, expire_ms=None) -> None:
        """A key from a snapshot being loaded (RDB, full sync): set() without what only
        a client's write needs (no watcher or blocked client can be waiting on a key
        of a dataset that is loading); expire_ms is an absolute time in the future."""
        slot = slot_of(key)
        table = self.slots[slot]
        pos = table.get(key)
        if pos is None:
            self.size += 1
            values = self.values[slot]
            pos = len(values)
            table[key] = pos if pos <= 256 else _shared_position(pos)
            values.append(value)
            self.clocks[slot].append(self.lru_clock)
        else:
            values = self.values[slot]
            self._unaccount(key, values[pos])
            values[pos] = value
            self.clocks[slot][pos] = self.lru_clock
        self._account(key, value)
        if expire_ms is not None:
            if key not in self._ttl_pos:
                self._ttl_pos[key] = len(self._ttl_keys)
                self._ttl_keys.append(key)
                self.used_memory += EXPIRE_ENTRY
            self.expires[key] = expire_ms

    def replace_value(self, key: bytes, value) -> None:
        """Put another object for the same value at `key` (a string made mutable in
        place, Redis's dbUnshareStringValue): no change of the data, so no dirty count
        and no signal, only the memory bookkeeping."""
        slot = slot_of(key)
        values, pos = self.values[slot], self.slots[slot][key]
        self._unaccount(key, values[pos])
        values[pos] = value
        self._account(key, value)

    # ------------------------------------------------------------ memory

    def _account(self, key, value) -> None:
        if type(value) is bytes:
            self.used_memory += len(key) + len(value) + STRING_KEY_COST
        else:
            size = self.sizes[key] = accounted_size(key, value)
            self.used_memory += size

    def _unaccount(self, key, value) -> None:
        if type(value) is bytes:
            self.used_memory -= len(key) + len(value) + STRING_KEY_COST
        else:
            self.used_memory -= self.sizes.pop(key)

    def settle_memory(self) -> int:
        """Re-estimate the values changed in place since the last call; the keys' share
        of used_memory, current."""
        if self.resized:
            resized, self.resized = self.resized, set()
            sizes = self.sizes
            for key in resized:
                old = sizes.get(key)
                if old is None:
                    continue             # deleted since, or now a bytes value
                value = self.peek(key)
                new = sizes[key] = accounted_size(key, value)
                self.used_memory += new - old
        return self.used_memory

    def delete(self, key: bytes, slot: int = -1) -> bool:
        if slot < 0:
            slot = self.hint_slot if key is self.hint_key else slot_of(key)
        if self.get(key, slot) is None:
            return False
        self._remove(key, slot)
        self.dirty += 1
        return True

    def store_result(self, key: bytes, value, klass: str, event: bytes) -> None:
        """The destination of a *STORE command (SINTERSTORE, ZUNIONSTORE, GEOSEARCHSTORE,
        SORT ... STORE): `value` replaces whatever `key` held (its TTL dropped), then the
        command's event; None (an empty result) deletes the key instead, with 'del' if
        there was one. Redis never stores an empty collection."""
        if value is None:
            if self.delete(key):
                notify_keyspace_event(self, "g", b"del", key)
            return
        self.set(key, value)
        notify_keyspace_event(self, klass, event, key)

    def _remove(self, key, slot) -> None:
        table = self.slots[slot]
        pos = table.pop(key)
        values = self.values[slot]
        value = values[pos]
        values[pos] = None
        if not table:
            values.clear()
            self.clocks[slot].clear()
        elif len(values) > 2 * len(table) + 8:
            self._compact(slot)
        if type(value) is bytes:
            self.used_memory -= len(key) + len(value) + STRING_KEY_COST
        else:
            self.used_memory -= self.sizes.pop(key)
        self.size -= 1
        if key in self.expires:
            self._forget_ttl(key)
        if self.key_hooks:
            self.signal(key)
        if self.blocking_keys and key in self.blocking_keys:
            self.ready_keys[key] = None   # a deleted stream ends XREADGROUP waits
        if self.on_delete is not None:
            self.on_delete(key)

    def _compact(self, slot: int) -> None:
        """Close the holes deleted keys left in a slot's lists: the keys take positions
        0, 1, 2... in their dict's order (the lists stay the same objects)."""
        table, values, clocks = self.slots[slot], self.values[slot], self.clocks[slot]
        live = list(table.items())
        kept_values = [values[pos] for _, pos in live]
        kept_clocks = [clocks[pos] for _, pos in live]
        for new, (key, _) in enumerate(live):
            table[key] = new if new <= 256 else _shared_position(new)
        values[:] = kept_values
        del clocks[:]
        clocks.extend(kept_clocks)          # list.extend: LfuCells counts no access

    def modified_or_deleted(self, key: bytes, collection) -> None:
        """After members were removed in place: Redis never keeps an empty collection,
        so an emptied one is deleted; otherwise it was modified."""
        if collection:
            self.modified(key)
        else:
            self.delete(key)

    def modified(self, key: bytes) -> None:
        """Called by commands that change a value in place (APPEND, SETRANGE, HSET...)."""
        self.dirty += 1
        self.resized.add(key)
        if self.key_hooks:
            self.signal(key)
        if self.blocking_keys and key in self.blocking_keys:
            self.ready_keys[key] = None     # maybe a push: blocked clients may be served

    def flush(self) -> int:
        removed = self.size
        self._signal_blocked_keys_going()
        if self.watchers:
            for key in list(self.watchers):
                if self.peek(key) is not None:
                    self.signal_watchers(key)
        if self.tracking is not None:
            self.tracking.flushed()
        for table, values, clocks in zip(self.slots, self.values, self.clocks):
            table.clear()
            values.clear()
            clocks.clear()
        self.size = 0
        self.expires.clear()
        self._ttl_keys.clear()
        self._ttl_pos.clear()
        self.used_memory = 0
        self.sizes.clear()
        self.resized.clear()
        self.dirty += removed
        return removed

    def _signal_blocked_keys_going(self) -> None:
        """Keys with blocked clients that a flush or swap removes are ready: a waiting
        XREADGROUP ends with -UNBLOCKED (Redis's scanDatabaseForDeletedStreams); other
        waiters find nothing and keep waiting."""
        for key in self.blocking_keys:
            if self.peek(key) is not None:
                self.ready_keys[key] = None

    def replace_with(self, other) -> None:
        """Take `other`'s whole dataset in place of ours (a replica's repl-diskless-load
        swapdb, Redis's swapMainDbWithTempDb): a transaction WATCHing a key present on
        either side fails. `other` must not be used afterwards."""
        if self.watchers:
            for key in list(self.watchers):
                if self.peek(key) is not None or other.peek(key) is not None:
                    self.signal_watchers(key)
        self._signal_blocked_keys_going()
        if self.tracking is not None:
            self.tracking.flushed()
        self.dirty += self.size + other.size
        self.slots, self.values, self.size = other.slots, other.values, other.size
        self.expires, self._ttl_keys, self._ttl_pos = \
            other.expires, other._ttl_keys, other._ttl_pos
        self.used_memory, self.sizes, self.resized = \
            other.used_memory, other.sizes, other.resized
        if self.lfu is None and other.lfu is None:
            self.clocks = other.clocks
        elif self.lfu is not None and other.lfu is not None:
            self.clocks = other.clocks
            for clocks in self.clocks:
                clocks.lfu = self.lfu
        else:
            # The other kind of access time: the loaded keys start afresh (idle 0, or
            # a new key's LFU counter).
            self.clocks = [self._fresh_clocks(len(values)) for values in self.values]

    # ------------------------------------------------------------ expiry

    def ttl_ms(self, key: bytes):
        """Milliseconds to live: None if the key has no TTL (the caller checks existence)."""
        when = self.expires.get(key)
        if when is None:
            return None
        return when - now_ms()

    def expire_at(self, key: bytes, when_ms: int) -> None:
        """Set the absolute expiry of an existing key; a time in the past deletes it
        (not on a replica, which waits for its master's DEL: checkAlreadyExpired)."""
        if when_ms <= now_ms() and self.lazy_expire:
            self._remove(key, slot_of(key))
            self.dirty += 1
            return
        self.set_expire(key, when_ms)

    def set_expire(self, key: bytes, when_ms: int) -> None:
        """Set the absolute expiry of an existing key, even one already past (Redis's
        setExpire: SET ... PXAT in the past keeps the key until it is looked at)."""
        if key not in self._ttl_pos:
            self._ttl_pos[key] = len(self._ttl_keys)
            self._ttl_keys.append(key)
            self.used_memory += EXPIRE_ENTRY
        self.expires[key] = when_ms
        self.dirty += 1
        if self.key_hooks:
            self.signal(key)

    def persist(self, key: bytes) -> bool:
        if key not in self.expires:
            return False
        self._forget_ttl(key)
        self.dirty += 1
        if self.key_hooks:
            self.signal(key)
        return True

    def _forget_ttl(self, key) -> None:
        del self.expires[key]
        self.used_memory -= EXPIRE_ENTRY
        pos = self._ttl_pos.pop(key)
        last = self._ttl_keys.pop()
        if last is not key and pos < len(self._ttl_keys):
            self._ttl_keys[pos] = last
            self._ttl_pos[last] = pos

    def _expire(self, key, slot) -> bool:
        """Delete a key past its time; False when a pause holds expiry (the key stays)."""
        if self.expiry_held is not None and self.expiry_held():
            return False             # reported missing, deleted once the pause ends
        self._remove(key, slot)
        self.expired_keys += 1
        self.dirty += 1
        if self.notify_flags:
            notify_keyspace_event(self, "x", b"expired", key)
        if self.propagate_deletion is not None:
            self.propagate_deletion(key)
        return True

    def active_expire_cycle(self, budget_ms: float = 25.0, effort: int = 1) -> int:
        """Redis's slow activeExpireCycle: sample keys with a TTL, and sample again while
        more than the acceptable share of a sample had expired, within budget_ms.
        active-expire-effort (1-10) samples 5 more keys a loop per step and accepts one
        percent less of stale keys."""
        if not self.active_expire_enabled:
            return 0
        extra = effort - 1
        per_loop = ACTIVE_EXPIRE_SAMPLE + ACTIVE_EXPIRE_SAMPLE // 4 * extra
        acceptable = (ACTIVE_EXPIRE_ACCEPTABLE_STALE - extra) / 100.0
        started = time.monotonic()
        deadline = started + budget_ms / 1000.0
        removed = sampled = 0
        while self._ttl_keys:
            now = now_ms()
            sample = min(per_loop, len(self._ttl_keys))
            sampled += sample
            expired = 0
            for _ in range(sample):
                if not self._ttl_keys:
                    break
                key = self._ttl_keys[self._rng.randrange(len(self._ttl_keys))]
                if self.expires[key] < now:
                    self._expire(key, slot_of(key))
                    expired += 1
            removed += expired
            if expired <= sample * acceptable:
                break
            if time.monotonic() > deadline:
                self.expire_stats.time_cap_reached += 1
                break
        self.expire_stats.cycle_done(int((time.monotonic() - started) * 1e6),
                                     removed / sampled if sampled else 0.0)
        return removed

    def evict(self, key: bytes) -> None:
        """Remove a key for maxmemory (performEvictions): counted, notified ('evicted')
        and propagated as DEL (UNLINK when lazy: lazyfree-lazy-eviction)."""
        self._remove(key, slot_of(key))
        self.evicted_keys += 1
        if self.notify_flags:
            notify_keyspace_event(self, "e", b"evicted", key)
        if self.propagate_deletion is not None:
            self.propagate_deletion(key, expired=False, evicted=True)
