"""Replication roles, elections, votes, manual failover and replica migration,
driven on the synchronous test network (no sockets, a 100 ms cron clock)."""
import random

import pytest

from cluster import messages as m
from cluster import nodesconf
from cluster.effects import Log, ReplicationChanged, SaveConfig, Send
from cluster.election import ElectionPhase
from cluster.errors import ClusterError
from cluster.manual_failover import MfPhase
from cluster.node_record import NODE_FAIL, NODE_MIGRATE_TO, NODE_MYSELF, NODE_NOFAILOVER, NODE_SLAVE
from cluster.state import ClusterConfig, ClusterState
from tests.unit.cluster_net import Net

pytestmark = pytest.mark.timeout(30)

NT = 1000


def build(masters=3, replicas=(0, 1, 2), nt=NT, **kw):
    """Masters 0..masters-1 with slots and distinct epochs; then one replica per entry
    of ``replicas`` (the index of its master), numbered from ``masters`` on."""
    net = Net(masters + len(replicas), node_timeout=nt, **kw)
    per = 16384 // masters
    for i in range(masters):
        end = 16383 if i == masters - 1 else (i + 1) * per - 1
        net.apply(i, net.states[i].add_slots_range([i * per, end], net.now))
        net.apply(i, net.states[i].set_config_epoch(i + 1, net.now))
    for j in range(1, len(net.states)):
        net.meet(j, 0)
    net.advance(3000)
    for k, master in enumerate(replicas):
        r = masters + k
        net.apply(r, net.states[r].replicate(net.name(master), net.now))
    net.settle()
    assert net.until(lambda: all(s.state_ok for s in net.states), 5000) is not None
    net.advance(1000)  # every node has heard every replica's new role
    return net


def ask_vote(net, voter, requester, **header_changes):
    """Deliver a FAILOVER_AUTH_REQUEST from ``requester`` to ``voter``; its effects."""
    hdr = net.states[requester].build_header()
    for field, value in header_changes.items():
        setattr(hdr, field, value)
    v = net.states[voter]
    link = v.nodes[net.name(requester)].link
    effects = v.process_packet(link, m.decode(m.encode(m.FailoverAuthRequest(hdr))), net.now)
    net.apply(voter, effects)
    return effects


def acked(effects):
    return any(isinstance(e, Send) and isinstance(e.message, m.FailoverAuthAck) for e in effects)


def denial(effects):
    texts = [e.text for e in effects if isinstance(e, Log) and "Failover auth denied" in e.text]
    return texts[0] if texts else None


def mark_failed(net, observer, i):
    """As if the FAIL had just been agreed (node i itself is alive and well)."""
    node = net.states[observer].nodes[net.name(i)]
    node.flags |= NODE_FAIL
    node.fail_time = net.now


# ---------------------------------------------------------------- CLUSTER REPLICATE

def test_replicate_errors_are_redis_texts():
    net = build(masters=2, replicas=(0,))
    master, replica = net.states[0], net.states[2]
    with pytest.raises(ClusterError, match=r"^Unknown node 1234$"):
        replica.replicate("1234", net.now)
    with pytest.raises(ClusterError, match=r"^Can't replicate myself$"):
        replica.replicate(net.name(2), net.now)
    with pytest.raises(ClusterError, match=r"^I can only replicate a master, not a replica\.$"):
        net.states[1].replicate(net.name(2), net.now)
    with pytest.raises(ClusterError, match=r"^To set a master the node must be empty and "
                                           r"without assigned slots\.$"):
        master.replicate(net.name(1), net.now)


def test_replicate_refuses_a_master_holding_keys():
    net = Net(2)
    net.meet(1, 0)
    net.advance(1000)
    net.keys[1] = 3
    with pytest.raises(ClusterError, match="must be empty"):
        net.states[1].replicate(net.name(0), net.now)


