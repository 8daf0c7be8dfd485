#!/usr/bin/env python3
"""All-redis, mixed and all-ours clusters side by side: MEET convergence, failover time
and idle bus bytes, at 6 and 20 nodes, in one run.

    .venv/bin/python scripts/bench_meet.py                          # 6 and 20 nodes
    .venv/bin/python scripts/bench_meet.py --sizes 6 --runs 3       # 6 nodes, 3 runs each
    .venv/bin/python scripts/bench_meet.py --kinds redis mixed --window 5

Each cluster is n nodes on loopback, half masters and half replicas (one per master),
cluster-node-timeout --node-timeout (2000 ms) for every kind, no persistence. "mixed" is
half redis-server, half ours: masters alternate ours / redis-server, and each master's
replica is of the other kind (so the failovers below cross implementations).

(a) MEET convergence. Each master is given its share of the 16384 slots with CLUSTER
    ADDSLOTSRANGE (local, no bus traffic) and the nodes are left alone for 2.5-3.5 s
    (random_phase_sleep says why the random second): both
    implementations hold a master's cluster_state at fail for its first 2 s
    (CLUSTER_WRITABLE_DELAY), which would otherwise be what is timed. The clock starts
    at the first CLUSTER MEET; node 0 is sent CLUSTER MEET for every other node (as
    redis-cli --cluster create does). Two times: "all known", when every node's CLUSTER
    NODES lists all n nodes, each `connected` with no handshake/noaddr flag; "+ state
    ok", when moreover every node's CLUSTER INFO says cluster_state:ok (every slot's
    owner known everywhere). The second includes Redis's rejoin delay: a master without
    slots counts itself in a minority until it hears of a slot owner, and then stays at
    fail for the node timeout (clusterUpdateState); we do the same. A node that met a
    condition is not polled again.
(c) Idle bus bytes. Replicas are then attached (CLUSTER REPLICATE, untimed) and, once all
    links are up and every node sees every replica, the cluster idles for a settle time
    and then --window seconds; `ss -tin` counts the bytes received on TCP connections
    touching a bus port (each byte once, by its receiver), divided by nodes and seconds.
(b) Failover. kill -9 of master 0, then (once that failover is done) of master 1: for
    "mixed" the first victim is ours (its replica a redis-server), the second a
    redis-server (its replica ours). The time from the kill until every survivor's
    CLUSTER NODES shows the replica as a master with the victim's slots AND every
    survivor says cluster_state:ok (polled every 20 ms).

Times are medians over --runs clusters (each run builds fresh clusters, the kinds in
turn, so load bursts hit all kinds). Then the ratios mixed / all-redis and ours /
all-redis. Targets (issue 12): mixed within 1.2x of all-redis; all-ours bus bytes
<= 0.1x of all-redis. Every process started is killed by pid at the end, also on error.
"""
import argparse
import random
import shutil
import statistics
import sys
import time

from bench_cluster import (SLOTS, Node, _kill_all, bus_bytes_received, nodes_view,
                           stop_nodes)
from tests.helpers import free_port

KINDS = ("redis", "mixed", "ours")


def layout(kind: str, n: int) -> list[str]:
    """The kind of each node: masters first (n // 2 of them), then their replicas in the
    same order. Mixed: masters alternate ours / redis, each replica the other kind."""
    masters = n // 2
    if kind != "mixed":
        return [kind] * n
    master_kinds = ["ours" if i % 2 == 0 else "redis" for i in range(masters)]
    other = {"ours": "redis", "redis": "ours"}
    return master_kinds + [other[k] for k in master_kinds] + ["ours"] * (n - 2 * masters)


def start(kind: str, n: int, node_timeout: int, used: set) -> list[Node]:
    nodes = [Node(k, free_port(used), node_timeout, extra=("--repl-diskless-sync-delay", "0"))
             for k in layout(kind, n)]
    deadline = time.monotonic() + 30 + 2 * n     # our nodes start in parallel on few cores
    for node in nodes:
        node.wait_ready(deadline)
    return nodes


def knows_all(node: Node, n: int) -> bool:
    view = nodes_view(node)
    return len(view) == n and all(f[7] == "connected" and
                                  not {"handshake", "noaddr"} & set(f[2].split(","))
                                  for f in view)


def state_ok(node: Node) -> bool:
    return "cluster_state:ok" in node.call("CLUSTER", "INFO")


