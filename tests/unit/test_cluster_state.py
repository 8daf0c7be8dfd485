import random
import re

import pytest

from cluster import messages as m
from cluster.effects import Connect, SaveConfig, Send
from cluster.errors import ClusterError
from cluster.links import ClusterLink
from cluster.node_record import (NODE_FAIL, NODE_HANDSHAKE, NODE_MASTER, NODE_MEET, NODE_PFAIL,
                                 NODE_MYSELF, ClusterNode)
from cluster.slots import slots_to_ranges
from cluster.state import PING_SPREAD, ClusterConfig, ClusterState
from tests.unit.cluster_net import Net

pytestmark = pytest.mark.timeout(30)


def full_mesh(net, n):
    for j in range(1, n):
        net.meet(j, 0)
    net.advance(3000)
    for i in range(n):
        for j in range(n):
            node = net.node(i, j)
            assert node is not None and not node.flags & NODE_HANDSHAKE


def with_slots(net, n):
    per = 16384 // n
    for i in range(n):
        end = 16383 if i == n - 1 else (i + 1) * per - 1
        net.apply(i, net.states[i].add_slots_range([i * per, end], net.now))
        if len(net.states[i].nodes) == 1:
            net.apply(i, net.states[i].set_config_epoch(i + 1, net.now))
    net.settle()


# ---------------------------------------------------------------- handshake

def test_meet_creates_handshake_node_then_rename_on_pong():
    net = Net(2)
    a, b = net.states
    effects = a.meet("127.0.0.1", 7001, None, net.now)
    assert effects == []
    [hs] = [n for n in a.nodes.values() if n is not a.myself]
    assert re.fullmatch(r"[0-9a-f]{40}", hs.name) and hs.name != b.myself.name
    assert hs.flags == NODE_HANDSHAKE | NODE_MEET
    assert (hs.ip, hs.port, hs.cport) == ("127.0.0.1", 7001, 17001)
    # The cron connects, sends MEET; b answers PONG; a renames the node.
    net.advance(100)
    node = net.node(0, 1)
    assert node is hs and node.name == b.myself.name
    assert node.flags & NODE_MASTER and not node.flags & (NODE_HANDSHAKE | NODE_MEET)
    assert a.stats_sent[m.MEET] == 1 and b.stats_received[m.MEET] == 1
    # b created a handshake node for a and completes it over its own link.
    net.advance(200)
    assert net.node(1, 0) is not None and not net.node(1, 0).flags & NODE_HANDSHAKE
    assert b.myself.ip == "127.0.0.1"  # learned from the socket


def test_meet_in_progress_is_not_duplicated():
    net = Net(2)
    a = net.states[0]
    a.meet("127.0.0.1", 7001, None, net.now)
    a.meet("127.0.0.1", 7001, 17001, net.now)
    assert len(a.nodes) == 2


def test_handshake_timeout():
    net = Net(1, node_timeout=500)
    a = net.states[0]
    a.meet("127.0.0.1", 7005, None, net.now)  # nobody there
    net.advance(900)
    assert len(a.nodes) == 2
    net.advance(300)  # handshake timeout is max(node_timeout, 1000)
    assert len(a.nodes) == 1


def test_reliable_meet_resent_until_answered():
    net = Net(2, node_timeout=3000)
    a, b = net.states
    b.set_drop_packet_filter(m.MEET)
    net.meet(0, 1)
    net.advance(1500)
    assert b.stats_received[m.MEET] >= 2  # resent, all dropped
    assert net.node(0, 1) is None
    b.set_drop_packet_filter(-1)
    net.advance(1200)
    assert net.node(0, 1) is not None and not net.node(0, 1).flags & NODE_HANDSHAKE


def test_gossip_discovery_through_a_common_node():
    net = Net(3)
    net.meet(0, 1)
    net.meet(2, 1)
    net.advance(3000)
    for i in range(3):
        for j in range(3):
            assert net.node(i, j) is not None and not net.node(i, j).flags & NODE_HANDSHAKE


# ---------------------------------------------------------------- epochs and slots

def test_config_epoch_collision_smaller_id_bumps():
    net = Net(2)
    net.meet(0, 1)
    net.advance(1000)
    a, b = net.states
    assert a.myself.config_epoch != b.myself.config_epoch
    smaller, greater = sorted([a, b], key=lambda s: s.myself.name)
    assert greater.myself.config_epoch == 0
    assert smaller.myself.config_epoch == 1


