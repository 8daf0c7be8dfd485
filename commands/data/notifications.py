"""Who hears of a changed key: keyspace notifications, as Redis 7.0's notify.c (Pub/Sub
messages about changes to keys), and the clients that WATCH a key, cache it (tracking) or
guard it (MIGRATE): `KeyWatchers`, a mixin of Keyspace (Redis's signalModifiedKey).

The one call every emitter makes:

    notify_keyspace_event(keyspace, klass, event, key) -> None

      keyspace  the node's Keyspace (commands/data/keyspace.py); it carries the enabled
                classes (`notify_flags`) and the publisher (`notify_publish`)
      klass     the event's class, one of Redis's letters (str):
                  g generic (del, expire, rename_from, ...)   $ string    l list
                  s set   h hash   z sorted set   t stream   d module
                  x expired   e evicted   n new (a key was created)   m key miss
      event     the event's name (bytes), as Redis names it: b"set", b"lpush", b"del"...
      key       the key (bytes)

It publishes, when the class is enabled, `__keyspace@0__:<key>` -> event (flag K) and
`__keyevent@0__:<event>` -> key (flag E), in that order, to this node's subscribers only:
Redis 7.0 publishes them with pubsubPublishMessage, never over the cluster bus. A cluster
node has one database, so the db is always 0.

Notifications are off by default (notify-keyspace-events ""), and then the call returns
after one attribute test. On the hottest paths a caller may put that test in front of
the call itself: `if keyspace.notify_flags: notify_keyspace_event(...)`.

Emit the event after the change is made, as Redis does (a subscriber on this node sees the
message after the command's effect), and in Redis's order where one command emits several
(the 'new' of a created key first, then the command's event, then 'del' when the command
emptied a collection). The keyspace itself emits 'new' (Keyspace.set) and 'expired'
(lazy and active expiry) and 'evicted' (Keyspace.evict, for each key maxmemory evicts,
as Redis's performEvictions does); the commands emit everything else.

The setting's text: parse_keyspace_events('KEA') -> flags, format_keyspace_events(flags)
-> Redis's canonical letters (CONFIG GET), effective_flags(flags) -> what the keyspace
keeps (0 unless some event would reach a channel).
"""

# Redis's bits (server.h NOTIFY_*), kept so the flags read like Redis's.
KEYSPACE = 1 << 0       # K
KEYEVENT = 1 << 1       # E
GENERIC = 1 << 2        # g
STRING = 1 << 3         # $
LIST = 1 << 4           # l
SET = 1 << 5            # s
HASH = 1 << 6           # h
ZSET = 1 << 7           # z
EXPIRED = 1 << 8        # x
EVICTED = 1 << 9        # e
STREAM = 1 << 10        # t
KEY_MISS = 1 << 11      # m (not part of A, on purpose)
MODULE = 1 << 13        # d
NEW = 1 << 14           # n (not part of A either)
ALL = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE

CLASS_BITS = {"g": GENERIC, "$": STRING, "l": LIST, "s": SET, "h": HASH, "z": ZSET,
              "x": EXPIRED, "e": EVICTED, "t": STREAM, "m": KEY_MISS, "d": MODULE,
              "n": NEW}
_LETTER_BITS = {**CLASS_BITS, "A": ALL, "K": KEYSPACE, "E": KEYEVENT}

# CONFIG GET's order (keyspaceEventsFlagsToString): the classes, or just A when all of
# A's are on (then 'n' is not shown either, as in Redis 7.0), then K, E and m.
_CLASS_ORDER = "g$lshzxetdn"
_TRAILING_ORDER = "KEm"

INVALID_CLASS = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."


class KeyspaceEventsError(ValueError):
    """A notify-keyspace-events value with a letter that names no class."""


def parse_keyspace_events(text: str) -> int:
    flags = 0
    for letter in text:
        bits = _LETTER_BITS.get(letter)
        if bits is None:
            raise KeyspaceEventsError(INVALID_CLASS)
        flags |= bits
    return flags


def format_keyspace_events(flags: int) -> str:
    if flags & ALL == ALL:
        letters = ["A"]
    else:
        letters = [c for c in _CLASS_ORDER if flags & CLASS_BITS[c]]
    letters += [c for c in _TRAILING_ORDER if flags & _LETTER_BITS[c]]
    return "".join(letters)


def effective_flags(flags: int) -> int:
    """The flags the keyspace keeps: 0 (notifications cost one test) unless at least one
    class is on and K or E gives its events a channel."""
    if flags & (KEYSPACE | KEYEVENT) and flags & ~(KEYSPACE | KEYEVENT):
        return flags
    return 0


def notify_keyspace_event(keyspace, klass: str, event: bytes, key: bytes) -> None:
    """Publish one keyspace event (see the module docstring)."""
    flags = keyspace.notify_flags
    if not flags or not flags & CLASS_BITS[klass]:
        return
    publish = keyspace.notify_publish
    if publish is None:
        return
    if flags & KEYSPACE:
        publish(b"__keyspace@0__:" + key, event)
    if flags & KEYEVENT:
        publish(b"__keyevent@0__:" + event, key)


class KeyWatchers:
    """Keyspace's watchers of keys (signalModifiedKey's side): `watchers` maps a key to
    the clients (or MIGRATE guards) whose transaction fails if it changes, `tracking`
    hears of every change for client-side caching, and `key_hooks` says whether either
    is there (the writes test it before calling signal())."""

    def signal(self, key: bytes) -> None:
        """A key changed (Redis's signalModifiedKey): every transaction WATCHing it
        fails (touchWatchedKey) and clients caching it are told (tracking)."""
        clients = self.watchers.get(key)
        if clients:
            for client in clients:
                client.dirty_cas = True
        if self.tracking is not None:
            self.tracking.key_changed(key)

    def signal_watchers(self, key: bytes) -> None:
        """A flush: WATCHers of each key fail; tracking clients get one "all keys"."""
        for client in self.watchers.get(key, ()):
            client.dirty_cas = True

    def set_tracking(self, tracking) -> None:
        """Hear of changed keys for client-side caching (None: no longer)."""
        self.tracking = tracking
        self.key_hooks = bool(self.watchers) or tracking is not None

    def watch(self, client, key: bytes) -> None:
        """WATCH: remember whether the key existed, to spot its expiry at EXEC."""
        client.watched[key] = self.exists(key)
        self.watchers.setdefault(key, set()).add(client)
        self.key_hooks = True

    def guard_keys(self, guards: dict) -> None:
        """For every key -> guard of `guards`, have `guard.dirty_cas` set when the key
        changes, as for a WATCHing client, without WATCH's existence check (MIGRATE's
        guards: the keys were just looked up). Undone by unguard_keys(guards), at once."""
        watchers = self.watchers
        for key, guard in guards.items():
            clients = watchers.get(key)
            if clients is None:
                watchers[key] = {guard}
            else:
                clients.add(guard)
        if guards:
            self.key_hooks = True

    def unguard_keys(self, guards: dict) -> None:
        """Undo guard_keys(guards)."""
        watchers = self.watchers
        for key, guard in guards.items():
            clients = watchers.get(key)
            if clients is not None:
                clients.discard(guard)
                if not clients:
                    del watchers[key]
        self.key_hooks = bool(watchers) or self.tracking is not None

    def unwatch_all(self, client) -> None:
        for key in client.watched:
            clients = self.watchers.get(key)
            if clients is not None:
                clients.discard(client)
                if not clients:
                    del self.watchers[key]
        client.watched.clear()
        self.key_hooks = bool(self.watchers) or self.tracking is not None
