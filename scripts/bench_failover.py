#!/usr/bin/env python3
"""Failover and full-sync benchmarks: our nodes vs redis-server, in the same run.

    .venv/bin/python scripts/bench_failover.py                 # 3 reps, 1M keys
    .venv/bin/python scripts/bench_failover.py --reps 1 --keys 100000   # quick

1. Failover time: 3 masters + 3 replicas (redis-cli --cluster create --cluster-replicas 1),
   cluster-node-timeout 1000 and 5000 ms. kill -9 of a master; the time until its replica
   is a master with all its slots in the CLUSTER NODES of every survivor AND every survivor
   says cluster_state:ok (polled every 10 ms). Median of --reps runs; ratio ours / redis
   (target <= 0.8).
2. Full sync: a master owning all slots holds K keys (10-byte values, loaded with
   redis-cli --pipe); a fresh node joins and runs CLUSTER REPLICATE; the time until its
   master_link_status is up and it holds all K keys. Both sides in cluster mode; Redis
   with its defaults (diskless sync on in 7.0: repl-diskless-sync-delay 5 s is set to 0,
   or Redis would wait 5 s for more replicas before it starts).

Processes are on loopback, killed by pid; every wait has a deadline.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.helpers import RawClient, start_node, start_redis, wait_until  # noqa: E402
from tests.integration.cluster_helpers import parse_nodes  # noqa: E402
from tests.integration.cluster_util import Cluster  # noqa: E402


def call(port, *args):
    c = RawClient(port, timeout=30)
    try:
        return c.call(*args)[1]
    finally:
        c.close()


def nodes(port):
    return parse_nodes(call(port, "CLUSTER", "NODES").decode())


def state_ok(port) -> bool:
    return b"cluster_state:ok" in call(port, "CLUSTER", "INFO")


def info(port) -> dict:
    text = call(port, "INFO", "replication").decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


# ---------------------------------------------------------------- failover time

def layout(port):
    """{master port: (replica port, master slots)}."""
    view = {n["id"]: n for n in nodes(port)}
    out = {}
    for n in view.values():
        if "slave" in n["flags"] and n["master"] in view:
            m = view[n["master"]]
            out[m["port"]] = (n["port"], m["slots"])
    return out


def one_failover(real: bool, node_timeout: int) -> float:
    cl = Cluster(6, real=real, node_timeout=node_timeout)
    try:
        cl.create(replicas=1)
        ports = cl.ports
        wait_until(lambda: len(layout(ports[0])) == 3 and
                   all(len(layout(p)) == 3 for p in ports), timeout=30, interval=0.1,
                   message="replicas known everywhere")
        shards = layout(ports[0])
        for m, (r, _) in shards.items():
            wait_until(lambda: info(r).get("master_link_status") == "up", timeout=30,
                       interval=0.05, message="link up on %d" % r)
        time.sleep(1.0)      # settle: let every node have fresh pongs from every other
        victim = sorted(shards)[0]
        replica, slots = shards[victim]
        survivors = [p for p in ports if p != victim]
        proc = next(p for p in cl.procs if p.port == victim)
        proc.signal(signal.SIGKILL)
        t0 = time.monotonic()
        proc.proc.wait(5)

        def done():
            for p in survivors:
                me = next(n for n in nodes(p) if n["port"] == replica)
                if "master" not in me["flags"] or me["slots"] != slots or not state_ok(p):
                    return False
            return True
        wait_until(done, timeout=10 * node_timeout / 1000 + 20, interval=0.01,
                   message="failover done")
        return time.monotonic() - t0
    finally:
        cl.stop()


def bench_failover(reps, timeouts):
    rows = []
    for nt in timeouts:
        times = {"ours": [], "redis": []}
        for i in range(reps):
            for name, real in (("ours", False), ("redis", True)):
                t = one_failover(real, nt)
                times[name].append(t)
                print("  node_timeout %5d  %-5s  run %d: %.2f s" % (nt, name, i + 1, t),
                      flush=True)
        rows.append((nt, statistics.median(times["ours"]), statistics.median(times["redis"]),
                     times))
    print()
    print("Failover time, kill -9 -> replica promoted and cluster_state:ok on all survivors")
    print("  %-13s %10s %10s %7s   %s" % ("node_timeout", "ours s", "redis s", "ratio",
                                           "runs ours / redis"))
    for nt, ours, redis, times in rows:
        print("  %-13d %10.2f %10.2f %7.2f   %s / %s"
              % (nt, ours, redis, ours / redis, " ".join("%.2f" % t for t in times["ours"]),
                 " ".join("%.2f" % t for t in times["redis"])))
    return rows


# ---------------------------------------------------------------- full sync

def write_pipe_file(path, keys):
    with open(path, "wb") as f:
        chunk = []
        for i in range(keys):
            key = b"key:%d" % i
            val = b"%010d" % i
            chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$10\r\n%s\r\n" % (len(key), key, val))
            if len(chunk) == 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


def load(port, pipe_file):
    with open(pipe_file, "rb") as f:
        out = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=f,
                             capture_output=True, text=True, timeout=600)
    assert "errors: 0" in out.stdout, out.stdout[-500:]


def one_sync(real: bool, keys: int, pipe_file: str) -> float:
    procs = []
    try:
        if real:
            for _ in range(2):
                procs.append(start_redis("--repl-diskless-sync-delay", "0", cluster=True))
            master, replica = (p.port for p in procs)
            assert call(master, "CLUSTER", "ADDSLOTSRANGE", 0, 16383) == "OK"
        else:
            procs.append(start_node("--loglevel", "warning"))
            procs.append(start_node("--loglevel", "warning", slots=False))
            master, replica = (p.port for p in procs)
        wait_until(lambda: state_ok(master), timeout=30, message="master ok")
        load(master, pipe_file)
        assert call(master, "DBSIZE") == keys
        assert call(replica, "CLUSTER", "MEET", "127.0.0.1", master) == "OK"
        master_id = call(master, "CLUSTER", "MYID").decode()
        wait_until(lambda: any(n["id"] == master_id and "handshake" not in n["flags"]
                               for n in nodes(replica)), timeout=30, interval=0.02,
                   message="replica knows the master")
        t0 = time.monotonic()
        assert call(replica, "CLUSTER", "REPLICATE", master_id) == "OK"
        wait_until(lambda: info(replica).get("master_link_status") == "up" and
                   call(replica, "DBSIZE") == keys, timeout=600, interval=0.02,
                   message="full sync")
        took = time.monotonic() - t0
        # The keys are really there, with their values: a sample, read with READONLY.
        c = RawClient(replica, timeout=30)
        try:
            assert c.call("READONLY")[1] == "OK"
            for i in range(0, keys, max(1, keys // 100)):
                assert c.call("GET", b"key:%d" % i)[1] == b"%010d" % i, i
        finally:
            c.close()
        return took
    finally:
        for p in procs:
            p.stop()


def bench_sync(reps, keys):
    pipe_file = os.path.join(tempfile.mkdtemp(prefix="bench-sync-"), "load.resp")
    write_pipe_file(pipe_file, keys)
    times = {"ours": [], "redis": []}
    try:
        for i in range(reps):
            for name, real in (("ours", False), ("redis", True)):
                t = one_sync(real, keys, pipe_file)
                times[name].append(t)
                print("  full sync %d keys  %-5s  run %d: %.2f s" % (keys, name, i + 1, t),
                      flush=True)
    finally:
        os.unlink(pipe_file)
    ours, redis = statistics.median(times["ours"]), statistics.median(times["redis"])
    print()
    print("Full sync of %d keys (10-byte values): CLUSTER REPLICATE -> link up with all keys"
          % keys)
    print("  %10s %10s %7s" % ("ours s", "redis s", "ratio"))
    print("  %10.2f %10.2f %7.2f" % (ours, redis, ours / redis))
    return ours, redis


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--timeouts", default="1000,5000")
    ap.add_argument("--skip-failover", action="store_true")
    ap.add_argument("--skip-sync", action="store_true")
    args = ap.parse_args()
    if not args.skip_failover:
        bench_failover(args.reps, [int(t) for t in args.timeouts.split(",")])
        print()
    if not args.skip_sync:
        bench_sync(args.reps, args.keys)


if __name__ == "__main__":
    main()
