"""MIGRATE between two node.py processes, and against scripted targets (silent, slow).

Each node owns all 16384 slots of its own one-node cluster, so both serve every key:
what is tested here is the transfer, not the routing.
"""
import socket
import threading
import time

import hiredis
import pytest

from commands.families.dump import load_payload
from tests.helpers import RawClient, free_port, start_node, wait_until

OK = ("+", "OK")
NOKEY = ("+", "NOKEY")
IOERR_WRITING = ("-", "IOERR error or timeout writing to target instance")
IOERR_READING = ("-", "IOERR error or timeout reading to target instance")
BUSY = ("-", "ERR Target instance replied with error: BUSYKEY Target key name already "
             "exists.")


def _serve_all_slots(port):
    client = RawClient(port)
    try:
        reply = client.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        assert reply == OK or "busy" in reply[1], reply
        wait_until(lambda: b"cluster_state:ok" in client.call("CLUSTER", "INFO")[1],
                   timeout=15, message="cluster_state:ok on %d" % port)
    finally:
        client.close()


@pytest.fixture(scope="module")
def nodes():
    source, target = start_node(), start_node()
    locked = start_node("--requirepass", "s3cret")
    try:
        for proc in (source, target):
            _serve_all_slots(proc.port)
        admin = RawClient(locked.port)
        assert admin.call("AUTH", "s3cret") == OK
        assert admin.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383")[0] in "+-"
        wait_until(lambda: b"cluster_state:ok" in admin.call("CLUSTER", "INFO")[1],
                   timeout=15, message="cluster_state:ok on the locked node")
        admin.close()
        yield source, target, locked
    finally:
        for proc in (source, target, locked):
            proc.stop()


@pytest.fixture
def src(nodes):
    client = RawClient(nodes[0].port)
    client.call("FLUSHALL")
    yield client
    client.close()


@pytest.fixture
def dst(nodes):
    client = RawClient(nodes[1].port)
    client.call("FLUSHALL")
    yield client
    client.close()


def migrate(client, port, key, *options, db=0, timeout=5000, host="127.0.0.1"):
    return client.call("MIGRATE", host, port, key, db, timeout, *options)


# ---------------------------------------------------------------- the basic forms

def test_single_key_moves_with_its_ttl(nodes, src, dst):
    src.call("SET", "k", "value")
    src.call("PEXPIRE", "k", 100000)
    src.call("SET", "persistent", "p")
    assert migrate(src, nodes[1].port, "k") == OK
    assert src.call("EXISTS", "k") == (":", 0)
    assert dst.call("GET", "k") == ("$", b"value")
    assert 90000 < dst.call("PTTL", "k")[1] <= 100000
    assert migrate(src, nodes[1].port, "persistent") == OK
    assert dst.call("PTTL", "persistent") == (":", -1)


def test_missing_key_is_nokey(nodes, src, dst):
    assert migrate(src, nodes[1].port, "nope") == NOKEY
    assert migrate(src, nodes[1].port, "", "KEYS", "{t}a", "{t}b") == NOKEY
    assert migrate(src, nodes[1].port, "", "KEYS") == NOKEY
    assert dst.call("DBSIZE") == (":", 0)


def test_keys_form_moves_the_existing_keys(nodes, src, dst):
    src.call("MSET", "{t}a", "1", "{t}b", "2", "{t}c", "3")
    reply = migrate(src, nodes[1].port, "", "KEYS", "{t}a", "{t}missing", "{t}b", "{t}a")
    assert reply == OK
    assert src.call("MGET", "{t}a", "{t}b", "{t}c") == \
        ("*", [("$", None), ("$", None), ("$", b"3")])
    assert dst.call("MGET", "{t}a", "{t}b", "{t}c") == \
        ("*", [("$", b"1"), ("$", b"2"), ("$", None)])


def test_copy_keeps_the_source_key(nodes, src, dst):
    src.call("SET", "k", "v")
    assert migrate(src, nodes[1].port, "k", "COPY") == OK
    assert src.call("GET", "k") == ("$", b"v")
    assert dst.call("GET", "k") == ("$", b"v")
    # Same value on both sides: redis-cli --cluster fix compares these.
    assert src.call("DEBUG", "DIGEST-VALUE", "k") == dst.call("DEBUG", "DIGEST-VALUE", "k")