def test_replicate_changes_role_and_heartbeats_carry_the_masters_slots():
    net = build(masters=2, replicas=(1,))
    replica = net.states[2]
    [event] = net.repl_events[2]
    assert (event.master_name, event.ip, event.port) == (net.name(1), "127.0.0.1", 7001)
    assert replica.myself.is_replica and replica.myself.master_name == net.name(1)
    assert replica.myself.shard_id == net.states[1].myself.shard_id
    net.offsets[2] = 12345
    hdr = replica.build_header()
    assert hdr.master_id == net.name(1)
    assert hdr.slots == net.states[1].myself.slot_ranges and hdr.config_epoch == 2
    assert hdr.repl_offset == 12345
    # Everyone learned the role from its heartbeats; the master is a migration target.
    for i in (0, 1):
        node = net.node(i, 2)
        assert node.is_replica and node.master_name == net.name(1)
    net.advance(1000)
    assert net.node(0, 2).repl_offset == 12345  # learned from its heartbeats
    assert net.node(0, 1).flags & NODE_MIGRATE_TO
    assert [r.name for r in net.states[0].replicas_of(net.node(0, 1))] == [net.name(2)]
    # A replica can switch masters.
    net.apply(2, replica.replicate(net.name(0), net.now))
    net.settle()
    assert replica.myself.master_name == net.name(0)
    assert net.repl_events[2][-1].master_name == net.name(0)


def test_restarted_replica_resumes_replicating_from_its_saved_master():
    net = build(masters=2, replicas=(1,))
    text = nodesconf.render(net.states[2])
    config = ClusterConfig(port=7002, node_timeout=NT)
    restarted = ClusterState(config, random.Random(5), net.now, loaded=nodesconf.parse(text))
    effects = restarted.take_effects(net.now)
    assert ReplicationChanged(net.name(1), "127.0.0.1", 7001) in effects
    assert restarted.master_data_age_ms() > 10**12  # never synced since the restart


# ---------------------------------------------------------------- rank

def test_rank_counts_better_offsets_excludes_nofailover_and_breaks_ties_by_name():
    net = build(masters=1, replicas=(0, 0, 0))
    a, b, c = 1, 2, 3
    net.offsets[a], net.offsets[b], net.offsets[c] = 100, 200, 300
    net.states[c].set_replica_no_failover(True, net.now)
    net.advance(1000)  # offsets and flags travel in heartbeats
    assert net.node(a, c).flags & NODE_NOFAILOVER
    assert net.states[a].get_replica_rank() == 1  # b is ahead; c never runs
    assert net.states[b].get_replica_rank() == 0
    # Equal offsets: the smaller name goes first.
    net.offsets[a] = net.offsets[b] = 500
    net.advance(1000)
    first, second = sorted((a, b), key=net.name)
    assert net.states[first].get_replica_rank() == 0
    assert net.states[second].get_replica_rank() == 1


# ---------------------------------------------------------------- votes

def test_vote_granted_once_per_epoch_and_made_durable():
    net = build()
    voter, requester = 1, 3  # 3 replicates 0
    mark_failed(net, voter, 0)
    v = net.states[voter]
    v.current_epoch += 1  # as if a candidate had announced the next epoch
    effects = ask_vote(net, voter, requester, current_epoch=v.current_epoch)
    assert acked(effects)
    assert v.last_vote_epoch == v.current_epoch
    # Durable before it leaves: the fsync save comes before the ACK in the effect list.
    kinds = [("save" if e == SaveConfig(True) else "ack") for e in effects
             if e == SaveConfig(True) or (isinstance(e, Send) and isinstance(e.message, m.FailoverAuthAck))]
    assert kinds[:2] == ["save", "ack"], kinds
    assert f"Failover auth granted to {net.name(requester)} for epoch {v.current_epoch}" in \
        [e.text for e in effects if isinstance(e, Log)]
    # A second request in the same epoch (from anyone) is refused.
    mark_failed(net, voter, 1)
    effects = ask_vote(net, voter, 4, current_epoch=v.current_epoch)
    assert not acked(effects)
    assert denial(effects).endswith(f"already voted for epoch {v.current_epoch}")


def test_vote_denied_for_an_older_request_epoch():
    net = build()
    mark_failed(net, 1, 0)
    v = net.states[1]
    v.current_epoch = 50
    effects = ask_vote(net, 1, 3, current_epoch=49)
    assert not acked(effects)
    assert denial(effects) == f"Failover auth denied to {net.name(3)}: reqEpoch (49) < curEpoch(50)"


def test_vote_denied_while_the_master_is_up_unless_forceack():
    net = build()
    v = net.states[1]
    effects = ask_vote(net, 1, 3, current_epoch=v.current_epoch + 1)
    assert not acked(effects) and denial(effects).endswith("its master is up")
    effects = ask_vote(net, 1, 3, current_epoch=v.current_epoch + 1, mflags=m.MFLAG_FORCEACK)
    assert acked(effects)


