"""Which key maxmemory evicts next (Redis's evict.c), LFU counters, keys' access times.

Every policy but the random ones ranks keys by a score -- idle seconds (LRU), 255 minus
the LFU counter (LFU), how soon the TTL ends (volatile-ttl) -- and, as Redis, does not
look for the best key of the whole keyspace: each time a key is needed it samples
`maxmemory-samples` keys and merges them into an *eviction pool* of the 16 best
candidates seen so far (kept across evictions, so the pool improves as sampling goes
on), then evicts the best candidate that still exists. allkeys-* sample every key,
volatile-* only keys with a TTL (so a key without one is never evicted by them).

Sampling as dictGetSomeKeys does: runs of keys from random places, here a random
non-empty hash slot and a random offset in it; volatile keys are drawn from the
keyspace's list of keys with a TTL, which gives O(1) random access.

The LFU counter (Redis's 24-bit field: 16 bits of "last decrement time" in minutes, 8
bits of logarithmic counter) lives where the keyspace keeps its access times, a cell
per key in each slot's `clocks` list; under an LFU policy those lists are LfuCells: a
key's access is `clocks[pos] = clock` either way, and here it means LFUDecrAndReturn +
LFULogIncr (lfu-log-factor, lfu-decay-time: LfuClock's arithmetic).
"""
import bisect
import time
from itertools import islice

from cluster.slots import CLUSTER_SLOTS, key_hash_slot

LFU_INIT_VAL = 5            # a new key's counter: room to be accessed before it ranks last
EVPOOL_SIZE = 16

# maxmemory-policy -> (samples only keys with a TTL?, how keys are ranked)
POLICIES = {
    "volatile-lru": (True, "lru"), "volatile-lfu": (True, "lfu"),
    "volatile-random": (True, "random"), "volatile-ttl": (True, "ttl"),
    "allkeys-lru": (False, "lru"), "allkeys-lfu": (False, "lfu"),
    "allkeys-random": (False, "random"), "noeviction": (False, None),
}


def is_lfu_policy(policy: str) -> bool:
    return POLICIES[policy][1] == "lfu"


