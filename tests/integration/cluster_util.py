"""Helpers for multi-node integration tests: start N nodes (ours or redis-server) and join
them with `redis-cli --cluster create` or with MEET + ADDSLOTSRANGE.

Every process is tracked by pid; `Cluster.stop()` kills them all. Every wait has a deadline.
"""
import subprocess

from tests.helpers import RawClient, start_node, start_redis, wait_until

CLI_TIMEOUT = 90


def redis_cli(*args, timeout=CLI_TIMEOUT, check=True, stdin=None):
    """Run redis-cli; returns CompletedProcess (text). Fails the test on a non-zero exit
    when check is set."""
    proc = subprocess.run(["redis-cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, input=stdin)
    if check and proc.returncode != 0:
        raise AssertionError("redis-cli %s exited %d:\n%s\n%s"
                             % (" ".join(map(str, args)), proc.returncode,
                                proc.stdout[-3000:], proc.stderr[-2000:]))
    return proc


def call(port, *args):
    c = RawClient(port)
    try:
        return c.call(*args)
    finally:
        c.close()


def value(port, *args):
    """The value of a reply; an error reply raises AssertionError."""
    kind, val = call(port, *args)
    assert kind != "-", "%s on %d: -%s" % (args, port, val)
    return val


def cluster_info(port) -> dict:
    text = value(port, "CLUSTER", "INFO").decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def node_id(port) -> str:
    return value(port, "CLUSTER", "MYID").decode()


def nodes_lines(port):
    return value(port, "CLUSTER", "NODES").decode().strip().splitlines()


def slots_signature(port):
    """Sorted (node id, slot fields) of every master, as redis-cli's config signature."""
    sig = []
    for line in nodes_lines(port):
        f = line.split()
        if "master" in f[2]:
            sig.append((f[0], tuple(s for s in f[8:] if not s.startswith("["))))
    return sorted(sig)


class Cluster:
    """N server processes on loopback; ours (node.py) or real redis-server."""

    def __init__(self, n, real=False, node_timeout=2000, extra=()):
        self.real = real
        self.procs = []
        self.node_timeout = node_timeout
        self.extra = tuple(extra)
        try:
            for _ in range(n):
                self.add_process()
        except BaseException:
            self.stop()
            raise

    def add_process(self):
        timeout = ("--cluster-node-timeout", str(self.node_timeout))
        if self.real:
            proc = start_redis(*timeout, *self.extra, cluster=True)
        else:
            proc = start_node(*timeout, "--loglevel", "warning", *self.extra, slots=False)
        self.procs.append(proc)
        return proc

    @property
    def ports(self):
        return [p.port for p in self.procs]

    def addrs(self, procs=None):
        return ["127.0.0.1:%d" % p.port for p in (procs or self.procs)]

    def create(self, replicas=0):
        out = redis_cli("--cluster", "create", *self.addrs(), "--cluster-replicas",
                        replicas, "--cluster-yes")
        self.wait_ok()
        return out

    def create_by_hand(self, ranges):
        """MEET every node to the first and give node i the slot ranges ranges[i]."""
        first = self.ports[0]
        for i, port in enumerate(self.ports):
            if ranges[i]:
                flat = [s for r in ranges[i] for s in r]
                assert value(port, "CLUSTER", "ADDSLOTSRANGE", *flat) == "OK"
            if port != first:
                assert value(port, "CLUSTER", "MEET", "127.0.0.1", first) == "OK"
        self.wait_agree()
        self.wait_ok()

    def wait_agree(self, ports=None, timeout=30):
        ports = ports or self.ports

        def agree():
            sigs = [slots_signature(p) for p in ports]
            return all(len(nodes_lines(p)) == len(ports) for p in ports) and \
                all(s == sigs[0] for s in sigs)
        wait_until(agree, timeout=timeout, interval=0.1, message="nodes agree on slots")

    def wait_ok(self, ports=None, timeout=30):
        for port in ports or self.ports:
            wait_until(lambda: cluster_info(port)["cluster_state"] == "ok", timeout=timeout,
                       interval=0.1, message="cluster_state:ok on %d" % port)

    def stop(self):
        for p in self.procs:
            p.stop()


def owner_of(port, slot) -> int:
    """The client port of the master serving `slot`, from CLUSTER SLOTS on `port`."""
    for entry in value(port, "CLUSTER", "SLOTS"):
        start, end, master = entry[1][0][1], entry[1][1][1], entry[1][2][1]
        if start <= slot <= end:
            return master[1][1]
    return None


def key_in_slot(slot, prefix="k") -> bytes:
    """A key that hashes to `slot` (via a hash tag found by search)."""
    from cluster.slots import key_hash_slot
    i = 0
    while True:
        tag = b"%s%d" % (prefix.encode(), i)
        if key_hash_slot(tag) == slot:
            return tag
        i += 1
