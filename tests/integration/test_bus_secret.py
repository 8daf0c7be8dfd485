"""cluster-bus-secret on real processes: three of our nodes sharing a secret form a
cluster; a node with another secret, or with none, cannot join (it stays out, the
refusals are counted in CLUSTER INFO, and logged once); frames forged from a member's
real identity but not signed with the secret -- a gossip flood about 10,000 invented
nodes, a PING claiming every slot with a higher configEpoch, a FAIL about a healthy
node, in our format and in Redis's -- are refused, and the cluster stays as it was.
"""
import random
import shutil
import socket
import subprocess
import time

import pytest

from cluster import bus_auth
from cluster import messages as m
from cluster import redis_bus as rb
from cluster.node_record import NODE_MASTER
from tests.helpers import start_node, wait_until
from tests.integration.cluster_helpers import (call, cluster_info, form_cluster, my_id,
                                               nodes_of, stop_all)

pytestmark = pytest.mark.timeout(120)
NODE_TIMEOUT = "2000"
SECRET = "correct horse battery staple"
REFUSED_LOG = "Refused a cluster bus message from"


def start_secret_node(secret=SECRET):
    extra = ["--cluster-node-timeout", NODE_TIMEOUT, "--loglevel", "verbose"]
    if secret is not None:
        extra += ["--cluster-bus-secret", secret]
    return start_node(*extra, slots=False)


def auth_failures(port) -> int:
    return int(cluster_info(port).get("cluster_stats_messages_auth_failed_received", 0))


def refusals_logged(proc) -> int:
    with open(proc.log_path, errors="replace") as f:
        return f.read().count(REFUSED_LOG)


@pytest.fixture(scope="module")
def trio():
    procs = []
    try:
        for _ in range(3):
            procs.append(start_secret_node())
        ports = form_cluster(procs)
        yield procs, ports, [my_id(p) for p in ports]
    finally:
        stop_all(procs)


def cluster_unchanged(ports, ids):
    """Every node knows exactly the three members, all healthy masters with their own
    slots, and the cluster is ok."""
    for port in ports:
        view = nodes_of(port)
        if {n["id"] for n in view} != set(ids):
            return False
        if any(n["flags"] & {"fail?", "fail", "handshake"} for n in view):
            return False
        if cluster_info(port)["cluster_state"] != "ok":
            return False
    return True


