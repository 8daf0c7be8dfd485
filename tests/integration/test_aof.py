"""The append-only file on real node.py processes, against redis-server 7.0's own tools.

* appendfsync always under kill -9: no acknowledged write is lost;
* the AOF folder we write passes redis-check-aof and is loaded by redis-server (values
  and TTLs), and we load the folder redis-server writes;
* BGREWRITEAOF rotates the files as Redis does (with and without the RDB preamble), and
  its refusals / scheduling;
* CONFIG SET appendonly yes at run time, then a restart;
* truncated files (aof-load-truncated yes / no) and a corrupt manifest.

Each test starts its own processes (killed in teardown) on free loopback ports.
"""
import os
import shutil
import signal
import subprocess
import threading

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.helpers import REDIS_LOG_LINE, RawClient, start_node, start_redis, wait_until

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")

AOF_DIR = "appendonlydir"
MANIFEST = "appendonly.aof.manifest"


@pytest.fixture
def procs():
    started = []
    yield started
    for proc in started:
        proc.stop()


def node(procs, *extra, cwd=None, port=None):
    proc = start_node(*extra, cwd=cwd, port=port)
    procs.append(proc)
    return proc, redis.Redis(port=proc.port, socket_timeout=10)


def restart(procs, proc, *extra):
    """kill -9 `proc`, start a node on its folder and port again."""
    proc.signal(signal.SIGKILL)
    proc.proc.wait(5)
    return node(procs, *extra, cwd=proc.cwd, port=proc.port)


def info(r, field):
    return r.info("persistence")[field]


def manifest_lines(folder):
    with open(os.path.join(folder, AOF_DIR, MANIFEST)) as f:
        return f.read().splitlines()


def fill(r, prefix="k"):
    """Keys of every type, some with a TTL; returns the snapshot to compare."""
    r.set(prefix + ":s", "v" * 50)
    r.set(prefix + ":n", 12345)
    r.set(prefix + ":ttl", "t", ex=1000)
    r.rpush(prefix + ":l", *[b"e%d" % i for i in range(150)])
    r.hset(prefix + ":h", mapping={b"f%d" % i: b"v%d" % i for i in range(70)})
    r.sadd(prefix + ":set", *range(100))
    r.sadd(prefix + ":sset", "a", "b", "c")
    r.zadd(prefix + ":z", {b"m%d" % i: i / 3 for i in range(80)})
    r.zadd(prefix + ":zinf", {"lo": float("-inf"), "hi": float("inf")})
    r.pexpire(prefix + ":h", 5_000_000)
    r.incr(prefix + ":counter")
    return snapshot(r)


def snapshot(r):
    """{key: (type, value, has_ttl)} of every key."""
    out = {}
    for key in r.scan_iter(count=1000):
        kind = r.type(key).decode()
        if kind == "string":
            value = r.get(key)
        elif kind == "list":
            value = r.lrange(key, 0, -1)
        elif kind == "hash":
            value = r.hgetall(key)
        elif kind == "set":
            value = r.smembers(key)
        else:
            value = r.zrange(key, 0, -1, withscores=True)
        out[key] = (kind, value, r.pttl(key) > 0)
    return out


