"""Connection and server commands against a real node.py, driven by redis-py and the
redis-cli / redis-benchmark binaries. Bad option values and maxclients are covered in
test_node_config.py and test_bad_input.py."""
import os
import re
import signal
import subprocess
import threading
import time

import pytest
import redis
from redis._parsers.commands import CommandsParser

from tests.helpers import (PYTHON, REDIS_LOG_LINE, ROOT, RawClient, free_port, start_node,
                           wait_until)


def run(*args, timeout=30):
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def wait_exit(proc, timeout=10.0):
    """The exit code of a node process, polled with a deadline."""
    return wait_until(lambda: proc.proc.poll() is not None, timeout=timeout,
                      message="the node to exit") and proc.proc.returncode


@pytest.fixture
def r(node):
    client = redis.Redis(port=node.port, protocol=2, decode_responses=True)
    client.flushall()
    yield client
    client.close()


# ---------------------------------------------------------------- redis-py

def test_redis_py_everyday_calls(r):
    assert r.ping() is True
    assert r.echo("hi") == "hi"
    info = r.info()
    assert info["redis_version"] == "7.0.15" and info["redis_mode"] == "cluster"
    assert info["cluster_enabled"] == 1 and info["role"] == "master"
    assert r.info("memory")["used_memory_rss"] > 1_000_000
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    assert r.client_setname("worker") is True and r.client_getname() == "worker"
    me = [c for c in r.client_list() if c["id"] == str(r.client_id())]
    assert me and me[0]["name"] == "worker" and me[0]["cmd"] == "client|list"
    seconds, micros = r.time()
    assert abs(seconds - time.time()) < 5 and 0 <= micros < 1_000_000
    r.set("a", "1")
    assert r.dbsize() == 1
    assert r.info("keyspace") == {"db0": {"keys": 1, "expires": 0, "avg_ttl": 0}}
    assert isinstance(r.lastsave().year, int)


def test_redis_py_resp3_hello(node):
    client = redis.Redis(port=node.port, protocol=3, decode_responses=True)
    try:
        reply = client.execute_command("HELLO", "3")
        assert reply["proto"] == 3 and reply["mode"] == "cluster"
        assert client.config_get("hz") == {"hz": "10"}
        assert client.info("cluster") == {"cluster_enabled": 1}
    finally:
        client.close()


def test_redis_py_connects_though_client_setinfo_is_unknown(node):
    """redis-py sends CLIENT SETINFO (Redis 7.2) on connect and ignores its error, as it
    does with redis-server 7.0.15; nothing of 7.2 shows in CLIENT INFO."""
    client = redis.Redis(port=node.port, protocol=2, decode_responses=True)
    try:
        assert client.ping() is True
        info = client.client_info()
        assert "lib-name" not in info and "lib-ver" not in info
        with pytest.raises(redis.ResponseError, match="(?i)unknown subcommand 'setinfo'"):
            client.execute_command("CLIENT", "SETINFO", "LIB-NAME", "x")
    finally:
        client.close()


def test_redis_py_commands_parser_reads_our_command_table(node):
    """RedisCluster builds this parser from COMMAND at start-up and routes with it."""
    client = redis.Redis(port=node.port, protocol=2)
    try:
        parser = CommandsParser(client)
        assert parser.commands["get"]["first_key_pos"] == 1
        assert parser.get_keys(client, "GET", "a") == ["a"]
        assert parser.get_keys(client, "MSET", "a", "1", "b", "2") == ["a", "b"]
        assert parser.get_keys(client, "DEL", "a", "b", "c") == ["a", "b", "c"]
        assert parser.get_keys(client, "PING") is None
        assert parser.get_keys(client, "CONFIG", "GET", "x") is None
    finally:
        client.close()


def test_commandstats_and_errorstats(r):
    r.config_resetstat()
    r.set("k", "v")
    r.get("k")
    r.get("k")
    with pytest.raises(redis.ResponseError):
        r.execute_command("SELECT", "3")
    stats = r.info("commandstats")
    assert stats["cmdstat_get"]["calls"] == 2 and stats["cmdstat_set"]["calls"] == 1
    assert stats["cmdstat_select"]["failed_calls"] == 1
    assert r.info("errorstats")["errorstat_ERR"]["count"] == 1
    raw = RawClient(r.connection_pool.connection_kwargs["port"]).call(
        "INFO", "commandstats")[1].decode()
    assert re.search(r"cmdstat_get:calls=2,usec=\d+,usec_per_call=\d+\.\d\d,"
                     r"rejected_calls=0,failed_calls=0", raw)


