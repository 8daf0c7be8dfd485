"""The read-only view of the cluster: everything commands/ may know about it.

Routing (commands/server/routing.py), INFO, Pub/Sub, ROLE and the reading CLUSTER
subcommands see the cluster only through this object; changes go through
cluster/operations.py. The hot path (a keyed command on a slot we serve) reads four
things here: the slot owner table, myself, the open slots and whether the cluster is ok.
The first three are the state's own containers and node record, which live as long as
the process (the state updates them in place), so they are plain attributes here, as
cheap to read as on the state itself; cluster_ok is copied after every state change;
the rest are methods and properties.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluster import describe
from cluster.node_record import ClusterNode

if TYPE_CHECKING:  # pragma: no cover
    from cluster.bus import ClusterBus
    from cluster.state import ClusterState


class ClusterView:
    __slots__ = ("_state", "_bus", "slots", "myself", "migrating_slots_to",
                 "importing_slots_from", "cluster_ok", "writes_held")

    def __init__(self, state: ClusterState, bus: ClusterBus | None = None):
        self._state = state
        self._bus = bus                      # for the clock and link facts; None in tests
        self.slots = state.slots             # slot -> owning master (ClusterNode) or None
        self.myself = state.myself           # this node's record
        self.migrating_slots_to = state.migrating_slots_to      # slot -> target node
        self.importing_slots_from = state.importing_slots_from  # slot -> source node
        # cluster_state:ok, as a plain attribute for the routing fast path: the bus
        # calls refresh() after carrying out every Outcome, the one way the state changes.
        # writes_held: a manual failover pauses writes (the executor's cheap check).
        self.cluster_ok = state.state_ok
        self.writes_held = False
        if bus is not None:
            bus.state_listeners.append(self.refresh)

    def refresh(self) -> None:
        self.cluster_ok = self._state.state_ok
        self.writes_held = not self._bus.writes_resumed.is_set()

    def _now_ms(self) -> int:
        return self._bus.now_ms() if self._bus is not None else 0

    # ------------------------------------------------------------ slots and health

    def slot_owner(self, slot: int) -> ClusterNode | None:
        """The master serving ``slot`` (``.name``, ``.ip``, ``.port``), or None if unassigned."""
        return self.slots[slot]

    def is_mine(self, slot: int) -> bool:
        return self.slots[slot] is self.myself

    def writes_paused(self) -> bool:
        """A manual failover holds client writes on this master (CLUSTER FAILOVER)."""
        return self._state.writes_paused(self._now_ms())

    def wait_writes_resumed(self, timeout: float) -> bool:
        """Block this greenlet until a manual failover's write pause ends (the bus sets
        the event); False if it still holds after `timeout` seconds."""
        if self._bus is None:
            return True
        return self._bus.writes_resumed.wait(timeout)


    # ------------------------------------------------------------ nodes

    @property
    def my_role(self) -> str:
        """'master' or 'slave', as ROLE and INFO replication name them."""
        return "master" if self.myself.is_master else "slave"

    def my_master(self) -> ClusterNode | None:
        me = self.myself
        return None if me.is_master else self._state.nodes.get(me.master_name or "")

    def node(self, name: str) -> ClusterNode | None:
        return self._state.nodes.get(name)

    def preferred_endpoint(self, node: ClusterNode) -> str:
        """How MOVED/ASK name ``node`` (cluster-preferred-endpoint-type)."""
        return describe.preferred_endpoint(self._state, node)

    # ------------------------------------------------------------ CLUSTER replies

    @property
    def tls_cluster(self) -> bool:
        """The bus is TLS (tls-cluster): ports are TLS ports, pport the plaintext ones."""
        return self._bus is not None and self._bus.tls is not None

    def nodes_text(self, use_pport: bool = False) -> str:
        return describe.cluster_nodes(self._state, use_pport)

    def info_text(self) -> str:
        text = describe.cluster_info(self._state)
        if self._bus is not None:
            # The bus counts the links it closed for exceeding their send buffer.
            text = text.replace("total_cluster_links_buffer_limit_exceeded:0",
                                "total_cluster_links_buffer_limit_exceeded:%d"
                                % self._bus.links_buffer_limit_exceeded)
            # Ours (cluster-bus-secret): shown once a secret is set or a frame was refused,
            # as Redis shows a per-type counter only once it is non-zero.
            if self._bus.secret is not None or self._bus.auth_failures:
                text += "cluster_stats_messages_auth_failed_received:%d\r\n" \
                    % self._bus.auth_failures
        return text

    def slots_reply(self, use_pport: bool = False) -> list:
        return describe.cluster_slots(self._state, use_pport)

    def shards_reply(self) -> list:
        return describe.cluster_shards(self._state, self.tls_cluster)

    def links_reply(self) -> list:
        return describe.cluster_links(self._state, self._bus.link_info)

    def replica_lines(self, master_name: str, use_pport: bool = False) -> list:
        return describe.cluster_replicas(self._state, master_name, use_pport)

    def connections(self) -> int:
        """Open bus links (INFO cluster_connections)."""
        return len(self._bus.links) if self._bus is not None else 0
