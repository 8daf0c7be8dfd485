#!/usr/bin/env python3
"""What the AOF costs: SET throughput with appendonly yes as a fraction of the same
server's throughput without it, for our node.py and for redis-server, side by side.

    .venv/bin/python scripts/bench_persistence.py            # -n 200000
    .venv/bin/python scripts/bench_persistence.py --quick    # -n 20000
    .venv/bin/python scripts/bench_persistence.py --fsync always,everysec

For each server and each mode (no AOF, then appendonly yes with each appendfsync asked
for) a fresh process is started with no save points (so no BGSAVE runs meanwhile), and
`redis-benchmark -t set -c 50 -n N -P 1` and `-P 16` are run against it. The modes take
turns for --rounds rounds and each keeps its best figure: on a shared machine the best
of a few runs is what the code can do, the rest is other load. The table shows ops/s
and the ratio AOF / no AOF, and the server's CPU time per SET (from /proc, so other
load on the machine does not blur it) and its ratio; the target is that our ratio is no
worse than Redis's.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from scripts.bench import run_benchmark  # noqa: E402
from tests.helpers import start_node, start_redis  # noqa: E402

PIPELINES = (1, 16)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(kind: str, fsync, requests: int) -> dict:
    """{pipeline: (SET ops/s, server CPU us per SET)} for a fresh server; fsync None =
    appendonly no. CPU per operation is what the code costs whatever else runs on the
    machine; ops/s also depends on the other load."""
    args = ["--save", ""]
    if fsync is not None:
        args += ["--appendonly", "yes", "--appendfsync", fsync]
    proc = start_node(*args) if kind == "ours" else start_redis(*args)
    results = {}
    try:
        for p in PIPELINES:
            before = cpu_seconds(proc.pid)
            ops = run_benchmark(proc.port, p, requests, tests="set").get("set", 0.0)
            results[p] = (ops, (cpu_seconds(proc.pid) - before) * 1e6 / requests)
        return results
    finally:
        proc.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="-n 20000")
    parser.add_argument("-n", type=int, default=200000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fsync", default="everysec",
                        help="comma-separated appendfsync policies (default everysec)")
    args = parser.parse_args()
    requests = 20000 if args.quick else args.n
    policies = args.fsync.split(",")
    modes = [None] + policies
    best = {}                         # (kind, mode, pipeline) -> [best ops/s, best CPU/op]
    for _ in range(args.rounds):
        for kind in ("ours", "redis"):
            for mode in modes:
                for p, (ops, cpu) in measure(kind, mode, requests).items():
                    entry = best.setdefault((kind, mode, p), [0.0, float("inf")])
                    entry[0] = max(entry[0], ops)
                    entry[1] = min(entry[1], cpu)
    print("SET, -c 50, -n %d, best of %d rounds. ops/s (%% of the same server without "
          "AOF); server CPU us per SET (x of the same server without AOF)"
          % (requests, args.rounds))
    print("%-6s %-14s %26s %26s" % ("server", "mode", "-P 1", "-P 16"))
    for kind in ("ours", "redis"):
        for mode in modes:
            cells = []
            for p in PIPELINES:
                ops, cpu = best[(kind, mode, p)]
                base_ops, base_cpu = best[(kind, None, p)]
                if mode is None:
                    cells.append("%9.0f  %5.1fus      " % (ops, cpu))
                else:
                    cells.append("%9.0f (%3.0f%%) %5.1fus %4.2fx"
                                 % (ops, 100 * ops / base_ops, cpu, cpu / base_cpu))
            print("%-6s %-14s %26s %26s"
                  % (kind, "aof " + mode if mode else "appendonly no", *cells))

if __name__ == "__main__":
    main()