class LfuClock:
    """The LFU parameters and arithmetic on a key's LFU word ((minutes << 8) | counter);
    None stands for a key with no counter yet."""

    __slots__ = ("log_factor", "decay_time", "minutes", "random")

    def __init__(self, rng):
        self.random = rng.random
        self.log_factor = 10
        self.decay_time = 1
        self.tick()

    def configure(self, log_factor: int, decay_time: int) -> None:
        self.log_factor = log_factor
        self.decay_time = decay_time

    def tick(self) -> None:
        """LFUGetTimeInMinutes: unix minutes, 16 bits (the server cron calls this)."""
        self.minutes = int(time.time() // 60) & 0xFFFF

    def _decayed(self, word: int) -> int:
        """LFUDecrAndReturn: the counter less one per lfu-decay-time minutes elapsed."""
        counter = word & 255
        if self.decay_time:
            last = word >> 8
            now = self.minutes
            elapsed = now - last if now >= last else 65535 - last + now
            periods = elapsed // self.decay_time
            if periods:
                counter = 0 if periods > counter else counter - periods
        return counter

    def accessed(self, word) -> int:
        """The word after an access (updateLFU): decay, then a logarithmic increment --
        the higher the counter, the less likely (1 / ((counter - 5) * lfu-log-factor +
        1)). A key seen for the first time starts at LFU_INIT_VAL."""
        if word is None:
            counter = LFU_INIT_VAL
        else:
            counter = self._decayed(word)
            if counter < 255:
                base = counter - LFU_INIT_VAL
                if base < 0:
                    base = 0
                if self.random() < 1.0 / (base * self.log_factor + 1):
                    counter += 1
        return (self.minutes << 8) | counter

    def frequency(self, word) -> int:
        return LFU_INIT_VAL if word is None else self._decayed(word)

    def word(self, counter: int) -> int:
        """A word holding `counter` as given, to decay from now."""
        return (self.minutes << 8) | counter


class LfuCells(list):
    """One hash slot's LFU words by key position (the keyspace's `clocks` under an LFU
    policy): storing into a cell, or appending one for a new key, is an access."""

    __slots__ = ("lfu",)

    def __init__(self, lfu: LfuClock, words=()):
        super().__init__(words)
        self.lfu = lfu

    def __setitem__(self, pos, _clock) -> None:
        list.__setitem__(self, pos, self.lfu.accessed(list.__getitem__(self, pos)))

    def append(self, _clock) -> None:
        list.append(self, self.lfu.accessed(None))

    def set_counter(self, pos: int, counter: int) -> None:
        """RESTORE ... FREQ, an RDB's LFU opcode: the counter as given, decay from now."""
        list.__setitem__(self, pos, self.lfu.word(counter))


class KeyAccessTimes:
    """The keyspace's access times (a mixin of commands.data.keyspace.Keyspace): each
    key's cell in its slot's `clocks` list holds its LRU clock, or under an LFU policy
    its LFU word (LfuCells); what OBJECT IDLETIME/FREQ, RESTORE IDLETIME/FREQ and the
    eviction pool read."""

    def tick_lru_clock(self) -> None:
        self.lru_clock = int(time.monotonic())
        if self.lfu is not None:
            self.lfu.tick()

    def access_word(self, key: bytes):
        """The key's access cell: its LRU clock, or its LFU word under an LFU policy;
        None when no access is known (or no such key)."""
        slot = key_hash_slot(key)
        pos = self.slots[slot].get(key)
        return None if pos is None else self.clocks[slot][pos]

    def idle_seconds(self, key: bytes) -> int:
        """OBJECT IDLETIME (under an LRU policy: the caller checks)."""
        if self.lfu is not None:
            return 0
        clock = self.access_word(key)
        return 0 if clock is None else max(0, self.lru_clock - clock)

    def lfu_frequency(self, key: bytes) -> int:
        """OBJECT FREQ: the key's LFU counter, decayed (LFUDecrAndReturn); a key with
        no counter yet reports a new key's."""
        if self.lfu is None:
            return LFU_INIT_VAL
        return self.lfu.frequency(self.access_word(key))

    def use_lfu(self, log_factor: int, decay_time: int) -> None:
        """Keep LFU counters instead of access times (an LFU maxmemory-policy), or
        update their parameters. Switching starts every key afresh (Redis reinterprets
        the old field, which it says "will take some time to adjust")."""
        if self.lfu is None:
            self.lfu = LfuClock(self._rng)
            self.clocks = [self._fresh_clocks(len(values)) for values in self.values]
        self.lfu.configure(log_factor, decay_time)

    def use_lru(self) -> None:
        if self.lfu is not None:
            self.lfu = None
            self.clocks = [self._fresh_clocks(len(values)) for values in self.values]

    def restore_access(self, key: bytes, idle=None, freq=None) -> None:
        """objectSetLRUOrLFU: an idle time (seconds) or an LFU counter given with a
        key (RESTORE IDLETIME/FREQ, an RDB's LRU/LFU opcodes); the one the policy
        tracks is kept, the other ignored."""
        if idle is None and freq is None:
            return            # nothing given (MIGRATE's RESTORE-ASKING): no key to hash
        slot = key_hash_slot(key)
        pos = self.slots[slot].get(key)
        if pos is None:
            return
        if self.lfu is not None:
            if freq is not None:
                self.clocks[slot].set_counter(pos, freq)
        elif idle is not None:
            self.clocks[slot][pos] = self.lru_clock - idle

    def _fresh_clocks(self, count: int) -> list:
        """A slot's clocks for `count` positions of which no access is known."""
        if self.lfu is not None:
            return LfuCells(self.lfu, [None] * count)
        return [None] * count


class Evictor:
    """The eviction pool of one keyspace and the sampling that feeds it."""

    def __init__(self, keyspace, rng):
        self.keyspace = keyspace
        self.rng = rng
        self.pool = []              # (score, key) ascending: the best candidate last

    def best_key(self, policy: str, samples: int):
        """The key to evict next under `policy`, or None when none is evictable."""
        volatile, rank = POLICIES[policy]
        ks = self.keyspace
        if rank is None:
            return None
        if rank == "random":
            if volatile:
                keys = ks._ttl_keys
                return keys[self.rng.randrange(len(keys))] if keys else None
            found = self.sample_keys(1)
            return found[0] if found else None
        pool = self.pool
        while ks._ttl_keys if volatile else ks.size:
            self._populate(volatile, rank, samples)
            while pool:
                _, key = pool.pop()
                # Pool entries may be ghosts: keys deleted (or persisted) since.
                if (key in ks.expires) if volatile else (ks.peek(key) is not None):
                    return key
        return None

    def _populate(self, volatile: bool, rank: str, samples: int) -> None:
        """evictionPoolPopulate: score `samples` sampled keys into the pool."""
        ks = self.keyspace
        if volatile:
            ttl_keys, randrange = ks._ttl_keys, self.rng.randrange
            keys = [ttl_keys[randrange(len(ttl_keys))] for _ in range(samples)]
        else:
            keys = self.sample_keys(samples)
        pool = self.pool
        for key in keys:
            if rank == "lru":
                score = ks.idle_seconds(key)
            elif rank == "lfu":
                score = 255 - ks.lfu_frequency(key)
            else:                                   # ttl: the sooner, the better
                score = -ks.expires[key]
            if len(pool) >= EVPOOL_SIZE and score <= pool[0][0]:
                continue                            # worse than every pooled candidate
            if any(pooled == key for _, pooled in pool):
                continue
            bisect.insort(pool, (score, key))
            if len(pool) > EVPOOL_SIZE:
                del pool[0]

    def sample_keys(self, count: int) -> list:
        """Up to `count` keys from random places, a run from a random offset of a random
        non-empty slot at a time (dictGetSomeKeys takes runs of buckets likewise)."""
        ks = self.keyspace
        keys = []
        if not ks.size:
            return keys
        slots, randrange = ks.slots, self.rng.randrange
        while len(keys) < count and len(keys) < ks.size:
            table = slots[self._used_slot()]
            need = count - len(keys)
            start = randrange(len(table)) if len(table) > need else 0
            keys.extend(islice(table, start, start + need))
        return keys

    def _used_slot(self) -> int:
        """A random slot holding keys: random probes find one at once in a populated
        keyspace; a sparse one falls back to the keyspace's search from a random slot."""
        slots, randrange = self.keyspace.slots, self.rng.randrange
        for _ in range(256):
            slot = randrange(CLUSTER_SLOTS)
            if slots[slot]:
                return slot
        found = self.keyspace._next_used_slot(slot)
        return found if found >= 0 else self.keyspace._next_used_slot(0)
