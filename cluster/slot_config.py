"""Slot ownership and configEpochs: update_slots_config_with, epoch collisions and bumps.

A mixin of :class:`cluster.state.ClusterState`. The rule that makes the
cluster converge: for every slot, the claim with the highest configEpoch wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluster.node_record import ClusterNode
from cluster.slots import SlotRange

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState


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
        changed = False
        claimed_slots: set[int] = set()
        for start, end in claimed:
            for slot in range(start, end + 1):
                claimed_slots.add(slot)
                owner = self.slots[slot]
                if owner is sender:
                    self.owner_not_claiming_slot.discard(slot)
                    continue
                # An importing slot is being moved here by hand (SETSLOT); leave it alone.
                if slot in self.importing_slots_from:
                    continue
                if owner is None or owner.config_epoch < sender_config_epoch \
                        or slot in self.owner_not_claiming_slot:
                    if owner is me and self.hooks.count_keys_in_slot(slot):
                        dirty_slots.append(slot)
                    if owner is not None and owner is cur_master:
                        new_master = sender
                        migrated_our_slots += 1
                    self._add_slot(slot, sender)
                    self.owner_not_claiming_slot.discard(slot)
                    changed = True
        # Slots we bind to the sender that it no longer claims stay bound, but
        # anyone with any epoch may take them now.
        for slot in sender.slots:
            if slot not in claimed_slots:
                self.owner_not_claiming_slot.add(slot)
        if not changed:
            return
        self._update_state_later()
        self._save(fsync=True)
        if new_master is not None and cur_master is not None and not cur_master.slots \
                and (self.config.allow_replica_migration or len(sender.slots) == migrated_our_slots):
            self._log("notice", "Configuration change detected. Reconfiguring myself "
                                f"as a replica of {sender.name}")
            self.set_my_master(sender)
        elif dirty_slots:
            # We lost slots that still hold keys: the new owner's data wins.
            for slot in dirty_slots:
                self.hooks.delete_keys_in_slot(slot)

    def handle_config_epoch_collision(self: ClusterState, sender: ClusterNode) -> None:
        """Two masters with one configEpoch: the one with the smaller id takes a new epoch."""
        me = self.myself
        if sender.config_epoch != me.config_epoch or not sender.is_master or not me.is_master:
            return
        if sender.name <= me.name:
            return  # the other node moves; the greatest id never does
        self.current_epoch += 1
        me.config_epoch = self.current_epoch
        self._save(fsync=True)
        self._log("verbose", f"WARNING: configEpoch collision with node {sender.name}. "
                             f"configEpoch set to {me.config_epoch}")

    def bump_config_epoch_without_consensus(self: ClusterState) -> bool:
        """Take a new unique configEpoch unless mine is already the greatest (and non-zero)."""
        me = self.myself
        max_epoch = max(self.current_epoch, *(n.config_epoch for n in self.nodes.values()))
        if me.config_epoch == 0 or me.config_epoch != max_epoch:
            self.current_epoch += 1
            me.config_epoch = self.current_epoch
            self._save(fsync=True)
            self._log("warning", f"New configEpoch set to {me.config_epoch}")
            return True
        return False
