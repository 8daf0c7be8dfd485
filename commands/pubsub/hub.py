"""The Pub/Sub registry: who is subscribed to what, on this node, and delivery.

Three kinds of subscriptions (Redis's pubsubtype): channels, patterns and shard channels.
Each client keeps its own tables (Subscriptions); the node keeps the reverse tables
(PubSubHub) that PUBLISH walks. The commands live in channels.py (SUBSCRIBE, PUBLISH,
PUBSUB) and shard.py (SSUBSCRIBE, SPUBLISH); both build on the functions here.

Messages reach subscribers through Client.push_raw: queued, written by the subscriber's
own writer greenlet, and counted against client-output-buffer-limit, so a subscriber that
never reads is disconnected instead of growing the node's memory.

Orders: subscribers of one channel are served in subscription order, then patterns in the
order they were first subscribed. Redis walks hash tables there (an order nobody can rely
on); insertion order is one Redis may produce and is stable for tests.
"""
from loguru import logger

from commands.data.glob import matcher
from commands.data.keyspace import slot_of
from commands.server.resp import Push, Raw, encode


class Kind:
    """One family of subscriptions (Redis's pubsubtype): its slot in the per-client and
    per-node tables and the names of its messages."""

    def __init__(self, index, subscribe, unsubscribe, shard):
        self.index = index
        self.subscribe = subscribe
        self.unsubscribe = unsubscribe
        self.shard = shard

    def count(self, subs) -> int:
        """The number a (un)subscribe reply ends with."""
        if subs is None:
            return 0
        if self.shard:
            return len(subs.tables[SHARD.index])
        return len(subs.tables[CHANNEL.index]) + len(subs.tables[PATTERN.index])


CHANNEL = Kind(0, b"subscribe", b"unsubscribe", False)
PATTERN = Kind(1, b"psubscribe", b"punsubscribe", False)
SHARD = Kind(2, b"ssubscribe", b"sunsubscribe", True)
KINDS = (CHANNEL, PATTERN, SHARD)


class Subscriptions:
    """What one client is subscribed to: one ordered table (dict used as a set) per Kind."""
    __slots__ = ("tables",)

    def __init__(self):
        self.tables = ({}, {}, {})

    def total(self) -> int:
        return sum(len(t) for t in self.tables)


# Message headers: RESP2 array / RESP3 push, then the constant first element.
_MESSAGE = (b"*3\r\n$7\r\nmessage\r\n", b">3\r\n$7\r\nmessage\r\n")
_PMESSAGE = (b"*4\r\n$8\r\npmessage\r\n", b">4\r\n$8\r\npmessage\r\n")
_SMESSAGE = (b"*3\r\n$8\r\nsmessage\r\n", b">3\r\n$8\r\nsmessage\r\n")


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