def test_busykey_without_replace_and_replace(nodes, src, dst):
    src.call("SET", "k", "new")
    dst.call("SET", "k", "old")
    assert migrate(src, nodes[1].port, "k") == BUSY
    assert src.call("GET", "k") == ("$", b"new")          # nothing lost on an error
    assert dst.call("GET", "k") == ("$", b"old")
    assert migrate(src, nodes[1].port, "k", "REPLACE") == OK
    assert src.call("EXISTS", "k") == (":", 0)
    assert dst.call("GET", "k") == ("$", b"new")


def test_keys_form_with_some_busy_keys(nodes, src, dst):
    src.call("MSET", "{t}a", "1", "{t}b", "2")
    dst.call("SET", "{t}a", "theirs")
    assert migrate(src, nodes[1].port, "", "KEYS", "{t}a", "{t}b") == BUSY
    # As in Redis: the acknowledged key moved, the refused one stayed.
    assert src.call("MGET", "{t}a", "{t}b") == ("*", [("$", b"1"), ("$", None)])
    assert dst.call("GET", "{t}b") == ("$", b"2")


def test_other_db_is_refused_by_a_cluster_target(nodes, src, dst):
    src.call("SET", "k", "v")
    assert migrate(src, nodes[1].port, "k", db=3) == \
        ("-", "ERR Target instance replied with error: ERR SELECT is not allowed in "
              "cluster mode")
    assert src.call("GET", "k") == ("$", b"v")
    # As in Redis, the pipelined RESTORE ran anyway, in the db the connection is on;
    # the error only means the key was not deleted here.
    assert dst.call("GET", "k") == ("$", b"v")
    assert migrate(src, nodes[1].port, "k", "REPLACE") == OK   # the connection still works
    assert src.call("EXISTS", "k") == (":", 0)


def test_argument_errors(nodes, src):
    src.call("SET", "k", "v")
    port = nodes[1].port
    assert migrate(src, port, "k", "KEYS", "a") == \
        ("-", "ERR When using MIGRATE KEYS option, the key argument must be set to the "
              "empty string")
    assert migrate(src, port, "k", "BOGUS") == ("-", "ERR syntax error")
    assert migrate(src, port, "k", "AUTH") == ("-", "ERR syntax error")
    assert migrate(src, port, "k", "AUTH2", "user") == ("-", "ERR syntax error")
    assert src.call("MIGRATE", "127.0.0.1", port, "k", "0", "soon") == \
        ("-", "ERR value is not an integer or out of range")
    assert src.call("MIGRATE", "127.0.0.1", port, "k", "x", "100") == \
        ("-", "ERR value is not an integer or out of range")
    assert src.call("MIGRATE", "127.0.0.1", port, "k", "0") == \
        ("-", "ERR wrong number of arguments for 'migrate' command")
    assert src.call("GET", "k") == ("$", b"v")


