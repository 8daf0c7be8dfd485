"""ACL with real processes: the aclfile (ACL SAVE / LOAD round trip, start-up errors),
`user` lines in the config file, redis-cli --user/--pass, and a replica that
authenticates to its master as a restricted replication user (masteruser)."""
import os
import subprocess
import sys
import tempfile

from tests.helpers import ROOT, RawClient, start_node, wait_until


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_aclfile_save_load_round_trip():
    folder = tempfile.mkdtemp(prefix="acl-")
    aclfile = os.path.join(folder, "users.acl")
    _write(aclfile, "user default on nopass ~* &* +@all\n"
                    "user alice on >apw ~app:* resetchannels -@all +get +set\n")
    node = start_node("--aclfile", aclfile)
    try:
        c = RawClient(node.port)
        assert c.call("ACL", "USERS") == ("*", [("$", b"alice"), ("$", b"default")])
        assert c.call("ACL", "SETUSER", "bob", "on", ">bpw", "+@all", "~*") == ("+", "OK")
        assert c.call("ACL", "SAVE") == ("+", "OK")
        saved = open(aclfile).read().splitlines()
        assert [line.split()[1] for line in saved] == ["alice", "bob", "default"]
        assert saved[0].startswith("user alice on #") and "~app:*" in saved[0]
        # bob is connected; the file loses him: ACL LOAD drops him and his connection.
        bob = RawClient(node.port)
        assert bob.call("AUTH", "bob", "bpw") == ("+", "OK")
        _write(aclfile, "\n".join(saved[:1] + saved[2:]) + "\n")
        assert c.call("ACL", "LOAD") == ("+", "OK")
        assert c.call("ACL", "USERS") == ("*", [("$", b"alice"), ("$", b"default")])
        try:
            gone = bob.call("PING")
        except (ConnectionError, OSError):
            gone = None
        assert gone is None
        # A broken file changes nothing.
        _write(aclfile, "user carol on +nosuchcommand\nnot a user line\n")
        reply = c.call("ACL", "LOAD")
        assert reply[0] == "-" and "Error in applying operation '+nosuchcommand'" in reply[1]
        assert "should start with user keyword" in reply[1]
        assert c.call("ACL", "USERS") == ("*", [("$", b"alice"), ("$", b"default")])
        # redis-cli authenticates as alice.
        out = subprocess.run(["redis-cli", "-p", str(node.port), "--user", "alice", "--pass",
                              "apw", "--no-auth-warning", "SET", "app:1", "v"],
                             capture_output=True, text=True, timeout=10)
        assert out.stdout.strip() == "OK"
        out = subprocess.run(["redis-cli", "-p", str(node.port), "--user", "alice", "--pass",
                              "apw", "--no-auth-warning", "SET", "other", "v"],
                             capture_output=True, text=True, timeout=10)
        assert "NOPERM this user has no permissions to access one of the keys" in out.stdout
        c.close()
    finally:
        node.stop()


def test_config_user_lines_and_startup_errors():
    folder = tempfile.mkdtemp(prefix="acl-conf-")
    conf = os.path.join(folder, "node.conf")
    _write(conf, "user default on >dpw ~* &* +@all\nuser ro on >rpw ~* -@all +@read\n")
    node = start_node(conf, "--requirepass", "ignored-by-user-line", slots=False)
    try:
        c = RawClient(node.port)
        assert c.call("PING") == ("-", "NOAUTH Authentication required.")
        assert c.call("AUTH", "ro", "rpw") == ("+", "OK")
        assert c.call("GET", "k")[1].startswith("CLUSTERDOWN")   # allowed, no slots
        assert c.call("SET", "k", "v") == (
            "-", "NOPERM this user has no permissions to run the 'set' command")
        # CONFIG REWRITE writes every user back as a `user` line.
        admin = RawClient(node.port)
        assert admin.call("AUTH", "dpw") == ("+", "OK")
        assert admin.call("ACL", "SETUSER", "newbie", "on", ">npw", "~n*", "+get") == \
            ("+", "OK")
        assert admin.call("CONFIG", "REWRITE") == ("+", "OK")
        lines = [line for line in open(conf).read().splitlines() if line.startswith("user ")]
        assert [line.split()[1] for line in lines] == ["default", "newbie", "ro"]
        assert "# ???" not in open(conf).read()
        assert lines[1].startswith("user newbie on #") and lines[1].endswith("-@all +get")
        admin.close()
        c.close()
    finally:
        node.stop()
    # A user line and an aclfile together, or a bad rule: one line and exit 1.
    _write(conf, "user alice on +@all\naclfile %s\n" % os.path.join(folder, "x.acl"))
    out = subprocess.run([sys.executable, os.path.join(ROOT, "node.py"), conf, "-p", "0"],
                         capture_output=True, text=True, timeout=20, cwd=folder)
    assert out.returncode == 1 and "not both" in out.stdout      # a warning log line
    _write(conf, "user alice on %Q~x\n")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "node.py"), conf, "-p", "0"],
                         capture_output=True, text=True, timeout=20, cwd=folder)
    assert out.returncode == 1 and "Error in user declaration" in out.stderr
    # Redis's block, as a bad directive's: the line number and the line.
    assert ">>> 'user alice on %Q~x'" in out.stderr and "at line 1" in out.stderr


def test_replica_authenticates_as_restricted_replication_user():
    master = start_node("--requirepass", "adminpw")
    replica = start_node("--masteruser", "repl", "--masterauth", "rpw", slots=False)
    try:
        mc = RawClient(master.port)
        assert mc.call("AUTH", "adminpw") == ("+", "OK")
        assert mc.call("ACL", "SETUSER", "repl", "on", ">rpw", "-@all", "+psync",
                       "+replconf", "+ping") == ("+", "OK")
        rc = RawClient(replica.port)
        assert rc.call("CLUSTER", "MEET", "127.0.0.1", str(master.port)) == ("+", "OK")
        mid = mc.call("CLUSTER", "MYID")[1].decode()
        wait_until(lambda: mid.encode() in rc.call("CLUSTER", "NODES")[1], timeout=10,
                   message="the replica to know the master")
        assert rc.call("CLUSTER", "REPLICATE", mid) == ("+", "OK")
        wait_until(lambda: b"master_link_status:up" in rc.call("INFO", "replication")[1],
                   timeout=15, message="the replica linked as user repl")
        assert mc.call("SET", "k", "v") == ("+", "OK")
        assert rc.call("READONLY") == ("+", "OK")
        wait_until(lambda: rc.call("GET", "k") == ("$", b"v"), timeout=10,
                   message="the write replicated")
        clients = mc.call("CLIENT", "LIST")[1].decode()
        assert "user=repl" in clients
        rc.close()
        mc.close()
    finally:
        replica.stop()
        master.stop()
