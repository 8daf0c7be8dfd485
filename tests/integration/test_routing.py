"""Routing against real processes: MOVED / ASK / CROSSSLOT / TRYAGAIN / CLUSTERDOWN / ASKING /
READONLY / MULTI, compared reply for reply with a cluster of real redis-server 7 nodes set
up the same way (redirection addresses normalised to the node's role, A or B).

Layout of a "pair" (ours and redis alike): A serves slots 0-8191, B serves 8192-16383;
slot M (A's) is half-migrated: A MIGRATING to B, B IMPORTING from A, with {M}on_a stored on
A only and {M}on_b stored on B only.
"""
import signal
import subprocess

import pytest

from tests.helpers import RawClient, wait_until
from tests.integration.cluster_util import (Cluster, call, cluster_info, key_in_slot, node_id,
                                            value)

M = 1000            # the half-migrated slot (served by A)
TAG_M = key_in_slot(M)
K_A = key_in_slot(2000)           # a key in a stable slot of A
K_A2 = key_in_slot(3000)          # another slot of A
K_B = key_in_slot(9000)           # a key of B


def m(name):
    return b"{%s}%s" % (TAG_M, name.encode())


def _setup_pair(real):
    cl = Cluster(2, real=real)
    try:
        cl.create_by_hand([[(0, 8191)], [(8192, 16383)]])
        a, b = cl.ports
        assert value(a, "SET", K_A, "va") == "OK"
        assert value(a, "SET", K_A2, "va2") == "OK"
        assert value(b, "SET", K_B, "vb") == "OK"
        assert value(a, "SET", m("on_a"), "1") == "OK"
        assert value(b, "CLUSTER", "SETSLOT", M, "IMPORTING", node_id(a)) == "OK"
        assert value(a, "CLUSTER", "SETSLOT", M, "MIGRATING", node_id(b)) == "OK"
        c = RawClient(b)
        assert c.call("ASKING") == ("+", "OK")
        assert c.call("SET", m("on_b"), "2") == ("+", "OK")
        c.close()
    except BaseException:
        cl.stop()
        raise
    return cl


def _ours_and_redis(start):
    """start(real=False) and start(real=True); ours is stopped if redis's fails."""
    ours = start(real=False)
    try:
        return ours, start(real=True)
    except BaseException:
        ours.stop()
        raise


@pytest.fixture(scope="module")
def pairs():
    ours, ref = _ours_and_redis(_setup_pair)
    yield ours, ref
    ours.stop()
    ref.stop()


def normalise(reply, ports):
    """-MOVED 1000 127.0.0.1:7001 -> -MOVED 1000 A (A, B by position in `ports`)."""
    kind, val = reply
    if kind == "-":
        for name, port in zip("AB", ports):
            val = val.replace("127.0.0.1:%d" % port, name)
    elif kind == "*" and val is not None:
        val = [normalise(r, ports) for r in val]
    return kind, val


def run_script(cluster, script):
    """script: list of (node index, command tuple); one connection per node, kept for the
    whole script (ASKING / READONLY / MULTI are connection state)."""
    clients = [RawClient(p) for p in cluster.ports]
    try:
        return [normalise(clients[i].call(*cmd), cluster.ports) for i, cmd in script]
    finally:
        for c in clients:
            c.close()


def compare(pairs, script, expected=None):
    ours, ref = pairs
    got, want = run_script(ours, script), run_script(ref, script)
    for step, g, w in zip(script, got, want):
        assert g == w, "step %r: ours %r, redis %r" % (step, g, w)
    if expected is not None:
        assert got == expected
    return got


A, B = 0, 1


def test_moved_and_served(pairs):
    got = compare(pairs, [
        (A, ("GET", K_A)),
        (A, ("GET", K_B)),
        (B, ("GET", K_A)),
        (B, ("SET", K_A, "x")),
        (A, ("EXISTS", K_B)),
    ])
    assert got[0] == ("$", b"va")
    assert got[1] == ("-", "MOVED 9000 B")
    assert got[2] == ("-", "MOVED 2000 A")
    assert got[3] == ("-", "MOVED 2000 A")


