#!/usr/bin/env python3
"""Cluster-wide PUBLISH throughput: 3 of our masters vs 3 redis-server masters, one run.

    .venv/bin/python scripts/bench_pubsub.py             # 20000 messages per cluster
    .venv/bin/python scripts/bench_pubsub.py --quick     # 4000

Each cluster (slots split by hand: MEET + ADDSLOTSRANGE) gets 10 subscribers on each of its
3 nodes, all on one channel. One client on node A publishes N messages in pipelined
batches; the time runs from the first PUBLISH until all 30 subscribers hold all N messages
(10 of them get them from A directly, 20 through the cluster bus to B and C). Reported:
messages published per second (delivered everywhere), deliveries per second (x30), and the
ratio ours / redis.

The subscribers live in a separate process that reads all 30 sockets with one selector
and counts bytes (every message has the same size), so reading is not the bottleneck of
the publisher's process. Everything is bounded: N messages, a deadline per run.
"""
import argparse
import multiprocessing
import os
import selectors
import socket
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.helpers import RawClient  # noqa: E402
from tests.integration.cluster_util import Cluster  # noqa: E402

CHANNEL = b"bench"
PAYLOAD = b"p" * 16
SUBSCRIBERS_PER_NODE = 10
BATCH = 100
DEADLINE = 180.0               # seconds per run, publishing and delivery together
RANGES = [[(0, 5460)], [(5461, 10922)], [(10923, 16383)]]


def message_size() -> int:
    return len(b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
               % (len(CHANNEL), CHANNEL, len(PAYLOAD), PAYLOAD))


def subscribers(ports, count, conn):
    """Child process: subscribe, report ready, count bytes until every subscriber holds
    `count` messages or the deadline passes; send back (finish time, per-subscriber
    message counts)."""
    expected_confirm = len(b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n"
                           % (len(CHANNEL), CHANNEL))
    socks = []
    for port in ports:
        for _ in range(SUBSCRIBERS_PER_NODE):
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.sendall(RawClient.encode(("SUBSCRIBE", CHANNEL)))
            socks.append(s)
    for s in socks:                       # wait for every confirmation
        got = b""
        s.settimeout(10)
        while len(got) < expected_confirm:
            got += s.recv(expected_confirm - len(got))
        s.setblocking(False)
    conn.send("ready")
    size = message_size()
    target = size * count
    received = {s: 0 for s in socks}
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    pending = len(socks)
    deadline = time.monotonic() + DEADLINE
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(s)
                pending -= 1
                continue
            received[s] += len(data)
            if received[s] >= target:
                sel.unregister(s)
                pending -= 1
    finished = time.monotonic()
    conn.send((finished, [received[s] // size for s in socks]))
    for s in socks:
        s.close()


def run(ports, count):
    """Publish `count` messages on ports[0]; returns (seconds, per-subscriber counts)."""
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=subscribers, args=(ports, count, child))
    proc.start()
    try:
        if not parent.poll(30) or parent.recv() != "ready":
            raise RuntimeError("subscribers did not get ready")
        publisher = RawClient(ports[0], timeout=30)
        batch = RawClient.encode(("PUBLISH", CHANNEL, PAYLOAD)) * BATCH
        start = time.monotonic()
        sent = 0
        while sent < count and time.monotonic() - start < DEADLINE:
            n = min(BATCH, count - sent)
            publisher.send_raw(batch if n == BATCH else
                               RawClient.encode(("PUBLISH", CHANNEL, PAYLOAD)) * n)
            for _ in range(n):
                publisher.read_reply()
            sent += n
        publish_done = time.monotonic()
        publisher.close()
        if not parent.poll(DEADLINE + 30):
            raise RuntimeError("subscribers did not report")
        finished, counts = parent.recv()
        return finished - start, publish_done - start, counts
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()


def bench(real, count):
    cluster = Cluster(3, real=real)
    try:
        cluster.create_by_hand(RANGES)
        return run(cluster.ports, count)
    finally:
        cluster.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4000 messages instead of 20000")
    parser.add_argument("-n", type=int, default=None, help="messages per run")
    args = parser.parse_args()
    count = args.n or (4000 if args.quick else 20000)
    results = {}
    for name, real in (("ours", False), ("redis", True)):
        seconds, publish_seconds, counts = bench(real, count)
        complete = sum(1 for c in counts if c >= count)
        results[name] = count / seconds
        print("%-5s  %d messages x %d subscribers: all delivered in %.2fs (publishing took "
              "%.2fs), %d/%d subscribers complete" % (name, count, len(counts), seconds,
                                                      publish_seconds, complete, len(counts)))
        print("       %10.0f messages/s published and delivered everywhere, "
              "%10.0f deliveries/s" % (count / seconds, count * len(counts) / seconds))
    print("ratio ours / redis: %.2f" % (results["ours"] / results["redis"]))


if __name__ == "__main__":
    main()