def check_aof(folder):
    out = subprocess.run(["redis-check-aof", os.path.join(folder, AOF_DIR, MANIFEST)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "All AOF files and manifest are valid" in out.stdout, \
        out.stdout + out.stderr


# ---------------------------------------------------------------- durability

def test_always_loses_no_acknowledged_write_under_kill_9(procs):
    proc, r = node(procs, "--appendonly", "yes", "--appendfsync", "always")
    acked = [[] for _ in range(4)]
    counters = [0] * 4
    stop = threading.Event()

    def writer(n):
        client = redis.Redis(port=proc.port, socket_timeout=5,
                             retry=Retry(NoBackoff(), 0))     # no reconnecting
        i = 0
        try:
            while not stop.is_set():
                client.set("w%d:%d" % (n, i), i)
                acked[n].append(i)
                counters[n] = client.incr("c%d" % n)
                i += 1
        except (redis.ConnectionError, redis.TimeoutError):
            pass

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    wait_until(lambda: sum(map(len, acked)) > 400, timeout=20, message="writes")
    proc.signal(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(10)
    proc.proc.wait(5)
    proc2, r2 = node(procs, "--appendonly", "yes", cwd=proc.cwd, port=proc.port)
    for n in range(4):
        keys = ["w%d:%d" % (n, i) for i in acked[n]]
        with r2.pipeline(transaction=False) as p:
            for key in keys:
                p.get(key)
            values = p.execute()
        missing = [k for k, v in zip(keys, values) if v is None]
        assert not missing, "acknowledged writes lost: %r" % missing[:5]
        assert int(r2.get("c%d" % n) or 0) >= counters[n]


def test_everysec_survives_a_process_crash(procs):
    """everysec writes before replying: a killed process (not the OS) loses nothing."""
    proc, r = node(procs, "--appendonly", "yes", "--appendfsync", "everysec")
    expected = fill(r)
    proc2, r2 = restart(procs, proc, "--appendonly", "yes")
    assert snapshot(r2) == expected
    assert info(r2, "aof_enabled") == 1


# ---------------------------------------------------------------- redis-server

def test_redis_check_aof_and_redis_server_load_our_aof(procs, tmp_path):
    proc, r = node(procs, "--appendonly", "yes")
    expected = fill(r)
    with r.pipeline(transaction=True) as p:            # a MULTI/EXEC unit in the incr
        p.set("{t}a", 1).set("{t}b", 2).execute()
    expected = snapshot(r)
    r.shutdown(nosave=True)
    proc.proc.wait(5)
    check_aof(proc.cwd)
    copy = tmp_path / "copy"
    shutil.copytree(os.path.join(proc.cwd, AOF_DIR), copy / AOF_DIR)
    server = start_redis("--appendonly", "yes", "--dir", str(copy))
    procs.append(server)
    real = redis.Redis(port=server.port)
    assert snapshot(real) == expected
    assert real.ttl("k:ttl") > 900


def test_we_load_the_aof_of_redis_server(procs, tmp_path):
    server = start_redis("--appendonly", "yes", "--appendfsync", "always")
    procs.append(server)
    real = redis.Redis(port=server.port)
    fill(real, "a")
    real.bgrewriteaof()                 # then more writes go to the next incr file
    wait_until(lambda: info(real, "aof_rewrite_in_progress") == 0 and
               info(real, "aof_rewrites") == 1, message="redis rewrite")
    fill(real, "b")
    real.set("px", "1", px=900_000)
    real.lpush("a:l", "head")
    expected = snapshot(real)
    real.shutdown(nosave=True)
    server.proc.wait(5)
    ours = tmp_path / "ours"
    shutil.copytree(os.path.join(server.cwd, AOF_DIR), ours / AOF_DIR)
    proc, r = node(procs, "--appendonly", "yes", cwd=str(ours))
    assert snapshot(r) == expected
    assert r.pttl("px") > 800_000


# ---------------------------------------------------------------- BGREWRITEAOF

@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_bgrewriteaof_rotates_files_and_restart_keeps_everything(procs, preamble):
    proc, r = node(procs, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    assert manifest_lines(proc.cwd) == ["file appendonly.aof.1.base.%s seq 1 type b"
                                        % ("rdb" if preamble == "yes" else "aof"),
                                        "file appendonly.aof.1.incr.aof seq 1 type i"]
    fill(r)
    assert r.bgrewriteaof() is True
    wait_until(lambda: info(r, "aof_rewrite_in_progress") == 0 and
               info(r, "aof_rewrites") == 1, message="rewrite done")
    assert info(r, "aof_last_bgrewrite_status") == "ok"
    suffix = "rdb" if preamble == "yes" else "aof"
    assert manifest_lines(proc.cwd) == ["file appendonly.aof.2.base.%s seq 2 type b" % suffix,
                                        "file appendonly.aof.2.incr.aof seq 2 type i"]
    assert sorted(os.listdir(os.path.join(proc.cwd, AOF_DIR))) == [
        "appendonly.aof.2.base.%s" % suffix, "appendonly.aof.2.incr.aof", MANIFEST]
    with open(os.path.join(proc.cwd, AOF_DIR, "appendonly.aof.2.base." + suffix), "rb") as f:
        head = f.read(5)
    assert (head == b"REDIS") == (preamble == "yes")
    r.set("after", "rewrite")
    r.delete("k:s")
    expected = snapshot(r)
    check_aof(proc.cwd)
    proc2, r2 = restart(procs, proc, "--appendonly", "yes")
    assert snapshot(r2) == expected
    assert info(r2, "aof_base_size") > 0


def test_bgrewriteaof_in_progress_and_scheduled(procs):
    proc, r = node(procs, "--appendonly", "yes", "--rdb-key-save-delay", "200000")
    for i in range(10):
        r.set("k%d" % i, i)
    r.bgrewriteaof()
    with pytest.raises(redis.ResponseError,
                       match="^Background append only file rewriting already in progress$"):
        r.bgrewriteaof()
    assert info(r, "aof_rewrite_in_progress") == 1
    r.config_set("rdb-key-save-delay", 0)
    wait_until(lambda: info(r, "aof_rewrite_in_progress") == 0, message="rewrite done")
    # Inside MULTI it is scheduled, and the cron starts it.
    raw = RawClient(proc.port)
    assert raw.pipeline([["MULTI"], ["BGREWRITEAOF"], ["EXEC"]])[2] == \
        ("*", [("+", "Background append only file rewriting scheduled")])
    raw.close()
    wait_until(lambda: info(r, "aof_rewrites") == 2 and
               info(r, "aof_rewrite_in_progress") == 0 and
               info(r, "aof_rewrite_scheduled") == 0, message="scheduled rewrite done")
    assert manifest_lines(proc.cwd)[0] == "file appendonly.aof.3.base.rdb seq 3 type b"


def test_bgrewriteaof_waits_for_a_bgsave(procs):
    proc, r = node(procs, "--appendonly", "yes", "--rdb-key-save-delay", "100000")
    for i in range(10):
        r.set("k%d" % i, i)
    r.bgsave()
    raw = RawClient(proc.port)
    assert raw.call("BGREWRITEAOF") == ("+", "Background append only file rewriting scheduled")
    assert info(r, "aof_rewrite_scheduled") == 1 and info(r, "aof_rewrite_in_progress") == 0
    r.config_set("rdb-key-save-delay", 0)
    wait_until(lambda: info(r, "aof_rewrites") == 1 and info(r, "aof_rewrite_scheduled") == 0
               and info(r, "aof_rewrite_in_progress") == 0, message="scheduled rewrite")
    assert info(r, "rdb_last_bgsave_status") == "ok"
    raw.close()


def test_auto_rewrite_by_growth(procs):
    proc, r = node(procs, "--appendonly", "yes", "--auto-aof-rewrite-min-size", "10kb",
                   "--auto-aof-rewrite-percentage", "100")
    for i in range(300):
        r.set("key:%d" % i, "x" * 100)
    wait_until(lambda: info(r, "aof_rewrites") >= 1 and
               info(r, "aof_rewrite_in_progress") == 0, message="automatic rewrite")
    assert "Starting automatic rewriting of AOF on" in proc.output()


# ---------------------------------------------------------------- CONFIG SET appendonly

def test_config_set_appendonly_yes_at_run_time_then_restart(procs):
    proc, r = node(procs)
    assert info(r, "aof_enabled") == 0
    before = fill(r)
    assert r.config_set("appendonly", "yes") is True
    wait_until(lambda: info(r, "aof_enabled") == 1 and info(r, "aof_rewrites") == 1 and
               info(r, "aof_rewrite_in_progress") == 0, message="AOF switched on")
    assert manifest_lines(proc.cwd) == ["file appendonly.aof.1.base.rdb seq 1 type b",
                                        "file appendonly.aof.1.incr.aof seq 1 type i"]
    r.set("later", "yes")
    expected = dict(before)
    expected.update(snapshot(r))
    proc2, r2 = restart(procs, proc, "--appendonly", "yes")
    assert snapshot(r2) == expected
    # And off again: nothing more is appended.
    incr = os.path.join(proc.cwd, AOF_DIR, "appendonly.aof.1.incr.aof")
    assert r2.config_set("appendonly", "no") is True
    size = os.path.getsize(incr)
    r2.set("not", "logged")
    assert os.path.getsize(incr) == size
    assert info(r2, "aof_enabled") == 0


# ---------------------------------------------------------------- bad files

@pytest.fixture(scope="module")
def stopped_folder():
    """A node's folder with 10 keys in its AOF, made once; tests work on copies."""
    proc = start_node("--appendonly", "yes", "--appendfsync", "always")
    try:
        r = redis.Redis(port=proc.port, socket_timeout=10)
        for i in range(10):
            r.set("k%d" % i, i)
    finally:
        proc.stop()
    return proc.cwd


@pytest.fixture
def folder(stopped_folder, tmp_path):
    copy = str(tmp_path / "node")
    shutil.copytree(stopped_folder, copy)
    return copy


def _run_node(cwd, *extra):
    """Start a node expected to exit; returns (exit code, output)."""
    proc = start_node(*extra, cwd=cwd, wait=False)
    try:
        proc.proc.wait(15)
    finally:
        proc.stop()
    return proc.proc.returncode, proc.output()


def test_truncated_aof_recovered_or_refused(procs, folder):
    incr = os.path.join(folder, AOF_DIR, "appendonly.aof.1.incr.aof")
    good = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$3\r\nk10\r\n$2\r\n1")      # cut mid-argument
    code, out = _run_node(folder, "--appendonly", "yes", "--aof-load-truncated", "no")
    assert code == 1
    assert "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof" \
        in out and "Traceback" not in out
    assert os.path.getsize(incr) > good                       # untouched
    proc2, r2 = node(procs, "--appendonly", "yes", cwd=folder)
    assert r2.dbsize() == 10 and r2.get("k10") is None
    assert "Truncating the AOF appendonly.aof.1.incr.aof at offset %d" % good \
        in proc2.output()
    assert os.path.getsize(incr) == good


def test_unfinished_multi_is_dropped(procs, folder):
    incr = os.path.join(folder, AOF_DIR, "appendonly.aof.1.incr.aof")
    good = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n")
    proc2, r2 = node(procs, "--appendonly", "yes", cwd=folder)
    assert r2.get("x") is None and r2.dbsize() == 10
    assert os.path.getsize(incr) == good


@pytest.mark.parametrize("content, message", [
    (b"garbage\n", "Invalid AOF manifest file format"),
    (b"file appendonly.aof.1.base.rdb seq 1 type b\n"
     b"file appendonly.aof.1.base.rdb seq 2 type b\n", "Found duplicate base file information"),
    (b"file ../evil seq 1 type i\n", "File can't be a path, just a filename"),
    (b"file appendonly.aof.1.incr.aof seq 1 type x\n", "Unknown AOF file type"),
    (b"file missing.aof seq 1 type i\n", "Unable to obtain the AOF file missing.aof length"),
])
def test_corrupt_manifest_is_one_line_and_exit_1(folder, content, message):
    with open(os.path.join(folder, AOF_DIR, MANIFEST), "wb") as f:
        f.write(content)
    code, out = _run_node(folder, "--appendonly", "yes")
    assert code == 1
    # One warning line of Redis's shape, the last one, says why.
    last = out.strip().splitlines()[-1]
    assert REDIS_LOG_LINE.match(last) and " # " in last and message in last, out
    assert "Traceback" not in out


def test_bad_command_format_is_fatal(folder):
    with open(os.path.join(folder, AOF_DIR, "appendonly.aof.1.incr.aof"), "ab") as f:
        f.write(b"hello\r\n")
    code, out = _run_node(folder, "--appendonly", "yes")
    assert code == 1 and "Bad file format reading the append only file" in out
    assert "Traceback" not in out
