"""Every state-machine operation is entered the same way and answers one shape."""
import random

import pytest

from cluster.config import ClusterConfig
from cluster.effects import Outcome, SaveConfig
from cluster.errors import ClusterError
from cluster.state import ClusterState

ENTRY_POINTS = [
    "take_effects", "process_packet", "cluster_cron",
    "link_accepted", "link_connected", "link_connect_failed", "link_closed",
    "meet", "add_slots", "add_slots_range", "del_slots", "del_slots_range", "flush_slots",
    "count_failure_reports", "set_config_epoch", "bump_epoch", "forget", "reset",
    "set_drop_packet_filter", "isolate_node", "kill_links",
    "set_slot", "replicate", "set_master_link_status", "set_replica_no_failover", "failover",
]


def new_state(now=0):
    return ClusterState(ClusterConfig(port=7000), random.Random(1), now)


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_operation_is_an_entry_point(name):
    assert getattr(getattr(ClusterState, name), "is_entry_point", False), name


def test_outcome_is_the_effect_list_plus_a_reply():
    s = new_state()
    first = s.take_effects(0)
    assert type(first) is Outcome and first.reply is None
    assert SaveConfig(True) in first  # a new identity is saved, durably
    assert s.cluster_cron(100) == [] and s.cluster_cron(200).reply is None
    s.set_config_epoch(5, 300)
    outcome = s.bump_epoch(400)
    assert type(outcome) is Outcome and outcome.reply == "STILL 5"
    assert s.count_failure_reports(s.myself.name, 500).reply == 0


def test_entry_point_sets_the_clock_and_an_optional_now_keeps_it():
    s = new_state()
    s.cluster_cron(1234)
    assert s._now == 1234
    s.set_drop_packet_filter(-1)
    assert s._now == 1234
    s.isolate_node("x" * 40, True, now_ms=2000)
    assert s._now == 2000


def test_a_refused_operation_raises_and_leaves_no_effects_behind():
    s = new_state()
    s.take_effects(0)
    with pytest.raises(ClusterError, match="Invalid TCP base port"):
        s.meet("127.0.0.1", "nope", None, 10)
    assert s.take_effects(20) == []
    assert not s._entered


def test_publish_is_not_a_state_change():
    """PUBLISH only names the links to send to (the caller sends): no effects, nothing
    saved, and a payload too large for the bus is refused."""
    s = new_state()
    s.take_effects(0)
    msg, links = s.publish_targets(b"channel", b"message", False)
    assert msg is not None and msg.channel == b"channel" and links == []
    assert s.take_effects(100) == []
    assert s.publish_targets(b"c", b"x" * (1 << 30), False) == (None, ())
