"""The cluster view (scripts/cluster_view.py) in a real headless browser.

Live: a 3 masters + 3 replicas cluster of node.py, the view polling it, Chromium loading
the page; after kill -9 of a master the rendered DOM must show it FAIL, its replica
master, and both on the timeline. Replay: a 12-node simulator run recorded with
scripts/simulate.py --record and played by the page.

The browser tests are skipped only when Chromium is not installed (scripts/test.sh
installs it). A third test reads /state.json from a view of real redis-server nodes.
"""
import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.helpers import ROOT, Process, free_port, port_open, wait_until
from tests.integration.browser_helpers import CHROMIUM, dump_dom
from tests.integration.cluster_util import Cluster
from tests.integration.replica_helpers import ReplicaCluster, link_up, shards

pytestmark = pytest.mark.timeout(120)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/test.sh installs it)")

VIEW = os.path.join(ROOT, "scripts", "cluster_view.py")
SLOTS = 16384


def start_view(tmp_path, *args) -> Process:
    port = free_port()
    proc = Process([sys.executable, VIEW, "--port", str(port), *args], port, ROOT,
                   str(tmp_path / "view.log"))
    try:
        wait_until(lambda: port_open(port), timeout=20, interval=0.05, message="the view to listen")
    except AssertionError:
        proc.stop()
        raise
    return proc


def rows(dom) -> dict:
    """{node id: its <tr> data- attributes}."""
    return {e["attrs"]["data-id"]: e["attrs"] for e in dom.by_class("node") if e["tag"] == "tr"}


def events(dom) -> list:
    return [(e["attrs"]["data-kind"], e["attrs"]["data-node"], e["text"]) for e in dom.by_class("event")]


def covered(dom) -> int:
    segs = [e["attrs"] for e in dom.by_class("seg")]
    return sum(int(s["data-end"]) - int(s["data-start"]) + 1 for s in segs)


@pytest.fixture
def cluster():
    cl = ReplicaCluster(6, node_timeout=1000)
    try:
        cl.create(replicas=1)
        ports = cl.ports
        wait_until(lambda: len(shards(ports[0])) == 3 and all(len(r) == 1 for r in shards(ports[0]).values()),
                   timeout=20, interval=0.1, message="3 masters with one replica each")
        for master, (replica,) in shards(ports[0]).items():
            wait_until(lambda: link_up(replica, master), timeout=15, interval=0.05,
                       message="master_link_status:up on %d" % replica)
        yield cl
    finally:
        cl.stop()


@needs_chromium
def test_live_view_shows_a_failure_and_the_failover(cluster, tmp_path):
    layout = shards(cluster.ports[0])
    victim_port = sorted(layout)[0]
    heir_port = layout[victim_port][0]
    view = start_view(tmp_path, "--node", "127.0.0.1:%d" % victim_port)
    try:
        url = "http://127.0.0.1:%d/" % view.port

        def six_nodes():
            d = dump_dom(url)
            return d if len(rows(d)) == 6 and covered(d) == SLOTS else None
        dom = wait_until(six_nodes, timeout=30, interval=0.2, message="6 nodes and 16384 slots in the page")
        by_addr = {r["data-addr"]: r for r in rows(dom).values()}
        assert len(by_addr) == 6, dom.html[-3000:]
        assert dom.by_id("slots")["attrs"]["data-covered"] == str(SLOTS) and covered(dom) == SLOTS
        # The page polls: within 1.5 s of page time it redrew several times.
        assert int(next(e for e in dom.elements if e["tag"] == "body")["attrs"]["data-updates"]) >= 3
        assert sorted(r["data-role"] for r in by_addr.values()) == ["master"] * 3 + ["replica"] * 3
        assert "myself" in by_addr["127.0.0.1:%d" % victim_port]["data-flags"].split(",")
        victim = by_addr["127.0.0.1:%d" % victim_port]["data-id"]
        heir = by_addr["127.0.0.1:%d" % heir_port]["data-id"]

        cluster.by_port(victim_port).signal(signal.SIGKILL)   # the node the view started from

        def failed_over():
            d = dump_dom(url, budget_ms=600)
            r = rows(d)
            done = (victim in r and "fail" in r[victim]["data-flags"].split(",")
                    and heir in r and r[heir]["data-role"] == "master" and covered(d) == SLOTS)
            return d if done else None
        dom = wait_until(failed_over, timeout=30, interval=0.2, message="FAIL and the failover in the page")
        kinds = {(kind, node) for kind, node, _ in events(dom)}
        assert ("fail", victim) in kinds and ("failover", heir) in kinds, events(dom)
        assert ("moved", heir) in kinds and ("silent", victim) in kinds, events(dom)
        assert rows(dom)[victim]["data-answering"] == "false"
    finally:
        view.stop()


