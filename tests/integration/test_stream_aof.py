"""Streams through the append-only file: what a master propagates (XADD with its IDs,
XREADGROUP's XCLAIM / XGROUP SETID records) replays into the same stream after a
kill -9, and so does the rewritten base without the RDB preamble (XADD / XSETID /
XGROUP CREATE / XCLAIM / XGROUP CREATECONSUMER)."""
import os
import signal

from tests.helpers import RawClient, start_node, wait_until


def _view(client):
    """The streams' entries, counters, groups and PELs, without times."""
    out = []
    for key in ("s", "e"):
        out.append(client.call("XRANGE", key, "-", "+"))
        out.append(client.call("XINFO", "STREAM", key)[1][6:])
        groups = client.call("XINFO", "GROUPS", key)
        out.append(groups)
        for group in groups[1]:
            name = group[1][1][1]
            rows = client.call("XPENDING", key, name, "-", "+", "100")[1]
            out.append([(row[1][0], row[1][1], row[1][3]) for row in rows])
            out.append(sorted((c[1][1], c[1][3]) for c in
                              client.call("XINFO", "CONSUMERS", key, name)[1]))
    return out


def _restart(proc):
    proc.signal(signal.SIGKILL)
    proc.proc.wait(5)
    return start_node("--appendonly", "yes", "--aof-use-rdb-preamble", "no", cwd=proc.cwd,
                      port=proc.port)


def test_streams_replay_from_the_aof_and_its_rewrite():
    proc = start_node("--appendonly", "yes", "--appendfsync", "always",
                      "--aof-use-rdb-preamble", "no")
    try:
        c = RawClient(proc.port)
        for i in range(1, 120):
            c.call("XADD", "s", "*" if i % 3 else "%d-5" % (10 ** 13 + i), "f", str(i))
        c.call("XDEL", "s", c.call("XRANGE", "s", "-", "+", "COUNT", 1)[1][0][1][0][1])
        c.call("XGROUP", "CREATE", "s", "g", "0")
        c.call("XGROUP", "CREATE", "s", "h", "$")
        c.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "4", "STREAMS", "s", ">")
        c.call("XREADGROUP", "GROUP", "g", "bob", "NOACK", "COUNT", "2", "STREAMS", "s", ">")
        c.call("XGROUP", "CREATECONSUMER", "s", "h", "idle")
        c.call("XADD", "e", "1-1", "a", "b")
        c.call("XDEL", "e", "1-1")
        c.call("XADD", "s", "MAXLEN", "~", "50", "*", "trim", "me")
        expected = _view(c)
        c.close()
        proc = _restart(proc)
        c = RawClient(proc.port)
        assert _view(c) == expected
        assert c.call("BGREWRITEAOF")[0] == "+"
        wait_until(lambda: b"aof_rewrite_in_progress:0" in c.call("INFO", "persistence")[1]
                   and b"aof_rewrites:1" in c.call("INFO", "persistence")[1],
                   timeout=10, message="the rewrite")
        c.close()
        base = os.path.join(proc.cwd, "appendonlydir", "appendonly.aof.2.base.aof")
        with open(base, "rb") as f:
            assert b"XCLAIM" in f.read()          # the command form, not an RDB
        proc = _restart(proc)
        c = RawClient(proc.port)
        assert _view(c) == expected
        c.close()
    finally:
        proc.stop()
