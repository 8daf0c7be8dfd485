"""The real cluster toolchain against our nodes: redis-cli --cluster create / check / info /
call / reshard / rebalance / add-node / del-node / fix, redis-py RedisCluster, and
redis-benchmark --cluster.
"""
import re
import subprocess
import threading
import time

import pytest
from redis.cluster import RedisCluster
from redis.exceptions import ClusterCrossSlotError, RedisClusterException

from tests.helpers import RawClient, wait_until
from tests.integration.cluster_util import (Cluster, call, cluster_info, node_id, nodes_lines,
                                            redis_cli, value)

OK_AGREE = "[OK] All nodes agree about slots configuration."
OK_COVERED = "[OK] All 16384 slots covered."


def tags_for_slots(slots):
    """{slot: tag} with key_hash_slot(tag) == slot, for every slot in `slots`."""
    from cluster.slots import key_hash_slot
    wanted, found, i = set(slots), {}, 0
    while wanted:
        tag = b"t%d" % i
        s = key_hash_slot(tag)
        if s in wanted:
            found[s] = tag
            wanted.discard(s)
        i += 1
    return found


def assert_check_ok(port):
    out = redis_cli("--cluster", "check", "127.0.0.1:%d" % port).stdout
    assert OK_AGREE in out and OK_COVERED in out, out
    assert "[WARNING]" not in out and "[ERR]" not in out, out
    return out


def my_slot_count(port) -> int:
    line = next(ln for ln in nodes_lines(port) if "myself" in ln)
    count = 0
    for field in line.split()[8:]:
        if field.startswith("["):
            continue
        a, _, b = field.partition("-")
        count += int(b or a) - int(a) + 1
    return count


@pytest.fixture(scope="module")
def cluster3():
    cl = Cluster(3)
    try:
        out = cl.create()
        assert "[OK] All 16384 slots covered." in out.stdout
        yield cl
    finally:
        cl.stop()


def rc_for(port, **kw):
    return RedisCluster(host="127.0.0.1", port=port, decode_responses=True,
                        socket_timeout=10, **kw)


# ------------------------------------------------------------ create / check / info / call

def test_create_3_masters_check_info_call(cluster3):
    ports = cluster3.ports
    out = assert_check_ok(ports[1])
    assert out.count("M: ") == 3
    assert [my_slot_count(p) for p in ports] == [5461, 5462, 5461]
    rc = rc_for(ports[0])
    try:
        for i in range(30):
            rc.set("info:%d" % i, i)
    finally:
        rc.close()
    info = redis_cli("--cluster", "info", "127.0.0.1:%d" % ports[0]).stdout
    counts = [int(x) for x in re.findall(r"-> (\d+) keys \| \d+ slots \| 0 slaves", info)]
    assert len(counts) == 3 and sum(counts) >= 30, info
    assert "keys in 3 masters." in info
    out = redis_cli("--cluster", "call", "127.0.0.1:%d" % ports[0], "DBSIZE").stdout
    for p in ports:
        assert re.search(r"127\.0\.0\.1:%d: \d+" % p, out), out
    out = redis_cli("--cluster", "call", "127.0.0.1:%d" % ports[0], "CLUSTER", "MYID").stdout
    for p in ports:
        assert "127.0.0.1:%d: %s" % (p, node_id(p)) in out, out


def test_create_6_masters_and_check():
    cl = Cluster(6)
    try:
        cl.create()
        out = assert_check_ok(cl.ports[3])
        assert out.count("M: ") == 6
        assert sum(my_slot_count(p) for p in cl.ports) == 16384
        for p in cl.ports:
            info = cluster_info(p)
            assert info["cluster_known_nodes"] == "6" and info["cluster_size"] == "6"
    finally:
        cl.stop()


# ------------------------------------------------------------ redis-py RedisCluster

def test_redispy_bootstrap_pipeline_hashtags_crossslot(cluster3):
    ports = cluster3.ports
    rc = rc_for(ports[2])
    try:
        # Bootstrapped from CLUSTER SLOTS: three primaries, full coverage.
        assert sorted(n.port for n in rc.get_primaries()) == sorted(ports)
        assert len(rc.nodes_manager.slots_cache) == 16384
        for i in range(50):
            assert rc.set("py:%d" % i, i)
        assert [rc.get("py:%d" % i) for i in range(50)] == [str(i) for i in range(50)]
        # Keys spread over all three nodes.
        assert all(value(p, "DBSIZE") > 0 for p in ports)

        pipe = rc.pipeline()
        for i in range(100):
            pipe.set("pipe:%d" % i, i * 2)
        for i in range(100):
            pipe.get("pipe:%d" % i)
        res = pipe.execute()
        assert res[:100] == [True] * 100 and res[100:] == [str(i * 2) for i in range(100)]

        assert rc.mset({"{user1}:a": "1", "{user1}:b": "2", "{user1}:c": "3"})
        assert rc.mget("{user1}:a", "{user1}:b", "{user1}:c", "{user1}:nope") == \
            ["1", "2", "3", None]
        assert rc.delete("{user1}:a", "{user1}:b") == 2

        # redis-py refuses a cross-slot MSET itself...
        with pytest.raises(RedisClusterException):
            rc.mset({"a": "1", "b": "2"})
        # ...and raises ClusterCrossSlotError when the server says CROSSSLOT.
        node = rc.get_node_from_key("a")
        with pytest.raises(ClusterCrossSlotError):
            rc.execute_command("MGET", "a", "b", "c", "d", target_nodes=node)
        # Multi-key helpers that split by slot work across nodes.
        assert rc.mset_nonatomic({"x:%d" % i: i for i in range(20)})
        assert rc.mget_nonatomic(["x:%d" % i for i in range(20)]) == \
            [str(i) for i in range(20)]
    finally:
        rc.close()


