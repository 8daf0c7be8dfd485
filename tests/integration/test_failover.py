"""Failover with real processes (Redis's tests/cluster 02, 05, 07, 08, 10, 11 as ideas).

3 masters + 3 replicas from `redis-cli --cluster create --cluster-replicas 1`, node
timeout 1000 ms. Faults: kill -9, SIGSTOP/SIGCONT, and DEBUG CLUSTER-ISOLATE (a partition
inside the nodes: no netem, no root). Writers are RedisCluster clients in a thread,
bounded in operations and time; a write counts as acknowledged when WAIT 1 said a replica
has it (or, for a manual failover, when SET replied +OK: the master pauses writes and the
replica catches up before it takes over). Every wait polls with a deadline; every process
is killed by pid at the end (SIGCONT first).
"""
import signal
import time

import pytest

from cluster.slots import key_hash_slot
from tests.helpers import REDIS_LOG_LINE, RawClient, wait_until
from tests.integration.cluster_helpers import restart_node
from tests.integration.replica_helpers import (
    ReplicaCluster, Writer, call, cluster_info, keys_in, link_up, missing, myself, promoted,
    repl_info, shards, topology, wait_cluster_ok, wait_shards)

NODE_TIMEOUT = 1000
pytestmark = pytest.mark.timeout(120)


def build(n=6, node_timeout=NODE_TIMEOUT, extra=()):
    cl = ReplicaCluster(n, node_timeout=node_timeout, extra=extra)
    try:
        out = cl.create(replicas=1).stdout
        assert "[OK] All 16384 slots covered." in out, out
        ports = cl.ports
        wait_until(lambda: len(shards(ports[0])) == 3 and
                   all(len(r) == 1 for r in shards(ports[0]).values()),
                   timeout=20, interval=0.1, message="3 masters with one replica each")
        layout = shards(ports[0])
        wait_shards(ports, layout)
        for master, (replica,) in layout.items():
            wait_until(lambda: link_up(replica, master), timeout=15, interval=0.05,
                       message="master_link_status:up on %d" % replica)
        return cl, layout
    except BaseException:
        cl.stop()
        raise


@pytest.fixture
def cluster():
    """cluster(**kw) -> (ReplicaCluster, {master port: [replica port]}); logs stay in
    each node's folder, printed here so a failure report names them."""
    made = []

    def make(**kw):
        cl, layout = build(**kw)
        made.append(cl)
        print("node folders:", {p.port: p.cwd for p in cl.procs})
        return cl, layout
    yield make
    for cl in made:
        cl.stop()


def slots_of(port, node_port) -> set:
    return next(n["slots"] for n in topology(port).values() if n["port"] == node_port)


def master_of(port) -> int:
    """The client port of `port`'s master, from its own CLUSTER NODES (0: it is a master)."""
    me = myself(port)
    if me["role"] == "master":
        return 0
    view = topology(port)
    return view[me["master"]]["port"] if me["master"] in view else -1


def wait_replica_of(ports, node_port, master_port, timeout=20.0):
    """Every node in `ports` sees `node_port` as a replica of `master_port`, and the
    node's replication link to it is up."""
    def ok():
        for p in ports:
            view = topology(p)
            node = next(n for n in view.values() if n["port"] == node_port)
            if node["role"] != "slave" or view.get(node["master"], {}).get("port") != master_port:
                return False
        return link_up(node_port, master_port)
    wait_until(ok, timeout=timeout, interval=0.1,
               message="%d to be a replica of %d everywhere, link up" % (node_port, master_port))


# ---------------------------------------------------------------- automatic failover

def test_kill_master_under_writes_promotes_replica_no_acked_write_lost(cluster):
    cl, layout = cluster()
    victim, replica = next(iter(sorted(layout.items())))
    replica = replica[0]
    survivors = [p for p in cl.ports if p != victim]
    victim_slots = slots_of(cl.ports[0], victim)

    writer = Writer(survivors[0], wait_ms=200, max_seconds=60)
    writer.start()
    try:
        wait_until(lambda: writer.acked_in(victim_slots) >= 50 and len(writer.acked) >= 150,
                   timeout=20, interval=0.05, message="acknowledged writes before the kill")
        acked_on_victim = writer.acked_in(victim_slots)
        cl.by_port(victim).signal(signal.SIGKILL)
        killed_at = time.monotonic()
        cl.by_port(victim).proc.wait(5)

        budget = 2 * NODE_TIMEOUT / 1000 + 2
        wait_until(lambda: promoted(survivors, replica, victim_slots), timeout=budget,
                   interval=0.05, message="replica %d promoted with the slots" % replica)
        wait_cluster_ok(survivors, timeout=max(0.1, budget - (time.monotonic() - killed_at)))
        recovered_at = time.monotonic()
        assert recovered_at - killed_at <= budget
        # The client resumes: writes succeed again, in the failed-over slots too (WAIT
        # now times out there: the new master has no replica).
        try:
            wait_until(lambda: writer.oks_since(recovered_at) >= 30 and
                       writer.oks_since(recovered_at, victim_slots) >= 3, timeout=15,
                       interval=0.05, message="the writer to resume")
        except AssertionError as exc:
            raise AssertionError("%s; writer errors: %r" % (exc, writer.errors[-5:]))
    finally:
        writer.finish()
    assert acked_on_victim >= 50
    lost = missing(survivors[0], writer.acked)
    assert lost == [], "%d of %d acknowledged writes lost: %r" % (
        len(lost), len(writer.acked), lost[:10])
    info = cluster_info(replica)
    assert info["cluster_state"] == "ok" and repl_info(replica)["role"] == "master"
    assert_failover_logged_as_redis(cl, survivors, replica)


