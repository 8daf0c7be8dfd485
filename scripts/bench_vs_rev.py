#!/usr/bin/env python3
"""Hot-path guard: this checkout's node against an older revision's, side by side in one run.

    .venv/bin/python scripts/bench_vs_rev.py REV            # e.g. main~5, a tag, a hash
    .venv/bin/python scripts/bench_vs_rev.py REV --rounds 5 --requests 100000

The rule is that a change may not slow the hot path by more than 3% at -P1 and -P16. On a
noisy 2-core machine one redis-benchmark run varies by more than that, so the two nodes are
measured in alternating rounds (A B B A ...) and the medians compared; a redis-server runs
beside them as the yardstick that shows how noisy the machine was (its own spread is printed).
The server's own CPU time per request (utime+stime from /proc, for one test at a time) is
printed too: it is far steadier than ops/s on a shared machine, because waiting for a
core does not count in it.
The older revision is checked out into a temporary git worktree, removed afterwards.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from scripts.bench import TESTS, run_benchmark  # noqa: E402
from tests.helpers import start_node, start_redis  # noqa: E402


def checkout(rev: str) -> str:
    """A detached worktree of `rev` in a temporary folder."""
    path = tempfile.mkdtemp(prefix="bench-rev-")
    os.rmdir(path)
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "-q", "--detach", path, rev],
                   check=True)
    return path


def remove_checkout(path: str) -> None:
    subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", path],
                   capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spread(values) -> float:
    """(max - min) / median: how much one server's own rounds disagreed."""
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the older revision (anything git rev-parse accepts)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--tests", default=TESTS)
    args = parser.parse_args()
    tests = args.tests.split(",")

    old_root = checkout(args.rev)
    servers = {}
    try:
        servers["this"] = start_node("--loglevel", "warning")
        servers["old"] = start_node("--loglevel", "warning", root=old_root)
        servers["redis"] = start_redis()
        rates = {(name, p, t): [] for name in servers for p in (1, 16) for t in tests}
        cpu = {key: [] for key in rates}        # server CPU µs per request
        for round_no in range(args.rounds):
            order = ["this", "old"] if round_no % 2 == 0 else ["old", "this"]
            for pipeline in (1, 16):
                for name in order + ["redis"]:
                    for test in tests:
                        before = cpu_seconds(servers[name].pid)
                        result = run_benchmark(servers[name].port, pipeline, args.requests,
                                               tests=test)
                        used = cpu_seconds(servers[name].pid) - before
                        rates[(name, pipeline, test)].append(result.get(test, 0.0))
                        cpu[(name, pipeline, test)].append(1e6 * used / args.requests)
        print("%d rounds of redis-benchmark -t %s -c 50 -n %d; medians, ops/s"
              % (args.rounds, args.tests, args.requests))
        print("%-6s %-3s %11s %11s %8s %11s %14s %20s" % (
            "test", "-P", "this", args.rev[:11], "this/old", "redis", "spread t/o/r",
            "CPU µs/req t/o (t/o)"))
        for pipeline in (1, 16):
            for test in tests:
                this, old, ref = (rates[(n, pipeline, test)] for n in ("this", "old", "redis"))
                a, b = statistics.median(this), statistics.median(old)
                ca = statistics.median(cpu[("this", pipeline, test)])
                cb = statistics.median(cpu[("old", pipeline, test)])
                print("%-6s %-3d %11.0f %11.0f %7.3fx %11.0f %4.0f%%/%.0f%%/%.0f%% "
                      "%6.1f/%-6.1f (%.3fx)"
                      % (test, pipeline, a, b, a / b if b else 0, statistics.median(ref),
                         100 * spread(this), 100 * spread(old), 100 * spread(ref),
                         ca, cb, ca / cb if cb else 0))
    finally:
        for server in servers.values():
            server.stop()
        remove_checkout(old_root)


if __name__ == "__main__":
    main()
