#!/usr/bin/env python3
"""What the AOF costs: SET throughput with appendonly yes as a fraction of the same
server's throughput without it, for our node.py and for redis-server, side by side.

    .venv/bin/python scripts/bench_persistence.py            # -n 200000
    .venv/bin/python scripts/bench_persistence.py --quick    # -n 20000
    .venv/bin/python scripts/bench_persistence.py --fsync always,everysec

For each server and each mode (no AOF, then appendonly yes with each appendfsync asked
for) a fresh process is started with no save points (so no BGSAVE runs meanwhile), and
`redis-benchmark -t set -c 50 -n N -P 1` and `-P 16` are run against it. The table
shows ops/s and the ratio AOF / no AOF; the target is that our ratio is no worse than
Redis's.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from scripts.bench import run_benchmark  # noqa: E402
from tests.helpers import start_node, start_redis  # noqa: E402

PIPELINES = (1, 16)


def measure(kind: str, fsync, requests: int) -> dict:
    """{pipeline: SET ops/s} for a fresh server; fsync None = appendonly no."""
    args = ["--save", ""]
    if fsync is not None:
        args += ["--appendonly", "yes", "--appendfsync", fsync]
    proc = start_node(*args) if kind == "ours" else start_redis(*args)
    try:
        return {p: run_benchmark(proc.port, p, requests, tests="set").get("set", 0.0)
                for p in PIPELINES}
    finally:
        proc.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="-n 20000")
    parser.add_argument("-n", type=int, default=200000)
    parser.add_argument("--fsync", default="everysec",
                        help="comma-separated appendfsync policies (default everysec)")
    args = parser.parse_args()
    requests = 20000 if args.quick else args.n
    policies = args.fsync.split(",")
    print("SET, -c 50, -n %d; ops/s (ratio to the same server without AOF)" % requests)
    print("%-8s %-16s %14s %14s" % ("server", "mode", "-P 1", "-P 16"))
    for kind in ("ours", "redis"):
        base = measure(kind, None, requests)
        print("%-8s %-16s %14.0f %14.0f" % (kind, "appendonly no", base[1], base[16]))
        for policy in policies:
            result = measure(kind, policy, requests)
            cells = ["%8.0f (%3.0f%%)" % (result[p], 100 * result[p] / base[p] if base[p] else 0)
                     for p in PIPELINES]
            print("%-8s %-16s %14s %14s" % (kind, "aof " + policy, *cells))


if __name__ == "__main__":
    main()
