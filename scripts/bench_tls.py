#!/usr/bin/env python3
"""TLS benchmark: our node.py vs redis-server, both serving TLS, in one run.

    .venv/bin/python scripts/bench_tls.py            # -n 100000
    .venv/bin/python scripts/bench_tls.py --quick    # -n 20000

Makes a CA, a server and a client certificate (tests/tls_certs.py), starts both servers
with the same `tls-port`/`tls-cert-file`/... settings, and runs redis-benchmark
(-t set,get -c 50, with --tls --cacert --cert --key) at -P 1 and -P 16 against each TLS
port, then the same against each plain port; prints ops/s and the ratios ours / redis.
The handshakes of the 50 connections are part of each run, as they are for a client.
"""
import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from scripts.bench import run_benchmark  # noqa: E402
from tests.helpers import free_port, start_node, start_redis  # noqa: E402
from tests.tls_certs import make_certs  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="-n 20000")
    parser.add_argument("-n", type=int, default=None, help="requests per test")
    args = parser.parse_args()
    requests = args.n or (20000 if args.quick else 100000)
    certs = make_certs(tempfile.mkdtemp(prefix="bench-tls-"))
    used = set()                        # four distinct ports
    ours_tls, redis_tls = free_port(used), free_port(used)
    ours = start_node(*certs.node_args(ours_tls), port=free_port(used))
    redis = start_redis(*certs.node_args(redis_tls), "--save", "", port=free_port(used))
    try:
        rows = []
        for label, ports, extra in (("TLS", (ours_tls, redis_tls), certs.cli_args()),
                                    ("plain", (ours.port, redis.port), [])):
            for pipeline in (1, 16):
                mine = run_benchmark(ports[0], pipeline, requests, tests="set,get",
                                     extra=extra)
                theirs = run_benchmark(ports[1], pipeline, requests, tests="set,get",
                                       extra=extra)
                for test in ("set", "get"):
                    rows.append((label, pipeline, test, mine.get(test, 0.0),
                                 theirs.get(test, 0.0)))
        print("%-6s %4s %-4s %12s %12s %7s" % ("conn", "-P", "test", "ours ops/s",
                                               "redis ops/s", "ratio"))
        for label, pipeline, test, mine, theirs in rows:
            print("%-6s %4d %-4s %12.0f %12.0f %6.2fx" % (
                label, pipeline, test, mine, theirs, mine / theirs if theirs else 0.0))
    finally:
        ours.stop()
        redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
