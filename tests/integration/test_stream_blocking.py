"""Blocking XREAD and XREADGROUP against a real node.py: timeouts, service by another
client's XADD (every XREAD waiter; group waiters in arrival order, one entry each),
-NOGROUP / -UNBLOCKED when the group or the key goes, MULTI, and -MOVED when the slot
moves away. Every wait polls with a deadline."""
import threading
import time

import pytest

from tests.helpers import RawClient, wait_until
from tests.integration import test_blocking
from tests.integration.test_blocking import client_id, start_blocking, wait_blocked

# The list tests' fixtures: a flushed one-node cluster and its clients.
port = test_blocking.port
clients = test_blocking.clients


def test_xread_block_times_out_with_a_null(clients):
    c = clients()
    start = time.monotonic()
    assert c.call("XREAD", "BLOCK", 200, "STREAMS", "s", "$") == ("*", None)
    assert 0.19 <= time.monotonic() - start < 1.5
    c.call("HELLO", "3")
    assert c.call("XREAD", "BLOCK", 50, "STREAMS", "s", "0") == ("_", None)


def test_every_xread_waiter_is_served_by_one_xadd(clients):
    admin, readers = clients(), [clients() for _ in range(3)]
    admin.call("XADD", "s", "1-1", "old", "x")
    for reader in readers:
        cid = client_id(reader)
        start_blocking(reader, "XREAD", "BLOCK", 5000, "STREAMS", "s", "$")
        wait_blocked(admin, cid, b"xread")
    assert admin.call("XADD", "s", "2-1", "f", "v") == ("$", b"2-1")
    expected = ("*", [("*", [("$", b"s"), ("*", [("*", [("$", b"2-1"), ("*", [
        ("$", b"f"), ("$", b"v")])])])])])
    for reader in readers:
        assert reader.read_reply() == expected


def test_group_waiters_are_served_in_arrival_order_one_entry_each(clients):
    admin = clients()
    admin.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    readers = []
    for name in ("first", "second", "third"):
        reader = clients()
        cid = client_id(reader)
        start_blocking(reader, "XREADGROUP", "GROUP", "g", name, "BLOCK", 5000, "STREAMS",
                       "s", ">")
        wait_blocked(admin, cid, b"xreadgroup")
        readers.append(reader)
    admin.call("XADD", "s", "1-1", "n", "1")
    reply = readers[0].read_reply()
    assert reply[1][0][1][1][1][0][1][0] == ("$", b"1-1")
    admin.call("XADD", "s", "2-1", "n", "2")
    assert readers[1].read_reply()[1][0][1][1][1][0][1][0] == ("$", b"2-1")
    admin.call("XADD", "s", "3-1", "n", "3")
    assert readers[2].read_reply()[1][0][1][1][1][0][1][0] == ("$", b"3-1")
    pending = admin.call("XPENDING", "s", "g")
    assert pending[1][0] == (":", 3)
    assert sorted(row[1][0][1] for row in pending[1][3][1]) == [b"first", b"second", b"third"]


def test_destroyed_group_and_deleted_key_end_group_waits(clients):
    admin, a, b, x = clients(), clients(), clients(), clients()
    admin.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    admin.call("XGROUP", "CREATE", "t", "g", "$", "MKSTREAM")
    for client, key in ((a, "s"), (b, "t")):
        cid = client_id(client)
        start_blocking(client, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS",
                       key, ">")
        wait_blocked(admin, cid, b"xreadgroup")
    cid = client_id(x)
    start_blocking(x, "XREAD", "BLOCK", 0, "STREAMS", "t", "$")
    wait_blocked(admin, cid, b"xread")
    assert admin.call("XGROUP", "DESTROY", "s", "g") == (":", 1)
    assert a.read_reply() == ("-", "NOGROUP the consumer group this client was blocked "
                                   "on no longer exists")
    assert admin.call("DEL", "t") == (":", 1)
    assert b.read_reply() == ("-", "UNBLOCKED the stream key no longer exists")
    # a plain XREAD keeps waiting for the key to come back
    admin.call("XADD", "t", "5-5", "f", "v")
    assert x.read_reply()[1][0][1][0] == ("$", b"t")


def test_blocking_reads_in_multi_answer_at_once(clients):
    c = clients()
    c.call("MULTI")
    c.call("XREAD", "BLOCK", 0, "STREAMS", "s", "$")
    c.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    c.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", ">")
    assert c.call("EXEC") == ("*", [("*", None), ("+", "OK"), ("*", None)])


def test_blocked_xread_gets_moved_when_its_slot_moves(two_masters):
    a, b, ca, cb = two_masters
    key = "{06S}stream"
    slot = ca.call("CLUSTER", "KEYSLOT", key)[1]
    assert slot < 8192
    blocked = RawClient(a.port, timeout=30)
    result = []
    thread = threading.Thread(target=lambda: result.append(
        blocked.call("XREAD", "BLOCK", 0, "STREAMS", key, "$")), daemon=True)
    thread.start()
    wait_until(lambda: b"blocked_clients:1" in ca.call("INFO", "clients")[1],
               timeout=5, message="the client to block")
    b_id = cb.call("CLUSTER", "MYID")[1].decode()
    assert ca.call("CLUSTER", "SETSLOT", str(slot), "NODE", b_id) == ("+", "OK")
    thread.join(timeout=5)
    assert result == [("-", "MOVED %d 127.0.0.1:%d" % (slot, b.port))]
    blocked.close()


def test_flushall_ends_group_waits_and_keeps_plain_readers(clients):
    admin, group_reader, reader = clients(), clients(), clients()
    admin.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    cid = client_id(group_reader)
    start_blocking(group_reader, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS",
                   "s", ">")
    wait_blocked(admin, cid, b"xreadgroup")
    cid = client_id(reader)
    start_blocking(reader, "XREAD", "BLOCK", 0, "STREAMS", "s", "$")
    wait_blocked(admin, cid, b"xread")
    assert admin.call("FLUSHALL") == ("+", "OK")
    assert group_reader.read_reply() == ("-", "UNBLOCKED the stream key no longer exists")
    admin.call("XADD", "s", "1-1", "f", "v")
    assert reader.read_reply()[1][0][1][0] == ("$", b"s")


@pytest.mark.long
def test_blocked_xreadgroup_gets_clusterdown(two_masters):
    a, b, ca, cb = two_masters
    key = "{06S}stream"
    assert ca.call("XGROUP", "CREATE", key, "g", "$", "MKSTREAM") == ("+", "OK")
    blocked = RawClient(a.port, timeout=30)
    result = []
    thread = threading.Thread(target=lambda: result.append(blocked.call(
        "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", key, ">")), daemon=True)
    thread.start()
    wait_until(lambda: b"blocked_clients:1" in ca.call("INFO", "clients")[1],
               timeout=5, message="the client to block")
    b.stop()     # a cannot reach a majority of masters: after node_timeout it is down
    thread.join(timeout=30)
    assert result == [("-", "CLUSTERDOWN The cluster is down")]
    blocked.close()


def test_an_actively_expired_stream_ends_group_waits(clients):
    admin, group_reader = clients(), clients()
    admin.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    cid = client_id(group_reader)
    start_blocking(group_reader, "XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS",
                   "s", ">")
    wait_blocked(admin, cid, b"xreadgroup")
    admin.call("PEXPIRE", "s", 50)
    assert group_reader.read_reply() == ("-", "UNBLOCKED the stream key no longer exists")