def assert_failover_logged_as_redis(cl, survivors, winner):
    """The survivors' logs are Redis's lines; the winner logs Redis's election lines as
    a replica (S) and is a master (M) after; a master marks the victim as failing."""
    said = {}
    for port in survivors:
        with open(cl.by_port(port).log_path, errors="replace") as f:
            lines = f.read().splitlines()
        parsed = [REDIS_LOG_LINE.match(line) for line in lines]
        assert all(parsed), [line for line, p in zip(lines, parsed) if not p][:5]
        said[port] = [(p.group(2), p.group(4), p.group(5)) for p in parsed]
    texts = [(role, char, text.split(" for ")[0].split(" set to ")[0])
             for role, char, text in said[winner]]
    for expected in (("S", "#", "Start of election delayed"),
                     ("S", "#", "Starting a failover election"),
                     ("S", "#", "Failover election won: I'm the new master.")):
        assert expected in texts, (expected, said[winner][-20:])
    # As in Redis, the epoch is taken while still a replica; then the role turns M.
    assert any(role == "S" and text.startswith("configEpoch set to ") and
               text.endswith(" after successful failover")
               for role, _, text in said[winner]), said[winner][-20:]
    assert ("M", "*", "MASTER MODE enabled") in said[winner]
    assert any(char == "*" and (text.startswith("Marking node ") and
                                text.endswith(" as failing (quorum reached).") or
                                text.startswith("FAIL message received from "))
               for port in survivors for _, char, text in said[port])


