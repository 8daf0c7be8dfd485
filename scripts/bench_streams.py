#!/usr/bin/env python3
"""Stream benchmark: our node.py vs redis-server, side by side in one run.

    .venv/bin/python scripts/bench_streams.py            # 1M-entry stream, -n 200000
    .venv/bin/python scripts/bench_streams.py --quick    # 100k entries, -n 20000

1. memory of one stream of N entries (`XADD s <i>-1 field <10-byte value>`): our RSS
   growth vs redis-server's used_memory growth;
2. XRANGE by ID on that stream (a random start ID, COUNT 10), through redis-benchmark;
3. XADD (`*` IDs) and XREADGROUP (`>`, COUNT 1, a new entry into the PEL each call) with
   redis-benchmark at -P 1 and -P 16, -c 50, ops/s and the ratio ours / redis.
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from scripts.bench import info_field, rss_bytes  # noqa: E402
from tests.helpers import RawClient, start_node, start_redis  # noqa: E402


def run_custom(port, pipeline, requests, command, rand=100000, clients=50):
    """ops/s of one command given in full (__rand_int__ drawn from `rand` values)."""
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-c", str(clients), "-n", str(requests),
         "-P", str(pipeline), "-r", str(rand), "-q", *command],
        capture_output=True, text=True, timeout=600).stdout
    rates = re.findall(r"([\d.]+) requests per second", out.replace("\r", "\n"))
    return float(rates[-1]) if rates else 0.0


def load_stream(port, key, count, batch=10000) -> float:
    """XADD `count` entries with explicit IDs; returns the seconds it took."""
    c = RawClient(port, timeout=120)
    value = b"v" * 10
    t0 = time.monotonic()
    for start in range(1, count + 1, batch):
        cmds = [("XADD", key, b"%d-1" % i, b"field", value)
                for i in range(start, min(count + 1, start + batch))]
        replies = c.pipeline(cmds)
        assert replies[-1][0] == "$", replies[-1]
    c.close()
    return time.monotonic() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run")
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument("--requests", type=int, default=None)
    args = parser.parse_args()
    entries = args.entries or (100000 if args.quick else 1000000)
    requests = args.requests or (20000 if args.quick else 200000)

    ours = start_node("--loglevel", "warning")
    ref = start_redis("--save", "")
    try:
        time.sleep(0.3)
        rss_before = rss_bytes(ours.pid)
        used_before = info_field(ref.port, "used_memory")
        t_ours = load_stream(ours.port, "s", entries)
        t_ref = load_stream(ref.port, "s", entries)
        time.sleep(0.3)
        grown_ours = rss_bytes(ours.pid) - rss_before
        grown_ref = info_field(ref.port, "used_memory") - used_before
        print("memory of one %d-entry stream (field + 10-byte value):" % entries)
        print("  ours  RSS growth   %8.1f MB  %6.1f bytes/entry (load %.1fs)"
              % (grown_ours / 1e6, grown_ours / entries, t_ours))
        print("  redis used_memory  %8.1f MB  %6.1f bytes/entry (load %.1fs)"
              % (grown_ref / 1e6, grown_ref / entries, t_ref))
        print("  ratio ours / redis: %.2fx" % (grown_ours / grown_ref))
        print()
        print("redis-benchmark -c 50 -n %d" % requests)
        print("%-22s %-4s %12s %12s %7s" % ("test", "-P", "ours ops/s", "redis ops/s",
                                            "ratio"))
        xrange_cmd = ["XRANGE", "s", "__rand_int__", "+", "COUNT", "10"]
        a = run_custom(ours.port, 1, requests, xrange_cmd, rand=entries)
        b = run_custom(ref.port, 1, requests, xrange_cmd, rand=entries)
        print("%-22s %-4d %12.0f %12.0f %6.2fx" % ("xrange by id, COUNT 10", 1, a, b,
                                                   a / b if b else 0))
        for server in (ours, ref):
            c = RawClient(server.port)
            c.call("DEL", "s")
            c.close()
        for pipeline in (1, 16):
            xadd = ["XADD", "bench:s", "*", "field", "vvvvvvvvvv"]
            a = run_custom(ours.port, pipeline, requests, xadd)
            b = run_custom(ref.port, pipeline, requests, xadd)
            print("%-22s %-4d %12.0f %12.0f %6.2fx" % ("xadd *", pipeline, a, b,
                                                       a / b if b else 0))
            for server in (ours, ref):
                c = RawClient(server.port)
                c.call("DEL", "bench:s")
                c.call("XGROUP", "CREATE", "bench:g", "g", "0", "MKSTREAM")
                c.close()
                load_stream(server.port, "bench:g", requests + 1000)
            read = ["XREADGROUP", "GROUP", "g", "c__rand_int__", "COUNT", "1", "STREAMS",
                    "bench:g", ">"]
            a = run_custom(ours.port, pipeline, requests, read, rand=50)
            b = run_custom(ref.port, pipeline, requests, read, rand=50)
            print("%-22s %-4d %12.0f %12.0f %6.2fx" % ("xreadgroup >", pipeline, a, b,
                                                       a / b if b else 0))
            for server in (ours, ref):
                c = RawClient(server.port)
                c.call("DEL", "bench:g")
                c.close()
    finally:
        ours.stop()
        ref.stop()


if __name__ == "__main__":
    main()
