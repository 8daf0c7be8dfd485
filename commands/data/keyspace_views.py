"""The keyspace seen whole: a slot's keys, every key, a random key, SCAN's walk.

A mixin of Keyspace (keyspace.py), which keeps the data: `slots` (one dict per hash
slot), `size`, `expires` and `_rng`, and get()/_remove() for a key. Everything here walks
those slot dicts; nothing here is on a single command's hot path.
"""
import time
from itertools import islice

from cluster.slots import CLUSTER_SLOTS, key_hash_slot as slot_of


def now_ms() -> int:
    """Unix time in ms: expiry times are kept in it (keyspace.py imports it from here)."""
    return int(time.time() * 1000)


class KeyspaceViews:
    def count_in_slot(self, slot: int) -> int:
        return len(self.slots[slot])

    def keys_in_slot(self, slot: int, count: int) -> list:
        return list(islice(self.slots[slot], count))

    def delete_slot(self, slot: int) -> int:
        keys = list(self.slots[slot])
        for key in keys:
            self._remove(key, slot)
            if self.propagate_deletion is not None:
                self.propagate_deletion(key, expired=False)
        self.dirty += len(keys)
        return len(keys)

    def iter_keys(self):
        """Every live key (expired ones are skipped, not deleted)."""
        now = now_ms()
        expires = self.expires
        for table in self.slots:
            if table:
                for key in list(table):
                    when = expires.get(key)
                    if when is None or when >= now:
                        yield key

    def random_key(self):
        """A random live key, or None; tries random slots first, like dictGetFairRandomKey."""
        if not self.size:
            return None
        for _ in range(100):
            for _ in range(64):
                table = self.slots[self._rng.randrange(CLUSTER_SLOTS)]
                if table:
                    break
            else:
                nonempty = [t for t in self.slots if t]
                table = self._rng.choice(nonempty)
            key = self._rng.choice(list(table))
            if self.get(key) is not None:
                return key
            if not self.size:
                return None
        return None

    def scan(self, cursor: int, count: int):
        """(next cursor, keys) walking whole slots from `cursor` until `count` keys.

        Empty slots are skipped at C speed (so a walk over all 16384 costs well under a
        millisecond), which lets one call reach the keys however sparse they are:
        unlike a bounded walk, it never answers an empty page while keys remain, and a
        data set of at most `count` keys comes back whole with cursor 0, as from Redis
        for a small keyspace. The cursor is 0 as soon as no key is left after it."""
        keys = []
        slot = cursor
        while len(keys) < count:
            slot = self._next_used_slot(slot)
            if slot < 0:
                return 0, keys
            keys.extend(self.slots[slot])
            slot += 1
        if self._next_used_slot(slot) < 0:
            return 0, keys
        return slot, keys

    def _next_used_slot(self, start: int) -> int:
        """The first slot at or after `start` holding keys, -1 if none: filter() finds
        the first non-empty table in C, and any key in it names its slot."""
        if start >= CLUSTER_SLOTS or not self.size:
            return -1
        table = next(filter(None, islice(self.slots, start, None)), None)
        return -1 if table is None else slot_of(next(iter(table)))
