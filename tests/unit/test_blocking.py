"""The blocked-clients machinery in-process: FIFO service in the writer's context,
timeouts, and the cluster hooks that end waits with -MOVED / -CLUSTERDOWN."""
import gevent
import pytest

from commands.data.keyspace import Keyspace, slot_of
from commands.server.blocking import (block, handle_clients_blocked_on_keys, parse_timeout,
                                      unblock_all, unblock_client, unblock_clients_on_slot)
from commands.server.resp import NULL_ARRAY, ReplyError


class FakeSettings:
    client_query_buffer_limit = 1 << 30


class FakeServer:
    def __init__(self):
        self.keyspace = Keyspace()
        self.close_hooks = []
        self.settings = FakeSettings()
        self.net_input_bytes = 0
        self.blocked_clients = 0
        self.propagator = None
        self.total_commands = 0


class FakeClient:
    """What block() needs of a client: no socket, so no input watching."""
    def __init__(self, server):
        self.server = server
        self.multi = None
        self.deny_blocking = False
        self.sock = None

    def flush_batch(self):
        pass                          # no connection loop, no earlier replies to send


def popper(ks):
    def serve(key):
        items = ks.get(key)
        if not items:
            return None
        item = items.pop(0)
        if items:
            ks.modified(key)
        else:
            ks.delete(key)
        return [key, item]
    return serve


def spawn_waiter(server, keys, timeout=0):
    client = FakeClient(server)
    ks = server.keyspace
    greenlet = gevent.spawn(block, client, keys, timeout, popper(ks), NULL_ARRAY)
    gevent.sleep(0)                  # let it register
    return client, greenlet


def test_waiters_are_served_fifo_after_a_write():
    server = FakeServer()
    ks = server.keyspace
    waiters = [spawn_waiter(server, [b"k"]) for _ in range(3)]
    assert list(ks.blocking_keys) == [b"k"] and len(ks.blocking_keys[b"k"]) == 3
    ks.set(b"k", [b"a", b"b"])       # a write marks the key ready...
    assert b"k" in ks.ready_keys
    handle_clients_blocked_on_keys(ks)   # ...and the executor serves after the command
    results = [g.get(timeout=1) for _, g in waiters[:2]]
    assert results == [[b"k", b"a"], [b"k", b"b"]]
    assert not waiters[2][1].ready()
    assert ks.get(b"k") is None
    unblock_all(ks, ReplyError("CLUSTERDOWN The cluster is down"))
    assert isinstance(waiters[2][1].get(timeout=1), ReplyError)
    assert ks.blocking_keys == {}


def test_timeout_returns_the_timeout_reply_and_unregisters():
    server = FakeServer()
    _, greenlet = spawn_waiter(server, [b"a", b"b"], timeout=0.05)
    assert greenlet.get(timeout=2) is NULL_ARRAY
    assert server.keyspace.blocking_keys == {}


def test_unblock_clients_on_slot_only_touches_that_slot():
    server = FakeServer()
    ks = server.keyspace
    _, on_a = spawn_waiter(server, [b"{a}x"])
    _, on_b = spawn_waiter(server, [b"{b}x"])
    moved = ReplyError("MOVED %d 127.0.0.1:7001" % slot_of(b"{a}x"))
    assert unblock_clients_on_slot(ks, slot_of(b"{a}x"), moved) == 1
    assert on_a.get(timeout=1) is moved
    gevent.sleep(0)
    assert not on_b.ready()
    assert unblock_clients_on_slot(ks, slot_of(b"{a}x"), moved) == 0
    assert list(ks.blocking_keys) == [b"{b}x"]
    unblock_all(ks, moved)
    on_b.get(timeout=1)


def test_client_unblock_and_multi():
    server = FakeServer()
    client, greenlet = spawn_waiter(server, [b"k"])
    assert unblock_client(client, error=False) is True
    assert greenlet.get(timeout=1) is NULL_ARRAY
    assert unblock_client(client, error=True) is False


@pytest.mark.parametrize("text, seconds", [(b"0", 0.0), (b"0.2", 0.2), (b"1.5", 1.5),
                                           (b"-0.0001", 0.0), (b"0x10", 16.0),
                                           # sub-millisecond waits round up, not to 0
                                           (b"0.001", 0.001), (b"0.0001", 0.001),
                                           (b"1e-9", 0.001), (b"0.0015", 0.002)])
def test_parse_timeout(text, seconds):
    assert parse_timeout(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text, error", [(b"-1", "negative"), (b"inf", "negative"),
                                         (b"1e30", "negative"), (b"x", "not a float"),
                                         (b"nan", "not a float"), (b" 1", "not a float")])
def test_parse_timeout_errors(text, error):
    with pytest.raises(ReplyError, match=error):
        parse_timeout(text)