def test_higher_config_epoch_wins_slot_claims():
    net = Net(2)
    a, b = net.states
    net.apply(0, a.add_slots_range([0, 100], net.now))
    net.apply(0, a.set_config_epoch(1, net.now))
    net.apply(1, b.add_slots_range([0, 100], net.now))
    net.apply(1, b.set_config_epoch(2, net.now))
    net.settle()
    net.meet(0, 1)
    net.advance(1000)
    assert not a.myself.slots
    assert a.slots[50] is net.node(0, 1)
    assert b.slots[50] is b.myself


def test_update_message_rebinds_slots():
    net = Net(3)
    full_mesh(net, 3)
    a = net.states[0]
    b_name, c_name = net.states[1].myself.name, net.states[2].myself.name
    a._begin(net.now)
    a._add_slot(5, a.nodes[b_name])
    a.nodes[b_name].config_epoch = 3
    a._finish()
    c_link = a.nodes[c_name].inbound_link
    hdr = net.states[2].build_header()
    effects = a.process_packet(c_link, m.Update(hdr, 7, c_name, [(5, 5)]), net.now)
    assert a.slots[5] is a.nodes[c_name]
    assert a.nodes[c_name].config_epoch == 7
    assert SaveConfig(True) in effects
    # A stale UPDATE (not newer) is ignored.
    a.process_packet(c_link, m.Update(hdr, 2, b_name, [(5, 5)]), net.now)
    assert a.slots[5] is a.nodes[c_name]


def test_stale_claim_gets_an_update():
    net = Net(2)
    full_mesh(net, 2)
    a, b = net.states
    b_name = b.myself.name
    net.apply(0, a.add_slots_range([0, 10], net.now))
    a.myself.config_epoch = 5
    net.settle()
    net.advance(1000)
    assert b.slots[3] is b.nodes[a.myself.name]
    before = a.stats_sent[m.UPDATE]
    # b pretends to own slot 3 with an old epoch in a heartbeat.
    hdr = b.build_header()
    hdr.slots, hdr.config_epoch = [(3, 3)], 1
    a.process_packet(a.nodes[b_name].inbound_link, m.Ping(hdr, []), net.now)
    assert a.stats_sent[m.UPDATE] == before + 1
    assert a.slots[3] is a.myself


def test_cluster_state_needs_full_coverage_and_writable_delay():
    net = Net(3)
    full_mesh(net, 3)
    assert not any(s.state_ok for s in net.states)
    with_slots(net, 3)
    net.advance(1500)
    assert all(s.state_ok for s in net.states)
    net.apply(0, net.states[0].del_slots([0], net.now))
    net.settle()
    assert not net.states[0].state_ok


# ---------------------------------------------------------------- failure detection

def test_pfail_then_fail_then_broadcast_then_clear():
    nt = 1000
    net = Net(3, node_timeout=nt)
    with_slots(net, 3)
    full_mesh(net, 3)
    net.advance(500)
    a, b, c = net.states
    c_name = c.myself.name
    net.down(2)
    net.advance(900)
    assert not a.nodes[c_name].flags & (NODE_PFAIL | NODE_FAIL)
    net.advance(1000)
    assert a.nodes[c_name].flags & NODE_FAIL and b.nodes[c_name].flags & NODE_FAIL
    assert a.stats_sent[m.FAIL] + b.stats_sent[m.FAIL] >= 1
    assert not a.state_ok  # c's slots are not served
    assert a.count_failure_reports(c_name, net.now).reply <= 1
    # c comes back: a master with slots stays FAIL for 2 * node_timeout.
    fail_time = a.nodes[c_name].fail_time
    net.revive(2)
    net.advance(300)
    assert a.nodes[c_name].flags & NODE_FAIL
    # Cleared by the first PONG after that (pings go out every node_timeout/2).
    net.advance(fail_time + 2 * nt + nt - net.now)
    assert not a.nodes[c_name].flags & (NODE_FAIL | NODE_PFAIL)
    net.advance(nt)
    assert all(s.state_ok for s in net.states)


def test_fail_of_master_without_slots_clears_at_once():
    net = Net(4, node_timeout=1000)
    with_slots(net, 3)  # node 3 has no slots
    full_mesh(net, 4)
    net.advance(500)
    net.down(3)
    net.advance(2500)
    name = net.states[3].myself.name
    assert net.states[0].nodes[name].flags & NODE_FAIL
    net.revive(3)
    net.advance(400)
    assert not net.states[0].nodes[name].flags & NODE_FAIL


def test_fail_message_from_known_sender():
    net = Net(3)
    full_mesh(net, 3)
    a, b, c = net.states
    hdr = b.build_header()
    a.process_packet(a.nodes[b.myself.name].inbound_link, m.Fail(hdr, c.myself.name), net.now)
    assert a.nodes[c.myself.name].flags & NODE_FAIL