def test_keyless_commands_never_redirected(pairs):
    # B owns none of these keys' slots; none of these commands has a key.
    compare(pairs, [
        (B, ("PING",)),
        (B, ("ECHO", "hi")),
        (B, ("CLUSTER", "KEYSLOT", K_A)),
        (B, ("CLUSTER", "COUNTKEYSINSLOT", 2000)),
        (B, ("KEYS", "nomatch*")),
        (B, ("SCAN", "0", "MATCH", "nomatch*", "COUNT", "1000")),
        (B, ("SELECT", "0")),
        (B, ("DBSIZE",)),
    ])


def test_crossslot_and_no_keys(pairs):
    got = compare(pairs, [
        (A, ("MGET", K_A, K_A2)),          # both A's, different slots
        (A, ("MGET", K_A, K_B)),           # one of them not mine: still CROSSSLOT
        (A, ("MGET", K_B, K_A)),
        (B, ("MSET", K_A, "1", K_B, "2")),
        (A, ("ZUNIONSTORE", K_A, "1", K_A2)),      # movable keys
        (A, ("ZUNIONSTORE", K_B, "1", K_B)),
        (A, ("DEL", K_A2, K_A2)),          # one key named twice is one slot
        (A, ("SET", K_A2, "va2")),
    ])
    crossslot = ("-", "CROSSSLOT Keys in request don't hash to the same slot")
    assert got[:5] == [crossslot] * 5
    assert got[5] == ("-", "MOVED 9000 B")


def test_migrating_slot_ask_and_tryagain(pairs):
    got = compare(pairs, [
        (A, ("GET", m("on_a"))),                   # present on the source: served
        (A, ("GET", m("on_b"))),                   # missing on the source: ASK
        (A, ("GET", m("nowhere"))),
        (A, ("SET", m("nowhere"), "x")),           # writes of new keys go to the target
        (A, ("MGET", m("on_b"), m("nowhere"))),    # all missing: ASK
        (A, ("EXISTS", m("on_a"), m("on_a"))),
        (A, ("MIGRATE", "127.0.0.1", "1", m("nowhere"), "0", "10")),  # served here: NOKEY
    ])
    assert got[0] == ("$", b"1")
    assert got[1] == got[2] == got[3] == got[4] == ("-", "ASK %d B" % M)
    assert got[6] == ("+", "NOKEY")


def test_migrating_slot_some_keys_missing_is_tryagain(pairs):
    # Redis 7.0.15 (like 7.2+) answers TRYAGAIN when only some keys are still here.
    got = compare(pairs, [(A, ("MGET", m("on_a"), m("on_b"))),
                          (A, ("DEL", m("on_a"), m("nowhere2")))])
    assert got == [("-", "TRYAGAIN Multiple keys request during rehashing of slot")] * 2


def test_importing_slot_and_asking_consumed_after_one_command(pairs):
    got = compare(pairs, [
        (B, ("GET", m("on_b"))),                   # no ASKING: MOVED to the owner
        (B, ("ASKING",)),
        (B, ("GET", m("on_b"))),                   # served
        (B, ("GET", m("on_b"))),                   # ASKING was consumed
        (B, ("ASKING",)),
        (B, ("ASKING",)),                          # ASKING does not consume ASKING
        (B, ("GET", m("on_b"))),
        (B, ("ASKING",)),
        (B, ("MGET", m("on_b"), m("nowhere3"))),   # several keys, some missing
        (B, ("ASKING",)),
        (B, ("MGET", m("on_b"), m("on_b"))),       # one key named twice: served
        (B, ("ASKING",)),
        (B, ("PING",)),                            # a keyless command consumes it too
        (B, ("GET", m("on_b"))),
        (B, ("ASKING",)),
        (B, ("GET", K_A)),                         # ASKING only helps importing slots
        (B, ("RESTORE-ASKING", m("nope"), "0", "bad")),
    ])
    moved = ("-", "MOVED %d A" % M)
    assert got[0] == moved and got[3] == moved and got[13] == moved
    assert got[2] == got[6] == ("$", b"2")
    assert got[8] == ("-", "TRYAGAIN Multiple keys request during rehashing of slot")
    assert got[15] == ("-", "MOVED 2000 A")


