"""The mixed cluster of test_mixed_cluster.py and test_mixed_cluster_ops.py: three
redis-server 7.0 nodes and three of ours, every replica of the other kind than its master.

    shard   master        replica
    A       ours (M1)     redis  (R1)
    B       redis (M2)    ours   (R2)
    C       ours (M3)     redis  (R3)

`unformed` starts the six processes; `mixed` also forms the cluster (MEET from each kind,
slots on the masters, CLUSTER REPLICATE across kinds). Node timeout 1000 ms; every wait
polls with a deadline; every process is killed by pid at the end (SIGCONT first, for one
a test left stopped).
"""
import signal

import pytest

from tests.helpers import free_port, start_node, start_redis, wait_until
from tests.integration.cluster_helpers import knows_all, my_id
from tests.integration.replica_helpers import link_up, value, wait_cluster_ok

NODE_TIMEOUT = 1000
RANGES = [(0, 5460), (5461, 10922), (10923, 16383)]


class Mixed:
    """The six processes by role; `procs` in start order, for teardown."""

    def __init__(self):
        self.procs = []

    def start(self):
        timeout = ("--cluster-node-timeout", str(NODE_TIMEOUT))
        # Six ports picked together: ours are still starting (not listening) when the
        # redis-servers pick theirs.
        used = set()
        ports = [free_port(used) for _ in range(6)]
        ours = [start_node(*timeout, "--loglevel", "verbose", port=port, wait=False,
                           slots=False) for port in ports[:3]]
        self.procs += ours
        self.ours = list(ours)
        for port in ports[3:]:
            self.procs.append(start_redis(*timeout, "--repl-diskless-sync-delay", "0",
                                          port=port, cluster=True))
        for proc in ours:
            proc.wait_ready(timeout=30)
        m1, r2, m3, m2, r1, r3 = self.procs
        self.masters = [m1, m2, m3]
        self.replicas = [r1, r2, r3]
        return self

    @property
    def ports_by_role(self):
        return [p.port for p in self.masters + self.replicas]

    @property
    def ports(self):
        return [p.port for p in self.procs]

    def of_the_other_kind(self, proc) -> list:
        """The ports of the live processes of the other implementation than `proc`'s."""
        mine = proc in self.ours
        return [p.port for p in self.procs if (p in self.ours) != mine and p.proc.poll() is None]

    def by_port(self, port):
        return next(p for p in self.procs if p.port == port)

    def stop(self):
        for proc in self.procs:
            proc.signal(signal.SIGCONT)     # SIGKILL kills a stopped process too, but
            proc.stop()                     # leave nothing frozen behind

    def logs(self) -> str:
        return "\n".join("---- %d\n%s" % (p.port, p.output()[-2000:]) for p in self.procs)


def form(cl: Mixed, before_replicate=lambda: None):
    """MEET from each kind to the other and within a kind, slots on the masters, then
    (after `before_replicate`) CLUSTER REPLICATE across kinds; wait for every link up."""
    (m1, m2, m3), (r1, r2, r3) = cl.masters, cl.replicas
    for master, (start, end) in zip(cl.masters, RANGES):
        assert value(master.port, "CLUSTER", "ADDSLOTSRANGE", start, end) == "OK"
    meets = [(m1, m2),      # ours -> redis
             (m2, m3),      # redis -> ours
             (r1, r2),      # redis -> ours: an island of two ...
             (r2, m1),      # ... joined by ours; gossip tells r1 of the others and them of r1
             (m3, r3)]      # ours -> redis
    for sender, target in meets:
        assert value(sender.port, "CLUSTER", "MEET", "127.0.0.1", target.port) == "OK"
    ids = [my_id(p) for p in cl.ports]
    wait_until(lambda: all(knows_all(p, ids) for p in cl.ports), timeout=20, interval=0.1,
               message="all six to know all six, connected, no handshake")
    before_replicate()
    pair_replicas(cl)


def pair_replicas(cl) -> None:
    """CLUSTER REPLICATE each replica to its master, then wait for every link and for
    cluster_state:ok."""
    for master, replica in zip(cl.masters, cl.replicas):
        assert value(replica.port, "CLUSTER", "REPLICATE", my_id(master.port)) == "OK"
    for master, replica in zip(cl.masters, cl.replicas):
        wait_until(lambda: link_up(replica.port, master.port), timeout=20, interval=0.1,
                   message="master_link_status:up on %d (of %d)" % (replica.port, master.port))
    wait_cluster_ok(cl.ports, timeout=20)


@pytest.fixture
def unformed():
    """The six processes started, not yet one cluster."""
    cl = Mixed()
    try:
        cl.start()
        print("node folders:", {p.port: p.cwd for p in cl.procs})
        yield cl
    finally:
        cl.stop()
        print(cl.logs())        # shown with a failure only


@pytest.fixture
def mixed(unformed):
    form(unformed)
    return unformed


def slots_of(index) -> set:
    start, end = RANGES[index]
    return set(range(start, end + 1))

def voted_for(proc, node_id) -> bool:
    """The node logged granting its vote to `node_id` (Redis and ours log the same line)."""
    return ("Failover auth granted to %s" % node_id) in proc.output()
