"""CLUSTER command replies compared with a real redis-server 7.0.15 in cluster mode.

Both sides are fresh nodes that know nobody and own no slots (unlike the session
fixtures of conftest.py, which own every slot). What legitimately differs — node ids,
ports — is replaced by placeholders before comparing; values that are not comparable
(CLUSTER INFO counters, ping/pong times) are compared by shape only.

Tests that change state (slots, epochs) undo it, or run where the change is harmless.
"""
import shutil

import pytest

from tests.helpers import RawClient, start_node, start_redis

pytestmark = pytest.mark.timeout(60)


class ClusterDiff:
    def __init__(self, ours_port, redis_port):
        self.ours = RawClient(ours_port)
        self.redis = RawClient(redis_port)
        self.ports = (ours_port, redis_port)
        self.ids = (self.ours.call("CLUSTER", "MYID")[1], self.redis.call("CLUSTER", "MYID")[1])

    def _mask(self, reply, side):
        """Replace this side's node id and port (and bus port) with placeholders."""
        kind, value = reply
        if isinstance(value, (bytes, str)):
            text = value if isinstance(value, str) else value.decode("utf-8", "replace")
            text = text.replace(self.ids[side].decode(), "<myid>")
            text = text.replace(str(self.ports[side] + 10000), "<cport>")
            text = text.replace(str(self.ports[side]), "<port>")
            return (kind, text)
        if kind == ":" and value in (self.ports[side], self.ports[side] + 10000):
            return (kind, "<port>" if value == self.ports[side] else "<cport>")
        if kind in "%|":
            return (kind, [(self._mask(k, side), self._mask(v, side)) for k, v in value])
        if isinstance(value, list):
            return (kind, [self._mask(v, side) for v in value])
        return reply

    def both(self, *args):
        return self._mask(self.ours.call(*args), 0), self._mask(self.redis.call(*args), 1)

    def check(self, *args):
        ours, ref = self.both(*args)
        assert ours == ref, "command %r:\n  ours:  %r\n  redis: %r" % (args, ours, ref)
        return ours

    def close(self):
        self.ours.close()
        self.redis.close()


@pytest.fixture(scope="module")
def fresh_pair():
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed: run scripts/test.sh, which installs it")
    ours = start_node(slots=False, wait=False)
    ref = None
    try:
        ref = start_redis(cluster=True)
        ours.wait_ready()
        yield ours, ref
    finally:
        ours.stop()
        if ref is not None:
            ref.stop()


@pytest.fixture
def diff(fresh_pair):
    ours, ref = fresh_pair
    d = ClusterDiff(ours.port, ref.port)
    yield d
    d.close()


# ---------------------------------------------------------------- keys and slots

KEYS = ["foo", "bar", "{user1000}.following", "{user1000}.followers", "foo{}{bar}",
        "foo{{bar}}zap", "foo{bar}{zap}", "{}", "{", "}", "a{b", "{a}}", "", "\x00\xff",
        "x" * 1000, "{" + "y" * 300 + "}rest", "123456789"]


@pytest.mark.parametrize("key", KEYS)
def test_keyslot_vectors(diff, key):
    diff.check("CLUSTER", "KEYSLOT", key)


@pytest.mark.parametrize("args", [
    ("COUNTKEYSINSLOT", "0"), ("COUNTKEYSINSLOT", "16383"), ("COUNTKEYSINSLOT", "-1"),
    ("COUNTKEYSINSLOT", "16384"), ("COUNTKEYSINSLOT", "abc"), ("COUNTKEYSINSLOT",),
    ("GETKEYSINSLOT", "0", "10"), ("GETKEYSINSLOT", "0", "0"), ("GETKEYSINSLOT", "-1", "1"),
    ("GETKEYSINSLOT", "16384", "1"), ("GETKEYSINSLOT", "0", "-1"), ("GETKEYSINSLOT", "abc", "1"),
    ("GETKEYSINSLOT", "0", "abc"), ("GETKEYSINSLOT", "0"), ("KEYSLOT",), ("KEYSLOT", "a", "b"),
])
def test_slot_key_errors(diff, args):
    diff.check("CLUSTER", *args)


@pytest.mark.parametrize("args", [
    ("ADDSLOTS", "16384"), ("ADDSLOTS", "-1"), ("ADDSLOTS", "abc"), ("ADDSLOTS", "1", "1"),
    ("ADDSLOTS", "1", "2", "1"), ("ADDSLOTS",), ("ADDSLOTSRANGE", "5", "1"),
    ("ADDSLOTSRANGE", "1"), ("ADDSLOTSRANGE", "1", "2", "3"), ("ADDSLOTSRANGE", "0", "16384"),
    ("ADDSLOTSRANGE", "1", "5", "3", "7"), ("ADDSLOTSRANGE", "a", "b"),
    ("DELSLOTS", "5"), ("DELSLOTS", "16384"), ("DELSLOTS", "x"), ("DELSLOTS",),
    ("DELSLOTSRANGE", "1", "2"), ("DELSLOTSRANGE", "2", "1"), ("DELSLOTSRANGE", "1"),
    ("FLUSHSLOTS", "x"),
])
def test_slot_assignment_errors_on_a_fresh_node(diff, args):
    diff.check("CLUSTER", *args)


