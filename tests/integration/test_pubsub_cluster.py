"""Pub/Sub across a cluster of our nodes: masters A, B, C (slots split by hand) and D, a
replica of A.

* PUBLISH on any node (a master or a replica) reaches subscribers on every node; its reply
  counts this node's receivers only (Redis's 09-pubsub).
* Pattern subscriptions on every node see messages published anywhere.
* Sharded Pub/Sub stays in its shard: SSUBSCRIBE/SPUBLISH of a channel of A's slots work on
  A and on its replica D (no READONLY needed), are redirected elsewhere, and B and C never
  receive the bus message; redis-py's RedisCluster sharded API works (26-pubsubshard).
* When a slot moves away, its shard subscribers on the old master and on its replica get
  "sunsubscribe" and leave subscribed mode (25-pubsubshard-slot-migration).

Every wait polls with a deadline; every process is killed by pid in teardown.
"""
import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from cluster.slots import key_hash_slot
from tests.helpers import RawClient, next_pubsub_message, wait_until
from tests.integration.cluster_util import Cluster, cluster_info, node_id, value

RANGES = [[(0, 5460)], [(5461, 10922)], [(10923, 16383)], []]


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(4)
    try:
        c.create_by_hand(RANGES)
        a, d = c.ports[0], c.ports[3]
        assert value(d, "CLUSTER", "REPLICATE", node_id(a)) == "OK"
        wait_until(lambda: cluster_info(d).get("cluster_state") == "ok" and
                   _is_replica_of(c.ports, d, node_id(a)),
                   timeout=30, interval=0.1, message="D replicates A everywhere")
        yield c
    finally:
        c.stop()


def _is_replica_of(ports, replica_port, master_id) -> bool:
    replica_id = node_id(replica_port)
    for port in ports:
        for line in value(port, "CLUSTER", "NODES").decode().splitlines():
            fields = line.split()
            if fields[0] == replica_id and ("slave" not in fields[2] or
                                            fields[3] != master_id):
                return False
    return True


def channel_in(port_index, prefix="ch") -> str:
    """A channel name whose slot the master at RANGES[port_index] serves."""
    (lo, hi), = RANGES[port_index]
    for i in range(100_000):
        name = "%s%d" % (prefix, i)
        if lo <= key_hash_slot(name.encode()) <= hi:
            return name
    raise AssertionError("no channel found")


def subscribed(port, *command) -> RawClient:
    client = RawClient(port, timeout=10)
    reply = client.call(*command)
    assert reply[0] == "*" and reply[1][0][1].endswith(b"subscribe"), reply
    return client


def next_push(client, timeout=10.0):
    """The next message on a subscribed RawClient (its socket timeout bounds the wait)."""
    client.sock.settimeout(timeout)
    return client.read_reply()


def message_of(reply) -> list:
    return [item[1] for item in reply[1]]


def publishshard_received(port) -> int:
    return int(cluster_info(port).get("cluster_stats_messages_publishshard_received", 0))


def test_publish_reaches_every_node(cluster):
    subs = [subscribed(port, "SUBSCRIBE", "news") for port in cluster.ports]
    try:
        a, d = cluster.ports[0], cluster.ports[3]
        assert value(a, "PUBLISH", "news", "from-master") == 1      # A's own subscriber
        for sub in subs:
            assert message_of(next_push(sub)) == [b"message", b"news", b"from-master"]
        assert value(d, "PUBLISH", "news", "from-replica") == 1
        for sub in subs:
            assert message_of(next_push(sub)) == [b"message", b"news", b"from-replica"]
        assert value(a, "PUBLISH", "nobody-here", "x") == 0
    finally:
        for sub in subs:
            sub.close()


def test_patterns_and_redis_py_across_nodes(cluster):
    clients = [redis.Redis(port=port, socket_timeout=10) for port in cluster.ports]
    pubsubs = [client.pubsub(ignore_subscribe_messages=True) for client in clients]
    try:
        for i, p in enumerate(pubsubs):
            if i % 2 == 0:
                p.psubscribe("metrics.*")
            else:
                p.subscribe("metrics.cpu")
        wait_until(lambda: all(c.pubsub_numpat() == 1 for c in clients[::2]) and
                   all(c.pubsub_numsub("metrics.cpu")[0][1] == 1 for c in clients[1::2]),
                   timeout=5, message="subscriptions")
        # Published on B: B's subscriber directly, the others through the bus.
        assert clients[1].publish("metrics.cpu", "42") == 1
        for i, p in enumerate(pubsubs):
            msg = next_pubsub_message(p, timeout=10.0)
            if i % 2 == 0:
                assert (msg["type"], msg["pattern"], msg["data"]) == \
                    ("pmessage", b"metrics.*", b"42")
            else:
                assert (msg["type"], msg["data"]) == ("message", b"42"), msg
    finally:
        for p in pubsubs:
            p.close()
        for client in clients:
            client.close()


def test_subscribe_on_a_replica_needs_no_redirection(cluster):
    """SUBSCRIBE on a replica is plain Pub/Sub: no redirection, no READONLY."""
    d = cluster.ports[3]
    sub = subscribed(d, "SUBSCRIBE", channel_in(1))
    try:
        assert value(cluster.ports[1], "PUBLISH", channel_in(1), "m") == 0
        assert message_of(next_push(sub))[2] == b"m"
    finally:
        sub.close()


