"""CLUSTER SLOTS / SHARDS / NODES asked of a replica, next to the same asked of a
redis-server 7.0.15 replica: a client that refreshes its topology from a replica (redis-py
RedisCluster does, from any node it knows) must find that replica in its own shard."""
import pytest
from redis.cluster import RedisCluster

from tests.helpers import RawClient, own_all_slots, start_node, start_redis, wait_until

pytestmark = pytest.mark.timeout(90)


def _master_and_replica(kind):
    if kind == "ours":
        master, replica = start_node(), start_node(slots=False)
    else:
        master = start_redis(cluster=True)
        own_all_slots(master.port)
        replica = start_redis(cluster=True)
    procs = [master, replica]
    try:
        m, r = RawClient(master.port), RawClient(replica.port)
        r.call("CLUSTER", "MEET", "127.0.0.1", str(master.port))
        master_id = m.call("CLUSTER", "MYID")[1].decode()
        wait_until(lambda: master_id.encode() in r.call("CLUSTER", "NODES")[1], timeout=15,
                   message="the replica knows the master")
        assert r.call("CLUSTER", "REPLICATE", master_id) == ("+", "OK")
        wait_until(lambda: b"master_link_status:up" in r.call("INFO", "replication")[1],
                   timeout=20, message="replication link up")
        # A replica with offset 0 is left out by Redis too (isReplicaAvailable): write.
        m.call("SET", "k", "v")
        assert m.call("WAIT", "1", "5000") == (":", 1)
        replica_id = r.call("CLUSTER", "MYID")[1].decode()
        m.close()
        r.close()
        return procs, master_id, replica_id
    except BaseException:
        for proc in procs:
            proc.stop()
        raise


def _shape(port, master_id, replica_id):
    """The three replies with ids replaced by roles and addresses dropped."""
    client = RawClient(port)
    try:
        names = {master_id.encode(): "M", replica_id.encode(): "R"}
        # Gossip may take a moment to tell the master the replica's offset.
        wait_until(lambda: len(client.call("CLUSTER", "SLOTS")[1][0][1]) == 4, timeout=15,
                   message="the replica in CLUSTER SLOTS of %d" % port)
        slots = [[start[1], end[1]] + [names[node[1][2][1]] for node in nodes]
                 for start, end, *nodes in (e[1] for e in client.call("CLUSTER", "SLOTS")[1])]
        shards = []
        for shard in client.call("CLUSTER", "SHARDS")[1]:
            fields = dict(zip(shard[1][::2], shard[1][1::2]))
            members = []
            for node in fields[("$", b"nodes")][1]:
                info = {k[1]: v[1] for k, v in zip(node[1][::2], node[1][1::2])}
                members.append((names[info[b"id"]], info[b"role"], info[b"health"]))
            shards.append(([s[1] for s in fields[("$", b"slots")][1]], members))
        nodes = sorted((names[line.split()[0].encode()],
                        line.split()[2].replace("myself,", ""),
                        "myself" in line.split()[2])
                       for line in client.call("CLUSTER", "NODES")[1].decode().splitlines())
        return slots, shards, nodes
    finally:
        client.close()


@pytest.mark.parametrize("kind", ["ours", "redis"])
def test_replica_lists_itself_in_its_shard(kind):
    """The same masked shapes asserted for our nodes and for redis-server's."""
    procs, master_id, replica_id = _master_and_replica(kind)
    try:
        master, replica = procs
        shapes = {role: _shape(proc.port, master_id, replica_id)
                  for role, proc in (("master", master), ("replica", replica))}
        slots, shards, nodes = shapes["replica"]
        assert slots == [[0, 16383, "M", "R"]]
        assert shards == [([0, 16383], [("M", b"master", b"online"),
                                        ("R", b"replica", b"online")])]
        assert nodes == [("M", "master", False), ("R", "slave", True)]
        # The master says the same, but for which node is myself.
        m_slots, m_shards, m_nodes = shapes["master"]
        assert (m_slots, m_shards) == (slots, shards)
        assert m_nodes == [("M", "master", True), ("R", "slave", False)]

        # redis-py started from the replica alone finds the whole shard and works.
        rc = RedisCluster(host="127.0.0.1", port=replica.port, socket_timeout=5)
        try:
            ports = sorted(node.port for node in rc.get_nodes())
            assert ports == sorted([master.port, replica.port])
            rc.set("from-replica", "1")
            assert rc.get("from-replica") == b"1"
            rc.nodes_manager.initialize()          # a refresh, from the replica again
            assert rc.get("from-replica") == b"1"
        finally:
            rc.close()
    finally:
        for proc in procs:
            proc.stop()

