"""Configuration beyond CONFIG GET/SET replies: the command line, CONFIG REWRITE against
redis-server's own rewrite, CONFIG SET port/bind re-listening, and the parameters this
branch made take effect (timeout, enable-debug-command, enable-protected-configs,
pidfile)."""
import os
import signal
import socket
import subprocess
import tempfile

import pytest

from commands.server.command_line import parse_arguments
from commands.server.config_table import lookup
from tests.helpers import (PYTHON, ROOT, Process, RawClient, free_port, port_open,
                           start_node, start_redis, wait_until)


def config_get(client, name):
    reply = client.call("CONFIG", "GET", name)[1]
    return reply[1][1].decode() if reply else None


# ---------------------------------------------------------------- the command line

@pytest.fixture(scope="module")
def configured():
    """One node started with multi-word options, aliases, a deprecated directive and the
    parameters whose effects the tests below check."""
    folder = tempfile.mkdtemp(prefix="conf-")
    pidfile = os.path.join(folder, "node.pid")
    unixsocket = os.path.join(folder, "node.sock")
    node = start_node("--save", "60", "1", "300", "10",
                      "--unixsocket", unixsocket, "--unixsocketperm", "700",
                      "--server_cpulist", "0", "--appendonly", "yes",
                      "--aof-timestamp-enabled", "yes", "--bind-source-addr", "127.0.0.2",
                      "--client-output-buffer-limit", "normal 1mb 2mb 3",
                      "--hash-max-ziplist-entries", "7", "--slave-read-only", "no",
                      "--list-max-ziplist-entries", "5", "--timeout", "1",
                      "--enable-debug-command", "no", "--enable-protected-configs", "yes",
                      "--pidfile", pidfile, cwd=folder)
    node.pidfile, node.unixsocket = pidfile, unixsocket
    yield node
    node.stop()


def test_command_line_multi_word_values_and_aliases(configured):
    c = RawClient(configured.port)
    try:
        assert config_get(c, "save") == "60 1 300 10"
        assert config_get(c, "client-output-buffer-limit").startswith("normal 1048576 2097152 3 ")
        assert config_get(c, "hash-max-listpack-entries") == "7"
        assert config_get(c, "replica-read-only") == "no"
    finally:
        c.close()


# ---------------------------------------------------------------- effects

def test_unixsocket(configured):
    assert os.stat(configured.unixsocket).st_mode & 0o777 == 0o700
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(configured.unixsocket)
    sock.settimeout(5)
    sock.sendall(b"CLIENT INFO\r\n")
    reply = b""
    while not reply.endswith(b"\r\n") or reply.count(b"\r\n") < 2:
        reply += sock.recv(4096)
    fields = dict(f.split("=", 1) for f in reply.decode().split("\r\n")[1].split())
    # As redis-server 7.0: the socket's path for both ends, and flag U.
    assert fields["addr"] == fields["laddr"] == configured.unixsocket + ":0"
    assert fields["flags"] == "U"
    sock.sendall(b"DEBUG SLEEP 0\r\n")          # "no" refuses local clients too
    assert sock.recv(100).startswith(b"-ERR DEBUG command not allowed")
    sock.close()


def test_server_cpulist_pins_the_process(configured):
    assert os.sched_getaffinity(configured.pid) == {0}


def test_aof_timestamps(configured):
    c = RawClient(configured.port)
    assert c.call("SET", "stamped", "1") == ("+", "OK")
    c.close()
    folder = os.path.join(configured.cwd, "appendonlydir")

    def stamped():
        incr = [n for n in os.listdir(folder) if n.endswith(".incr.aof")]
        with open(os.path.join(folder, incr[0]), "rb") as f:
            data = f.read()
        return data.startswith(b"#TS:") and b"stamped" in data
    wait_until(stamped, timeout=5, message="a #TS annotation in the incr file")
    manifest = [n for n in os.listdir(folder) if n.endswith(".manifest")][0]
    check = subprocess.run(["redis-check-aof", os.path.join(folder, manifest)],
                           capture_output=True, text=True, timeout=10)
    assert "is valid" in check.stdout, check.stdout + check.stderr


def test_bind_source_addr_for_bus_links(configured):
    peer = socket.socket()
    peer.bind(("127.0.0.1", 0))
    peer.listen(1)
    peer.settimeout(10)
    c = RawClient(configured.port)
    try:
        bus_port = peer.getsockname()[1]
        assert c.call("CLUSTER", "MEET", "127.0.0.1", "1", bus_port) == ("+", "OK")
        conn, address = peer.accept()
        assert address[0] == "127.0.0.2"
        conn.close()
    finally:
        c.close()               # the handshake with no one times out by itself
        peer.close()


def test_pidfile_written_and_removed(configured):
    with open(configured.pidfile) as f:
        assert int(f.read()) == configured.pid


