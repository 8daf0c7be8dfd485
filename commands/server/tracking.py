"""Client-side caching: which clients may hold which keys, and the invalidation messages
that tell them a key changed (Redis 7.0's tracking.c; CLIENT TRACKING is in
commands/clients/client_modes.py).

Two ways to follow keys, as in Redis:

* the default mode remembers the keys a tracking client *read* (every read-only command's
  keys, after it ran) in one table, key -> ids of the clients that may cache it. When the
  key changes, each of those clients gets one message and the key leaves the table: a
  client that reads it again is remembered again. The table is bounded by
  `tracking-table-max-keys`: past it, keys are dropped (oldest remembered first; Redis
  picks them at random) and their clients invalidated as if the keys had changed.
* BCAST mode remembers nothing per client: a changed key whose name starts with one of
  a client's prefixes is collected, and after the current command batch (Redis: before
  its event loop sleeps) every client of each prefix gets the prefix's keys in one
  message.

A message goes to the tracking client itself as a RESP3 push (`>2 invalidate [keys]`), or
with REDIRECT to another client: a RESP3 push again, or for a RESP2 client in Pub/Sub
mode a message on the `__redis__:invalidate` channel. FLUSHALL/FLUSHDB send every
tracking client a null instead of keys.

Costs: nothing while no client tracks and the table is empty -- the keyspace calls
`key_changed` only through its `key_hooks` flag, which is off then (unless a WATCH needs
it), and the executor remembers reads only for clients whose `after_call` flag says so.
"The client whose command changed the key" is the one whose greenlet is running
(`Client.greenlet`), so no per-command bookkeeping says who is current. A message for the client whose command changed the key is sent after that command's reply
(Redis's tracking_pending_keys): it waits on the client (`tracking_pending`) until the
connection loop has encoded the reply.
"""
import gevent

from commands.server.resp import SetReply

INVALIDATE_CHANNEL = b"__redis__:invalidate"
_PUSH_INVALIDATE = b">2\r\n$10\r\ninvalidate\r\n"
_PUBSUB_INVALIDATE = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
_EVICT_EFFORT = 100          # keys dropped per call at most, Redis's first effort


class ClientTracking:
    """One client's CLIENT TRACKING state (Redis's CLIENT_TRACKING_* flags)."""
    __slots__ = ("redirect", "bcast", "optin", "optout", "noloop", "caching",
                 "broken_redirect", "prefixes")

    def __init__(self, redirect: int):
        self.redirect = redirect          # client id, 0 for none
        self.bcast = False
        self.optin = False
        self.optout = False
        self.noloop = False
        self.caching = False              # CLIENT CACHING yes|no given for the next command
        self.broken_redirect = False      # the redirect target disconnected
        self.prefixes = []                # BCAST prefixes, in the order Redis lists them

    def flag_names(self) -> list:
        """CLIENT TRACKINGINFO's flags, after "on"."""
        names = []
        if self.bcast:
            names.append(b"bcast")
        if self.optin:
            names.append(b"optin")
            if self.caching:
                names.append(b"caching-yes")
        if self.optout:
            names.append(b"optout")
            if self.caching:
                names.append(b"caching-no")
        if self.noloop:
            names.append(b"noloop")
        if self.broken_redirect:
            names.append(b"broken_redirect")
        return names


class _Prefix:
    """A BCAST prefix: its clients, and the keys changed since the last broadcast with
    the greenlet whose command changed each one last (for NOLOOP)."""
    __slots__ = ("clients", "keys")

    def __init__(self):
        self.clients = {}                 # client -> None (an ordered set)
        self.keys = {}                    # key -> greenlet of the last change


def _keys_array(keys) -> bytes:
    return b"*%d\r\n" % len(keys) + b"".join(b"$%d\r\n%s\r\n" % (len(k), k) for k in keys)


