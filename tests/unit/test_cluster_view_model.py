"""The cluster view's picture and timeline (clusterview/), from hand-written CLUSTER NODES
text: parsing, merging views, slot owners by config epoch, and the events a diff finds."""
from clusterview.model import build_picture
from clusterview.snapshot import parse_cluster_nodes, parse_info
from clusterview.timeline import diff

A, B, C, D = ("a" * 40, "b" * 40, "c" * 40, "d" * 40)


def line(node_id, port, flags, master="-", epoch=1, link="connected", slots=""):
    return f"{node_id} 127.0.0.1:{port}@{port + 10000} {flags} {master} 0 0 {epoch} {link} {slots}".rstrip()


def sample(port, *lines, info="cluster_state:ok\r\ncluster_current_epoch:3\r\n", repl="role:master\r\nmaster_repl_offset:42\r\n"):
    return {"addr": f"127.0.0.1:{port}", "ok": True, "nodes": "\n".join(lines) + "\n",
            "info": info, "repl": repl, "links": [{"direction": "to", "node": A}]}


def healthy(t=0, b_flags="master", c_flags="slave"):
    """A owns 0-8191 (epoch 1), B 8192-16383 (epoch 2), C replicates B; all answer."""
    view = lambda me: [  # noqa: E731
        line(A, 7000, ("myself," if me == A else "") + "master", epoch=1, slots="0-8191"),
        line(B, 7001, ("myself," if me == B else "") + b_flags, epoch=2, slots="8192-16383"),
        line(C, 7002, ("myself," if me == C else "") + c_flags, master=B, epoch=2)]
    return {"t": t, "nodes": [sample(7000, *view(A)), sample(7001, *view(B)),
                              sample(7002, *view(C), repl="role:slave\r\nmaster_link_status:up\r\nslave_repl_offset:40\r\n")]}


def test_parse_cluster_nodes_fields_open_slots_and_noaddr():
    text = (f"{A} 127.0.0.1:7000@17000,host-a myself,master - 0 0 5 connected 0-99 200 [300->-{B}] [301-<-{C}]\n"
            f"{B} :0@0 master,fail?,noaddr - 10 20 3 disconnected\n")
    a, b = parse_cluster_nodes(text)
    assert (a.id, a.addr, a.config_epoch, a.link) == (A, "127.0.0.1:7000", 5, "connected")
    assert a.flags == {"myself", "master"} and a.slots == [(0, 99), (200, 200)]
    assert a.migrating == {300: B} and a.importing == {301: C}
    assert b.addr == "" and "noaddr" in b.flags and b.link == "disconnected" and b.master is None
    assert parse_info("# Replication\r\nrole:master\r\nmaster_repl_offset:7\r\n") == {
        "role": "master", "master_repl_offset": "7"}


def test_picture_merges_views():
    p = build_picture(healthy(), anchor_addr="127.0.0.1:7000")
    assert p["covered"] == 16384 and p["segments"] == [[0, 8191, A], [8192, 16383, B]]
    assert [m["id"] for m in p["masters"]] == [A, B]
    nodes = {n["id"]: n for n in p["nodes"]}
    assert nodes[A]["flags"] == ["myself"] and nodes[B]["flags"] == []
    assert nodes[C]["role"] == "replica" and nodes[C]["master"] == B
    assert nodes[C]["offset"] == 40 and nodes[C]["master_link"] == "up" and nodes[A]["offset"] == 42
    assert nodes[A]["current_epoch"] == 3 and nodes[A]["cluster_state"] == "ok"
    assert nodes[B]["slots"] == 8192 and nodes[B]["links_to"] == 1 and nodes[B]["observers"] == 3


def test_a_dead_master_is_described_by_the_others():
    snap = healthy()
    snap["nodes"][1] = {"addr": "127.0.0.1:7001", "ok": False}
    snap["nodes"][0]["nodes"] = snap["nodes"][0]["nodes"].replace(" master - 0 0 2", " master,fail? - 0 0 2")
    p = build_picture(snap, anchor_addr="127.0.0.1:7000")
    b = next(n for n in p["nodes"] if n["id"] == B)
    assert not b["answering"] and b["flags"] == ["fail?"] and b["pfail_by"] == 1 and b["observers"] == 2
    assert b["current_epoch"] is None and p["covered"] == 16384