def test_isolated_node_hook_drops_all_traffic():
    net = Net(3, node_timeout=1000)
    with_slots(net, 3)
    full_mesh(net, 3)
    net.advance(500)
    c_name = net.states[2].myself.name
    for s in net.states[:2]:
        s.isolate_node(c_name)
    net.advance(3000)
    assert net.states[0].nodes[c_name].flags & NODE_FAIL
    for s in net.states[:2]:
        s.isolate_node(c_name, False)


# ---------------------------------------------------------------- admin errors

def fresh(port=7000):
    return ClusterState(ClusterConfig(port=port), random.Random(3), 0)


@pytest.mark.parametrize("args,error", [
    (("127.0.0.1", "abc", None), "Invalid TCP base port specified: abc"),
    (("127.0.0.1", "80", "abc"), "Invalid TCP bus port specified: abc"),
    (("localhost", "80", None), "Invalid node address specified: localhost:80"),
    (("127.0.0.1", "0", None), "Invalid node address specified: 127.0.0.1:0"),
    (("127.0.0.1", "-5", None), "Invalid node address specified: 127.0.0.1:-5"),
    (("127.0.0.1", "80", "99999"), "Invalid node address specified: 127.0.0.1:80"),
])
def test_meet_errors(args, error):
    with pytest.raises(ClusterError) as exc:
        fresh().meet(*args, 0)
    assert str(exc.value) == error


def test_slot_command_errors():
    s = fresh()
    s.add_slots(["1", "2"], 0)
    cases = [
        (lambda: s.add_slots(["99999"], 0), "Invalid or out of range slot"),
        (lambda: s.add_slots(["1"], 0), "Slot 1 is already busy"),
        (lambda: s.add_slots(["6000", "6000"], 0), "Slot 6000 specified multiple times"),
        (lambda: s.del_slots(["7000"], 0), "Slot 7000 is already unassigned"),
        (lambda: s.add_slots_range(["10", "5"], 0), "start slot number 10 is greater than end slot number 5"),
        (lambda: s.add_slots_range(["10"], 0), "wrong number of arguments for 'cluster|addslotsrange' command"),
        (lambda: s.set_config_epoch("-1", 0), "Invalid config epoch specified: -1"),
        (lambda: s.forget(s.myself.name, 0), "I tried hard but I can't forget myself..."),
        (lambda: s.forget("abc", 0), "Unknown node abc"),
        (lambda: s.count_failure_reports("abc", 0), "Unknown node abc"),
    ]
    for call, error in cases:
        with pytest.raises(ClusterError) as exc:
            call()
        assert str(exc.value) == error
    assert s.myself.slots == {1, 2}  # all or nothing
    s.del_slots_range(["1", "2"], 0)
    assert not s.myself.slots and s.slots_assigned == 0


def test_epoch_commands():
    s = fresh()
    s.set_config_epoch("5", 0)
    assert (s.myself.config_epoch, s.current_epoch) == (5, 5)
    with pytest.raises(ClusterError, match="^Node config epoch is already non-zero$"):
        s.set_config_epoch("6", 0)
    assert s.bump_epoch(0).reply == "STILL 5"
    t = fresh()
    assert t.bump_epoch(0).reply == "BUMPED 1"
    t.meet("127.0.0.1", 7001, None, 0)
    with pytest.raises(ClusterError, match="only when the node does not know any other node"):
        t.set_config_epoch("3", 0)


def test_forget_blacklists_for_60_seconds():
    net = Net(3)
    full_mesh(net, 3)
    a = net.states[0]
    c_name = net.states[2].myself.name
    net.apply(0, a.forget(c_name, net.now))
    net.settle()
    assert c_name not in a.nodes
    net.advance(5000)  # b keeps gossiping c, a ignores it
    assert c_name not in a.nodes
    net.advance(60000)
    assert c_name in a.nodes


def test_reset_hard_takes_a_new_identity():
    net = Net(2)
    full_mesh(net, 2)
    a = net.states[0]
    old = a.myself.name
    a.add_slots(["1"], net.now)
    effects = a.reset(True, net.now)
    assert a.myself.name != old and len(a.nodes) == 1 and not a.myself.slots
    assert a.myself.flags == NODE_MYSELF | NODE_MASTER
    assert a.current_epoch == 0 and SaveConfig(True) in effects
    with pytest.raises(ClusterError, match="containing keys"):
        ClusterState(ClusterConfig(port=1), random.Random(1), 0,
                     hooks=type("H", (), {"db_size": lambda self: 3, "repl_offset": lambda self: 0})()
                     ).reset(False, 0)


