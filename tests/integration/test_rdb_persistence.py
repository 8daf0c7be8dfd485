"""RDB persistence with real processes: our dump.rdb read by redis-check-rdb and loaded
by redis-server key by key, redis-server's dump.rdb loaded by our node, BGSAVE as a
point-in-time snapshot that does not stall clients, the shutdown saves, -LOADING, the
MISCONF guard, and bad files refused with one line."""
import os
import shutil
import signal
import subprocess
import time

import pytest
import redis

from tests.helpers import RawClient, start_node, start_redis, wait_until

# Every encoding Redis 7.0 writes, with and without TTLs (key -> commands).
DATASET = [
    ["SET", "str:raw", "hello world"],
    ["SET", "str:int", "-123456789"],
    ["SET", "str:long", "abc" * 1000],                              # LZF-compressed
    ["SET", "str:ttl", "soon", "PX", "500000"],
    ["RPUSH", "list:small", "a", "b", "12", "c" * 100],
    ["RPUSH", "list:big", *("element-%d" % i for i in range(3000))],   # several nodes
    ["SADD", "set:intset", "1", "-5", "70000", "9000000000"],
    ["SADD", "set:table", *("m%d" % i for i in range(600))],
    ["HSET", "hash:lp", "f1", "v1", "f2", "22"],
    ["HSET", "hash:table", "big", "x" * 100, "small", "y"],
    ["ZADD", "zset:lp", "1", "a", "2.5", "b", "-inf", "c"],
    ["ZADD", "zset:skip", *sum((["%d.25" % i, "member-%d" % i] for i in range(300)), [])],
    ["PEXPIRE", "hash:lp", "400000"],
]


def _dataset_keys():
    return sorted({args[1] for args in DATASET})


def _snapshot(client, key):
    """(type, value, has ttl) read with ordinary commands, comparable across servers."""
    kind = client.type(key).decode()
    value = {
        "string": lambda: client.get(key),
        "list": lambda: client.lrange(key, 0, -1),
        "set": lambda: sorted(client.smembers(key)),
        "hash": lambda: sorted(client.hgetall(key).items()),
        "zset": lambda: client.zrange(key, 0, -1, withscores=True),
    }[kind]()
    return kind, value, client.pttl(key) > 0, client.object("encoding", key)


def _fill(client):
    for args in DATASET:
        client.execute_command(*args)


def restart(proc, *args):
    """The node again, same port and folder (so its nodes.conf and dump.rdb), once its
    cluster is ok again."""
    proc = start_node(*args, cwd=proc.cwd, port=proc.port, slots=False)
    client = redis.Redis(port=proc.port)
    try:
        wait_until(lambda: client.cluster("info")["cluster_state"] == "ok", timeout=10,
                   message="cluster_state:ok after the restart")
    except BaseException:
        proc.stop()
        raise
    return proc


@pytest.fixture
def node_proc():
    proc = start_node("--save", "")
    yield proc
    proc.stop()


def test_our_save_is_read_by_redis_check_rdb_and_loaded_by_redis_server(node_proc):
    ours = redis.Redis(port=node_proc.port)
    _fill(ours)
    assert ours.save()
    path = os.path.join(node_proc.cwd, "dump.rdb")
    check = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True,
                           timeout=30)
    assert "RDB looks OK" in check.stdout, check.stdout
    ref = start_redis("--dbfilename", "ours.rdb")
    try:
        ref.stop()                                  # start it again on our file
        shutil.copy(path, os.path.join(ref.cwd, "ours.rdb"))
        ref = start_redis("--dbfilename", "ours.rdb", "--dir", ref.cwd)
        theirs = redis.Redis(port=ref.port)
        assert theirs.dbsize() == ours.dbsize() == len(_dataset_keys())
        for key in _dataset_keys():
            assert _snapshot(theirs, key) == _snapshot(ours, key), key
    finally:
        ref.stop()


def test_redis_server_save_is_loaded_by_our_node():
    ref = start_redis()
    try:
        theirs = redis.Redis(port=ref.port)
        _fill(theirs)
        assert theirs.save()
        expected = {key: _snapshot(theirs, key) for key in _dataset_keys()}
        src = os.path.join(ref.cwd, "dump.rdb")
        proc = start_node("--save", "", wait=False)
        proc.stop()                                  # a fresh dir with the file in it
        shutil.copy(src, os.path.join(proc.cwd, "dump.rdb"))
        proc = start_node("--save", "", cwd=proc.cwd)
        try:
            ours = redis.Redis(port=proc.port)
            assert ours.dbsize() == len(expected)
            for key, snapshot in expected.items():
                assert _snapshot(ours, key) == snapshot, key
            info = ours.info("persistence")
            assert info["rdb_last_load_keys_loaded"] == len(expected)
        finally:
            proc.stop()
    finally:
        ref.stop()


