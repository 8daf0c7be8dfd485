"""Random faults for the simulator: what can happen to a cluster, drawn from one seed.

A schedule is a list of plain dicts (JSON, so a failing one can be printed, saved
and replayed), each ``{"at": virtual ms, "do": kind, ...}``. Which node a step
hits is decided when it is applied, from its ``pick`` number and the cluster as it
is then ("a replica", "a master with slots"), so a schedule keeps meaning
something when the shrinker removes steps before it, and a step that finds no
target does nothing.

The kinds, and the operator or network event each stands for:

    kill / restart       kill -9, then start again from the saved nodes.conf
    pause / resume       SIGSTOP / SIGCONT
    partition            the nodes split into groups that hear nothing from each other
    oneway               traffic from some nodes to others vanishes (the other way works)
    heal                 every cut lifted
    loss, duplicate,     every message is lost (TCP resends it after 200-800 ms, the
    reorder              later ones wait) / delivered twice / overtaken by later ones,
                         with probability p (p = 0 turns it off)
    spike                messages from or to some nodes take ``ms`` longer
    migrate, settle      CLUSTER SETSLOT IMPORTING + MIGRATING for a slot, and later
                         SETSLOT NODE on both ends (as redis-cli --cluster reshard does)
    failover             CLUSTER FAILOVER [FORCE|TAKEOVER] on a replica
    forget               CLUSTER FORGET of one node on another (it comes back by gossip
                         once the 60 s ban expires)
    reset, meet          CLUSTER RESET SOFT of a replica, and later the MEET that brings
                         it back as an empty master
    writes               ``count`` client writes (cluster/sim_data.py)
"""

from __future__ import annotations

import random

from cluster.errors import ClusterError

# Relative frequencies of the faults a schedule is made of.
KINDS = {
    "kill": 3, "pause": 3, "partition": 3, "oneway": 2, "loss": 1, "duplicate": 1,
    "reorder": 1, "spike": 2, "migrate": 2, "failover": 3, "forget": 1, "reset": 1,
    "writes": 6,
}
# A fault that is undone later: (the undoing kind, its delay as node timeouts, min-max).
UNDO = {
    "kill": ("restart", 1, 6), "pause": ("resume", 0.3, 4), "partition": ("heal", 1, 6),
    "oneway": ("heal", 1, 6), "loss": ("loss", 1, 5), "duplicate": ("duplicate", 1, 5),
    "reorder": ("reorder", 1, 5), "spike": ("spike", 1, 4), "migrate": ("settle", 0.5, 5),
    "reset": ("meet", 0.5, 3),
}


