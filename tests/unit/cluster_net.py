"""A tiny synchronous network for driving ClusterStates directly in unit tests.

Messages go through the real codec; delivery is FIFO and instantaneous;
``advance`` moves the clock in cron steps. Links are dropped both ways when
a node is taken down.
"""
import random
from collections import deque

from cluster import messages as m
from cluster.effects import CloseLink, Connect, Send
from cluster.state import ClusterConfig, ClusterState


class Net:
    def __init__(self, n, node_timeout=1000, seed=1):
        self.now = 1_000_000
        self.states = []
        self.up = []
        self.pending = deque()
        self.links = {}  # link id -> (owner index, peer link id)
        self.next_link = 1
        self.saves = [0] * n
        for i in range(n):
            config = ClusterConfig(port=7000 + i, node_timeout=node_timeout)
            state = ClusterState(config, random.Random(seed * 1000 + i), self.now)
            self.states.append(state)
            self.up.append(True)
            self.apply(i, state.take_effects(self.now))
        self.settle()

    def index_of(self, cport):
        return cport - 17000

    def apply(self, i, effects):
        for e in effects:
            self.pending.append((i, e))

    def settle(self, limit=100000):
        while self.pending and limit:
            limit -= 1
            i, e = self.pending.popleft()
            if not self.up[i]:
                continue
            state = self.states[i]
            if isinstance(e, Send):
                if e.link_id not in self.links:
                    continue
                frame = m.encode(e.message)
                _, peer_link = self.links[e.link_id]
                if peer_link not in self.links:
                    continue
                j = self.links[peer_link][0]
                if self.up[j]:
                    self.apply(j, self.states[j].process_packet(peer_link, m.decode(frame), self.now))
            elif isinstance(e, Connect):
                j = self.index_of(e.cport)
                if not (0 <= j < len(self.states)) or not self.up[j]:
                    self.apply(i, state.link_connect_failed(e.node_name, self.now))
                    continue
                out_id, in_id = self.next_link, self.next_link + 1
                self.next_link += 2
                self.links[out_id] = (i, in_id)
                self.links[in_id] = (j, out_id)
                self.apply(j, self.states[j].link_accepted(in_id, self.now, "127.0.0.1", "127.0.0.1"))
                self.apply(i, state.link_connected(e.node_name, out_id, self.now, "127.0.0.1", "127.0.0.1"))
            elif isinstance(e, CloseLink):
                self.close_pair(e.link_id)
            elif type(e).__name__ == "SaveConfig":
                self.saves[i] += 1

    def close_pair(self, link_id):
        entry = self.links.pop(link_id, None)
        if entry is None:
            return
        peer = self.links.pop(entry[1], None)
        if peer is not None and self.up[peer[0]]:
            self.apply(peer[0], self.states[peer[0]].link_closed(entry[1], self.now))

    def down(self, i):
        """kill -9: links reset, connections refused."""
        self.up[i] = False
        for link_id, (owner, _) in list(self.links.items()):
            if owner == i:
                self.close_pair(link_id)
        self.settle()

    def revive(self, i):
        self.up[i] = True

    def advance(self, ms, step=100):
        for _ in range(ms // step):
            self.now += step
            for i, state in enumerate(self.states):
                if self.up[i]:
                    self.apply(i, state.cluster_cron(self.now))
            self.settle()

    def meet(self, i, j):
        self.apply(i, self.states[i].meet("127.0.0.1", 7000 + j, None, self.now))
        self.settle()

    def node(self, i, j):
        """Node j as node i sees it."""
        return self.states[i].nodes.get(self.states[j].myself.name)
