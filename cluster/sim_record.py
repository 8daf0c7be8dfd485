"""Recording a simulator run for the cluster view (scripts/simulate.py --record FILE,
replayed by scripts/cluster_view.py --replay FILE).

Every ``every_ms`` virtual ms the recorder samples what each node would answer to the
commands the live view polls, rendered by cluster/describe.py so a recorded snapshot has
the shape of a live one (clusterview/snapshot.py): CLUSTER NODES, CLUSTER INFO, CLUSTER
LINKS and a few INFO replication fields. The file is JSON lines: a header, then one
snapshot per sample.

To keep a 200-node recording small, only a few *observers* (``observers``, spread over
the node indexes) give their whole view; every other node gives its own line of CLUSTER
NODES (role, config epoch, slots, open slots) and the first lines of CLUSTER INFO. That
is enough for every node's role and the slot owners; PFAIL/FAIL are then counted over
the observers' views. Clusters up to ``full_views_up_to`` nodes are sampled in full.

Sampling runs as an event on the simulator's own queue and changes nothing: a recorded
run takes the same course as an unrecorded one.
"""
from __future__ import annotations

import gzip
import json
from typing import TYPE_CHECKING

from cluster import describe

if TYPE_CHECKING:  # pragma: no cover
    from cluster.sim import SimNode, Simulation

INFO_HEAD_LINES = 9   # cluster_state .. cluster_my_epoch: what the view reads


class SimRecorder:
    def __init__(self, sim: Simulation, path: str, every_ms: int = 500, observers: int = 3,
                 full_views_up_to: int = 20):
        self.sim = sim
        self.every_ms = every_ms
        n = len(sim.nodes)
        if n <= full_views_up_to:
            self.observers = set(range(n))
        else:
            self.observers = {i * n // observers for i in range(observers)}
        self.notes: list[str] = []
        self.samples = 0
        self.file = gzip.open(path, "wt") if path.endswith(".gz") else open(path, "w")
        self._write({"kind": "header", "nodes": n, "every_ms": every_ms,
                     "node_timeout": sim.node_timeout,
                     "observers": [self._addr(sim.nodes[i]) for i in sorted(self.observers)]})
        self.sample()

    def note(self, text: str) -> None:
        """Something the run did (a kill, a restart): shown on the timeline at the next sample."""
        self.notes.append(text)

    def sample(self) -> None:
        if self.file.closed:
            return
        snapshot = {"t": self.sim.now, "nodes": [self._node(x) for x in self.sim.nodes]}
        if self.notes:
            snapshot["notes"], self.notes = self.notes, []
        self._write(snapshot)
        self.samples += 1
        # The simulator has no public timer; its event queue is the clock.
        self.sim._schedule(self.every_ms, self.sample)

    def close(self) -> None:
        if not self.file.closed:
            if self.notes:
                self.sample()
            self.file.close()

    def _node(self, node: SimNode) -> dict:
        addr = self._addr(node)
        state = node.state
        if not node.alive or node.paused or state is None:
            return {"addr": addr, "ok": False}
        if node.index in self.observers:
            return {"addr": addr, "ok": True, "nodes": describe.cluster_nodes(state),
                    "info": describe.cluster_info(state), "repl": _replication(node),
                    "links": _links(state)}
        info = describe.cluster_info(state).split("\r\n")[:INFO_HEAD_LINES]
        return {"addr": addr, "ok": True,
                "nodes": describe.node_description(state, state.myself) + "\n",
                "info": "\r\n".join(info) + "\r\n", "repl": _replication(node)}

    @staticmethod
    def _addr(node: SimNode) -> str:
        return f"{node.ip}:{node.port}"

    def _write(self, record: dict) -> None:
        self.file.write(json.dumps(record, separators=(",", ":")) + "\n")


def _links(state) -> list[dict]:
    """CLUSTER LINKS entries with the fields that mean something here: the simulator has
    no send buffers or event loop to report."""
    return [{"direction": x["direction"], "node": x["node"]}
            for x in describe.cluster_links(state, lambda link_id: {})]


def _replication(node: SimNode) -> str:
    """The INFO replication fields the view reads; the simulated data stream's length is
    the replication offset (cluster/sim_data.py)."""
    state = node.state
    if state.myself.is_replica:
        lines = ["role:slave", f"master_link_status:{'up' if state.master_link_up else 'down'}",
                 f"slave_repl_offset:{len(node.log)}"]
    else:
        lines = ["role:master", f"master_repl_offset:{len(node.log)}"]
    return "".join(line + "\r\n" for line in lines)
