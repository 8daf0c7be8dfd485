#!/usr/bin/env python3
"""The per-command path in-process, without sockets: ours beside the bare server's.

    .venv/bin/python scripts/bench_path.py                  # every command, 16 per read
    .venv/bin/python scripts/bench_path.py --tests set,get --batch 1
    .venv/bin/python scripts/bench_path.py --profile set    # cProfile of that command

A node is built as node.py builds it (in a temporary folder, listening on a free loopback
port, owning every slot) and a socketless client is fed the same bytes a redis-benchmark
client sends: `--batch` requests per read. The loop is Client.serve's (parse, process,
encode) minus recv and send; the bare loop is scripts/bare_server.py's. The difference is
our own per-command path, with no network noise: what issue 16 is about, as ns per
command. redis-benchmark's numbers (scripts/bench.py) add the sockets and the event loop.
"""
import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import gevent  # noqa: E402
import hiredis  # noqa: E402
from loguru import logger  # noqa: E402

import bare_server  # noqa: E402
from commands.server.command_line import parse_arguments  # noqa: E402
from commands.server.connection import YIELD_EVERY, Client  # noqa: E402
from commands.server.executor import process_command  # noqa: E402
from commands.server.resp import RequestParser  # noqa: E402
from node import Node  # noqa: E402
from tests.helpers import free_port  # noqa: E402

# What redis-benchmark sends for each test (its keys: key:__rand_int__ -> key:000000000042).
REQUESTS = {
    "set": [b"SET", b"key:000000000042", b"xxx"],
    "get": [b"GET", b"key:000000000042"],
    "incr": [b"INCR", b"counter:000000000042"],
    "mset": [b"MSET"] + [b"key:000000000042", b"xxx"] * 10,
    "lpush": [b"LPUSH", b"mylist", b"xxx"],
    "lpop": [b"LPOP", b"mylist"],
    "sadd": [b"SADD", b"myset", b"element:000000000042"],
    "hset": [b"HSET", b"myhash", b"element:000000000042", b"xxx"],
    "zadd": [b"ZADD", b"myzset", b"0", b"element:000000000042"],
    "lrange_100": [b"LRANGE", b"mylist", b"0", b"99"],
    "publish": [b"PUBLISH", b"channel:000000000042", b"message"],
}


def multibulk(argv) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def build_node():
    logger.remove()
    folder = tempfile.mkdtemp(prefix="bench-path-")
    settings = parse_arguments(["--port", str(free_port()), "--dir", folder,
                                "--save", "", "--appendonly", "no"])
    node = Node(settings)
    node.start()
    admin = Client(node.server)
    process_command(admin, [b"CLUSTER", b"ADDSLOTSRANGE", b"0", b"16383"])
    for _ in range(200):                  # the cluster cron says ok within a second or two
        if node.server.cluster.cluster_ok:
            break
        gevent.sleep(0.05)
    return node


def our_loop(node, data):
    """Client.serve's work for one read, minus recv and send (Client._run yields every
    YIELD_EVERY requests; --batch stays below that, so it never does here)."""
    client = Client(node.server)
    client.parser = parser = RequestParser()

    def run():
        client._batch = []
        parser.feed(data)
        client._run(parser.take(), 0)
        b"".join(client._batch)
    return run


def bare_loop(data):
    reader = hiredis.Reader()
    commands = bare_server.COMMANDS

    def run():
        out = []
        reader.feed(data)
        while True:
            argv = reader.gets()
            if argv is False:
                break
            out.append(commands[argv[0]](argv))
        b"".join(out)
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", default=",".join(REQUESTS))
    parser.add_argument("--batch", type=int, default=16, help="requests per read (-P)")
    parser.add_argument("--profile", default=None, help="cProfile one test")
    args = parser.parse_args()
    if args.batch >= YIELD_EVERY:
        sys.exit("--batch must stay below %d" % YIELD_EVERY)
    node = build_node()
    if not node.server.cluster.cluster_ok:
        sys.exit("the node did not reach cluster_state:ok")
    if args.profile:
        run = our_loop(node, multibulk(REQUESTS[args.profile]) * args.batch)
        cProfile.runctx("for _ in range(20000): run()", globals(), {"run": run},
                        "/tmp/bench_path.prof")
        pstats.Stats("/tmp/bench_path.prof").sort_stats("tottime").print_stats(25)
        return
    print("ns per command, %d requests per read (best of 5)" % args.batch)
    print("%-11s %8s %8s %9s" % ("test", "ours", "bare", "ours/bare"))
    for test in args.tests.split(","):
        data = multibulk(REQUESTS[test]) * args.batch
        if test == "lrange_100":      # a list of 100 elements to read
            seed = multibulk([b"RPUSH", b"mylist"] + [b"xxx"] * 100)
            our_loop(node, seed)()
            bare_loop(multibulk([b"LPUSH", b"mylist"] + [b"xxx"] * 100))()
        timings = {}
        for name, run in (("ours", our_loop(node, data)), ("bare", bare_loop(data))):
            number = max(1, 20000 // args.batch)
            best = min(timeit.repeat(run, number=number, repeat=5))
            timings[name] = 1e9 * best / (number * args.batch)
        print("%-11s %8.0f %8.0f %8.2fx" % (test, timings["ours"], timings["bare"],
                                            timings["bare"] / timings["ours"]), flush=True)


if __name__ == "__main__":
    main()
