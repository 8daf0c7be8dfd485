"""The read-only view of the cluster that commands/ uses for routing and replies.

Everything here is O(1) per call: the state keeps a 16384-entry owner table.
commands/ must not mutate the state through this view; mutations go through
the ClusterState methods (meet, add_slots, ...) whose effects the bus runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluster.node_record import ClusterNode

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState


class ClusterView:
    __slots__ = ("_state",)

    def __init__(self, state: ClusterState):
        self._state = state

    def slot_owner(self, slot: int) -> ClusterNode | None:
        """The master serving ``slot`` (``.name``, ``.ip``, ``.port``), or None if unassigned."""
        return self._state.slots[slot]

    def slot_owner_address(self, slot: int) -> tuple[str, str, int] | None:
        """(node id, ip, port) of the owner, for MOVED/ASK replies."""
        node = self._state.slots[slot]
        return None if node is None else (node.name, node.ip, node.port)

    def is_mine(self, slot: int) -> bool:
        return self._state.slots[slot] is self._state.myself

    def is_cluster_ok(self) -> bool:
        return self._state.state_ok

    def writes_paused(self, now_ms: int) -> bool:
        """A manual failover holds client writes on this master (CLUSTER FAILOVER)."""
        return now_ms < self._state.manual_failover_pause_until_ms

    @property
    def myself(self) -> ClusterNode:
        return self._state.myself

    @property
    def my_role(self) -> str:
        """'master' or 'slave', as ROLE and INFO replication name them."""
        return "master" if self._state.myself.is_master else "slave"

    def my_master(self) -> ClusterNode | None:
        me = self._state.myself
        return None if me.is_master else self._state.nodes.get(me.master_name or "")

    def migrating_to(self, slot: int) -> ClusterNode | None:
        return self._state.migrating_slots_to.get(slot)

    def importing_from(self, slot: int) -> ClusterNode | None:
        return self._state.importing_slots_from.get(slot)

    def node(self, name: str) -> ClusterNode | None:
        return self._state.nodes.get(name)