class PubSubHub:
    """The node's subscriptions: channel (pattern, shard channel) -> subscribed clients.

    Made on first use (hub()); it then takes PUBLISH messages from the cluster bus, drops a
    client's subscriptions when it disconnects, and (called from the server cron) tells
    shard subscribers when their slot is no longer served by this shard.
    """

    def __init__(self, server):
        self.server = server
        # Per Kind: name -> {client: None} (ordered set), emptied entries deleted.
        self.tables = ({}, {}, {})
        self.matchers = {}            # pattern -> its compiled glob predicate
        self.shard_slots = {}         # slot -> set of shard channels with subscribers
        server.deliver_publish = self.publish
        # Keyspace notifications go to this node's subscribers (none before the hub).
        server.keyspace.notify_publish = self.publish
        server.close_hooks.append(self.forget_client)

    # ------------------------------------------------------------ bookkeeping

    def add(self, c, kind, name) -> None:
        subs = c.subscriptions
        if subs is None:
            subs = c.subscriptions = Subscriptions()
        mine = subs.tables[kind.index]
        if name in mine:
            return
        mine[name] = None
        clients = self.tables[kind.index].get(name)
        if clients is None:
            clients = self.tables[kind.index][name] = {}
            if kind is PATTERN:
                self.matchers[name] = matcher(name)
            elif kind is SHARD:
                self.shard_slots.setdefault(slot_of(name), set()).add(name)
        clients[c] = None

    def remove(self, c, kind, name) -> bool:
        subs = c.subscriptions
        if subs is None or name not in subs.tables[kind.index]:
            return False
        del subs.tables[kind.index][name]
        table = self.tables[kind.index]
        clients = table.get(name)
        if clients is not None:
            clients.pop(c, None)
            if not clients:
                self._drop_name(kind, name)
        return True

    def _drop_name(self, kind, name) -> None:
        del self.tables[kind.index][name]
        if kind is PATTERN:
            self.matchers.pop(name, None)
        elif kind is SHARD:
            slot = slot_of(name)
            channels = self.shard_slots.get(slot)
            if channels is not None:
                channels.discard(name)
                if not channels:
                    del self.shard_slots[slot]

    def forget_client(self, c) -> None:
        """Disconnect or RESET: drop every subscription, with no message (Redis passes
        notify=0 there)."""
        subs = c.subscriptions
        if subs is not None:
            for kind in KINDS:
                for name in list(subs.tables[kind.index]):
                    self.remove(c, kind, name)
        c.pubsub_mode = False

    # ------------------------------------------------------------ delivery

    def publish(self, channel: bytes, message: bytes, sharded: bool = False) -> int:
        """Deliver to this node's subscribers; returns how many messages were queued."""
        body = _bulk(channel) + _bulk(message)
        if sharded:
            clients = self.tables[SHARD.index].get(channel)
            return _send(clients, _SMESSAGE, body) if clients else 0
        receivers = 0
        clients = self.tables[CHANNEL.index].get(channel)
        if clients:
            receivers += _send(clients, _MESSAGE, body)
        if self.matchers:
            patterns = self.tables[PATTERN.index]
            for pattern, match in list(self.matchers.items()):
                clients = patterns.get(pattern)
                if clients and match(channel):
                    receivers += _send(clients, _PMESSAGE, _bulk(pattern) + body)
        return receivers

    # ------------------------------------------------------------ slots leaving the shard

    def cron(self) -> None:
        """Every 100 ms (server cron): shard channels whose slot this node's shard no
        longer serves are unsubscribed, and their subscribers told so. Redis does it when
        the slot is deleted or given away (clusterDelSlot -> removeChannelsInSlot)."""
        view = self.server.cluster
        if not self.shard_slots or view is None:
            return
        gone = [slot for slot in self.shard_slots if not serves_slot(view, slot)]
        for slot in gone:
            self.drop_shard_slot(slot)

    def drop_shard_slot(self, slot: int) -> None:
        channels = sorted(self.shard_slots.get(slot, ()))
        for channel in channels:
            clients = list(self.tables[SHARD.index].get(channel, ()))
            for c in clients:
                self.remove(c, SHARD, channel)
                c.push_raw(_encode(Push([SHARD.unsubscribe, channel, SHARD.count(
                    c.subscriptions)]), c.resp3))
                if c.subscriptions.total() == 0:
                    c.pubsub_mode = False
        if channels:
            logger.debug("slot {} left this shard: unsubscribed {} shard channel(s)",
                         slot, len(channels))

    # ------------------------------------------------------------ introspection

    def names(self, kind) -> dict:
        return self.tables[kind.index]

    def counts(self) -> tuple:
        """(channels, patterns, shard channels) with subscribers, for INFO stats."""
        return tuple(len(table) for table in self.tables)


def serves_slot(view, slot: int) -> bool:
    """Is `slot` served by my shard: by me, or (on a replica) by my master?"""
    owner = view.slot_owner(slot)
    if owner is None:
        return False
    me = view.myself
    return owner is me or (not me.is_master and me.master_name == owner.name)


def _send(clients, headers, body) -> int:
    """Queue one message to each client, encoded once per protocol version."""
    resp2 = headers[0] + body
    resp3 = None
    # A copy: a client over its output buffer limit is closed right here, and closing
    # removes it from `clients`.
    targets = tuple(clients)
    for c in targets:
        if c.resp3:
            if resp3 is None:
                resp3 = headers[1] + body
            c.push_raw(resp3)
        else:
            c.push_raw(resp2)
    return len(targets)


def _encode(value, resp3: bool) -> bytes:
    out = []
    encode(value, out, resp3)
    return b"".join(out)


def hub(server) -> PubSubHub:
    """The node's registry, made on first use."""
    registry = server.pubsub
    if registry is None:
        registry = server.pubsub = PubSubHub(server)
    return registry


def propagate(server, channel: bytes, message: bytes, sharded: bool) -> None:
    """Hand a PUBLISH (every node) or SPUBLISH (my shard) to the cluster bus."""
    if server.cluster_ops is not None:
        server.cluster_ops.publish(channel, message, sharded)


# ---------------------------------------------------------------- (un)subscribing

def subscribe_many(c, kind, names) -> Raw:
    """Subscribe to each name; one ["subscribe", name, count] message per name."""
    registry = hub(c.server)
    out = []
    for name in names:
        registry.add(c, kind, name)
        encode(Push([kind.subscribe, name, kind.count(c.subscriptions)]), out, c.resp3)
    c.pubsub_mode = True
    return Raw(b"".join(out))


def unsubscribe_many(c, kind, names) -> Raw:
    """Unsubscribe from each name (all of this kind when none is given). Names the client
    was not subscribed to are answered too; with nothing to drop at all, one message with
    a null name."""
    subs = c.subscriptions
    registry = c.server.pubsub
    if not names:
        names = list(subs.tables[kind.index]) if subs is not None else []
    out = []
    if not names:
        encode(Push([kind.unsubscribe, None, kind.count(subs)]), out, c.resp3)
    for name in names:
        if registry is not None:
            registry.remove(c, kind, name)
        encode(Push([kind.unsubscribe, name, kind.count(subs)]), out, c.resp3)
    if subs is None or subs.total() == 0:
        c.pubsub_mode = False
    return Raw(b"".join(out))
