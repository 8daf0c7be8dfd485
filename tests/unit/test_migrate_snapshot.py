"""MIGRATE's snapshot of the keys, in-process against a fake target that acknowledges
every RESTORE-ASKING: the value looked up is the one sent until the first yield, a key
written meanwhile is read again (not yet sent) or sent again (already sent), and the
guards are gone afterwards."""

import gevent
import hiredis
import pytest

from commands import load_all_commands
from commands.data.keyspace import Keyspace
from commands.families import migrate as migrate_module
from commands.server.connection import Client
from commands.server.context import Server
from commands.server.executor import call, lookup_command
from commands.server.resp import ReplyError
from commands.server.settings import Settings

load_all_commands()


class _FakeSocket:
    def settimeout(self, timeout):
        pass

    def close(self):
        pass


class _FakeTarget(migrate_module._TargetConnection):
    """Keeps each request it is sent and acknowledges it at once."""

    def __init__(self):
        super().__init__(_FakeSocket())
        self.requests = []

    def send(self, data):
        reader = hiredis.Reader()
        reader.feed(data)
        while (request := reader.gets()) is not False:
            self.requests.append(request)
            self.reader.feed(b"+OK\r\n")


@pytest.fixture
def target(monkeypatch):
    conn = _FakeTarget()
    monkeypatch.setattr(migrate_module, "_checkout", lambda *args, **kwargs: conn)
    monkeypatch.setattr(migrate_module, "_checkin", lambda *args, **kwargs: None)
    return conn


def _run(c, *args):
    argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    cmd, error = lookup_command(argv)
    assert error is None
    reply = call(c, cmd, argv)
    if isinstance(reply, ReplyError):
        raise reply
    return reply


def _restored(requests):
    """key -> the value of each RESTORE-ASKING sent (the payload's short string)."""
    return {r[1]: r[3][2:-10] for r in requests if r[0] == b"RESTORE-ASKING"}


def test_keys_written_during_the_snapshot_are_not_lost(target):
    c = Client(Server(Settings(), Keyspace()))
    ks = c.server.keyspace
    count = migrate_module.SNAPSHOT_YIELD_EVERY + 50
    keys = [b"{t}:%d" % i for i in range(count)]
    for key in keys:
        _run(c, "SET", key, b"old")
    early, late = keys[10], keys[-1]      # serialized before / after the first yield

    def writer():
        _run(c, "SET", early, b"new")
        _run(c, "SET", late, b"new")
    gevent.spawn(writer)                  # runs at the snapshot's first yield
    assert _run(c, "MIGRATE", "127.0.0.1", "1", "", "0", "1000", "KEYS", *keys) == \
        migrate_module.OK
    # The late key was read again after the yield: its first copy is the new value.
    first_round = target.requests[:count]
    assert _restored(first_round)[late] == b"new"
    assert _restored(first_round)[early] == b"old"
    # The early key changed after it was sent: sent again with REPLACE, then deleted.
    assert target.requests[count:] == [[b"RESTORE-ASKING", early, b"0",
                                        target.requests[count][3], b"REPLACE"]]
    assert _restored(target.requests[count:])[early] == b"new"
    assert ks.size == 0
    # The guards are gone: nothing WATCHes any key any more.
    assert ks.watchers == {} and not ks.key_hooks


def test_guards_beside_a_watching_client(target):
    c = Client(Server(Settings(), Keyspace()))
    watcher = Client(c.server)
    ks = c.server.keyspace
    _run(c, "SET", "{t}a", "1")
    _run(c, "SET", "{t}b", "2")
    ks.watch(watcher, b"{t}a")
    assert _run(c, "MIGRATE", "127.0.0.1", "1", "", "0", "1000", "KEYS", "{t}a", "{t}b") == \
        migrate_module.OK
    assert sorted(_restored(target.requests)) == [b"{t}a", b"{t}b"]
    assert watcher.dirty_cas                       # its key was deleted here
    assert set(ks.watchers) == {b"{t}a"} and ks.watchers[b"{t}a"] == {watcher}
    assert ks.key_hooks