def test_vote_denied_to_a_master_and_to_a_replica_of_an_unknown_master():
    net = build()
    v = net.states[1]
    effects = ask_vote(net, 1, 2, current_epoch=v.current_epoch + 1)
    assert denial(effects).endswith("it is a master node")
    v.nodes[net.name(3)].master_name = None
    effects = ask_vote(net, 1, 3, current_epoch=v.current_epoch + 1)
    assert denial(effects).endswith("I don't know its master")


def test_only_masters_with_slots_vote():
    net = build()
    mark_failed(net, 4, 0)
    mark_failed(net, 5, 0)
    for voter in (4, 5):  # replicas
        effects = ask_vote(net, voter, 3, current_epoch=net.states[voter].current_epoch + 1)
        assert not acked(effects) and denial(effects) is None


def test_no_second_vote_for_the_same_master_within_two_node_timeouts():
    net = build(masters=3, replicas=(0, 0, 1))
    v = net.states[1]
    mark_failed(net, 1, 0)
    v.current_epoch += 1
    assert acked(ask_vote(net, 1, 3, current_epoch=v.current_epoch))
    net.advance(500)
    v.current_epoch += 1
    effects = ask_vote(net, 1, 4, current_epoch=v.current_epoch)
    assert not acked(effects)
    assert "can't vote about this master before 1500 milliseconds" in denial(effects)
    net.advance(1600)
    mark_failed(net, 1, 0)  # it answered meanwhile, which may undo FAIL
    v.current_epoch += 1
    assert acked(ask_vote(net, 1, 4, current_epoch=v.current_epoch))


def test_vote_denied_when_a_claimed_slot_has_a_newer_config_epoch():
    net = build()
    v = net.states[1]
    mark_failed(net, 1, 0)
    # Node 2's configEpoch (3) is newer than the epoch the requester claims its slots with.
    claimed = net.states[2].myself.slot_ranges
    effects = ask_vote(net, 1, 3, current_epoch=v.current_epoch + 1, config_epoch=1, slots=claimed)
    assert not acked(effects)
    slot = claimed[0][0]
    assert denial(effects).endswith(f"slot {slot} epoch (3) > reqEpoch (1)")


# ---------------------------------------------------------------- elections

def test_killed_master_is_replaced_by_its_replica():
    net = build()
    old = net.name(0)
    slots = set(net.states[0].myself.slots)
    net.down(0)
    took = net.until(lambda: net.states[3].myself.is_master and
                     all(net.states[i].state_ok for i in range(1, 6)), 10_000)
    assert took is not None and took <= NT + 3000
    new = net.states[3]
    assert new.myself.slots == slots
    assert new.myself.config_epoch == new.election.epoch > 3
    assert net.repl_events[3][-1] == ReplicationChanged(None)
    texts = [t for _, t in net.logs[3]]
    start = next(i for i, t in enumerate(texts) if t.startswith("Start of election delayed for"))
    elect = texts.index(f"Starting a failover election for epoch {new.election.epoch}.")
    won = texts.index("Failover election won: I'm the new master.")
    assert start < elect < won
    assert "(rank #0, offset 0)." in texts[start]
    for i in (1, 2, 4, 5):
        assert net.node(i, 3).is_master and net.node(i, 3).slots == slots
        assert net.node(i, 0).failed and not net.node(i, 0).slots
    # Masters logged the vote.
    assert any(net.logged(i, f"Failover auth granted to {net.name(3)}") for i in (1, 2))
    assert old not in {n.name for s in net.states[1:] for n in s.slots if n}


def test_election_delay_follows_rank():
    net = build(masters=3, replicas=(0, 0))
    net.offsets[3], net.offsets[4] = 10, 20
    net.advance(1000)
    net.down(0)
    assert net.until(lambda: net.states[4].myself.is_master, 10_000) is not None
    assert net.states[3].myself.is_replica
    assert net.states[3].myself.master_name == net.name(4)  # followed the winner
    delayed = net.logged(3, "Start of election delayed")
    assert delayed and "(rank #1, offset 10)." in delayed[0]
    assert int(delayed[0].split()[5]) >= 1500
    assert net.repl_events[3][-1].master_name == net.name(4)


