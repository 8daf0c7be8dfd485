"""TLS (tls-port, tls-auth-clients, tls-replication, tls-cluster) with certificates made
at test time (tests/tls_certs.py): redis-cli --tls and redis-py ssl=True against our
node, a client without a certificate refused, CONFIG SET remaking the contexts, a
3-master cluster whose bus and replica link are TLS served to RedisCluster over TLS,
and our node and a TLS redis-server meeting on a TLS bus."""
import socket
import ssl
import subprocess
import tempfile

import pytest
import redis
from redis.cluster import RedisCluster

from tests.helpers import (RawClient, free_port, start_node, start_redis,
                           wait_until)
from tests.tls_certs import make_certs


@pytest.fixture(scope="module")
def certs():
    return make_certs(tempfile.mkdtemp(prefix="tls-certs-"))


@pytest.fixture
def procs():
    started = []
    yield started
    for proc in started:
        proc.stop()


_USED_PORTS = set()      # every port this module picked: no two starts get the same one


def new_port():
    return free_port(_USED_PORTS)


def cli(port, certs, *args, with_cert=True):
    out = subprocess.run(["redis-cli", "-p", str(port), *certs.cli_args(with_cert), *args],
                         capture_output=True, text=True, timeout=20)
    return (out.stdout + out.stderr).strip()


def tls_client(port, certs, **kwargs):
    return redis.Redis(port=port, socket_timeout=10, **certs.redis_py(), **kwargs)


def test_redis_cli_and_redis_py_over_tls(certs, procs):
    tls_port = new_port()
    node = start_node(*certs.node_args(tls_port), port=new_port())
    procs.append(node)
    assert cli(tls_port, certs, "SET", "greeting", "hello") == "OK"
    assert cli(tls_port, certs, "GET", "greeting") == "hello"
    client = tls_client(tls_port, certs)
    big = b"x" * 300_000                     # many TLS records each way
    client.set("big", big)
    assert client.get("big") == big
    with client.pipeline(transaction=False) as pipe:
        for i in range(500):
            pipe.set("k%d" % i, i)
            pipe.get("k%d" % i)
        replies = pipe.execute()
    assert replies[1::2] == [b"%d" % i for i in range(500)]
    # The plain port serves the same data alongside.
    assert RawClient(node.port).call("GET", "greeting") == ("$", b"hello")
    assert "tls-port" in cli(tls_port, certs, "CONFIG", "GET", "tls-port")


def test_auth_clients_yes_refuses_a_client_without_certificate(certs, procs):
    tls_port = new_port()
    node = start_node(*certs.node_args(tls_port), port=new_port())
    procs.append(node)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _raw_ping(tls_port, certs, with_cert=False)
    assert _raw_ping(tls_port, certs) == b"+PONG\r\n"
    # optional: a certificate is checked when sent, not required.
    admin = RawClient(node.port)
    assert admin.call("CONFIG", "SET", "tls-auth-clients", "optional") == ("+", "OK")
    assert _raw_ping(tls_port, certs, with_cert=False) == b"+PONG\r\n"
    bare = redis.Redis(port=tls_port, socket_timeout=5,
                       **certs.redis_py(with_client_cert=False))
    assert bare.ping() is True
    assert admin.call("CONFIG", "SET", "tls-auth-clients", "yes") == ("+", "OK")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _raw_ping(tls_port, certs, with_cert=False)


def test_tls_port_only_and_config_set_reloads(certs, procs):
    tls_port = new_port()
    node = start_node("--port", "0", *certs.node_args(tls_port), port=new_port(), wait=False)
    procs.append(node)
    client = tls_client(tls_port, certs)
    wait_until(lambda: client.ping(), timeout=15, message="the TLS port")
    assert client.config_get("port") == {"port": "0"}
    with pytest.raises(OSError):
        RawClient(node.port, timeout=1)          # nothing listens on a plain port
    # A bad value is refused with Redis's error and the old contexts stay.
    for name, value in (("tls-protocols", "TLSv9"), ("tls-cert-file", "/nonexistent"),
                        ("tls-ciphersuites", "NO_SUCH_SUITE"), ("tls-ciphers", "NOPE")):
        with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration. "
                                                      "Check server logs."):
            client.config_set(name, value)
    assert tls_client(tls_port, certs).ping()
    # tls-protocols TLSv1.3 only: a TLS 1.2 client is refused.
    assert client.config_set("tls-protocols", "TLSv1.3")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _raw_ping(tls_port, certs, max_version=ssl.TLSVersion.TLSv1_2)
    assert client.config_set("tls-protocols", "TLSv1.2 TLSv1.3")
    assert _raw_ping(tls_port, certs, max_version=ssl.TLSVersion.TLSv1_2) == b"+PONG\r\n"
    # tls-port moves the TLS listener; a cert file set again is re-read (VOLATILE).
    moved = new_port()
    assert client.config_set("tls-port", moved)
    assert tls_client(moved, certs).ping()
    assert client.config_set("tls-cert-file", certs.server_cert)