def test_first_effects_save_the_new_identity():
    s = fresh()
    effects = s.take_effects(0)
    assert SaveConfig(True) in effects
    assert s.take_effects(0) == []


def test_connect_effect_for_unlinked_node():
    s = fresh()
    s.meet("127.0.0.1", 7001, None, 0)
    effects = s.cluster_cron(100)
    assert [type(e) for e in effects if isinstance(e, Connect)] == [Connect]
    assert s.cluster_cron(200) == [] or not any(isinstance(e, Connect) for e in s.cluster_cron(300))


def _state_knowing_masters(count):
    """A state that knows ``count`` masters with a slot each, linked: the raw material
    for the failure-report tests below."""
    rng = random.Random(7)
    state = ClusterState(ClusterConfig(port=7000, node_timeout=1000), rng, 0)
    state.myself.slots.add(0)
    peers = []
    for i in range(count):
        node = ClusterNode("%040x" % rng.getrandbits(160), NODE_MASTER, 0)
        node.ip, node.port, node.cport, node.link = "127.0.0.1", 7001 + i, 17001 + i, i + 1
        node.slots.add(i + 1)
        state.add_node(node)
        state.links[i + 1] = ClusterLink(i + 1, node, False, 0)
        peers.append(node)
    return state, peers


def test_failure_reports_expire_oldest_first_and_a_refresh_moves_to_the_end():
    state, peers = _state_knowing_masters(4)
    failing, r1, r2, r3 = peers
    state._now = 1000
    assert state.add_failure_report(failing, r1)
    state._now = 2000
    assert state.add_failure_report(failing, r2)
    state._now = 2500
    assert not state.add_failure_report(failing, r1)   # refreshed, not new
    assert state.add_failure_report(failing, r3)
    assert list(failing.fail_reports) == [r2.name, r1.name, r3.name]
    # Valid for 2 * node_timeout: at 4100 only r2's (from 2000) has expired.
    state._now = 4100
    assert state.node_failure_reports_count(failing) == 2
    assert list(failing.fail_reports) == [r1.name, r3.name]


def test_a_new_pfail_is_reported_at_once_to_the_five_smallest_masters():
    state, peers = _state_knowing_masters(12)
    state._now = 5000
    peers[0].flags |= NODE_PFAIL          # the failed one is never a target
    state._pfail_nodes = [peers[0]]       # as the cron that flagged it leaves them
    state._report_new_pfail()
    pings = [e for e in state._effects if type(e) is Send and type(e.message) is m.Ping]
    reachable = sorted(p.name for p in peers[1:])
    assert {state.links[e.link_id].node.name for e in pings} == set(reachable[:5])
    assert len(pings) == 5
    assert all(any(node_id == peers[0].name for node_id, *_ in e.message.gossip)
               for e in pings)


def test_setslot_node_fsyncs_only_a_new_epoch_and_keeps_slot_ranges():
    """Closing an imported slot (SETSLOT NODE on the importer) saves nodes.conf with
    fsync only when it takes a new configEpoch, as Redis 7.0 does; a reshard's later
    slots, with the epoch already the greatest, are saved without. Every master's
    cached slot ranges follow each moved slot on every node."""
    net = Net(3)
    with_slots(net, 3)
    full_mesh(net, 3)
    a, b, c = net.states
    a_name, b_name = a.myself.name, b.myself.name
    fsyncs = []
    for slot in range(3):
        net.apply(1, b.set_slot([str(slot), "importing", a_name], net.now))
        net.apply(0, a.set_slot([str(slot), "migrating", b_name], net.now))
        effects = b.set_slot([str(slot), "node", b_name], net.now)
        fsyncs.append(SaveConfig(True) in effects)
        assert SaveConfig(True) in effects or SaveConfig(False) in effects
        net.apply(1, effects)
        net.apply(0, a.set_slot([str(slot), "node", b_name], net.now))
        net.apply(2, c.set_slot([str(slot), "node", b_name], net.now))
    assert fsyncs == [True, False, False]      # the first slot bumped the epoch
    net.advance(1000)
    for state in net.states:
        for node in state.nodes.values():
            assert node.slot_ranges == slots_to_ranges(node.slots)
        assert state.nodes[b_name].slot_ranges[0] == (0, 2)


# ---------------------------------------------------------------- gossip at scale

def _header(name, port, slots=()):
    return m.Header(name, 0, 0, 0, NODE_MASTER, None, "127.0.0.1", port, port + 10000, True, 0,
                    "", list(slots))


