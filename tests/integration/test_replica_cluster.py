"""Masters and replicas with real processes: `redis-cli --cluster create --cluster-replicas 1`
gives every master a replica whose link is up, data written to the masters is read back
from the replicas with READONLY, and scripts/cluster.sh starts 3 masters + 3 replicas by
default. Every wait polls with a deadline; processes are killed by pid at the end.
"""
import os
import subprocess

import pytest

from cluster.slots import key_hash_slot
from tests.helpers import RawClient, wait_until
from tests.integration.cluster_util import cluster_info
from tests.integration.replica_helpers import (
    ReplicaCluster, link_up, readonly_get, redis_cluster, repl_info, shards, topology, value,
    wait_shards)
from tests.integration.test_cluster_sh import clone, free_base_port, pid_alive  # noqa: F401

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def cluster6():
    cl = ReplicaCluster(6, node_timeout=2000)
    try:
        out = cl.create(replicas=1).stdout
        assert "[OK] All 16384 slots covered." in out, out
        yield cl
    except BaseException:
        print(cl.logs())
        raise
    finally:
        cl.stop()


def test_create_with_replicas_links_up_and_readonly_reads(cluster6):
    ports = cluster6.ports
    # Every node agrees: three masters with slots, one replica each.
    wait_until(lambda: len(shards(ports[0])) == 3 and
               all(len(r) == 1 for r in shards(ports[0]).values()),
               timeout=20, interval=0.1, message="3 masters with one replica each")
    layout = shards(ports[0])
    wait_shards(ports, layout)
    masters = sorted(layout)
    replicas = {r[0]: m for m, r in layout.items()}
    assert sorted(masters + list(replicas)) == sorted(ports)

    for replica, master in replicas.items():
        wait_until(lambda: link_up(replica, master), timeout=15, interval=0.05,
                   message="master_link_status:up on %d" % replica)
        info = repl_info(replica)
        assert info["master_host"] == "127.0.0.1" and int(info["master_port"]) == master
    for master in masters:
        info = repl_info(master)
        assert info["role"] == "master" and info["connected_slaves"] == "1", info
        assert info["slave0"].startswith("ip=127.0.0.1,port=%d,state=online" %
                                         layout[master][0]), info

    # Writes through RedisCluster; WAIT makes sure the replica has them before we look.
    rc = redis_cluster(ports[0])
    try:
        keys = ["user:%d" % i for i in range(300)]
        pipe = rc.pipeline()
        for k in keys:
            pipe.set(k, "v-" + k)
        assert all(pipe.execute())
    finally:
        rc.close()
    # The replica has everything once its offset reaches its master's.
    for master in masters:
        replica = layout[master][0]
        wait_until(lambda: repl_info(replica)["slave_repl_offset"] ==
                   repl_info(master)["master_repl_offset"], timeout=10, interval=0.05,
                   message="replica %d to reach its master's offset" % replica)

    view = topology(ports[0])
    slots_of = {n["port"]: n["slots"] for n in view.values() if n["port"] in masters}
    by_master = {}
    for k in keys:
        slot = key_hash_slot(k.encode())
        by_master.setdefault(next(m for m in masters if slot in slots_of[m]), []).append(k)
    assert len(by_master) == 3
    for master, mkeys in by_master.items():
        replica = layout[master][0]
        got = readonly_get(replica, mkeys)
        assert got == [("$", ("v-" + k).encode()) for k in mkeys]
        # Without READONLY the replica redirects to its master; writes too.
        c = RawClient(replica)
        try:
            kind, msg = c.call("GET", mkeys[0])
            assert kind == "-" and msg.startswith("MOVED ") and msg.endswith(":%d" % master)
            c.call("READONLY")
            kind, msg = c.call("SET", mkeys[0], "x")
            assert kind == "-" and msg.startswith("MOVED "), msg
        finally:
            c.close()
        # The replica's data set is its master's: same number of keys.
        assert value(replica, "DBSIZE") == value(master, "DBSIZE") == len(mkeys)


def test_cluster_sh_starts_three_masters_three_replicas(clone):  # noqa: F811
    base = free_base_port(6)
    env = dict(os.environ, BASE_PORT=str(base), NODE_TIMEOUT="2000")

    def sh(*args, timeout=120):
        out = subprocess.run(["bash", "scripts/cluster.sh", *args], cwd=clone, env=env,
                             capture_output=True, text=True, timeout=timeout)
        assert out.returncode == 0, (args, out.stdout[-3000:], out.stderr[-3000:])
        return out.stdout

    ports = list(range(base, base + 6))
    out = sh("start")
    assert "[OK] All 16384 slots covered." in out, out[-3000:]
    pids = [int(open(os.path.join(clone, "run", "cluster", str(p), "pid")).read())
            for p in ports]
    for port in ports:
        assert cluster_info(port)["cluster_state"] == "ok"
    # Roles reach the status table once every node has heard of them.
    wait_until(lambda: len(shards(base)) == 3 and all(len(r) == 1 for r in shards(base).values()),
               timeout=20, interval=0.1, message="3 masters with one replica each")

    def rows():
        lines = sh("status").strip().splitlines()
        assert lines[0].split() == ["PORT", "PID", "ROLE", "STATE", "ID", "SLOTS"]
        return [ln.split() for ln in lines[1:]]
    wait_until(lambda: sorted(r[2] for r in rows()) == ["master"] * 3 + ["slave"] * 3,
               timeout=20, interval=0.2, message="status to show 3 masters and 3 replicas")
    table = rows()
    assert [int(r[0]) for r in table] == ports and [int(r[1]) for r in table] == pids
    assert all(r[3] == "ok" for r in table), table
    replicas = [r for r in table if r[2] == "slave"]
    assert all(r[5:7] == ["replica", "of"] for r in replicas), table
    for r in replicas:
        wait_until(lambda: link_up(int(r[0])), timeout=15, interval=0.1,
                   message="link up on %s" % r[0])

    out = sh("stop")
    assert "stopped" in out
    wait_until(lambda: not any(pid_alive(p) for p in pids), timeout=10,
               message="nodes to exit")
    out = sh("clean")
    assert "removed" in out
    assert not os.path.exists(os.path.join(clone, "run", "cluster"))
