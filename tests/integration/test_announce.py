"""cluster-announce-ip/-port/-bus-port/-hostname, cluster-preferred-endpoint-type and
`bind` with several addresses, on real processes.

Behind NAT a node's peers must reach it at announced addresses, not at the ones it
listens on. Here a small TCP forwarder plays the NAT for each node's bus port: the node
listens on its own bus port and announces the forwarder's port, so the cluster only
forms if the announced bus port is what its peer uses. Each test pairs one of our nodes
(A) with a peer, ours or a real redis-server 7.0 (R), both with the same options, then
checks what each sees of the other (CLUSTER NODES), and that CLUSTER SLOTS, CLUSTER
SHARDS and MOVED follow cluster-preferred-endpoint-type. With a redis-server as the
peer the check is differential: both nodes describe the same two-node cluster, so
their CLUSTER SLOTS replies must be equal, and their MOVED replies the same shape.
"""
import shutil
import socket
import threading

import pytest

from tests.helpers import RawClient, free_port, start_node, start_redis, wait_until
from tests.integration.cluster_helpers import call, cluster_info, my_id, text

pytestmark = pytest.mark.timeout(120)
HAVE_REDIS = shutil.which("redis-server") is not None
NODE_TIMEOUT = "2000"


class Forwarder:
    """Accepts on a free loopback port and pipes each connection to `target_port`
    (the NAT in front of a node's bus port). Threads; stop() closes everything."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                inner, _ = self.listener.accept()
                outer = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                continue
            self.sockets += [inner, outer]
            for src, dst in ((inner, outer), (outer, inner)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.stopped = True
        self.listener.close()
        for s in self.sockets:
            s.close()


def node_line(port, node_id) -> str:
    for line in text(port, "CLUSTER", "NODES").splitlines():
        if line.startswith(node_id):
            return line
    return ""


def address_of(port, node_id) -> str:
    line = node_line(port, node_id)
    return line.split(" ")[1] if line else ""


def resp2(port, *args):
    client = RawClient(port, timeout=5)
    try:
        return client.call(*args)
    finally:
        client.close()


def shards_without_offsets(port):
    """CLUSTER SHARDS as plain maps, without what differs between the two answering
    nodes (replication offsets, which each knows differently)."""
    def as_dict(flat):      # a RESP2 array of alternating (type, key), (type, value)
        return {k[1]: v for k, v in zip(flat[::2], flat[1::2])}
    out = []
    for _, shard in resp2(port, "CLUSTER", "SHARDS")[1]:
        shard = as_dict(shard)
        nodes = []
        for _, node in shard[b"nodes"][1]:
            fields = as_dict(node)
            fields.pop(b"replication-offset")
            nodes.append(fields)
        out.append((shard[b"slots"], nodes))
    return sorted(out, key=repr)


@pytest.fixture
def procs():
    started = []
    yield started
    for p in started:
        p.stop()


@pytest.mark.parametrize("peer", ["ours", pytest.param(
    "redis", marks=pytest.mark.skipif(not HAVE_REDIS, reason="needs redis-server"))])
def test_announced_address_and_endpoint_types(procs, peer):
    forwarders = []
    try:
        # Bus ports picked first, so each node's forwarder can exist before it starts.
        a_port, r_port = free_port(), free_port()
        a_bus, r_bus = free_port({a_port, r_port}), free_port({a_port, r_port})
        fa, fr = Forwarder(a_bus), Forwarder(r_bus)
        forwarders += [fa, fr]
        a_announce, r_announce = free_port(), free_port()   # client ports "outside"

        def options(announce_port, fwd, hostname):
            return ["--cluster-node-timeout", NODE_TIMEOUT, "--cluster-announce-ip", "127.0.0.1",
                    "--cluster-announce-port", str(announce_port),
                    "--cluster-announce-bus-port", str(fwd.port),
                    "--cluster-announce-hostname", hostname]

        a = start_node(*options(a_announce, fa, "a-node.example"), "--cluster-port", str(a_bus),
                       port=a_port, slots=False)
        procs.append(a)
        r_opts = options(r_announce, fr, "r-node.example") + ["--cluster-port", str(r_bus)]
        if peer == "redis":
            r = start_redis(*r_opts, port=r_port, cluster=True)
        else:
            r = start_node(*r_opts, port=r_port, slots=False)
        procs.append(r)
        assert call(a_port, "CLUSTER", "ADDSLOTSRANGE", "0", "8191")[0] == "+"
        assert call(r_port, "CLUSTER", "ADDSLOTSRANGE", "8192", "16383")[0] == "+"
        a_id, r_id = my_id(a_port), my_id(r_port)

        # MEET through R's "NAT": the forwarder in front of its bus port.
        assert call(a_port, "CLUSTER", "MEET", "127.0.0.1", str(r_port), str(fr.port))[0] == "+"
        a_addr = "127.0.0.1:%d@%d,a-node.example" % (a_announce, fa.port)
        r_addr = "127.0.0.1:%d@%d,r-node.example" % (r_announce, fr.port)
        wait_until(lambda: address_of(a_port, r_id) == r_addr
                   and address_of(r_port, a_id) == a_addr, timeout=20,
                   message="each node to see the other's announced address and hostname")
        assert address_of(a_port, a_id) == a_addr and address_of(r_port, r_id) == r_addr
        wait_until(lambda: cluster_info(a_port)["cluster_state"] == "ok"
                   and cluster_info(r_port)["cluster_state"] == "ok", timeout=20,
                   message="cluster_state:ok on both")
        with open(a.cwd + "/nodes-%d.conf" % a_port) as f:
            assert "%s 127.0.0.1:%d@%d,r-node.example," % (r_id, r_announce, fr.port) in f.read()

        def key_in(low, high):
            return next(k for k in ("k%d" % i for i in range(100))
                        if low <= int(call(a_port, "CLUSTER", "KEYSLOT", k)[1]) <= high)
        key_on_a, key_on_r = key_in(0, 8191), key_in(8192, 16383)
        slot_a = int(call(a_port, "CLUSTER", "KEYSLOT", key_on_a)[1])
        slot_r = int(call(a_port, "CLUSTER", "KEYSLOT", key_on_r)[1])

        expected_endpoint = {"ip": ("127.0.0.1", "127.0.0.1"),
                             "hostname": ("r-node.example", "a-node.example"),
                             "unknown-endpoint": ("", "")}
        for kind, (r_endpoint, a_endpoint) in expected_endpoint.items():
            for port in (a_port, r_port):
                assert call(port, "CONFIG", "SET", "cluster-preferred-endpoint-type", kind) == ("+", "OK")
            assert call(a_port, "GET", key_on_r) == (
                "-", "MOVED %d %s:%d" % (slot_r, r_endpoint, r_announce))
            assert call(r_port, "GET", key_on_a) == (
                "-", "MOVED %d %s:%d" % (slot_a, a_endpoint, a_announce))
            # Each node lists the ranges in its own node-table order: compare them sorted.
            slots_a = sorted(resp2(a_port, "CLUSTER", "SLOTS")[1])
            assert slots_a == sorted(resp2(r_port, "CLUSTER", "SLOTS")[1]), kind
            # [start, end, [endpoint, port, id, {other addresses}]] (addNodeToNodeReply)
            r_entry = next(s[1][2][1] for s in slots_a if s[1][0][1] == 8192)
            assert r_entry[0] == (("$", r_endpoint.encode()) if r_endpoint else ("$", None))
            assert shards_without_offsets(a_port) == shards_without_offsets(r_port), kind

        # A node without a hostname is '?' when hostnames are preferred (Redis writes it).
        assert call(r_port, "CONFIG", "SET", "cluster-announce-hostname", "") == ("+", "OK")
        wait_until(lambda: address_of(a_port, r_id) == r_addr.split(",")[0], timeout=10,
                   message="A to see R's hostname cleared")
        assert call(a_port, "CONFIG", "SET", "cluster-preferred-endpoint-type", "hostname") == ("+", "OK")
        assert call(a_port, "GET", key_on_r) == ("-", "MOVED %d ?:%d" % (slot_r, r_announce))

        # CONFIG SET of an announced port reaches the peer with the next heartbeat.
        moved_port = free_port()
        assert call(a_port, "CONFIG", "SET", "cluster-announce-port", str(moved_port)) == ("+", "OK")
        wait_until(lambda: address_of(r_port, a_id).startswith("127.0.0.1:%d@" % moved_port),
                   timeout=10, message="R to see A's new announced port")
        assert resp2(a_port, "CONFIG", "GET", "cluster-announce-port")[1][1] == \
            ("$", str(moved_port).encode())
    finally:
        for f in forwarders:
            f.stop()


def test_bad_announce_values_are_refused_like_redis(procs):
    a = start_node(slots=False)
    procs.append(a)
    errors = {}
    for name, value in (("cluster-announce-hostname", "bad_host!"),
                        ("cluster-preferred-endpoint-type", "dns"),
                        ("cluster-announce-port", "70000")):
        errors[name] = call(a.port, "CONFIG", "SET", name, value)
    assert "Hostnames may only contain alphanumeric characters, hyphens or dots" \
        in errors["cluster-announce-hostname"][1]
    assert "one of the following: ip, hostname, unknown-endpoint" \
        in errors["cluster-preferred-endpoint-type"][1]
    assert "between 0 and 65535" in errors["cluster-announce-port"][1]
    if HAVE_REDIS:
        r = start_redis()
        procs.append(r)
        for name, value in (("cluster-announce-hostname", "bad_host!"),
                            ("cluster-preferred-endpoint-type", "dns"),
                            ("cluster-announce-port", "70000")):
            assert call(r.port, "CONFIG", "SET", name, value) == errors[name], name


def test_bind_with_two_addresses_answers_on_both(procs):
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        second = "::1"
    except OSError:
        second = "127.0.0.2"     # no IPv6 here: another loopback address
    port = free_port()
    node = start_node("--bind", "127.0.0.1", second, port=port, slots=False)
    procs.append(node)
    for host in ("127.0.0.1", second):
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"PING\r\n")
            assert s.recv(100) == b"+PONG\r\n"
        with socket.create_connection((host, port + 10000), timeout=5):
            pass                  # the bus port listens there too
    assert resp2(port, "CONFIG", "GET", "bind")[1][1][1] == ("127.0.0.1 %s" % second).encode()


def test_bind_skips_an_optional_address_that_does_not_exist(procs):
    # 192.0.2.1 (TEST-NET-1) is on no interface here: with '-' it is skipped and logged.
    node = start_node("--bind", "127.0.0.1", "-192.0.2.1", slots=False)
    procs.append(node)
    assert call(node.port, "PING") == ("+", "PONG")
    wait_until(lambda: "Could not create server TCP listening socket 192.0.2.1" in node.output(),
               timeout=5, message="the skipped address to be logged")
