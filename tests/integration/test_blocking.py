"""Blocking list and sorted set commands against a real node.py, with raw sockets and
redis-py: timeouts, FIFO service, unblocking by another client's push, BLMOVE chains,
disconnects, MULTI, CLIENT UNBLOCK, and that a blocked client blocks nobody else.

Every wait polls with a deadline; a blocked client's socket has a read timeout so a
missing wake-up fails the test instead of hanging it."""
import socket
import time

import pytest
import redis

from tests.helpers import RawClient, wait_until


def _own_all_slots(port):
    client = RawClient(port)
    try:
        reply = client.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        assert reply == ("+", "OK") or "busy" in reply[1], reply
        wait_until(lambda: b"cluster_state:ok" in client.call("CLUSTER", "INFO")[1],
                   timeout=10, message="cluster_state:ok")
    finally:
        client.close()


@pytest.fixture
def port(node):
    _own_all_slots(node.port)
    admin = RawClient(node.port)
    admin.call("FLUSHALL")
    admin.close()
    return node.port


@pytest.fixture
def clients(port):
    made = []

    def make():
        client = RawClient(port, timeout=10)
        made.append(client)
        return client
    yield make
    for client in made:
        try:
            client.close()
        except OSError:
            pass


def client_id(client) -> int:
    return client.call("CLIENT", "ID")[1]


def wait_blocked(admin, cid, command=b"blpop"):
    """Poll CLIENT LIST until client `cid` is inside `command`."""
    def blocked():
        listing = admin.call("CLIENT", "LIST", "ID", str(cid))[1]
        return b"cmd=" + command in listing
    wait_until(blocked, timeout=5, message="client %d blocked in %s" % (cid, command))


def start_blocking(client, *args):
    client.send_raw(RawClient.encode(args))


def test_timeout_returns_null_after_the_timeout(clients):
    c = clients()
    start = time.monotonic()
    assert c.call("BLPOP", "k", "0.2") == ("*", None)
    elapsed = time.monotonic() - start
    assert 0.19 <= elapsed < 1.5
    start = time.monotonic()
    assert c.call("BLMOVE", "{k}a", "{k}d", "LEFT", "LEFT", "0.2") == ("*", None)
    assert 0.19 <= time.monotonic() - start < 1.5
    c.call("HELLO", "3")
    assert c.call("BZPOPMIN", "z", "0.1") == ("_", None)
    assert c.call("BLMPOP", "0.1", 1, "k", "LEFT") == ("_", None)


def test_push_from_another_client_unblocks(clients):
    waiter, pusher, admin = clients(), clients(), clients()
    cid = client_id(waiter)
    start_blocking(waiter, "BRPOP", "{k}a", "{k}b", "0")
    wait_blocked(admin, cid, b"brpop")
    assert pusher.call("RPUSH", "{k}b", "x", "y") == (":", 2)
    assert waiter.read_reply() == ("*", [("$", b"{k}b"), ("$", b"y")])
    assert pusher.call("LRANGE", "{k}b", 0, -1) == ("*", [("$", b"x")])


def test_three_waiters_are_served_in_arrival_order(clients):
    admin = clients()
    waiters = []
    for _ in range(3):
        w = clients()
        cid = client_id(w)
        start_blocking(w, "BLPOP", "q", "0")
        wait_blocked(admin, cid)          # strictly one after the other
        waiters.append(w)
    assert admin.call("RPUSH", "q", "first", "second", "third") == (":", 3)
    got = [w.read_reply() for w in waiters]
    assert got == [("*", [("$", b"q"), ("$", item)]) for item in (b"first", b"second",
                                                                   b"third")]
    assert admin.call("EXISTS", "q") == (":", 0)


def test_one_push_serves_only_as_many_waiters_as_elements(clients):
    admin = clients()
    first, second = clients(), clients()
    for w in (first, second):
        cid = client_id(w)
        start_blocking(w, "BLPOP", "q", "0")
        wait_blocked(admin, cid)
    admin.call("LPUSH", "q", "only")
    assert first.read_reply() == ("*", [("$", b"q"), ("$", b"only")])
    second.sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        second.read_reply()
    second.sock.settimeout(10)
    admin.call("LPUSH", "q", "next")
    assert second.read_reply() == ("*", [("$", b"q"), ("$", b"next")])


def test_blocked_client_does_not_block_others(clients):
    waiter, other = clients(), clients()
    cid = client_id(waiter)
    start_blocking(waiter, "BLPOP", "k", "0")
    wait_blocked(other, cid)
    start = time.monotonic()
    for _ in range(20):
        assert other.call("PING") == ("+", "PONG")
    assert time.monotonic() - start < 2
    other.call("RPUSH", "k", "v")
    assert waiter.read_reply() == ("*", [("$", b"k"), ("$", b"v")])


def test_blmove_and_a_chain_of_waiters(clients):
    mover, popper, admin = clients(), clients(), clients()
    mid = client_id(mover)
    start_blocking(mover, "BLMOVE", "{c}src", "{c}dst", "RIGHT", "LEFT", "0")
    wait_blocked(admin, mid, b"blmove")
    pid = client_id(popper)
    start_blocking(popper, "BLPOP", "{c}dst", "0")
    wait_blocked(admin, pid)
    admin.call("RPUSH", "{c}src", "a", "b")
    # The mover takes "b" and pushes it to dst, which serves the popper in the same round.
    assert mover.read_reply() == ("$", b"b")
    assert popper.read_reply() == ("*", [("$", b"{c}dst"), ("$", b"b")])
    assert admin.call("LRANGE", "{c}src", 0, -1) == ("*", [("$", b"a")])
    assert admin.call("EXISTS", "{c}dst") == (":", 0)


