"""One simulation spread over worker processes (cluster/sim_parallel.py)."""
import time

import pytest

from cluster.node_record import NODE_FAIL
from cluster.sim import Simulation
from cluster.sim_parallel import ParallelSimulation

N = 40
NODE_TIMEOUT = 2000


def form(sim):
    sim.assign_slots()
    sim.meet_all()
    took = sim.run_until(lambda: sim.holds("full_knowledge"), 60_000)
    assert took is not None, "no full knowledge within 60 s virtual"
    assert sim.run_until(lambda: sim.holds("states_ok"), 20_000) is not None
    return took


def idle_messages_per_node_s(sim, seconds=4):
    sim.run_for(NODE_TIMEOUT)
    before = sim.total_messages
    sim.run_for(seconds * 1000)
    return (sim.total_messages - before) / N / seconds


def run_parallel(seed=1):
    """(convergence ms, messages when converged, detection ms, idle messages/node/s)."""
    with ParallelSimulation(N, workers=2, seed=seed, node_timeout=NODE_TIMEOUT) as sim:
        took = form(sim)
        messages = sim.total_messages
        idle = idle_messages_per_node_s(sim)
        victim = N // 2
        sim.kill(victim)
        detected = sim.run_until(lambda: sim.holds("flagged_everywhere", victim, NODE_FAIL),
                                 4 * NODE_TIMEOUT)
        return took, messages, detected, idle


@pytest.mark.timeout(120)
def test_two_workers_form_a_cluster_and_detect_a_kill_like_one_process():
    took, _, detected, idle = run_parallel()
    assert took <= 15_000
    # The kill is seen at the same pace as in one process: a node timeout, plus the
    # gossip that brings a majority of the masters' reports.
    assert detected is not None and NODE_TIMEOUT <= detected <= NODE_TIMEOUT + 1500

    sim = Simulation(N, seed=1, node_timeout=NODE_TIMEOUT)
    form(sim)
    one_process_idle = idle_messages_per_node_s(sim)
    # The same rules send the same load (the runs differ in the order of events that
    # fall on one millisecond, so not to the message).
    assert abs(idle - one_process_idle) <= 0.25 * one_process_idle, (idle, one_process_idle)


@pytest.mark.timeout(120)
def test_the_same_seed_gives_the_same_parallel_run():
    first = run_parallel(seed=7)
    assert run_parallel(seed=7) == first


@pytest.mark.timeout(60)
def test_a_worker_error_reaches_the_driver_and_the_workers_stop():
    sim = ParallelSimulation(6, workers=2, node_timeout=NODE_TIMEOUT)
    procs = list(sim._procs)
    with pytest.raises(RuntimeError, match="no_such_predicate"):
        sim.holds("no_such_predicate")
    deadline = time.monotonic() + 10
    while any(p.is_alive() for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(p.is_alive() for p in procs)


def test_workers_need_a_latency_to_look_ahead():
    with pytest.raises(ValueError):
        ParallelSimulation(4, workers=2, latency_ms=0)
