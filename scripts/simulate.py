#!/usr/bin/env python3
"""Run the cluster simulator and print convergence, failure detection and bus load.

    python scripts/simulate.py --nodes 50 100 200 --node-timeout 5000 --seed 1
    python scripts/simulate.py --nodes 30 --loss 0.05 --latency 2 --jitter 3
    python scripts/simulate.py --nodes 50 --replicas 1 --kill-masters 1 5 --seeds 1 2 3

For each size: MEET every node to node 0 (as redis-cli --cluster create does),
measure the virtual time to full knowledge, the idle bus load over
--measure seconds, then kill one master and measure the time until every
survivor flags it FAIL. Deterministic for a given seed.

    python scripts/simulate.py --nodes 1000 --node-timeout 15000 --workers 2

--workers W shares the nodes out among W processes (cluster/sim_parallel.py), one
per core; deterministic for a given seed and W.

With --replicas R the first N/(R+1) nodes are masters and the others their
replicas; --kill-masters K1 K2 ... then kills K1 masters at once, waits for
recovery, kills K2 more, ... and prints for each round the time from the kill
to every shard having a new master and cluster_state ok on every live node,
plus how many elections were held (more than one per shard means a split vote
or an expired attempt).

Random fault exploration (cluster/sim_explore.py):

    python scripts/simulate.py --explore 200                # seeds 1..200, small clusters
    python scripts/simulate.py --explore 50 --start 1000 --full   # 3-50 masters
    python scripts/simulate.py --replay failing-seed.json

Each seed builds a random cluster, plays a random schedule of faults, heals, and
checks the invariants; a failing seed is shrunk and its reproduction written to
sim-failure-SEED.json (replayed exactly by --replay).
"""
import argparse
import gc
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cluster.node_record import NODE_FAIL  # noqa: E402
from cluster.sim import Simulation  # noqa: E402
from cluster.sim_parallel import ParallelSimulation  # noqa: E402
from cluster.sim_explore import explore, replay, reproduction, shrink  # noqa: E402
from cluster.sim_record import SimRecorder  # noqa: E402


def run_failovers(n: int, seed: int, args) -> list[dict]:
    """Kill masters in rounds; per round: failover time and elections held."""
    masters = n // (args.replicas + 1)
    sim = Simulation(n, seed=seed, node_timeout=args.node_timeout, latency_ms=args.latency,
                     jitter_ms=args.jitter, loss=args.loss, keep_logs=True)
    recorder = SimRecorder(sim, args.record) if args.record else None
    sim.assign_slots(masters)
    sim.meet_all(args.pattern)
    limit = args.limit * 1000
    sim.run_until(sim.full_knowledge, limit)
    sim.make_replicas(masters)
    sim.run_until(lambda: all(x.state.state_ok for x in sim.nodes)
                  and all(x.state.master_link_up for x in sim.nodes[masters:]), limit)
    sim.run_for(args.node_timeout)
    rounds = []
    for count in args.kill_masters:
        # Only shards that can recover: a master with slots and a live replica.
        followed = {x.state.myself.master_name for x in sim.alive_nodes() if x.state.myself.is_replica}
        current = [x for x in sim.alive_nodes() if x.state.myself.is_master
                   and x.state.myself.slots and x.state.myself.name in followed]
        victims = sim.rng.sample(current, min(count, len(current)))
        names = {v.state.myself.name for v in victims}
        replicas = [x for x in sim.alive_nodes() if x.state.myself.master_name in names]
        elections_before = _elections(sim)
        for v in victims:
            sim.kill(v.index)
            if recorder:
                recorder.note(f"killed master {v.ip}:{v.port}")

        def recovered() -> bool:
            live = sim.alive_nodes()
            owners = {x.state.myself.master_name for x in replicas if x.state.myself.is_replica}
            return not (owners & names) and all(x.state.state_ok for x in live)

        took = sim.run_until(recovered, limit)
        rounds.append({"killed": len(victims), "failover_ms": took,
                       "elections": _elections(sim) - elections_before})
        sim.run_for(2 * args.node_timeout)
    if recorder:
        recorder.close()
    return rounds


def _elections(sim: Simulation) -> int:
    return sum(1 for x in sim.nodes for _, _, text in x.logs
               if text.startswith("Starting a failover election"))


def cpu_seconds(sim) -> float:
    """CPU seconds of the run so far: this process's, plus its workers' with --workers."""
    spent = time.process_time()
    if isinstance(sim, ParallelSimulation):
        spent += sum(sim.in_every_worker(time.process_time))
    return spent


