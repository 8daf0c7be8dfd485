"""Cluster formation with real node.py processes: scripts/meet.sh (redis-cli and /dev/tcp
paths), gossip discovery along a chain, CLUSTER MEET errors, restart from nodes.conf,
CLUSTER NODES read positionally, and redis-cli --cluster create/check.

Nodes run with a 1000 ms node timeout, so handshakes and pings are quick. Every wait
polls with a deadline; every process is killed by pid in teardown.
"""
import os
import shutil
import subprocess

import pytest

from tests.helpers import free_port
from tests.integration.cluster_helpers import (
    MEET_SH, SLOTS, call, cluster_info, form_cluster, my_id, nodes_of, parse_nodes,
    restart_node, start_nodes, stop_all, terminate, text, wait_full_knowledge,
    wait_state)

pytestmark = pytest.mark.timeout(90)

REDIS_CLI = shutil.which("redis-cli")
BASH = shutil.which("bash")


@pytest.fixture
def procs():
    started = []
    yield started
    stop_all(started)


def run_meet_sh(*args, path=None):
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    # Run through bash by absolute path: with an empty PATH, `#!/usr/bin/env bash` could
    # not find bash.
    return subprocess.run([BASH, MEET_SH, *map(str, args)], capture_output=True, text=True,
                          timeout=30, env=env)


# ---------------------------------------------------------------- scripts/meet.sh

@pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli not installed")
def test_meet_sh_with_redis_cli_joins_three_nodes(procs):
    a, b, c = [p.port for p in start_nodes(3, procs=procs)]
    # The form for the first peer, then a bare port on the same IP.
    result = run_meet_sh("127.0.0.1", a, "127.0.0.1", b, c)
    assert result.returncode == 0, result.stderr
    wait_full_knowledge([a, b, c])
    for port in (a, b, c):
        view = nodes_of(port)
        assert len(view) == 3
        assert all(n["link"] == "connected" and "handshake" not in n["flags"] for n in view)


def test_meet_sh_over_dev_tcp_without_redis_cli(procs, tmp_path):
    a, b, c = [p.port for p in start_nodes(3, procs=procs)]
    empty_path = str(tmp_path)          # no redis-cli, no coreutils: bash builtins only
    result = run_meet_sh("127.0.0.1", a, b, "127.0.0.1", c, path=empty_path)
    assert result.returncode == 0, result.stderr
    wait_full_knowledge([a, b, c])

    # Errors come back as a message and a non-zero status on that path too.
    bad = run_meet_sh("127.0.0.1", a, "not-an-ip", b, path=empty_path)
    assert bad.returncode == 1
    assert "ERR Invalid node address specified: not-an-ip:%d" % b in bad.stderr
    down = run_meet_sh("127.0.0.1", free_port(), "127.0.0.1", a, path=empty_path)
    assert down.returncode == 1 and "cannot connect" in down.stderr