def test_command_getkeys_finds_the_keys(src):
    assert src.call("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "1") == \
        ("*", [("$", b"k")])
    assert src.call("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "1", "COPY",
                    "KEYS", "a", "b") == ("*", [("$", b"a"), ("$", b"b")])


# ---------------------------------------------------------------- AUTH

def test_auth_to_a_password_protected_target(nodes, src):
    port = nodes[2].port
    src.call("SET", "k", "v")
    assert migrate(src, port, "k") == \
        ("-", "ERR Target instance replied with error: NOAUTH Authentication required.")
    assert migrate(src, port, "k", "AUTH", "wrong") == \
        ("-", "ERR Target instance replied with error: WRONGPASS invalid username-password "
              "pair or user is disabled.")
    assert src.call("GET", "k") == ("$", b"v")
    assert migrate(src, port, "k", "AUTH", "s3cret") == OK
    src.call("SET", "k2", "v2")
    assert migrate(src, port, "k2", "AUTH2", "default", "s3cret") == OK
    locked = RawClient(port)
    try:
        assert locked.call("AUTH", "s3cret") == OK
        assert locked.call("GET", "k") == ("$", b"v")
        assert locked.call("GET", "k2") == ("$", b"v2")
        locked.call("FLUSHALL")
    finally:
        locked.close()


def test_auth_password_is_redacted_for_monitor(nodes, src):
    monitor = RawClient(nodes[0].port)
    try:
        assert monitor.call("MONITOR") == OK
        src.call("SET", "k", "v")
        migrate(src, nodes[2].port, "k", "AUTH", "s3cret", "COPY")
        lines = [monitor.read_reply()[1] for _ in range(2)]
        assert "s3cret" not in lines[1] and '"(redacted)"' in lines[1], lines
    finally:
        monitor.close()


# ---------------------------------------------------------------- I/O errors and timeouts

def test_nothing_listening_is_ioerr(src):
    src.call("SET", "k", "v")
    assert migrate(src, free_port(), "k", timeout=500) == IOERR_WRITING
    assert src.call("GET", "k") == ("$", b"v")


def test_unresolvable_host_is_ioerr_connecting(src):
    src.call("SET", "k", "v")
    assert migrate(src, 1, "k", host="nonexistent.invalid", timeout=500) == \
        ("-", "IOERR error or timeout connecting to the client")


class ScriptedTarget:
    """A fake target on loopback: records every command it receives and answers +OK
    (or :1 to DEL) once `release` is set -- or never, when silent."""

    def __init__(self, silent=False):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.silent = silent
        self.commands = []
        self.release = threading.Event()
        self.stopped = False
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self.connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        reader = hiredis.Reader()
        while not self.stopped:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            reader.feed(data)
            command = reader.gets()
            while command is not False:
                self.commands.append(command)
                if not self.silent:
                    self.release.wait(10)
                    conn.sendall(b":1\r\n" if command[0] == b"DEL" else b"+OK\r\n")
                command = reader.gets()

    def close(self):
        self.stopped = True
        for conn in self.connections:
            conn.close()
        self.listener.close()


def test_silent_target_times_out_reading(src):
    target = ScriptedTarget(silent=True)
    try:
        src.call("SET", "k", "v")
        start = time.monotonic()
        assert migrate(src, target.port, "k", timeout=300) == IOERR_READING
        elapsed = time.monotonic() - start
        assert 0.25 < elapsed < 3.0, elapsed       # one timeout, no retry after it
        assert src.call("GET", "k") == ("$", b"v")
        assert target.commands[0][:2] == [b"RESTORE-ASKING", b"k"]
    finally:
        target.close()


def test_zero_timeout_means_one_second(src):
    target = ScriptedTarget(silent=True)
    try:
        src.call("SET", "k", "v")
        start = time.monotonic()
        assert migrate(src, target.port, "k", timeout=0) == IOERR_READING
        assert 0.9 < time.monotonic() - start < 4.0
    finally:
        target.close()


def test_a_closed_cached_connection_is_retried(nodes, src, dst):
    src.call("SET", "a", "1")
    assert migrate(src, nodes[1].port, "a") == OK
    # Kill the source's cached connection on the target side.
    clients = dst.call("CLIENT", "LIST")[1].decode().splitlines()
    ids = [line.split()[0].split("=")[1] for line in clients if "cmd=restore-asking" in line]
    assert len(ids) == 1, clients
    assert dst.call("CLIENT", "KILL", "ID", ids[0]) == (":", 1)
    src.call("SET", "b", "2")
    assert migrate(src, nodes[1].port, "b") == OK
    assert dst.call("GET", "b") == ("$", b"2")


def test_the_connection_is_cached(nodes, src, dst):
    for n in range(3):
        src.call("SET", "k%d" % n, "v")
        assert migrate(src, nodes[1].port, "k%d" % n) == OK
    clients = dst.call("CLIENT", "LIST")[1].decode().splitlines()
    assert sum("cmd=restore-asking" in line for line in clients) == 1, clients


# ---------------------------------------------------------------- keys changing in flight

def _migrate_in_thread(port, target_port, key, *options):
    result = {}

    def run():
        client = RawClient(port)
        try:
            result["reply"] = migrate(client, target_port, key, *options)
        finally:
            client.close()
    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_a_key_written_in_flight_is_sent_again_not_lost(nodes, src):
    target = ScriptedTarget()
    try:
        src.call("SET", "k", "old")
        thread, result = _migrate_in_thread(nodes[0].port, target.port, "k")
        wait_until(lambda: target.commands, message="the RESTORE-ASKING")
        assert src.call("SET", "k", "new") == OK            # while the copy is on the wire
        target.release.set()
        thread.join(10)
        assert result["reply"] == OK
        first, again = target.commands
        assert load_payload(first[3]) == b"old" and first[4:] == []
        assert again[:2] == [b"RESTORE-ASKING", b"k"] and again[4:] == [b"REPLACE"]
        assert load_payload(again[3]) == b"new"
        assert src.call("EXISTS", "k") == (":", 0)
    finally:
        target.close()


def test_a_key_deleted_in_flight_is_deleted_on_the_target(nodes, src):
    target = ScriptedTarget()
    try:
        src.call("SET", "k", "v")
        thread, result = _migrate_in_thread(nodes[0].port, target.port, "k")
        wait_until(lambda: target.commands, message="the RESTORE-ASKING")
        assert src.call("DEL", "k") == (":", 1)
        target.release.set()
        thread.join(10)
        assert result["reply"] == OK
        assert target.commands[1:] == [[b"ASKING"], [b"DEL", b"k"]]
    finally:
        target.close()


# ---------------------------------------------------------------- a big batch

def test_5000_keys_while_other_clients_are_served(nodes, src, dst):
    value = b"x" * 1000
    keys = ["{big}%d" % n for n in range(5000)]
    src.pipeline([["SET", key, value] for key in keys])
    assert src.call("DBSIZE") == (":", 5000)

    pinger = RawClient(nodes[0].port)
    latencies = []
    try:
        thread, result = _migrate_in_thread(nodes[0].port, nodes[1].port, "", "KEYS",
                                            *keys)
        deadline = time.monotonic() + 60
        while thread.is_alive():
            assert time.monotonic() < deadline, "MIGRATE of the keys did not finish in 60 s"
            start = time.monotonic()
            assert pinger.call("PING") == ("+", "PONG")
            latencies.append(time.monotonic() - start)
        thread.join()
    finally:
        pinger.close()
    assert result["reply"] == OK
    assert src.call("DBSIZE") == (":", 0)
    assert dst.call("DBSIZE") == (":", 5000)
    assert dst.call("GET", keys[-1]) == ("$", value)
    assert latencies, "the MIGRATE finished before the first PING"
    print("MIGRATE of 5000 keys: %d PINGs answered meanwhile, slowest %.1f ms"
          % (len(latencies), max(latencies) * 1000))
    assert max(latencies) < 0.5, (len(latencies), max(latencies))


def test_migrate_inside_exec(nodes, src, dst):
    src.call("MSET", "{t}a", "1", "{t}b", "2")
    assert src.call("MULTI") == OK
    assert src.call("MIGRATE", "127.0.0.1", nodes[1].port, "", 0, 5000, "KEYS", "{t}a",
                    "{t}b") == ("+", "QUEUED")
    assert src.call("EXISTS", "{t}a", "{t}b") == ("+", "QUEUED")
    assert src.call("EXEC") == ("*", [OK, (":", 0)])
    assert dst.call("MGET", "{t}a", "{t}b") == ("*", [("$", b"1"), ("$", b"2")])
    assert src.call("MULTI") == OK
    src.call("MIGRATE", "127.0.0.1", free_port(), "{t}a", 0, 300)
    assert src.call("EXEC") == ("*", [NOKEY])
    src.call("SET", "{t}c", "3")
    assert src.call("MULTI") == OK
    src.call("MIGRATE", "127.0.0.1", free_port(), "{t}c", 0, 300)
    assert src.call("EXEC") == ("*", [IOERR_WRITING])
    assert src.call("GET", "{t}c") == ("$", b"3")


def test_a_huge_timeout_is_accepted(nodes, src, dst):
    src.call("SET", "k", "v")
    assert src.call("MIGRATE", "127.0.0.1", nodes[1].port, "k", 0,
                    "9223372036854775807") == OK
    assert dst.call("GET", "k") == ("$", b"v")
