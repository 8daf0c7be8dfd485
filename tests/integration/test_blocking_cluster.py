"""Blocked clients in a cluster: a wait ends with -MOVED when its slot moves away and
with -CLUSTERDOWN when the cluster goes down, as Redis's
clusterRedirectBlockedClientIfNeeded does."""
import threading

from tests.helpers import RawClient, wait_until


def blpop_in_thread(port, key, result):
    client = RawClient(port, timeout=30)

    def run():
        result.append(client.call("BLPOP", key, "0"))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return client, thread


def test_blocked_client_gets_moved_when_its_slot_moves(two_masters):
    a, b, ca, cb = two_masters
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


def test_blocked_client_gets_clusterdown(two_masters):
    a, b, ca, cb = two_masters
    result = []
    blocked, thread = blpop_in_thread(a.port, "{06S}q", result)
    wait_until(lambda: b"blocked_clients:1" in ca.call("INFO", "clients")[1], timeout=5,
               message="the client to block")
    b.stop()      # a cannot reach a majority of masters: after node_timeout it is down
    thread.join(timeout=30)
    assert result == [("-", "CLUSTERDOWN The cluster is down")]
    blocked.close()
