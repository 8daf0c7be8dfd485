"""The bit and HyperLogLog writes reach a replica as Redis propagates them: after the
same stream the replica holds the master's bytes, the HLL cache PFCOUNT stored on the
master included (PFCOUNT is read-only, yet propagated when it wrote the cache)."""
import pytest

from tests.helpers import start_node
from tests.integration.test_replication import attach, wait_converged, wait_link_up

KEYS = ["{r}bits", "{r}field", "{r}op", "{r}hll", "{r}big", "{r}merged", "{r}dense"]


@pytest.fixture(scope="module")
def pair():
    master = start_node()
    replica = start_node(slots=False)
    try:
        mc, rc = attach(master.port, replica.port)
        wait_link_up(rc)
        assert rc.call("READONLY") == ("+", "OK")
        yield mc, rc
    finally:
        replica.stop()
        master.stop()


def test_writes_and_the_pfcount_cache_replicate(pair):
    mc, rc = pair
    commands = [
        ["SETBIT", "{r}bits", "100", "1"], ["SETBIT", "{r}bits", "3", "1"],
        ["BITFIELD", "{r}field", "SET", "i16", "#2", "-300", "INCRBY", "u5", "3", "40"],
        ["BITOP", "XOR", "{r}op", "{r}bits", "{r}field"],
        ["PFADD", "{r}hll", *["e%d" % i for i in range(100)]],
        ["PFCOUNT", "{r}hll"],
        ["PFADD", "{r}big", *["b%d" % i for i in range(5000)]],
        ["PFCOUNT", "{r}big"],
        ["PFMERGE", "{r}merged", "{r}hll", "{r}big"],
        ["PFADD", "{r}dense", "x"], ["PFDEBUG", "TODENSE", "{r}dense"],
    ]
    for command in commands:
        assert mc.call(*command)[0] != "-", command
    wait_converged(mc, rc)
    for key in KEYS:
        assert rc.call("GET", key) == mc.call("GET", key), key
    # The cached count written by PFCOUNT travelled too: its top bit is clear.
    assert mc.call("GET", "{r}hll")[1][15] & 0x80 == 0
    assert len(rc.call("GET", "{r}dense")[1]) == 16 + 12288     # PFDEBUG TODENSE's dense form
    assert rc.call("PFCOUNT", "{r}merged") == mc.call("PFCOUNT", "{r}merged")
