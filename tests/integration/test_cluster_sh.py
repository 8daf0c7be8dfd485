"""scripts/cluster.sh start / status / stop / clean from a fresh clone of the repository at
HEAD, on ports of its own (BASE_PORT), reusing this checkout's .venv through a symlink."""
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

import pytest

from tests.helpers import ROOT, wait_until
from tests.integration.cluster_util import cluster_info


def free_base_port(count):
    """A base port with base..base+count-1 and their bus ports (+10000) all free."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 30000)
        socks = []
        try:
            for port in [base + i for i in range(count)] + \
                    [base + 10000 + i for i in range(count)]:
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


def cluster_nodes_myself(port) -> str:
    """The node's `myself` line of CLUSTER NODES, without the fields that change."""
    out = subprocess.run(["redis-cli", "-p", str(port), "CLUSTER", "NODES"],
                         capture_output=True, text=True, timeout=10).stdout
    fields = next(line for line in out.splitlines() if "myself" in line).split()
    return " ".join(fields[:3] + fields[8:])


def pid_alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def clone():
    tmp = tempfile.mkdtemp(prefix="clone-")
    repo = os.path.join(tmp, "repo")
    subprocess.run(["git", "clone", "-q", ROOT, repo], check=True, timeout=60)
    # This checkout's .venv, or the one running the tests (a git worktree has none).
    venv = os.path.join(ROOT, ".venv")
    os.symlink(venv if os.path.isdir(venv) else sys.prefix, os.path.join(repo, ".venv"))
    yield repo
    # Whatever the test did, no node of this clone survives it (killed by pid).
    run = os.path.join(repo, "run", "cluster")
    if os.path.isdir(run):
        for name in os.listdir(run):
            pidfile = os.path.join(run, name, "pid")
            if os.path.isfile(pidfile):
                try:
                    os.kill(int(open(pidfile).read().strip()), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
    shutil.rmtree(tmp, ignore_errors=True)


def test_cluster_sh_start_status_stop_clean(clone):
    base = free_base_port(3)
    env = dict(os.environ, BASE_PORT=str(base), NODE_TIMEOUT="2000")

    def sh(*args, timeout=120):
        out = subprocess.run(["bash", "scripts/cluster.sh", *args], cwd=clone, env=env,
                             capture_output=True, text=True, timeout=timeout)
        assert out.returncode == 0, (args, out.stdout[-3000:], out.stderr[-3000:])
        return out.stdout

    ports = [base, base + 1, base + 2]
    out = sh("start", "3", "0")
    assert "[OK] All 16384 slots covered." in out, out[-3000:]
    for port in ports:
        assert cluster_info(port)["cluster_state"] == "ok"
    pids = [int(open(os.path.join(clone, "run", "cluster", str(p), "pid")).read())
            for p in ports]

    out = sh("status")
    lines = out.strip().splitlines()
    assert lines[0].split() == ["PORT", "PID", "ROLE", "STATE", "ID", "SLOTS"]
    rows = [ln.split() for ln in lines[1:]]
    assert [int(r[0]) for r in rows] == ports
    assert [int(r[1]) for r in rows] == pids
    assert all(r[2] == "master" and r[3] == "ok" for r in rows), out
    assert [r[5:] for r in rows] == [["0-5460"], ["5461-10922"], ["10923-16383"]], out

    # A second start while it runs is refused.
    refused = subprocess.run(["bash", "scripts/cluster.sh", "start", "3", "0"], cwd=clone,
                             env=env, capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "already running" in refused.stdout

    # One node restarted: a new process, the same node id and slots, the cluster ok.
    node_id = cluster_nodes_myself(ports[1])
    out = sh("restart", str(ports[1]))
    assert "stopped %d" % ports[1] in out and "started %d" % ports[1] in out, out
    new_pid = int(open(os.path.join(clone, "run", "cluster", str(ports[1]), "pid")).read())
    assert new_pid != pids[1] and pid_alive(new_pid) and not pid_alive(pids[1])
    assert cluster_nodes_myself(ports[1]) == node_id
    wait_until(lambda: all(cluster_info(p)["cluster_state"] == "ok" for p in ports),
               timeout=15, message="the cluster ok after the restart")
    pids[1] = new_pid
    bad = subprocess.run(["bash", "scripts/cluster.sh", "restart", "1"], cwd=clone, env=env,
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "usage" in bad.stdout

    out = sh("stop")
    assert "stopped" in out
    wait_until(lambda: not any(pid_alive(p) for p in pids), timeout=10,
               message="nodes to exit")
    out = sh("status")
    assert all(ln.split()[2] == "down" for ln in out.strip().splitlines()[1:]), out

    out = sh("clean")
    assert "removed" in out
    assert not os.path.exists(os.path.join(clone, "run", "cluster"))
