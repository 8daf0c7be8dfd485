"""A mixed cluster: three redis-server 7.0 nodes and three of ours, every replica of the
other kind than its master.

    shard   master        replica
    A       ours (M1)     redis  (R1)
    B       redis (M2)    ours   (R2)
    C       ours (M3)     redis  (R3)

It forms with MEET sent by either kind (and gossip telling each node of the others it
was not introduced to); each replica full-syncs from a master of the other kind (an RDB
across implementations; the cluster is built in mixed_helpers.py); then the tests resync, kill masters (and bring them back),
fail over by hand, send UPDATEs, forget a node, publish, check with redis-cli and move
slots, each across the two kinds. Node timeout 1000 ms; every wait polls with a
deadline; every process is killed by pid at the end.
"""
import shutil
import signal
import time

import pytest
import redis

from tests.helpers import RawClient, start_node, start_redis, wait_until
from tests.integration import mixed_helpers
from tests.integration.cluster_helpers import knows_all, my_id, wait_flag_everywhere
from tests.integration.cluster_util import redis_cli
from tests.integration.mixed_helpers import NODE_TIMEOUT, form, slots_of, voted_for
from tests.integration.replica_helpers import (
    Writer, call, cluster_info, keys_in, link_up, missing, promoted, topology,
    value, wait_cluster_ok)

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="needs redis-server")]

unformed = mixed_helpers.unformed      # the fixtures, shared with test_mixed_cluster_ops.py
mixed = mixed_helpers.mixed


def test_forms_and_replicates_across_kinds(mixed):
    ids = [my_id(p) for p in mixed.ports]
    pairs = [(my_id(replica.port), my_id(master.port))
             for master, replica in zip(mixed.masters, mixed.replicas)]

    def everyone_sees_the_pairs():
        # A replica's new role reaches the others in its next bus header, so a node
        # that has not heard from it since CLUSTER REPLICATE may still list it master.
        return all(knows_all(port, ids) and
                   all(topology(port)[replica]["master"] == master for replica, master in pairs)
                   for port in mixed.ports)
    wait_until(everyone_sees_the_pairs, timeout=10, interval=0.1,
               message="all six to know all and list each replica under its master")
    # The full sync crossed implementations both ways: each master counted one.
    for master in mixed.masters:
        assert stat(master.port, "sync_full") == 1
    # Once a replica has an offset (carried in every bus header, in either format), all
    # six list it in CLUSTER SLOTS, and all six give the same answer, in the same order.
    for index, master in enumerate(mixed.masters):
        assert value(master.port, "SET", keys_in(slots_of(index), "x", 1)[0], 1) == "OK"
        assert value(master.port, "WAIT", 1, 2000) == 1

    def cluster_slots():
        return [call(port, "CLUSTER", "SLOTS") for port in mixed.ports]
    wait_until(lambda: all(len(entry[1]) == 4 for entry in cluster_slots()[0][1]) and
               len({repr(reply[1]) for reply in cluster_slots()}) == 1,
               timeout=10, interval=0.1, message="CLUSTER SLOTS with replicas, the same on all")
    # CLUSTER SHARDS too (Redis lists shards and nodes in its dict's order: compared as sets).
    wait_until(lambda: len({repr(shards_as_set(port)) for port in mixed.ports}) == 1,
               timeout=10, interval=0.1, message="CLUSTER SHARDS the same on all six")


def shards_as_set(port):
    with redis.Redis(port=port, decode_responses=True) as client:
        reply = client.execute_command("CLUSTER", "SHARDS")
    return sorted((shard["slots"], sorted(sorted(node.items()) for node in shard["nodes"]))
                  for shard in reply)


def test_redis_cli_cluster_create_across_kinds(unformed):
    """redis-cli --cluster create gives the first three listed the slots and the others
    as replicas (which to which it shuffles when all are on one host); CLUSTER REPLICATE
    then pairs every master with a replica of the other kind."""
    out = redis_cli("--cluster", "create", *["127.0.0.1:%d" % p for p in unformed.ports_by_role],
                    "--cluster-replicas", 1, "--cluster-yes").stdout
    assert "[OK] All 16384 slots covered." in out, out
    mixed_helpers.pair_replicas(unformed)


