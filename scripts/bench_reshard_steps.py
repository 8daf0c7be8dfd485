#!/usr/bin/env python3
"""A reshard's requests one by one: where the time of `redis-cli --cluster reshard` goes.

    .venv/bin/python scripts/bench_reshard_steps.py [--slots 300] [--keys-per-slot 100]

For ours and for redis-server (3 masters each), the same chain of requests redis-cli's
reshard sends for every slot is replayed by one client, waiting for each reply as
redis-cli does: SETSLOT IMPORTING on the target, SETSLOT MIGRATING on the source,
GETKEYSINSLOT 10 + MIGRATE ... KEYS (10 keys) until the slot is empty, then SETSLOT NODE
on the target, the source and the third master. Printed per kind of request: how many,
the median and mean round trip, their total; and each node's CPU per slot. Side by side,
the difference per kind is what separates our reshard from Redis's
(scripts/bench_cluster_mode.py times the real redis-cli).
"""
import argparse
import os
import socket
import statistics
import sys
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import hiredis  # noqa: E402

from bench_cluster_mode import cpu_seconds, load_slots  # noqa: E402
from tests.integration.cluster_util import Cluster, node_id  # noqa: E402


class Connection:
    """One blocking connection: a request, then its reply (redis-cli's way)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = hiredis.Reader()

    def call(self, *args):
        args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(args) +
                          b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        while True:
            reply = self.reader.gets()
            if reply is not False:
                return reply
            self.reader.feed(self.sock.recv(65536))

    def close(self):
        self.sock.close()


def replay(cl, slots, keys_per_slot):
    """(seconds, CPU seconds per node, {kind: [round trip seconds]})."""
    source, target, other = cl.ports
    load_slots(source, keys_per_slot * slots, slots=slots)
    source_id, target_id = node_id(source), node_id(target)
    conns = [Connection(p) for p in (source, target, other)]
    src, dst, third = conns
    times = defaultdict(list)

    def timed(kind, conn, *args):
        start = time.perf_counter()
        reply = conn.call(*args)
        times[kind].append(time.perf_counter() - start)
        if isinstance(reply, hiredis.ReplyError):
            raise SystemExit("%s: %s" % (kind, reply))
        return reply

    cpu0 = [cpu_seconds(p.pid) for p in cl.procs]
    start = time.perf_counter()
    for slot in range(slots):
        timed("SETSLOT IMPORTING (target)", dst, "CLUSTER", "SETSLOT", slot, "IMPORTING",
              source_id)
        timed("SETSLOT MIGRATING (source)", src, "CLUSTER", "SETSLOT", slot, "MIGRATING",
              target_id)
        while True:
            keys = timed("GETKEYSINSLOT 10 (source)", src, "CLUSTER", "GETKEYSINSLOT", slot,
                         10)
            if not keys:
                break
            timed("MIGRATE 10 keys (source)", src, "MIGRATE", "127.0.0.1", target, "", 0,
                  60000, "KEYS", *keys)
        for kind, conn in (("SETSLOT NODE (target)", dst), ("SETSLOT NODE (source)", src),
                           ("SETSLOT NODE (other)", third)):
            timed(kind, conn, "CLUSTER", "SETSLOT", slot, "NODE", target_id)
    took = time.perf_counter() - start
    cpu = [cpu_seconds(p.pid) - c for p, c in zip(cl.procs, cpu0)]
    for conn in conns:
        conn.close()
    return took, cpu, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=300)
    parser.add_argument("--keys-per-slot", type=int, default=100)
    args = parser.parse_args()
    results = {}
    for name, real in (("ours", False), ("redis", True)):
        cl = Cluster(3, node_timeout=15000, real=real)
        try:
            cl.create()
            results[name] = replay(cl, args.slots, args.keys_per_slot)
        finally:
            cl.stop()
    print("%d slots of %d keys, one request at a time" % (args.slots, args.keys_per_slot))
    for name, (took, cpu, _) in results.items():
        print("  %-5s %6.2f s  %5.2f ms a slot; CPU ms a slot source/target/other: %s"
              % (name, took, took / args.slots * 1e3,
                 "/".join("%.2f" % (c / args.slots * 1e3) for c in cpu)))
    print("%-28s %6s %17s %17s %12s" % ("request", "count", "median us o / r",
                                       "mean us o / r", "ms a slot +"))
    ours, ref = results["ours"][2], results["redis"][2]
    for kind, spent in ours.items():
        theirs = ref[kind]
        extra = (sum(spent) - sum(theirs)) / args.slots * 1e3
        print("%-28s %6d %8.0f /%7.0f %8.0f /%7.0f %12.2f"
              % (kind, len(spent), statistics.median(spent) * 1e6,
                 statistics.median(theirs) * 1e6, statistics.mean(spent) * 1e6,
                 statistics.mean(theirs) * 1e6, extra))


if __name__ == "__main__":
    main()