def test_lost_election_is_retried_in_a_new_epoch():
    net = build()
    replica = net.states[3]
    replica.set_drop_packet_filter(m.FAILOVER_AUTH_ACK)  # the votes never arrive
    net.down(0)
    assert net.until(lambda: len(net.logged(3, "Starting a failover election")) == 1, 10_000) is not None
    first = replica.election.epoch
    # The attempt expires after max(2*nt, 2 s) and is retried 2*that after it was scheduled.
    assert net.until(lambda: len(net.logged(3, "Starting a failover election")) == 2, 6000) is not None
    assert replica.election.epoch > first and replica.myself.is_replica
    replica.set_drop_packet_filter(-1)
    assert net.until(lambda: replica.myself.is_master, 6000) is not None
    assert replica.myself.config_epoch == replica.election.epoch


def test_cant_failover_reasons_are_logged_after_the_quiet_period_and_rate_limited():
    net = build()
    replica = net.states[3]
    replica.set_drop_packet_filter(m.FAILOVER_AUTH_ACK)
    net.down(0)
    master = replica.nodes[replica.myself.master_name]
    assert net.until(lambda: master.failed, 10_000) is not None
    # Quiet for node_timeout + 5 s after the FAIL; then, within one retry cycle
    # (4 * max(2 * nt, 2 s)), each reason the replica goes through is logged once.
    net.advance(NT + 5000 + 3900)
    reasons = net.logged(3, "Currently unable to failover: ")
    assert reasons, "a stuck replica explains itself"
    assert len(reasons) <= 3 and len(set(reasons)) == len(reasons), reasons
    assert all(level == "warning" for level, text in net.logs[3] if "unable to failover" in text)


def test_ack_from_an_old_epoch_or_a_master_without_slots_is_not_counted():
    net = build()
    r = net.states[3]
    r.election.epoch = 10
    r.election.votes = 0
    link = r.nodes[net.name(1)].link
    hdr = net.states[1].build_header()
    hdr.current_epoch = 9
    r.process_packet(link, m.FailoverAuthAck(hdr), net.now)
    assert r.election.votes == 0
    hdr = net.states[4].build_header()  # a replica
    hdr.current_epoch = 10
    r.process_packet(r.nodes[net.name(4)].link, m.FailoverAuthAck(hdr), net.now)
    assert r.election.votes == 0
    hdr = net.states[1].build_header()
    hdr.current_epoch = 10
    r.process_packet(link, m.FailoverAuthAck(hdr), net.now)
    assert r.election.votes == 1


def test_replica_with_old_data_refuses_unless_validity_factor_is_zero():
    net = build(auto_link=False)  # the replication links never came up
    net.down(0)
    net.advance(NT + 8000)  # FAIL, then the quiet period of node_timeout + 5 s
    assert net.states[3].myself.is_replica
    assert net.logged(3, "Disconnected from master for longer than allowed. Please check the "
                         "'cluster-replica-validity-factor' configuration option.")
    net.states[3].config.replica_validity_factor = 0
    assert net.until(lambda: net.states[3].myself.is_master, 5000) is not None


def test_data_age_counts_from_when_the_link_went_down():
    net = build(nt=1000)
    r = net.states[3]
    net.apply(3, r.set_master_link_status(False, net.now))
    # Allowed: repl-ping-replica-period (10 s) + node_timeout * factor (10 s), plus node_timeout.
    net.advance(20_000)
    assert r.master_data_age_ms() == 20_000
    net.down(0)
    net.advance(NT + 4000)
    assert r.myself.is_replica and r.cant_failover_reason == 1  # DATA_AGE


def test_nofailover_replica_never_runs_an_election():
    net = build()
    net.apply(3, net.states[3].set_replica_no_failover(True, net.now))
    net.advance(500)
    assert net.states[3].myself.flags & NODE_NOFAILOVER
    assert net.node(1, 3).flags & NODE_NOFAILOVER
    net.down(0)
    net.advance(NT + 5000)
    assert net.states[3].myself.is_replica and not net.logged(3, "Starting a failover election")


# ---------------------------------------------------------------- returning master