class Tracking:
    def __init__(self, server):
        self.server = server
        self.clients = 0                  # INFO tracking_clients
        self.table = {}                   # key -> {client id: None}, in remembering order
        self.items = 0                    # INFO tracking_total_items: ids in the table
        self.prefixes = {}                # prefix -> _Prefix (INFO tracking_total_prefixes)
        self._broadcast_due = False
        self._drop_rounds = 0             # calls in a row still over the limit

    # ------------------------------------------------------------ hook

    @property
    def wanted(self) -> bool:
        """Must the keyspace report changed keys? While a client tracks, or keys are
        still remembered for clients that stopped (Redis drops those lazily too)."""
        return bool(self.clients or self.table)

    def _rehook(self) -> None:
        self.server.keyspace.set_tracking(self if self.wanted else None)

    # ------------------------------------------------------------ CLIENT TRACKING

    def enable(self, client, redirect: int, bcast: bool, optin: bool, optout: bool,
               noloop: bool, prefixes: list) -> None:
        state = client.tracking
        if state is None:
            self.clients += 1
            state = client.tracking = ClientTracking(redirect)
        # Enabling again replaces the options (prefixes only add up, as in Redis).
        state.redirect = redirect
        state.broken_redirect = False
        state.bcast = bcast
        if bcast:
            for prefix in prefixes or [b""]:
                entry = self.prefixes.get(prefix)
                if entry is None:
                    entry = self.prefixes[prefix] = _Prefix()
                if client not in entry.clients:
                    entry.clients[client] = None
                    state.prefixes.append(prefix)
            state.prefixes.sort()         # Redis keeps them in a radix tree: sorted
        state.optin, state.optout, state.noloop = optin, optout, noloop
        client.remembers_reads = not bcast
        client.after_call = client.remembers_reads or client.asking
        client.after_reply = True         # CLIENT CACHING resets after each command
        self._rehook()

    def disable(self, client) -> None:
        state = client.tracking
        if state is None:
            return
        for prefix in state.prefixes:
            entry = self.prefixes[prefix]
            entry.clients.pop(client, None)
            if not entry.clients:
                del self.prefixes[prefix]
        client.tracking = None
        client.remembers_reads = False
        self.clients -= 1
        self._rehook()

    def prefix_collision(self, client, prefixes: list):
        """Redis's checkPrefixCollisionsOrReply: the error text, or None."""
        existing = client.tracking.prefixes if client.tracking is not None else []
        for i, prefix in enumerate(prefixes):
            for old in existing:
                if old.startswith(prefix) or prefix.startswith(old):
                    return ("ERR Prefix '%s' overlaps with an existing prefix '%s'. "
                            "Prefixes for a single client must not overlap."
                            % (_text(prefix), _text(old)))
            for other in prefixes[i + 1:]:
                if other.startswith(prefix) or prefix.startswith(other):
                    return ("ERR Prefix '%s' overlaps with another provided prefix '%s'. "
                            "Prefixes for a single client must not overlap."
                            % (_text(prefix), _text(other)))
        return None

    # ------------------------------------------------------------ remembering reads

    def remember_keys(self, client, cmd, argv) -> None:
        """After a read-only command of a default-mode tracking client ran (Redis's
        trackingRememberKeys, called from call())."""
        state = client.tracking
        if (state.optin and not state.caching) or (state.optout and state.caching):
            return
        if "pubsub" in cmd.flags:         # SSUBSCRIBE's channels are not keys to cache
            return
        if cmd.name in ("eval_ro", "evalsha_ro", "fcall_ro"):
            return                        # Redis remembers a script's keys otherwise
        cid = client.id
        table = self.table
        for index in cmd.key_indexes(argv):
            key = argv[index]
            ids = table.get(key)
            if ids is None:
                ids = table[key] = {}
            if cid not in ids:
                ids[cid] = None
                self.items += 1
        limit = self.server.settings.values.get("tracking-table-max-keys", 0)
        if limit and len(table) > limit:
            self._drop_keys(limit)

    def _drop_keys(self, limit: int) -> None:
        """tracking-table-max-keys: forget keys until under the limit, telling their
        clients as if the keys changed (Redis's trackingLimitUsedSlots)."""
        # Redis's effort grows with each call that could not get under the limit.
        effort = _EVICT_EFFORT * (self._drop_rounds + 1)
        while self.table and len(self.table) > limit and effort > 0:
            effort -= 1
            key = next(iter(self.table))
            self._invalidate_remembered(key)
        self._drop_rounds = self._drop_rounds + 1 if len(self.table) > limit else 0
        if not self.wanted:
            self._rehook()

    def limit_cron(self) -> None:
        """From the server cron, as Redis's serverCron: a lowered limit takes effect even
        without new reads."""
        limit = self.server.settings.values.get("tracking-table-max-keys", 0)
        if limit and len(self.table) > limit:
            self._drop_keys(limit)

    # ------------------------------------------------------------ invalidation

    def key_changed(self, key: bytes) -> None:
        """The keyspace says a key changed or went away (Redis's trackingInvalidateKey
        from signalModifiedKey): by a command, expiry, a lost slot, the master's
        stream."""
        if self.prefixes:
            self._collect_for_broadcast(key)
        if key in self.table:
            self._invalidate_remembered(key)
            if not self.wanted:
                self._rehook()

    def _invalidate_remembered(self, key: bytes) -> None:
        ids = self.table.pop(key)
        self.items -= len(ids)
        clients = self.server.clients
        me = gevent.getcurrent()
        payload = None
        for cid in ids:
            target = clients.get(cid)
            if target is None:
                continue
            state = target.tracking
            # Ids are dropped lazily: a client that stopped tracking, or switched to
            # BCAST since it read the key, gets nothing.
            if state is None or state.bcast:
                continue
            is_current = target.greenlet is me
            if is_current and state.noloop:
                continue
            if payload is None:
                payload = b"*1\r\n$%d\r\n%s\r\n" % (len(key), key)
            if is_current:
                target.defer_push(payload)
            else:
                self.send(target, payload)

    def flushed(self) -> None:
        """FLUSHALL / FLUSHDB (and a replica's full sync): every tracking client gets a
        null, meaning "all keys" (Redis's trackingInvalidateKeysOnFlush)."""
        if self.clients:
            me = gevent.getcurrent()
            for client in list(self.server.clients.values()):
                if client.tracking is None:
                    continue
                null = b"_\r\n" if client.resp3 else b"$-1\r\n"
                if client.greenlet is me:
                    client.defer_push(null)
                else:
                    self.send(client, null)
        self.table.clear()
        self.items = 0
        self._rehook()

    def send(self, client, payload: bytes, out=None) -> None:
        """One message to `client` or where it redirects to (Redis's
        sendTrackingMessage). `out`: the reply list of the client's own connection
        loop, when the message follows its reply."""
        state = client.tracking
        dest = client
        redirected = False
        if state is not None and state.redirect:
            dest = self.server.clients.get(state.redirect)
            if dest is None or dest.closed:
                state.broken_redirect = True
                if client.resp3:
                    _write(client, b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n"
                           % state.redirect, out)
                return
            redirected = True
        if dest.resp3:
            data = _PUSH_INVALIDATE + payload
        elif redirected and dest.pubsub_mode:
            data = _PUBSUB_INVALIDATE + payload
        else:
            return                        # RESP2 has no way to push on the same link
        _write(dest, data, out if dest is client else None)

    # ------------------------------------------------------------ BCAST

    def _collect_for_broadcast(self, key: bytes) -> None:
        changer = gevent.getcurrent()
        collected = False
        for prefix, entry in self.prefixes.items():
            if key.startswith(prefix):
                entry.keys[key] = changer
                collected = True
        if collected and not self._broadcast_due:
            self._broadcast_due = True
            # After the running greenlet yields: the command batch that changed the keys
            # has sent its replies (Redis broadcasts in beforeSleep).
            gevent.get_hub().loop.run_callback(self.broadcast)

    def broadcast(self) -> None:
        """Send each prefix's changed keys to its clients (Redis's
        trackingBroadcastInvalidationMessages)."""
        self._broadcast_due = False
        for prefix in sorted(self.prefixes):     # Redis walks its prefix radix tree
            entry = self.prefixes.get(prefix)
            if entry is None or not entry.keys:
                continue
            keys = entry.keys
            entry.keys = {}
            everyone = None
            for client in list(entry.clients):
                if client.closed:
                    continue
                if client.tracking is not None and client.tracking.noloop:
                    mine = client.greenlet
                    own = [k for k, changer in keys.items() if changer is not mine]
                    if own:
                        self.send(client, _keys_array(sorted(own)))
                else:
                    if everyone is None:
                        everyone = _keys_array(sorted(keys))
                    self.send(client, everyone)

    # ------------------------------------------------------------ INFO

    def info_stats(self) -> list:
        return ["tracking_total_keys:%d" % len(self.table),
                "tracking_total_items:%d" % self.items,
                "tracking_total_prefixes:%d" % len(self.prefixes)]


def _write(client, data: bytes, out) -> None:
    if out is not None:
        out.append(data)
    else:
        client.push_raw(data)


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def trackinginfo_reply(client) -> dict:
    """CLIENT TRACKINGINFO: a map of flags (a set in RESP3), redirect and prefixes."""
    state = client.tracking
    if state is None:
        return {b"flags": SetReply([b"off"]), b"redirect": -1, b"prefixes": []}
    return {b"flags": SetReply([b"on"] + state.flag_names()),
            b"redirect": state.redirect, b"prefixes": list(state.prefixes)}