def fill(port, slots, prefix):
    """Keys of every type we have, small and large encodings, some with a TTL, in `slots`
    (one hash tag, so a few commands build them)."""
    tag = "{%s}" % keys_in(slots, prefix, 1)[0]
    client = RawClient(port)
    try:
        replies = client.pipeline([
            ["SET", tag + "str", "v"], ["SET", tag + "int", 12345],
            ["SET", tag + "ttl", "x", "PX", 600000], ["SET", tag + "big", "z" * 100000],
            ["HSET", tag + "hash", "a", 1, "b", 2],
            ["HSET", tag + "bighash", *[str(i) for i in range(400)]],
            ["RPUSH", tag + "list", "a", "b", 1], ["RPUSH", tag + "biglist", *range(1000)],
            ["SADD", tag + "intset", 1, 2, 3], ["SADD", tag + "set", "a", "b"],
            ["SADD", tag + "bigset", *range(1000)],
            ["ZADD", tag + "zset", 1, "a", 2.5, "b"],
            ["ZADD", tag + "bigzset", *[x for i in range(300) for x in (i / 3, "m%d" % i)]],
            ["PEXPIRE", tag + "hash", 600000]])
        assert all(r[0] != "-" for r in replies), replies
        return [tag + suffix for suffix in ("str", "int", "ttl", "big", "hash", "bighash",
                                            "list", "biglist", "intset", "set", "bigset",
                                            "zset", "bigzset")]
    finally:
        client.close()


def contents(port, keys) -> dict:
    """Every key's type, value and (to the minute) TTL, read as a client sees them."""
    reads = {"string": lambda key: ["GET", key], "hash": lambda key: ["HGETALL", key],
             "list": lambda key: ["LRANGE", key, 0, -1], "set": lambda key: ["SMEMBERS", key],
             "zset": lambda key: ["ZRANGE", key, 0, -1, "WITHSCORES"]}
    client = RawClient(port)
    try:
        client.call("READONLY")
        out = {}
        for key in keys:
            kind = client.call("TYPE", key)[1]
            got = client.call(*reads[kind](key))[1]
            if kind in ("hash", "set"):
                got = sorted(x[1] for x in got)
            elif kind in ("list", "zset"):
                got = [x[1] for x in got]
            out[key] = (kind, got, client.call("PTTL", key)[1] // 60000)
        return out
    finally:
        client.close()


def test_full_sync_carries_every_type_across_kinds(unformed):
    """Data written before CLUSTER REPLICATE reaches the replica of the other kind in
    the RDB of the full sync, then the same again through the stream."""
    keys = {}

    def write():
        wait_cluster_ok(unformed.ports, timeout=10)
        for index, master in enumerate(unformed.masters[:2]):
            keys[master.port] = fill(master.port, slots_of(index), "rdb")
    form(unformed, before_replicate=write)
    for index, (master, replica) in enumerate(zip(unformed.masters[:2], unformed.replicas[:2])):
        expected = contents(master.port, keys[master.port])
        assert contents(replica.port, keys[master.port]) == expected
        stream_keys = fill(master.port, slots_of(index), "stream")
        assert value(master.port, "WAIT", 1, 2000) == 1
        assert contents(replica.port, stream_keys) == contents(master.port, stream_keys)


def stat(port, name) -> int:
    text = value(port, "INFO", "stats").decode()
    return int(dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)[name])