class Phase:
    """Wall and CPU seconds since it began. One process on one core: on an idle machine
    the two are equal. With --workers, wall is what the cores save; on a shared machine,
    CPU seconds are what the run cost."""

    def __init__(self, sim):
        self.sim = sim
        self.wall0, self.cpu0 = time.perf_counter(), cpu_seconds(sim)

    def wall(self) -> float:
        return time.perf_counter() - self.wall0

    def cpu(self) -> float:
        return cpu_seconds(self.sim) - self.cpu0


def progress(n: int, what: str, virtual_ms: int | None, phase: Phase) -> None:
    """A phase done, on stderr: a run of 1000 nodes takes a while."""
    took = "-" if virtual_ms is None else f"{virtual_ms / 1000:.1f}"
    print(f"  {n} nodes {what}: {took} virtual s, {phase.wall():.0f} s wall, "
          f"{phase.cpu():.0f} s CPU", file=sys.stderr, flush=True)


def reporting(n: int, sim, predicate: str, *args):
    """The named predicate (Simulation.holds), which also says on stderr, once a minute of
    wall time, how far the run has got: at 2000 nodes forming takes a while."""
    last = [time.perf_counter()]

    def check() -> bool:
        if time.perf_counter() - last[0] >= 60:
            last[0] = time.perf_counter()
            counts = sim.census()
            # Gossip fills the tables fast; the handshakes (a link each way per pair,
            # a PING and a PONG on each) are most of the work of forming.
            print(f"  {n} nodes: {sim.now / 1000:.1f} virtual s, {counts['messages']:,} "
                  f"messages, {counts['known'] / n / n:.1%} of the node tables filled, "
                  f"{counts['links'] / (2 * n * (n - 1)):.1%} of the links up, "
                  f"{cpu_seconds(sim):.0f} s CPU so far", file=sys.stderr, flush=True)
        return sim.holds(predicate, *args)
    return check


def collect_less_often() -> None:
    """The simulated cluster's objects pile up while it forms (N node tables of N records)
    and messages come and go by the million, but almost none of them are in reference
    cycles: reference counting frees them (a 300-node run leaves ~300 objects for the
    cycle collector to find). A young collection every 700 allocations (Python's default)
    runs the collector thousands of times a second for nothing. Measured at 300 nodes,
    forming and then 10 idle virtual seconds, in CPU s: 23.0 and 9.1 with (700, 10,
    1000); 22.6 and 7.0 with the thresholds below; 21.5 and 7.4 with the collector off.
    Full collections stay rare: each walks every object of the N^2 records."""
    gc.set_threshold(100_000, 50, 1000)


def settle_heap() -> None:
    """The formed cluster (N node tables of N records) lives to the end of the run: move
    it out of the garbage collector's sight. Every full collection would walk all of it
    (at 1000 nodes, millions of objects) while what the run allocates from here on is
    short-lived messages."""
    gc.collect()
    gc.freeze()


def run(n: int, args) -> dict:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    options = dict(seed=args.seed, node_timeout=args.node_timeout, latency_ms=args.latency,
                   jitter_ms=args.jitter, loss=args.loss)
    if args.workers > 1:
        sim = ParallelSimulation(n, workers=args.workers, **options)
    else:
        sim = Simulation(n, **options)
    try:
        return measure(n, sim, args, wall0, cpu0)
    finally:
        if isinstance(sim, ParallelSimulation):
            sim.close()


