import re

import pytest

from cluster import describe
from cluster.errors import ClusterError
from cluster.node_record import (NODE_FAIL, NODE_MASTER, NODE_MEET, NODE_MYSELF, NODE_PFAIL,
                                 NODE_SLAVE, flags_to_text)
from tests.unit.cluster_net import Net

pytestmark = pytest.mark.timeout(30)

# The CLUSTER NODES line grammar of Redis 7 (reference 1.12).
LINE = re.compile(
    r"^(?P<id>[0-9a-f]{40}) (?P<ip>[0-9.:a-f]*):(?P<port>\d+)@(?P<cport>\d+) "
    r"(?P<flags>[a-z?,]+) (?P<master>-|[0-9a-f]{40}) (?P<ping>\d+) (?P<pong>\d+) "
    r"(?P<epoch>\d+) (?P<link>connected|disconnected)(?P<slots>( \d+(-\d+)?)*)$")


@pytest.fixture
def net():
    net = Net(2)
    a, b = net.states
    net.apply(0, a.add_slots_range(["0", "100", "200", "300"], net.now))
    net.apply(0, a.add_slots(["5000"], net.now))
    net.apply(0, a.set_config_epoch("1", net.now))
    net.settle()
    net.meet(0, 1)
    net.advance(2500)  # past the 2 s writable delay, so cluster_size is computed
    return net


def test_cluster_nodes_lines(net):
    a, b = net.states
    text = describe.cluster_nodes(a)
    assert text.endswith("\n")
    lines = text.splitlines()
    assert len(lines) == 2
    parsed = {LINE.match(line).group("id"): LINE.match(line) for line in lines}
    me = parsed[a.myself.name]
    assert me.group("flags") == "myself,master"
    assert (me.group("ping"), me.group("pong")) == ("0", "0")
    assert me.group("link") == "connected"
    assert me.group("slots") == " 0-100 200-300 5000"
    assert me.group("epoch") == "1"
    other = parsed[b.myself.name]
    assert other.group("flags") == "master" and other.group("master") == "-"
    assert other.group("ip") == "127.0.0.1" and other.group("port") == "7001"
    assert other.group("cport") == "17001" and other.group("link") == "connected"
    assert int(other.group("pong")) > 0


def test_handshake_and_fail_flags_in_order(net):
    a = net.states[0]
    a.meet("127.0.0.1", 7009, None, net.now)
    line = [l for l in describe.cluster_nodes(a).splitlines() if "handshake" in l][0]
    assert " handshake - 0 0 0 disconnected" in line
    node = net.node(0, 1)
    node.flags |= 8 | 4 | 512
    line = describe.node_description(a, node)
    assert " master,fail?,fail,nofailover " in line


def test_cluster_info(net):
    a = net.states[0]
    info = describe.cluster_info(a)
    assert info.endswith("\r\n") and "\n" not in info.replace("\r\n", "")
    fields = dict(line.split(":", 1) for line in info.split("\r\n") if line)
    assert fields["cluster_state"] == "fail"
    assert fields["cluster_slots_assigned"] == "203" == fields["cluster_slots_ok"]
    assert fields["cluster_known_nodes"] == "2"
    assert fields["cluster_size"] == "1"
    assert fields["cluster_my_epoch"] == "1"
    assert int(fields["cluster_stats_messages_meet_sent"]) >= 1
    assert int(fields["cluster_stats_messages_sent"]) == sum(a.stats_sent)
    assert "cluster_stats_messages_fail_sent" not in fields  # zero counters are omitted
    order = [line.split(":")[0] for line in info.split("\r\n") if line]
    assert order[:9] == ["cluster_state", "cluster_slots_assigned", "cluster_slots_ok",
                         "cluster_slots_pfail", "cluster_slots_fail", "cluster_known_nodes",
                         "cluster_size", "cluster_current_epoch", "cluster_my_epoch"]
    assert order[-1] == "total_cluster_links_buffer_limit_exceeded"


def test_cluster_slots_and_shards(net):
    a = net.states[0]
    slots = describe.cluster_slots(a)
    assert slots == [[0, 100, ["127.0.0.1", 7000, a.myself.name, {}]],
                     [200, 300, ["127.0.0.1", 7000, a.myself.name, {}]],
                     [5000, 5000, ["127.0.0.1", 7000, a.myself.name, {}]]]
    shards = describe.cluster_shards(a)
    mine = [s for s in shards if s["nodes"][0]["id"] == a.myself.name][0]
    assert mine["slots"] == [0, 100, 200, 300, 5000, 5000]
    assert list(mine["nodes"][0]) == ["id", "port", "ip", "endpoint", "role",
                                      "replication-offset", "health"]
    assert mine["nodes"][0]["role"] == "master" and mine["nodes"][0]["health"] == "online"


