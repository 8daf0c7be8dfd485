"""Streams on a replica of ours: a full sync carries them (RDB), and what the master's
XREADGROUP (served at once, or blocked then served by an XADD), XCLAIM, XAUTOCLAIM,
XADD * and approximate trimming propagate rebuilds the same entries, groups and PELs
on the replica."""
import threading

from tests.helpers import RawClient, start_node, wait_until
from tests.integration.test_replication import (attach, digest, info, wait_converged,
                                                wait_link_up)


def _groups_view(client, key):
    """Groups and their pending entries, without times."""
    groups = client.call("XINFO", "GROUPS", key)
    pending = [client.call("XPENDING", key, group[1][1][1], "-", "+", "100")
               for group in groups[1]]
    untimed = [[(row[1][0], row[1][1], row[1][3]) for row in rows[1]] for rows in pending]
    return groups, untimed


def test_replica_follows_stream_writes_and_group_reads():
    master = start_node()
    replica = start_node(slots=False)
    try:
        mc = RawClient(master.port)
        for i in range(1, 301):
            mc.call("XADD", "s", "%d-0" % i, "f", str(i))
        mc.call("XGROUP", "CREATE", "s", "g", "0")
        mc.call("XREADGROUP", "GROUP", "g", "early", "COUNT", "5", "STREAMS", "s", ">")
        mc, rc = attach(master.port, replica.port)
        wait_link_up(rc)
        wait_converged(mc, rc)
        cmds = [["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"],
                ["XREADGROUP", "GROUP", "g", "bob", "NOACK", "COUNT", "2", "STREAMS", "s",
                 ">"],
                ["XCLAIM", "s", "g", "carol", "0", "1-0", "2-0"],
                ["XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "2"],
                ["XACK", "s", "g", "7-0"], ["XADD", "s", "*", "auto", "1"],
                ["XADD", "s", "MAXLEN", "~", "150", "*", "trim", "1"],
                ["XGROUP", "CREATE", "s", "late", "$"]]
        for cmd in cmds:
            assert mc.call(*cmd)[0] != "-", cmd
        blocked = RawClient(master.port, timeout=10)
        result = {}
        thread = threading.Thread(target=lambda: result.setdefault("r", blocked.call(
            "XREADGROUP", "GROUP", "late", "erin", "BLOCK", "5000", "STREAMS", "s", ">")))
        thread.start()
        wait_until(lambda: info(mc, "clients")["blocked_clients"] == "1", timeout=5)
        mc.call("XADD", "s", "*", "wake", "up")
        thread.join(10)
        blocked.close()
        assert result["r"][1][0][1][1][1][0][1][1][1] == [("$", b"wake"), ("$", b"up")]
        wait_converged(mc, rc)
        rc.call("READONLY")
        assert rc.call("XRANGE", "s", "-", "+") == mc.call("XRANGE", "s", "-", "+")
        (r_groups, r_pending), (m_groups, m_pending) = _groups_view(rc, "s"), \
            _groups_view(mc, "s")
        assert r_pending == m_pending
        assert r_groups[1][0] == m_groups[1][0]
        # A blocked reader's delivery reaches the replica as XCLAIM ... LASTID, which
        # moves the group's last ID but not its entries-read (Redis 7.0 does the same:
        # only a NOACK read propagates XGROUP SETID ... ENTRIESREAD).
        assert r_groups[1][1][1][:9] == m_groups[1][1][1][:9]
        assert r_groups[1][1][1][9] == ("$", None)
        assert rc.call("XINFO", "STREAM", "s")[1][6:] == mc.call("XINFO", "STREAM", "s")[1][6:]
        assert digest(rc) == digest(mc)
    finally:
        replica.stop()
        master.stop()
