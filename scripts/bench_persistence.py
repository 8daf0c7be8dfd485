#!/usr/bin/env python3
"""Persistence benchmark: our node.py vs redis-server, side by side in one run.

    .venv/bin/python scripts/bench_persistence.py            # 1M keys
    .venv/bin/python scripts/bench_persistence.py --quick    # 100k keys, fewer requests

Prints, ours next to redis and the ratio:
  save / load   SAVE wall time and start-up load time of N keys of mixed types
                (70% strings, then hashes, lists, sets and sorted sets of 5 elements)
  bgsave        GET p99 latency (redis-benchmark -c 10) without and during a BGSAVE of
                those keys; peak parent RSS and the child's copy-on-write during it
  aof           SET throughput at -P1 and -P16 (-c 50) with appendonly yes /
                appendfsync everysec (--fsync for others), as a fraction of the same
                server's no-AOF throughput, and the server's CPU time per SET (from
                /proc, which other load on a shared machine blurs much less than ops/s)
                as a multiple of its no-AOF figure. Each mode gets a fresh process;
                modes take turns for --rounds rounds and keep their best figures.
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.helpers import RawClient, start_node, start_redis, wait_until  # noqa: E402


def rss_bytes(pid) -> int:
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def children_of(pid) -> list:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def private_dirty(pid) -> int:
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def fill(port, count, batch=5000):
    """N keys of mixed types, pipelined."""
    c = RawClient(port, timeout=60)
    for start in range(0, count, batch):
        cmds = []
        for i in range(start, min(count, start + batch)):
            kind = i % 20
            key = b"key:%08d" % i
            if kind < 14:
                cmds.append(("SET", key, b"value-%d" % i))
            elif kind < 16:
                cmds.append(("HSET", key, "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"))
            elif kind < 18:
                cmds.append(("RPUSH", key, "a", "b", "c", "d", "e"))
            elif kind < 19:
                cmds.append(("SADD", key, "1", "2", "3", "4", "5"))
            else:
                cmds.append(("ZADD", key, "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"))
        replies = c.pipeline(cmds)
        assert not any(r[0] == "-" for r in replies), replies[:3]
    c.close()


def timed_save(port) -> float:
    c = RawClient(port, timeout=600)
    began = time.monotonic()
    assert c.call("SAVE") == ("+", "OK")
    c.close()
    return time.monotonic() - began


def load_seconds(log_text) -> float:
    found = re.findall(r"DB loaded from disk: ([\d.]+) seconds", log_text)
    return float(found[-1]) if found else float("nan")


def p99_get(port, requests) -> float:
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "get", "-c", "10",
                          "-n", str(requests), "-r", "100000", "--csv"],
                         capture_output=True, text=True, timeout=600).stdout
    for line in out.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if cells and cells[0] == "GET":
            return float(cells[6])         # p99_latency_ms
    return float("nan")


def bgsave_run(proc, requests):
    """GET p99 during a BGSAVE, with the parent's RSS and the child's CoW sampled."""
    c = RawClient(proc.port)
    assert c.call("BGSAVE")[0] == "+"
    peak = {"rss": 0, "cow": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak["rss"] = max(peak["rss"], rss_bytes(proc.pid))
            for child in children_of(proc.pid):
                peak["cow"] = max(peak["cow"], private_dirty(child))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    p99 = p99_get(proc.port, requests)
    wait_until(lambda: b"rdb_bgsave_in_progress:0" in c.call("INFO", "persistence")[1],
               timeout=600, message="BGSAVE done")
    done.set()
    sampler.join()
    c.close()
    return p99, peak["rss"], peak["cow"]


def set_throughput(port, pipeline, requests) -> float:
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-c", "50",
                          "-n", str(requests), "-P", str(pipeline), "-q"],
                         capture_output=True, text=True, timeout=600).stdout
    m = re.search(r"SET: ([\d.]+) requests per second", out.replace("\r", "\n"))
    return float(m.group(1)) if m else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def aof_part(requests: int, rounds: int, policies) -> None:
    """SET ops/s and server CPU us per SET, without AOF and with each policy."""
    best = {}                     # (server, mode, pipeline) -> [best ops/s, best CPU us]
    modes = [None] + list(policies)
    for _ in range(rounds):
        for name, starter in (("ours", start_node), ("redis", start_redis)):
            for mode in modes:
                args = ["--save", ""]
                if mode is not None:
                    args += ["--appendonly", "yes", "--appendfsync", mode]
                proc = starter(*args)
                try:
                    for pipeline in (1, 16):
                        before = cpu_seconds(proc.pid)
                        ops = set_throughput(proc.port, pipeline, requests)
                        cpu = (cpu_seconds(proc.pid) - before) * 1e6 / requests
                        entry = best.setdefault((name, mode, pipeline),
                                                [0.0, float("inf")])
                        entry[0] = max(entry[0], ops)
                        entry[1] = min(entry[1], cpu)
                finally:
                    proc.stop()
    print("SET -c 50 -n %d, best of %d rounds" % (requests, rounds))
    for pipeline in (1, 16):
        for mode in modes:
            label = "no AOF" if mode is None else "AOF " + mode
            print("%-34s %12.0f %12.0f" % ("SET -P%d %s (ops/s)" % (pipeline, label),
                                          best["ours", mode, pipeline][0],
                                          best["redis", mode, pipeline][0]))
            print("%-34s %12.1f %12.1f" % ("SET -P%d %s (CPU us/op)" % (pipeline, label),
                                          best["ours", mode, pipeline][1],
                                          best["redis", mode, pipeline][1]))
            if mode is not None:
                for i, what in ((0, "ops/s"), (1, "CPU/op")):
                    ours = best["ours", mode, pipeline][i] / best["ours", None, pipeline][i]
                    ref = best["redis", mode, pipeline][i] / best["redis", None, pipeline][i]
                    print("%-34s %12.2f %12.2f" % ("  %s: AOF / no AOF" % what, ours, ref))


def row(name, ours, ref, unit="", fmt="%.2f"):
    ratio = ours / ref if ref else float("nan")
    print("%-34s %12s %12s   %5.2fx" % (name, (fmt % ours) + unit, (fmt % ref) + unit, ratio))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k keys, fewer requests")
    parser.add_argument("--keys", type=int, default=None)
    parser.add_argument("--parts", default="save,bgsave,aof")
    parser.add_argument("--rounds", type=int, default=None,
                        help="aof: rounds of every mode (default 3, 1 with --quick)")
    parser.add_argument("--fsync", default="everysec",
                        help="aof: comma-separated appendfsync policies")
    args = parser.parse_args()
    keys = args.keys or (100_000 if args.quick else 1_000_000)
    requests = 20_000 if args.quick else 100_000
    parts = set(args.parts.split(","))
    print("%-34s %12s %12s   %6s" % ("", "ours", "redis", "ratio"))

    if parts & {"save", "bgsave"}:
        ours = start_node("--save", "", "--loglevel", "notice", slots=True)
        ref = start_redis("--save", "")
        try:
            fill(ours.port, keys)
            fill(ref.port, keys)
            if "save" in parts:
                row("SAVE %d keys (s)" % keys, timed_save(ours.port), timed_save(ref.port))
            if "bgsave" in parts:
                row("GET p99, idle (ms)", p99_get(ours.port, requests),
                    p99_get(ref.port, requests))
                ours_p99, ours_rss, ours_cow = bgsave_run(ours, requests)
                ref_p99, ref_rss, ref_cow = bgsave_run(ref, requests)
                row("GET p99 during BGSAVE (ms)", ours_p99, ref_p99)
                row("parent RSS during BGSAVE (MB)", ours_rss / 2 ** 20, ref_rss / 2 ** 20)
                row("child CoW, peak sampled (MB)", ours_cow / 2 ** 20, ref_cow / 2 ** 20)
            if "save" in parts:
                # Restart both on their file and read the load time each one logs.
                timed_save(ours.port)
                timed_save(ref.port)
                ours.stop()
                ref.stop()
                ours = start_node("--save", "", cwd=ours.cwd, port=ours.port, slots=False,
                                  timeout=600)
                ref = start_redis("--save", "", "--dir", ref.cwd)
                row("load %d keys at start-up (s)" % keys, load_seconds(ours.output()),
                    load_seconds(open(ref.log_path, errors="replace").read()))
        finally:
            ours.stop()
            ref.stop()

    if "aof" in parts:
        aof_part(requests * 2, args.rounds or (1 if args.quick else 3),
                 args.fsync.split(","))

if __name__ == "__main__":
    main()