def test_config_set_is_seen_by_the_node(node, r):
    try:
        assert r.config_set("maxclients", "1") is True
        reply = RawClient(node.port).sock.recv(100)      # the node already has r connected
        assert reply == b"-ERR max number of clients reached\r\n"
    finally:
        r.config_set("maxclients", "10000")


# ---------------------------------------------------------------- redis-cli, redis-benchmark

def test_redis_cli_one_shots(node):
    port = str(node.port)
    assert run("redis-cli", "-p", port, "ping")[1] == "PONG\n"
    code, out, _ = run("redis-cli", "-p", port, "info")
    assert code == 0 and "cluster_enabled:1" in out and "redis_mode:cluster" in out
    assert run("redis-cli", "-p", port, "--no-raw", "client", "getname")[1] == "(nil)\n"
    out = run("redis-cli", "-p", port, "config", "get", "maxmemory")[1]
    assert out == "maxmemory\n0\n"
    out = run("redis-cli", "-p", port, "--no-raw", "select", "1")[1]
    assert out == "(error) ERR SELECT is not allowed in cluster mode\n"
    out = run("redis-cli", "-p", port, "--no-raw", "command", "getkeys", "mset", "a", "1", "b",
              "2")[1]
    assert out == '1) "a"\n2) "b"\n'


def test_redis_cli_with_password(tmp_path):
    node = start_node("--requirepass", "s3cret", slots=False)
    try:
        port = str(node.port)
        assert run("redis-cli", "-p", port, "--no-auth-warning", "-a", "s3cret",
                   "ping")[1] == "PONG\n"
        assert "NOAUTH" in run("redis-cli", "-p", port, "ping")[1]
    finally:
        node.stop()


def test_redis_benchmark_reads_our_config(node):
    code, out, err = run("redis-benchmark", "-p", str(node.port), "-t", "ping", "-n", "2000",
                         "-q", timeout=60)
    assert code == 0, err
    assert "Could not fetch server CONFIG" not in out + err
    assert "PING_INLINE" in out and "PING_MBULK" in out


# ---------------------------------------------------------------- MONITOR

def test_monitor_sees_other_clients_commands(node):
    monitor, other = RawClient(node.port), RawClient(node.port)
    try:
        assert monitor.call("MONITOR") == ("+", "OK")
        other.call("SET", "k", 'a"b\x01\n')
        other.call("CONFIG", "GET", "hz")          # admin: never shown
        other.call("AUTH", "secret")                # shown, redacted
        other.call("HELLO", "2", "AUTH", "default", "pw")
        other.call("NOSUCH")                        # rejected: never shown
        other.call("ECHO", "end")
        lines = []
        while not lines or lines[-1][1].endswith('"ECHO" "end"') is False:
            kind, text = monitor.read_reply()
            assert kind == "+"
            lines.append((kind, text))
        prefix = r'^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] '
        texts = [re.sub(prefix, "", text) for _, text in lines]
        assert all(re.match(prefix, text) for _, text in lines)
        assert texts == ['"SET" "k" "a\\"b\\x01\\n"', '"AUTH" "(redacted)"',
                         '"HELLO" "2" "AUTH" "(redacted)" "(redacted)"', '"ECHO" "end"']
        # The monitor's own commands are shown to itself too, as in Redis.
        assert monitor.call("PING") == ("+", "PONG")
        assert re.sub(prefix, "", monitor.read_reply()[1]) == '"PING"'
        info = RawClient(node.port).call("CLIENT", "LIST")[1].decode()
        assert re.search(r" flags=O ", info)
    finally:
        monitor.close()
        other.close()


# ---------------------------------------------------------------- AUTH, CLIENT KILL

def test_requirepass():
    node = start_node("--requirepass", "pw", slots=False)
    try:
        c = RawClient(node.port)
        assert c.call("PING") == ("-", "NOAUTH Authentication required.")
        assert c.call("HELLO", "3")[1].startswith("NOAUTH HELLO must be called")
        assert c.call("AUTH", "bad") == ("-", "WRONGPASS invalid username-password pair or "
                                              "user is disabled.")
        assert c.call("AUTH", "pw") == ("+", "OK")
        assert c.call("PING") == ("+", "PONG")
        assert c.call("RESET") == ("+", "RESET")
        assert c.call("PING") == ("-", "NOAUTH Authentication required.")
        assert c.call("HELLO", "3", "AUTH", "default", "pw")[0] == "%"
        assert c.call("AUTH", "default", "pw") == ("+", "OK")
        client = redis.Redis(port=node.port, password="pw", protocol=3)
        assert client.ping() is True
        client.close()
    finally:
        node.stop()


