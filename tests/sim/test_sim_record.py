"""cluster/sim_record.py: a recorded run takes the same course as an unrecorded one, and
its samples have the live view's shape (what clusterview/ reads)."""
import json

from cluster.sim import Simulation
from cluster.sim_record import SimRecorder
from clusterview.snapshot import parse_cluster_nodes


def run(path=None, n=8, masters=4):
    sim = Simulation(n, seed=5, node_timeout=2000)
    recorder = SimRecorder(sim, path, observers=2, full_views_up_to=4) if path else None
    sim.assign_slots(masters)
    sim.meet_all()
    sim.run_until(sim.full_knowledge, 60000)
    sim.make_replicas(masters)
    sim.run_for(4000)
    sim.kill(1)
    sim.run_for(8000)
    if recorder:
        recorder.close()
    return sim


def outcome(sim):
    return [(x.state.myself.name, x.state.myself.is_master, x.state.current_epoch,
             sorted(x.state.myself.slot_ranges)) for x in sim.alive_nodes()]


def test_recording_changes_nothing_and_samples_every_half_second(tmp_path):
    path = str(tmp_path / "run.jsonl")
    assert outcome(run(path)) == outcome(run())
    with open(path) as f:
        header, *samples = [json.loads(line) for line in f]
    assert header["observers"] == ["127.0.0.1:7000", "127.0.0.1:7004"]
    assert [s["t"] for s in samples[:3]] == [0, 500, 1000]
    last = samples[-1]["nodes"]
    assert last[1] == {"addr": "127.0.0.1:7001", "ok": False}          # the killed node
    # Observers give their whole view and links; the others their own line.
    assert len(parse_cluster_nodes(last[0]["nodes"])) == 8 and last[0]["links"]
    own = parse_cluster_nodes(last[2]["nodes"])
    assert len(own) == 1 and "myself" in own[0].flags and "links" not in last[2]
    assert last[2]["info"].startswith("cluster_state:") and "role:" in last[2]["repl"]