def test_sharded_pubsub_stays_in_its_shard(cluster):
    a, b, c, d = cluster.ports
    channel = channel_in(0, "shard")
    slot = key_hash_slot(channel.encode())
    on_a = subscribed(a, "SSUBSCRIBE", channel)
    on_d = subscribed(d, "SSUBSCRIBE", channel)    # a replica serves its master's slots
    try:
        assert RawClient(b).call("SSUBSCRIBE", channel) == ("-", "MOVED %d 127.0.0.1:%d"
                                                            % (slot, a))
        assert RawClient(c).call("SPUBLISH", channel, "x") == ("-", "MOVED %d 127.0.0.1:%d"
                                                               % (slot, a))
        before = [publishshard_received(port) for port in (b, c)]
        assert value(a, "SPUBLISH", channel, "one") == 1
        assert value(d, "SPUBLISH", channel, "two") == 1      # from the replica
        for sub in (on_a, on_d):
            # Local delivery may overtake the bus: the two come in either order.
            got = sorted(message_of(next_push(sub)) for _ in range(2))
            assert got == [[b"smessage", channel.encode(), b"one"],
                           [b"smessage", channel.encode(), b"two"]]
        assert publishshard_received(d) >= 1
        assert [publishshard_received(port) for port in (b, c)] == before
        assert value(a, "PUBSUB", "SHARDNUMSUB", channel) == [("$", channel.encode()),
                                                              (":", 1)]
        assert value(b, "PUBSUB", "SHARDNUMSUB", channel) == [("$", channel.encode()),
                                                              (":", 0)]
    finally:
        on_a.close()
        on_d.close()


def test_redis_py_cluster_sharded_pubsub(cluster):
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", cluster.ports[1])],
                      socket_timeout=10)
    p = rc.pubsub()
    try:
        channels = [channel_in(i, "rc") for i in range(3)]
        for channel in channels:
            p.ssubscribe(channel)
        confirmations = []
        deadline = time.monotonic() + 10
        while len(confirmations) < 3 and time.monotonic() < deadline:
            msg = p.get_sharded_message(timeout=0.1)
            if msg is not None:
                confirmations.append(msg)
        assert sorted(m["type"] for m in confirmations) == ["ssubscribe"] * 3
        for i, channel in enumerate(channels):
            assert rc.spublish(channel, "hello %d" % i) == 1
        got = {}
        while len(got) < 3 and time.monotonic() < deadline + 10:
            msg = p.get_sharded_message(ignore_subscribe_messages=True, timeout=0.1)
            if msg is not None:
                got[msg["channel"].decode()] = msg["data"]
        assert got == {channel: b"hello %d" % i for i, channel in enumerate(channels)}
    finally:
        p.close()
        rc.close()


def _move_slot(cluster, slot, source, target):
    """Hand `slot` (without keys) from one master to another as redis-cli does:
    IMPORTING, MIGRATING, then NODE on the target (epoch bump) and on the source."""
    source_id, target_id = node_id(source), node_id(target)
    assert value(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id) == "OK"
    assert value(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id) == "OK"
    assert value(target, "CLUSTER", "SETSLOT", slot, "NODE", target_id) == "OK"
    assert value(source, "CLUSTER", "SETSLOT", slot, "NODE", target_id) == "OK"
    cluster.wait_agree(timeout=30)


def test_sunsubscribe_when_the_slot_moves_away(cluster):
    a, b, _, d = cluster.ports
    channel = channel_in(0, "moving")
    other = channel_in(0, "staying")
    slot = key_hash_slot(channel.encode())
    assert key_hash_slot(other.encode()) != slot
    on_a = subscribed(a, "SSUBSCRIBE", channel)
    on_a.call("SSUBSCRIBE", other)
    on_d = subscribed(d, "SSUBSCRIBE", channel)
    try:
        _move_slot(cluster, slot, a, b)
        # The old master and its replica tell their subscribers; the other channel stays.
        assert message_of(next_push(on_a)) == [b"sunsubscribe", channel.encode(), 1]
        assert message_of(next_push(on_d)) == [b"sunsubscribe", channel.encode(), 0]
        assert on_d.call("PING") == ("+", "PONG")               # out of subscribed mode
        assert on_a.call("PING") == ("*", [("$", b"pong"), ("$", b"")])   # still in it
        assert value(a, "PUBSUB", "SHARDCHANNELS") == [("$", other.encode())]
        assert RawClient(a).call("SSUBSCRIBE", channel) == \
            ("-", "MOVED %d 127.0.0.1:%d" % (slot, b))
        moved = subscribed(b, "SSUBSCRIBE", channel)
        try:
            assert value(b, "SPUBLISH", channel, "after") == 1
            assert message_of(next_push(moved)) == [b"smessage", channel.encode(), b"after"]
        finally:
            moved.close()
    finally:
        on_a.close()
        on_d.close()
        _move_slot(cluster, slot, b, a)