def test_slot_assignment_round_trip(diff):
    # Busy / unassigned errors need a slot that is assigned; everything is undone after.
    diff.check("CLUSTER", "ADDSLOTS", "100", "101")
    diff.check("CLUSTER", "ADDSLOTS", "100")
    diff.check("CLUSTER", "ADDSLOTSRANGE", "99", "101")
    diff.check("CLUSTER", "ADDSLOTSRANGE", "200", "300", "400", "400")
    diff.check("CLUSTER", "DELSLOTS", "100", "102")
    diff.check("CLUSTER", "COUNTKEYSINSLOT", "100")
    diff.check("CLUSTER", "SLOTS")
    diff.check("CLUSTER", "NODES")
    diff.check("CLUSTER", "DELSLOTSRANGE", "100", "101", "200", "300", "400", "400")
    diff.check("CLUSTER", "FLUSHSLOTS")
    diff.check("CLUSTER", "SLOTS")


# ---------------------------------------------------------------- nodes and epochs

@pytest.mark.parametrize("args", [
    ("MEET", "127.0.0.1", "abc"), ("MEET", "127.0.0.1", "-1"), ("MEET", "127.0.0.1", "0"),
    ("MEET", "127.0.0.1", "70000"), ("MEET", "127.0.0.1", "7000", "abc"),
    ("MEET", "127.0.0.1", "7000", "0"), ("MEET", "127.0.0.1", "7000", "70000"),
    ("MEET", "no-such-host", "7000"), ("MEET", "1.2.3", "7000"), ("MEET", "127.0.0.1"),
    ("MEET", "127.0.0.1", "7000", "1", "2"),
    ("FORGET", "abc"), ("FORGET", "f" * 40), ("FORGET",),
    ("COUNT-FAILURE-REPORTS", "abc"), ("REPLICAS", "abc"), ("SLAVES", "abc"),
    ("RESET", "foo"), ("RESET", "soft", "x"), ("SET-CONFIG-EPOCH", "-1"),
    ("SET-CONFIG-EPOCH", "abc"), ("SET-CONFIG-EPOCH",), ("SAVECONFIG", "x"), ("BUMPEPOCH", "x"),
    ("MYID", "x"), ("NODES", "x"), ("INFO", "x"), ("SETSLOT", "1"), ("FOO",), ("HELP", "x"),
])
def test_errors(diff, args):
    diff.check("CLUSTER", *args)


def test_help(diff):
    diff.check("CLUSTER", "HELP")
    diff.check("CLUSTER", "MYSHARDID")          # Redis 7.2's: unknown in 7.0.15


def test_forget_and_replicas_of_myself(diff):
    # Each side gets its own id: masked to <myid>, the replies must match.
    for args in (("FORGET",), ("REPLICAS",), ("COUNT-FAILURE-REPORTS",)):
        ours = diff._mask(diff.ours.call("CLUSTER", *args, diff.ids[0]), 0)
        ref = diff._mask(diff.redis.call("CLUSTER", *args, diff.ids[1]), 1)
        assert ours == ref, (args, ours, ref)


def test_reset_soft_on_a_fresh_node(diff):
    diff.check("CLUSTER", "RESET")
    diff.check("CLUSTER", "RESET", "SOFT")
    diff.check("CLUSTER", "NODES")


def test_one_node_views(diff):
    # A lone fresh node: NODES line (":port@cport" until it learns its address from a
    # MEET), SLOTS, SHARDS, LINKS, MYID length.
    diff.check("CLUSTER", "NODES")
    diff.check("CLUSTER", "SLOTS")
    diff.check("CLUSTER", "SHARDS")
    diff.check("CLUSTER", "LINKS")
    assert len(diff.ids[0]) == len(diff.ids[1]) == 40


def test_nodes_line_grammar(diff):
    for side, client in enumerate((diff.ours, diff.redis)):
        kind, raw = client.call("CLUSTER", "NODES")
        assert kind == "$" and raw.endswith(b"\n") and raw.count(b"\n") == 1
        fields = raw.decode().rstrip("\n").split(" ")
        assert fields[0] == diff.ids[side].decode()
        assert fields[1] == ":%d@%d" % (diff.ports[side], diff.ports[side] + 10000)
        assert fields[2:] == ["myself,master", "-", "0", "0", fields[6], "connected"]


def test_cluster_info_fields_and_order(diff):
    names = []
    for client in (diff.ours, diff.redis):
        kind, raw = client.call("CLUSTER", "INFO")
        assert kind == "$" and raw.endswith(b"\r\n")
        names.append([line.split(b":")[0] for line in raw.split(b"\r\n") if line])
    assert names[0] == names[1]


def test_epochs_on_a_node_that_knows_nobody(diff):
    # Last: it leaves the epochs at 5 on both sides.
    diff.check("CLUSTER", "SET-CONFIG-EPOCH", "5")
    diff.check("CLUSTER", "SET-CONFIG-EPOCH", "6")
    diff.check("CLUSTER", "BUMPEPOCH")
    diff.check("CLUSTER", "NODES")


# ---------------------------------------------------------------- DEBUG fault hooks

@pytest.mark.parametrize("args", [
    ("DROP-CLUSTER-PACKET-FILTER", "1"), ("DROP-CLUSTER-PACKET-FILTER", "100"),
    ("DROP-CLUSTER-PACKET-FILTER", "-5"), ("DROP-CLUSTER-PACKET-FILTER", "abc"),
    ("DROP-CLUSTER-PACKET-FILTER", "1.5"), ("DROP-CLUSTER-PACKET-FILTER",),
    ("DROP-CLUSTER-PACKET-FILTER", "1", "2"), ("DROP-CLUSTER-PACKET-FILTER", "-1"),
    ("CLUSTERLINK", "KILL", "to", "abc"), ("CLUSTERLINK", "KILL", "bad", "abc"),
    ("CLUSTERLINK", "FOO", "to", "abc"), ("CLUSTERLINK", "KILL", "to"),
])
def test_debug_cluster_hooks(diff, args):
    diff.check("DEBUG", *args)
