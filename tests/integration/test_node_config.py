"""node.py options: a redis.conf-style file, flags that win over it, refused values."""
import os
import subprocess
import tempfile

import redis

from tests.helpers import PYTHON, ROOT, free_port, start_node


def run_node_expecting_failure(*args, timeout=10):
    proc = subprocess.run([PYTHON, os.path.join(ROOT, "node.py"), *args],
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def test_config_file_then_flags_win():
    folder = tempfile.mkdtemp(prefix="conf-")
    port = free_port()
    conf = os.path.join(folder, "node.conf")
    with open(conf, "w") as f:
        f.write("# a comment\nport %d\nmaxclients 7\nrequirepass fromfile\n"
                "cluster-node-timeout 5000\nsave \"\"\n" % (port + 1))
    node = start_node(conf, "--requirepass", "fromflag", port=port, cwd=folder)
    try:
        c = redis.Redis(port=port, password="fromflag", protocol=2)
        assert c.config_get("maxclients") == {"maxclients": "7"}
        assert c.config_get("cluster-node-timeout") == {"cluster-node-timeout": "5000"}
        assert c.config_get("requirepass") == {"requirepass": "fromflag"}
    finally:
        node.stop()


def test_bad_values_exit_1_with_one_line():
    for args in (["-p", "abc"], ["--maxclients", "0"], ["--loglevel", "loud"],
                 ["--proto-max-bulk-len", "10"], ["--no-such-option", "1"],
                 ["/nonexistent/node.conf"], ["--dir", "/nonexistent/dir"]):
        code, output = run_node_expecting_failure(*args)
        assert code == 1, (args, output)
        lines = output.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in output, (args, output)


def test_bad_directive_in_config_file():
    folder = tempfile.mkdtemp(prefix="conf-")
    conf = os.path.join(folder, "bad.conf")
    with open(conf, "w") as f:
        f.write("port 7000\nmaxclients lots\n")
    code, output = run_node_expecting_failure(conf)
    assert code == 1 and "line 2" in output and "maxclients" in output, output


def test_corrupted_nodes_conf_exits_1_with_one_line():
    folder = tempfile.mkdtemp(prefix="conf-")
    port = free_port()
    with open(os.path.join(folder, "nodes-%d.conf" % port), "w") as f:
        f.write("4b96f3a4b0c25bb0e4f29450c30b952f53421201 127.0.0.1:1@2 myself,wizard - 0 0 0 "
                "connected\nvars currentEpoch 0 lastVoteEpoch 0\n")
    code, output = run_node_expecting_failure("-p", str(port), "--dir", folder)
    assert code == 1, output
    assert output.strip().splitlines() == [output.strip()] and "Traceback" not in output, output
    assert "Unrecoverable error: corrupted cluster config file" in output and "line 1" in output


def test_a_config_the_state_cannot_restore_exits_1_with_one_line():
    """The state's own check (cluster/restore.py) ends start-up like a parse error does:
    a nodes.conf that parses but names no 'myself' node."""
    folder = tempfile.mkdtemp(prefix="conf-")
    port = free_port()
    with open(os.path.join(folder, "nodes-%d.conf" % port), "w") as f:
        f.write("4b96f3a4b0c25bb0e4f29450c30b952f53421201 127.0.0.1:1@2 master - 0 0 0 "
                "connected\nvars currentEpoch 0 lastVoteEpoch 0\n")
    code, output = run_node_expecting_failure("-p", str(port), "--dir", folder)
    assert code == 1, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in output, output
    assert lines[0].startswith("Error: Unrecoverable error: corrupted cluster config file")
    assert "'myself'" in lines[0]
