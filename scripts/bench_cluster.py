#!/usr/bin/env python3
"""Cluster bus benchmark: our node.py against redis-server --cluster-enabled yes, same run.

    .venv/bin/python scripts/bench_cluster.py            # full run (about 10 minutes)
    .venv/bin/python scripts/bench_cluster.py --quick    # short run (2-3 minutes)
    .venv/bin/python scripts/bench_cluster.py --parts converge detect --runs 9 --verbose

Measures, for both implementations, on loopback, every process in its own temp dir with
no persistence:

- failover time (kill -9 of a master -> its replica promoted and cluster_state:ok on all
  survivors, 3 masters + 3 replicas, node_timeout 1000 and 5000) and the time of a full
  sync of 1M keys to a new replica (parts "failover" and "sync", from bench_failover.py);
- MEET convergence for 3/10/20 nodes (cluster-node-timeout 15000, the default): every node is sent CLUSTER MEET to the first (as
  redis-cli --cluster create does); the time from the first MEET until every node's
  CLUSTER NODES lists all nodes, each `connected` and without handshake/noaddr flags;
- failure detection: 3 masters with slots, cluster-node-timeout 1000; one is kill -9'd;
  the time until every survivor flags it `fail`;
- bus bytes per node per second at 10 and 30 idle nodes, node timeout 1000 and 5000:
  `ss -tin` is sampled at the start and end of an idle window and bytes_received is
  summed over the TCP connections whose local or peer port is one of the nodes' bus
  ports (each byte is counted once, by its receiver), divided by nodes and seconds; at
  10 nodes also for a mixed cluster (our nodes and redis-servers alternating).

Times are medians of --runs runs, ours and Redis alternating. Then the simulator's table
(scripts/simulate.py) for 50/100/200 nodes. Targets: time
ratios <= 1.0x Redis, bus bytes <= 0.25x Redis. Every process started is killed by pid at
the end, also on Ctrl-C. Everything is bounded: node counts are fixed and every wait has a
deadline.
"""
import argparse
import atexit
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.helpers import free_port  # noqa: E402

PYTHON = sys.executable
SLOTS = 16384

# ---------------------------------------------------------------- processes

_children: list[subprocess.Popen] = []
_scratch: list[str] = []


def _kill_all() -> None:
    """Kill every process this script started, by pid, and remove their temp dirs."""
    for proc in _children:
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for proc in _children:
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
    _children.clear()
    for path in _scratch:
        shutil.rmtree(path, ignore_errors=True)
    _scratch.clear()


atexit.register(_kill_all)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


class Node:
    def __init__(self, kind: str, port: int, node_timeout: int, extra=()):
        self.kind, self.port = kind, port
        self.dir = tempfile.mkdtemp(prefix="bench-%s-%d-" % (kind, port))
        _scratch.append(self.dir)
        if kind == "ours":
            args = [PYTHON, os.path.join(ROOT, "node.py"), "-p", str(port), "--dir", self.dir,
                    "--cluster-node-timeout", str(node_timeout), "--loglevel", "warning"]
        else:
            args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                    "--cluster-enabled", "yes", "--cluster-node-timeout", str(node_timeout),
                    "--cluster-config-file", os.path.join(self.dir, "nodes.conf"),
                    "--save", "", "--appendonly", "no", "--dir", self.dir,
                    "--loglevel", "warning"]
        args += list(extra)
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _children.append(self.proc)
        self.conn: socket.socket | None = None
        self.buf = b""

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                with open(os.path.join(self.dir, "log"), errors="replace") as f:
                    tail = f.read()[-2000:]
                raise RuntimeError("%s node on %d exited with %s:\n%s"
                                   % (self.kind, self.port, self.proc.returncode, tail))
            try:
                self.conn = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                self.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("%s node on %d did not start" % (self.kind, self.port))

    # A tiny RESP client: bulk, status, error and integer replies are all we need here.
    def call(self, *args) -> str:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.conn.sendall(b"".join(out))
        line = self._line()
        if line[:1] == b"$":
            n = int(line[1:])
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if line[:1] == b"-":
            raise RuntimeError("%s:%d replied %s" % (self.kind, self.port, line.decode()))
        return line[1:].decode()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _fill(self) -> None:
        data = self.conn.recv(65536)
        if not data:
            raise ConnectionError("%s:%d closed the connection" % (self.kind, self.port))
        self.buf += data

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def start_nodes(kind: str, n: int, node_timeout: int, used: set) -> list[Node]:
    """`kind` "ours", "redis", or "mixed": ours and redis-server alternating."""
    kinds = ["ours", "redis"] if kind == "mixed" else [kind]
    nodes = [Node(kinds[i % len(kinds)], free_port(used), node_timeout) for i in range(n)]
    deadline = time.monotonic() + 30 + n     # Python nodes start in parallel on few cores
    for node in nodes:
        node.wait_ready(deadline)
    return nodes


