#!/usr/bin/env python3
"""Run the cluster simulator and print convergence, failure detection and bus load.

    python scripts/simulate.py --nodes 50 100 200 --node-timeout 5000 --seed 1
    python scripts/simulate.py --nodes 30 --loss 0.05 --latency 2 --jitter 3

For each size: MEET every node to node 0 (as redis-cli --cluster create does),
measure the virtual time to full knowledge, the idle bus load over
--measure seconds, then kill one master and measure the time until every
survivor flags it FAIL. Deterministic for a given seed.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cluster.node_record import NODE_FAIL  # noqa: E402
from cluster.sim import Simulation  # noqa: E402


def run(n: int, args) -> dict:
    started = time.perf_counter()
    sim = Simulation(n, seed=args.seed, node_timeout=args.node_timeout,
                     latency_ms=args.latency, jitter_ms=args.jitter, loss=args.loss)
    sim.assign_slots()
    sim.meet_all(args.pattern)
    convergence = sim.run_until(sim.full_knowledge, args.limit * 1000)
    sim.run_until(lambda: all(x.state.state_ok for x in sim.nodes), args.limit * 1000)
    sim.run_for(args.node_timeout)  # let the join traffic settle
    bytes0, msgs0 = sim.total_bytes, sim.total_messages
    sim.run_for(args.measure * 1000)
    seconds = args.measure
    bytes_per_node = (sim.total_bytes - bytes0) / n / seconds
    msgs_per_node = (sim.total_messages - msgs0) / n / seconds
    victim = n // 2
    sim.kill(victim)
    detection = sim.run_until(lambda: sim.flagged_everywhere(victim, NODE_FAIL), args.limit * 1000)
    return {
        "nodes": n, "convergence_ms": convergence, "detection_ms": detection,
        "bytes_per_node_s": bytes_per_node, "msgs_per_node_s": msgs_per_node,
        "avg_msg_bytes": bytes_per_node / msgs_per_node if msgs_per_node else 0,
        "wall_s": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--node-timeout", type=int, default=5000, help="ms")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency", type=int, default=1, help="one-way ms")
    parser.add_argument("--jitter", type=int, default=0, help="extra random ms")
    parser.add_argument("--loss", type=float, default=0.0, help="message loss probability")
    parser.add_argument("--pattern", choices=["star", "chain"], default="star")
    parser.add_argument("--measure", type=int, default=10, help="idle seconds measured")
    parser.add_argument("--limit", type=int, default=120, help="virtual seconds before giving up")
    args = parser.parse_args()
    print(f"node_timeout={args.node_timeout}ms latency={args.latency}ms jitter={args.jitter}ms "
          f"loss={args.loss} seed={args.seed} pattern={args.pattern}")
    print(f"{'nodes':>6} {'converge_s':>10} {'detect_s':>9} {'bytes/node/s':>13} "
          f"{'msgs/node/s':>12} {'avg_msg_B':>10} {'wall_s':>7}")
    for n in args.nodes:
        r = run(n, args)
        conv = "-" if r["convergence_ms"] is None else f"{r['convergence_ms'] / 1000:.1f}"
        det = "-" if r["detection_ms"] is None else f"{r['detection_ms'] / 1000:.1f}"
        print(f"{n:>6} {conv:>10} {det:>9} {r['bytes_per_node_s']:>13.0f} "
              f"{r['msgs_per_node_s']:>12.1f} {r['avg_msg_bytes']:>10.0f} {r['wall_s']:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