def test_members_with_the_secret_form_a_cluster(trio):
    procs, ports, ids = trio
    assert cluster_unchanged(ports, ids)
    for port in ports:
        assert cluster_info(port)["cluster_stats_messages_auth_failed_received"] == "0"
    # CONFIG GET shows it, as Redis 7.0 shows requirepass.
    assert call(ports[0], "CONFIG", "GET", "cluster-bus-secret")[1][1] == ("$", SECRET.encode())
    if shutil.which("redis-cli"):
        # redis-cli --cluster still reads our CLUSTER INFO with the extra counter.
        out = subprocess.run(["redis-cli", "--cluster", "check", "127.0.0.1:%d" % ports[0]],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0 and "[OK] All 16384 slots covered." in out.stdout, out.stdout


@pytest.mark.parametrize("secret", ["another secret", None], ids=["other-secret", "no-secret"])
def test_a_node_without_the_secret_cannot_join(trio, secret):
    procs, ports, ids = trio
    target = ports[0]
    stranger = start_secret_node(secret)
    try:
        before = auth_failures(target)
        stranger_id = my_id(stranger.port)
        # Both directions: the stranger MEETs a member, and a member MEETs the stranger.
        assert call(stranger.port, "CLUSTER", "MEET", "127.0.0.1", target) == ("+", "OK")
        assert call(ports[1], "CLUSTER", "MEET", "127.0.0.1", stranger.port) == ("+", "OK")
        wait_until(lambda: auth_failures(target) > before + 3, timeout=10,
                   message="the member to refuse the stranger's frames")
        # The stranger refuses the member's signed frames as well.
        wait_until(lambda: auth_failures(stranger.port) > 0, timeout=10,
                   message="the stranger to refuse the members' frames")
        # For longer than a handshake may live (the node timeout) it never gets in: no
        # member lists it, and it lists no member but as a handshake that never ends.
        for _ in range(3):
            assert all(stranger_id not in {n["id"] for n in nodes_of(p)} for p in ports)
            assert not any(n["id"] in ids and "handshake" not in n["flags"]
                           for n in nodes_of(stranger.port))
            time.sleep(1)
        assert cluster_unchanged(ports, ids)
        # Logged once per address, however many frames were refused.
        assert refusals_logged(procs[0]) == 1
    finally:
        stranger.stop()


def forged_header(port, **changes) -> m.Header:
    """A header with a member's real identity (what anyone on the network can learn from
    CLUSTER NODES or a captured frame), then ``changes``."""
    me = next(n for n in nodes_of(port) if "myself" in n["flags"])
    info = cluster_info(port)
    fields = dict(sender=me["id"], current_epoch=int(info["cluster_current_epoch"]),
                  config_epoch=int(info["cluster_my_epoch"]), repl_offset=0,
                  flags=NODE_MASTER, master_id=None, ip="127.0.0.1", port=port,
                  cport=port + 10000, cluster_ok=True, mflags=0, shard_id=me["id"],
                  slots=[])
    fields.update(changes)
    return m.Header(**fields)


def refused(bus_port, data: bytes) -> bool:
    """Send ``data`` to the bus port; True once the node has closed the connection."""
    with socket.create_connection(("127.0.0.1", bus_port), timeout=5) as sock:
        try:
            sock.sendall(data)
        except OSError:
            return True     # closed (reset) before we finished sending: refused early
        sock.settimeout(5)
        try:
            # b"": closed. Any reply (a PONG) would mean the frame was accepted.
            return sock.recv(65536) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def test_forged_frames_are_refused_and_change_nothing(trio):
    procs, ports, ids = trio
    target, member_b, member_c = ports
    rng = random.Random(1212)
    before = auth_failures(target)
    epoch = int(cluster_info(target)["cluster_current_epoch"])

    flood = [m.GossipEntry("%040x" % rng.getrandbits(160), 0, "10.%d.%d.%d" % (
        i >> 16 & 255, i >> 8 & 255, i & 255), 7000, 17000, NODE_MASTER) for i in range(10_000)]
    b_header = forged_header(member_b)
    forged = {
        "gossip flood": m.Ping(b_header, flood),
        "slot claim": m.Ping(forged_header(member_b, current_epoch=epoch + 100,
                                           config_epoch=epoch + 100, slots=[(0, 16383)]), []),
        "FAIL": m.Fail(b_header, ids[2]),
        "MEET": m.Meet(forged_header(member_b, sender="%040x" % rng.getrandbits(160)), []),
    }
    sent = 0
    for name, msg in forged.items():
        body = m.encode_body(msg)
        for how, data in (("unsigned", m.encode(msg)),
                          ("wrong secret", bus_auth.seal(b"guessed secret", body)),
                          ("redis format", rb.encode(msg))):
            assert refused(target + 10000, data), "%s (%s) was not refused" % (name, how)
            sent += 1
    wait_until(lambda: auth_failures(target) >= before + sent, timeout=10,
               message="every forged frame to be counted")
    # Longer than the node timeout, so a FAIL or a slot claim would have shown.
    for _ in range(3):
        assert cluster_unchanged(ports, ids), [call(p, "CLUSTER", "NODES") for p in ports]
        time.sleep(1)
    assert int(cluster_info(target)["cluster_current_epoch"]) == epoch
    assert int(cluster_info(target)["cluster_known_nodes"]) == 3
    with open(procs[0].log_path, errors="replace") as log:
        assert "Traceback" not in log.read()
