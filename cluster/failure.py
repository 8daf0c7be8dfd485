"""Failure detection: failure reports, PFAIL -> FAIL, the FAIL broadcast, clearing FAIL.

A mixin of :class:`cluster.state.ClusterState`; it uses the state's node
table, ``_now`` and effect helpers. PFAIL itself is set by ``cluster_cron``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluster import messages as m
from cluster.node_record import NODE_FAIL, NODE_MYSELF, NODE_PFAIL, ClusterNode

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState

FAIL_REPORT_VALIDITY_MULT = 2  # reports older than 2 * node_timeout are ignored
FAIL_UNDO_TIME_MULT = 2        # a master with slots stays FAIL this long * node_timeout


class FailureDetection:
    def add_failure_report(self: ClusterState, failing: ClusterNode, sender: ClusterNode) -> bool:
        """Record (or refresh) ``sender``'s report about ``failing``; True if it is new.

        A refreshed report moves to the end, so the dict stays ordered oldest first (the
        clock never goes back): counting drops the expired ones from the front without
        walking the rest. During a failure every heartbeat from a master carries the
        report again, and each one counts them: at 1000 nodes, hundreds per packet."""
        reports = failing.fail_reports
        if reports is None:
            reports = failing.fail_reports = {}
        is_new = reports.pop(sender.name, None) is None
        reports[sender.name] = self._now
        return is_new

    def node_failure_reports_count(self: ClusterState, node: ClusterNode) -> int:
        """Valid reports, after dropping those older than the validity window."""
        oldest = self._now - self.config.node_timeout * FAIL_REPORT_VALIDITY_MULT
        reports = node.fail_reports
        if reports is None:
            return 0
        expired = []
        for name, reported in reports.items():   # oldest first
            if reported >= oldest:
                break
            expired.append(name)
        for name in expired:
            del reports[name]
        if not reports:
            node.fail_reports = None
        return len(reports)

    def mark_node_as_failing_if_needed(self: ClusterState, node: ClusterNode) -> None:
        """PFAIL -> FAIL once a majority of the masters serving slots agree."""
        if not node.flags & NODE_PFAIL or node.flags & NODE_FAIL:
            return
        needed_quorum = self.size // 2 + 1
        failures = self.node_failure_reports_count(node)
        if self.myself.is_voting_master:
            failures += 1  # my own PFAIL counts as a report
        if failures < needed_quorum:
            return
        self._log("notice", f"Marking node {node.name} as failing (quorum reached).")
        node.flags = (node.flags | NODE_FAIL) & ~NODE_PFAIL
        node.fail_time = self._now
        # Replicas broadcast too: the quorum came from masters, they only help spread it.
        self.send_fail(node.name)
        self._schedule_election_if_my_master(node)
        self._update_state_later()
        self._save()

    def _schedule_election_if_my_master(self: ClusterState, node: ClusterNode) -> None:
        """My master just became FAIL: schedule the election in this call (Redis waits for
        the next cron tick, up to 100 ms later; the election delay itself is unchanged)."""
        if self.myself.is_replica and self.myself.master_name == node.name:
            self._todo_handle_failover = True

    def send_fail(self: ClusterState, node_name: str) -> None:
        self.broadcast(m.Fail(self.build_header(), node_name))

    def clear_node_failure_if_needed(self: ClusterState, node: ClusterNode) -> None:
        """Called when a FAIL node answers: undo FAIL if nobody took over its slots."""
        if not node.flags & NODE_FAIL or node.flags & NODE_MYSELF:
            return
        if node.is_replica or not node.slots:
            # Nothing to fail over for a replica or an empty master: clear at once.
            kind = "replica" if node.is_replica else "master without slots"
            self._log("notice", f"Clear FAIL state for node {node.name}: {kind} is reachable again.")
        elif self._now - node.fail_time > self.config.node_timeout * FAIL_UNDO_TIME_MULT:
            self._log("notice", f"Clear FAIL state for node {node.name}: is reachable again and "
                                "nobody is serving its slots after some time.")
        else:
            return
        node.flags &= ~NODE_FAIL
        self._update_state_later()
        self._save()

    def process_fail(self: ClusterState, msg: m.Fail, sender: ClusterNode | None) -> None:
        """A FAIL message: believe it from any known node (the quorum was the sender's)."""
        if sender is None:
            self._log("verbose", f"Ignoring FAIL message from unknown node {msg.header.sender} "
                                 f"about {msg.node_id}")
            return
        failing = self.nodes.get(msg.node_id)
        if failing is None or failing.flags & (NODE_FAIL | NODE_MYSELF):
            return
        self._log("notice", f"FAIL message received from {sender.name} about {failing.name}")
        failing.flags = (failing.flags | NODE_FAIL) & ~NODE_PFAIL
        failing.fail_time = self._now
        self._schedule_election_if_my_master(failing)
        self._update_state_later()
        self._save()
