"""node.py options: a redis.conf-style file, flags that win over it, refused values."""
import os
import re
import subprocess
import tempfile

import pytest
import redis

from tests.helpers import PYTHON, REDIS_LOG_LINE, ROOT, free_port, start_node


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


def run_redis_expecting_failure(*args, timeout=10):
    proc = subprocess.run(["redis-server", *args], capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("args", [
    ["--port", "abc"], ["--maxclients", "0"], ["--loglevel", "loud"],
    ["--proto-max-bulk-len", "10"], ["--no-such-option", "1"],
    ["--save", "60"], ["--bind", "127.0.0.1", "--port", "1", "2"],
])
def test_bad_options_give_redis_error_block(args):
    """Redis reads options as config lines after the file: the same block, line numbers
    included."""
    code, output = run_node_expecting_failure(*args)
    assert code == 1 and "Traceback" not in output, (args, output)
    assert output.startswith("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n")
    assert (code, output) == run_redis_expecting_failure(*args)


@pytest.mark.parametrize("text", ["port 7000\nmaxclients lots\n", "port 7000\nfoo bar\n",
                                  "# c\n\nlogfile \"abc\n", "save 1 2 3\n",
                                  "bind 127.0.0.1 'x\n"])
def test_bad_config_file_lines_give_redis_error_block(tmp_path, text):
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    code, output = run_node_expecting_failure(str(conf), "--dir", str(tmp_path))
    assert code == 1 and "Traceback" not in output, output
    assert (code, output) == run_redis_expecting_failure(str(conf), "--dir", str(tmp_path))


def test_options_after_a_file_are_numbered_after_its_lines(tmp_path):
    conf = tmp_path / "ok.conf"
    conf.write_text("port 7000\n# two\nmaxclients 10\n")
    args = (str(conf), "--maxclients", "10", "--timeout", "x")
    assert run_node_expecting_failure(*args) == run_redis_expecting_failure(*args)


def test_a_log_file_that_cannot_be_opened(tmp_path):
    args = ("--logfile", str(tmp_path / "no" / "such.log"))
    code, output = run_node_expecting_failure(*args)
    assert (code, output) == run_redis_expecting_failure(*args)
    assert output.strip().endswith("Can't open the log file: No such file or directory")


def test_start_up_failures_are_one_redis_log_line():
    for args, text in ((["/nonexistent/node.conf"],
                        "Fatal error, can't open config file '/nonexistent/node.conf': "
                        "No such file or directory"),
                       (["--dir", "/nonexistent/dir"], "can't chdir to '/nonexistent/dir'")):
        code, output = run_node_expecting_failure(*args)
        assert code == 1, (args, output)
        lines = output.strip().splitlines()
        assert len(lines) == 1 and REDIS_LOG_LINE.match(lines[0]), (args, output)
        assert " # " + text in lines[0]


def test_version_line_as_redis_server():
    for flag in ("--version", "-v"):
        ours = subprocess.run([PYTHON, os.path.join(ROOT, "node.py"), flag],
                              capture_output=True, text=True, timeout=10)
        theirs = subprocess.run(["redis-server", flag], capture_output=True, text=True,
                                timeout=10)
        assert ours.returncode == theirs.returncode == 0
        shape = r"Redis server v=7\.0\.15 sha=[0-9a-f]{8}:[01] malloc=\S+ bits=64 build=[0-9a-f]+\n"
        assert re.fullmatch(shape, ours.stdout) and re.fullmatch(shape, theirs.stdout), \
            (ours.stdout, theirs.stdout)


def test_corrupted_nodes_conf_exits_1_with_a_log_line():
    folder = tempfile.mkdtemp(prefix="conf-")
    port = free_port()
    with open(os.path.join(folder, "nodes-%d.conf" % port), "w") as f:
        f.write("4b96f3a4b0c25bb0e4f29450c30b952f53421201 127.0.0.1:1@2 myself,wizard - 0 0 0 "
                "connected\nvars currentEpoch 0 lastVoteEpoch 0\n")
    code, output = run_node_expecting_failure("-p", str(port), "--dir", folder)
    assert code == 1, output
    lines = output.strip().splitlines()
    assert "Traceback" not in output and all(REDIS_LOG_LINE.match(line) for line in lines)
    assert lines[0].endswith(" # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"), output
    assert ":M " in lines[-1] and " # Unrecoverable error" in lines[-1], output
    assert "Unrecoverable error: corrupted cluster config file" in output and "line 1" in output


def test_a_config_the_state_cannot_restore_exits_1_with_a_log_line():
    """The state's own check (cluster/restore.py) ends start-up like a parse error does:
    a nodes.conf that parses but names no 'myself' node."""
    folder = tempfile.mkdtemp(prefix="conf-")
    port = free_port()
    with open(os.path.join(folder, "nodes-%d.conf" % port), "w") as f:
        f.write("4b96f3a4b0c25bb0e4f29450c30b952f53421201 127.0.0.1:1@2 master - 0 0 0 "
                "connected\nvars currentEpoch 0 lastVoteEpoch 0\n")
    code, output = run_node_expecting_failure("-p", str(port), "--dir", folder)
    assert code == 1, output
    line = output.strip().splitlines()[-1]
    assert "Traceback" not in output and REDIS_LOG_LINE.match(line), output
    assert " # Unrecoverable error: corrupted cluster config file" in line
    assert "'myself'" in line