# ------------------------------------------------------------ redis-benchmark --cluster

def test_redis_benchmark_cluster(cluster3):
    out = subprocess.run(["redis-benchmark", "--cluster", "-p", str(cluster3.ports[0]),
                          "-t", "set,get", "-n", "20000", "-c", "20", "-q"],
                         capture_output=True, text=True, timeout=120)
    text = (out.stdout + out.stderr).replace("\r", "\n")
    assert out.returncode == 0, text[-2000:]
    assert "Cluster has 3 master nodes" in text, text[-2000:]
    assert re.search(r"^SET: [\d.]+ requests per second", text, re.M), text[-2000:]
    assert re.search(r"^GET: [\d.]+ requests per second", text, re.M), text[-2000:]
    assert "rror" not in text, text[-2000:]


# ------------------------------------------------------------ reshard under load

class Writer(threading.Thread):
    """A RedisCluster client writing and reading back keys until stopped (bounded in
    operations and time). Records every exception it sees."""

    def __init__(self, port, keys, max_ops=100000, max_seconds=120):
        super().__init__(daemon=True)
        self.rc = rc_for(port)
        self.keys = keys
        self.max_ops = max_ops
        self.deadline = time.monotonic() + max_seconds
        self.stop_event = threading.Event()
        self.last = {}
        self.errors = []
        self.ops = 0

    def run(self):
        i = 0
        try:
            while not self.stop_event.is_set() and i < self.max_ops and \
                    time.monotonic() < self.deadline:
                key = self.keys[i % len(self.keys)]
                val = "v%d" % i
                try:
                    self.rc.set(key, val)
                    self.last[key] = val
                    got = self.rc.get(key)
                    if got != val:
                        self.errors.append("GET %s: %r, wanted %r" % (key, got, val))
                except Exception as exc:  # noqa: BLE001 - every error is a failure
                    self.errors.append("%s: %r" % (key, exc))
                i += 1
                self.ops = i
        finally:
            self.rc.close()


def test_reshard_1000_slots_under_load():
    cl = Cluster(3)
    writer = None
    try:
        cl.create()
        a, b, _ = cl.ports
        # redis-cli moves the source's lowest slots first: 0..999 of the first node.
        tags = tags_for_slots(range(0, 1000))
        pre = {b"{%s}pre" % tags[s]: b"p%d" % s for s in range(0, 1000, 3)}
        rc = rc_for(a)
        rc.mset_nonatomic(pre)
        rc.close()
        live = ["{%s}live" % tags[s].decode() for s in range(0, 1000, 2)] + \
            ["other:%d" % i for i in range(200)]
        writer = Writer(a, live)
        writer.start()
        wait_until(lambda: writer.ops >= 200, timeout=30, message="writer running")
        t0 = time.monotonic()
        out = redis_cli("--cluster", "reshard", "127.0.0.1:%d" % a, "--cluster-from",
                        node_id(a), "--cluster-to", node_id(b), "--cluster-slots", 1000,
                        "--cluster-yes", timeout=150)
        took = time.monotonic() - t0
        assert "Moving slot 999 from" in out.stdout, out.stdout[-2000:]
        ops_during = writer.ops
        writer.stop_event.set()
        writer.join(30)
        assert not writer.is_alive()
        assert writer.errors == [], writer.errors[:10]
        assert writer.ops > 200 and ops_during > 200

        assert my_slot_count(b) == 5462 + 1000 and my_slot_count(a) == 5461 - 1000
        assert value(b, "CLUSTER", "COUNTKEYSINSLOT", 0) >= 1
        assert value(a, "CLUSTER", "COUNTKEYSINSLOT", 0) == 0
        cl.wait_agree()
        assert_check_ok(a)
        rc = rc_for(cl.ports[2])
        try:
            keys = list(writer.last)
            assert rc.mget_nonatomic(keys) == [writer.last[k] for k in keys]
            pre_keys = [k.decode() for k in pre]
            assert rc.mget_nonatomic(pre_keys) == [v.decode() for v in pre.values()]
        finally:
            rc.close()
        print("reshard of 1000 slots under load took %.1fs, %d client ops"
              % (took, writer.ops))
    finally:
        if writer is not None:
            writer.stop_event.set()
            writer.join(30)
        cl.stop()


# ------------------------------------------------------------ add-node / rebalance / del-node