def test_partial_resync_across_kinds(mixed):
    """A master drops its replica's link; the replica comes back with PSYNC and gets only
    what it missed: redis-server from our master, ours from redis-server's."""
    for index, (master, replica) in enumerate(zip(mixed.masters[:2], mixed.replicas[:2])):
        key = keys_in(slots_of(index), "psync", 1)[0]
        assert value(master.port, "SET", key, "before") == "OK"
        assert value(master.port, "WAIT", 1, 2000) == 1
        assert value(master.port, "CLIENT", "KILL", "TYPE", "replica") == 1
        assert value(master.port, "SET", key, "after") == "OK"
        wait_until(lambda: link_up(replica.port, master.port), timeout=10, interval=0.05,
                   message="%d to reconnect" % replica.port)
        assert value(master.port, "WAIT", 1, 2000) == 1
        assert stat(master.port, "sync_partial_ok") == 1
        assert stat(master.port, "sync_full") == 1
        client = RawClient(replica.port)
        try:
            client.call("READONLY")
            assert client.call("GET", key) == ("$", b"after")
        finally:
            client.close()


def kill_master_under_writes(mixed, index):
    """kill -9 the master of shard `index` while a writer waits for WAIT 1 on every
    write; its replica (of the other kind) must be promoted by the votes of the two other
    masters (one of each kind), and no acknowledged write may be lost."""
    victim, replica = mixed.masters[index], mixed.replicas[index]
    survivors = [p for p in mixed.ports if p != victim.port]
    writer = Writer(survivors[0], wait_ms=300, max_seconds=40)
    writer.start()
    try:
        wait_until(lambda: writer.acked_in(slots_of(index)) >= 30 and len(writer.acked) >= 90,
                   timeout=20, interval=0.05, message="acknowledged writes before the kill")
        victim.signal(signal.SIGKILL)
        victim.proc.wait(5)
        killed_at = time.monotonic()
        wait_until(lambda: promoted(survivors, replica.port, slots_of(index)), timeout=10,
                   interval=0.05, message="%d promoted with the slots" % replica.port)
        wait_cluster_ok(survivors, timeout=10)
        print("failover took %.2fs" % (time.monotonic() - killed_at))
        recovered_at = time.monotonic()
        wait_until(lambda: writer.oks_since(recovered_at, slots_of(index)) >= 3,
                   timeout=15, interval=0.05, message="the writer to resume on the shard")
    finally:
        writer.finish()
    assert missing(survivors[0], writer.acked) == []
    return victim, replica, survivors


def updates(port, direction) -> int:
    return int(cluster_info(port).get("cluster_stats_messages_update_%s" % direction, 0))


def test_kill_our_master_promotes_the_real_replica(mixed):
    victim, replica, survivors = kill_master_under_writes(mixed, 0)
    winner = my_id(replica.port)
    assert voted_for(mixed.masters[1], winner) and voted_for(mixed.masters[2], winner)
    # Our old master comes back claiming its slots with an older epoch: the new owner's
    # heartbeats or an UPDATE make it a replica of its former replica.
    restart = start_node("--cluster-node-timeout", str(NODE_TIMEOUT), port=victim.port,
                         cwd=victim.cwd, wait=False, slots=False)
    mixed.procs.append(restart)
    restart.wait_ready(timeout=30)
    wait_until(lambda: link_up(victim.port, replica.port), timeout=20, interval=0.1,
               message="the old master to follow the new one")
    wait_cluster_ok(mixed.ports, timeout=10)


def test_kill_real_master_promotes_our_replica(mixed):
    # First shard C's redis-server replica takes over from our master, so the voters
    # left when shard B's master dies are one of each kind.
    m3, r3 = mixed.masters[2], mixed.replicas[2]
    assert value(r3.port, "CLUSTER", "FAILOVER") == "OK"
    wait_until(lambda: promoted(mixed.ports, r3.port, slots_of(2)) and link_up(m3.port, r3.port),
               timeout=10, interval=0.05, message="%d to take over shard C" % r3.port)
    mixed.masters[2], mixed.replicas[2] = r3, m3

    victim, replica, survivors = kill_master_under_writes(mixed, 1)
    winner = my_id(replica.port)
    assert voted_for(mixed.masters[0], winner) and voted_for(r3, winner)
    # The real old master comes back: an UPDATE makes it a replica of ours.
    restart = start_redis("--cluster-node-timeout", str(NODE_TIMEOUT), "--dir", victim.cwd,
                          "--cluster-config-file", victim.cwd + "/nodes.conf",
                          port=victim.port, cluster=True)
    mixed.procs.append(restart)
    wait_until(lambda: link_up(victim.port, replica.port), timeout=20, interval=0.1,
               message="the old master to follow the new one")