def measure(n: int, sim, args, wall0: float, cpu0: float) -> dict:
    recorder = SimRecorder(sim, args.record) if args.record else None
    sim.assign_slots()
    sim.meet_all(args.pattern)
    phase = Phase(sim)
    convergence = sim.run_until(reporting(n, sim, "full_knowledge"), args.limit * 1000)
    converge_wall, converge_cpu = phase.wall(), phase.cpu()
    progress(n, "converged", convergence, phase)
    sim.run_until(lambda: sim.holds("states_ok"), args.limit * 1000)
    if isinstance(sim, ParallelSimulation):
        sim.in_every_worker(settle_heap)
    else:
        settle_heap()
    sim.run_for(args.node_timeout)  # let the join traffic settle
    bytes0, msgs0 = sim.total_bytes, sim.total_messages
    phase = Phase(sim)
    sim.run_for(args.measure * 1000)
    measure_wall = phase.wall()
    progress(n, f"measured {args.measure} idle s", args.measure * 1000, phase)
    seconds = args.measure
    bytes_per_node = (sim.total_bytes - bytes0) / n / seconds
    msgs_per_node = (sim.total_messages - msgs0) / n / seconds
    victim = n // 2
    sim.kill(victim)
    if recorder:
        recorder.note(f"killed {sim.nodes[victim].ip}:{sim.nodes[victim].port}")
    phase = Phase(sim)
    detection = sim.run_until(reporting(n, sim, "flagged_everywhere", victim, NODE_FAIL),
                              args.limit * 1000)
    detect_wall, detect_cpu = phase.wall(), phase.cpu()
    progress(n, "detected the kill", detection, phase)
    if recorder:
        sim.run_for(args.node_timeout)  # a little of what follows, for the replay
        recorder.close()
    return {
        "nodes": n, "convergence_ms": convergence, "detection_ms": detection,
        "bytes_per_node_s": bytes_per_node, "msgs_per_node_s": msgs_per_node,
        "avg_msg_bytes": bytes_per_node / msgs_per_node if msgs_per_node else 0,
        "wall_s": time.perf_counter() - wall0, "cpu_s": cpu_seconds(sim) - cpu0,
        "converge_wall_s": converge_wall,
        "converge_cpu_s": converge_cpu, "detect_wall_s": detect_wall,
        "detect_cpu_s": detect_cpu, "measure_wall_s": measure_wall,
    }


REDIS_HEADER_BYTES = 2256   # clusterMsg up to its data union, the slot bitmap included
REDIS_GOSSIP_ENTRY_BYTES = 104