def _peer_header(node):
    return _header(node.name, node.port, node.slot_ranges)


def _gossip_count(effects):
    [send] = [e for e in effects if type(e) is Send]
    return len(send.message.gossip)


def test_a_link_opens_with_the_minimum_gossip_then_heartbeats_carry_a_tenth():
    state, peers = _state_knowing_masters(60)       # 61 nodes: N/10 = 6 entries
    state._now = 5000
    newcomer = peers[-1]
    newcomer.link = None
    del state.links[60]
    opening = state.link_connected(newcomer.name, 900, 5000)
    assert type([e for e in opening if type(e) is Send][0].message) is m.Ping
    assert _gossip_count(opening) == 3
    state.send_ping(900, m.PING)
    assert _gossip_count(state.take_effects(5000)) == 6
    # The answer to the first PING on an inbound link is part of the opening too.
    state.link_accepted(901, 5000)
    ping = m.Ping(_peer_header(peers[0]), [])
    assert _gossip_count(state.process_packet(901, ping, 5000)) == 3
    assert _gossip_count(state.process_packet(901, ping, 5100)) == 6


def test_an_inbound_link_from_a_stranger_is_bound_once_gossip_names_it():
    """A node that connected to us before we knew it need not send again for a long
    while; once gossip teaches us the node, its link is ours, and no MEET follows."""
    state, peers = _state_knowing_masters(3)
    stranger = "%040x" % 12345
    state.link_accepted(50, 1000)
    state.process_packet(50, m.Ping(_header(stranger, 7100), []), 1000)
    assert state.links[50].node is None and stranger not in state.nodes
    gossip = [(stranger, 1, "127.0.0.1", 7100, 17100, NODE_MASTER, 0)]
    state.process_packet(1, m.Pong(_peer_header(peers[0]), gossip), 1100)
    learned = state.nodes[stranger]
    assert learned.inbound_link == 50 and state.links[50].node is learned
    state.link_connected(stranger, 51, 1200)
    state.process_packet(51, m.Pong(_header(stranger, 7100), []), 1200)
    for now in range(1300, 4000, 100):       # past the handshake timeout (1000 ms)
        effects = state.cluster_cron(now)
        assert not any(type(e) is Send and type(e.message) is m.Meet and e.link_id == 51
                       for e in effects)


def test_pings_to_a_node_come_due_spread_over_the_end_of_the_interval():
    state, peers = _state_knowing_masters(1)
    [peer] = peers
    peer.inbound_link = 1
    state.links[1].ctime = 0
    state._ping_oldest_of_random_sample = lambda: None    # only the due pings, here
    dues = []
    for round_ in range(40):
        start = 10_000 * (round_ + 1)
        state.process_packet(1, m.Pong(_peer_header(peer), []), start)
        # The cron's ping to it: somewhere in the last PING_SPREAD of ping_interval.
        for now in range(start + 100, start + 600, 10):
            effects = state.cluster_cron(now)
            if any(type(e) is Send and type(e.message) is m.Ping
                   and e.link_id == 1 for e in effects):
                dues.append(now - start)
                break
    ping_interval = state.ping_interval                       # node_timeout / 2 = 500
    earliest = ping_interval * (1 - PING_SPREAD)
    assert all(earliest <= due <= ping_interval + 10 for due in dues), dues
    assert len(dues) == 40 and len(set(dues)) > 10           # spread, not one moment


def test_while_slots_are_uncovered_the_state_is_updated_once_a_second_then_at_once():
    rng = random.Random(3)
    state = ClusterState(ClusterConfig(port=7000, node_timeout=15000), rng, 0)
    state.add_slots_range([0, 8191], 0)
    peer = ClusterNode("%040x" % rng.getrandbits(160), NODE_MASTER, 0)
    peer.ip, peer.port, peer.cport, peer.link = "127.0.0.1", 7001, 17001, 1
    state.add_node(peer)
    state.links[1] = ClusterLink(1, peer, False, 0)
    updates = []
    update = state.update_cluster_state
    state.update_cluster_state = lambda: (updates.append(state._now), update())[1]
    for now in range(3000, 5000, 100):        # past the writable delay, half the slots
        state.cluster_cron(now)
    assert not state.state_ok
    assert len(updates) == 2 and updates[1] - updates[0] == 1000     # once a second
    # The PONG that brings the other half makes the state ok there and then.
    claim = _header(peer.name, 7001, [(8192, 16383)])
    state.process_packet(1, m.Pong(claim, []), 5050)
    assert state.state_ok and state.size == 2 and updates[-1] == 5050
