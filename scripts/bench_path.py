#!/usr/bin/env python3
"""The per-command path in-process, without sockets: ours beside the bare server's.

    .venv/bin/python scripts/bench_path.py                  # every command, 16 per read
    .venv/bin/python scripts/bench_path.py --tests set,get --batch 1
    .venv/bin/python scripts/bench_path.py --profile set    # cProfile of that command
    .venv/bin/python scripts/bench_path.py --floor          # set,get,incr with the floor

The client side of a node is built as node.py builds it, owning every slot (no bus, no
listening socket), and a socketless client is fed the same bytes a redis-benchmark client
sends: `--batch` requests per read. The loop is Client.serve's (parse, process,
encode) minus recv and send; the bare loop is scripts/bare_server.py's. The difference is
our own per-command path, with no network noise: what issue 16 is about, as ns per
command. redis-benchmark's numbers (scripts/bench.py) add the sockets and the event loop.

--floor adds a third loop: the least a node that keeps Redis's behaviours can do for
these requests, written as one straight loop with nothing else in it (floor_loop). What
it costs beyond the bare loop is what no rearranging of our serve loop can take away:
the price of the data model and the bookkeeping themselves, not of the code around them.
"""
import argparse
import binascii
import cProfile
import os
import pstats
import random
import sys
import time
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import hiredis  # noqa: E402

import bare_server  # noqa: E402
from cluster.config import ClusterConfig  # noqa: E402
from cluster.operations import ClusterOperations  # noqa: E402
from cluster.slots import CLUSTER_SLOTS  # noqa: E402
from cluster.state import ClusterState  # noqa: E402
from cluster.view import ClusterView  # noqa: E402
from commands import load_all_commands  # noqa: E402
from commands.data.keyspace import Keyspace  # noqa: E402
from commands.server.connection import YIELD_EVERY, Client  # noqa: E402
from commands.server.context import Server  # noqa: E402
from commands.server.executor import build_fast_table, record_slow_call  # noqa: E402
from commands.server.resp import Raw, ReplyError, RequestParser  # noqa: E402
from commands.server.routing import Router  # noqa: E402
from commands.server.settings import Settings  # noqa: E402

# The tests floor_loop runs: a key at argv[1], a reply of +OK, a bulk string or an integer.
FLOOR_TESTS = {"set", "get", "incr"}
STORE_TESTS = {"set", "get"}          # store_loop's: the keyspace call alone

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


def build_server():
    """The client side of a node, wired as node.py wires it, owning every slot of a
    one-node cluster (a ClusterState with no bus: nothing listens, nothing is sent)."""
    load_all_commands()
    settings = Settings()
    keyspace = Keyspace()
    server = Server(settings, keyspace)
    server.fast_commands = build_fast_table()
    state = ClusterState(ClusterConfig(port=7000), random.Random(1), 0)
    for slot in range(CLUSTER_SLOTS):
        state.slots[slot] = state.myself
    state.state_ok = True
    server.cluster = ClusterView(state)
    server.cluster_ops = ClusterOperations(state, None, ReplyError)
    server.router = Router(server.cluster, keyspace, settings)
    return server


def our_loop(server, data):
    """Client.serve's work for one read, minus recv and send (Client._run yields every
    YIELD_EVERY requests; --batch stays below that, so it never does here)."""
    client = Client(server)
    client.parser = parser = RequestParser()

    def run():
        client._batch = []
        parser.feed(data)
        client._run(parser.take(), 0)
        b"".join(client._batch)
    return run


def store_loop(server, data, test):
    """The first layer of the floor: the bare loop (hiredis, no checks) with our keyspace
    in place of its dict: the key's slot, the owner check and the keyspace's own store
    or lookup (set_string, lookup_read), the reply written out. No command table, no
    handler, no statistics."""
    reader = hiredis.Reader()
    owners, myself = server.cluster.slots, server.cluster.myself
    keyspace = server.keyspace
    store = test == "set"

    def run():
        out = []
        reader.feed(data)
        argv = reader.gets()
        while argv is not False:
            key = argv[1]
            slot = binascii.crc_hqx(key, 0) & 0x3FFF
            if owners[slot] is not myself:
                raise SystemExit("the store loop owns every slot")
            keyspace.hint_key = key
            keyspace.hint_slot = slot
            if store:
                keyspace.set_string(key, argv[2])
                out.append(b"+OK\r\n")
            else:
                value = keyspace.lookup_read(key)
                out.append(b"$%d\r\n%s\r\n" % (len(value), value))
            argv = reader.gets()
        b"".join(out)
    return run