def test_returning_old_master_becomes_a_replica_of_the_new_one():
    net = build()
    old_slots = set(net.states[0].myself.slots)
    net.down(0)
    assert net.until(lambda: net.states[3].myself.is_master, 10_000) is not None
    net.revive(0)  # SIGCONT: it still believes it serves its slots
    assert net.states[0].myself.slots == old_slots
    assert net.until(lambda: net.states[0].myself.is_replica, 5000) is not None
    old = net.states[0]
    assert old.myself.master_name == net.name(3) and not old.myself.slots
    assert net.repl_events[0][-1].master_name == net.name(3)
    # Everyone learns the new role from its heartbeats.
    assert net.until(lambda: all(net.node(i, 0).is_replica and not net.node(i, 0).failed
                                 and net.node(i, 0).master_name == net.name(3)
                                 for i in range(1, 6)), 3000) is not None
    assert net.until(lambda: all(s.state_ok for s in net.states), 10_000) is not None


def test_other_replicas_follow_the_winner():
    net = build(masters=3, replicas=(0, 0, 0))
    net.down(0)
    assert net.until(lambda: sum(net.states[i].myself.is_master for i in (3, 4, 5)) == 1
                     and all(net.states[i].state_ok for i in range(1, 6)), 15_000) is not None
    [winner] = [i for i in (3, 4, 5) if net.states[i].myself.is_master]
    assert net.until(lambda: all(net.states[i].myself.master_name == net.name(winner)
                                 for i in (3, 4, 5) if i != winner), 3000) is not None


# ---------------------------------------------------------------- manual failover

def test_manual_failover_errors():
    net = build(masters=2, replicas=(0,))
    with pytest.raises(ClusterError, match="^You should send CLUSTER FAILOVER to a replica$"):
        net.states[0].failover(None, net.now)
    with pytest.raises(ClusterError, match="^syntax error$"):
        net.states[2].failover("sideways", net.now)
    mark_failed(net, 2, 0)
    with pytest.raises(ClusterError, match="^Master is down or failed, please use "
                                           "CLUSTER FAILOVER FORCE$"):
        net.states[2].failover(None, net.now)
    me = net.states[2].myself
    me.master_name = None
    with pytest.raises(ClusterError, match="^I'm a replica but my master is unknown to me$"):
        net.states[2].failover("FORCE", net.now)
    assert me.flags == NODE_MYSELF | NODE_SLAVE


def test_manual_failover_pauses_writes_waits_for_the_offset_then_swaps_roles():
    net = build(masters=2, replicas=(0,))
    master, replica = net.states[0], net.states[2]
    net.offsets[0], net.offsets[2] = 500, 400
    net.apply(2, replica.failover(None, net.now))
    net.settle()
    assert net.logged(2, "Manual failover user request accepted.")
    assert net.logged(0, f"Manual failover requested by replica {net.name(2)}.")
    assert master.writes_paused(net.now)
    assert master.build_header().mflags & m.MFLAG_PAUSED
    assert replica.mf_master_offset == 500
    assert replica.mf_phase is MfPhase.CATCH_UP and master.mf_phase is MfPhase.PAUSED
    assert net.logged(2, "Received replication offset for paused master manual failover: 500")
    net.advance(1000)
    assert replica.myself.is_replica  # still 100 bytes behind
    net.offsets[2] = 500  # the stream caught up
    assert net.until(lambda: replica.myself.is_master, 1000) is not None
    assert replica.mf_phase is MfPhase.NONE  # done: the win reset it
    assert net.logged(2, "All master replication stream processed, manual failover can start.")
    assert "(rank #0," in net.logged(2, "Start of election delayed for 0 milliseconds")[0]
    net.settle()
    assert master.myself.is_replica and master.myself.master_name == net.name(2)
    assert not master.writes_paused(net.now)
    assert net.repl_events[0][-1].master_name == net.name(2)


def test_manual_failover_times_out_on_both_sides():
    net = build(masters=2, replicas=(0,))
    master, replica = net.states[0], net.states[2]
    net.offsets[0], net.offsets[2] = 500, 100  # never catches up
    net.apply(2, replica.failover(None, net.now))
    net.settle()
    assert master.writes_paused(net.now)
    net.advance(5100)
    assert net.logged(2, "Manual failover timed out.") and net.logged(0, "Manual failover timed out.")
    assert replica.mf_phase is MfPhase.NONE and master.mf_phase is MfPhase.NONE
    assert not master.writes_paused(net.now) and master.myself.is_master
    assert not master.build_header().mflags & m.MFLAG_PAUSED


