"""Deterministic cluster simulator: many real ClusterStates on a virtual clock.

A second adapter next to cluster/bus.py. Every message goes through the real
codec (``messages.encode`` then ``messages.decode``), so byte counts are what
the bus would carry; links behave like TCP connections (ordered, closed on
both sides, refused by a dead node, timing out across a partition), with a
configurable latency, jitter and message loss. The same seed gives the same
run.

For fault exploration (cluster/sim_explore.py) it also injects what real networks
and processes do to a cluster: one-way cuts, pauses (SIGSTOP: the process stops,
the kernel still accepts connections and buffers what arrives), message
duplication, reordering and delay spikes; and it keeps a small model of the data
(cluster/sim_data.py) so replication offsets, CLUSTER RESET's refusal and lost
writes mean something.

Each node's effects are carried out by a :class:`_NodeRunner`, the simulator's
:class:`cluster.effect_runner.EffectRunner`, with the vote durability check on:
a run in which a node sends a failover vote before saving it with fsync raises
:class:`cluster.effect_runner.VoteNotDurable`.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from typing import Callable

from cluster import messages as m
from cluster import nodesconf
from cluster.effect_runner import EffectRunner
from cluster.config import DataHooks
from cluster.effects import CloseLink, Connect, Log, ReplicationChanged, SaveConfig, Send
from cluster.node_record import NODE_FAIL, NODE_HANDSHAKE, NODE_PFAIL
from cluster.slots import CLUSTER_SLOTS
from cluster.state import CRON_PERIOD_MS, ClusterConfig, ClusterState


@dataclass
class SimNode:
    index: int
    ip: str
    port: int
    state: ClusterState | None = None
    alive: bool = True
    saved_config: str = ""  # the last nodes.conf text, for restarts
    config_dirty: bool = False
    bytes_sent: int = 0
    messages_sent: int = 0
    logs: list[tuple[int, str, str]] = field(default_factory=list)
    replicating_from: int | None = None  # index of the master our replication link goes to
    runner: _NodeRunner | None = None    # carries out the effects of ``state``
    paused: bool = False                 # SIGSTOP: nothing runs until resumed
    backlog: list = field(default_factory=list)  # what arrived while paused, in order
    cron_stopped: bool = False           # the cron came due while paused
    log: list[int] = field(default_factory=list)  # the data: write ids, in stream order

    @property
    def cport(self) -> int:
        return self.port + 10000


@dataclass
class _Link:
    owner: int       # node index
    peer_link: int   # the other end's link id
    peer_owner: int  # the other end's node index
    open: bool = True
    last_delivery: int = 0   # when the last frame sent from this end arrives (TCP order)
    # Frames a cut is holding back, in order, and TCP's retransmission timeout for them.
    held: list = field(default_factory=list)
    rto: int = 0


class _NodeRunner(EffectRunner):
    """Carries out one simulated node's effects on the simulated network."""

    def __init__(self, sim: Simulation, node: SimNode):
        super().__init__(check_votes=True)
        self.sim = sim
        self.node = node
        self.state = node.state
        self.reset_vote_check()

    def send(self, effect: Send) -> None:
        if effect.message.TYPE == m.FAILOVER_AUTH_ACK and self.sim.on_vote is not None:
            self.sim.on_vote(self.node, effect)
        self.sim._send(self.node, effect)

    def connect(self, effect: Connect) -> None:
        self.sim._connect(self.node, effect)

    def close_link(self, effect: CloseLink) -> None:
        self.sim._close_pair(effect.link_id, notify_owner=False)

    def save_config(self, effect: SaveConfig) -> None:
        # Rendering every save would dominate the run; a kill renders the file the
        # node had (nearly: the last save's content). Durable at once, as far as the
        # simulated disk goes.
        self.node.config_dirty = True

    def log(self, effect: Log) -> None:
        if self.sim.on_log is not None:
            self.sim.on_log(self.node, effect)
        if self.sim.keep_logs:
            self.node.logs.append((self.sim.now, effect.level, effect.text))

    def replication_changed(self, effect: ReplicationChanged) -> None:
        if effect.flush_data:
            self.node.log = []
        self.sim._replication_changed(self.node, effect)