def poll_until_all(nodes: list[Node], predicate, timeout: float, what: str) -> float:
    """Seconds until predicate(node) held for every node (each polled until it holds)."""
    start = time.monotonic()
    pending = list(nodes)
    while pending:
        pending = [x for x in pending if not predicate(x)]
        if time.monotonic() - start > timeout:
            raise TimeoutError("%s: %d nodes not there after %.0fs (ports %s)"
                               % (what, len(pending), timeout, [x.port for x in pending]))
        if pending:
            time.sleep(0.02)
    return time.monotonic() - start


# Redis keeps a master's cluster_state at fail for its first 2 s (CLUSTER_WRITABLE_DELAY
# in cluster.c) and so do we: MEET only after that, or (a) would time node start-up.
WRITABLE_DELAY = 2.0


def random_phase_sleep(base: float) -> None:
    """Sleep base + 0..1 s. clusterCron pings a random node once a second (iteration % 10),
    counted from the process start; a node that only knows node 0 hears of the others
    (and of any slot owner) at that ping or at node 0's ping after node_timeout/2. With a
    fixed sleep the MEET (or the kill) would fall at the same phase of that second in
    every run, and a phase, not the implementation, would be measured."""
    time.sleep(base + random.random())


def measure_meet(nodes: list[Node], masters: int) -> tuple[float, float]:
    """(seconds until every node knows every node, until also cluster_state:ok)."""
    n = len(nodes)
    for i, node in enumerate(nodes[:masters]):
        node.call("CLUSTER", "ADDSLOTSRANGE", SLOTS * i // masters, SLOTS * (i + 1) // masters - 1)
    random_phase_sleep(WRITABLE_DELAY + 0.5)
    start = time.monotonic()
    for node in nodes[1:]:
        nodes[0].call("CLUSTER", "MEET", "127.0.0.1", node.port)
    known = poll_until_all(nodes, lambda x: knows_all(x, n), 60 + 3 * n, "MEET: all known")
    # A node that knows everyone keeps knowing everyone (nothing fails here).
    poll_until_all(nodes, state_ok, 60 + 3 * n, "MEET: cluster_state:ok")
    return known, time.monotonic() - start


def attach_replicas(nodes: list[Node], masters: int) -> None:
    ids = [x.call("CLUSTER", "MYID") for x in nodes]
    pairs = list(zip(range(masters), range(masters, 2 * masters)))
    for m, r in pairs:
        nodes[r].call("CLUSTER", "REPLICATE", ids[m])

    def synced(node: Node) -> bool:
        info = node.call("INFO", "replication")
        return "master_link_status:up" in info

    def sees_all_replicas(node: Node) -> bool:
        view = {f[0]: f for f in nodes_view(node)}
        return all(view[ids[r]][3] == ids[m] and "slave" in view[ids[r]][2] for m, r in pairs)
    poll_until_all([nodes[r] for _, r in pairs], synced, 60, "replication links up")
    poll_until_all(nodes, sees_all_replicas, 60, "every node to see every replica")


def measure_bytes(nodes: list[Node], settle: float, window: float) -> float:
    time.sleep(settle)
    bus_ports = {x.port + 10000 for x in nodes}
    before = bus_bytes_received(bus_ports)
    time.sleep(window)
    after = bus_bytes_received(bus_ports)
    return (after - before) / len(nodes) / window


def measure_failover(nodes: list[Node], masters: int, index: int, alive: list[Node],
                     node_timeout: int) -> float:
    victim, replica = nodes[index], nodes[masters + index]
    replica_id = replica.call("CLUSTER", "MYID")
    victim_id = victim.call("CLUSTER", "MYID")
    slots = [f[8:] for f in nodes_view(replica) if f[0] == victim_id][0]
    survivors = [x for x in alive if x is not victim]

    def done(node: Node) -> bool:
        me = [f for f in nodes_view(node) if f[0] == replica_id][0]
        return ("master" in me[2].split(",") and me[8:] == slots and
                "cluster_state:ok" in node.call("CLUSTER", "INFO"))
    random_phase_sleep(1.0)      # every node has fresh pongs from every other
    victim.kill()
    start = time.monotonic()
    # A node that is done stays done: nothing else fails in the meantime.
    poll_until_all(survivors, done, 20 + 10 * node_timeout / 1000, "failover")
    alive.remove(victim)
    return time.monotonic() - start


def one_cluster(kind: str, n: int, args, used: set) -> dict:
    masters = n // 2
    nodes = start(kind, n, args.node_timeout, used)
    try:
        out = {}
        out["known"], out["meet"] = measure_meet(nodes, masters)
        attach_replicas(nodes, masters)
        out["bytes"] = measure_bytes(nodes, args.settle, args.window)
        alive = list(nodes)
        out["failover"] = [measure_failover(nodes, masters, i, alive, args.node_timeout)
                           for i in range(min(2, masters))]
        return out
    finally:
        stop_nodes(nodes)


# ---------------------------------------------------------------- the report

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="6,20", help="cluster sizes, comma separated")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--runs", type=int, default=1, help="clusters per kind and size")
    parser.add_argument("--node-timeout", type=int, default=2000)
    parser.add_argument("--window", type=float, default=10.0, help="idle seconds counted")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="idle seconds before the window (join traffic dies down)")
    args = parser.parse_args()
    if not shutil.which("redis-server") or not shutil.which("ss"):
        print("needs redis-server and ss (iproute2) on PATH", file=sys.stderr)
        return 2
    sizes = [int(x) for x in args.sizes.split(",")]
    used: set = set()
    results = {}        # (kind, n) -> {"meet": [..], "bytes": [..], "fo1": [..], "fo2": [..]}
    try:
        for n in sizes:
            for run in range(args.runs):
                for kind in args.kinds:
                    got = one_cluster(kind, n, args, used)
                    r = results.setdefault((kind, n), {"known": [], "meet": [], "bytes": [],
                                                       "fo1": [], "fo2": []})
                    r["known"].append(got["known"])
                    r["meet"].append(got["meet"])
                    r["bytes"].append(got["bytes"])
                    for i, t in enumerate(got["failover"]):
                        r["fo%d" % (i + 1)].append(t)
                    print("  %-5s %2d nodes run %d: all known %.2f s, ok %.2f s, failover %s s, "
                          "bus %.0f B/node/s" % (kind, n, run + 1, got["known"], got["meet"],
                             " / ".join("%.2f" % t for t in got["failover"]), got["bytes"]),
                          flush=True)
    finally:
        _kill_all()
    report(results, sizes, args)
    return 0