def test_debug_refused_as_redis_refuses_it(configured):
    redis = start_redis("--enable-debug-command", "no")
    try:
        ours, ref = RawClient(configured.port), RawClient(redis.port)
        assert ours.call("DEBUG", "SLEEP", "0") == ref.call("DEBUG", "SLEEP", "0")
        assert ours.call("DEBUG", "SLEEP", "0")[0] == "-"
        for client in (ours, ref):
            client.close()
    finally:
        redis.stop()


def test_protected_configs_when_enabled(configured):
    c = RawClient(configured.port)
    other = tempfile.mkdtemp(prefix="dir-")
    try:
        assert c.call("CONFIG", "SET", "dir", other) == ("+", "OK")
        assert config_get(c, "dir") == other
        assert c.call("CONFIG", "SET", "dbfilename", "other.rdb") == ("+", "OK")
        assert c.call("SAVE") == ("+", "OK")
        assert os.path.exists(os.path.join(other, "other.rdb"))
        assert c.call("CONFIG", "SET", "dir", configured.cwd, "dbfilename", "dump.rdb") == \
            ("+", "OK")
    finally:
        c.close()


def test_timeout_closes_idle_clients_but_not_subscribers(configured):
    idle, subscriber = RawClient(configured.port), RawClient(configured.port)
    blocked = RawClient(configured.port)
    subscriber.call("SUBSCRIBE", "news")
    idle.call("PING")
    # A blocked client waits on its own timeout, as in Redis's clientsCronHandleTimeout.
    blocked.sock.sendall(b"*3\r\n$5\r\nBLPOP\r\n$7\r\nnothing\r\n$1\r\n3\r\n")

    def closed(client):
        try:
            client.sock.settimeout(0.05)
            return client.sock.recv(1, socket.MSG_PEEK) == b""   # nothing consumed
        except socket.timeout:
            return False
    wait_until(lambda: closed(idle), timeout=5, message="the idle client to be closed")
    assert not closed(subscriber) and not closed(blocked)
    subscriber.close()
    blocked.sock.settimeout(5)
    assert blocked.sock.recv(10) == b"*-1\r\n"            # BLPOP's own timeout
    blocked.close()


# ---------------------------------------------------------------- CONFIG SET port / bind

def test_config_set_port_and_bind_relisten():
    node = start_node("--watchdog-period", "300")
    try:
        old_port = node.port
        kept = RawClient(old_port)
        new_port = free_port()
        assert kept.call("CONFIG", "SET", "port", new_port) == ("+", "OK")
        assert kept.call("PING") == ("+", "PONG")           # connected clients stay
        assert not port_open(old_port)
        fresh = RawClient(new_port)
        assert config_get(fresh, "port") == str(new_port)
        myself = [line for line in fresh.call("CLUSTER", "NODES")[1].decode().splitlines()
                  if "myself" in line][0]
        assert ":%d@%d " % (new_port, old_port + 10000) in myself   # the bus stays
        # A port someone else holds: Redis's error, and the old listener stays.
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        assert fresh.call("CONFIG", "SET", "port", busy) == (
            "-", "ERR CONFIG SET failed (possibly related to argument 'port') - "
                 "Unable to listen on this port. Check server logs.")
        taken.close()
        assert config_get(fresh, "port") == str(new_port) and port_open(new_port)
        assert fresh.call("CONFIG", "SET", "bind", "192.0.2.1") == (
            "-", "ERR CONFIG SET failed (possibly related to argument 'bind') - "
                 "Failed to bind to specified addresses.")
        assert config_get(fresh, "bind") == "127.0.0.1" and port_open(new_port)
        assert fresh.call("CONFIG", "SET", "bind", "127.0.0.1 -::1") == ("+", "OK")
        assert RawClient(new_port).call("PING") == ("+", "PONG")
        # hz: the cron's rate, shown by INFO (hz and configured_hz).
        assert fresh.call("CONFIG", "SET", "hz", "50") == ("+", "OK")
        wait_until(lambda: "\r\nhz:50\r\n" in fresh.call("INFO", "server")[1].decode(),
                   timeout=5, message="INFO hz:50")
        # watchdog-period: a blocked event loop has every stack logged.
        assert fresh.call("DEBUG", "SLEEP", "0.8") == ("+", "OK")
        wait_until(lambda: "most recent call first" in node.output(), timeout=5,
                   message="the watchdog's stack dump")
        for client in (kept, fresh):
            client.close()
    finally:
        node.stop()


# ---------------------------------------------------------------- CONFIG REWRITE

CONFIG_FILE = """# A redis.conf of our own
port {port}

# the old ziplist name of a listpack setting
hash-max-ziplist-entries 100
save 900 1
save 300 10
# loglevel stays where it is
loglevel notice
timeout 0
slave-priority 50
list-max-ziplist-entries 128
"""

