"""Operating the process as redis-server is operated: unixsocket with redis-cli -s,
pidfile, daemonize, bind with optional addresses, port 0, include, no lock file left by a
failed start, and the log: every line in Redis's shape with Redis's start-up,
replication, persistence and shutdown messages."""
import os
import signal
import socket
import subprocess
import tempfile

from tests.helpers import (PYTHON, REDIS_LOG_LINE, ROOT, RawClient, free_port, port_open,
                           start_node, wait_until)


def node_command(*args):
    return [PYTHON, os.path.join(ROOT, "node.py"), *args]


def cli(*args):
    return subprocess.run(["redis-cli", *args], capture_output=True, text=True,
                          timeout=10).stdout.strip()


def shutdown(port):
    """SHUTDOWN (the node closes the connection without a reply)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"SHUTDOWN\r\n")
        sock.recv(100)


def exited(proc, timeout=10):
    wait_until(lambda: proc.proc.poll() is not None, timeout=timeout,
               message="the node to exit")
    return proc.proc.returncode


def test_unixsocket_with_redis_cli_and_pidfile_removed_at_exit():
    folder = tempfile.mkdtemp(prefix="ops-")
    path, pidfile = os.path.join(folder, "n.sock"), os.path.join(folder, "n.pid")
    node = start_node("--unixsocket", path, "--unixsocketperm", "770", "--pidfile", pidfile,
                      "--tcp-keepalive", "7", cwd=folder)
    try:
        # tcp-keepalive: the accepted socket probes after 7 idle seconds (ss shows the
        # keepalive timer of the node's end).
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as sock:
            sock.sendall(b"PING\r\n")
            assert sock.recv(100) == b"+PONG\r\n"
            local = sock.getsockname()[1]
            shown = subprocess.run(["ss", "-tnoH", "state", "established", "( sport = :%d "
                                    "and dport = :%d )" % (node.port, local)],
                                   capture_output=True, text=True, timeout=10).stdout
            assert "timer:(keepalive,6" in shown or "timer:(keepalive,7" in shown, shown
        assert oct(os.stat(path).st_mode & 0o777) == oct(0o770)
        assert cli("-s", path, "SET", "k", "v") == "OK"
        assert cli("-s", path, "GET", "k") == "v"
        with open(pidfile) as f:
            assert int(f.read()) == node.pid
        shutdown(node.port)
        assert exited(node) == 0
        assert not os.path.exists(pidfile) and not os.path.exists(path)
        assert "The server is now ready to accept connections at %s" % path in node.output()
    finally:
        node.stop()


def test_daemonize_detaches_answers_and_shuts_down():
    folder = tempfile.mkdtemp(prefix="daemon-")
    port, pidfile = free_port(), os.path.join(folder, "d.pid")
    logfile = os.path.join(folder, "d.log")
    parent = subprocess.run(node_command("-p", str(port), "--dir", folder, "--daemonize",
                                         "yes", "--pidfile", pidfile, "--logfile", logfile),
                            capture_output=True, timeout=10)
    assert parent.returncode == 0 and parent.stdout == parent.stderr == b""
    pid = None
    try:
        wait_until(lambda: os.path.exists(pidfile) and port_open(port), timeout=10,
                   message="the daemon to listen")
        with open(pidfile) as f:
            pid = int(f.read())
        assert pid != parent and os.getsid(pid) == pid and os.getpgid(pid) == pid
        with open("/proc/%d/stat" % pid) as f:
            assert f.read().rsplit(")", 1)[1].split()[4] == "0"   # no controlling tty
        assert cli("-p", str(port), "PING") == "PONG"
        shutdown(port)
        wait_until(lambda: not os.path.exists("/proc/%d" % pid) or
                   open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] == "Z",
                   timeout=10, message="the daemon to exit")
        pid = None
        assert not os.path.exists(pidfile)
        with open(logfile) as f:
            lines = f.read().splitlines()
        assert lines and all(REDIS_LOG_LINE.match(line) for line in lines), lines
        assert lines[-1].endswith(" # Redis is now ready to exit, bye bye...")
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)


def test_bind_with_optional_addresses():
    # 192.0.2.1 (TEST-NET-1) is on no interface here: optional, it is skipped.
    node = start_node("--bind", "127.0.0.1", "-::1", "-192.0.2.1")
    try:
        with socket.create_connection(("::1", node.port), timeout=5) as sock:
            sock.sendall(b"PING\r\n")
            assert sock.recv(100) == b"+PONG\r\n"
        assert "Warning: Could not create server TCP listening socket 192.0.2.1:%d" \
            % node.port in node.output()
    finally:
        node.stop()


def test_a_mandatory_address_missing_fails_the_start_and_leaves_no_lock():
    folder = tempfile.mkdtemp(prefix="ops-")
    port = free_port()
    pidfile = os.path.join(folder, "p.pid")
    proc = subprocess.run(node_command("-p", str(port), "--dir", folder, "--bind",
                                       "127.0.0.1", "192.0.2.1", "--pidfile", pidfile),
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert all(REDIS_LOG_LINE.match(line) for line in lines), proc.stdout
    assert lines[-1].endswith(" # Failed listening on port %d (TCP), aborting." % port)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert sorted(os.listdir(folder)) == []          # no .lock, no pidfile, no nodes.conf


def test_port_0_listens_on_no_tcp_port():
    folder = tempfile.mkdtemp(prefix="ops-")
    path = os.path.join(folder, "s.sock")
    cport = free_port()
    proc = subprocess.Popen(node_command("-p", "0", "--cluster-port", str(cport), "--dir",
                                         folder, "--unixsocket", path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: cli("-s", path, "PING") == "PONG", timeout=10,
                   message="the unix socket")
        # As redis-server 7.0.15 with port 0: the bus listens, CLUSTER NODES shows :0.
        myself = cli("-s", path, "CLUSTER", "NODES").split()
        assert myself[1] == ":0@%d" % cport and "myself" in myself[2]
        assert cli("-s", path, "CONFIG", "GET", "port").split() == ["port", "0"]
        listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True,
                                   timeout=10).stdout
        ours = [line for line in listening.splitlines() if "pid=%d," % proc.pid in line]
        assert len(ours) == 1 and ":%d " % cport in ours[0], ours   # the bus port only
        assert cli("-s", path, "SHUTDOWN", "NOSAVE") == ""
        proc.wait(10)
        assert "Running mode=cluster, port=0." in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    nowhere = subprocess.run(node_command("-p", "0", "--dir", folder), capture_output=True,
                             text=True, timeout=20)
    assert nowhere.returncode == 1
    assert nowhere.stdout.strip().endswith(" # Configured to not listen anywhere, exiting.")


def test_include_files_and_globs(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "a.conf").write_text("maxclients 77\nhz 20\n")
    (tmp_path / "conf.d" / "b.conf").write_text("hz 30\n")
    (tmp_path / "base.conf").write_text("timeout 5\n")
    (tmp_path / "node.conf").write_text(
        "include %s\ninclude %s/conf.d/*.conf\ninclude %s/empty.d/*.conf\ntimeout 9\n"
        % (tmp_path / "base.conf", tmp_path, tmp_path))
    node = start_node(str(tmp_path / "node.conf"), cwd=str(tmp_path), slots=False)
    try:
        client = RawClient(node.port)
        got = {name: client.call("CONFIG", "GET", name)[1][1][1].decode()
               for name in ("maxclients", "hz", "timeout")}
        client.close()
        # In order: the globbed files sorted, a later line wins, an empty glob is fine.
        assert got == {"maxclients": "77", "hz": "30", "timeout": "9"}
    finally:
        node.stop()
    (tmp_path / "bad.conf").write_text("include %s/missing.conf\n" % tmp_path)
    proc = subprocess.run(node_command(str(tmp_path / "bad.conf")), capture_output=True,
                          text=True, timeout=20)
    assert proc.returncode == 1
    assert proc.stdout.strip().endswith("Fatal error, can't open config file '%s/missing.conf':"
                                        " No such file or directory" % tmp_path)


def test_log_lines_of_a_master_and_its_replica():
    """Start-up, CLUSTER MEET, a replica's full sync, BGSAVE's child, shutdown: every
    line in Redis's shape, with Redis's messages at Redis's levels and role letters."""
    master = start_node("--loglevel", "verbose")
    replica = start_node("--loglevel", "verbose", slots=False)
    try:
        m, r = RawClient(master.port), RawClient(replica.port)
        master_id = m.call("CLUSTER", "MYID")[1].decode()
        assert r.call("CLUSTER", "MEET", "127.0.0.1", master.port) == ("+", "OK")
        wait_until(lambda: master_id.encode() in r.call("CLUSTER", "NODES")[1], timeout=10,
                   message="the replica to know the master")
        assert r.call("CLUSTER", "REPLICATE", master_id) == ("+", "OK")
        wait_until(lambda: b"master_link_status:up" in r.call("INFO", "replication")[1],
                   timeout=15, message="the replica to sync")
        # (the full sync's child may still be reaped: BGSAVE waits for it)
        wait_until(lambda: m.call("BGSAVE")[0] == "+", timeout=10, message="BGSAVE")
        wait_until(lambda: "Background saving terminated with success" in master.output(),
                   timeout=10, message="BGSAVE to end")
        m.close()
        r.close()
        shutdown(replica.port)
        shutdown(master.port)
        assert exited(replica) == 0 and exited(master) == 0
        for proc, role in ((master, "M"), (replica, "S")):
            lines = proc.output().splitlines()
            parsed = [REDIS_LOG_LINE.match(line) for line in lines]
            assert all(parsed), [line for line, p in zip(lines, parsed) if not p]
            said = [(p.group(2), p.group(4), p.group(5)) for p in parsed]
            assert said[:3] == [
                ("C", "#", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
                ("C", "#", "Redis version=7.0.15, bits=64, commit=00000000, modified=0, "
                           "pid=%d, just started" % proc.pid),
                ("C", "#", "Configuration loaded")]
            for expected in (("M", "*", "Running mode=cluster, port=%d." % proc.port),
                             ("M", "#", "Server initialized"),
                             ("M", "*", "Ready to accept connections"),
                             (role, "#", "User requested shutdown..."),
                             (role, "#", "Redis is now ready to exit, bye bye...")):
                assert expected in said, (expected, said)
            assert said[-1][2] == "Redis is now ready to exit, bye bye..."
            # Lines of another pid are the forked children's (BGSAVE, full sync): role C.
            children = [p for p in parsed if p.group(1) != str(proc.pid)]
            assert all(p.group(2) == "C" for p in children), [p.group(0) for p in children]
        said = [(p.group(2), p.group(4), p.group(5))
                for p in map(REDIS_LOG_LINE.match, replica.output().splitlines())]
        assert ("S", "*", "Connecting to MASTER 127.0.0.1:%d" % master.port) in said
        assert ("S", "*", "MASTER <-> REPLICA sync started") in said
        assert ("S", "*", "MASTER <-> REPLICA sync: Finished with success") in said
        text = master.output()
        assert "- Accepted 127.0.0.1:" in text
        assert " * Full resync requested by replica 127.0.0.1:%d" % replica.port in text
        assert " * Synchronization with replica 127.0.0.1:%d succeeded" % replica.port in text
        assert " * Background saving started by pid " in text
        child = [line for line in text.splitlines() if ":C " in line and "DB saved" in line]
        assert child and not child[0].startswith("%d:" % master.pid)   # the forked child
    finally:
        master.stop()
        replica.stop()
