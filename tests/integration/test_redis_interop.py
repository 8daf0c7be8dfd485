"""Our node and a real redis-server 7.0 in one cluster, over Redis's own cluster bus.

Two of our nodes (A, B) and a redis-server (R), a third of the slots each. A MEETs R
(ours -> Redis), R MEETs B (Redis -> ours), A MEETs B. All three must list all three,
connected, without the handshake flag, and report cluster_state:ok; PUBLISH must reach
subscribers across implementations both ways. A and B must have switched to the
compact format between them (cluster.link_format), and the bytes on their links must be
a small fraction of what the links to R carry. Last, B dies: A and R agree it failed.
"""
import re
import shutil
import subprocess
import time

import pytest

from tests.helpers import RawClient, start_node, start_redis, wait_until
from tests.integration.cluster_helpers import call, cluster_info, my_id, nodes_of

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="needs redis-server")]

RANGES = [(0, 5460), (5461, 10922), (10923, 16383)]
NODE_TIMEOUT = "2000"


def knows(port, ids) -> bool:
    view = nodes_of(port)
    if {n["id"] for n in view} != set(ids):
        return False
    return all(n["link"] == "connected" and not n["flags"] & {"handshake", "noaddr", "fail?", "fail"}
               for n in view)


_SS_SOCKET = re.compile(r"\S+:(\d+)\s+\S+:(\d+)\s.*pid=(\d+)")
_SS_BYTES = re.compile(r"bytes_(?:acked|received):(\d+)")


def bytes_between(pid_bus_ports: dict) -> dict:
    """Bytes carried so far by the links between each pair of processes, both directions:
    counted once per connection, on the end that connected (its local port is ephemeral,
    its remote port a bus port)."""
    out = subprocess.run(["ss", "-tinpH", "state", "established"], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    owner_of_bus_port = {port: pid for pid, port in pid_bus_ports.items()}
    totals: dict = {}
    lines = out.splitlines()
    for i, line in enumerate(lines):
        sock = _SS_SOCKET.search(line)
        if not sock or i + 1 >= len(lines):
            continue
        local, remote, pid = int(sock.group(1)), int(sock.group(2)), int(sock.group(3))
        if pid in pid_bus_ports and remote in owner_of_bus_port and local not in owner_of_bus_port:
            pair = frozenset((pid, owner_of_bus_port[remote]))
            totals[pair] = totals.get(pair, 0) + sum(map(int, _SS_BYTES.findall(lines[i + 1])))
    return totals


def compact_peers_logged(proc) -> set:
    with open(proc.log_path) as f:
        return set(re.findall(r"Node ([0-9a-f]{40}) \(.*\) reads the compact cluster bus format",
                              f.read()))


def test_our_nodes_and_redis_form_one_cluster():
    procs = []
    try:
        for _ in range(2):
            procs.append(start_node("--cluster-node-timeout", NODE_TIMEOUT,
                                    "--loglevel", "verbose", slots=False))
        procs.append(start_redis("--cluster-node-timeout", NODE_TIMEOUT, cluster=True))
        a, b, r = (p.port for p in procs)
        for port, (start, end) in zip((a, b, r), RANGES):
            assert call(port, "CLUSTER", "ADDSLOTSRANGE", str(start), str(end))[0] == "+"
        ids = [my_id(p) for p in (a, b, r)]

        assert call(a, "CLUSTER", "MEET", "127.0.0.1", str(r))[0] == "+"   # ours -> Redis
        wait_until(lambda: knows(a, ids[::2]) and knows(r, ids[::2]), timeout=20,
                   message="A and R to know each other")
        assert call(r, "CLUSTER", "MEET", "127.0.0.1", str(b))[0] == "+"   # Redis -> ours
        assert call(a, "CLUSTER", "MEET", "127.0.0.1", str(b))[0] == "+"   # ours -> ours
        wait_until(lambda: all(knows(p, ids) for p in (a, b, r)), timeout=30,
                   message="all three to know each other")
        wait_until(lambda: all(cluster_info(p)["cluster_state"] == "ok" for p in (a, b, r)),
                   timeout=30, message="cluster_state:ok on all three")
        for port in (a, b, r):
            owners = {(n["id"], min(n["slots"]), max(n["slots"])) for n in nodes_of(port)}
            assert owners == {(i, s, e) for i, (s, e) in zip(ids, RANGES)}

        # PUBLISH crosses the bus both ways, in Redis's format (with a full header). A
        # channel per publisher: A's message also travels to B, and on a busy machine may
        # reach it only after B subscribes for the second round.
        for publisher, subscriber in ((a, r), (r, b)):
            sub = RawClient(subscriber)
            channel = b"interop-%d" % publisher
            try:
                sub.call("SUBSCRIBE", channel)
                assert call(publisher, "PUBLISH", channel, "from %d" % publisher)[0] == ":"
                assert sub.read_reply() == ("*", [("$", b"message"), ("$", channel),
                                                  ("$", b"from %d" % publisher)])
            finally:
                sub.close()

        # A and B read each other's compact format; neither thinks R does.
        assert compact_peers_logged(procs[0]) == {ids[1]}
        assert compact_peers_logged(procs[1]) == {ids[0]}

        # Bytes per second on the links: A-B compact, A-R and B-R Redis's format.
        pids = {procs[0].pid: a + 10000, procs[1].pid: b + 10000, procs[2].pid: r + 10000}
        time.sleep(1.0)
        before = bytes_between(pids)
        window = 4.0
        time.sleep(window)
        after = bytes_between(pids)
        rate = {pair: (after.get(pair, 0) - before.get(pair, 0)) / window for pair in after}
        ours = rate[frozenset((procs[0].pid, procs[1].pid))]
        mixed = [rate[frozenset((p.pid, procs[2].pid))] for p in procs[:2]]
        print("bus bytes/s: A-B %.0f, A-R %.0f, B-R %.0f" % (ours, *mixed))
        assert 0 < ours < 0.25 * min(mixed)
        assert all(knows(p, ids) for p in (a, b, r))

        # Failure detection across the formats: B dies; A's and R's reports (gossip in
        # Redis's format) make a majority, and both flag B as failed.
        procs[1].stop()
        wait_until(lambda: all("fail" in {n["id"]: n for n in nodes_of(p)}[ids[1]]["flags"]
                               for p in (a, r)),
                   timeout=30, message="A and R to flag B as failed")
    finally:
        for proc in procs:
            proc.stop()