class VirtualClock:
    """Running a simulation: its clock (``now``, virtual ms) and ``_advance``, which runs
    what comes up to a horizon (an event here; a window of every worker's events in
    cluster/sim_parallel.py)."""

    now: int

    def _advance(self, horizon: int) -> bool:
        raise NotImplementedError

    def run_until(self, predicate: Callable[[], bool] | None, limit_ms: int,
                  check_every_ms: int = 100) -> int | None:
        """Advance the clock until ``predicate()`` holds (checked every ``check_every_ms``)
        or ``limit_ms`` passes. Returns the elapsed virtual ms, or None on timeout."""
        start = self.now
        deadline = start + limit_ms
        next_check = start
        while True:
            if predicate is not None and self.now >= next_check:
                if predicate():
                    return self.now - start
                next_check = self.now + check_every_ms
            horizon = min(deadline, next_check) if predicate is not None else deadline
            if self._advance(horizon):
                continue
            self.now = horizon  # nothing happens before the horizon: jump to it
            if self.now >= deadline:
                if predicate is None:
                    return limit_ms
                return self.now - start if predicate() else None

    def run_for(self, ms: int) -> None:
        self.run_until(None, ms)


class Simulation(VirtualClock):
    def __init__(self, n: int, *, seed: int = 1, node_timeout: int = 5000,
                 latency_ms: int = 1, jitter_ms: int = 0, loss: float = 0.0,
                 keep_logs: bool = False):
        self.rng = random.Random(seed)
        self.now = 0
        self.node_timeout = node_timeout
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self.loss = loss
        self.keep_logs = keep_logs
        self._queue: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._link_ids = itertools.count(1)
        self.links: dict[int, _Link] = {}
        self.cut: set[tuple[int, int]] = set()  # (from, to): nothing from `from` reaches `to`
        # Message faults, all off by default (cluster/sim_faults.py turns them on).
        # ``loss`` (above) drops a message from a live link, which TCP never does: a PONG
        # dropped that way leaves its ping outstanding for good, in Redis as here.
        # ``retransmit`` is loss as TCP sees it: the segment is sent again after a
        # retransmission timeout (200 ms, doubling), and what follows waits behind it.
        self.retransmit = 0.0
        self.duplicate = 0.0      # probability a message is delivered twice
        self.reorder = 0.0        # probability a message ignores TCP order (and comes late)
        self.spike_ms = 0         # extra one-way delay for messages from or to spike_nodes
        self.spike_nodes: set[int] = set()
        self.on_vote: Callable[[SimNode, Send], None] | None = None  # a FAILOVER_AUTH_ACK leaves
        self.on_log: Callable[[SimNode, Log], None] | None = None    # a node logs a line
        self.data = None          # the write model (cluster/sim_data.py), when one is attached
        self.nodes = [SimNode(i, "127.0.0.1", 7000 + i) for i in range(n)]
        self._by_address = {(node.ip, node.cport): node for node in self.nodes}
        self._by_port = {(node.ip, node.port): node for node in self.nodes}
        for node in self.nodes:
            self._boot(node, loaded=None)
        self.total_bytes = 0
        self.total_messages = 0
        self.dropped_messages = 0

    # ------------------------------------------------------------------
    # Node lifecycle
    # ------------------------------------------------------------------

    def _boot(self, node: SimNode, loaded) -> None:
        config = ClusterConfig(port=node.port, node_timeout=self.node_timeout)
        node.replicating_from = None
        node.paused = node.cron_stopped = False
        node.backlog = []
        # The data survives restarts (think appendfsync always); the offset a replica
        # reports is how far its copy of the stream goes.
        hooks = DataHooks(repl_offset=lambda: len(node.log), db_size=lambda: len(node.log))
        node.state = ClusterState(config, random.Random(self.rng.getrandbits(64)), self.now,
                                  hooks=hooks, loaded=loaded)
        node.runner = _NodeRunner(self, node)
        node.alive = True
        self._apply(node, node.state.take_effects(self.now))
        # Cron phases differ per node, as real processes started at different times.
        self._schedule(self.rng.randrange(CRON_PERIOD_MS), lambda: self._cron(node, node.state))

    def _cron(self, node: SimNode, state: ClusterState) -> None:
        if not node.alive or node.state is not state:
            return  # killed or restarted since this cron was scheduled
        if node.paused:
            node.cron_stopped = True  # resume() starts it again
            return
        self._apply(node, state.cluster_cron(self.now))
        self._schedule(CRON_PERIOD_MS, lambda: self._cron(node, state))

    def kill(self, i: int) -> None:
        """kill -9: the process is gone, its peers see their links reset."""
        node = self.nodes[i]
        node.alive = False
        node.paused = False
        node.backlog = []
        if node.config_dirty:
            node.saved_config = nodesconf.render(node.state)
            node.config_dirty = False
        for link_id, link in list(self.links.items()):
            if link.owner == i and link.open:
                self._close_pair(link_id, notify_owner=False)
        # Its replicas see their replication link reset too.
        for other in self.alive_nodes():
            if other.replicating_from == i:
                self._schedule(self._delay(), self._master_link_down(other, other.state))

    def restart(self, i: int) -> None:
        """Start the node again from its last saved nodes.conf."""
        node = self.nodes[i]
        loaded = nodesconf.parse(node.saved_config) if node.saved_config else None
        self._boot(node, loaded)

    def pause(self, i: int) -> None:
        """SIGSTOP: the node runs nothing (no cron, no packets, no timers) until resumed.
        Its peers' connections still complete (the kernel accepts them) and what they send
        waits in the socket buffers."""
        node = self.nodes[i]
        if node.alive:
            node.paused = True

    def resume(self, i: int) -> None:
        """SIGCONT: what arrived meanwhile is processed in arrival order, then the cron
        runs again."""
        node = self.nodes[i]
        if not (node.alive and node.paused):
            return
        node.paused = False
        backlog, node.backlog = node.backlog, []
        for action in backlog:
            if not node.alive or node.paused:
                break
            action()
        if node.cron_stopped and node.alive:
            node.cron_stopped = False
            self._cron(node, node.state)

    def _at_node(self, node: SimNode, action: Callable[[], None]) -> None:
        """Run an event of ``node``'s process now, or once it is resumed."""
        if node.paused:
            node.backlog.append(action)
        else:
            action()

    def partition(self, *groups) -> None:
        """Nodes in different groups cannot exchange anything (nodes not listed form one
        more group)."""
        group_of = {i: g for g, members in enumerate(groups) for i in members}
        self.cut = {(a, b) for a in range(len(self.nodes)) for b in range(len(self.nodes))
                    if group_of.get(a, -1) != group_of.get(b, -1)}

    def cut_one_way(self, sources, targets) -> None:
        """Nothing sent from a node in ``sources`` reaches a node in ``targets`` (the other
        way still works; a new connection needs both ways, so none is made)."""
        self.cut |= {(a, b) for a in sources for b in targets if a != b}

    def heal(self) -> None:
        self.cut = set()

    def _reachable(self, a: int, b: int) -> bool:
        return (a, b) not in self.cut

    # ------------------------------------------------------------------
    # Effects
    # ------------------------------------------------------------------

    def _schedule(self, delay: int, action: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (self.now + delay, next(self._seq), action))

    def _post(self, owner: int, at: int, handler: str, *args) -> None:
        """An event that happens at node ``owner`` because of another node: a frame
        arrives, a SYN arrives, a FIN arrives. Named by handler and plain arguments, not
        a closure, so that cluster/sim_parallel.py can carry it to the process that
        simulates ``owner``."""
        action = getattr(self, handler)
        self._schedule(at - self.now, lambda: action(*args))

    def _delay(self) -> int:
        if self.jitter_ms:
            return self.latency_ms + self.rng.randrange(self.jitter_ms + 1)
        return self.latency_ms

    def _message_delay(self, a: int, b: int) -> int:
        delay = self._delay()
        if self.spike_ms and (a in self.spike_nodes or b in self.spike_nodes):
            delay += self.spike_ms
        return delay

    def _apply(self, node: SimNode, effects) -> None:
        node.runner.execute(effects)

    # ------------------------------------------------------------------
    # Replication links (no data: only the link status the election needs)
    # ------------------------------------------------------------------

    def _replication_changed(self, node: SimNode, effect: ReplicationChanged) -> None:
        node.replicating_from = None
        if effect.master_name is None:
            return
        target = self._by_port.get((effect.ip, effect.port))
        if target is None:
            return
        state = node.state

        def connected() -> None:
            # The sync "completes" after a round trip if the master is there (and
            # running): the replica's copy of the data becomes the master's.
            if node.alive and node.state is state and target.alive and not target.paused \
                    and state.myself.master_name == effect.master_name \
                    and self._reachable(node.index, target.index) \
                    and self._reachable(target.index, node.index):
                node.replicating_from = target.index
                node.log = list(target.log)
                if self.data is not None:
                    self.data.replica_caught_up(target.index)
                self._apply(node, state.set_master_link_status(True, self.now))

        self._schedule(2 * self._delay(), lambda: self._at_node(node, connected))

    def _master_link_down(self, node: SimNode, state: ClusterState) -> Callable[[], None]:
        def down() -> None:
            if node.alive and node.state is state:
                node.replicating_from = None
                self._apply(node, state.set_master_link_status(False, self.now))
        return lambda: self._at_node(node, down)

    def _send(self, node: SimNode, effect: Send) -> None:
        link = self.links.get(effect.link_id)
        if link is None or not link.open:
            return
        frame = m.encode(effect.message)
        node.bytes_sent += len(frame)
        node.messages_sent += 1
        self.total_bytes += len(frame)
        self.total_messages += 1
        if self.loss and self.rng.random() < self.loss:
            self.dropped_messages += 1
            return
        peer_link_id, peer_owner = link.peer_link, link.peer_owner
        copies = 2 if self.duplicate and self.rng.random() < self.duplicate else 1
        for _ in range(copies):
            delay = self._message_delay(node.index, peer_owner)
            if self.retransmit and self.rng.random() < self.retransmit:
                delay += 200 << self.rng.randrange(3)
            if self.reorder and self.rng.random() < self.reorder:
                # Overtaken by what follows: late, and out of the link's order.
                at = self.now + delay + self.rng.randrange(1, 4 * self.latency_ms + 20)
            else:
                # TCP keeps order on a link: never deliver before the previous message.
                at = max(self.now + delay, link.last_delivery)
                link.last_delivery = at
            self._post(peer_owner, at, "_deliver", peer_link_id, frame, node.index)

    def _deliver(self, link_id: int, frame: bytes, from_index: int) -> None:
        link = self.links.get(link_id)
        if link is None or not link.open:
            self.dropped_messages += 1
            return
        if link.held or not self._reachable(from_index, link.owner):
            # A partition loses the segments, but TCP keeps the link and sends them
            # again at each retransmission timeout (200 ms, doubling, capped here at
            # 10 s) until they get through, in order: nothing is lost unless the link
            # is closed first (as Redis does to a link silent for half the node timeout).
            link.held.append((frame, from_index))
            if len(link.held) == 1:
                link.rto = 200
                self._schedule(link.rto, lambda: self._retransmit(link_id))
            return
        self._process_frame(link, link_id, frame)

    def _retransmit(self, link_id: int) -> None:
        link = self.links.get(link_id)
        if link is None or not link.open:
            return
        frame, from_index = link.held[0]
        if not self._reachable(from_index, link.owner):
            link.rto = min(2 * link.rto, 10_000)
            self._schedule(link.rto, lambda: self._retransmit(link_id))
            return
        held, link.held = link.held, []
        for frame, _ in held:
            self._process_frame(link, link_id, frame)

    def _process_frame(self, link: _Link, link_id: int, frame: bytes) -> None:
        target = self.nodes[link.owner]
        if not target.alive:
            return

        state = target.state

        def process() -> None:
            # What arrived before a close is still read, as from a socket buffer; a
            # link the node itself closed meanwhile is gone from its state.
            if target.alive and target.state is state and link_id in state.links:
                self._apply(target, state.process_packet(link_id, m.decode(frame), self.now))
        self._at_node(target, process)

    def _connect(self, node: SimNode, effect: Connect) -> None:
        target = self._by_address.get((effect.ip, effect.cport))
        state = node.state

        def fail() -> None:
            if node.alive and node.state is state:
                self._apply(node, state.link_connect_failed(effect.node_name, self.now))

        if target is None or not target.alive:
            # Refused. (At scale, every node retries a dead one every 100 ms: keep it short.)
            self._schedule(self._delay(), lambda: self._at_node(node, fail))
            return

        def both_ways() -> bool:
            return self._reachable(node.index, target.index) and \
                self._reachable(target.index, node.index)

        if not both_ways():
            # SYNs (or SYN-ACKs) vanish until the timeout.
            self._schedule(effect.timeout_ms, lambda: self._at_node(node, fail))
            return

        # The SYN reaches the target after the latency, whose kernel accepts the
        # connection (its process sees it when it runs); the SYN-ACK comes back after
        # the latency again, and the connect completes.
        out_id, in_id = self._new_link_id(), self._new_link_id()
        delay = self._delay()
        self._post(target.index, self.now + delay, "_syn_arrived", target.index, in_id,
                   out_id, node.index)

        def established() -> None:
            connecting = node.alive and node.state is state
            if not (connecting and target.alive and both_ways()):
                # The target's end, if its kernel accepted the SYN, is reset.
                self._post(target.index, self.now + self._delay(), "_close_pair", in_id, True)
                if connecting:
                    self._at_node(node, fail)
                return
            self.links[out_id] = _Link(node.index, in_id, target.index)
            self._at_node(node, lambda: node.alive and node.state is state and
                          out_id in self.links and self._apply(
                              node, state.link_connected(effect.node_name, out_id, self.now,
                                                         target.ip, node.ip)))

        self._schedule(2 * delay, established)

    def _syn_arrived(self, target_index: int, in_id: int, out_id: int, from_index: int) -> None:
        """The target's end of a connection: accepted by the kernel of a live, reachable
        node (a dead one refuses, and the connecting side sees that on its own)."""
        target = self.nodes[target_index]
        if not target.alive or not self._reachable(from_index, target_index):
            return
        source = self.nodes[from_index]
        self.links[in_id] = _Link(target_index, out_id, from_index)
        target_state = target.state
        self._at_node(target, lambda: target.alive and target.state is target_state and
                      in_id in self.links and self._apply(
                          target, target_state.link_accepted(in_id, self.now, source.ip,
                                                             target.ip)))

    def _new_link_id(self) -> int:
        return next(self._link_ids)

    def _close_pair(self, link_id: int, notify_owner: bool) -> None:
        link = self.links.pop(link_id, None)
        if link is None:
            return
        link.open = False
        if notify_owner:
            owner = self.nodes[link.owner]
            if owner.alive:
                owner_state = owner.state
                self._at_node(owner, lambda: owner.alive and owner.state is owner_state and
                              self._apply(owner, owner_state.link_closed(link_id, self.now)))
        # The FIN or RST reaches the other side after the latency.
        self._post(link.peer_owner, self.now + self._delay(), "_close_pair", link.peer_link, True)

    # ------------------------------------------------------------------
    # Running
    # ------------------------------------------------------------------

    def _advance(self, horizon: int) -> bool:
        """The next event, if it comes no later than ``horizon``."""
        if self._queue and self._queue[0][0] <= horizon:
            at, _, action = heapq.heappop(self._queue)
            self.now = at
            action()
            return True
        return False

    # ------------------------------------------------------------------
    # Setting up a cluster, and observing it
    # ------------------------------------------------------------------

    def assign_slots(self, masters: int | None = None) -> None:
        """Spread the 16384 slots over the first ``masters`` nodes; distinct config epochs,
        as ``redis-cli --cluster create`` sets them."""
        masters = masters or len(self.nodes)
        for i in range(masters):
            start = i * CLUSTER_SLOTS // masters
            end = (i + 1) * CLUSTER_SLOTS // masters - 1
            node = self.nodes[i]
            self._apply(node, node.state.add_slots_range([start, end], self.now))
            self._apply(node, node.state.set_config_epoch(i + 1, self.now))

    def make_replicas(self, masters: int) -> None:
        """CLUSTER REPLICATE: node i >= ``masters`` replicates node i % masters."""
        for node in self.nodes[masters:]:
            master = self.nodes[node.index % masters].state.myself.name
            self._apply(node, node.state.replicate(master, self.now))

    def meet_all(self, pattern: str = "star") -> None:
        """Every node meets node 0 ("star", as redis-cli does) or its predecessor ("chain")."""
        for node in self.nodes[1:]:
            other = self.nodes[0] if pattern == "star" else self.nodes[node.index - 1]
            self._apply(node, node.state.meet(other.ip, other.port, None, self.now))

    def alive_nodes(self) -> list[SimNode]:
        return [n for n in self.nodes if n.alive]

    def observers(self) -> list[SimNode]:
        """The live nodes this process simulates, whose views the predicates below read:
        all of them here, a share in a worker of cluster/sim_parallel.py."""
        return self.alive_nodes()

    def holds(self, predicate: str, *args) -> bool:
        """A predicate below, by name: the form cluster/sim_parallel.py can ask each of
        its workers about (and AND the answers)."""
        return getattr(self, predicate)(*args)

    def census(self) -> dict[str, int]:
        """Counters of the run so far, summed by cluster/sim_parallel.py over workers."""
        observers = self.observers()
        return {"messages": self.total_messages, "bytes": self.total_bytes,
                "known": sum(len(x.state.nodes) for x in observers),
                "links": sum(len(x.state.links) for x in observers)}

    def states_ok(self) -> bool:
        return all(x.state.state_ok for x in self.observers())

    def node_named(self, name: str) -> SimNode | None:
        """The process whose identity is ``name`` now (a hard reset changes it)."""
        for node in self.nodes:
            if node.state.myself.name == name:
                return node
        return None

    def full_knowledge(self) -> bool:
        """Every live node knows every other live node by its real id, out of handshake."""
        alive = self.alive_nodes()
        names = [n.state.myself.name for n in alive]
        for node in self.observers():
            known = node.state.nodes
            if len(known) < len(alive):
                return False
            for name in names:
                peer = known.get(name)
                if peer is None or peer.flags & NODE_HANDSHAKE:
                    return False
        return True

    def flagged_everywhere(self, i: int, flag: int = NODE_FAIL) -> bool:
        name = self.nodes[i].state.myself.name
        for node in self.observers():
            if node.index == i:
                continue
            peer = node.state.nodes.get(name)
            if peer is None or not peer.flags & flag:
                return False
        return True

    def flagged_everywhere_from(self, i: int, observers, flag: int = NODE_FAIL) -> bool:
        """Node ``i`` carries ``flag`` in the view of every live node in ``observers``."""
        name = self.nodes[i].state.myself.name
        for j in observers:
            node = self.nodes[j]
            if not node.alive or j == i:
                continue
            peer = node.state.nodes.get(name)
            if peer is None or not peer.flags & flag:
                return False
        return True

    def healthy_everywhere(self) -> bool:
        """No live node sees another live node as PFAIL or FAIL, and every state is ok."""
        names = {n.state.myself.name for n in self.alive_nodes()}
        for node in self.alive_nodes():
            if not node.state.state_ok:
                return False
            for peer in node.state.nodes.values():
                if peer.name in names and peer.flags & (NODE_PFAIL | NODE_FAIL):
                    return False
        return True

    def failed_pairs(self) -> list[tuple[int, str]]:
        """(observer index, node name) for every FAIL flag a live node holds about a live node."""
        names = {n.state.myself.name for n in self.alive_nodes()}
        return [(node.index, peer.name) for node in self.alive_nodes()
                for peer in node.state.nodes.values()
                if peer.name in names and peer.flags & NODE_FAIL]

    def masters_serving_slots(self, observer: SimNode) -> dict[str, int]:
        """master name -> slot count, as ``observer`` sees the slot table."""
        counts: dict[str, int] = {}
        for owner in observer.state.slots:
            if owner is not None:
                counts[owner.name] = counts.get(owner.name, 0) + 1
        return counts

    def slots_agreed_by_live_masters(self) -> bool:
        """Every live node maps every slot to the same live master, which claims it itself."""
        alive = self.alive_nodes()
        by_name = {n.state.myself.name: n for n in alive}
        reference = alive[0].state.slots
        for node in alive:
            table = node.state.slots
            for slot in range(CLUSTER_SLOTS):
                owner, ref = table[slot], reference[slot]
                if owner is None or ref is None or owner.name != ref.name:
                    return False
        for slot, owner in enumerate(reference):
            holder = by_name.get(owner.name)
            if holder is None or holder.state.slots[slot] is not holder.state.myself:
                return False
        return True
