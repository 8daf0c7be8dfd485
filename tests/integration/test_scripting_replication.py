"""A script's effects reach replicas and the AOF as Redis 7 sends them: the commands the
script ran (more than one wrapped in MULTI/EXEC), never the script; commands that wrote
nothing are not sent; redis.set_repl(redis.REPL_NONE) keeps the commands after it local.
"""
import glob
import os

import pytest

from tests.helpers import start_node, wait_until
from tests.integration.test_replication import attach, wait_converged, wait_link_up


@pytest.fixture(scope="module")
def pair():
    master = start_node("--appendonly", "yes", "--appendfsync", "always")
    replica = start_node(slots=False)
    try:
        mc, rc = attach(master.port, replica.port)
        wait_link_up(rc)
        assert rc.call("READONLY") == ("+", "OK")
        yield master, mc, rc
    finally:
        replica.stop()
        master.stop()


def aof_text(master) -> bytes:
    parts = sorted(glob.glob(os.path.join(master.cwd, "appendonlydir", "*.incr.aof")))
    return b"".join(open(path, "rb").read() for path in parts)


def test_effects_replicate_not_the_script(pair):
    master, mc, rc = pair
    script = ("redis.call('set', KEYS[1], ARGV[1]) redis.call('get', KEYS[1]) "
              "redis.call('incr', KEYS[2]) redis.call('del', 'nothing{s}') return 1")
    assert mc.call("EVAL", script, "2", "{s}a", "{s}n", "v") == (":", 1)
    assert mc.call("EVAL", "return redis.call('set', KEYS[1], 'one')", "1", "{s}b") == \
        ("+", "OK")
    assert mc.call("EVAL", "redis.call('set', KEYS[1], 'kept') "
                   "redis.set_repl(redis.REPL_NONE) redis.call('set', KEYS[2], 'local') "
                   "return 1", "2", "{s}c", "{s}d") == (":", 1)
    wait_converged(mc, rc)
    assert rc.call("GET", "{s}a") == ("$", b"v")
    assert rc.call("GET", "{s}n") == ("$", b"1")
    assert rc.call("GET", "{s}b") == ("$", b"one")
    assert rc.call("GET", "{s}c") == ("$", b"kept")
    assert rc.call("GET", "{s}d") == ("$", None)          # REPL_NONE: master only
    assert mc.call("GET", "{s}d") == ("$", b"local")

    wait_until(lambda: b"kept" in aof_text(master), timeout=5, message="AOF written")
    aof = aof_text(master)
    lines = aof.split(b"\r\n")
    assert b"EVAL" not in [line.upper() for line in lines]
    first = lines.index(b"{s}a")
    # MULTI, SET {s}a v, INCR {s}n, EXEC: the GET and the DEL of nothing are not there.
    window = [line.upper() for line in lines[first - 8:first + 12]]
    assert b"MULTI" in window and b"EXEC" in window and b"INCR" in window
    assert b"GET" not in window and b"DEL" not in window
    assert b"local" not in aof