def floor_loop(server, data):
    """The floor: for each request our parser hands over (Redis's protocol checks), the
    command looked up by the bytes sent and its arity checked, the key's slot computed
    and its owner checked, our handler run on our keyspace (a key's LRU clock and the
    memory accounting kept, the checks for keyspace events, watched keys and blocked
    clients made), the command's statistics kept (one clock read a request, its total
    time and its latency histogram), and its reply encoded. Everything that is off here
    (MULTI, ACL, MONITOR, pauses, tracking, propagation, the slow log) is left out, not
    checked: Client._run checks those once per read."""
    client = Client(server)
    parser = RequestParser()
    table = server.fast_commands
    owners, myself = server.cluster.slots, server.cluster.myself
    keyspace = server.keyspace
    clock = time.perf_counter_ns
    slow_ns = server.slow_call_ns

    def run():
        out = []
        parser.feed(data)
        then = clock()
        for argv in parser.take():
            cmd = table.get(argv[0])
            if cmd is None or not cmd.argc_min <= len(argv) <= cmd.argc_max:
                raise SystemExit("the floor loop runs only the commands it is given")
            key = argv[1]
            slot = binascii.crc_hqx(key, 0) & 0x3FFF
            if owners[slot] is not myself:
                raise SystemExit("the floor loop owns every slot")
            keyspace.hint_key = key
            keyspace.hint_slot = slot
            reply = cmd.handler(client, argv)
            kind = type(reply)
            if kind is Raw:
                out.append(reply)
            elif kind is bytes:
                out.append(b"$%d\r\n%s\r\n" % (len(reply), reply))
            else:
                out.append(b":%d\r\n" % reply)
            now = clock()
            ns = now - then
            then = now
            if ns < slow_ns:
                cmd.nsec += ns
                cmd.durations[ns // 1000] += 1
            else:
                record_slow_call(client, cmd, argv, ns)
        parser.finished()
        b"".join(out)
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
    parser.add_argument("--tests", default=None, help="default: every test (with "
                        "--floor: set,get,incr)")
    parser.add_argument("--batch", type=int, default=16, help="requests per read (-P)")
    parser.add_argument("--profile", default=None, help="cProfile one test")
    parser.add_argument("--floor", action="store_true",
                        help="also the floor loop (set, get and incr only)")
    args = parser.parse_args()
    if args.batch >= YIELD_EVERY:
        sys.exit("--batch must stay below %d" % YIELD_EVERY)
    server = build_server()
    if args.profile:
        run = our_loop(server, multibulk(REQUESTS[args.profile]) * args.batch)
        cProfile.runctx("for _ in range(20000): run()", globals(), {"run": run},
                        "/tmp/bench_path.prof")
        pstats.Stats("/tmp/bench_path.prof").sort_stats("tottime").print_stats(25)
        return
    loops = ["ours", "bare"] + (["store", "floor"] if args.floor else [])
    tests = (args.tests or ",".join(t for t in REQUESTS if not args.floor or
                                    t in FLOOR_TESTS)).split(",")
    if args.floor and not set(tests) <= FLOOR_TESTS:
        sys.exit("--floor runs only --tests %s" % ",".join(sorted(FLOOR_TESTS)))
    # GET reads a key that exists, in every loop, whichever tests run before it.
    our_loop(server, multibulk(REQUESTS["set"]))()
    bare_loop(multibulk(REQUESTS["set"]))()
    print("ns per command, %d requests per read (best of 5)" % args.batch)
    print("%-11s" % "test" + "".join("%8s" % name for name in loops) + " ours/bare" +
          (" floor/bare" if args.floor else ""))
    for test in tests:
        data = multibulk(REQUESTS[test]) * args.batch
        if test == "lrange_100":      # a list of 100 elements to read
            seed = multibulk([b"RPUSH", b"mylist"] + [b"xxx"] * 100)
            our_loop(server, seed)()
            bare_loop(multibulk([b"LPUSH", b"mylist"] + [b"xxx"] * 100))()
        runs = {"ours": our_loop(server, data), "bare": bare_loop(data)}
        if args.floor:
            runs["floor"] = floor_loop(server, data)
            runs["store"] = store_loop(server, data, test) if test in STORE_TESTS else None
        timings = {}
        for name in loops:
            if runs[name] is None:
                continue
            number = max(1, 20000 // args.batch)
            best = min(timeit.repeat(runs[name], number=number, repeat=5))
            timings[name] = 1e9 * best / (number * args.batch)
        line = "%-11s" % test + "".join("%8.0f" % timings[name] if name in timings
                                        else "%8s" % "-" for name in loops)
        line += " %8.2fx" % (timings["bare"] / timings["ours"])
        if args.floor:
            line += " %9.2fx" % (timings["bare"] / timings["floor"])
        print(line, flush=True)


if __name__ == "__main__":
    main()