def isolate(port, node_ids, on):
    for node_id in node_ids:
        assert value(port, "DEBUG", "CLUSTER-ISOLATE", node_id, int(on)) == "OK"


def form_with_greatest_epoch_on(cl, index):
    """form(), with replica `index` first taking the greatest configEpoch while it is
    still an empty master, every node recording it: what the epoch collisions of the
    formation leave now and then, made certain (CLUSTER BUMPEPOCH, again if a collision
    still being resolved overtakes it)."""
    replica = cl.replicas[index]
    replica_id = my_id(replica.port)

    def greatest(port) -> bool:
        epochs = [n["config_epoch"] for n in topology(port).values()]
        mine = topology(port)[replica_id]["config_epoch"]
        return mine == max(epochs) and epochs.count(mine) == 1

    def holds_greatest_everywhere() -> bool:
        if all(greatest(p) for p in cl.ports):
            return True
        if not greatest(replica.port):
            value(replica.port, "CLUSTER", "BUMPEPOCH")
        return False

    form(cl, before_replicate=lambda: wait_until(
        holds_greatest_everywhere, timeout=10, interval=0.1,
        message="every node to record the greatest epoch for %d" % replica.port))
    return cl


def takeover_with_a_new_epoch(owner, masters):
    """CLUSTER FAILOVER TAKEOVER on `owner`, making sure it takes a new configEpoch.

    TAKEOVER takes a new epoch only if the replica's own is not already the greatest it
    knows (clusterBumpConfigEpochWithoutConsensus, the same rule in both kinds). A replica
    was an empty master while the cluster formed, and epoch collisions may have left it
    the greatest epoch, which the other nodes recorded for it then. Its TAKEOVER would
    keep that epoch, the UPDATE about it would carry an epoch the stale master already has
    for it, and an UPDATE that brings nothing newer is ignored (by Redis and by us): the
    stale master, which hears nothing from the owner, would stay stale. This made the
    UPDATE tests fail about 1 run in 14; form_with_greatest_epoch_on now sets that case up
    every time. So one of `masters` first takes a greater epoch (CLUSTER BUMPEPOCH; one
    that holds the greatest already says STILL), and the owner hears of it."""
    for master in masters:
        reply = value(master.port, "CLUSTER", "BUMPEPOCH")
        if reply.startswith("BUMPED"):
            break
    else:
        raise AssertionError("no master took a new epoch: %s" % reply)
    bumped = int(reply.split()[1])
    wait_until(lambda: int(cluster_info(owner.port)["cluster_current_epoch"]) >= bumped,
               timeout=10, interval=0.05, message="the owner to hear of epoch %d" % bumped)
    bumps = owner.output().count("New configEpoch set to")      # both kinds log Redis's text
    assert value(owner.port, "CLUSTER", "FAILOVER", "TAKEOVER") == "OK"
    wait_until(lambda: owner.output().count("New configEpoch set to") > bumps, timeout=5,
               interval=0.05, message="the owner to log its new epoch")


def test_redis_servers_update_our_stale_master(unformed):
    """Our master hears nothing from its replica (redis-server) nor from our other nodes
    (DEBUG CLUSTER-ISOLATE on it); the replica takes the slots over (TAKEOVER). Only
    the redis-servers' UPDATE can tell it; it makes it a replica of the new owner."""
    mixed = form_with_greatest_epoch_on(unformed, 0)
    stale, owner = mixed.masters[0], mixed.replicas[0]
    ours = [mixed.masters[2], mixed.replicas[1]]
    isolate(stale.port, [my_id(p.port) for p in [owner, *ours]], True)
    takeover_with_a_new_epoch(owner, mixed.masters[1:])
    wait_until(lambda: link_up(stale.port, owner.port), timeout=10, interval=0.05,
               message="the stale master to follow the new owner")
    assert updates(stale.port, "received") >= 1
    isolate(stale.port, [my_id(p.port) for p in [owner, *ours]], False)
    wait_until(lambda: promoted(mixed.ports, owner.port, slots_of(0)), timeout=10,
               interval=0.05, message="every node to see the new owner")