def stop_nodes(nodes: list[Node]) -> None:
    for node in nodes:
        if node.conn is not None:
            node.conn.close()
        node.kill()
        node.log.close()


# ---------------------------------------------------------------- cluster conditions

def nodes_view(node: Node) -> list[list[str]]:
    return [line.split(" ") for line in node.call("CLUSTER", "NODES").splitlines() if line]


def knows_all(node: Node, n: int) -> bool:
    view = nodes_view(node)
    return len(view) == n and all(
        f[7] == "connected" and not {"handshake", "noaddr"} & set(f[2].split(","))
        for f in view)


def wait_for(predicate, timeout: float, what: str, interval=0.01) -> float:
    """Poll until predicate() is true; return the seconds it took; raise at the deadline."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)
    raise TimeoutError("timed out after %.0fs waiting for %s" % (timeout, what))


def meet_all(nodes: list[Node]) -> None:
    first = nodes[0]
    for node in nodes[1:]:
        first.call("CLUSTER", "MEET", "127.0.0.1", node.port)


def form(nodes: list[Node], timeout: float, with_slots=False) -> None:
    meet_all(nodes)
    if with_slots:
        n = len(nodes)
        for i, node in enumerate(nodes):
            node.call("CLUSTER", "ADDSLOTSRANGE", SLOTS * i // n, SLOTS * (i + 1) // n - 1)
    wait_for(lambda: all(knows_all(x, len(nodes)) for x in nodes), timeout,
             "%d %s nodes to know each other" % (len(nodes), nodes[0].kind), interval=0.05)
    if with_slots:
        wait_for(lambda: all("cluster_state:ok" in x.call("CLUSTER", "INFO") for x in nodes),
                 timeout, "cluster_state:ok", interval=0.05)


# ---------------------------------------------------------------- the measurements

def measure_convergence(kind: str, n: int, used: set) -> float:
    nodes = start_nodes(kind, n, 15000, used)
    try:
        time.sleep(0.5)  # let start-up work (imports, first cron) finish before timing
        start = time.monotonic()
        meet_all(nodes)
        # Check each node once it is done, the others are polled on; a node that knew
        # everyone keeps knowing (no failures here), so it is not polled again.
        pending = list(nodes)
        deadline = start + 60
        while pending:
            pending = [x for x in pending if not knows_all(x, n)]
            if time.monotonic() > deadline:
                raise TimeoutError("%d %s nodes did not converge in 60s" % (n, kind))
            if pending:
                time.sleep(0.01)
        return time.monotonic() - start
    finally:
        stop_nodes(nodes)


def measure_detection(kind: str, used: set) -> float:
    nodes = start_nodes(kind, 3, 1000, used)
    try:
        form(nodes, 30, with_slots=True)
        time.sleep(1.0)  # steady state: every link up, pings flowing
        victim = nodes[2]
        victim_id = victim.call("CLUSTER", "MYID")
        survivors = nodes[:2]
        victim.kill()
        start = time.monotonic()

        def failed_everywhere():
            return all(any(f[0] == victim_id and "fail" in f[2].split(",")
                           for f in nodes_view(x)) for x in survivors)
        wait_for(failed_everywhere, 30, "FAIL of the killed master")
        return time.monotonic() - start
    finally:
        stop_nodes(nodes)


_SS_SOCKET = re.compile(r"(\S+):(\d+)\s+(\S+):(\d+)")
_SS_RECEIVED = re.compile(r"bytes_received:(\d+)")


def bus_bytes_received(bus_ports: set) -> int:
    """Sum of bytes_received over established TCP sockets touching a bus port."""
    out = subprocess.run(["ss", "-tinH", "state", "established"], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    total = 0
    lines = out.splitlines()
    i = 0
    while i < len(lines):
        m = _SS_SOCKET.search(lines[i])
        info = lines[i + 1] if i + 1 < len(lines) and lines[i + 1][:1].isspace() else ""
        i += 2 if info else 1
        if m and (int(m.group(2)) in bus_ports or int(m.group(4)) in bus_ports):
            r = _SS_RECEIVED.search(info)
            total += int(r.group(1)) if r else 0
    return total


def measure_bus_bytes(kind: str, n: int, node_timeout: int, window: float, used: set) -> float:
    nodes = start_nodes(kind, n, node_timeout, used)
    try:
        form(nodes, 60)
        # Let the join traffic die down: a full ping round (node_timeout/2) and then some.
        time.sleep(max(2.0, node_timeout / 1000))
        bus_ports = {x.port + 10000 for x in nodes}
        before = bus_bytes_received(bus_ports)
        time.sleep(window)
        after = bus_bytes_received(bus_ports)
        if not all(knows_all(x, n) for x in nodes):
            print("  warning: %s %d nodes were not all healthy after the window" % (kind, n),
                  file=sys.stderr)
        return (after - before) / n / window
    finally:
        stop_nodes(nodes)


# ---------------------------------------------------------------- the report

def row(name: str, ours: float, redis: float, target: float, unit: str, fmt="%.2f") -> str:
    ratio = ours / redis if redis else float("inf")
    verdict = "ok" if ratio <= target else "MISS"
    return "%-36s %12s %12s %8.2fx %7s  %s" % (name, (fmt % ours) + unit, (fmt % redis) + unit,
                                              ratio, "<=%.2fx" % target, verdict)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer sizes and runs, 5 s idle windows")
    parser.add_argument("--runs", type=int, default=None,
                        help="repetitions of each timing test; the median is reported "
                             "(default 5, quick 3)")
    parser.add_argument("--verbose", action="store_true", help="print every sample")
    parser.add_argument("--window", type=float, default=None,
                        help="idle seconds measured for bus bytes (default 15, quick 5)")
    parser.add_argument("--parts", nargs="+",
                        default=["converge", "detect", "bytes", "failover", "sync", "sim"],
                        choices=["converge", "detect", "bytes", "failover", "sync", "sim"],
                        help="which measurements to run (default: all)")
    parser.add_argument("--no-sim", action="store_true", help="skip the simulator table")
    parser.add_argument("--sim-nodes", type=int, nargs="+", default=None,
                        help="simulator sizes (default 50 100 200, quick 50 100)")
    args = parser.parse_args()
    if not shutil.which("redis-server") or not shutil.which("ss"):
        print("needs redis-server and ss (iproute2) on PATH", file=sys.stderr)
        return 2
    quick = args.quick
    runs = args.runs or (3 if quick else 5)
    window = args.window or (5.0 if quick else 15.0)
    sizes = [3, 10] if quick else [3, 10, 20]
    bus_cases = [(10, 1000), (10, 5000)] if quick else [(10, 1000), (10, 5000), (30, 1000),
                                                        (30, 5000)]
    sim_nodes = args.sim_nodes or ([50, 100] if quick else [50, 100, 200])
    used: set = set()
    lines = []

    print("median of %d runs for times; %.0f s idle windows for bytes" % (runs, window))

    def report(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    print("%-36s %12s %12s %9s %7s" % ("metric", "ours", "redis", "ratio", "target"))
    try:
        def median(what, measure, *measure_args):
            # Gossip picks peers at random, so single runs scatter widely: alternate the
            # two implementations run by run (so a burst of load hits both) and report
            # the medians.
            samples = {"ours": [], "redis": []}
            for _ in range(runs):
                for kind in ("ours", "redis"):
                    samples[kind].append(measure(kind, *measure_args))
            if args.verbose:
                for kind, values in samples.items():
                    print("  %s %s: %s" % (what, kind, " ".join("%.2f" % v for v in values)),
                          flush=True)
            return statistics.median(samples["ours"]), statistics.median(samples["redis"])

        for n in sizes if "converge" in args.parts else []:
            what = "MEET convergence, %d nodes" % n
            report(row(what, *median(what, measure_convergence, n, used), 1.0, " s"))
        if "detect" in args.parts:
            what = "kill -9 -> FAIL everywhere (nt 1000)"
            report(row(what, *median(what, measure_detection, used), 1.0, " s"))
        for n, nt in bus_cases if "bytes" in args.parts else []:
            ours = measure_bus_bytes("ours", n, nt, window, used)
            ref = measure_bus_bytes("redis", n, nt, window, used)
            report(row("bus B/node/s, %d nodes, nt %d" % (n, nt), ours, ref, 0.25, "", "%.0f"))
            if n == bus_cases[0][0]:
                # Half ours, half redis-server: links to Redis speak Redis's format.
                mixed = measure_bus_bytes("mixed", n, nt, window, used)
                report(row("  the same, half redis-server", mixed, ref, 1.0, "", "%.0f"))
    finally:
        _kill_all()

    # Failover and full-sync times (3 masters + 3 replicas) live in bench_failover.py;
    # the same measurements run here so one command gives the whole cluster table.
    if "failover" in args.parts or "sync" in args.parts:
        import bench_failover
        print()
        if "failover" in args.parts:
            bench_failover.bench_failover(runs, [1000, 5000])
        if "sync" in args.parts:
            bench_failover.bench_sync(runs, 100_000 if quick else 1_000_000)

    if "sim" in args.parts and not args.no_sim:
        print("\nsimulator (scripts/simulate.py, virtual time, real codec and state machine):",
              flush=True)
        subprocess.run([PYTHON, os.path.join(ROOT, "scripts", "simulate.py"), "--nodes",
                        *map(str, sim_nodes), "--measure", "5" if quick else "10"],
                       timeout=900, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