SETS = [("hash-max-listpack-entries", "200"), ("timeout", "30"), ("save", "60 5"),
        ("zset-max-listpack-value", "32"), ("slave-read-only", "no"),
        ("client-output-buffer-limit", "pubsub 64mb 16mb 90"), ("hz", "20"),
        ("cluster-announce-hostname", "node-a"), ("maxmemory-policy", "allkeys-lru"),
        ("appendfsync", "always"), ("oom-score-adj-values", "0 100 900")]
# Lines that differ by design (where each runs, what each was started with) or that
# only Redis writes (its ACL users: issue 15).
IGNORED = ("port ", "dir ", "cluster-config-file ", "cluster-enabled ", "bind ", "user ",
           "enable-debug-command ", "repl-diskless-sync-delay ", "appendonly ")


def rewritten(path):
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if not line.startswith(IGNORED)]
    signature = lines.index("# Generated by CONFIG REWRITE")
    return lines[:signature], sorted(lines[signature:])


def test_config_rewrite_writes_what_redis_writes():
    folders = [tempfile.mkdtemp(prefix="rewrite-") for _ in range(2)]
    ports = [free_port(), free_port()]
    confs = []
    for folder, port in zip(folders, ports):
        confs.append(os.path.join(folder, "node.conf"))
        with open(confs[-1], "w") as f:
            f.write(CONFIG_FILE.format(port=port))
    node = start_node(confs[0], port=ports[0], cwd=folders[0])
    redis = Process(["redis-server", confs[1], "--dir", folders[1], "--appendonly", "no",
                     "--cluster-enabled", "yes", "--cluster-config-file",
                     os.path.join(folders[1], "nodes.conf")],
                    ports[1], folders[1], os.path.join(folders[1], "redis.log"))
    try:
        redis.wait_ready()
        ours, ref = RawClient(ports[0]), RawClient(ports[1])
        for name, value in SETS:
            assert ours.call("CONFIG", "SET", name, value) == \
                ref.call("CONFIG", "SET", name, value) == ("+", "OK"), name
        assert ours.call("CONFIG", "REWRITE") == ref.call("CONFIG", "REWRITE") == ("+", "OK")
        assert rewritten(confs[0]) == rewritten(confs[1])
        with open(confs[0]) as f:
            text = f.read()
        # A deprecated directive Redis ignores is commented out, as Redis does.
        assert "# ??? list-max-ziplist-entries 128" in text
        # Only the class that differs from its default is written.
        assert text.count("client-output-buffer-limit") == 1
        # The rewritten file gives the same values when a node starts from it.
        again = parse_arguments([confs[0], "--dir", folders[0]])
        for name, value in SETS:
            assert again.format(lookup(name)[1]) == config_get(ref, name), name
        ours.close()
        ref.close()
    finally:
        node.stop()
        redis.stop()


# ---------------------------------------------------------------- daemonize, supervised

def test_daemonize_writes_its_pidfile_and_serves():
    folder = tempfile.mkdtemp(prefix="daemon-")
    port, pidfile = free_port(), os.path.join(folder, "d.pid")
    started = subprocess.run([PYTHON, os.path.join(ROOT, "node.py"), "-p", str(port),
                              "--dir", folder, "--daemonize", "yes", "--pidfile", pidfile,
                              "--logfile", os.path.join(folder, "d.log")],
                             capture_output=True, timeout=10)
    assert started.returncode == 0 and started.stdout == started.stderr == b""
    pid = None
    try:
        wait_until(lambda: os.path.exists(pidfile) and port_open(port), timeout=10,
                   message="the daemon to listen")
        with open(pidfile) as f:
            pid = int(f.read())
        assert os.getsid(pid) == pid                   # its own session
        client = RawClient(port)
        assert client.call("PING") == ("+", "PONG")
        assert config_get(client, "daemonize") == "yes"
        client.close()
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)


def test_supervised_systemd_is_notified(monkeypatch):
    folder = tempfile.mkdtemp(prefix="systemd-")
    address = os.path.join(folder, "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    pidfile = os.path.join(folder, "n.pid")
    node = start_node("--supervised", "auto", "--daemonize", "yes", "--pidfile", pidfile,
                      cwd=folder, slots=False)
    try:
        assert listener.recv(100) == b"STATUS=Ready to accept connections\n"
        assert listener.recv(100) == b"READY=1\n"
        client = RawClient(node.port)
        assert "process_supervised:systemd" in client.call("INFO", "server")[1].decode()
        client.close()
        assert os.path.exists(pidfile)
        node.signal(signal.SIGTERM)
        assert listener.recv(100) == b"STOPPING=1\n"
        node.proc.wait(10)
        assert not os.path.exists(pidfile)          # removed at exit
    finally:
        node.stop()
        listener.close()
