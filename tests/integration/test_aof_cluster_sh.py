"""scripts/cluster.sh stop / start with an AOF on every node (NODE_ARGS="--appendonly
yes"): every key comes back, on the masters from their own AOF and on the replicas too.

Runs a fresh clone of HEAD on ports of its own, like test_cluster_sh.py. The dump.rdb
files the SIGTERM save leaves are deleted before the restart, so what comes back came
from the AOFs.
"""
import glob
import os
import subprocess

import redis
from redis.cluster import RedisCluster

from tests.helpers import wait_until
from tests.integration.test_cluster_sh import clone, free_base_port  # noqa: F401 - fixture

KEYS = 300


def test_cluster_sh_stop_start_keeps_every_key_with_aof(clone):  # noqa: F811
    base = free_base_port(6)
    env = dict(os.environ, BASE_PORT=str(base), NODE_TIMEOUT="2000",
               NODE_ARGS="--appendonly yes")

    def sh(*args):
        out = subprocess.run(["bash", "scripts/cluster.sh", *args], cwd=clone, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, (args, out.stdout[-3000:], out.stderr[-3000:])
        return out.stdout

    sh("start", "6", "1")
    rc = RedisCluster(host="127.0.0.1", port=base, socket_timeout=10)
    for i in range(KEYS):
        rc.set("key:%d" % i, i)
    rc.hset("hash", mapping={"a": 1, "b": 2})
    rc.expire("hash", 1000)
    rc.close()
    ports = [base + i for i in range(6)]
    clients = {p: redis.Redis(port=p, socket_timeout=10) for p in ports}

    def masters_and_replicas():
        roles = {p: clients[p].execute_command("ROLE") for p in ports}
        return {p: r for p, r in roles.items() if r[0] == b"master"}, \
            {p: r for p, r in roles.items() if r[0] == b"slave"}

    def replicas_caught_up():
        masters, replicas = masters_and_replicas()
        by_port = {p: clients[p].dbsize() for p in ports}
        return len(masters) == 3 and sum(by_port[p] for p in masters) == KEYS + 1 and all(
            by_port[p] == by_port[int(r[2])] for p, r in replicas.items())

    wait_until(replicas_caught_up, timeout=30, message="replicas in sync before stop")
    sh("stop")
    run = os.path.join(clone, "run", "cluster")
    for path in glob.glob(os.path.join(run, "*", "dump.rdb")):
        os.unlink(path)
    for port in ports:
        assert os.path.exists(os.path.join(run, str(port), "appendonlydir",
                                           "appendonly.aof.manifest"))
    assert "nodes restarted from their nodes.conf" in sh("start", "6", "1")
    wait_until(replicas_caught_up, timeout=30, message="every key back, replicas too")
    rc = RedisCluster(host="127.0.0.1", port=base, socket_timeout=10)
    assert [int(v) for v in rc.mget_nonatomic(["key:%d" % i for i in range(KEYS)])] == \
        list(range(KEYS))
    assert rc.hgetall("hash") == {b"a": b"1", b"b": b"2"} and rc.ttl("hash") > 900
    rc.close()
    # A replica's AOF starts over from the dataset its full sync loaded (a rewrite).
    _, replicas = masters_and_replicas()

    def replica_aofs_rewritten():
        return all(clients[p].info("persistence")["aof_rewrites"] >= 1 and
                   clients[p].info("persistence")["aof_rewrite_in_progress"] == 0
                   for p in replicas)
    wait_until(replica_aofs_rewritten, timeout=20, message="replica AOF rewrites")
    # ... and appends the stream its master sends.
    rc = RedisCluster(host="127.0.0.1", port=base, socket_timeout=10)
    rc.set("written-after-restart", "yes")
    rc.close()

    def in_current_incr_file(port):
        folder = os.path.join(run, str(port), "appendonlydir")
        names = [line.split()[1] for line in
                 open(os.path.join(folder, "appendonly.aof.manifest")).read().splitlines()
                 if line.endswith("type i")]
        return b"written-after-restart" in open(os.path.join(folder, names[-1]), "rb").read()
    wait_until(lambda: sum(in_current_incr_file(p) for p in ports) == 2,
               timeout=10, message="the write in its master's and its replica's AOF")
    sh("stop")
