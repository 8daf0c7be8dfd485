"""The operations behind CLUSTER subcommands, plus the fault hooks tests use.

A mixin of :class:`cluster.state.ClusterState`. Each operation is an
``@entry_point``: it either raises :class:`ClusterError` with Redis's exact
error text (no ``ERR`` prefix), before changing anything, or returns an Outcome
(the effects to carry out, and the reply when the subcommand has one). Argument parsing that decides which error
Redis returns lives here, so every adapter gets identical errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

from cluster import messages as m
from cluster.effects import ReplicationChanged
from cluster.entry_point import entry_point
from cluster.errors import ClusterError
from cluster.node_record import NODE_HANDSHAKE, NODE_MYSELF, random_node_name
from cluster.slots import CLUSTER_SLOTS, parse_slot

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState

Arg = bytes | str | int


def _text(value: Arg) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _parse_int(value: Arg) -> int | None:
    """Redis's string2ll: optional '-', digits, no leading zeros or spaces."""
    if isinstance(value, int):
        return value
    text = _text(value)
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or (len(digits) > 1 and digits[0] == "0"):
        return None
    number = int(text)
    return number if -(1 << 63) <= number < (1 << 63) else None


class ClusterAdmin:
    # ------------------------------------------------------------------
    # MEET
    # ------------------------------------------------------------------

    @entry_point
    def meet(self: ClusterState, ip: Arg, port: Arg, cport: Arg | None, now_ms: int) -> None:
        """CLUSTER MEET ip port [cport]. Errors are Redis 7.0's."""
        base = _parse_int(port)
        if base is None:
            raise ClusterError(f"Invalid TCP base port specified: {_text(port)}")
        if cport is None:
            bus = base + 10000
        else:
            bus = _parse_int(cport)
            if bus is None:
                raise ClusterError(f"Invalid TCP bus port specified: {_text(cport)}")
        # The handshake itself: cluster/handshake.py.
        if not self.start_handshake(_text(ip), base, bus):
            raise ClusterError(f"Invalid node address specified: {_text(ip)}:{_text(port)}")

    # ------------------------------------------------------------------
    # Slots
    # ------------------------------------------------------------------

    def _check_slot_assignments(self: ClusterState, slots: Iterable[int], deleting: bool,
                                seen: set[int]) -> None:
        for slot in slots:
            owner = self.slots[slot]
            if deleting and owner is None:
                raise ClusterError(f"Slot {slot} is already unassigned")
            if not deleting and owner is not None:
                raise ClusterError(f"Slot {slot} is already busy")
            if slot in seen:
                raise ClusterError(f"Slot {slot} specified multiple times")
            seen.add(slot)

    def _parse_slot_ranges(self: ClusterState, args: Sequence[Arg], deleting: bool) -> set[int]:
        if not args or len(args) % 2:
            name = "delslotsrange" if deleting else "addslotsrange"
            raise ClusterError(f"wrong number of arguments for 'cluster|{name}' command")
        seen: set[int] = set()
        for i in range(0, len(args), 2):
            start, end = parse_slot(args[i]), parse_slot(args[i + 1])
            if start > end:
                raise ClusterError(f"start slot number {start} is greater than end slot number {end}")
            self._check_slot_assignments(range(start, end + 1), deleting, seen)
        return seen

    def _parse_slot_list(self: ClusterState, args: Sequence[Arg], deleting: bool) -> set[int]:
        if not args:
            name = "delslots" if deleting else "addslots"
            raise ClusterError(f"wrong number of arguments for 'cluster|{name}' command")
        seen: set[int] = set()
        for arg in args:
            self._check_slot_assignments((parse_slot(arg),), deleting, seen)
        return seen

    def _assign_my_slots(self: ClusterState, slots: set[int]) -> None:
        for slot in sorted(slots):
            self.importing_slots_from.pop(slot, None)  # ADDSLOTS ends an import
            self._add_slot(slot, self.myself)
        self._update_state_later()
        self._save()

    def _unassign_slots(self: ClusterState, slots: set[int]) -> None:
        for slot in sorted(slots):
            self.importing_slots_from.pop(slot, None)
            self.migrating_slots_to.pop(slot, None)
            self._del_slot(slot)
        self._update_state_later()
        self._save()

    @entry_point
    def add_slots(self: ClusterState, args: Sequence[Arg], now_ms: int) -> None:
        """CLUSTER ADDSLOTS slot... (all or nothing)."""
        self._assign_my_slots(self._parse_slot_list(args, False))

    @entry_point
    def add_slots_range(self: ClusterState, args: Sequence[Arg], now_ms: int) -> None:
        """CLUSTER ADDSLOTSRANGE start end [start end ...]."""
        self._assign_my_slots(self._parse_slot_ranges(args, False))

    @entry_point
    def del_slots(self: ClusterState, args: Sequence[Arg], now_ms: int) -> None:
        self._unassign_slots(self._parse_slot_list(args, True))

    @entry_point
    def del_slots_range(self: ClusterState, args: Sequence[Arg], now_ms: int) -> None:
        self._unassign_slots(self._parse_slot_ranges(args, True))

    @entry_point
    def flush_slots(self: ClusterState, now_ms: int) -> None:
        """CLUSTER FLUSHSLOTS: drop all my slots; the dataset must be empty."""
        if self.hooks.db_size() != 0:
            raise ClusterError("DB must be empty to perform CLUSTER FLUSHSLOTS.")
        self._unassign_slots(set(self.myself.slots))

    @entry_point
    def count_failure_reports(self: ClusterState, node_id: Arg, now_ms: int) -> int:
        """CLUSTER COUNT-FAILURE-REPORTS; the reply is the count (expired reports dropped)."""
        node = self.nodes.get(_text(node_id))
        if node is None:
            raise ClusterError(f"Unknown node {_text(node_id)}")
        return self.node_failure_reports_count(node)

    # ------------------------------------------------------------------
    # Epochs
    # ------------------------------------------------------------------

    @entry_point
    def set_config_epoch(self: ClusterState, epoch_arg: Arg, now_ms: int) -> None:
        """CLUSTER SET-CONFIG-EPOCH: only on a node that knows nobody else."""
        epoch = _parse_int(epoch_arg)
        if epoch is None:
            raise ClusterError("value is not an integer or out of range")
        if epoch < 0:
            raise ClusterError(f"Invalid config epoch specified: {epoch}")
        if len(self.nodes) > 1:
            raise ClusterError("The user can assign a config epoch only when the node "
                               "does not know any other node.")
        if self.myself.config_epoch != 0:
            raise ClusterError("Node config epoch is already non-zero")
        self.myself.config_epoch = epoch
        self._log("warning", f"configEpoch set to {epoch} via CLUSTER SET-CONFIG-EPOCH")
        if self.current_epoch < epoch:
            self.current_epoch = epoch
        # No fsync: a lost epoch is repaired by the collision rule.
        self._update_state_later()
        self._save()

    @entry_point
    def bump_epoch(self: ClusterState, now_ms: int) -> str:
        """CLUSTER BUMPEPOCH; the reply is "BUMPED <epoch>" or "STILL <epoch>"."""
        bumped = self.bump_config_epoch_without_consensus()
        return f"{'BUMPED' if bumped else 'STILL'} {self.myself.config_epoch}"

    # ------------------------------------------------------------------
    # FORGET and RESET
    # ------------------------------------------------------------------

    @entry_point
    def forget(self: ClusterState, node_id: Arg, now_ms: int) -> None:
        """CLUSTER FORGET: delete the node and ignore it in gossip for blacklist_ttl."""
        name = _text(node_id)
        node = self.nodes.get(name)
        if node is None:
            raise ClusterError(f"Unknown node {name}")
        if node is self.myself:
            raise ClusterError("I tried hard but I can't forget myself...")
        if self.myself.is_replica and self.myself.master_name == name:
            raise ClusterError("Can't forget my master!")
        self.blacklist[name] = now_ms + self.config.blacklist_ttl
        self.del_node(node)
        self._update_state_later()
        self._save()

    @entry_point
    def reset(self: ClusterState, hard: bool, now_ms: int) -> None:
        """CLUSTER RESET [SOFT|HARD]: forget everyone; HARD also takes a new identity."""
        me = self.myself
        if me.is_master and self.hooks.db_size() != 0:
            raise ClusterError("CLUSTER RESET can't be called with master nodes containing keys")
        if me.is_replica:
            self.set_node_as_master(me)
            self._effects.append(ReplicationChanged(None, flush_data=True))
        self.importing_slots_from.clear()
        self.migrating_slots_to.clear()
        self.owner_not_claiming_slot.clear()
        for slot in range(CLUSTER_SLOTS):
            self._del_slot(slot)
        for node in list(self.nodes.values()):
            if node is not me:
                self.del_node(node)
        self.blacklist.clear()
        if hard:
            self.current_epoch = self.last_vote_epoch = 0
            me.config_epoch = 0
            self._log("warning", "configEpoch set to 0 via CLUSTER RESET HARD")
            self.rename_node(me, random_node_name(self.rng))
            me.shard_id = random_node_name(self.rng)
            self._log("notice", f"Node hard reset, now I'm {me.name}")
        self._update_state_later()
        self._save(fsync=True)

    # ------------------------------------------------------------------
    # Pub/Sub across the bus
    # ------------------------------------------------------------------

    def publish_targets(self: ClusterState, channel: bytes, message: bytes,
                        sharded: bool) -> tuple:
        """(message, link ids) that propagate PUBLISH to every node, SPUBLISH to the
        nodes of my shard (clusterPropagatePublish); (None, ()) when the payload is too
        large for the bus. Not an entry point: publishing changes nothing in the cluster
        state, so the caller sends the message itself (ClusterOperations.publish) and
        every PUBLISH skips the bookkeeping of a state change."""
        if len(channel) + len(message) > m.MAX_FRAME_BYTES - 256:
            return None, ()
        me = self.myself
        if sharded:
            master = self.master_of(me)
            nodes = [node for node in self.nodes.values()
                     if node is master or (master is not None and
                                           node.master_name == master.name)]
        else:
            nodes = self.node_list()
        msg = (m.PublishShard if sharded else m.Publish)(me.name, channel, message)
        links = []
        for node in nodes:
            if node is me or node.link is None or node.flags & (NODE_MYSELF | NODE_HANDSHAKE):
                continue
            if node.name in self.isolated_nodes or node.link not in self.links:
                continue                 # fault hook: traffic to this node is dropped
            self.stats_sent[msg.TYPE] += 1
            links.append(node.link)
        return msg, links

    # ------------------------------------------------------------------
    # Fault hooks (DEBUG DROP-CLUSTER-PACKET-FILTER, DEBUG CLUSTERLINK KILL, partitions)
    # ------------------------------------------------------------------

    @entry_point
    def set_drop_packet_filter(self: ClusterState, msg_type: int, now_ms: int | None = None) -> None:
        """Drop received packets of one type; -1 drops none, -2 drops every type."""
        if not -2 <= msg_type < m.MESSAGE_TYPE_COUNT:
            raise ClusterError("Invalid packet type")
        self.drop_packet_filter = msg_type

    @entry_point
    def isolate_node(self: ClusterState, node_id: str, isolated: bool = True,
                     now_ms: int | None = None) -> None:
        """Drop every packet to or from ``node_id`` (a partition without root)."""
        if isolated:
            self.isolated_nodes.add(node_id)
        else:
            self.isolated_nodes.discard(node_id)

    @entry_point
    def kill_links(self: ClusterState, direction: str, node_id: Arg, now_ms: int) -> None:
        """DEBUG CLUSTERLINK KILL to|from|all <node-id>."""
        direction = direction.lower()
        if direction not in ("to", "from", "all"):
            raise ClusterError("Unknown direction " + direction)
        node = self.nodes.get(_text(node_id))
        if node is None:
            raise ClusterError(f"Unknown node {_text(node_id)}")
        if direction in ("to", "all") and node.link is not None:
            self.free_link(node.link)
        if direction in ("from", "all") and node.inbound_link is not None:
            self.free_link(node.inbound_link)