def test_asking_holds_for_a_whole_transaction(pairs):
    got = compare(pairs, [
        (B, ("ASKING",)),
        (B, ("MULTI",)),
        (B, ("GET", m("on_b"))),
        (B, ("GET", m("on_b"))),
        (B, ("EXEC",)),
        (B, ("GET", m("on_b"))),
    ])
    assert got[4] == ("*", [("$", b"2"), ("$", b"2")])
    assert got[5] == ("-", "MOVED %d A" % M)


def test_multi_exec_checked_as_a_whole(pairs):
    got = compare(pairs, [
        # A queued command for another node is refused at once and dooms the transaction.
        (A, ("MULTI",)),
        (A, ("SET", K_A, "va")),
        (A, ("SET", K_B, "x")),
        (A, ("EXEC",)),
        # Each command fine alone, the transaction spans two slots: CROSSSLOT at EXEC,
        # and the transaction is gone.
        (A, ("MULTI",)),
        (A, ("GET", K_A)),
        (A, ("GET", K_A2)),
        (A, ("EXEC",)),
        (A, ("DISCARD",)),
        (A, ("GET", K_A)),
        # One slot: fine.
        (A, ("MULTI",)),
        (A, ("GET", K_A)),
        (A, ("EXEC",)),
        (A, ("MULTI",)),
        (A, ("EXEC",)),
    ])
    assert got[2] == ("-", "MOVED 9000 B")
    assert got[3][1].startswith("EXECABORT")
    assert got[7] == ("-", "CROSSSLOT Keys in request don't hash to the same slot")
    assert got[8] == ("-", "ERR DISCARD without MULTI")
    assert got[12] == ("*", [("$", b"va")])


def test_readonly_on_a_master_changes_nothing(pairs):
    got = compare(pairs, [
        (A, ("READONLY",)),
        (A, ("GET", K_B)),
        (A, ("GET", K_A)),
        (A, ("GET", m("on_b"))),
        (A, ("READWRITE",)),
        (A, ("GET", K_B)),
    ])
    assert got[1] == got[5] == ("-", "MOVED 9000 B")
    assert got[3] == ("-", "ASK %d B" % M)


def errorstats(port):
    text = value(port, "INFO", "errorstats").decode()
    return sorted(line for line in text.split("\r\n") if line.startswith("errorstat_"))


def test_errorstats_count_redirections(pairs):
    ours, ref = pairs
    for cl in pairs:
        for port in cl.ports:
            assert value(port, "CONFIG", "RESETSTAT") == "OK"
    script = [(A, ("GET", K_B)), (A, ("GET", K_B)), (A, ("GET", m("on_b"))),
              (A, ("MGET", K_A, K_A2)), (B, ("GET", m("on_b"))),
              (A, ("MULTI",)), (A, ("GET", K_B)), (A, ("EXEC",))]
    compare(pairs, script)
    for i in (A, B):
        assert errorstats(ours.ports[i]) == errorstats(ref.ports[i])
    assert errorstats(ours.ports[A]) == ["errorstat_ASK:count=1", "errorstat_CROSSSLOT:count=1",
                                         "errorstat_EXECABORT:count=1",
                                         "errorstat_MOVED:count=3"]


# ------------------------------------------------------------------ cluster down

def _one_node(real):
    cl = Cluster(1, real=real)
    try:
        cl.create_by_hand([[(0, 16383)]])
    except BaseException:
        cl.stop()
        raise
    return cl


@pytest.fixture
def singles():
    ours, ref = _ours_and_redis(_one_node)
    yield ours, ref
    ours.stop()
    ref.stop()


