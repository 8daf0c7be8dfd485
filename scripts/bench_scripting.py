#!/usr/bin/env python3
"""Scripting benchmark: our node.py vs redis-server, side by side in one run.

    .venv/bin/python scripts/bench_scripting.py            # -n 100000
    .venv/bin/python scripts/bench_scripting.py --quick    # -n 20000

EVALSHA of the one-line script `return redis.call('get', KEYS[1])` and FCALL of a
function with the same one-line body (registered by FUNCTION LOAD), on a random key
each call, through redis-benchmark (-c 10, like the README's EVALSHA figures) at -P 1
and -P 16; ops/s and the ratio ours / redis.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from scripts.bench_streams import run_custom  # noqa: E402
from tests.helpers import RawClient, start_node, start_redis  # noqa: E402

BODY = "return redis.call('get', KEYS[1])"
LIBRARY = ("#!lua name=bench\n"
           "redis.register_function('getkey', function(keys, args) %s end)" % BODY
           .replace("KEYS[1]", "keys[1]"))


def prepare(port) -> str:
    """Load the script and the function; the script's sha."""
    c = RawClient(port)
    sha = c.call("SCRIPT", "LOAD", BODY)[1].decode()
    c.call("FUNCTION", "FLUSH")
    assert c.call("FUNCTION", "LOAD", LIBRARY) == ("$", b"bench")
    assert c.call("SET", "key:000000000001", "v")[0] == "+"
    c.close()
    return sha


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    requests = args.requests or (20000 if args.quick else 100000)

    ours = start_node("--loglevel", "warning")
    ref = start_redis("--save", "")
    try:
        shas = {ours.port: prepare(ours.port), ref.port: prepare(ref.port)}
        print("redis-benchmark -c %d -n %d" % (args.clients, requests))
        print("%-10s %-4s %12s %12s %7s" % ("test", "-P", "ours ops/s", "redis ops/s",
                                            "ratio"))
        for name in ("evalsha", "fcall"):
            for pipeline in (1, 16):
                rates = []
                for port in (ours.port, ref.port):
                    if name == "evalsha":
                        command = ["EVALSHA", shas[port], "1", "key:__rand_int__"]
                    else:
                        command = ["FCALL", "getkey", "1", "key:__rand_int__"]
                    rates.append(run_custom(port, pipeline, requests, command,
                                            clients=args.clients))
                print("%-10s %-4d %12.0f %12.0f %6.2fx"
                      % (name, pipeline, rates[0], rates[1],
                         rates[0] / rates[1] if rates[1] else 0.0))
    finally:
        ref.stop()
        ours.stop()


if __name__ == "__main__":
    main()