def _raw_ping(port, certs, with_cert=True, max_version=None) -> bytes:
    """PING over a fresh TLS connection (no client library retries); a refusal is an
    ssl.SSLError or a closed connection (ConnectionError)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.load_verify_locations(certs.ca)
    if with_cert:
        context.load_cert_chain(certs.client_cert, certs.client_key)
    if max_version is not None:
        context.maximum_version = max_version
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(100)
    if not reply:
        raise ConnectionError("closed by the server")
    return reply


def test_startup_refuses_tls_without_certificate(procs):
    tls_port = new_port()
    node = start_node("--tls-port", str(tls_port), port=new_port(), wait=False)
    procs.append(node)
    wait_until(lambda: node.proc.poll() is not None, timeout=15, message="exit")
    assert node.proc.returncode == 1
    assert "Failed to configure TLS" in node.output()
    assert "No tls-cert-file configured!" in node.output()


def _cluster_nodes(client):
    return client.execute_command("CLUSTER", "NODES")


def test_tls_cluster_with_replica_and_redis_cluster_client(certs, procs):
    """3 masters + 1 replica of ours: every bus link and the replica link over TLS."""
    ports, tls_ports = [], []
    for _ in range(4):
        tls_port = new_port()
        proc = start_node(*certs.node_args(tls_port), "--tls-cluster", "yes",
                          "--tls-replication", "yes", "--cluster-node-timeout", "2000",
                          slots=False, port=new_port())
        procs.append(proc)
        ports.append(proc.port)
        tls_ports.append(tls_port)
    admins = [RawClient(port) for port in ports]
    for admin in admins[1:]:
        assert admin.call("CLUSTER", "MEET", "127.0.0.1", str(tls_ports[0])) == ("+", "OK")
    ranges = [(0, 5460), (5461, 10922), (10923, 16383)]
    for admin, (low, high) in zip(admins, ranges):
        admin.call("CLUSTER", "ADDSLOTSRANGE", str(low), str(high))

    def all_known():
        return all(admin.call("CLUSTER", "NODES")[1].count(b"connected") == 4
                   and b"handshake" not in admin.call("CLUSTER", "NODES")[1]
                   for admin in admins)
    wait_until(all_known, timeout=30, interval=0.2, message="every node known over TLS")
    # The bus ports derive from the TLS ports and CLUSTER NODES (to a TLS client)
    # announces them.
    nodes = tls_client(tls_ports[0], certs).execute_command("CLUSTER", "NODES").decode()
    for tls_port in tls_ports:
        assert "127.0.0.1:%d@%d" % (tls_port, tls_port + 10000) in nodes
    first_id = admins[0].call("CLUSTER", "MYID")[1].decode()
    assert admins[3].call("CLUSTER", "REPLICATE", first_id) == ("+", "OK")
    wait_until(lambda: all(b"cluster_state:ok" in a.call("CLUSTER", "INFO")[1]
                           for a in admins), timeout=30, interval=0.2, message="cluster ok")
    cluster = RedisCluster(host="127.0.0.1", port=tls_ports[1], socket_timeout=10,
                           **certs.redis_py())
    for i in range(200):
        cluster.set("key:%d" % i, i)
    assert [cluster.get("key:%d" % i) for i in range(200)] == [b"%d" % i for i in range(200)]
    # The replica synced over TLS (only its TLS connection could reach the master's TLS
    # port it was given) and serves the master's keys.
    wait_until(lambda: b"master_link_status:up" in admins[3].call("INFO", "replication")[1],
               timeout=30, interval=0.2, message="the replica link up")
    info = admins[3].call("INFO", "replication")[1].decode()
    assert "master_port:%d" % tls_ports[0] in info
    replica = tls_client(tls_ports[3], certs)
    replica.execute_command("READONLY")
    owned = [i for i in range(200) if cluster.keyslot("key:%d" % i) <= 5460]
    wait_until(lambda: replica.get("key:%d" % owned[-1]) == b"%d" % owned[-1], timeout=15,
               message="the write reaching the replica")
    # A plain client is told the plaintext ports (Redis's pport), a TLS one the TLS ports:
    # in CLUSTER NODES, SLOTS and MOVED; SHARDS names both.
    plain_of = dict(zip(tls_ports, ports))

    def plain_view_complete():
        text = admins[0].call("CLUSTER", "NODES")[1].decode()
        return all("127.0.0.1:%d@%d" % (p, t + 10000) in text for t, p in plain_of.items())
    wait_until(plain_view_complete, timeout=20, interval=0.2, message="pports learned")
    tls_text = tls_client(tls_ports[0], certs).execute_command("CLUSTER", "NODES").decode()
    assert all("127.0.0.1:%d@%d" % (t, t + 10000) in tls_text for t in tls_ports)
    slot_of_foo = cluster.keyslot("foo")
    owner = next(i for i, (low, high) in enumerate(ranges) if low <= slot_of_foo <= high)
    asker = (owner + 1) % 3
    assert admins[asker].call("GET", "foo") == (
        "-", "MOVED %d 127.0.0.1:%d" % (slot_of_foo, ports[owner]))
    with pytest.raises(redis.ResponseError, match="%d 127.0.0.1:%d$"
                       % (slot_of_foo, tls_ports[owner])):
        tls_client(tls_ports[asker], certs).get("foo")
    # MIGRATE reaches its target over TLS (the target's answer, not an I/O error: it
    # does not import the slot), cooperatively and blocking (inside EXEC).
    admins[owner].call("SET", "foo", "bar")
    target = tls_ports[asker]
    reply = admins[owner].call("MIGRATE", "127.0.0.1", str(target), "foo", "0", "5000")
    assert reply[0] == "-" and "Target instance replied with error: MOVED" in reply[1], reply
    admins[owner].call("MULTI")
    admins[owner].call("MIGRATE", "127.0.0.1", str(target), "foo", "0", "5000")
    reply = admins[owner].call("EXEC")
    assert "Target instance replied with error: MOVED" in reply[1][0][1], reply
    seen = 0
    for shard in admins[0].call("CLUSTER", "SHARDS")[1]:
        for node in shard[1][3][1]:
            values = [value for _, value in node[1]]
            fields = dict(zip(values[::2], values[1::2]))
            assert plain_of[fields[b"tls-port"]] == fields[b"port"]
            seen += 1
    assert seen == 4


def test_mixed_tls_bus_with_redis_server(certs, procs):
    """Our node and a redis-server built with TLS meet over a TLS cluster bus."""
    redis_tls = new_port()
    server = start_redis(*certs.node_args(redis_tls), "--tls-cluster", "yes",
                         "--tls-replication", "yes", cluster=True, port=new_port())
    procs.append(server)
    ours_tls = new_port()
    ours = start_node(*certs.node_args(ours_tls), "--tls-cluster", "yes", slots=False,
                      port=new_port())
    procs.append(ours)
    admin = RawClient(ours.port)
    assert admin.call("CLUSTER", "MEET", "127.0.0.1", str(redis_tls)) == ("+", "OK")
    theirs = RawClient(server.port)

    def met():
        mine, their = admin.call("CLUSTER", "NODES")[1], theirs.call("CLUSTER", "NODES")[1]
        return mine.count(b"connected") == 2 and their.count(b"connected") == 2 \
            and b"handshake" not in mine + their
    wait_until(met, timeout=30, interval=0.2, message="the TLS bus between the two")
    # redis-server read our TLS port and our plaintext pport off the bus: it tells a
    # plain client the plain port, a TLS client the TLS port (and we do the same of it).
    wait_until(lambda: "127.0.0.1:%d@%d" % (ours.port, ours_tls + 10000)
               in theirs.call("CLUSTER", "NODES")[1].decode(), timeout=20, interval=0.2,
               message="redis-server learning our pport")
    tls_view = tls_client(redis_tls, certs).execute_command("CLUSTER", "NODES").decode()
    assert "127.0.0.1:%d@%d" % (ours_tls, ours_tls + 10000) in tls_view
    wait_until(lambda: "127.0.0.1:%d@%d" % (server.port, redis_tls + 10000)
               in admin.call("CLUSTER", "NODES")[1].decode(), timeout=20, interval=0.2,
               message="our node learning redis-server's pport")