def test_bgsave_is_a_point_in_time_snapshot_and_clients_are_served(node_proc):
    ours = redis.Redis(port=node_proc.port)
    pipe = ours.pipeline(transaction=False)
    for i in range(2000):
        pipe.set("k%d" % i, "before")
    pipe.execute()
    # 500 us per key in the child: the save takes ~1 s, long enough to write meanwhile.
    ours.config_set("rdb-key-save-delay", 500)
    assert ours.bgsave()
    assert ours.info("persistence")["rdb_bgsave_in_progress"] == 1
    worst = 0.0
    for i in range(200):                      # writes made after the fork
        began = time.monotonic()
        ours.set("k%d" % i, "after")
        worst = max(worst, time.monotonic() - began)
    assert worst < 0.5, "a client waited %.3f s during BGSAVE" % worst
    wait_until(lambda: ours.info("persistence")["rdb_bgsave_in_progress"] == 0,
               timeout=30, message="BGSAVE done")
    assert ours.info("persistence")["rdb_last_bgsave_status"] == "ok"
    ours.config_set("rdb-key-save-delay", 0)
    ours.set("k0", "after the save")          # not in the file
    node_proc.stop()
    proc = restart(node_proc, "--save", "")
    try:
        client = redis.Redis(port=proc.port)
        assert client.dbsize() == 2000
        assert {client.get("k%d" % i) for i in range(2000)} == {b"before"}
    finally:
        proc.stop()


def test_sigterm_saves_with_save_points_and_shutdown_nosave_does_not():
    proc = start_node("--save", "3600 1")
    try:
        client = redis.Redis(port=proc.port)
        client.set("kept", "1")
        proc.signal(signal.SIGTERM)
        assert proc.proc.wait(10) == 0
        assert os.path.exists(os.path.join(proc.cwd, "dump.rdb"))
        proc = restart(proc, "--save", "3600 1")
        client = redis.Redis(port=proc.port)
        assert client.dbsize() == 1
        client.set("lost", "1")
        client.shutdown(nosave=True)             # redis-py: returns once the node closed
        assert proc.proc.wait(10) == 0
        proc = restart(proc, "--save", "")
        client = redis.Redis(port=proc.port)
        assert client.dbsize() == 1             # "lost" was never saved
        client.set("saved", "1")
        client.shutdown(save=True)               # SAVE even without save points
        assert proc.proc.wait(10) == 0
        proc = restart(proc, "--save", "")
        assert redis.Redis(port=proc.port).dbsize() == 2
    finally:
        proc.stop()


def test_clients_get_loading_while_a_big_file_loads(node_proc):
    ours = redis.Redis(port=node_proc.port)
    pipe = ours.pipeline(transaction=False)
    for i in range(30_000):
        pipe.set("key:%d" % i, "v")
        if i % 10_000 == 0:
            pipe.execute()
    pipe.execute()
    assert ours.save()
    node_proc.stop()
    # 50 us per key: loading takes ~1.5 s, so an early client meets it.
    proc = start_node("--save", "", "--key-load-delay", "50", cwd=node_proc.cwd,
                      port=node_proc.port, slots=False, wait=False)
    seen, infos = [], []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            # A raw client: redis-py retries -LOADING by itself.
            try:
                client = RawClient(proc.port)
            except OSError:
                time.sleep(0.01)
                continue
            try:
                seen.append(client.call("DBSIZE"))
                if seen[-1] == (":", 30_000):
                    break
                infos.append(client.call("INFO", "persistence")[1])
            finally:
                client.close()
            time.sleep(0.01)
        assert ("-", "LOADING Redis is loading the dataset in memory") in seen
        assert seen[-1] == (":", 30_000)
        assert any(b"loading:1" in info and b"loading_loaded_perc:" in info
                   for info in infos)
    finally:
        proc.stop()


def test_a_failed_bgsave_stops_writes_until_a_save_succeeds():
    proc = start_node("--save", "3600 1")
    try:
        client = redis.Redis(port=proc.port)
        pipe = client.pipeline(transaction=False)
        for i in range(500):
            pipe.set("k%d" % i, "v")
        pipe.execute()
        client.config_set("rdb-key-save-delay", 100000)     # a child that lingers
        assert client.bgsave()
        child = _only_child(proc.pid)
        os.kill(child, signal.SIGKILL)                       # dies: a failed save
        wait_until(lambda: client.info("persistence")["rdb_last_bgsave_status"] == "err",
                   timeout=10, message="bgsave status err")
        with pytest.raises(redis.ResponseError, match="^MISCONF"):
            client.set("x", "1")
        assert client.get("k1") == b"v"                      # reads still work
        client.config_set("rdb-key-save-delay", 0)
        assert client.save()
        assert client.set("x", "1")
    finally:
        proc.stop()


def _only_child(pid):
    def find():
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
        children = [int(p) for p in out.stdout.split()]
        return children[0] if len(children) == 1 else None
    return wait_until(find, timeout=5, message="the BGSAVE child")


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "not-rdb"])
def test_a_bad_file_stops_start_up_with_one_line(node_proc, damage):
    ours = redis.Redis(port=node_proc.port)
    _fill(ours)
    assert ours.save()
    node_proc.stop()
    path = os.path.join(node_proc.cwd, "dump.rdb")
    data = open(path, "rb").read()
    if damage == "truncated":
        data = data[:len(data) // 2]
    elif damage == "corrupt":
        data = data[:200] + bytes(b ^ 0x5A for b in data[200:260]) + data[260:]
    else:
        data = b"this is not an rdb file"
    open(path, "wb").write(data)
    proc = start_node("--save", "", cwd=node_proc.cwd, port=node_proc.port, slots=False,
                      wait=False)
    try:
        assert proc.proc.wait(30) == 1
        output = proc.output()
        assert "Fatal error loading the DB" in output
        assert "Traceback" not in output
    finally:
        proc.stop()
