"""clusterUpdateState: is the cluster ok as this node sees it, and how many masters
serve slots (cluster_size, the quorum for FAIL and for failover votes).

A mixin of :class:`cluster.state.ClusterState`. Called at the end of an entry point
when something flagged it (``_update_state_later``, Redis's
CLUSTER_TODO_UPDATE_STATE in clusterBeforeSleep) and from the cron while the state
is fail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluster.node_record import NODE_FAIL, NODE_MASTER, NODE_PFAIL
from cluster.slots import CLUSTER_SLOTS

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState

CLUSTER_WRITABLE_DELAY = 2000  # ms a restarted master stays FAIL before serving


class StateUpdate:
    def _fail_until_covered(self: ClusterState) -> bool:
        """The state is fail and stays fail until every slot has an owner, whatever
        changes meanwhile; only cluster_size can move. Updating the state is a walk of
        all N nodes (for cluster_size), and a node joining a cluster of N masters learns
        their slots one heartbeat at a time: updating after each made joining N^2 and
        forming N^3, and so did updating on every cron (10 a second) while the last
        slots were missing (near the end of forming 1000 simulated nodes, that walk was
        70% of a py-spy sample). So in this state the cron updates it once a second:
        cluster_size may lag by up to a second while the node cannot serve anyway. The
        packet that brings the last slot owner updates it at once."""
        return not self.state_ok and self.config.require_full_coverage \
            and self.slots_assigned < CLUSTER_SLOTS

    def update_cluster_state(self: ClusterState) -> None:
        now = self._now
        me = self.myself
        if me.is_master and not self.state_ok and now - self._start_ms < CLUSTER_WRITABLE_DELAY:
            return  # give a restarted master time to learn the new configuration
        ok = True
        if self.config.require_full_coverage:
            if self.slots_assigned < CLUSTER_SLOTS:
                ok = False
            else:
                ok = not any(n.flags & NODE_FAIL and n.slots for n in self.nodes.values())
        size = reachable = 0
        for n in self.nodes.values():
            if n.flags & NODE_MASTER and n.slots:
                size += 1
                if not n.flags & (NODE_FAIL | NODE_PFAIL):
                    reachable += 1
        self.size = size
        if reachable < size // 2 + 1:
            ok = False
            self._among_minority_time = now
        if ok != self.state_ok:
            rejoin_delay = min(max(self.config.node_timeout, 500), 5000)
            if ok and me.is_master and self._among_minority_time is not None \
                    and now - self._among_minority_time < rejoin_delay:
                return  # just rejoined the majority: let the others reconfigure us first
            self._log("warning", f"Cluster state changed: {'ok' if ok else 'fail'}")
            self.state_ok = ok
