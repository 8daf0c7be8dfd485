"""What commands leave in the replication stream: verbatim writes, rewrites of the
non-deterministic ones, expiry DELs, MULTI/EXEC units, nothing for reads and no-ops."""

import hiredis

from cluster.slots import key_hash_slot
from commands import load_all_commands
from commands.data.keyspace import Keyspace, now_ms
from commands.replication.master import Replication
from commands.server.connection import Client
from commands.server.context import Server
from commands.server.executor import call, lookup_command
from commands.server.resp import ReplyError
from commands.server.settings import Settings

load_all_commands()


def _setup():
    server = Server(Settings(), Keyspace())
    repl = Replication(server)
    # The wiring node.py does.
    server.replication = repl
    server.propagator = repl.propagator
    server.keyspace.propagate_deletion = repl.propagate_deletion
    server.close_hooks.append(repl.on_client_close)
    repl.create_backlog()
    client = Client(server)
    return server, repl, client


def _run(c, *args):
    argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    cmd, error = lookup_command(argv)
    assert error is None, error
    c.last_command = cmd
    if c.multi is not None and cmd.name not in ("exec", "multi"):
        c.multi.append((cmd, argv))
        return None
    return call(c, cmd, argv)


def _stream(repl, start=1):
    """The commands in the stream from offset `start`. A new stream opens with SELECT 0
    (Redis's slaveseldb starts at -1); from offset 1 that is checked and left out."""
    reader = hiredis.Reader()
    reader.feed(repl.backlog.read_from(start))
    out = []
    while (item := reader.gets()) is not False:
        out.append([a.decode() for a in item])
    if start == 1 and out:
        assert out[0] == ["SELECT", "0"], out[:2]
        out = out[1:]
    return out


def test_writes_verbatim_reads_and_noops_not_at_all():
    server, repl, c = _setup()
    _run(c, "SET", "k", "v")
    _run(c, "GET", "k")
    _run(c, "DEL", "missing")
    _run(c, "RPUSH", "l", "a", "b")
    assert _stream(repl) == [["SET", "k", "v"], ["RPUSH", "l", "a", "b"]]
    assert c.woff == repl.offset == repl.backlog.end_offset


def test_relative_times_become_absolute():
    server, repl, c = _setup()
    before = now_ms()
    _run(c, "SET", "a", "1", "EX", "100")
    _run(c, "SETEX", "b", "100", "2")
    _run(c, "SET", "e", "3")
    _run(c, "EXPIRE", "e", "100")
    _run(c, "SET", "g", "4")
    _run(c, "GETEX", "g", "PX", "100000")
    _run(c, "GETEX", "g", "PERSIST")
    _run(c, "SET", "d", "5")
    _run(c, "EXPIRE", "d", "-1")
    stream = _stream(repl)
    ks = server.keyspace
    assert stream[0] == ["SET", "a", "1", "PXAT", str(ks.expires[b"a"])]
    assert int(stream[0][4]) >= before + 100000
    assert stream[1] == ["SET", "b", "2", "PXAT", str(ks.expires[b"b"])]
    assert stream[3] == ["PEXPIREAT", "e", str(ks.expires[b"e"])]
    assert stream[5][:2] == ["PEXPIREAT", "g"] and stream[6] == ["PERSIST", "g"]
    assert stream[7:] == [["SET", "d", "5"], ["DEL", "d"]]


def test_chance_and_floats_propagate_their_result():
    server, repl, c = _setup()
    _run(c, "SET", "f", "1.5")
    reply = _run(c, "INCRBYFLOAT", "f", "0.25")
    _run(c, "RPUSH", "l", "x")
    _run(c, "BLPOP", "l", "0")
    stream = _stream(repl)
    assert stream[1] == ["SET", "f", reply.decode(), "KEEPTTL"]
    assert stream[3] == ["LPOP", "l"]
    if lookup_command([b"spop", b"s"])[1] is None:
        _run(c, "SADD", "s", "a", "b", "c")
        popped = _run(c, "SPOP", "s")
        assert _stream(repl)[-1] == ["SREM", "s", popped.decode()]


def test_expiry_is_a_del_and_a_transaction_one_unit():
    server, repl, c = _setup()
    ks = server.keyspace
    _run(c, "SET", "{t}gone", "v")
    ks.expires[b"{t}gone"] = now_ms() - 1      # expired, not yet deleted
    ks._ttl_pos[b"{t}gone"] = len(ks._ttl_keys)
    ks._ttl_keys.append(b"{t}gone")
    start = repl.offset + 1
    _run(c, "MULTI")
    c.multi = []
    _run(c, "GET", "{t}gone")
    _run(c, "SET", "{t}b", "1")
    _run(c, "INCR", "{t}b")
    _run(c, "EXEC")
    assert _stream(repl, start) == [["MULTI"], ["DEL", "{t}gone"], ["SET", "{t}b", "1"],
                                    ["INCR", "{t}b"], ["EXEC"]]


def test_flushall_always_and_errors_never():
    server, repl, c = _setup()
    _run(c, "FLUSHALL")
    _run(c, "SET", "s", "abc")
    assert isinstance(_run(c, "INCR", "s"), ReplyError)
    assert _stream(repl) == [["FLUSHALL"], ["SET", "s", "abc"]]


def test_lazyfree_settings_pick_unlink_as_redis_propagates_them():
    """lazyfree-lazy-expire: an expired key goes out as UNLINK; lazyfree-lazy-server-del:
    so does a key a command deleted by itself (EXPIRE in the past, SPOP of the whole set)
    and one of a slot the node lost (Redis's propagateDeletion and the rewrites)."""
    server, repl, c = _setup()
    ks = server.keyspace
    for lazy in ("no", "yes"):
        verb = "UNLINK" if lazy == "yes" else "DEL"
        server.settings.set("lazyfree-lazy-expire", lazy)
        server.settings.set("lazyfree-lazy-server-del", lazy)
        _run(c, "SET", "gone", "v")
        _run(c, "SET", "past", "v")
        _run(c, "SADD", "set", "a", "b")
        _run(c, "SET", "inslot", "v")
        ks.expires[b"gone"] = now_ms() - 1
        ks._ttl_pos[b"gone"] = len(ks._ttl_keys)
        ks._ttl_keys.append(b"gone")
        start = repl.offset + 1
        _run(c, "GET", "gone")
        _run(c, "EXPIRE", "past", "-1")
        _run(c, "SPOP", "set", "5")
        ks.delete_slot(key_hash_slot(b"inslot"))
        assert _stream(repl, start) == [[verb, "gone"], [verb, "past"], [verb, "set"],
                                        [verb, "inslot"]]