def test_our_nodes_update_a_stale_redis_master(unformed):
    """The reverse: the redis-server master's other redis-server peers are gone, its
    replica (ours) isolates it and takes the slots over; our masters' UPDATE tell it."""
    mixed = form_with_greatest_epoch_on(unformed, 1)
    stale, owner = mixed.masters[1], mixed.replicas[1]
    for proc in (mixed.replicas[0], mixed.replicas[2]):        # the other redis-servers
        proc.signal(signal.SIGKILL)
        proc.proc.wait(5)
    isolate(owner.port, [my_id(stale.port)], True)
    takeover_with_a_new_epoch(owner, [mixed.masters[0], mixed.masters[2]])
    wait_until(lambda: link_up(stale.port, owner.port), timeout=10, interval=0.05,
               message="the stale master to follow the new owner")
    assert updates(stale.port, "received") >= 1
    assert updates(mixed.masters[0].port, "sent") + updates(mixed.masters[2].port, "sent") >= 1


def test_forget_across_kinds(mixed):
    """A dead replica is forgotten by all five others, in turn: the ones that have not
    forgotten it yet gossip about it, and the ban list of either kind keeps it out."""
    gone = mixed.replicas[2]
    gone_id = my_id(gone.port)
    gone.signal(signal.SIGKILL)
    gone.proc.wait(5)
    survivors = [p for p in mixed.ports if p != gone.port]
    for port in survivors:
        assert value(port, "CLUSTER", "FORGET", gone_id) == "OK"
        time.sleep(0.3)
    time.sleep(2 * NODE_TIMEOUT / 1000)
    for port in survivors:
        assert gone_id not in topology(port), port
    wait_cluster_ok(survivors, timeout=5)


def manual_failover(mixed, index):
    master, replica = mixed.masters[index], mixed.replicas[index]
    writer = Writer(mixed.ports[2], max_seconds=30)     # +OK acknowledges: MF pauses writes
    writer.start()
    try:
        wait_until(lambda: writer.acked_in(slots_of(index)) >= 30, timeout=20,
                   interval=0.05, message="writes before the failover")
        assert value(replica.port, "CLUSTER", "FAILOVER") == "OK"
        wait_until(lambda: promoted(mixed.ports, replica.port, slots_of(index)), timeout=10,
                   interval=0.05, message="%d promoted by CLUSTER FAILOVER" % replica.port)
        wait_until(lambda: link_up(master.port, replica.port), timeout=10, interval=0.05,
                   message="the old master %d to follow %d" % (master.port, replica.port))
        wait_cluster_ok(mixed.ports, timeout=10)
    finally:
        writer.finish()
    assert missing(mixed.ports[2], writer.acked) == []
    # The old master continued from where it was: PSYNC with the history the new master
    # inherited (its replid2), no full sync.
    assert (stat(replica.port, "sync_partial_ok"), stat(replica.port, "sync_full")) == (1, 0)


def test_manual_failover_of_a_real_replica_of_our_master(mixed):
    manual_failover(mixed, 0)


def test_manual_failover_of_our_replica_of_a_real_master(mixed):
    manual_failover(mixed, 1)


def test_publish_across_kinds(mixed):
    """PUBLISH from a replica reaches a subscriber on a node of the other kind in
    another shard, both ways."""
    for publisher, subscriber in ((mixed.replicas[1], mixed.replicas[2]),    # ours -> redis
                                  (mixed.replicas[0], mixed.masters[0])):    # redis -> ours
        sub = RawClient(subscriber.port)
        try:
            assert sub.call("SUBSCRIBE", "news")[1][0] == ("$", b"subscribe")
            assert value(publisher.port, "PUBLISH", "news", "from %d" % publisher.port) >= 0
            assert sub.read_reply()[1] == [("$", b"message"), ("$", b"news"),
                                           ("$", b"from %d" % publisher.port)]
        finally:
            sub.close()