@needs_chromium
def test_replay_of_a_recorded_simulation(tmp_path):
    record = str(tmp_path / "run.jsonl")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "simulate.py"), "--nodes", "12",
                          "--replicas", "1", "--kill-masters", "1", "--node-timeout", "2000",
                          "--record", record], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    with open(record) as f:
        header, *samples = [json.loads(line) for line in f]
    assert header["kind"] == "header" and header["nodes"] == 12 and header["every_ms"] == 500
    assert [s["t"] for s in samples] == [500 * i for i in range(len(samples))]
    assert all(len(s["nodes"]) == 12 for s in samples)
    view = start_view(tmp_path, "--replay", record)
    try:
        # The page plays at 2x from the start; give it enough page time to reach the end.
        span = samples[-1]["t"] - samples[0]["t"]
        dom = dump_dom("http://127.0.0.1:%d/" % view.port, budget_ms=span // 2 + 3000)
        assert "hidden" not in dom.by_id("controls")["attrs"]     # play/pause, speed, seek
        r = rows(dom)
        assert len(r) == 12 and covered(dom) == SLOTS
        kinds = [kind for kind, _, _ in events(dom)]
        assert "fail" in kinds and "failover" in kinds and "action" in kinds, events(dom)
        failed = [n for n in r.values() if "fail" in n["data-flags"].split(",")]
        assert len(failed) == 1 and failed[0]["data-answering"] == "false"
        # Six masters serve the slots: the five alive and the promoted replica.
        owners = {e["attrs"]["data-owner"] for e in dom.by_class("seg")}
        assert len(owners) == 6 and failed[0]["data-id"] not in owners
        assert all(r[o]["data-role"] == "master" for o in owners)
    finally:
        view.stop()


def test_live_view_of_redis_server_nodes(tmp_path):
    """The same commands work on real redis-server cluster nodes (no browser needed: the
    page draws what /state.json says)."""
    cl = Cluster(6, real=True, node_timeout=1000)
    view = None
    try:
        cl.create(replicas=1)
        view = start_view(tmp_path, "--node", "127.0.0.1:%d" % cl.ports[0])

        def complete():
            with urllib.request.urlopen("http://127.0.0.1:%d/state.json" % view.port, timeout=5) as f:
                state = json.load(f)
            p = state["picture"]
            nodes = p["nodes"]
            ok = (len(nodes) == 6 and p["covered"] == SLOTS and all(n["answering"] for n in nodes)
                  and all(n["master_link"] == "up" for n in nodes if n["role"] == "replica"))
            return state if ok else None
        state = wait_until(complete, timeout=20, interval=0.2, message="6 answering redis-server nodes")
        nodes = state["picture"]["nodes"]
        assert sorted(n["role"] for n in nodes) == ["master"] * 3 + ["replica"] * 3
        assert all(n["links_to"] == 5 and n["links_from"] == 5 for n in nodes)   # CLUSTER LINKS
        assert all(n["current_epoch"] >= 1 and n["offset"] is not None for n in nodes)
        assert all(n["cluster_state"] == "ok" for n in nodes)
    finally:
        if view:
            view.stop()
        cl.stop()
