"""redis-py's scripting helpers against node.py: `Lock` (acquire, extend, reacquire,
release by token, all Lua), `register_script` (EVALSHA, falling back to EVAL on
NOSCRIPT), on one node in RESP2 and RESP3 and on a three-node cluster.
"""
import time

import pytest
import redis
from redis.cluster import RedisCluster
from redis.exceptions import LockError, LockNotOwnedError

from tests.integration.cluster_util import Cluster


def exercise_lock(client, name):
    lock = client.lock(name, timeout=10)
    assert lock.acquire(blocking=False)
    assert lock.locked() and lock.owned()
    other = client.lock(name, timeout=10)
    assert not other.acquire(blocking=False)
    assert lock.extend(5)
    assert 10 < client.pttl(name) <= 15000
    assert lock.reacquire()
    assert 9000 < client.pttl(name) <= 10000
    other.local.token = b"someone else"         # as if it had held the lock once
    with pytest.raises(LockNotOwnedError):
        other.release()
    other.local.token = b"someone else"         # release() forgot it
    with pytest.raises(LockNotOwnedError):
        other.extend(1)
    lock.release()
    assert not lock.locked()
    with pytest.raises(LockError):
        lock.release()
    with client.lock(name, timeout=5, blocking_timeout=1):
        assert client.exists(name)
    assert not client.exists(name)


def test_lock(r):
    exercise_lock(r, "lock:a")


def test_lock_expires(r):
    lock = r.lock("lock:b", timeout=0.2)
    assert lock.acquire(blocking=False)
    time.sleep(0.3)
    assert not lock.locked()
    with pytest.raises(LockNotOwnedError):
        lock.extend(1)


def test_register_script(r):
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr_by(keys=["n"], args=[5]) == 5
    r.script_flush()
    assert incr_by(keys=["n"], args=[2]) == 7      # NOSCRIPT -> EVAL -> cached again
    assert r.script_exists(incr_by.sha) == [True]
    with pytest.raises(redis.ResponseError, match="script: %s, on @user_script:1" % incr_by.sha):
        incr_by(keys=["n"], args=["x"])


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(3)
    try:
        c.create()
        yield c
    finally:
        c.stop()


def test_cluster_lock_and_scripts(cluster):
    rc = RedisCluster(host="127.0.0.1", port=cluster.ports[0], socket_timeout=10)
    try:
        for i in range(6):                      # locks land on every master
            exercise_lock(rc, "lock:%d" % i)
        script = rc.register_script("return redis.call('set', KEYS[1], ARGV[1])")
        for i in range(6):
            assert script(keys=["k%d" % i], args=["v"]) == b"OK"
            assert rc.get("k%d" % i) == b"v"
        # A key the script did not declare, served by another node.
        node = rc.get_node_from_key("k0")
        direct = redis.Redis(host=node.host, port=node.port)
        foreign = next("x%d" % i for i in range(100)
                       if rc.get_node_from_key("x%d" % i).port != node.port)
        with pytest.raises(redis.ResponseError,
                           match="Script attempted to access a non local key in a cluster node"):
            direct.eval("return redis.call('get', ARGV[1])", 1, "k0", foreign)
        with pytest.raises(redis.exceptions.MovedError):
            direct.eval("return 1", 1, foreign)
        with pytest.raises(redis.ResponseError, match="don't hash to the same slot"):
            direct.eval("return 1", 2, "{a}1", "{b}1")
        direct.close()
    finally:
        rc.close()


def test_monitor_sees_the_script_then_its_commands(node):
    monitor = redis.Redis(port=node.port, socket_timeout=10)
    client = redis.Redis(port=node.port, socket_timeout=10)
    try:
        with monitor.monitor() as m:
            client.eval("return redis.call('set', KEYS[1], 'v')", 1, "mon")
            seen = []
            while not seen or not seen[-1].upper().startswith("EVAL "):
                seen.append(m.next_command()["command"])    # HELLO etc. of the client
            seen.append(m.next_command()["command"])
        assert seen[-1] == "set mon v", seen
    finally:
        monitor.close()
        client.close()
