"""Random fault exploration (cluster/sim_explore.py): a bounded batch of seeds on every
run, and proof that the invariants, the shrinker and the replay have teeth.

`python scripts/simulate.py --explore N` runs many more seeds."""
import pytest

from cluster import election
from cluster.sim_explore import Scenario, explore, replay, reproduction, run, shrink
from cluster.sim_invariants import InvariantViolation, check_no_lost_writes

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("seed", range(1, 13))
def test_a_random_seed_keeps_every_invariant(seed):
    outcome = explore(seed, small=True)
    assert outcome.ok, f"{outcome.violation}\n{reproduction(shrink(outcome, budget=20))}"
    assert outcome.converged_ms <= outcome.bound_ms


def duplicated_acks_scenario():
    """Five masters with a replica each; every message is delivered twice; masters 3
    and 4 cannot reach replica 5, whose master 0 is then killed: only masters 1 and 2
    can vote for it, two of five."""
    return Scenario(seed=3, masters=5, replicas=[1] * 5, node_timeout=1000, jitter_ms=0), [
        {"at": 1000, "do": "duplicate", "pick": 1, "p": 1.0},
        {"at": 1000, "do": "oneway", "pick": 1, "groups": [[3, 4], [5]]},
        {"at": 1500, "do": "kill", "pick": 0},
        {"at": 9000, "do": "writes", "pick": 3, "count": 1},
    ]


def test_duplicated_acks_do_not_make_a_majority():
    outcome = run(*duplicated_acks_scenario())
    assert outcome.ok, outcome.violation
    assert outcome.votes > 0   # an election was held, and not won on two voters


def test_counting_every_ack_is_caught_shrunk_and_replayed(monkeypatch):
    # Redis's rule (count every ACK) against duplicated messages: the invariant fires.
    def count_every_ack(self, voter):
        self.votes += 1
    monkeypatch.setattr(election.Election, "count_vote", count_every_ack)
    scenario, schedule = duplicated_acks_scenario()
    schedule = schedule + [{"at": 500, "do": "spike", "pick": 9, "ms": 10, "nodes": [7]}]
    schedule.sort(key=lambda step: step["at"])
    outcome = run(scenario, schedule)
    assert outcome.violation is not None and outcome.violation.kind == "election without majority"
    small = shrink(outcome, budget=8)
    assert small.violation.kind == outcome.violation.kind
    assert len(small.schedule) < len(schedule)      # the spike had nothing to do with it
    again = replay(reproduction(small))
    assert str(again.violation) == str(small.violation)   # deterministic


def test_a_lost_acknowledged_write_is_reported():
    scenario = Scenario(seed=5, masters=3, replicas=[1, 1, 1], node_timeout=1000, jitter_ms=0)
    outcome = run(scenario, [{"at": 100, "do": "writes", "pick": 7, "count": 10}])
    assert outcome.ok and outcome.acknowledged > 0
    # Make the owner of an acknowledged write forget it: the data check must say so.
    model = outcome.model
    write_id, slot = next(iter(model.acknowledged.items()))
    owner = model.sim.alive_nodes()[0].state.slots[slot]
    model.sim.node_named(owner.name).log.remove(write_id)
    with pytest.raises(InvariantViolation, match="lost write"):
        check_no_lost_writes(model)