def test_meet_sh_usage_errors():
    for args in ([], ["127.0.0.1", "7001"], ["127.0.0.1", "x", "7002"],
                 ["127.0.0.1", "7001", "127.0.0.2"], ["127.0.0.1", "7001", "70000"]):
        result = run_meet_sh(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr


@pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli not installed")
def test_meet_sh_reports_unreachable_node_with_redis_cli():
    result = run_meet_sh("127.0.0.1", free_port(), "7002")
    assert result.returncode == 1
    assert "meet.sh: CLUSTER MEET 127.0.0.1 7002" in result.stderr


# ---------------------------------------------------------------- gossip discovery

def test_ten_nodes_met_in_a_chain_converge(procs):
    ports = [p.port for p in start_nodes(10, procs=procs)]
    # A-B, B-C, ...: nobody is told about more than one neighbour; gossip does the rest.
    for left, right in zip(ports, ports[1:]):
        assert call(left, "CLUSTER", "MEET", "127.0.0.1", right) == ("+", "OK")
    wait_full_knowledge(ports, timeout=40)
    for port in ports:
        assert cluster_info(port)["cluster_known_nodes"] == "10"


def test_cluster_meet_argument_errors(procs):
    (port,) = [p.port for p in start_nodes(1, procs=procs)]
    # Exact texts of redis-server 7.0.15 (tests/differential compares them side by side).
    cases = [
        (("MEET", "127.0.0.1", "abc"), "ERR Invalid TCP base port specified: abc"),
        (("MEET", "127.0.0.1", "7000", "abc"), "ERR Invalid TCP bus port specified: abc"),
        (("MEET", "127.0.0.1", "-1"), "ERR Invalid node address specified: 127.0.0.1:-1"),
        (("MEET", "no-such-host", "7000"), "ERR Invalid node address specified: no-such-host:7000"),
        (("MEET", "127.0.0.1", "70000"), "ERR Invalid node address specified: 127.0.0.1:70000"),
        (("MEET", "127.0.0.1", "7000", "0"), "ERR Invalid node address specified: 127.0.0.1:7000"),
        (("MEET", "127.0.0.1"), "ERR wrong number of arguments for 'cluster|meet' command"),
        (("MEET", "127.0.0.1", "7000", "1", "2"),
         "ERR unknown subcommand or wrong number of arguments for 'MEET'. Try CLUSTER HELP."),
    ]
    for args, error in cases:
        assert call(port, "CLUSTER", *args) == ("-", error), args
    # Nothing was added by the failed MEETs.
    assert cluster_info(port)["cluster_known_nodes"] == "1"


# ---------------------------------------------------------------- a 3-master cluster

@pytest.fixture(scope="module")
def three_masters():
    """Three masters holding all slots, cluster_state:ok everywhere. Shared by the tests
    below (forming it is the slow part); the restart test runs last and leaves it as it
    found it, with the restarted processes appended to the list."""
    started = []
    try:
        start_nodes(3, procs=started)
        form_cluster(started)
        yield started
    finally:
        stop_all(started)


def test_cluster_nodes_parsed_positionally(three_masters):
    ports = [p.port for p in three_masters]
    ids = {port: my_id(port) for port in ports}
    for port in ports:
        raw = text(port, "CLUSTER", "NODES")
        assert raw.endswith("\n")
        view = parse_nodes(raw)
        assert {n["id"] for n in view} == set(ids.values())
        covered = set()
        for n in view:
            assert len(n["id"]) == 40 and all(ch in "0123456789abcdef" for ch in n["id"])
            assert (n["ip"], n["cport"]) == ("127.0.0.1", n["port"] + 10000)
            assert n["master"] == "-" and "master" in n["flags"]
            assert n["link"] == "connected"
            assert ("myself" in n["flags"]) == (n["id"] == ids[port])
            if "myself" in n["flags"]:
                assert (n["ping_sent"], n["pong_recv"]) == (0, 0)
            assert not covered & n["slots"]
            covered |= n["slots"]
        assert covered == set(range(SLOTS))
    # Every node agrees on who owns what (redis-cli's "config signature").
    signatures = {port: sorted((n["id"], tuple(sorted(n["slots"]))) for n in nodes_of(port))
                  for port in ports}
    assert len({repr(s) for s in signatures.values()}) == 1
    # Epoch collisions were resolved: every master ends with its own configEpoch.
    epochs = [n["config_epoch"] for n in nodes_of(ports[0])]
    assert len(set(epochs)) == 3


@pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli not installed")
def test_redis_cli_cluster_check(three_masters):
    result = subprocess.run([REDIS_CLI, "--cluster", "check", "127.0.0.1:%d" % three_masters[0].port],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[OK] All nodes agree about slots configuration." in result.stdout
    assert "[OK] All 16384 slots covered." in result.stdout


def test_restart_all_nodes_from_nodes_conf(three_masters):
    ports = [p.port for p in three_masters]
    before = {port: {n["id"]: (n["slots"], n["config_epoch"]) for n in nodes_of(port)}
              for port in ports}
    ids = {port: my_id(port) for port in ports}
    epochs = {port: cluster_info(port)["cluster_current_epoch"] for port in ports}
    for proc in three_masters:
        terminate(proc)
    for proc in three_masters:
        assert os.path.exists(os.path.join(proc.cwd, "nodes-%d.conf" % proc.port))
    for proc in list(three_masters):
        restart_node(proc, three_masters)      # appended: the fixture's teardown kills it
    wait_full_knowledge(ports)
    wait_state(ports, "ok")
    for port in ports:
        assert my_id(port) == ids[port]
        assert cluster_info(port)["cluster_current_epoch"] == epochs[port]
        after = {n["id"]: (n["slots"], n["config_epoch"]) for n in nodes_of(port)}
        assert after == before[port]


# ---------------------------------------------------------------- redis-cli --cluster create

@pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli not installed")
@pytest.mark.parametrize("masters", [3, 6])
def test_redis_cli_cluster_create(procs, masters):
    ports = [p.port for p in start_nodes(masters, procs=procs)]
    result = subprocess.run([REDIS_CLI, "--cluster", "create",
                             *["127.0.0.1:%d" % p for p in ports], "--cluster-yes"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[OK] All 16384 slots covered." in result.stdout
    wait_full_knowledge(ports)
    wait_state(ports, "ok")
    for port in ports:
        info = cluster_info(port)
        assert info["cluster_size"] == str(masters)
        assert info["cluster_slots_assigned"] == str(SLOTS)
    # redis-cli gave every master its own epoch (SET-CONFIG-EPOCH 1..N).
    assert sorted(n["config_epoch"] for n in nodes_of(ports[0])) == list(range(1, masters + 1))