def test_cluster_down_after_delslots(singles):
    k_owned, k_gone = key_in_slot(10), key_in_slot(100)
    for cl in singles:
        port = cl.ports[0]
        assert value(port, "SET", k_owned, "v") == "OK"
        assert value(port, "CLUSTER", "DELSLOTS", 100) == "OK"
        wait_until(lambda: cluster_info(port)["cluster_state"] == "fail", timeout=10,
                   message="cluster_state:fail")
    script = [(A, ("GET", k_gone)), (A, ("GET", k_owned)), (A, ("SET", k_owned, "w")),
              (A, ("MGET", k_owned, k_gone)), (A, ("MGET", k_gone, k_owned)),
              (A, ("PING",)), (A, ("DBSIZE",)), (A, ("KEYS", "nomatch*")),
              (A, ("CLUSTER", "COUNTKEYSINSLOT", 10))]
    got = compare(singles, script)
    assert got[0] == ("-", "CLUSTERDOWN Hash slot not served")
    assert got[1] == got[2] == ("-", "CLUSTERDOWN The cluster is down")
    assert got[3] == ("-", "CROSSSLOT Keys in request don't hash to the same slot")
    assert got[4] == ("-", "CLUSTERDOWN Hash slot not served")
    assert got[5:] == [("+", "PONG"), (":", 1), ("*", []), (":", 1)]

    # Reads allowed while down: writes get the read-only variant.
    for cl in singles:
        assert value(cl.ports[0], "CONFIG", "SET", "cluster-allow-reads-when-down",
                     "yes") == "OK"
    got = compare(singles, script[:3])
    assert got == [("-", "CLUSTERDOWN Hash slot not served"), ("$", b"v"),
                   ("-", "CLUSTERDOWN The cluster is down and only accepts read commands")]

    # Without full coverage the cluster is up again; the hole still is not served.
    for cl in singles:
        port = cl.ports[0]
        assert value(port, "CONFIG", "SET", "cluster-require-full-coverage", "no") == "OK"
        wait_until(lambda: cluster_info(port)["cluster_state"] == "ok", timeout=15,
                   message="cluster_state:ok")
    got = compare(singles, script[:3])
    assert got == [("-", "CLUSTERDOWN Hash slot not served"), ("$", b"v"), ("+", "OK")]


def test_cluster_down_when_a_master_dies():
    cl = Cluster(3)
    try:
        cl.create()
        a, b, c = cl.ports
        key = key_in_slot(100)            # served by the first node
        assert value(a, "SET", key, "v") == "OK"
        cl.procs[2].signal(signal.SIGKILL)
        for port in (a, b):
            wait_until(lambda: cluster_info(port)["cluster_state"] == "fail", timeout=20,
                       interval=0.1, message="cluster_state:fail on %d" % port)
        assert call(a, "GET", key) == ("-", "CLUSTERDOWN The cluster is down")
        assert call(a, "PING") == ("+", "PONG")
        assert call(b, "GET", key) == ("-", "CLUSTERDOWN The cluster is down")
    finally:
        cl.stop()


# ------------------------------------------------------------------ redis-cli -c

def test_redis_cli_follows_moved_and_ask(pairs):
    ours, _ = pairs
    a, b = ours.ports

    def cli(port, *args):
        out = subprocess.run(["redis-cli", "-c", "-p", str(port), *args], capture_output=True,
                             timeout=20)
        assert out.returncode == 0, out
        return out.stdout.strip()
    assert cli(b, "GET", K_A.decode()) == b"va"                 # MOVED to A
    assert cli(a, "GET", K_B.decode()) == b"vb"                 # MOVED to B
    assert cli(a, "GET", m("on_b").decode()) == b"2"            # ASK -> ASKING on B
    assert cli(a, "GET", m("on_a").decode()) == b"1"            # served by the source
    assert cli(a, "SET", m("cli").decode(), "7") == b"OK"       # new key: ASK, set on B
    c = RawClient(b)
    assert c.call("ASKING") == ("+", "OK")
    assert c.call("GET", m("cli")) == ("$", b"7")
    c.close()
    assert call(a, "EXISTS", m("cli")) == ("-", "ASK %d 127.0.0.1:%d" % (M, b))
