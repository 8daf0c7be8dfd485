"""The mixed cluster of mixed_helpers.py (3 redis-server 7.0 + 3 of ours, every replica of
the other kind than its master) under operations: redis-cli --cluster reshard and
rebalance across the two kinds while a RedisCluster client keeps writing, and a master
of each kind stopped (SIGSTOP) past the node timeout and resumed.
"""
import shutil
import signal

import pytest

from tests.helpers import wait_until
from tests.integration import mixed_helpers
from tests.integration.cluster_helpers import my_id, wait_flag_everywhere
from tests.integration.cluster_util import redis_cli, slots_signature
from tests.integration.mixed_helpers import slots_of, voted_for
from tests.integration.replica_helpers import (
    Writer, link_up, missing, promoted, topology, wait_cluster_ok)

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="needs redis-server")]

unformed = mixed_helpers.unformed      # the fixtures (mixed uses unformed)
mixed = mixed_helpers.mixed


def check_ok(port):
    out = redis_cli("--cluster", "check", "127.0.0.1:%d" % port).stdout
    assert "[OK] All nodes agree about slots configuration." in out, out
    assert "[OK] All 16384 slots covered." in out, out
    assert "[WARNING]" not in out and "[ERR]" not in out, out      # no open slots left
    return out


def wait_agreement(ports):
    """Every node has the same slot table (redis-cli's signature): a replica hears of a
    moved slot from its master's next heartbeat, and a redis-cli run that starts before
    refuses with "Nodes don't agree about configuration!"."""
    wait_until(lambda: len({tuple(slots_signature(p)) for p in ports}) == 1, timeout=10,
               interval=0.05, message="every node to agree about the slots")


def slot_counts(port) -> dict:
    """{master port: number of slots} as `port` sees it."""
    return {n["port"]: len(n["slots"]) for n in topology(port).values()
            if n["role"] == "master"}


def test_reshard_and_rebalance_across_kinds_under_writes(mixed):
    """A RedisCluster writer keeps writing (it follows -MOVED and -ASK itself) while
    redis-cli moves 150 slots from our master to a redis-server master, then rebalances
    (which moves them back, from redis-server to ours, and evens out the third). No
    acknowledged write is lost and redis-cli --cluster check finds nothing open."""
    ours, real = mixed.masters[0], mixed.masters[1]
    writer = Writer(mixed.masters[2].port, prefix="rb", max_seconds=60)
    writer.start()
    try:
        wait_until(lambda: len(writer.acked) >= 200, timeout=20, interval=0.05,
                   message="writes before the reshard")
        redis_cli("--cluster", "reshard", "127.0.0.1:%d" % ours.port,
                  "--cluster-from", my_id(ours.port), "--cluster-to", my_id(real.port),
                  "--cluster-slots", 150, "--cluster-yes")
        before = len(writer.acked)
        counts = slot_counts(real.port)
        assert (counts[ours.port], counts[real.port]) == (5461 - 150, 5462 + 150), counts
        # 150 slots are 2.7% of a share: over rebalance's default threshold (2%).
        wait_agreement(mixed.ports)
        redis_cli("--cluster", "rebalance", "127.0.0.1:%d" % real.port)
        counts = slot_counts(ours.port)
        assert max(counts.values()) - min(counts.values()) <= 2, counts
        # Writes went on through both moves.
        wait_until(lambda: len(writer.acked) >= before + 200, timeout=20, interval=0.05,
                   message="writes after the moves")
    finally:
        writer.finish()
    assert missing(ours.port, writer.acked) == []
    wait_agreement(mixed.ports)
    check_ok(ours.port)
    check_ok(real.port)


def stop_master_past_node_timeout(mixed, index):
    """SIGSTOP the master of shard `index`: the nodes of the other kind mark it FAIL, its
    replica (of the other kind) is elected; on SIGCONT the old master hears the newer
    configEpoch of its slots' owner and turns into its replica, as redis-server does."""
    victim, replica = mixed.masters[index], mixed.replicas[index]
    victim_id, winner = my_id(victim.port), my_id(replica.port)
    other_kind = mixed.of_the_other_kind(victim)
    survivors = [p.port for p in mixed.procs if p is not victim and p.proc.poll() is None]
    victim.signal(signal.SIGSTOP)
    try:
        wait_flag_everywhere(other_kind, victim_id, "fail", timeout=10)
        wait_until(lambda: promoted(survivors, replica.port, slots_of(index)), timeout=10,
                   interval=0.05, message="%d promoted with the slots" % replica.port)
        wait_cluster_ok(survivors, timeout=10)
    finally:
        victim.signal(signal.SIGCONT)
    others = [p for p in mixed.masters if p is not victim]
    assert all(voted_for(p, winner) for p in others)
    wait_until(lambda: link_up(victim.port, replica.port), timeout=15, interval=0.05,
               message="the resumed master to follow %d" % replica.port)
    wait_until(lambda: all(topology(p)[victim_id]["master"] == winner and
                           "fail" not in topology(p)[victim_id]["flags"] for p in mixed.ports),
               timeout=10, interval=0.05, message="every node to see it as a replica")
    wait_cluster_ok(mixed.ports, timeout=10)
    mixed.masters[index], mixed.replicas[index] = replica, victim


def test_stopped_master_of_each_kind_fails_over_and_rejoins(mixed):
    # Shard A: our master, a redis-server replica; the voters are M2 (redis) and M3 (ours).
    stop_master_past_node_timeout(mixed, 0)
    # Shard B: a redis-server master, our replica; the voters are R1 (redis, promoted
    # above) and M3 (ours).
    stop_master_past_node_timeout(mixed, 1)
