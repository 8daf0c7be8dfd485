"""commands/server/tracking.py without sockets: the keyspace hook is on only while it is
needed (so writes cost nothing extra when no client tracks), the table's bookkeeping,
and tracking-table-max-keys."""
from commands import load_all_commands
from commands.data.keyspace import Keyspace
from commands.server.context import Server
from commands.server.settings import Settings
from commands.server.table import COMMANDS


class FakeClient:
    """What tracking.py uses of a connection; pushes are collected."""

    def __init__(self, server, resp3=True):
        self.id = server.new_client_id()
        server.clients[self.id] = self
        self.tracking = None
        self.remembers_reads = False
        self.after_reply = False
        self.after_call = False
        self.asking = False
        self.greenlet = None
        self.resp3 = resp3
        self.pubsub_mode = False
        self.closed = False
        self.pushed = []

    def push_raw(self, data):
        self.pushed.append(data)

    def defer_push(self, payload):          # never the current client here
        raise AssertionError("no command is running")


def make_server():
    load_all_commands()
    return Server(Settings(), Keyspace())


def read(server, client, *keys):
    server.tracking.remember_keys(client, COMMANDS[b"mget"], [b"MGET", *keys])


def test_the_keyspace_hook_is_off_unless_needed():
    server = make_server()
    ks, tracking = server.keyspace, server.tracking
    assert ks.tracking is None and not ks.key_hooks
    client = FakeClient(server)
    tracking.enable(client, 0, False, False, False, False, [])
    assert ks.tracking is tracking and ks.key_hooks
    tracking.disable(client)
    assert ks.tracking is None and not ks.key_hooks
    # Keys read before tracking stopped keep the hook until they change (Redis drops
    # their ids lazily too); then it goes.
    tracking.enable(client, 0, False, False, False, False, [])
    read(server, client, b"k")
    tracking.disable(client)
    assert ks.key_hooks and tracking.table
    ks.set(b"k", b"v")
    assert not ks.key_hooks and not tracking.table and tracking.items == 0
    assert client.pushed == []             # it no longer tracks: nothing sent


def test_watch_and_tracking_share_the_flag():
    server = make_server()
    ks = server.keyspace
    watcher = FakeClient(server)
    watcher.watched = {}
    watcher.dirty_cas = False
    ks.watch(watcher, b"w")
    client = FakeClient(server)
    server.tracking.enable(client, 0, False, False, False, False, [])
    ks.unwatch_all(watcher)
    assert ks.key_hooks                     # tracking still needs it
    server.tracking.disable(client)
    assert not ks.key_hooks


def test_invalidation_counts_and_pushes():
    server = make_server()
    a, b = FakeClient(server), FakeClient(server)
    for client in (a, b):
        server.tracking.enable(client, 0, False, False, False, False, [])
    read(server, a, b"x", b"y")
    read(server, b, b"x")
    assert server.tracking.info_stats() == [
        "tracking_total_keys:2", "tracking_total_items:3", "tracking_total_prefixes:0"]
    server.keyspace.set(b"x", b"1")
    push = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nx\r\n"
    assert a.pushed == [push] and b.pushed == [push]
    assert server.tracking.info_stats()[:2] == ["tracking_total_keys:1",
                                                "tracking_total_items:1"]


def test_table_limit_drops_the_oldest_keys():
    server = make_server()
    server.settings.set("tracking-table-max-keys", "2")
    client = FakeClient(server)
    server.tracking.enable(client, 0, False, False, False, False, [])
    read(server, client, b"k1", b"k2", b"k3", b"k4")
    assert list(server.tracking.table) == [b"k3", b"k4"]
    assert [p[-4:-2] for p in client.pushed] == [b"k1", b"k2"]
    server.settings.set("tracking-table-max-keys", "1")
    server.tracking.limit_cron()
    assert list(server.tracking.table) == [b"k4"]