def redis_rules(n: int, node_timeout_ms: int) -> tuple[float, int]:
    """Messages per node per second and bytes per message that Redis 7.0's rules send in
    an idle cluster of ``n`` nodes (clusterCron, clusterSendPing): a ping to every other
    node at least every node_timeout/2, one more a second (the oldest pong of 5 random
    nodes), a pong for every ping received; each a 2256-byte header plus 104 bytes per
    gossip entry, max(3, n/10) entries capped at n-2 (no PFAIL nodes when idle). An
    upper bound: Redis also skips a ping whose peer's pong time gossip refreshed, as we do."""
    pings = (n - 1) / (node_timeout_ms / 2000) + 1
    entries = min(max(3, n // 10), n - 2)
    return 2 * pings, REDIS_HEADER_BYTES + REDIS_GOSSIP_ENTRY_BYTES * entries


def print_outcome(o) -> None:
    sc = o.scenario
    verdict = "ok" if o.ok else f"FAIL {o.violation}"
    conv = "-" if o.converged_ms is None else f"{o.converged_ms / sc.node_timeout:.1f}"
    print(f"{sc.seed:>6} {sc.masters:>7} {sc.nodes:>5} {sc.node_timeout:>7} "
          f"{len(o.schedule):>5} {conv:>9} {o.votes:>5} {o.acknowledged:>5} "
          f"{o.wall_s:>6.1f}  {verdict}", flush=True)


def run_explore(args) -> int:
    print(f"{'seed':>6} {'masters':>7} {'nodes':>5} {'nt_ms':>7} {'steps':>5} "
          f"{'conv_nt':>9} {'votes':>5} {'acked':>5} {'wall_s':>6}  verdict")
    failures = []
    worst = 0.0          # node timeouts from the heal to convergence (runs without FORGET)
    worst_forget = 0     # ms, runs with a FORGET (its 60 s ban dominates)
    started = time.perf_counter()
    for seed in range(args.start, args.start + args.explore):
        o = explore(seed, small=not args.full)
        print_outcome(o)
        if o.ok:
            if any(step["do"] == "forget" for step in o.schedule):
                worst_forget = max(worst_forget, o.converged_ms)
            else:
                worst = max(worst, o.converged_ms / o.scenario.node_timeout)
            continue
        small = shrink(o)
        path = f"sim-failure-{seed}.json"
        with open(path, "w") as f:
            f.write(reproduction(small))
        print(f"       {small.violation} ({small.notes[-1]}); replay: "
              f"python scripts/simulate.py --replay {path}", flush=True)
        failures.append(seed)
    print(f"{args.explore} seeds in {time.perf_counter() - started:.0f} s: "
          f"{len(failures)} failed {failures or ''}; slowest convergence after the heal: "
          f"{worst:.1f} node timeouts ({worst_forget / 1000:.1f} s with a FORGET)")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--node-timeout", type=int, default=5000, help="ms")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency", type=int, default=1, help="one-way ms")
    parser.add_argument("--jitter", type=int, default=0, help="extra random ms")
    parser.add_argument("--loss", type=float, default=0.0, help="message loss probability")
    parser.add_argument("--pattern", choices=["star", "chain"], default="star")
    parser.add_argument("--measure", type=int, default=None,
                        help="idle seconds measured (default: node_timeout, two ping intervals: "
                             "the load is not even within one)")
    parser.add_argument("--limit", type=int, default=120, help="virtual seconds before giving up")
    parser.add_argument("--replicas", type=int, default=0, help="replicas per master")
    parser.add_argument("--kill-masters", type=int, nargs="+", default=[],
                        help="kill this many masters at once, round after round")
    parser.add_argument("--seeds", type=int, nargs="+", help="failover runs: several seeds")
    parser.add_argument("--explore", type=int, metavar="N",
                        help="random fault exploration: N seeds from --start")
    parser.add_argument("--start", type=int, default=1, help="first seed of --explore")
    parser.add_argument("--full", action="store_true",
                        help="--explore the full range: 3-50 masters, 0-2 replicas each")
    parser.add_argument("--replay", metavar="FILE", help="run a saved failing schedule again")
    parser.add_argument("--workers", type=int, default=1,
                        help="share the nodes out among this many processes (scale runs)")
    parser.add_argument("--record", metavar="FILE",
                        help="record the run for scripts/cluster_view.py --replay FILE "
                             "(one size and seed; a sample every 500 virtual ms)")
    args = parser.parse_args()
    if args.measure is None:
        args.measure = max(1, args.node_timeout // 1000)
    collect_less_often()
    if args.record and len(args.nodes) * len(args.seeds or [args.seed]) > 1:
        parser.error("--record records one run: give one --nodes size and one seed")
    if args.workers > 1 and (args.record or args.kill_masters or args.explore or args.replay):
        parser.error("--workers is for the scale runs (no --record, --kill-masters, "
                     "--explore or --replay)")
    if args.replay:
        with open(args.replay) as f:
            o = replay(f.read())
        print_outcome(o)
        sys.exit(0 if o.ok else 1)
    if args.explore:
        sys.exit(run_explore(args))
    if args.kill_masters:
        if not args.replicas:
            parser.error("--kill-masters needs --replicas")
        print(f"node_timeout={args.node_timeout}ms latency={args.latency}ms jitter={args.jitter}ms "
              f"loss={args.loss} replicas/master={args.replicas}")
        print(f"{'nodes':>6} {'seed':>5} {'killed':>7} {'failover_s':>11} {'elections':>10}")
        for n in args.nodes:
            for seed in args.seeds or [args.seed]:
                for r in run_failovers(n, seed, args):
                    took = "-" if r["failover_ms"] is None else f"{r['failover_ms'] / 1000:.1f}"
                    print(f"{n:>6} {seed:>5} {r['killed']:>7} {took:>11} {r['elections']:>10}",
                          flush=True)
        return
    print(f"node_timeout={args.node_timeout}ms latency={args.latency}ms jitter={args.jitter}ms "
          f"loss={args.loss} seed={args.seed} pattern={args.pattern}")
    print("converge/detect: virtual seconds (wall/CPU seconds that phase took); redis_*: what")
    print("Redis 7.0's rules would send (redis_rules below), for comparison with ours.")
    print(f"{'nodes':>6} {'converge_s':>16} {'detect_s':>16} {'bytes/node/s':>13} "
          f"{'msgs/node/s':>12} {'avg_msg_B':>10} {'redis_B/node/s':>15} {'redis_msgs':>10} "
          f"{'redis_msg_B':>11} {'wall_s':>7} {'cpu_s':>7}")
    for n in args.nodes:
        r = run(n, args)
        conv = "-" if r["convergence_ms"] is None else f"{r['convergence_ms'] / 1000:.1f}"
        det = "-" if r["detection_ms"] is None else f"{r['detection_ms'] / 1000:.1f}"
        conv += f" ({r['converge_wall_s']:.0f}/{r['converge_cpu_s']:.0f})"
        det += f" ({r['detect_wall_s']:.0f}/{r['detect_cpu_s']:.0f})"
        msgs, size = redis_rules(n, args.node_timeout)
        print(f"{n:>6} {conv:>16} {det:>16} {r['bytes_per_node_s']:>13.0f} "
              f"{r['msgs_per_node_s']:>12.1f} {r['avg_msg_bytes']:>10.0f} {msgs * size:>15.0f} "
              f"{msgs:>10.1f} {size:>11} {r['wall_s']:>7.1f} {r['cpu_s']:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
