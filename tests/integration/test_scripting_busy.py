"""A long script under busy-reply-threshold: other clients get -BUSY, SCRIPT KILL stops a
read-only script (its caller gets Redis's "killed" error, even through pcall), a script
that wrote is UNKILLABLE and only SHUTDOWN NOSAVE ends it; the cluster bus keeps
answering meanwhile, so the other nodes never flag the busy one.
"""
import threading

import pytest

from tests.helpers import RawClient, wait_until
from tests.integration.cluster_util import Cluster, call

BUSY = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
SPIN = "local i = 0 while true do i = i + 1 end"
# Once killed the hook fires on every new line: a pcall catches the kill only if the
# script's next statement is on the same line (Redis behaves the same).
SPIN_IN_PCALL = "pcall(function() local i = 0 while true do i = i + 1 end end)\nreturn 'no'"
SPIN_IN_PCALL_ONE_LINE = "pcall(function() while true do end end) return 'caught'"
WRITE_THEN_SPIN = "redis.call('set', KEYS[1], 'x') local i = 0 while true do i = i + 1 end"
# Runs ~2.5 s by the server's clock, then returns.
SPIN_FOR_A_WHILE = ("local t = redis.call('time') local start = t[1] * 1000000 + t[2] "
                    "repeat t = redis.call('time') until t[1] * 1000000 + t[2] - start "
                    "> 2500000 return 'done'")


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(2, node_timeout=1000)
    try:
        c.create_by_hand([[(0, 8191)], [(8192, 16383)]])
        for port in c.ports:
            assert call(port, "CONFIG", "SET", "busy-reply-threshold", "200") == ("+", "OK")
        yield c
    finally:
        c.stop()


def run_in_thread(port, *command):
    result = {}

    def target():
        client = RawClient(port)
        try:
            result["reply"] = client.call(*command)
        except Exception as exc:        # the node went away (SHUTDOWN NOSAVE)
            result["reply"] = exc
        finally:
            client.close()
    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


def wait_busy(client):
    wait_until(lambda: client.call("GET", "k") == ("-", BUSY), timeout=5,
               message="the script to make the node busy")


def test_script_kill_stops_a_read_only_script(cluster):
    port = cluster.ports[0]
    other = RawClient(port)
    for script, line in ((SPIN, 1), (SPIN_IN_PCALL, 2), (SPIN_IN_PCALL_ONE_LINE, None)):
        thread, result = run_in_thread(port, "EVAL", script, "0")
        wait_busy(other)
        assert other.call("PING") == ("-", BUSY)
        assert other.call("SHUTDOWN") == ("-", BUSY)
        assert other.call("SCRIPT", "KILL") == ("+", "OK")
        thread.join(5)
        sha = other.call("SCRIPT", "LOAD", script)[1].decode()
        if line is None:
            assert result["reply"] == ("$", b"caught")
        else:
            assert result["reply"] == ("-", "ERR Script killed by user with SCRIPT KILL... "
                                       "script: %s, on @user_script:%d." % (sha, line))
        assert other.call("GET", "k") == ("$", None)
    assert other.call("SCRIPT", "KILL") == ("-", "NOTBUSY No scripts in execution right now.")
    other.close()


def test_bus_keeps_running_during_a_long_script(cluster):
    busy_port, peer = cluster.ports
    thread, result = run_in_thread(busy_port, "EVAL", SPIN_FOR_A_WHILE, "0")
    other = RawClient(busy_port)
    wait_busy(other)
    # 2.5 s of script, node timeout 1 s: the peer must never even suspect the busy node.
    while thread.is_alive():
        flags = [line.split()[2] for line in call(peer, "CLUSTER", "NODES")[1].decode()
                 .splitlines()]
        assert not any("fail" in f for f in flags), flags
        thread.join(0.1)
    assert result["reply"] == ("$", b"done")
    assert other.call("GET", "k") == ("$", None)
    other.close()


def test_a_script_that_wrote_is_unkillable_until_shutdown_nosave(cluster):
    port = cluster.ports[0]
    other = RawClient(port)
    thread, result = run_in_thread(port, "EVAL", WRITE_THEN_SPIN, "1", "k")
    wait_busy(other)
    assert other.call("SCRIPT", "KILL")[1].startswith("UNKILLABLE Sorry the script already")
    assert other.call("SHUTDOWN") == ("-", BUSY)
    try:
        other.call("SHUTDOWN", "NOSAVE")
    except ConnectionError:
        pass
    thread.join(5)
    assert not thread.is_alive()
    wait_until(lambda: cluster.procs[0].proc.poll() is not None, timeout=5,
               message="the node to exit")