def test_client_kill(node):
    a, b, c = RawClient(node.port), RawClient(node.port), RawClient(node.port)
    try:
        b_id = b.call("CLIENT", "ID")[1]
        assert a.call("CLIENT", "KILL", "ID", str(b_id)) == (":", 1)
        with pytest.raises(ConnectionError):
            b.call("PING")
        c_line = c.call("CLIENT", "INFO")[1].decode()
        c_addr = re.search(r"addr=(\S+)", c_line).group(1)
        assert a.call("CLIENT", "KILL", c_addr) == ("+", "OK")
        with pytest.raises(ConnectionError):
            c.call("PING")
        # SKIPME no kills the caller too, after its reply.
        assert a.call("CLIENT", "KILL", "ID", str(a.call("CLIENT", "ID")[1])) == (":", 0)
        assert a.call("CLIENT", "KILL", "ID", str(a.call("CLIENT", "ID")[1]), "SKIPME",
                      "no") == (":", 1)
        with pytest.raises(ConnectionError):
            a.call("PING")
    finally:
        for client in (a, b, c):
            client.close()


# ---------------------------------------------------------------- DEBUG

def test_debug_sleep_blocks_the_whole_node(node):
    sleeper, other = RawClient(node.port), RawClient(node.port)
    try:
        thread = threading.Thread(target=sleeper.call, args=("DEBUG", "SLEEP", "0.5"))
        thread.start()

        def ping_was_held():
            # Before DEBUG SLEEP arrives a PING is answered at once; once it runs, the
            # whole node is asleep and a PING waits for it.
            start = time.monotonic()
            assert other.call("PING") == ("+", "PONG")
            return time.monotonic() - start > 0.25
        wait_until(ping_was_held, timeout=5, interval=0.001,
                   message="a PING held by DEBUG SLEEP")
        thread.join(5)
    finally:
        sleeper.close()
        other.close()


def test_debug_object_and_errors(raw):
    raw.call("SET", "n", "12345")
    raw.call("SET", "s", "x" * 50)
    assert re.match(r"Value at:0x[0-9a-f]+ refcount:1 encoding:int serializedlength:\d+ "
                    r"lru:\d+ lru_seconds_idle:\d+$", raw.call("DEBUG", "OBJECT", "n")[1])
    assert "encoding:raw" in raw.call("DEBUG", "OBJECT", "s")[1]
    assert raw.call("DEBUG", "OBJECT", "nokey") == ("-", "ERR no such key")
    assert raw.call("DEBUG", "FOO") == ("-", "ERR unknown subcommand or wrong number of "
                                             "arguments for 'FOO'. Try DEBUG HELP.")
    assert raw.call("DEBUG", "SLEEP", "0") == ("+", "OK")
    assert raw.call("DEBUG", "HELP")[0] == "*"


def test_debug_set_active_expire(raw):
    assert raw.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == ("+", "OK")
    try:
        raw.call("SET", "k", "v", "PX", "20")
        time.sleep(0.4)                              # several active-expire cycles
        assert raw.call("DBSIZE") == (":", 1)        # DBSIZE does not expire lazily
    finally:
        assert raw.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == ("+", "OK")
    wait_until(lambda: raw.call("DBSIZE") == (":", 0), timeout=5,
               message="the active expire cycle to remove the key")


# ---------------------------------------------------------------- process lifetime

def test_shutdown_exits_0():
    node = start_node(slots=False)
    try:
        c = RawClient(node.port)
        c.send_raw(RawClient.encode(["SHUTDOWN", "NOSAVE"]))
        with pytest.raises(ConnectionError):
            c.read_reply()                           # no reply: the node closes and exits
        assert wait_exit(node) == 0
    finally:
        node.stop()