def test_sharded_publish_reaches_replicas_of_the_other_kind(mixed):
    for index in (0, 1):
        master, replica = mixed.masters[index], mixed.replicas[index]
        channel = keys_in(slots_of(index), "ch", 1)[0]
        sub = RawClient(replica.port)
        try:
            reply = sub.call("SSUBSCRIBE", channel)
            assert reply[1][0] == ("$", b"ssubscribe"), reply
            assert value(master.port, "SPUBLISH", channel, "hi from %d" % master.port) >= 0
            assert sub.read_reply()[1] == [("$", b"smessage"), ("$", channel.encode()),
                                           ("$", b"hi from %d" % master.port)]
        finally:
            sub.close()


def keys_in_slots(port, slots) -> int:
    return sum(value(port, "CLUSTER", "COUNTKEYSINSLOT", slot) for slot in slots)


def test_redis_cli_check_and_reshard_across_kinds(mixed):
    ours, real = mixed.masters[0], mixed.masters[1]
    replica_of = dict(zip(mixed.masters, mixed.replicas))
    check = redis_cli("--cluster", "check", "127.0.0.1:%d" % real.port)
    assert "[OK] All 16384 slots covered." in check.stdout
    assert "[OK] All nodes agree about slots configuration." in check.stdout
    # Slots 0-9 (redis-cli moves a source's lowest slots) with keys in them go from ours
    # to redis-server, then back with more keys. The target's replica gets the keys (the
    # RESTOREs), the source's replica loses them (the DELs).
    moving, moved = range(10), 0
    for source, target in ((ours, real), (real, ours)):
        keys = keys_in(set(moving), "mv%d" % source.port, 50)
        for key in keys:
            assert value(source.port, "SET", key, key) == "OK"
        moved += len(keys)
        redis_cli("--cluster", "reshard", "127.0.0.1:%d" % source.port,
                  "--cluster-from", my_id(source.port), "--cluster-to", my_id(target.port),
                  "--cluster-slots", len(moving), "--cluster-yes")
        for key in keys:
            assert value(target.port, "GET", key) == key.encode()
            assert call(source.port, "GET", key)[1].startswith("MOVED")
        assert keys_in_slots(target.port, moving) == moved
        for master in (source, target):
            assert value(master.port, "WAIT", 1, 2000) == 1
        assert keys_in_slots(replica_of[target].port, moving) == moved
        assert keys_in_slots(replica_of[source].port, moving) == 0
    check = redis_cli("--cluster", "check", "127.0.0.1:%d" % ours.port)
    assert "[OK] All 16384 slots covered." in check.stdout
    assert "[OK] All nodes agree about slots configuration." in check.stdout


def owner_everywhere(ports, slot, node_id) -> bool:
    return all(any(n["id"] == node_id and slot in n["slots"] for n in topology(p).values())
               for p in ports)


