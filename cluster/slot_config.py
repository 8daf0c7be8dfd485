"""Slot ownership and configEpochs: update_slots_config_with, epoch collisions and bumps.

A mixin of :class:`cluster.state.ClusterState`. The rule that makes the
cluster converge: for every slot, the claim with the highest configEpoch wins.
"""

from __future__ import annotations

from itertools import repeat
from typing import TYPE_CHECKING

from cluster import messages as m
from cluster.epochs import next_epoch
from cluster.node_record import ClusterNode
from cluster.slots import SLOT_NUMBERS, SlotRange, are_sorted_ranges, ranges_difference

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState


# More slots moved at once (or a whole range bound): the owners' cached ranges are
# dropped and rebuilt when next read, rather than adjusted slot by slot.
_FEW_MOVES = 32


class SlotConfig:
    def update_slots_config_with(self: ClusterState, sender: ClusterNode, sender_config_epoch: int,
                                 claimed: list[SlotRange]) -> None:
        """Rebind the slots ``sender`` claims where its configEpoch beats the owner's."""
        me = self.myself
        if sender is me:
            self._log("notice", "Discarding UPDATE message about myself.")
            return
        cur_master = self.master_of(me)
        new_master = None
        migrated_our_slots = 0
        dirty_slots: list[int] = []
        owned_claims = 0
        table = self.slots
        importing = self.importing_slots_from
        not_claiming = self.owner_not_claiming_slot
        sender_slots = sender.slots
        moved: list[tuple[ClusterNode | None, int]] = []    # (old owner, slot)
        bound_whole_ranges = False
        # This loop runs once per claimed slot, 16384 per node that learns a full
        # cluster: it inlines _add_slot and keeps everything in locals. Two kinds of
        # range are handled whole, in C: one the sender already owns (what every
        # heartbeat of a stable master claims, and all but one slot of each one a
        # reshard sends), and one nobody owns yet (what a joining node learns from
        # each master's first heartbeat).
        for start, end in claimed:
            span = end + 1 - start
            owners = table[start:end + 1]
            if owners.count(sender) == span:
                owned_claims += span
                if not_claiming:    # usually a slot or two: look at those, not the range
                    not_claiming.difference_update(
                        [slot for slot in not_claiming if start <= slot <= end]
                        if len(not_claiming) <= end - start else range(start, end + 1))
                continue
            if owners.count(None) == span and not any(start <= s <= end for s in importing):
                claimed_slots = range(start, end + 1)
                table[start:end + 1] = [sender] * span
                sender_slots.update(SLOT_NUMBERS[start:end + 1])
                if not_claiming:
                    not_claiming.difference_update(claimed_slots)
                self.slots_assigned += span
                owned_claims += span
                moved.extend(zip(repeat(None), claimed_slots))
                bound_whole_ranges = True
                continue
            for slot in range(start, end + 1):
                owner = table[slot]
                if owner is sender:
                    owned_claims += 1
                    if not_claiming:
                        not_claiming.discard(slot)
                    continue
                # An importing slot is being moved here by hand (SETSLOT); leave it alone.
                if slot in importing:
                    continue
                if owner is None or owner.config_epoch < sender_config_epoch \
                        or slot in not_claiming:
                    if owner is None:
                        self.slots_assigned += 1
                    else:
                        if owner is me and self.hooks.count_keys_in_slot(slot):
                            dirty_slots.append(slot)
                        if owner is cur_master:
                            new_master = sender
                            migrated_our_slots += 1
                        owner.slots.discard(slot)
                    sender_slots.add(slot)
                    table[slot] = sender
                    not_claiming.discard(slot)
                    owned_claims += 1
                    moved.append((owner, slot))
        if len(moved) <= _FEW_MOVES and not bound_whole_ranges:
            for owner, slot in moved:  # a reshard's heartbeat: one slot, ranges adjusted
                if owner is not None:
                    owner.slot_removed(slot)
                sender.slot_added(slot)
        else:
            for owner in {owner for owner, _ in moved if owner is not None}:
                owner.slots_changed()
            sender.slots_changed()
        if len(sender_slots) > owned_claims:
            # Slots bound to the sender that it no longer claims stay bound,
            # but anyone, whatever its epoch, may take them now.
            if are_sorted_ranges(claimed):     # as every peer sends them: no set built
                not_claiming.update(ranges_difference(sender.slot_ranges, claimed))
            else:
                not_claiming.update(sender_slots.difference(
                    *(range(start, end + 1) for start, end in claimed)))
        if moved:
            self._update_state_later()
            self._save(fsync=True)
        my_master = self.nodes.get(me.master_name) if me.is_replica and me.master_name else None
        grand_master = self.nodes.get(my_master.master_name) \
            if my_master is not None and my_master.is_replica and my_master.master_name else None
        if new_master is not None and cur_master is not None and not cur_master.slots \
                and (self.config.allow_replica_migration or len(sender.slots) == migrated_our_slots):
            # My master (or I) lost its last slot to the sender, say after a
            # failover: follow the new owner of the shard.
            self._log("warning", "Configuration change detected. Reconfiguring myself "
                                 f"as a replica of {sender.name}")
            self.set_my_master(sender)
        elif grand_master is not None and grand_master is not me:
            # My master turned into a replica itself (it lost its slots); no slot
            # move will ever concern me again, so re-point now. (A replica of a
            # replica of myself can happen after TAKEOVER: leave that to the admin.)
            self._log("warning", "I'm a sub-replica! Reconfiguring myself as a replica of "
                                 f"grandmaster {grand_master.name}")
            self.set_my_master(grand_master)
        elif dirty_slots:
            # We lost slots that still hold keys: the new owner's data wins.
            for slot in dirty_slots:
                self.hooks.delete_keys_in_slot(slot)

    def process_update(self: ClusterState, msg: m.Update, sender: ClusterNode | None) -> None:
        """UPDATE: ``msg.node_id`` owns these slots under a newer configEpoch than we know."""
        if sender is None:
            return
        node = self.nodes.get(msg.node_id)
        if node is None or node.config_epoch >= msg.config_epoch:
            return
        if node.is_replica:
            self.set_node_as_master(node)
        node.config_epoch = msg.config_epoch
        self._save(fsync=True)
        self.update_slots_config_with(node, msg.config_epoch, msg.slots)

    def handle_config_epoch_collision(self: ClusterState, sender: ClusterNode) -> None:
        """Two masters with one configEpoch: the one with the smaller id takes a new epoch."""
        me = self.myself
        if sender.config_epoch != me.config_epoch or not sender.is_master or not me.is_master:
            return
        if sender.name <= me.name:
            return  # the other node moves; the greatest id never does
        self.current_epoch = next_epoch(self.current_epoch)
        me.config_epoch = self.current_epoch
        self._save(fsync=True)
        self._log("verbose", f"WARNING: configEpoch collision with node {sender.name}. "
                             f"configEpoch set to {me.config_epoch}")

    def bump_config_epoch_without_consensus(self: ClusterState) -> bool:
        """Take a new unique configEpoch unless mine is already the greatest (and non-zero)."""
        me = self.myself
        max_epoch = max(self.current_epoch, *(n.config_epoch for n in self.nodes.values()))
        if me.config_epoch == 0 or me.config_epoch != max_epoch:
            self.current_epoch = next_epoch(self.current_epoch)
            me.config_epoch = self.current_epoch
            self._save(fsync=True)
            self._log("warning", f"New configEpoch set to {me.config_epoch}")
            return True
        return False
