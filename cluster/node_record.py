"""The record the state keeps for each known node (Redis's ``clusterNode``)."""

from __future__ import annotations

import functools
import random

from cluster.slots import SlotRange, ranges_minus_slot, ranges_plus_slot, slots_to_ranges

# Node flags, with Redis's bit values: they travel in headers and gossip entries.
NODE_MASTER = 1
NODE_SLAVE = 2
NODE_PFAIL = 4
NODE_FAIL = 8
NODE_MYSELF = 16
NODE_HANDSHAKE = 32
NODE_NOADDR = 64
NODE_MEET = 128
NODE_MIGRATE_TO = 256  # a master that has (or had) replicas: a replica-migration target
NODE_NOFAILOVER = 512

# CLUSTER NODES prints flags in this order; MEET and MIGRATE_TO are never printed.
FLAG_NAMES = (
    (NODE_MYSELF, "myself"), (NODE_MASTER, "master"), (NODE_SLAVE, "slave"),
    (NODE_PFAIL, "fail?"), (NODE_FAIL, "fail"), (NODE_HANDSHAKE, "handshake"),
    (NODE_NOADDR, "noaddr"), (NODE_NOFAILOVER, "nofailover"),
)
FLAGS_BY_NAME = {name: bit for bit, name in FLAG_NAMES}


def random_node_name(rng: random.Random) -> str:
    """A new 40-hex-digit node (or shard) id."""
    return "%040x" % rng.getrandbits(160)


@functools.lru_cache(maxsize=None)
def flags_to_text(flags: int) -> str:
    """The flags as CLUSTER NODES and nodes.conf print them. Remembered per value (ten
    bits, so at most 1024): every save of nodes.conf prints every node's."""
    names = [name for bit, name in FLAG_NAMES if flags & bit]
    return ",".join(names) if names else "noflags"


class ClusterNode:
    """One node as this node sees it. Times are in the state's ms clock."""

    __slots__ = (
        "name", "flags", "ctime", "ip", "port", "pport", "cport", "hostname", "shard_id",
        "config_epoch", "master_name", "repl_offset", "slots", "_ranges",
        "ping_sent", "pong_received", "ping_early", "data_received", "fail_time", "voted_time",
        "fail_reports", "link", "inbound_link", "connecting", "meet_sent",
        "no_inbound_since", "orphaned_time",
    )

    def __init__(self, name: str, flags: int, now_ms: int):
        self.name = name
        self.flags = flags
        self.ctime = now_ms
        self.ip = ""
        self.port = 0
        self.pport = 0            # a TLS cluster's plaintext client port (0: none, or not TLS)
        self.cport = 0
        self.hostname = ""        # its cluster-announce-hostname, "" when it has none
        self.shard_id = ""
        self.config_epoch = 0
        self.master_name: str | None = None  # set for replicas (when the master is known)
        self.repl_offset = 0
        self.slots: set[int] = set()
        self._ranges: list[SlotRange] | None = None
        self.ping_sent = 0        # 0 means no ping pending
        self.pong_received = 0
        self.ping_early = 0.0     # the next ping is due this fraction of ping_interval early
        self.data_received = 0
        self.fail_time = 0
        self.voted_time = 0       # when I last voted for a replica of this master; 0: never
        # sender name -> time of its latest report that this node is PFAIL/FAIL
        # Failure reports about this node: reporter name -> when, oldest first; None
        # while there are none (nearly always): the gossip path then tests a pointer
        # instead of reading a dict, for every entry of every heartbeat.
        self.fail_reports: dict[str, int] | None = None
        self.link = None          # outbound link id
        self.inbound_link = None  # inbound link id, once the peer identified itself
        self.connecting = False   # a Connect effect is outstanding
        self.meet_sent = 0
        self.no_inbound_since = now_ms
        self.orphaned_time = 0    # since when this master has had no working replica (migration)

    # Flag helpers, named as Redis's macros.
    @property
    def is_master(self) -> bool:
        return bool(self.flags & NODE_MASTER)

    @property
    def is_replica(self) -> bool:
        return bool(self.flags & NODE_SLAVE)

    @property
    def is_myself(self) -> bool:
        return bool(self.flags & NODE_MYSELF)

    @property
    def in_handshake(self) -> bool:
        return bool(self.flags & NODE_HANDSHAKE)

    @property
    def timed_out(self) -> bool:  # PFAIL
        return bool(self.flags & NODE_PFAIL)

    @property
    def failed(self) -> bool:
        return bool(self.flags & NODE_FAIL)

    @property
    def is_voting_master(self) -> bool:
        """A master serving slots: only these count for failure reports and votes (Valkey 8)."""
        return bool(self.flags & NODE_MASTER) and bool(self.slots)

    @property
    def slot_ranges(self) -> list[SlotRange]:
        # Cached: myself's ranges go into every heartbeat header.
        if self._ranges is None:
            self._ranges = slots_to_ranges(self.slots)
        return self._ranges

    def slots_changed(self) -> None:
        self._ranges = None

    # One slot gained or lost (after self.slots.add / discard): the cached ranges are
    # adjusted rather than dropped, so a reshard, which moves one slot at a time, does
    # not sort a master's thousands of slots again after each. A new list each time:
    # the old one may sit in a header already built.

    def slot_added(self, slot: int) -> None:
        if self._ranges is not None:
            self._ranges = ranges_plus_slot(self._ranges, slot)

    def slot_removed(self, slot: int) -> None:
        if self._ranges is not None:
            self._ranges = ranges_minus_slot(self._ranges, slot)

    def __repr__(self) -> str:
        return f"<ClusterNode {self.name[:8]} {self.ip}:{self.port} flags={self.flags}>"