def test_cluster_links(net):
    a = net.states[0]
    links = describe.cluster_links(a, lambda link_id: {"events": "r"})
    assert sorted(l["direction"] for l in links) == ["from", "to"]
    assert all(l["node"] == net.states[1].myself.name for l in links)
    assert list(links[0]) == ["direction", "node", "create-time", "events",
                              "send-buffer-allocated", "send-buffer-used"]


def test_cluster_replicas_errors(net):
    a = net.states[0]
    with pytest.raises(ClusterError, match="^Unknown node x$"):
        describe.cluster_replicas(a, "x")
    assert describe.cluster_replicas(a, a.myself.name) == []


def test_hostnames_and_preferred_endpoint_types(net):
    """clusterGenNodeDescription, addNodeToNodeReply, getPreferredEndpoint (Redis 7.0)."""
    a, b = net.states
    b.config.announce_hostname = "b.example"
    net.apply(1, b.update_myself_announced(net.now))
    net.advance(1500)                     # a heartbeat from b carries it to a
    peer = a.nodes[b.myself.name]
    assert peer.hostname == "b.example"
    line = describe.node_description(a, peer)
    assert line.split(" ")[1] == "127.0.0.1:7001@17001,b.example"
    assert describe.node_description(a, peer, for_config=True).split(" ")[1].startswith(
        "127.0.0.1:7001@17001,b.example,tls-port=0,shard-id=")
    me = a.myself
    expected = {  # preferred endpoint type -> (endpoint of b, its metadata; endpoint of a)
        "ip": ("127.0.0.1", {"hostname": "b.example"}, "127.0.0.1"),
        "hostname": ("b.example", {"ip": "127.0.0.1"}, "?"),
        "unknown-endpoint": (None, {"ip": "127.0.0.1", "hostname": "b.example"}, ""),
    }
    for kind, (endpoint, metadata, my_endpoint) in expected.items():
        a.config.preferred_endpoint_type = kind
        assert describe._node_reply(a, peer) == [endpoint, 7001, peer.name, metadata]
        assert describe.preferred_endpoint(a, me) == my_endpoint
    # A heartbeat without the hostname clears it (clusterProcessPingExtensions).
    b.config.announce_hostname = ""
    net.apply(1, b.update_myself_announced(net.now))
    net.advance(1500)
    assert peer.hostname == ""
    assert describe.node_description(a, peer).split(" ")[1] == "127.0.0.1:7001@17001"


def test_announced_ports_are_what_peers_see(net):
    a, b = net.states
    b.config.announce_port, b.config.announce_bus_port = 30001, 40001
    net.apply(1, b.update_myself_announced(net.now))
    assert (b.myself.port, b.myself.cport) == (30001, 40001)
    hdr = b.build_header()
    assert (hdr.port, hdr.cport) == (30001, 40001)


def test_a_replica_lists_itself_in_cluster_slots_by_its_own_offset():
    """As Redis: a replica is in CLUSTER SLOTS once its offset is not 0, and for the node
    itself that is its replication offset now, not a heartbeat's (a replica never gets
    its own heartbeats, so it left itself out)."""
    net = Net(2)
    a, b = net.states
    net.apply(0, a.add_slots_range(["0", "16383"], net.now))
    net.meet(1, 0)
    net.advance(2500)
    net.apply(1, b.replicate(a.myself.name, net.now))
    net.settle()

    def replicas_in_slots(state):
        [entry] = describe.cluster_slots(state)
        return [node[2] for node in entry[3:]]
    assert replicas_in_slots(b) == []           # offset 0: not yet available
    net.offsets[1] = 52
    assert replicas_in_slots(b) == [b.myself.name]
    [shard] = describe.cluster_shards(b)
    me = next(n for n in shard["nodes"] if n["id"] == b.myself.name)
    assert (me["replication-offset"], me["health"]) == (52, "online")


def test_cluster_slots_is_in_slot_order_whoever_asks():
    """Redis 7.0 walks the slots from 0: the node's own ranges are not first."""
    net = Net(2)
    a, b = net.states
    net.apply(0, a.add_slots_range(["5000", "16383"], net.now))
    net.apply(1, b.add_slots_range(["0", "4999"], net.now))
    net.meet(1, 0)
    net.advance(2500)
    for state in (a, b):
        assert [(e[0], e[1], e[2][2]) for e in describe.cluster_slots(state)] == \
            [(0, 4999, b.myself.name), (5000, 16383, a.myself.name)]


def test_flags_text_in_redis_order_and_remembered_per_value():
    assert flags_to_text(NODE_MYSELF | NODE_MASTER) == "myself,master"
    assert flags_to_text(NODE_SLAVE | NODE_PFAIL | NODE_FAIL) == "slave,fail?,fail"
    assert flags_to_text(0) == flags_to_text(NODE_MEET) == "noflags"     # MEET not shown
    assert flags_to_text(NODE_MASTER) is flags_to_text(NODE_MASTER)      # one text per value
