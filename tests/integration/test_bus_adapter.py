"""Three ClusterBus instances in one process, over loopback, doing a real MEET handshake.

No node.py needed: this exercises cluster/bus.py + state + codec + nodes.conf
together. Every wait polls with a deadline.
"""
import random
import socket
import struct

import gevent
import msgpack
import pytest

from cluster import messages as m
from cluster import nodesconf
from cluster.bus import Clock, ClusterBus
from cluster.effects import Log, SaveConfig, Send
from cluster.node_record import NODE_FAIL, NODE_HANDSHAKE, NODE_MASTER, ClusterNode
from cluster.operations import ClusterOperations
from cluster.state import ClusterConfig, ClusterState
from tests.helpers import free_port

pytestmark = pytest.mark.timeout(60)


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = gevent.get_hub().loop.now() + timeout
    while gevent.get_hub().loop.now() < deadline:
        if predicate():
            return
        gevent.sleep(0.05)
    assert predicate(), f"timed out waiting for {what}"


@pytest.fixture
def make_bus(tmp_path):
    buses = []

    def make(node_timeout=1000):
        port = free_port()
        clock = Clock()
        state = ClusterState(ClusterConfig(port=port, node_timeout=node_timeout),
                             random.Random(len(buses) + 1), clock.now_ms())
        bus = ClusterBus(state, "127.0.0.1", port + 10000,
                         str(tmp_path / f"nodes-{port}.conf"), clock=clock)
        bus.start()
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        bus.stop()


def meet(a: ClusterBus, b: ClusterBus):
    a.execute(a.state.meet("127.0.0.1", b.state.config.port, None, a.now_ms()))


def knows(a: ClusterBus, b: ClusterBus) -> bool:
    node = a.state.nodes.get(b.state.myself.name)
    return node is not None and not node.flags & NODE_HANDSHAKE


def all_know_all(buses) -> bool:
    return all(knows(a, b) for a in buses for b in buses if a is not b)


def test_meet_handshake_gossip_and_nodes_conf(make_bus):
    a, b, c = make_bus(), make_bus(), make_bus()
    meet(a, b)
    wait_for(lambda: knows(a, b) and knows(b, a), what="a-b handshake")
    # c only meets b: a and c learn each other through gossip.
    meet(c, b)
    wait_for(lambda: all_know_all([a, b, c]), what="gossip convergence")
    # Handshake nodes are gone, everyone is connected both ways.
    wait_for(lambda: all(n.link is not None and n.inbound_link is not None
                         for bus in (a, b, c) for n in bus.state.nodes.values()
                         if n is not bus.state.myself), what="two links per peer")
    for bus in (a, b, c):
        assert len(bus.state.nodes) == 3
        assert bus.bytes_sent > 0 and bus.bytes_received > 0
    # Every link starts in Redis's format until the peer shows it reads ours
    # (cluster.link_format): afterwards everything is compact, and the names are kept.
    sent_redis = {bus: bus.messages_sent_redis for bus in (a, b, c)}
    gevent.sleep(1.0)
    for bus in (a, b, c):
        assert bus.messages_sent_redis == sent_redis[bus] <= 4
        assert bus.messages_sent_compact > 0
        assert bus.compact_peers == {n for n in bus.state.nodes if n != bus.state.myself.name}
    # nodes.conf reached the disk and parses back to the same identity.
    wait_for(lambda: _saved_nodes(a) == 3, what="nodes.conf save")
    loaded = nodesconf.load(a.config_path)
    assert {n.name for n in loaded.nodes} == set(a.state.nodes)


def _saved_nodes(bus):
    try:
        loaded = nodesconf.load(bus.config_path)
    except Exception:
        return 0
    return len(loaded.nodes) if loaded else 0


def test_bad_frames_close_only_that_link(make_bus):
    a, b = make_bus(), make_bus()
    meet(a, b)
    wait_for(lambda: knows(a, b) and knows(b, a), what="handshake")
    cport = a.state.config.cport
    bad_inputs = [
        b"GET / HTTP/1.1\r\n\r\n",                                    # wrong signature
        m.PREFIX.pack(m.SIGNATURE, 99, 4) + b"abcd",                   # wrong version
        m.PREFIX.pack(m.SIGNATURE, m.VERSION, 1 << 30),               # oversized
        m.PREFIX.pack(m.SIGNATURE, m.VERSION, 3) + b"\xc1\xc1\xc1",   # not msgpack
        _frame(msgpack.packb([0, "not a header", []])),                # wrong types
    ]
    for data in bad_inputs:
        before = a.invalid_frames
        with socket.create_connection(("127.0.0.1", cport), timeout=5) as s:
            s.sendall(data)
            wait_for(lambda: a.invalid_frames == before + 1, what="invalid frame counted")
    # The good link still works: a and b keep exchanging pings.
    received = a.state.stats_received[m.PING] + a.state.stats_received[m.PONG]
    wait_for(lambda: a.state.stats_received[m.PING] + a.state.stats_received[m.PONG] > received,
             what="traffic on the good link")
    assert knows(a, b)