def test_paused_master_comes_back_as_replica_of_the_promoted_node(cluster):
    cl, layout = cluster()
    victim, (replica,) = sorted(layout.items())[1]
    survivors = [p for p in cl.ports if p != victim]
    victim_slots = slots_of(cl.ports[0], victim)
    keys = keys_in(victim_slots, "p", 100)
    c = RawClient(victim)
    try:
        for k in keys:
            assert c.call("SET", k, k) == ("+", "OK")
        assert c.call("WAIT", 1, 2000) == (":", 1)
    finally:
        c.close()

    proc = cl.by_port(victim)
    proc.signal(signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        wait_until(lambda: promoted(survivors, replica, victim_slots),
                   timeout=2 * NODE_TIMEOUT / 1000 + 4, interval=0.05,
                   message="replica %d promoted" % replica)
        wait_cluster_ok(survivors, timeout=5)
        assert time.monotonic() - stopped_at > NODE_TIMEOUT / 1000
    finally:
        proc.signal(signal.SIGCONT)
    # The old master learns from the new one's higher configEpoch that it lost its slots
    # and follows it, resyncing its data.
    wait_replica_of(cl.ports, victim, replica)
    wait_cluster_ok(cl.ports, timeout=10)
    assert repl_info(victim)["role"] == "slave"
    c = RawClient(victim)
    try:
        assert c.call("READONLY") == ("+", "OK")
        assert [c.call("GET", k) for k in keys] == [("$", k.encode()) for k in keys]
        kind, msg = c.call("SET", keys[0], "x")
        assert kind == "-" and msg == "MOVED %d 127.0.0.1:%d" % (
            key_hash_slot(keys[0].encode()), replica)
    finally:
        c.close()


def isolate(cl, node_port, on):
    """Cut `node_port` off the cluster bus (both ways) with DEBUG CLUSTER-ISOLATE; client
    ports, and so replication links, stay open."""
    ids = {p: myself(p)["id"] for p in cl.ports}
    for p in cl.ports:
        if p == node_port:
            for other, oid in ids.items():
                if other != node_port:
                    assert call(p, "DEBUG", "CLUSTER-ISOLATE", oid, int(on)) == ("+", "OK")
        else:
            assert call(p, "DEBUG", "CLUSTER-ISOLATE", ids[node_port], int(on)) == ("+", "OK")


def test_minority_master_refuses_writes_after_node_timeout_then_rejoins(cluster):
    cl, layout = cluster()
    victim, (replica,) = sorted(layout.items())[2]
    majority = [p for p in cl.ports if p != victim]
    victim_slots = slots_of(cl.ports[0], victim)
    keys = keys_in(victim_slots, "m", 4000)
    replies = []                        # (monotonic time, key, reply kind, message)
    client = RawClient(victim, timeout=5)

    def write(i):
        kind, msg = client.call("SET", keys[i], keys[i])
        replies.append((time.monotonic(), keys[i], kind, msg))
        return kind, msg

    try:
        for i in range(20):
            assert write(i) == ("+", "OK")
        isolate(cl, victim, True)
        isolated_at = time.monotonic()
        # A raw client keeps writing to the isolated master until it says CLUSTERDOWN.
        i = 20
        while i < len(keys) and time.monotonic() - isolated_at < 4 * NODE_TIMEOUT / 1000 + 2:
            if write(i)[0] == "-":
                break
            i += 1
            time.sleep(0.005)
        kind, msg = replies[-1][2:]
        assert (kind, msg) == ("-", "CLUSTERDOWN The cluster is down"), replies[-1]
        refused_at = replies[-1][0]
        # Redis's rule: the minority master stops taking writes once it has seen the
        # majority unreachable for node_timeout (PFAIL after a pending ping; a ping goes
        # out at most node_timeout/2 after the last pong, and the state is re-checked
        # by the 100 ms cron).
        assert refused_at - isolated_at <= 1.5 * NODE_TIMEOUT / 1000 + 0.5, \
            refused_at - isolated_at
        assert cluster_info(victim)["cluster_state"] == "fail"

        # The majority fails it over to its replica, and keeps serving.
        wait_until(lambda: promoted(majority, replica, victim_slots),
                   timeout=2 * NODE_TIMEOUT / 1000 + 4, interval=0.05,
                   message="replica %d promoted on the majority side" % replica)
        promoted_at = time.monotonic()
        wait_cluster_ok(majority, timeout=5)
        # Meanwhile the minority master accepted nothing more (no flapping back to ok).
        for j in range(i + 1, i + 21):
            assert write(j)[0:2] == ("-", "CLUSTERDOWN The cluster is down")
        accepted_late = [r for r in replies if r[2] == "+" and r[0] >= refused_at]
        assert accepted_late == []
        assert all(r[0] < promoted_at for r in replies if r[2] == "+")
        accepted = [r[1] for r in replies if r[2] == "+"]
    finally:
        client.close()

    isolate(cl, victim, False)
    # The old master learns the new configuration and follows the promoted replica.
    wait_replica_of(cl.ports, victim, replica)
    wait_cluster_ok(cl.ports, timeout=10)
    # What it accepted before the cut reached the replica over the replication link
    # (client ports were not cut), so it is all there.
    assert missing(replica, {k: (k, 0) for k in accepted}) == []


# ---------------------------------------------------------------- manual failover

def test_manual_failover_under_writes_loses_no_write(cluster):
    cl, layout = cluster(node_timeout=2000)
    master, (replica,) = sorted(layout.items())[0]
    master_slots = slots_of(cl.ports[0], master)
    writer = Writer(cl.ports[2], prefix="mf", max_seconds=60)
    writer.start()
    try:
        wait_until(lambda: writer.acked_in(master_slots) >= 100, timeout=20, interval=0.05,
                   message="writes before the failover")
        assert call(replica, "CLUSTER", "FAILOVER") == ("+", "OK")
        asked_at = time.monotonic()
        wait_until(lambda: promoted(cl.ports, replica, master_slots), timeout=10,
                   interval=0.05, message="replica %d promoted" % replica)
        wait_replica_of(cl.ports, master, replica)
        done_at = time.monotonic()
        wait_until(lambda: writer.oks_since(done_at, master_slots) >= 50, timeout=15,
                   interval=0.05, message="writes to the new master")
    finally:
        writer.finish()
    assert done_at - asked_at < 10
    # Every write that got +OK, before, during and after: the paused master held writes
    # until the replica had its whole stream.
    lost = missing(cl.ports[1], writer.acked)
    assert lost == [], "%d of %d writes lost: %r" % (len(lost), len(writer.acked), lost[:10])
    wait_cluster_ok(cl.ports, timeout=5)


def test_manual_failover_force_with_master_paused(cluster):
    cl, layout = cluster()
    master, (replica,) = sorted(layout.items())[1]
    master_slots = slots_of(cl.ports[0], master)
    others = [p for p in cl.ports if p != master]
    # Only the manual failover may promote it: no automatic election racing it.
    assert call(replica, "CONFIG", "SET", "cluster-replica-no-failover", "yes") == ("+", "OK")
    proc = cl.by_port(master)
    proc.signal(signal.SIGSTOP)
    try:
        assert call(replica, "CLUSTER", "FAILOVER", "FORCE") == ("+", "OK")
        wait_until(lambda: promoted(others, replica, master_slots), timeout=10,
                   interval=0.05, message="forced failover to %d" % replica)
        wait_cluster_ok(others, timeout=2 * NODE_TIMEOUT / 1000 + 4)
    finally:
        proc.signal(signal.SIGCONT)
    wait_replica_of(cl.ports, master, replica)
    wait_cluster_ok(cl.ports, timeout=10)


def test_manual_failover_takeover_with_the_majority_of_masters_down(cluster, request):
    cl, layout = cluster()
    (m1, (r1,)), (m2, (r2,)), (m3, (r3,)) = sorted(layout.items())
    slots1, slots2 = slots_of(cl.ports[0], m1), slots_of(cl.ports[0], m2)
    for m in (m1, m2):
        cl.by_port(m).signal(signal.SIGKILL)
        cl.by_port(m).proc.wait(5)
    alive = [r1, r2, m3, r3]
    # Two of three masters gone: no election can reach a majority; the cluster is down.
    wait_until(lambda: all(cluster_info(p)["cluster_state"] == "fail" for p in alive),
               timeout=2 * NODE_TIMEOUT / 1000 + 4, interval=0.05, message="cluster down")
    for replica in (r1, r2):
        assert call(replica, "CLUSTER", "FAILOVER", "TAKEOVER") == ("+", "OK")
    wait_until(lambda: promoted(alive, r1, slots1) and promoted(alive, r2, slots2),
               timeout=10, interval=0.05, message="takeovers seen everywhere")
    wait_cluster_ok(alive, timeout=10)
    rc_keys = keys_in(slots1 | slots2, "t", 50)
    c1, c2 = RawClient(r1), RawClient(r2)
    try:
        for k in rc_keys:
            c = c1 if key_hash_slot(k.encode()) in slots1 else c2
            assert c.call("SET", k, "v") == ("+", "OK")
    finally:
        c1.close()
        c2.close()
    # The killed masters come back with their old config and become replicas of the nodes
    # that took their slots over.
    for m in (m1, m2):
        new = restart_node(cl.by_port(m), cl.procs, node_timeout=NODE_TIMEOUT)
        assert new.port == m
    wait_replica_of(cl.ports, m1, r1, timeout=20)
    wait_replica_of(cl.ports, m2, r2, timeout=20)
    wait_cluster_ok(cl.ports, timeout=10)


# ---------------------------------------------------------------- replica migration

def test_spare_replica_migrates_to_an_orphaned_master(cluster):
    cl, layout = cluster()
    (m1, (r1,)), (m2, (r2,)), (m3, _) = sorted(layout.items())
    # A seventh node: a second replica of m1.
    spare = cl.add_process().port
    m1_id = myself(m1)["id"]
    assert call(spare, "CLUSTER", "MEET", "127.0.0.1", m1) == ("+", "OK")
    wait_until(lambda: m1_id in topology(spare) and
               all(n["link"] == "connected" for n in topology(spare).values()),
               timeout=15, interval=0.05, message="the new node to join")
    assert call(spare, "CLUSTER", "REPLICATE", m1_id) == ("+", "OK")
    wait_shards(cl.ports, {m1: [r1, spare], m2: [r2], m3: layout[m3]})
    wait_until(lambda: link_up(spare, m1), timeout=15, interval=0.05,
               message="the spare replica's link up")

    # m2 loses its only replica: the replica of m1 with the smallest id moves to it,
    # after m2 stayed orphaned for 5 s; m1 keeps one (the migration barrier is 1).
    cl.by_port(r2).signal(signal.SIGKILL)
    killed_at = time.monotonic()
    cl.by_port(r2).proc.wait(5)
    mover = min((r1, spare), key=lambda p: myself(p)["id"])
    stays = r1 if mover == spare else spare
    alive = [p for p in cl.ports if p != r2]
    wait_replica_of(alive, mover, m2, timeout=20)
    moved_after = time.monotonic() - killed_at
    assert 5 <= moved_after <= 15, moved_after
    assert master_of(stays) == m1 and link_up(stays, m1)
    view = shards(m3)           # r2 stays listed, flagged fail, until someone forgets it
    assert view[m1] == [stays] and sorted(view[m2]) == sorted([mover, r2])
    assert "fail" in next(n for n in topology(m3).values() if n["port"] == r2)["flags"]
