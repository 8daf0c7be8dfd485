"""Blocked clients in a cluster: a wait ends with -MOVED when its slot moves away and
with -CLUSTERDOWN when the cluster goes down, as Redis's
clusterRedirectBlockedClientIfNeeded does."""
import threading

import pytest

from tests.helpers import RawClient, start_node, wait_until


def blpop_in_thread(port, key, result):
    client = RawClient(port, timeout=30)

    def run():
        result.append(client.call("BLPOP", key, "0"))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return client, thread


@pytest.fixture
def two_nodes():
    a = start_node("--cluster-node-timeout", "1000", slots=False)
    b = start_node("--cluster-node-timeout", "1000", slots=False)
    try:
        ca, cb = RawClient(a.port), RawClient(b.port)
        assert ca.call("CLUSTER", "ADDSLOTSRANGE", "0", "8191") == ("+", "OK")
        assert cb.call("CLUSTER", "ADDSLOTSRANGE", "8192", "16383") == ("+", "OK")
        assert ca.call("CLUSTER", "MEET", "127.0.0.1", str(b.port)) == ("+", "OK")
        for c in (ca, cb):
            wait_until(lambda c=c: b"cluster_state:ok" in c.call("CLUSTER", "INFO")[1],
                       timeout=15, message="cluster ok")
        yield a, b, ca, cb
    finally:
        a.stop()
        b.stop()


def test_blocked_client_gets_moved_when_its_slot_moves(two_nodes):
    a, b, ca, cb = two_nodes
    key = "{06S}list"       # must live on node a: checked below
    slot = ca.call("CLUSTER", "KEYSLOT", key)[1]
    assert slot < 8192
    result = []
    blocked, thread = blpop_in_thread(a.port, key, result)
    wait_until(lambda: b"blocked_clients:1" in ca.call("INFO", "clients")[1], timeout=5,
               message="the client to block")
    b_id = cb.call("CLUSTER", "MYID")[1].decode()
    assert ca.call("CLUSTER", "SETSLOT", str(slot), "NODE", b_id) == ("+", "OK")
    thread.join(timeout=5)
    assert result == [("-", "MOVED %d 127.0.0.1:%d" % (slot, b.port))]
    blocked.close()


def test_blocked_client_gets_clusterdown(two_nodes):
    a, b, ca, cb = two_nodes
    result = []
    blocked, thread = blpop_in_thread(a.port, "{06S}q", result)
    wait_until(lambda: b"blocked_clients:1" in ca.call("INFO", "clients")[1], timeout=5,
               message="the client to block")
    b.stop()      # a cannot reach a majority of masters: after node_timeout it is down
    thread.join(timeout=30)
    assert result == [("-", "CLUSTERDOWN The cluster is down")]
    blocked.close()