def _frame(body: bytes) -> bytes:
    return struct.pack(">4sBI", m.SIGNATURE, m.VERSION, len(body)) + body


def test_stopped_node_is_marked_fail(make_bus):
    buses = [make_bus(node_timeout=500) for _ in range(3)]
    for i, bus in enumerate(buses):
        start, end = i * 5462, min(16383, (i + 1) * 5462 - 1)
        bus.execute(bus.state.add_slots_range([start, end], bus.now_ms()))
        bus.execute(bus.state.set_config_epoch(i + 1, bus.now_ms()))
    meet(buses[1], buses[0])
    meet(buses[2], buses[0])
    wait_for(lambda: all_know_all(buses), what="convergence")
    wait_for(lambda: all(b.state.state_ok for b in buses), what="cluster_state ok")
    victim = buses[2]
    name = victim.state.myself.name
    victim.stop()
    survivors = buses[:2]
    wait_for(lambda: all(s.state.nodes[name].flags & NODE_FAIL for s in survivors),
             what="FAIL on every survivor")
    wait_for(lambda: not any(s.state.state_ok for s in survivors), what="cluster_state fail")


def test_a_vote_is_not_sent_when_its_durable_save_fails(tmp_path):
    """SaveConfig(fsync=True) is a barrier: the bus writes it before the ACK after it, and
    when the write fails nothing after it leaves (the logs still go out)."""
    state = ClusterState(ClusterConfig(port=7000), random.Random(1), 0)
    logs, sent = [], []
    bus = ClusterBus(state, "127.0.0.1", 17000, str(tmp_path / "missing-dir" / "nodes.conf"),
                     log=lambda level, text: logs.append(text))
    bus._queue_send = lambda link_id, msg: sent.append(msg)
    ack = m.FailoverAuthAck(state.build_header())
    bus.execute([SaveConfig(True), Send(1, ack), Log("warning", "Failover auth granted")])
    assert sent == [] and bus.save_errors == 1
    assert logs[-1] == "Failover auth granted" and "not sending" in logs[0]
    good = ClusterBus(state, "127.0.0.1", 17000, str(tmp_path / "nodes.conf"))
    good._queue_send = lambda link_id, msg: sent.append(nodesconf.load(good.config_path))
    good.execute([SaveConfig(True), Send(1, ack)])
    [on_disk_when_sent] = sent
    assert on_disk_when_sent is not None and on_disk_when_sent.nodes[0].name == state.myself.name


def test_a_cluster_commands_change_is_saved_before_it_returns(tmp_path):
    """A CLUSTER command's nodes.conf change (here ADDSLOTS, then SETSLOT IMPORTING) is
    written inline before ClusterOperations.run returns -- before the reply, as Redis's
    clusterBeforeSleep saves before writing replies -- with no saver greenlet; a change
    from the bus (execute) still goes to the saver."""
    state = ClusterState(ClusterConfig(port=7000), random.Random(1), 0)
    bus = ClusterBus(state, "127.0.0.1", 17000, str(tmp_path / "nodes.conf"))
    other = ClusterNode("b" * 40, NODE_MASTER, 0)
    state.add_node(other)
    ops = ClusterOperations(state, bus, RuntimeError)
    ops.run("add_slots", [b"1", b"2"])
    assert not bus._saving
    saved = nodesconf.load(bus.config_path)
    assert [n for n in saved.nodes if n.name == state.myself.name][0].slots == [(1, 2)]
    ops.run("set_slot", [b"5", b"importing", other.name.encode()])
    assert not bus._saving
    with open(bus.config_path) as f:
        assert "[5-<-%s]" % other.name in f.read()
    bus.execute([SaveConfig(False)])
    assert bus._saving                # the saver greenlet takes it, later
    wait_for(lambda: not bus._saving, what="the saver greenlet")
