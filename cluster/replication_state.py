"""The replica's side of the cluster: CLUSTER REPLICATE, the replication link as
the cluster sees it, cluster-replica-no-failover, and replica migration.

A mixin of :class:`cluster.state.ClusterState`. Replication itself (PSYNC,
the stream) is node.py's; it tells the state how the link to the master is
doing through :meth:`set_master_link_status`, because the election refuses a
replica whose data is too old.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluster.entry_point import entry_point
from cluster.errors import ClusterError
from cluster.failover import NO_DATA_AGE
from cluster.node_record import (NODE_FAIL, NODE_MIGRATE_TO, NODE_NOFAILOVER, NODE_PFAIL,
                                 ClusterNode)

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState

REPLICA_MIGRATION_DELAY = 5000  # a master must stay orphaned this long before a replica moves


class ReplicationState:
    def _init_replication(self: ClusterState) -> None:
        self.master_link_up = False
        # When the link to the master went down; None: never connected since
        # this process started (Redis's "down since EVER": no automatic failover).
        self.master_link_down_since: int | None = None

    # ------------------------------------------------------------------
    # CLUSTER REPLICATE
    # ------------------------------------------------------------------

    @entry_point
    def replicate(self: ClusterState, node_id: str | bytes, now_ms: int) -> None:
        """CLUSTER REPLICATE <node-id>: become a replica of that master."""
        name = node_id.decode("utf-8", "replace") if isinstance(node_id, bytes) else node_id
        node = self.nodes.get(name)
        if node is None:
            raise ClusterError(f"Unknown node {name}")
        me = self.myself
        if node is me:
            raise ClusterError("Can't replicate myself")
        if node.is_replica:
            raise ClusterError("I can only replicate a master, not a replica.")
        # A replica may switch masters freely; a master must hold nothing.
        if me.is_master and (me.slots or self.hooks.db_size() != 0):
            raise ClusterError("To set a master the node must be empty and without assigned slots.")
        self.set_my_master(node)
        self._update_state_later()
        self._save()

    # ------------------------------------------------------------------
    # The replication link, as reported by the adapter
    # ------------------------------------------------------------------

    @entry_point
    def set_master_link_status(self: ClusterState, up: bool, now_ms: int) -> None:
        """node.py reports master_link_status changes (up after a sync, down on disconnect)."""
        if up:
            self.master_link_up = True
        elif self.master_link_up:
            self.master_link_up = False
            self.master_link_down_since = now_ms

    def set_master_link_down_since(self: ClusterState, since: int | None) -> None:
        """The link is gone (a new master, or we became a master): down since ``since``."""
        if self.master_link_up:
            self.master_link_up = False
            self.master_link_down_since = since if since is not None else self._now

    def master_data_age_ms(self: ClusterState) -> int:
        """How old our copy of the master's data is, as Redis measures it for elections."""
        if self.master_link_up:
            last = self.hooks.master_last_interaction_ms()
            return max(0, self._now - last) if last is not None else 0
        if self.master_link_down_since is None:
            return NO_DATA_AGE
        return self._now - self.master_link_down_since

    # ------------------------------------------------------------------
    # cluster-replica-no-failover
    # ------------------------------------------------------------------

    @entry_point
    def set_replica_no_failover(self: ClusterState, enabled: bool, now_ms: int) -> None:
        """CONFIG SET cluster-replica-no-failover: the NOFAILOVER flag follows at once."""
        self.config.replica_no_failover = bool(enabled)
        self.update_myself_flags()

    def update_myself_flags(self: ClusterState) -> None:
        """clusterUpdateMyselfFlags: NOFAILOVER mirrors the config; peers learn it from headers."""
        me = self.myself
        flags = me.flags & ~NODE_NOFAILOVER
        if self.config.replica_no_failover:
            flags |= NODE_NOFAILOVER
        if flags != me.flags:
            me.flags = flags
            self._save()
            self._update_state_later()

    # ------------------------------------------------------------------
    # Replica migration (clusterHandleSlaveMigration)
    # ------------------------------------------------------------------

    def count_non_failing_replicas(self: ClusterState) -> dict[str, int]:
        """master name -> number of its replicas not flagged FAIL (one pass)."""
        counts: dict[str, int] = {}
        for node in self.nodes.values():
            if node.is_replica and node.master_name and not node.failed:
                counts[node.master_name] = counts.get(node.master_name, 0) + 1
        return counts

    def replica_migration_cron(self: ClusterState) -> None:
        """From the cron: consider migrating if some master is orphaned and mine has spares.

        A master is orphaned when it serves slots, has no working replica, but
        used to have one (MIGRATE_TO). Only replicas of a master with the most
        working replicas (at least two) are candidates.
        """
        me = self.myself
        if not me.is_replica or not self.config.allow_replica_migration:
            return
        counts = self.count_non_failing_replicas()
        orphaned = max_replicas = my_master_replicas = 0
        for node in self.nodes.values():
            if not node.is_master or node.failed:
                continue
            ok = counts.get(node.name, 0)
            if ok == 0 and node.slots and node.flags & NODE_MIGRATE_TO:
                orphaned += 1
            max_replicas = max(max_replicas, ok)
            if me.master_name == node.name:
                my_master_replicas = ok
        if orphaned and max_replicas >= 2 and my_master_replicas == max_replicas:
            self.handle_replica_migration(max_replicas, counts)

    def handle_replica_migration(self: ClusterState, max_replicas: int,
                                 counts: dict[str, int]) -> None:
        now = self._now
        if not self.state_ok:
            return
        me = self.myself
        my_master = self.nodes.get(me.master_name) if me.master_name else None
        if my_master is None:
            return
        # The migration barrier: my master keeps more than this many working
        # replicas (neither FAIL nor PFAIL) after I leave.
        ok_here = sum(1 for r in self.replicas_of(my_master)
                       if not r.flags & (NODE_PFAIL | NODE_FAIL))
        if ok_here <= self.config.migration_barrier:
            return
        target: ClusterNode | None = None
        candidate = me
        for node in self.nodes.values():
            ok = counts.get(node.name, 0) if node.is_master else 0
            orphaned = node.is_master and not node.failed and node.flags & NODE_MIGRATE_TO and ok == 0
            if orphaned:
                if target is None and node.slots:
                    target = node
                if not node.orphaned_time:
                    node.orphaned_time = now
            else:
                node.orphaned_time = 0
            # The candidate is the smallest name among the replicas of the
            # best-served masters: exactly one replica moves, without talking.
            if ok == max_replicas:
                for replica in self.replicas_of(node):
                    if replica.name < candidate.name:
                        candidate = replica
        # Wait a little: right after a failover the orphan's natural replicas
        # may still be switching to it.
        if target is not None and candidate is me \
                and now - target.orphaned_time > REPLICA_MIGRATION_DELAY:
            self._log("warning", f"Migrating to orphaned master {target.name}")
            self.set_my_master(target)
