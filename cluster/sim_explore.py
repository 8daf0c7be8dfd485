"""Randomized fault exploration: one seed -> a random cluster, a random schedule of
faults, and the invariants of cluster/sim_invariants.py checked all along.

In the spirit of FoundationDB's and TigerBeetle's simulators: the real state
machine (cluster/state.py) runs on the simulator's virtual clock, so a run is
fast and a seed replays exactly. A run is:

1. build: ``masters`` masters with all slots, 0-2 replicas each, MEET, wait until
   every node knows every other, every replica is attached and the cluster is ok;
2. faults: the schedule (cluster/sim_faults.py), with client writes among the
   faults; safety is checked after each step and every half node timeout;
3. heal: the network heals, paused nodes resume, killed ones restart, open
   migrations are settled, reset nodes are MET again; then the cluster must
   converge within ``convergence_bound_ms`` (virtual), safety still checked, and
   no acknowledged write may be missing.

A failing run is shrunk (steps removed while the same invariant still fails) and
printed as JSON that ``scripts/simulate.py --replay FILE`` runs again.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field

from cluster.effect_runner import VoteNotDurable
from cluster.sim import Simulation
from cluster.sim_data import WriteModel, pick_write_slots
from cluster.sim_faults import FaultInjector, make_schedule
from cluster.sim_invariants import (
    InvariantViolation, SafetyMonitor, check_no_lost_writes, convergence_problem)

FORGET_BAN_MS = 60_000    # CLUSTER FORGET keeps a node out of gossip this long


@dataclass
class Scenario:
    """The cluster a seed builds (everything but the schedule)."""
    seed: int
    masters: int
    replicas: list[int]        # replicas of each master
    node_timeout: int
    jitter_ms: int
    write_slots: int = 16

    @property
    def nodes(self) -> int:
        return self.masters + sum(self.replicas)


def convergence_bound_ms(scenario: Scenario, schedule: list[dict]) -> int:
    """How long, after the faults end, the cluster may take to converge.

    The slowest path we allow for: a master killed at the very end is detected
    (PFAIL after one node timeout, FAIL once a majority's reports arrive, a few
    more half timeouts), its replica waits out its election delay (up to ~1 s plus
    1 s per rank), may lose one attempt and retry after 4 node timeouts; a master
    with slots keeps its FAIL flag for 2 node timeouts after it comes back. 20 node
    timeouts (+ 10 s of fixed delays) cover these with room; a CLUSTER FORGET adds
    its 60 s ban, after which gossip brings the node back.
    """
    bound = 20 * scenario.node_timeout + 10_000
    if any(step["do"] == "forget" for step in schedule):
        bound += FORGET_BAN_MS
    return bound


def make_scenario(seed: int, small: bool) -> Scenario:
    """Small: what the test suite runs on every run (3-5 masters). Otherwise the issue's
    range: 3-50 masters, 0-2 replicas each, node timeout 500-5000 ms."""
    rng = random.Random(seed)
    masters = rng.randrange(3, 6) if small else rng.randrange(3, 51)
    replicas = [rng.randrange(0, 3) for _ in range(masters)]
    node_timeout = rng.choice([500, 1000, 2000]) if small else rng.randrange(500, 5001, 100)
    return Scenario(seed, masters, replicas, node_timeout, jitter_ms=rng.randrange(0, 4))


def make_steps(scenario: Scenario, small: bool) -> list[dict]:
    rng = random.Random(scenario.seed * 7919 + 1)
    steps = rng.randrange(4, 12) if small else rng.randrange(8, 40)
    window = 12 * scenario.node_timeout if small else 30 * scenario.node_timeout
    return make_schedule(rng, scenario.nodes, scenario.node_timeout, steps, window)


@dataclass
class Outcome:
    scenario: Scenario
    schedule: list[dict]
    violation: InvariantViolation | None = None
    converged_ms: int | None = None     # after the heal
    bound_ms: int = 0
    acknowledged: int = 0
    writes_refused: int = 0
    votes: int = 0
    steps_refused: int = 0
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    model: WriteModel | None = field(default=None, repr=False)   # the writes, for a look after

    @property
    def ok(self) -> bool:
        return self.violation is None


def build(scenario: Scenario) -> Simulation:
    sim = Simulation(scenario.nodes, seed=scenario.seed, node_timeout=scenario.node_timeout,
                     jitter_ms=scenario.jitter_ms)
    sim.assign_slots(scenario.masters)
    sim.meet_all()
    limit = 60_000 + 100 * scenario.nodes
    if sim.run_until(sim.full_knowledge, limit) is None:
        raise RuntimeError(f"seed {scenario.seed}: the cluster did not form")
    index = scenario.masters
    for master, count in enumerate(scenario.replicas):
        name = sim.nodes[master].state.myself.name
        for _ in range(count):
            node = sim.nodes[index]
            sim._apply(node, node.state.replicate(name, sim.now))
            index += 1
    ready = sim.run_until(lambda: all(n.state.state_ok for n in sim.nodes) and all(
        n.state.master_link_up for n in sim.nodes[scenario.masters:]), limit)
    if ready is None:
        raise RuntimeError(f"seed {scenario.seed}: replicas did not attach")
    sim.run_for(2 * scenario.node_timeout)   # every node has heard every replica's role
    return sim


def run(scenario: Scenario, schedule: list[dict]) -> Outcome:
    """Build the cluster, play the schedule, heal, and check everything."""
    started = time.perf_counter()
    outcome = Outcome(scenario, schedule)
    sim = build(scenario)
    model = WriteModel(sim, pick_write_slots(random.Random(scenario.seed), scenario.write_slots))
    monitor = SafetyMonitor(sim)
    faults = FaultInjector(sim, model)
    check_every = max(100, scenario.node_timeout // 2)
    start = sim.now

    def advance_to(at: int) -> None:
        while sim.now < at:
            sim.run_for(min(check_every, at - sim.now))
            monitor.check()

    try:
        for step in schedule:
            advance_to(start + step["at"])
            faults.apply(step)
            monitor.check()
        faults.end_faults()
        monitor.check()
        outcome.bound_ms = convergence_bound_ms(scenario, schedule)
        healed_at = sim.now
        while True:
            if convergence_problem(sim) is None:
                outcome.converged_ms = sim.now - healed_at
                break
            if sim.now - healed_at >= outcome.bound_ms:
                raise InvariantViolation(
                    "no convergence", f"{convergence_problem(sim)} "
                    f"{outcome.bound_ms} ms after the heal")
            advance_to(sim.now + 100)
        # Replication of the last writes: a round trip, then the data check.
        advance_to(sim.now + 100)
        check_no_lost_writes(model)
    except InvariantViolation as violation:
        outcome.violation = violation
    except VoteNotDurable as error:
        outcome.violation = InvariantViolation("vote not durable", str(error))
    outcome.model = model
    outcome.acknowledged = len(model.acknowledged)
    outcome.writes_refused = model.refused
    outcome.votes = monitor.votes_seen
    outcome.steps_refused = faults.refused
    outcome.wall_s = time.perf_counter() - started
    return outcome


def explore(seed: int, small: bool = True) -> Outcome:
    scenario = make_scenario(seed, small)
    return run(scenario, make_steps(scenario, small))


def shrink(outcome: Outcome, budget: int = 60) -> Outcome:
    """Remove steps (halves, then quarters, ... then single steps) while the run still
    fails the same invariant; at most ``budget`` runs."""
    kind = outcome.violation.kind
    best = outcome
    chunk = max(1, len(best.schedule) // 2)
    runs = 0
    while chunk >= 1 and runs < budget:
        start = 0
        removed_any = False
        while start < len(best.schedule) and runs < budget:
            candidate = best.schedule[:start] + best.schedule[start + chunk:]
            runs += 1
            attempt = run(best.scenario, candidate)
            if attempt.violation is not None and attempt.violation.kind == kind:
                best = attempt
                removed_any = True
            else:
                start += chunk
        if not removed_any:
            chunk //= 2
    best.notes.append(f"shrunk from {len(outcome.schedule)} to {len(best.schedule)} steps "
                      f"in {runs} runs")
    return best


def reproduction(outcome: Outcome) -> str:
    """JSON for ``scripts/simulate.py --replay``."""
    return json.dumps({"scenario": asdict(outcome.scenario), "schedule": outcome.schedule},
                      indent=1)


def replay(text: str) -> Outcome:
    data = json.loads(text)
    return run(Scenario(**data["scenario"]), data["schedule"])