def test_the_highest_config_epoch_claim_owns_a_slot():
    """C won an election (epoch 4) and claims B's slots; A has not heard yet."""
    snap = healthy()
    snap["nodes"][2]["nodes"] = "\n".join([
        line(A, 7000, "master", epoch=1, slots="0-8191"),
        line(B, 7001, "master,fail?", epoch=2, slots="8192-16383"),
        line(C, 7002, "myself,master", epoch=4, slots="8192-16383")])
    p = build_picture(snap)
    assert p["segments"] == [[0, 8191, A], [8192, 16383, C]]


def test_anchor_falls_back_to_an_answering_node():
    snap = healthy()
    snap["nodes"][0] = {"addr": "127.0.0.1:7000", "ok": False}
    assert build_picture(snap, anchor_addr="127.0.0.1:7000")["anchor"] == "127.0.0.1:7001"


def kinds(events):
    return [(e["kind"], e["node"]) for e in events]


def test_timeline_failure_failover_and_slot_move():
    before = build_picture(healthy(0), "127.0.0.1:7000")
    # B dies: A and C flag it PFAIL, then FAIL.
    pfail = healthy(250)
    pfail["nodes"][1] = {"addr": "127.0.0.1:7001", "ok": False}
    for s in (pfail["nodes"][0], pfail["nodes"][2]):
        s["nodes"] = s["nodes"].replace("127.0.0.1:7001@17001 master ", "127.0.0.1:7001@17001 master,fail? ")
    p1 = build_picture(pfail, "127.0.0.1:7000")
    assert kinds(diff(before, p1)) == [("silent", B), ("pfail", B)]
    fail = healthy(500)
    fail["nodes"][1] = {"addr": "127.0.0.1:7001", "ok": False}
    fail["nodes"][0]["nodes"] = "\n".join([
        line(A, 7000, "myself,master", epoch=1, slots="0-8191"),
        line(B, 7001, "master,fail", epoch=2, slots="8192-16383"),
        line(C, 7002, "slave", master=B, epoch=2)])
    fail["nodes"][2]["nodes"] = "\n".join([
        line(A, 7000, "master", epoch=1, slots="0-8191"),
        line(B, 7001, "master,fail", epoch=2, slots="8192-16383"),
        line(C, 7002, "myself,master", epoch=3, slots="8192-16383")])
    p2 = build_picture(fail, "127.0.0.1:7000")
    events = diff(p1, p2)
    assert kinds(events) == [("fail", B), ("failover", C), ("moved", C)]
    assert "8192 slots (8192..16383) moved 127.0.0.1:7001" in events[2]["text"]
    assert all(e["t"] == 500 for e in events)


def test_timeline_join_leave_and_migration():
    before = build_picture(healthy(0))
    after = healthy(250)
    after["nodes"][0]["nodes"] = "\n".join([
        line(A, 7000, "myself,master", epoch=1, slots=f"0-8191 [5->-{B}]"),
        line(B, 7001, "master", epoch=2, slots="8192-16383"),
        line(D, 7003, "master", epoch=0)])
    after["nodes"][1]["nodes"] = line(B, 7001, "myself,master", epoch=2, slots="8192-16383")
    after["nodes"].pop(2)     # C is in no view any more
    assert sorted(kinds(diff(before, build_picture(after)))) == sorted(
        [("migrating", A), ("joined", D), ("left", C)])


def test_handshake_nodes_do_not_join_until_the_handshake_ends():
    before = build_picture(healthy(0))
    shaking = healthy(250)
    shaking["nodes"][0]["nodes"] += line(D, 7003, "handshake", epoch=0) + "\n"
    mid = build_picture(shaking)
    assert diff(before, mid) == [] and "handshake" in next(n for n in mid["nodes"] if n["id"] == D)["flags"]
    done = healthy(500)
    done["nodes"][0]["nodes"] += line(D, 7003, "master", epoch=0) + "\n"
    assert kinds(diff(mid, build_picture(done))) == [("joined", D)]