def test_sigterm_exits_0():
    node = start_node(slots=False)
    try:
        RawClient(node.port).call("PING")
        node.signal(signal.SIGTERM)
        assert wait_exit(node) == 0
        # redis-server's lines for it, in order, the last one last.
        said = [REDIS_LOG_LINE.match(line).group(4, 5)
                for line in node.output().strip().splitlines()]
        steps = [("#", "Received SIGTERM scheduling shutdown..."),
                 ("#", "User requested shutdown..."),
                 ("#", "Redis is now ready to exit, bye bye...")]
        assert [s for s in said if s in steps] == steps and said[-1] == steps[-1], said
    finally:
        node.stop()


def test_second_node_on_the_same_cluster_config_file_exits_1():
    first = start_node("--cluster-config-file", "shared.conf", slots=False)
    try:
        proc = subprocess.run([PYTHON, os.path.join(ROOT, "node.py"), "-p", str(free_port()),
                               "--dir", first.cwd, "--cluster-config-file", "shared.conf"],
                              capture_output=True, text=True, timeout=20)
        output = (proc.stdout + proc.stderr).strip()
        assert proc.returncode == 1
        last = output.splitlines()[-1]
        assert REDIS_LOG_LINE.match(last) and "Traceback" not in output, output
        assert "already used by a different Redis Cluster node" in last
        assert RawClient(first.port).call("PING") == ("+", "PONG")
        # The refused node left the first one's lock in place: a third is refused too.
        assert os.path.exists(os.path.join(first.cwd, "shared.conf.lock"))
        first.signal(signal.SIGTERM)
        assert wait_exit(first) == 0
        assert not os.path.exists(os.path.join(first.cwd, "shared.conf.lock"))
    finally:
        first.stop()


def test_config_rewrite_updates_the_start_up_file(tmp_path):
    """What `redis-cli --cluster set-timeout` does: CONFIG SET + CONFIG REWRITE."""
    port = free_port()
    conf = tmp_path / "node.conf"
    conf.write_text("# my node\nport %d\nmaxclients 50\n" % port)
    node = start_node(str(conf), port=port, cwd=str(tmp_path), slots=False)
    try:
        c = RawClient(node.port)
        assert c.call("CONFIG", "SET", "cluster-node-timeout", "5000") == ("+", "OK")
        assert c.call("CONFIG", "SET", "maxclients", "60") == ("+", "OK")
        assert c.call("CONFIG", "REWRITE") == ("+", "OK")
        lines = conf.read_text().splitlines()
        assert lines[0] == "# my node"
        assert "maxclients 60" in lines and "cluster-node-timeout 5000" in lines
    finally:
        node.stop()


def test_redis_py_cluster_client_starts_on_our_command_table():
    """RedisCluster: CLUSTER SLOTS, then COMMAND for its CommandsParser, then routing."""
    from redis.cluster import RedisCluster
    node = start_node()                   # a one-node cluster owning every slot
    try:
        rc = RedisCluster(host="127.0.0.1", port=node.port, decode_responses=True)
        try:
            assert rc.set("a", "1") is True and rc.get("a") == "1"
            parser = rc.commands_parser
            assert parser.get_keys(rc, "MSET", "a", "1", "b", "2") == ["a", "b"]
            assert rc.delete("a") == 1
        finally:
            rc.close()
    finally:
        node.stop()


def test_clients_closed_by_another_greenlet_while_waiting_for_input_go_away():
    """A client waiting for its next request whose socket is closed by someone else
    (CLIENT KILL, a subscriber over its output buffer limit closed by the publisher):
    its greenlet gets the close as an error and ends, nothing is left behind."""
    proc = start_node()
    try:
        admin = RawClient(proc.port)
        admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1024 0 0")
        idle = RawClient(proc.port)
        idle_id = idle.call("CLIENT", "ID")[1]
        subscriber = RawClient(proc.port)
        subscriber.call("SUBSCRIBE", "news")
        assert admin.call("CLIENT", "KILL", "ID", str(idle_id)) == (":", 1)
        admin.call("PUBLISH", "news", "x" * 4096)          # over the subscriber's limit

        def clients():
            text = admin.call("INFO", "clients")[1].decode()
            return int(re.search(r"connected_clients:(\d+)", text).group(1))
        wait_until(lambda: clients() == 1, timeout=5, message="only the admin left")
        assert admin.call("PING") == ("+", "PONG")
        for client in (admin, idle, subscriber):
            client.close()
        log = proc.output()
        assert "Traceback" not in log and "AttributeError" not in log, log
    finally:
        proc.stop()