def report(results: dict, sizes: list[int], args) -> None:
    med = {key: {m: statistics.median(v) if v else float("nan") for m, v in r.items()}
           for key, r in results.items()}
    metrics = [("known", "MEET: all known s", "%.2f"),
               ("meet", "MEET: + state ok s", "%.2f"),
               ("fo1", "failover 1 s", "%.2f"),
               ("fo2", "failover 2 s", "%.2f"),
               ("bytes", "idle bus B/node/s", "%.0f")]
    kinds = [k for k in KINDS if k in args.kinds]
    print()
    print("node timeout %d ms, %d run(s), medians; failover 1 kills an ours master in mixed "
          "(redis replica), failover 2 a redis master (our replica)" % (args.node_timeout,
                                                                        args.runs))
    header = "%-22s %5s" % ("metric", "nodes") + "".join("%11s" % k for k in kinds)
    if "redis" in kinds:
        header += "".join("%13s" % ("%s/redis" % k) for k in kinds if k != "redis")
    print(header)
    for n in sizes:
        for key, name, fmt in metrics:
            line = "%-22s %5d" % (name, n)
            for k in kinds:
                line += "%11s" % (fmt % med[(k, n)][key])
            if "redis" in kinds:
                ref = med[("redis", n)][key]
                for k in kinds:
                    if k != "redis":
                        line += "%12.2fx" % (med[(k, n)][key] / ref if ref else float("inf"))
            print(line)
    if "redis" in kinds:
        print("\ntargets: mixed <= 1.2x all-redis (every metric); all-ours bus bytes <= 0.1x")
        for n in sizes:
            for key, name, _ in metrics:
                ref = med[("redis", n)][key]
                if "mixed" in kinds and ref and med[("mixed", n)][key] / ref > 1.2:
                    print("  MISS: %s at %d nodes, mixed %.2fx" % (name, n,
                                                                  med[("mixed", n)][key] / ref))
            if "ours" in kinds:
                ref = med[("redis", n)]["bytes"]
                ratio = med[("ours", n)]["bytes"] / ref
                print("  all-ours bus bytes at %d nodes: %.3fx (%s)"
                      % (n, ratio, "ok" if ratio <= 0.1 else "MISS"))


if __name__ == "__main__":
    sys.exit(main())
