#!/usr/bin/env python3
"""A huge MULTI/EXEC against our node.py and redis-server, side by side in one run.

    .venv/bin/python scripts/bench_exec.py                 # 1,000,000 x INCR {k}
    .venv/bin/python scripts/bench_exec.py -n 200000 --command set

One client queues N commands (MULTI, N x INCR {k} or SET {k} v), then sends EXEC and
reads the N replies; "exec" is the time from sending EXEC to the last reply byte. Another
client, in its own process, sends PING after PING meanwhile: "worst PING" is the longest
wait of one of them, i.e. how long the transaction kept everybody else waiting (EXEC is
atomic: nothing else may run in the middle of it).
"""
import argparse
import multiprocessing
import os
import socket
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.helpers import RawClient, start_node, start_redis  # noqa: E402


def _connect(port):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_exactly(sock, size) -> bytes:
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:], min(size - got, 1 << 20))
        if not n:
            raise ConnectionError("closed after %d of %d bytes" % (got, size))
        got += n
    return bytes(buf)


def _pinger(port, ready, stop, results):
    """PING in a loop until `stop`; send back (worst wait, pings answered)."""
    sock = _connect(port)
    worst, count = 0.0, 0
    ready.set()
    while not stop.is_set():
        t0 = time.perf_counter()
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        if _read_exactly(sock, 7) != b"+PONG\r\n":
            raise AssertionError("bad PING reply")
        worst = max(worst, time.perf_counter() - t0)
        count += 1
    results.put((worst, count))
    sock.close()


def run_exec(port, n, command):
    """(seconds queueing, seconds from EXEC to its last reply byte, worst PING seconds)."""
    RawClient(port).call("FLUSHALL")
    if command == "incr":
        one = b"*2\r\n$4\r\nINCR\r\n$3\r\n{k}\r\n"
        reply_size = len(b"*%d\r\n" % n) + sum(len(b":%d\r\n" % i) for i in range(1, n + 1))
        last = b":%d\r\n" % n
    else:
        one = b"*3\r\n$3\r\nSET\r\n$3\r\n{k}\r\n$1\r\nv\r\n"
        reply_size = len(b"*%d\r\n" % n) + 5 * n
        last = b"+OK\r\n"
    sock = _connect(port)
    t0 = time.perf_counter()
    # Written from a thread while this one reads the +QUEUED replies: neither side blocks.
    writer = threading.Thread(target=sock.sendall, args=(b"*1\r\n$5\r\nMULTI\r\n" + one * n,))
    writer.start()
    queued = _read_exactly(sock, 5 + 9 * n)
    writer.join()
    assert queued.endswith(b"+QUEUED\r\n"), queued[-40:]
    t_queue = time.perf_counter() - t0

    ctx = multiprocessing.get_context("fork")
    ready, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
    pinger = ctx.Process(target=_pinger, args=(port, ready, stop, results))
    pinger.start()
    ready.wait(10)
    time.sleep(0.05)
    t0 = time.perf_counter()
    sock.sendall(b"*1\r\n$4\r\nEXEC\r\n")
    reply = _read_exactly(sock, reply_size)
    t_exec = time.perf_counter() - t0
    assert reply.endswith(last), reply[-40:]
    time.sleep(0.05)
    stop.set()
    worst, pings = results.get(timeout=30)
    pinger.join(10)
    sock.close()
    return t_queue, t_exec, worst, pings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000000, help="commands in the transaction")
    parser.add_argument("--command", choices=("incr", "set"), default="incr")
    parser.add_argument("--ours-only", action="store_true")
    parser.add_argument("--port", type=int, help="an already running node instead")
    args = parser.parse_args()
    servers = []
    if args.port:
        servers.append(("ours", args.port, None))
    else:
        node = start_node("--loglevel", "warning")
        servers.append(("ours", node.port, node))
    if not args.ours_only:
        ref = start_redis()
        servers.append(("redis", ref.port, ref))
    try:
        print("MULTI, %d x %s {k}, EXEC" % (args.n, args.command.upper()))
        print("%-6s %10s %10s %12s %12s %8s" % ("server", "queue s", "exec s", "us/command",
                                               "worst PING s", "pings"))
        for name, port, _ in servers:
            t_queue, t_exec, worst, pings = run_exec(port, args.n, args.command)
            print("%-6s %10.2f %10.2f %12.2f %12.3f %8d"
                  % (name, t_queue, t_exec, t_exec / args.n * 1e6, worst, pings))
    finally:
        for _, _, proc in servers:
            if proc is not None:
                proc.stop()


if __name__ == "__main__":
    main()
