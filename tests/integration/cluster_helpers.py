"""Helpers for the multi-node cluster tests: start N nodes, join them, read CLUSTER NODES
the way redis-cli --cluster does, and wait for cluster-wide conditions with deadlines.

Used by test_cluster_formation.py, test_cluster_failure.py and test_bus_fuzz.py.
"""
import os
import signal
import tempfile

from tests.helpers import ROOT, Process, RawClient, free_port, start_node, wait_until

MEET_SH = os.path.join(ROOT, "scripts", "meet.sh")
SLOTS = 16384


def call(port, *args):
    """One command on a short-lived connection; returns the typed reply."""
    client = RawClient(port, timeout=5)
    try:
        return client.call(*args)
    finally:
        client.close()


def text(port, *args) -> str:
    kind, value = call(port, *args)
    assert kind in "$=+", (args, kind, value)
    if kind == "=":          # RESP3 verbatim: "txt:" prefix
        value = value[4:]
    return value.decode() if isinstance(value, bytes) else value


def cluster_info(port) -> dict:
    lines = text(port, "CLUSTER", "INFO").split("\r\n")
    return dict(line.split(":", 1) for line in lines if line)


# ---------------------------------------------------------------- CLUSTER NODES, positionally

def parse_nodes(output: str) -> list[dict]:
    """CLUSTER NODES parsed as redis-cli's clusterManagerNodeLoadInfo does: fields 0-7
    are id, addr, flags, master, ping-sent, pong-recv, config-epoch, link-state; the
    rest are slots, ranges, or [slot->-id] / [slot-<-id] migration entries."""
    nodes = []
    for line in output.splitlines():
        if not line:
            continue
        fields = line.split(" ")
        assert len(fields) >= 8, "short CLUSTER NODES line: %r" % line
        addr = fields[1].split(",")[0]        # ip:port@cport[,hostname]
        ip_port, cport = addr.split("@")
        ip, port = ip_port.rsplit(":", 1)
        slots, migrating, importing = set(), {}, {}
        for token in fields[8:]:
            if token.startswith("["):
                body = token[1:-1]
                if "->-" in body:
                    slot, dst = body.split("->-")
                    migrating[int(slot)] = dst
                else:
                    slot, src = body.split("-<-")
                    importing[int(slot)] = src
            elif "-" in token:
                start, end = token.split("-")
                slots.update(range(int(start), int(end) + 1))
            else:
                slots.add(int(token))
        nodes.append({
            "id": fields[0], "ip": ip, "port": int(port), "cport": int(cport),
            "flags": set(fields[2].split(",")), "master": fields[3],
            "ping_sent": int(fields[4]), "pong_recv": int(fields[5]),
            "config_epoch": int(fields[6]), "link": fields[7],
            "slots": slots, "migrating": migrating, "importing": importing,
        })
    return nodes


def nodes_of(port) -> list[dict]:
    return parse_nodes(text(port, "CLUSTER", "NODES"))


def my_id(port) -> str:
    return text(port, "CLUSTER", "MYID")


def view_by_id(port) -> dict:
    return {n["id"]: n for n in nodes_of(port)}


# ---------------------------------------------------------------- cluster-wide conditions

def knows_all(port, ids) -> bool:
    """`port` lists exactly `ids`, every link connected, no handshake/noaddr/fail flags."""
    view = nodes_of(port)
    if {n["id"] for n in view} != set(ids):
        return False
    bad = {"handshake", "noaddr", "fail", "fail?"}
    return all(n["link"] == "connected" and not n["flags"] & bad for n in view)


def all_know_all(ports) -> bool:
    ids = [my_id(p) for p in ports]
    return all(knows_all(p, ids) for p in ports)


def wait_full_knowledge(ports, timeout=20.0):
    wait_until(lambda: all_know_all(ports), timeout=timeout, interval=0.1,
               message="every node to know all %d nodes, connected" % len(ports))


def flagged(port, node_id, flag) -> bool:
    node = view_by_id(port).get(node_id)
    return node is not None and flag in node["flags"]


def wait_flag_everywhere(ports, node_id, flag, present=True, timeout=15.0):
    wait_until(lambda: all(flagged(p, node_id, flag) == present for p in ports),
               timeout=timeout, interval=0.05,
               message="flag %r %s on %s for %s" % (flag, "set" if present else "clear",
                                                    ports, node_id[:8]))


def wait_state(ports, state, timeout=15.0):
    wait_until(lambda: all(cluster_info(p)["cluster_state"] == state for p in ports),
               timeout=timeout, interval=0.05,
               message="cluster_state:%s on %s" % (state, ports))


# ---------------------------------------------------------------- building clusters

def start_nodes(count, node_timeout=1000, procs=None):
    """Start `count` nodes without slots, in parallel (starting is mostly Python imports,
    so waiting for each in turn would serialize them). Appends to `procs` as they start,
    so the caller's teardown kills whatever did start."""
    procs = [] if procs is None else procs
    started = []
    for _ in range(count):
        proc = start_node("--cluster-node-timeout", str(node_timeout), wait=False, slots=False)
        procs.append(proc)
        started.append(proc)
    for proc in started:
        proc.wait_ready(timeout=30)
    return started


def restart_node(proc: Process, procs: list, node_timeout=1000) -> Process:
    """Start a node again on the same port and --dir (so it loads its nodes.conf). The
    new process is appended to `procs` before waiting, so teardown kills it whatever
    happens."""
    new = start_node("--cluster-node-timeout", str(node_timeout), port=proc.port,
                     cwd=proc.cwd, wait=False, slots=False)
    procs.append(new)
    return new.wait_ready(timeout=30)


def meet_all(ports, first=None):
    """CLUSTER MEET every node to the first, as redis-cli --cluster create does."""
    first = ports[0] if first is None else first
    for port in ports:
        if port != first:
            assert call(first, "CLUSTER", "MEET", "127.0.0.1", port) == ("+", "OK")


def split_slots(ports):
    """ADDSLOTSRANGE: an even split of the 16384 slots over `ports`."""
    n = len(ports)
    for i, port in enumerate(ports):
        start, end = SLOTS * i // n, SLOTS * (i + 1) // n - 1
        assert call(port, "CLUSTER", "ADDSLOTSRANGE", start, end) == ("+", "OK")


def form_cluster(procs, with_slots=True, timeout=20.0):
    ports = [p.port for p in procs]
    meet_all(ports)
    if with_slots:
        split_slots(ports)
    wait_full_knowledge(ports, timeout)
    if with_slots:
        wait_state(ports, "ok", timeout)
    return ports


def stop_all(procs):
    for proc in procs:
        proc.stop()


def terminate(proc: Process, timeout=10.0):
    """SIGTERM and wait for the exit (a clean shutdown), then release the log file."""
    proc.signal(signal.SIGTERM)
    proc.proc.wait(timeout)
    proc.stop()


def rss_kb(pid) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def scratch_dir(prefix="cluster-test-") -> str:
    return tempfile.mkdtemp(prefix=prefix)


__all__ = ["MEET_SH", "SLOTS", "call", "text", "cluster_info", "parse_nodes", "nodes_of",
           "my_id", "view_by_id", "knows_all", "all_know_all", "wait_full_knowledge",
           "flagged", "wait_flag_everywhere", "wait_state", "start_nodes", "restart_node",
           "meet_all", "split_slots", "form_cluster", "stop_all", "terminate", "rss_kb",
           "scratch_dir", "free_port"]