def test_blmove_to_a_wrong_type_destination_gets_wrongtype(clients):
    mover, admin = clients(), clients()
    mid = client_id(mover)
    admin.call("SET", "{w}dst", "string")
    start_blocking(mover, "BLMOVE", "{w}src", "{w}dst", "LEFT", "LEFT", "0")
    wait_blocked(admin, mid, b"blmove")
    admin.call("RPUSH", "{w}src", "x")
    assert mover.read_reply()[0] == "-"
    assert admin.call("LRANGE", "{w}src", 0, -1) == ("*", [("$", b"x")])


def test_blmpop_and_bzpopmin_are_served(clients):
    a, b, admin = clients(), clients(), clients()
    aid, bid = client_id(a), client_id(b)
    start_blocking(a, "BLMPOP", "0", "2", "{m}x", "{m}y", "RIGHT", "COUNT", "2")
    wait_blocked(admin, aid, b"blmpop")
    start_blocking(b, "BZPOPMAX", "{m}z", "0")
    wait_blocked(admin, bid, b"bzpopmax")
    admin.call("RPUSH", "{m}y", "1", "2", "3")
    assert a.read_reply() == ("*", [("$", b"{m}y"), ("*", [("$", b"3"), ("$", b"2")])])
    admin.call("ZADD", "{m}z", "1", "low", "5", "high")
    assert b.read_reply() == ("*", [("$", b"{m}z"), ("$", b"high"), ("$", b"5")])


def test_a_waiter_stays_blocked_while_the_key_has_another_type(clients):
    waiter, admin = clients(), clients()
    cid = client_id(waiter)
    start_blocking(waiter, "BLPOP", "k", "0")
    wait_blocked(admin, cid)
    admin.call("SET", "k", "string")            # Redis 7.0 keeps the client blocked
    admin.call("DEL", "k")
    admin.call("RPUSH", "k", "v")
    assert waiter.read_reply() == ("*", [("$", b"k"), ("$", b"v")])


def test_pipelined_commands_wait_behind_the_blocked_one(clients):
    waiter, admin = clients(), clients()
    cid = client_id(waiter)
    waiter.send_raw(RawClient.encode(("BLPOP", "k", "0")) + RawClient.encode(("PING",)) +
                    RawClient.encode(("LLEN", "k")))
    wait_blocked(admin, cid)
    admin.call("RPUSH", "k", "a", "b")
    assert waiter.read_reply() == ("*", [("$", b"k"), ("$", b"a")])
    assert waiter.read_reply() == ("+", "PONG")
    assert waiter.read_reply() == (":", 1)


def test_disconnect_while_blocked_removes_the_waiter(clients):
    waiter, admin = clients(), clients()
    cid = client_id(waiter)
    start_blocking(waiter, "BLPOP", "k", "0")
    wait_blocked(admin, cid)
    waiter.close()
    wait_until(lambda: b"id=%d " % cid not in admin.call("CLIENT", "LIST")[1], timeout=5,
               message="the disconnected client to go")
    admin.call("RPUSH", "k", "kept")
    assert admin.call("LRANGE", "k", 0, -1) == ("*", [("$", b"kept")])


def test_multi_with_blocking_commands_does_not_block(clients):
    c = clients()
    start = time.monotonic()
    replies = c.pipeline([("MULTI",), ("BLPOP", "{x}k", "0"), ("BZPOPMIN", "{x}z", "0"),
                          ("BLMOVE", "{x}k", "{x}d", "LEFT", "LEFT", "0"), ("EXEC",)])
    assert replies[-1] == ("*", [("*", None), ("*", None), ("$", None)])
    assert time.monotonic() - start < 2


def test_client_unblock(clients):
    waiter, admin = clients(), clients()
    cid = client_id(waiter)
    start_blocking(waiter, "BLPOP", "k", "0")
    wait_blocked(admin, cid)
    assert admin.call("CLIENT", "UNBLOCK", str(cid)) == (":", 1)
    assert waiter.read_reply() == ("*", None)
    start_blocking(waiter, "BZPOPMIN", "z", "0")
    wait_blocked(admin, cid, b"bzpopmin")
    assert admin.call("CLIENT", "UNBLOCK", str(cid), "ERROR") == (":", 1)
    assert waiter.read_reply() == ("-", "UNBLOCKED client unblocked via CLIENT UNBLOCK")
    assert admin.call("CLIENT", "UNBLOCK", str(cid)) == (":", 0)
    assert admin.call("CLIENT", "UNBLOCK", str(cid), "FOO")[0] == "-"


def test_redis_py_blocking_calls(port):
    r = redis.Redis(port=port, socket_timeout=10)
    try:
        start = time.monotonic()
        assert r.blpop(["k"], timeout=0.2) is None
        assert 0.19 <= time.monotonic() - start < 1.5
        r.rpush("k", "v")
        assert r.blpop(["k"], timeout=1) == (b"k", b"v")
        r.zadd("z", {"m": 1.5})
        assert r.bzpopmin(["z"], timeout=1) == (b"z", b"m", 1.5)
    finally:
        r.close()