def test_force_failover_needs_no_offset_handshake_but_still_votes():
    net = build(masters=3, replicas=(0,))
    replica = net.states[3]
    net.offsets[0], net.offsets[3] = 500, 100
    net.apply(3, replica.failover("force", net.now))
    net.settle()
    assert net.logged(3, "Forced failover user request accepted.")
    assert replica.myself.is_master
    assert any(net.logged(i, f"Failover auth granted to {net.name(3)}") for i in (1, 2))
    net.settle()
    assert net.states[0].myself.master_name == net.name(3)


def test_takeover_needs_no_votes():
    net = build(masters=3, replicas=(0,))
    net.down(1)
    net.down(2)  # the majority of masters is gone: no election could win
    replica = net.states[3]
    epoch_before = max(s.myself.config_epoch for s in net.states)
    sent_requests = replica.stats_sent[m.FAILOVER_AUTH_REQUEST]
    net.apply(3, replica.failover("TAKEOVER", net.now))
    net.settle()
    assert net.logged(3, "Taking over the master (user request).")
    assert replica.myself.is_master and replica.myself.config_epoch > epoch_before
    assert replica.stats_sent[m.FAILOVER_AUTH_REQUEST] == sent_requests
    assert net.states[0].myself.master_name == net.name(3)


# ---------------------------------------------------------------- replica migration

def migration_cluster(**config):
    net = build(masters=3, replicas=(0, 0, 1))  # 3, 4 -> master 0; 5 -> master 1
    for s in net.states:
        for key, value in config.items():
            setattr(s.config, key, value)
    return net


def test_spare_replica_migrates_to_an_orphaned_master():
    net = migration_cluster()
    net.down(5)
    mover = min((3, 4), key=net.name)
    took = net.until(lambda: net.states[mover].myself.master_name == net.name(1), 15_000)
    assert took is not None and took > 5000  # the orphan must stay orphaned for 5 s
    assert net.logged(mover, f"Migrating to orphaned master {net.name(1)}")
    stayer = 7 - mover
    assert net.states[stayer].myself.master_name == net.name(0)


@pytest.mark.parametrize("config", [{"migration_barrier": 2}, {"allow_replica_migration": False}])
def test_no_migration_below_the_barrier_or_when_disabled(config):
    net = migration_cluster(**config)
    net.down(5)
    net.advance(12_000)
    assert net.states[3].myself.master_name == net.name(0)
    assert net.states[4].myself.master_name == net.name(0)


# ---------------------------------------------------------------- minority

def test_master_cut_from_the_majority_marks_the_cluster_down_after_node_timeout():
    net = build(masters=5, replicas=())
    lonely = net.states[0]
    for i in range(1, 5):
        lonely.isolate_node(net.name(i))
        net.states[i].isolate_node(net.name(0))
    took = net.until(lambda: not lonely.state_ok, 5000)
    assert took is not None and NT <= took <= NT + 1000
    assert net.logged(0, "Cluster state changed: fail")



def test_election_phases_from_schedule_to_votes():
    net = build()
    replica = net.states[3]
    assert replica.election.phase is ElectionPhase.IDLE
    replica.set_drop_packet_filter(m.FAILOVER_AUTH_ACK)  # hold it in VOTING
    net.down(0)
    assert net.until(lambda: replica.election.phase is ElectionPhase.SCHEDULED, 10_000) is not None
    assert replica.election.time > net.now - 100 and replica.election.votes == 0
    assert net.until(lambda: replica.election.phase is ElectionPhase.VOTING, 3000) is not None
    assert replica.election.epoch == replica.current_epoch and replica.election.votes == 0
    # A new master is a new election context.
    net.apply(3, replica.replicate(net.name(1), net.now))
    assert replica.election.phase is ElectionPhase.IDLE


def test_a_duplicated_ack_counts_once():
    # Over TCP an ACK never arrives twice, so Redis counts every one; the simulator's
    # duplication fault made a replica win with 2 distinct voters of 5 when it did.
    net = build()
    r = net.states[3]
    r.election.epoch = 10
    r.election.votes = 0
    hdr = net.states[1].build_header()
    hdr.current_epoch = 10
    link = r.nodes[net.name(1)].link
    for _ in range(3):
        r.process_packet(link, m.FailoverAuthAck(hdr), net.now)
    assert r.election.votes == 1