def make_schedule(rng: random.Random, nodes: int, node_timeout: int, steps: int,
                  window_ms: int) -> list[dict]:
    """``steps`` random faults (each with its undoing step, where it has one) spread over
    ``window_ms`` of virtual time, in time order."""
    kinds = list(KINDS)
    weights = [KINDS[k] for k in kinds]
    schedule = []
    for _ in range(steps):
        at = rng.randrange(window_ms)
        kind = rng.choices(kinds, weights)[0]
        step = {"at": at, "do": kind, "pick": rng.randrange(1 << 30)}
        if kind in ("partition", "oneway"):
            members = list(range(nodes))
            rng.shuffle(members)
            cut = rng.randrange(1, nodes)
            step["groups"] = [sorted(members[:cut]), sorted(members[cut:])]
        elif kind in ("loss", "duplicate", "reorder"):
            step["p"] = rng.choice([0.01, 0.05, 0.2])
        elif kind == "spike":
            step["ms"] = rng.randrange(node_timeout // 4, node_timeout * 2)
            step["nodes"] = sorted(rng.sample(range(nodes), rng.randrange(1, max(2, nodes // 3))))
        elif kind == "failover":
            step["mode"] = rng.choice(["", "", "force", "takeover"])
        elif kind == "writes":
            step["count"] = rng.randrange(1, 20)
        schedule.append(step)
        if kind in UNDO:
            undo, low, high = UNDO[kind]
            later = at + int(node_timeout * rng.uniform(low, high))
            off = {"at": later, "do": undo, "pick": step["pick"]}
            if undo in ("loss", "duplicate", "reorder"):
                off["p"] = 0.0
            if undo == "spike":
                off["ms"], off["nodes"] = 0, []
            schedule.append(off)
    schedule.sort(key=lambda s: s["at"])
    return schedule


class FaultInjector:
    """Applies schedule steps to a :class:`cluster.sim.Simulation`."""

    def __init__(self, sim, model=None):
        self.sim = sim
        self.model = model               # cluster/sim_data.WriteModel, for "writes"
        self.killed: set[int] = set()
        self.reset_nodes: set[int] = set()
        self.migrations: dict[int, tuple[int, int, int]] = {}  # pick -> (slot, to, from)
        self.refused = 0                 # steps the cluster refused (an error reply)

    # ------------------------------------------------------------------ choosing targets

    def _choose(self, pick: int, candidates: list):
        return candidates[pick % len(candidates)] if candidates else None

    def _live(self) -> list:
        return [n for n in self.sim.nodes if n.alive]

    def _masters_with_slots(self) -> list:
        return [n for n in self._live() if n.state.myself.is_master and n.state.myself.slots]

    def _replicas(self) -> list:
        return [n for n in self._live() if n.state.myself.is_replica]

    # ------------------------------------------------------------------ applying

    def apply(self, step: dict) -> None:
        getattr(self, "_" + step["do"])(step)

    def _run(self, node, entry_point, *args) -> bool:
        """Call a state entry point as a client command would; an error reply is fine."""
        try:
            outcome = entry_point(*args, self.sim.now)
        except ClusterError:
            self.refused += 1
            return False
        self.sim._apply(node, outcome)
        return True

    def _kill(self, step) -> None:
        node = self._choose(step["pick"], self._live())
        if node is not None and len(self._live()) > 1:
            self.sim.kill(node.index)
            self.killed.add(node.index)

    def _restart(self, step) -> None:
        node = self._matching(step, self.killed, lambda n: not n.alive)
        if node is not None:
            self.sim.restart(node.index)
            self.killed.discard(node.index)

    def _matching(self, step, indices, still):
        """For an undoing step (restart, meet): one of the nodes its fault hit that the
        undo still applies to."""
        candidates = [self.sim.nodes[i] for i in sorted(indices) if still(self.sim.nodes[i])]
        return self._choose(step["pick"], candidates)

    def _pause(self, step) -> None:
        node = self._choose(step["pick"], [n for n in self._live() if not n.paused])
        if node is not None:
            self.sim.pause(node.index)

    def _resume(self, step) -> None:
        node = self._choose(step["pick"], [n for n in self._live() if n.paused])
        if node is not None:
            self.sim.resume(node.index)

    def _partition(self, step) -> None:
        self.sim.partition(*step["groups"])

    def _oneway(self, step) -> None:
        sources, targets = step["groups"]
        self.sim.cut_one_way(sources, targets)

    def _heal(self, step) -> None:
        self.sim.heal()

    def _loss(self, step) -> None:
        self.sim.retransmit = step["p"]   # lost segments, as TCP recovers them

    def _duplicate(self, step) -> None:
        self.sim.duplicate = step["p"]

    def _reorder(self, step) -> None:
        self.sim.reorder = step["p"]

    def _spike(self, step) -> None:
        self.sim.spike_ms = step["ms"]
        self.sim.spike_nodes = set(step["nodes"])

    def _migrate(self, step) -> None:
        """SETSLOT IMPORTING on the destination, then MIGRATING on the source, for a slot
        no client writes to (the model moves no keys)."""
        masters = self._masters_with_slots()
        source = self._choose(step["pick"], masters)
        if source is None or len(masters) < 2:
            return
        writes = set(self.model.write_slots) if self.model else set()
        slots = sorted(s for s in source.state.myself.slots if s not in writes)
        if not slots:
            return
        slot = slots[step["pick"] % len(slots)]
        destination = self._choose(step["pick"] // 7, [n for n in masters if n is not source])
        source_name = source.state.myself.name
        dest_name = destination.state.myself.name
        if self._run(destination, destination.state.set_slot, [slot, "IMPORTING", source_name]) \
                and self._run(source, source.state.set_slot, [slot, "MIGRATING", dest_name]):
            self.migrations[step["pick"]] = (slot, destination.index, source.index)

    def _settle(self, step) -> None:
        """SETSLOT NODE <destination> on the destination, then on the source, if the
        destination is up and still a master. Otherwise the operator closes the slot
        (SETSLOT STABLE on both), as ``redis-cli --cluster fix`` would: giving a slot to
        a dead node on the source alone would leave it owned by no one who claims it."""
        migration = self.migrations.pop(step["pick"], None)
        if migration is None:
            return
        slot, dest_index, source_index = migration
        destination, source = self.sim.nodes[dest_index], self.sim.nodes[source_index]
        running = [n for n in (destination, source) if n.alive and not n.paused]
        if destination in running and destination.state.myself.is_master:
            dest_name = destination.state.myself.name
            if self._run(destination, destination.state.set_slot, [slot, "NODE", dest_name]):
                if source in running:
                    self._run(source, source.state.set_slot, [slot, "NODE", dest_name])
                return
        for node in running:
            if node.state.myself.is_master:
                self._run(node, node.state.set_slot, [slot, "STABLE"])

    def _failover(self, step) -> None:
        replica = self._choose(step["pick"], [n for n in self._replicas() if not n.paused])
        if replica is not None:
            self._run(replica, replica.state.failover, step["mode"] or None)

    def _forget(self, step) -> None:
        live = [n for n in self._live() if not n.paused]
        node = self._choose(step["pick"], live)
        if node is None:
            return
        others = [n for n in self.sim.nodes if n is not node]
        victim = self._choose(step["pick"] // 7, others)
        if victim is not None and victim.state.myself.name in node.state.nodes:
            self._run(node, node.state.forget, victim.state.myself.name)

    def _reset(self, step) -> None:
        replica = self._choose(step["pick"], [n for n in self._replicas() if not n.paused])
        if replica is not None and self._run(replica, replica.state.reset, False):
            self.reset_nodes.add(replica.index)

    def _meet(self, step) -> None:
        """The operator adds a reset node back: it MEETs a live node of the cluster."""
        node = self._matching(step, self.reset_nodes, lambda n: n.alive and not n.paused)
        if node is None:
            return
        self.reset_nodes.discard(node.index)
        other = self._choose(step["pick"] // 7, [n for n in self._live() if n is not node])
        if other is not None:
            self._run(node, node.state.meet, other.ip, other.port, None)

    def _writes(self, step) -> None:
        if self.model is None:
            return
        rng = random.Random(step["pick"])
        for _ in range(step["count"]):
            self.model.write(rng.choice(self.model.write_slots))

    # ------------------------------------------------------------------ the end of faults

    def end_faults(self) -> None:
        """The network heals and the operator undoes what is left: resume the paused,
        restart the killed, finish open migrations, MEET the reset nodes."""
        sim = self.sim
        sim.heal()
        sim.retransmit = sim.duplicate = sim.reorder = 0.0
        sim.spike_ms, sim.spike_nodes = 0, set()
        for node in sim.nodes:
            if node.paused:
                sim.resume(node.index)
        for index in sorted(self.killed):
            if not sim.nodes[index].alive:
                sim.restart(index)
        self.killed.clear()
        for pick in list(self.migrations):
            self._settle({"pick": pick})
        # A slot left open (its settle found a node paused or dead) is closed on every
        # node, as `redis-cli --cluster fix` does: a node importing a slot ignores every
        # claim to it, so it would never learn who owns it.
        for node in sim.alive_nodes():
            state = node.state
            for slot in sorted(set(state.importing_slots_from) | set(state.migrating_slots_to)):
                if state.myself.is_master:
                    self._run(node, state.set_slot, [slot, "STABLE"])
        for index in sorted(self.reset_nodes):
            self._meet({"pick": index})