def test_migrate_by_hand_with_ask_across_kinds(mixed):
    """CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE of half the keys, the -ASK
    redirection and ASKING in the middle, SETSLOT NODE on both ends: ours -> redis,
    then redis -> ours."""
    ours, real = mixed.masters[0], mixed.masters[1]
    for source, target, slot in ((ours, real, 100), (real, ours, 6000)):
        src_id, dst_id = my_id(source.port), my_id(target.port)
        keys = ["{%s}:%d" % (keys_in({slot}, "tag", 1)[0], i) for i in range(4)]
        for key in keys:
            assert value(source.port, "SET", key, key) == "OK"
        assert value(target.port, "CLUSTER", "SETSLOT", slot, "IMPORTING", src_id) == "OK"
        assert value(source.port, "CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id) == "OK"
        assert value(source.port, "MIGRATE", "127.0.0.1", target.port, "", 0, 5000,
                     "KEYS", *keys[:2]) == "OK"

        ask = "ASK %d 127.0.0.1:%d" % (slot, target.port)
        assert call(source.port, "GET", keys[0]) == ("-", ask)
        assert call(source.port, "GET", keys[2]) == ("$", keys[2].encode())
        assert call(target.port, "GET", keys[0]) == \
            ("-", "MOVED %d 127.0.0.1:%d" % (slot, source.port))
        client = RawClient(target.port)
        try:
            assert client.call("ASKING") == ("+", "OK")
            assert client.call("GET", keys[0]) == ("$", keys[0].encode())
        finally:
            client.close()

        assert value(source.port, "MIGRATE", "127.0.0.1", target.port, "", 0, 5000,
                     "KEYS", *keys[2:]) == "OK"
        assert value(target.port, "CLUSTER", "SETSLOT", slot, "NODE", dst_id) == "OK"
        assert value(source.port, "CLUSTER", "SETSLOT", slot, "NODE", dst_id) == "OK"
        wait_until(lambda: owner_everywhere(mixed.ports, slot, dst_id), timeout=10,
                   interval=0.05, message="every node to see slot %d on %d" % (slot, target.port))
        for key in keys:
            assert value(target.port, "GET", key) == key.encode()
    wait_cluster_ok(mixed.ports, timeout=10)


@pytest.mark.parametrize("option", ["FORCE", "TAKEOVER"])
def test_forced_failover_across_kinds(mixed, option):
    """CLUSTER FAILOVER FORCE (an election whose AUTH_REQUEST carries FORCEACK, so the
    masters vote with the old master alive) and TAKEOVER (no votes, a new epoch), by a
    redis-server replica of our master, then by our replica of a redis-server master."""
    for index in (0, 1):
        master, replica = mixed.masters[index], mixed.replicas[index]
        assert value(replica.port, "CLUSTER", "FAILOVER", option) == "OK"
        wait_until(lambda: promoted(mixed.ports, replica.port, slots_of(index)) and
                   link_up(master.port, replica.port), timeout=10, interval=0.05,
                   message="%d promoted by FAILOVER %s" % (replica.port, option))
        if option == "FORCE":       # all three masters, its own (alive) included
            winner = my_id(replica.port)
            wait_until(lambda: all(voted_for(p, winner) for p in mixed.masters), timeout=5,
                       interval=0.05, message="every master to log its vote")
        mixed.masters[index], mixed.replicas[index] = replica, master
    wait_cluster_ok(mixed.ports, timeout=10)


def test_failure_reports_and_fail_across_kinds(mixed):
    """A stopped replica of either kind: the masters' failure reports (gossip of both
    kinds) make it FAIL on all five others, and the flag clears when it answers again."""
    for replica in mixed.replicas[:2]:
        others = [p for p in mixed.ports if p != replica.port]
        node = my_id(replica.port)
        replica.signal(signal.SIGSTOP)
        try:
            wait_flag_everywhere(others, node, "fail", timeout=10)
        finally:
            replica.signal(signal.SIGCONT)
        wait_flag_everywhere(others, node, "fail", present=False, timeout=10)
    wait_cluster_ok(mixed.ports, timeout=10)


def test_sharded_subscribers_of_both_kinds_leave_with_the_slot(mixed):
    """When a shard's slot moves to another shard, its sharded subscribers, on the master
    and on the replica of the other kind, get -sunsubscribe for the slot's channels."""
    target = mixed.masters[2]
    for index in (0, 1):
        master, replica = mixed.masters[index], mixed.replicas[index]
        lowest = min(slots_of(index))
        channel = keys_in(set(range(lowest, lowest + 10)), "leaving", 1)[0]
        subscribers = [RawClient(p.port) for p in (master, replica)]
        try:
            for sub in subscribers:
                assert sub.call("SSUBSCRIBE", channel)[1][0] == ("$", b"ssubscribe")
            redis_cli("--cluster", "reshard", "127.0.0.1:%d" % master.port,
                      "--cluster-from", my_id(master.port), "--cluster-to", my_id(target.port),
                      "--cluster-slots", 10, "--cluster-yes")
            for sub in subscribers:
                assert sub.read_reply() == ("*", [("$", b"sunsubscribe"),
                                                  ("$", channel.encode()), (":", 0)])
        finally:
            for sub in subscribers:
                sub.close()
