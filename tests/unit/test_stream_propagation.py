"""What the stream commands leave in the replication stream, as Redis 7.0 propagates
them: XADD with the ID it chose, approximate trimming as exact, XREADGROUP as XCLAIM /
XGROUP SETID records (never itself), XCLAIM/XAUTOCLAIM likewise; and that replaying the
stream on a second keyspace rebuilds the same stream, groups and PELs."""
from commands.streams.stream_type import to_neutral
from tests.unit.test_propagation import _run, _setup, _stream


def _replay(commands):
    """A fresh server that applies `commands` as a replica does (obeying its master)."""
    server, repl, client = _setup()
    client.is_master_link = True
    for argv in commands:
        reply = _run(client, *argv)
        assert not isinstance(reply, Exception), (argv, reply)
    return server


def test_xadd_propagates_the_id_it_chose_and_exact_trimming():
    server, repl, c = _setup()
    _run(c, "XADD", "s", "1-1", "f", "v")
    _run(c, "XADD", "s", "1-*", "f", "v")
    auto = _run(c, "XADD", "s", "*", "f", "v")
    for i in range(300):
        _run(c, "XADD", "big", "%d-1" % (i + 1), "f", "v")
    _run(c, "XADD", "big", "MAXLEN", "~", "150", "400-1", "f", "v")
    _run(c, "XTRIM", "big", "MINID", "~", "290", "LIMIT", "200")
    _run(c, "XTRIM", "big", "MAXLEN", "~", "1000")               # nothing trimmed
    stream = _stream(repl)
    assert stream[0] == ["XADD", "s", "1-1", "f", "v"]
    assert stream[1] == ["XADD", "s", "1-2", "f", "v"]
    assert stream[2] == ["XADD", "s", auto.decode(), "f", "v"]
    assert stream[-2] == ["XADD", "big", "MAXLEN", "=", "201", "400-1", "f", "v"]
    assert stream[-1] == ["XTRIM", "big", "MINID", "=", "201-1", "LIMIT", "200"]
    replica = _replay([s for s in stream])
    assert to_neutral(replica.keyspace.get(b"big")) == to_neutral(server.keyspace.get(b"big"))


def test_xreadgroup_propagates_claims_and_setid_never_itself():
    server, repl, c = _setup()
    for i in range(1, 5):
        _run(c, "XADD", "s", "%d-0" % i, "f", str(i))
    _run(c, "XGROUP", "CREATE", "s", "g", "0")
    _run(c, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">")
    _run(c, "XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", ">")
    _run(c, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")    # history
    _run(c, "XCLAIM", "s", "g", "carol", "0", "1-0", "LASTID", "9-0")
    _run(c, "XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "1")
    _run(c, "XACK", "s", "g", "2-0")
    stream = _stream(repl)
    names = [argv[0] for argv in stream]
    assert "XREADGROUP" not in names
    claims = [argv for argv in stream if argv[0] == "XCLAIM"]
    assert [argv[3] for argv in claims] == ["alice", "alice", "carol", "dave"]
    assert claims[0][4:6] == ["0", "1-0"] and claims[0][6] == "TIME"
    assert claims[0][8:] == ["RETRYCOUNT", "1", "FORCE", "JUSTID", "LASTID", "1-0"]
    assert ["XGROUP", "CREATECONSUMER", "s", "g", "bob"] in stream
    assert ["XGROUP", "SETID", "s", "g", "4-0", "ENTRIESREAD", "4"] in stream
    assert stream[-1] == ["XACK", "s", "g", "2-0"]
    replica = _replay(stream)
    ours, theirs = to_neutral(server.keyspace.get(b"s")), to_neutral(replica.keyspace.get(b"s"))
    # seen times differ (the replica saw the consumers later); all else is the same
    strip = [(name, last, read, pel, [(cname, ids) for cname, _, ids in consumers])
             for name, last, read, pel, consumers in ours["groups"]]
    assert strip == [(name, last, read, pel, [(cname, ids) for cname, _, ids in consumers])
                     for name, last, read, pel, consumers in theirs["groups"]]
    assert ours["nodes"] == theirs["nodes"]


def test_a_served_blocked_group_reader_propagates_in_the_writers_unit():
    """deliver() called from a writer's context joins the writer's unit: simulated by
    the serve path through the blocking machinery in tests/integration; here the claim
    records follow XADD in one MULTI/EXEC unit."""
    server, repl, c = _setup()
    _run(c, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    _run(c, "MULTI")
    _run(c, "XADD", "s", "1-0", "f", "v")
    _run(c, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    _run(c, "EXEC")
    stream = _stream(repl)
    assert [argv[0] for argv in stream] == ["XGROUP", "MULTI", "XADD", "XCLAIM", "EXEC"]
