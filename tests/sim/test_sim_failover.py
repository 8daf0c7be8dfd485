"""Failover in simulated clusters: 25 masters + 25 replicas on a virtual clock."""
import pytest

from cluster.sim import Simulation

MASTERS = 25
NT = 3000


def cluster_with_replicas(seed, n=50, masters=MASTERS, node_timeout=NT):
    sim = Simulation(n, seed=seed, node_timeout=node_timeout, keep_logs=True)
    sim.assign_slots(masters)
    sim.meet_all()
    assert sim.run_until(sim.full_knowledge, 60_000) is not None
    sim.make_replicas(masters)
    assert sim.run_until(lambda: all(n.state.state_ok for n in sim.nodes)
                         and all(n.state.master_link_up for n in sim.nodes[masters:]),
                         30_000) is not None
    sim.run_for(2000)  # every node has heard every replica's role
    return sim


def replica_of(i):
    return i + MASTERS


def recovered(sim, killed):
    return all(sim.nodes[replica_of(k)].state.myself.is_master for k in killed) \
        and all(n.state.state_ok for n in sim.alive_nodes())


def elections(sim, i):
    return [text for _, _, text in sim.nodes[i].logs if text.startswith("Starting a failover election")]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_then_five_masters_lost_every_shard_recovers(seed):
    sim = cluster_with_replicas(seed)

    sim.kill(7)
    took = sim.run_until(lambda: recovered(sim, [7]), 4 * NT)
    assert took is not None and took <= NT + 3000, f"one failover took {took} ms"
    assert sim.slots_agreed_by_live_masters()

    sim.run_for(2000)
    killed = [0, 5, 10, 15, 20]
    for k in killed:
        sim.kill(k)
    took = sim.run_until(lambda: recovered(sim, killed), 10 * NT)
    assert took is not None, "some shard was left without a master"
    # Shards elect one after the other (failed-master rank), so no vote is split:
    # one election per shard, none retried after auth_retry_time.
    assert took <= NT + 2000 + len(killed) * 1000, f"five failovers took {took} ms"
    for k in killed:
        assert len(elections(sim, replica_of(k))) == 1, elections(sim, replica_of(k))
    assert sim.slots_agreed_by_live_masters()
    epochs = [sim.nodes[replica_of(k)].state.myself.config_epoch for k in [7] + killed]
    assert len(set(epochs)) == len(epochs)

    # The old masters come back from their nodes.conf as replicas of the new ones.
    for k in [7] + killed:
        sim.restart(k)
    assert sim.run_until(lambda: all(sim.nodes[k].state.myself.is_replica for k in [7] + killed)
                         and sim.healthy_everywhere(), 6 * NT) is not None
    for k in [7] + killed:
        me = sim.nodes[k].state.myself
        assert me.master_name == sim.nodes[replica_of(k)].state.myself.name and not me.slots
    assert sim.slots_agreed_by_live_masters()


@pytest.mark.timeout(60)
def test_minority_master_stops_then_rejoins_as_replica():
    sim = cluster_with_replicas(seed=4, n=10, masters=5)
    lonely = sim.nodes[2]
    sim.partition([2], [i for i in range(10) if i != 2])
    # The isolated master sees the cluster down (so it refuses writes) once its pings
    # to the majority have been pending for node_timeout: pings go out every
    # node_timeout/2, so that is at most 1.5 * node_timeout after the cut.
    took = sim.run_until(lambda: not lonely.state.state_ok, 2 * NT)
    assert took is not None and took <= NT + NT // 2 + 200
    # The majority promotes its replica.
    assert sim.run_until(lambda: sim.nodes[7].state.myself.is_master and all(
        sim.nodes[i].state.state_ok for i in range(10) if i != 2), 4 * NT) is not None
    sim.heal()
    assert sim.run_until(lambda: lonely.state.myself.is_replica and sim.healthy_everywhere(),
                         4 * NT) is not None
    assert lonely.state.myself.master_name == sim.nodes[7].state.myself.name


@pytest.mark.timeout(60)
def test_a_cluster_at_the_epoch_ceiling_still_fails_over():
    # A frame can push every node to MAX_EPOCH (the largest epoch a frame may carry):
    # the election epoch saturates there instead of overflowing, and the replica wins.
    from cluster.epochs import MAX_EPOCH
    sim = cluster_with_replicas(seed=7, n=6, masters=3)
    for node in sim.nodes:
        node.state.current_epoch = MAX_EPOCH
    sim.kill(0)
    took = sim.run_until(lambda: sim.nodes[3].state.myself.is_master
                         and all(n.state.state_ok for n in sim.alive_nodes()), 4 * NT)
    assert took is not None, "no failover at the epoch ceiling"
    assert sim.nodes[3].state.myself.config_epoch == MAX_EPOCH