def test_add_node_rebalance_del_node():
    cl = Cluster(3)
    try:
        cl.create()
        a = cl.ports[0]
        rc = rc_for(a)
        data = {"rb:%d" % i: str(i) for i in range(1000)}
        rc.mset_nonatomic(data)
        rc.close()

        new = cl.add_process().port
        redis_cli("--cluster", "add-node", "127.0.0.1:%d" % new, "127.0.0.1:%d" % a)
        cl.wait_agree()
        # A master that just joined stays cluster_state:fail for 2 s (Redis's
        # CLUSTER_WRITABLE_DELAY, ours too) and answers RESTORE-ASKING with CLUSTERDOWN
        # until then, on Redis as on ours: wait, as one would before rebalancing.
        cl.wait_ok()
        assert my_slot_count(new) == 0
        assert "master" in next(ln for ln in nodes_lines(new) if "myself" in ln)

        # Weight 0.25 for the new master (16384 * 0.25 / 3.25 = 1260 slots) keeps the
        # test short; the slots move the same way as for an even rebalance.
        out = redis_cli("--cluster", "rebalance", "127.0.0.1:%d" % a,
                        "--cluster-use-empty-masters", "--cluster-weight",
                        "%s=0.25" % node_id(new), timeout=150).stdout
        assert "Moving" in out, out[-2000:]
        cl.wait_agree()
        counts = [my_slot_count(p) for p in cl.ports]
        assert sum(counts) == 16384, counts
        assert abs(counts[3] - 1260) <= 2 * 16384 // 100, counts
        assert all(abs(c - 5041) <= 2 * 16384 // 100 for c in counts[:3]), counts
        assert_check_ok(new)
        assert value(new, "DBSIZE") > 0
        rc = rc_for(new)
        try:
            keys = list(data)
            assert rc.mget_nonatomic(keys) == [data[k] for k in keys]
        finally:
            rc.close()

        # A fifth, empty master joins and is removed again.
        gone = cl.add_process().port
        redis_cli("--cluster", "add-node", "127.0.0.1:%d" % gone, "127.0.0.1:%d" % a)
        cl.wait_agree()
        gone_id = node_id(gone)
        t0 = time.monotonic()
        out = redis_cli("--cluster", "del-node", "127.0.0.1:%d" % a, gone_id).stdout
        took = time.monotonic() - t0
        assert took < 30, took          # well inside the 60 s FORGET ban
        assert "SHUTDOWN the node." in out or "Sending CLUSTER RESET SOFT" in out, out
        rest = cl.ports[:4]
        wait_until(lambda: all(len(nodes_lines(p)) == 4 for p in rest), timeout=10,
                   message="the other nodes forgot the removed node")
        # The removed node was reset (it knows only itself) and nobody re-learns it
        # from gossip within two node timeouts.
        wait_until(lambda: cluster_info(gone)["cluster_known_nodes"] == "1", timeout=10,
                   message="the removed node reset")
        until = time.monotonic() + 2 * cl.node_timeout / 1000
        while time.monotonic() < until:
            for p in rest:
                assert gone_id not in value(p, "CLUSTER", "NODES").decode()
            time.sleep(0.1)
        assert_check_ok(a)
    finally:
        cl.stop()


# ------------------------------------------------------------ fix a half-migrated slot

def test_fix_repairs_half_migrated_slot():
    cl = Cluster(3)
    try:
        cl.create()
        a, b, _ = cl.ports
        slot = 100                                   # the first node's
        tag = tags_for_slots([slot])[slot]
        on_a = [b"{%s}a%d" % (tag, i) for i in range(5)]
        on_b = [b"{%s}b%d" % (tag, i) for i in range(3)]
        for k in on_a:
            assert value(a, "SET", k, k) == "OK"
        assert value(b, "CLUSTER", "SETSLOT", slot, "IMPORTING", node_id(a)) == "OK"
        assert value(a, "CLUSTER", "SETSLOT", slot, "MIGRATING", node_id(b)) == "OK"
        c = RawClient(b)
        for k in on_b:
            assert c.call("ASKING") == ("+", "OK")
            assert c.call("SET", k, k) == ("+", "OK")
        c.close()
        out = redis_cli("--cluster", "check", "127.0.0.1:%d" % a, check=False).stdout
        assert "[WARNING] Node 127.0.0.1:%d has slots in migrating state %d" % (a, slot) in out
        assert "[WARNING] Node 127.0.0.1:%d has slots in importing state %d" % (b, slot) in out

        out = redis_cli("--cluster", "fix", "127.0.0.1:%d" % a, "--cluster-yes",
                        timeout=120).stdout
        assert "Fixing open slot %d" % slot in out, out[-2000:]
        cl.wait_agree()
        assert_check_ok(a)
        for p in cl.ports:
            assert not any("[" in ln for ln in nodes_lines(p))
        owner = [p for p in cl.ports if value(p, "CLUSTER", "COUNTKEYSINSLOT", slot)]
        assert len(owner) == 1
        assert value(owner[0], "CLUSTER", "COUNTKEYSINSLOT", slot) == len(on_a) + len(on_b)
        rc = rc_for(a)
        try:
            for k in on_a + on_b:
                assert rc.get(k) == k.decode()
        finally:
            rc.close()
    finally:
        cl.stop()
