"""A tiny synchronous network for driving ClusterStates directly in unit tests.

Messages go through the real codec; delivery is FIFO and instantaneous;
``advance`` moves the clock in cron steps. Links are dropped both ways when
a node is taken down. Each node's effects are carried out by a
:class:`cluster.effect_runner.EffectRunner` (with the vote durability check on),
the interpreter the bus and the simulator use too.

What replication needs is here as well: log lines, ReplicationChanged events,
a replication link that comes up as soon as the master is reachable
(``auto_link``), and per-node offsets and key counts the states read through
their DataHooks.
"""
import random
from collections import deque

from cluster import messages as m
from cluster.config import DataHooks
from cluster.effect_runner import EffectRunner
from cluster.state import CRON_PERIOD_MS, ClusterConfig, ClusterState


class _NodeRunner(EffectRunner):
    """Carries out node ``i``'s effects on the test network."""

    def __init__(self, net, i):
        super().__init__(check_votes=True)
        self.net = net
        self.i = i
        self.state = net.states[i]
        self.reset_vote_check()

    def send(self, e):
        net = self.net
        if e.link_id not in net.links:
            return
        frame = m.encode(e.message)
        _, peer_link = net.links[e.link_id]
        if peer_link not in net.links:
            return
        j = net.links[peer_link][0]
        if net.up[j]:
            net.apply(j, net.states[j].process_packet(peer_link, m.decode(frame), net.now))

    def connect(self, e):
        net, i = self.net, self.i
        j = net.index_of(e.cport)
        if not (0 <= j < len(net.states)) or not net.up[j]:
            net.apply(i, self.state.link_connect_failed(e.node_name, net.now))
            return
        out_id, in_id = net.next_link, net.next_link + 1
        net.next_link += 2
        net.links[out_id] = (i, in_id)
        net.links[in_id] = (j, out_id)
        net.apply(j, net.states[j].link_accepted(in_id, net.now, "127.0.0.1", "127.0.0.1"))
        net.apply(i, self.state.link_connected(e.node_name, out_id, net.now,
                                               "127.0.0.1", "127.0.0.1"))

    def close_link(self, e):
        self.net.close_pair(e.link_id)

    def save_config(self, e):
        self.net.saves[self.i] += 1

    def log(self, e):
        self.net.logs[self.i].append((e.level, e.text))

    def replication_changed(self, e):
        net, i = self.net, self.i
        net.repl_events[i].append(e)
        net.repl_master[i] = None
        j = e.port - 7000 if e.master_name else None
        if j is not None and net.auto_link and net.up[j]:
            net.repl_master[i] = j
            net.apply(i, self.state.set_master_link_status(True, net.now))


class Net:
    def __init__(self, n, node_timeout=1000, seed=1, auto_link=True):
        self.now = 1_000_000
        self.states = []
        self.runners = []
        self.up = []
        self.pending = deque()
        self.links = {}  # link id -> (owner index, peer link id)
        self.next_link = 1
        self.saves = [0] * n
        self.logs = [[] for _ in range(n)]
        self.repl_events = [[] for _ in range(n)]
        self.repl_master = [None] * n
        self.offsets = [0] * n
        self.keys = [0] * n
        self.auto_link = auto_link
        for i in range(n):
            config = ClusterConfig(port=7000 + i, node_timeout=node_timeout)
            hooks = DataHooks(repl_offset=lambda i=i: self.offsets[i],
                              db_size=lambda i=i: self.keys[i])
            state = ClusterState(config, random.Random(seed * 1000 + i), self.now, hooks=hooks)
            self.states.append(state)
            self.runners.append(_NodeRunner(self, i))
            self.up.append(True)
            self.apply(i, state.take_effects(self.now))
        self.settle()

    def index_of(self, cport):
        return cport - 17000

    def apply(self, i, effects):
        """Queue node i's effects; settle() carries them out, FIFO across all nodes."""
        for e in effects:
            self.pending.append((i, e))

    def settle(self, limit=100000):
        while self.pending and limit:
            limit -= 1
            i, e = self.pending.popleft()
            if self.up[i]:
                self.runners[i].run(e)

    def close_pair(self, link_id):
        entry = self.links.pop(link_id, None)
        if entry is None:
            return
        peer = self.links.pop(entry[1], None)
        if peer is not None and self.up[peer[0]]:
            self.apply(peer[0], self.states[peer[0]].link_closed(entry[1], self.now))

    def down(self, i):
        """kill -9: links reset, connections refused, its replicas lose their link."""
        self.up[i] = False
        for link_id, (owner, _) in list(self.links.items()):
            if owner == i:
                self.close_pair(link_id)
        self.settle()
        for j, master in enumerate(self.repl_master):
            if master == i and self.up[j]:
                self.repl_master[j] = None
                self.apply(j, self.states[j].set_master_link_status(False, self.now))
        self.settle()

    def revive(self, i):
        self.up[i] = True

    def advance(self, ms, step=CRON_PERIOD_MS):
        for _ in range(ms // step):
            self.now += step
            for i, state in enumerate(self.states):
                if self.up[i]:
                    self.apply(i, state.cluster_cron(self.now))
            self.settle()

    def until(self, predicate, limit_ms, step=CRON_PERIOD_MS):
        """Advance until predicate() holds; the elapsed ms, or None."""
        waited = 0
        while not predicate():
            if waited >= limit_ms:
                return None
            self.advance(step)
            waited += step
        return waited

    def meet(self, i, j):
        self.apply(i, self.states[i].meet("127.0.0.1", 7000 + j, None, self.now))
        self.settle()

    def name(self, i):
        return self.states[i].myself.name

    def node(self, i, j):
        """Node j as node i sees it."""
        return self.states[i].nodes.get(self.states[j].myself.name)

    def logged(self, i, fragment):
        return [text for _, text in self.logs[i] if fragment in text]
