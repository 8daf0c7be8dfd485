#!/usr/bin/env python3
"""Hostile requests: how long one client's declared sizes stall everyone, and the memory
a huge bulk costs -- our node.py and redis-server side by side in one run.

    .venv/bin/python scripts/bench_hostile.py              # 500 MB bulk
    .venv/bin/python scripts/bench_hostile.py --bulk-mb 64

For each hostile header (a huge multibulk count, a huge bulk length) a client sends it,
holds the connection for a second, then disconnects; a second client PINGs every 2 ms
the whole time and the worst PING round trip is printed. Then one client SETs a bulk of
--bulk-mb megabytes and the server's peak RSS growth is printed.
"""
import argparse
import os
import socket
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.helpers import RawClient, start_node, start_redis  # noqa: E402

HOSTILE = {
    "*1073741824 (count)": b"*1073741824\r\n$1\r\na\r\n",
    "*2147483648 (count)": b"*2147483648\r\n$1\r\na\r\nXX",
    "*4294967295 (count)": b"*4294967295\r\n$1\r\na\r\n",
    "$536870912 (bulk)": b"*2\r\n$3\r\nSET\r\n$536870912\r\nabc",
}


def rss(pid) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def worst_ping_while(port, action) -> float:
    """The worst PING round trip (s) of another client while action() runs."""
    stop = threading.Event()
    worst = [0.0]

    def pinger():
        client = RawClient(port, timeout=30)
        while not stop.is_set():
            began = time.monotonic()
            client.call("PING")
            worst[0] = max(worst[0], time.monotonic() - began)
            time.sleep(0.002)
        client.close()

    thread = threading.Thread(target=pinger, daemon=True)
    thread.start()
    time.sleep(0.2)
    action()
    time.sleep(0.5)             # a stall at disconnect shows up here
    stop.set()
    thread.join()
    return worst[0]


def hold_and_drop(port, payload):
    def action():
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(payload)
        time.sleep(1.0)
        sock.close()
    return action


def peak_rss_growth(proc, megabytes) -> int:
    before = rss(proc.pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss(proc.pid))
            time.sleep(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    client = RawClient(proc.port, timeout=120)
    assert client.call("SET", "big", b"x" * (megabytes << 20)) == ("+", "OK")
    client.call("DEL", "big")
    client.close()
    done.set()
    thread.join()
    return peak[0] - before


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bulk-mb", type=int, default=500)
    args = parser.parse_args()
    ours = start_node("--save", "", "--loglevel", "warning")
    ref = start_redis("--save", "")
    try:
        print("%-26s %14s %14s" % ("worst PING while held", "ours (ms)", "redis (ms)"))
        for name, payload in HOSTILE.items():
            o = worst_ping_while(ours.port, hold_and_drop(ours.port, payload))
            r = worst_ping_while(ref.port, hold_and_drop(ref.port, payload))
            print("%-26s %14.1f %14.1f" % (name, o * 1000, r * 1000))
        o = peak_rss_growth(ours, args.bulk_mb)
        r = peak_rss_growth(ref, args.bulk_mb)
        print("%-26s %14.0f %14.0f   %.2fx" % ("peak RSS growth, %d MB SET" % args.bulk_mb,
                                               o / 2 ** 20, r / 2 ** 20, o / r if r else 0))
    finally:
        ours.stop()
        ref.stop()


if __name__ == "__main__":
    main()
