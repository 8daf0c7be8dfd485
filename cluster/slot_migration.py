"""CLUSTER SETSLOT: the hand-driven slot migration protocol redis-cli --cluster uses.

A mixin of :class:`cluster.state.ClusterState`. Moving slot S from A to B:

    B: SETSLOT S IMPORTING A     B accepts ASKING commands for S
    A: SETSLOT S MIGRATING B     A answers -ASK B for keys of S it no longer has
    A: MIGRATE ... KEYS ...      the keys move (RESTORE-ASKING on B)
    B: SETSLOT S NODE B          B owns S, bumps its configEpoch so the cluster adopts it
    A: SETSLOT S NODE B          A drops its migrating state (and the slot)

The open states are local to the node; they are saved in nodes.conf as [S->-id] and
[S-<-id] on the myself line, and shown the same way in CLUSTER NODES.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from cluster.entry_point import entry_point
from cluster.errors import ClusterError
from cluster.slots import parse_slot

if TYPE_CHECKING:  # pragma: no cover
    from cluster.node_record import ClusterNode
    from cluster.state import ClusterState

SETSLOT_USAGE = "Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class SlotMigration:
    @entry_point
    def set_slot(self: ClusterState, args: Sequence, now_ms: int) -> None:
        """CLUSTER SETSLOT <slot> IMPORTING|MIGRATING|NODE <id> | STABLE (args after SETSLOT)."""
        if not self.myself.is_master:
            raise ClusterError("Please use SETSLOT only with masters.")
        slot = parse_slot(args[0])
        action = _text(args[1]).lower() if len(args) > 1 else ""
        if action == "migrating" and len(args) == 3:
            if self.slots[slot] is not self.myself:
                raise ClusterError(f"I'm not the owner of hash slot {slot}")
            self.migrating_slots_to[slot] = self._setslot_target(args[2], "I don't know about node")
        elif action == "importing" and len(args) == 3:
            if self.slots[slot] is self.myself:
                raise ClusterError(f"I'm already the owner of hash slot {slot}")
            self.importing_slots_from[slot] = self._setslot_target(args[2], "I don't know about node")
        elif action == "stable" and len(args) == 2:
            self.migrating_slots_to.pop(slot, None)
            self.importing_slots_from.pop(slot, None)
        elif action == "node" and len(args) == 3:
            self._set_slot_node(slot, self._setslot_target(args[2], "Unknown node"))
        else:
            raise ClusterError(SETSLOT_USAGE)
        self._update_state_later()
        self._save()

    def _setslot_target(self: ClusterState, name_arg, unknown: str) -> ClusterNode:
        name = _text(name_arg)
        node = self.lookup_node(name)
        if node is None:
            raise ClusterError(f"{unknown} {name}")
        if not node.is_master:
            raise ClusterError("Target node is not a master")
        return node

    def _set_slot_node(self: ClusterState, slot: int, node: ClusterNode) -> None:
        me = self.myself
        keys = self.hooks.count_keys_in_slot(slot)
        if self.slots[slot] is me and node is not me and keys:
            raise ClusterError(f"Can't assign hashslot {slot} to a different node while I "
                               "still hold keys for this hash slot.")
        # A migrating slot whose keys are all gone may be handed over: that closes it.
        if not keys:
            self.migrating_slots_to.pop(slot, None)
        slot_was_mine = self.slots[slot] is me
        if self.slots[slot] is not None:
            self._del_slot(slot)
        self._add_slot(slot, node)
        # A master left without slots follows the node that took its last one.
        if slot_was_mine and node is not me and not me.slots and \
                self.config.allow_replica_migration:
            self.set_my_master(node)
        if node is me and slot in self.importing_slots_from:
            # The slot moved by hand: take a new epoch so the cluster adopts our claim over
            # the old owner's, and tell everyone at once. Only a new epoch is saved with
            # fsync (the bump asks for it), as in Redis: the slot itself is saved without,
            # like every SETSLOT -- a reshard closes a slot every few ms.
            if self.bump_config_epoch_without_consensus():
                self._log("warning", f"configEpoch updated after importing slot {slot}")
            del self.importing_slots_from[slot]
            self.broadcast_pong()
