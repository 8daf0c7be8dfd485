"""Replication speaks RDB: full syncs of real node.py processes, with a real redis-server
7.0 as the replica, with redis-cli --rdb, with raw sockets speaking SYNC/PSYNC, and a
password-protected cluster.

Every wait polls with a deadline; every process is killed in teardown.
"""
import io
import os
import socket
import subprocess
import tempfile
import time

import pytest

from commands.rdb import KeyEntry, RdbReader
from tests.helpers import RawClient, start_node, start_redis, wait_until
from tests.integration.test_replication import (attach, digest, info, pipeline_in_batches,
                                                populate_every_type, wait_converged,
                                                wait_link_up)

pytestmark = pytest.mark.timeout(120)


def every_key(client) -> dict:
    """key -> (type, value as this client reads it, has a TTL): comparable across servers."""
    out = {}
    for key in client.call("KEYS", "*")[1]:
        key = key[1]
        kind = client.call("TYPE", key)[1]
        read = {"string": ("GET",), "list": ("LRANGE", 0, -1), "hash": ("HGETALL",),
                "set": ("SMEMBERS",), "zset": ("ZRANGE", 0, -1, "WITHSCORES")}[kind]
        value = client.call(read[0], key, *read[1:])[1]
        if kind in ("hash", "set"):
            value = sorted(map(repr, value))
        out[key] = (kind, repr(value), client.call("PTTL", key)[1] > 0)
    return out


def log_of(proc) -> str:
    with open(proc.log_path, "rb") as f:
        return f.read().decode(errors="replace")


class RawReplica:
    """A replica spoken by hand: REPLCONF, then SYNC or PSYNC, then the bytes."""

    def __init__(self, port, capa=(b"eof", b"psync2")):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""
        for name in capa:
            self.command(b"REPLCONF", b"capa", name)
            assert self.line() == b"+OK"

    def command(self, *argv):
        self.sock.sendall(b"*%d\r\n" % len(argv) +
                          b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv))

    def _more(self):
        data = self.sock.recv(65536)
        assert data, "the master closed the connection"
        self.buf += data

    def line(self) -> bytes:
        """The next non-empty line (the master sends bare newlines as keepalives)."""
        while True:
            while b"\n" not in self.buf:
                self._more()
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r")
            if line:
                return line

    def exactly(self, n) -> bytes:
        while len(self.buf) < n:
            self._more()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def until_mark(self, mark) -> bytes:
        while not self.buf.endswith(mark):
            self._more()
        data, self.buf = self.buf[:-len(mark)], b""
        return data

    def rdb(self) -> bytes:
        """The payload, whichever form the master chose."""
        preamble = self.line()
        assert preamble[:1] == b"$", preamble
        if preamble.startswith(b"$EOF:"):
            return self.until_mark(preamble[5:45])
        return self.exactly(int(preamble[1:]))

    def next_command(self) -> list:
        """One command of the stream, as a list of its arguments."""
        count = self.line()
        assert count[:1] == b"*", count
        args = []
        for _ in range(int(count[1:])):
            size = int(self.line()[1:])
            args.append(self.exactly(size + 2)[:-2])
        return args

    def close(self):
        self.sock.close()


def rdb_keys(payload: bytes) -> dict:
    return {e.key: e for e in RdbReader(io.BytesIO(payload)) if type(e) is KeyEntry}


# ---------------------------------------------------------------- redis-server as replica

def test_redis_server_replicates_our_node():
    master = start_node()
    redis = start_redis()
    try:
        mc, rc = RawClient(master.port), RawClient(redis.port)
        populate_every_type(mc, "pre")
        mc.call("HSET", "h", "f", "v")
        mc.call("SADD", "s", "a", "b", "3")
        assert rc.call("REPLICAOF", "127.0.0.1", str(master.port)) == ("+", "OK")
        wait_until(lambda: info(rc).get("master_link_status") == "up", timeout=20,
                   interval=0.05, message="redis-server's link up")
        assert every_key(rc) == every_key(mc)
        assert rc.call("DBSIZE") == mc.call("DBSIZE")

        # The stream: writes, a key expiring on our side (its DEL), FLUSHALL.
        mc.call("SET", "later", "1")
        mc.call("INCRBY", "later", "41")
        mc.call("SET", "brief", "x", "PX", "200")
        mc.call("RPUSH", "pre:list", "tail")
        wait_until(lambda: mc.call("EXISTS", "brief")[1] == 0 and
                   rc.call("DBSIZE") == mc.call("DBSIZE"), timeout=10,
                   message="the expired key's DEL to reach redis-server")
        assert rc.call("GET", "later") == ("$", b"42")
        assert every_key(rc) == every_key(mc)
        # The replica counts the stream's bytes exactly as we do.
        wait_until(lambda: info(rc)["master_repl_offset"] == info(mc)["master_repl_offset"]
                   and "state=online" in info(mc)["slave0"], timeout=10,
                   message="offsets to agree")
        mc.call("FLUSHALL")
        wait_until(lambda: rc.call("DBSIZE") == (":", 0), timeout=10,
                   message="FLUSHALL on redis-server")
        assert "Done loading RDB" in redis.output()
    finally:
        redis.stop()
        master.stop()


# ---------------------------------------------------------------- our replica

@pytest.mark.parametrize("diskless_sync, diskless_load", [
    ("no", "disabled"), ("yes", "on-empty-db"), ("yes", "swapdb")])
def test_our_replica_full_sync_then_partial_resync(diskless_sync, diskless_load):
    master = start_node("--repl-diskless-sync", diskless_sync)
    replica = start_node("--repl-diskless-load", diskless_load, slots=False)
    try:
        mc = RawClient(master.port)
        populate_every_type(mc, "pre")
        mc, rc = attach(master.port, replica.port)
        wait_link_up(rc)
        wait_converged(mc, rc)
        assert digest(rc) == digest(mc)
        target = "disk" if diskless_sync == "no" else "replicas sockets"
        assert "Starting BGSAVE for SYNC with target: %s" % target in log_of(master)
        if diskless_sync == "no":
            assert os.path.exists(os.path.join(master.cwd, "dump.rdb"))
        where = "to disk" if diskless_load == "disabled" else "to parser"
        assert where in log_of(replica)
        assert not [f for f in os.listdir(replica.cwd) if f.startswith("temp-")]
        if diskless_load == "disabled":                       # the master's RDB is ours now
            assert os.path.exists(os.path.join(replica.cwd, "dump.rdb"))

        # Writes while the link is down come back through the backlog.
        rc.call("CLIENT", "KILL", "TYPE", "master")
        mc.call("SET", "while-down", "1")
        wait_link_up(rc)
        wait_converged(mc, rc)
        assert info(mc, "stats")["sync_partial_ok"] == "1"
        assert info(mc, "stats")["sync_full"] == "1"
        assert rc.call("READONLY") == ("+", "OK")
        assert rc.call("GET", "while-down") == ("$", b"1")
        assert digest(rc) == digest(mc)
    finally:
        replica.stop()
        master.stop()


def test_info_during_a_slow_sync():
    """rdb-key-save-delay slows the child: the states and transfer fields show."""
    master = start_node("--rdb-key-save-delay", "1000")      # 1 ms per key
    replica = start_node(slots=False)
    try:
        mc = RawClient(master.port)
        # 3 MB in ~3 s: the child's writer hands over 1 MB at a time.
        pipeline_in_batches(mc, [["SET", "k%d" % i, os.urandom(500).hex()]
                                 for i in range(3000)])
        mc, rc = attach(master.port, replica.port)
        wait_until(lambda: info(rc).get("master_sync_in_progress") == "1", timeout=10,
                   message="the replica to be in sync")
        m = info(mc)
        assert m["slave0"].split(",")[2] == "state=wait_bgsave", m
        wait_until(lambda: int(info(rc).get("master_sync_read_bytes", "0")) > 0, timeout=10,
                   message="bytes to arrive")
        r = info(rc)
        assert r["master_link_status"] == "down"
        assert r["master_sync_total_bytes"] == "0"           # $EOF: the size is unknown
        assert int(r["master_sync_left_bytes"]) == -int(r["master_sync_read_bytes"])
        assert r["master_sync_perc"] == "0.00"
        assert int(r["master_sync_last_io_seconds_ago"]) <= 1
        wait_link_up(rc)
        wait_converged(mc, rc)
        assert "state=online" in info(mc)["slave0"]
        assert digest(rc) == digest(mc)
    finally:
        replica.stop()
        master.stop()


# ---------------------------------------------------------------- redis-cli --rdb, SYNC

def test_redis_cli_rdb_makes_a_backup():
    master = start_node()
    try:
        mc = RawClient(master.port)
        populate_every_type(mc, "pre")
        for diskless in ("yes", "no"):
            assert mc.call("CONFIG", "SET", "repl-diskless-sync", diskless) == ("+", "OK")
            path = os.path.join(tempfile.mkdtemp(), "backup.rdb")
            out = subprocess.run(["redis-cli", "-p", str(master.port), "--rdb", path],
                                 capture_output=True, text=True, timeout=30)
            assert out.returncode == 0, out.stderr
            check = subprocess.run(["redis-check-rdb", path], capture_output=True,
                                   text=True, timeout=30)
            assert "RDB looks OK" in check.stdout, check.stdout
            with open(path, "rb") as f:
                keys = rdb_keys(f.read())
            assert len(keys) == mc.call("DBSIZE")[1]
            assert keys[b"pre:list"].value == [b"a", b"b", b"c", b""]
            assert keys[b"pre:ttl"].expire_ms > time.time() * 1000
        # rdb-only clients are not replicas once done.
        wait_until(lambda: info(mc)["connected_slaves"] == "0", timeout=5,
                   message="rdb-only clients to be gone")
    finally:
        master.stop()


def test_redis_cli_replica_sees_every_command():
    """redis-cli --replica asks for a filtered RDB (rdb-filter-only "": no keys) and
    takes whatever follows its REPLCONF ACK as that command's reply: the stream's
    SELECT, as with Redis; every command after it is printed."""
    master = start_node()
    try:
        mc = RawClient(master.port)
        mc.call("SET", "a", "1")
        cli = subprocess.Popen(["stdbuf", "-o0", "redis-cli", "-p", str(master.port),
                                "--replica"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: "state=online" in info(mc).get("slave0", ""), timeout=10,
                       message="redis-cli to be an online replica")
            time.sleep(1.2)                       # redis-cli sleeps 1 s before its ACK
            mc.call("SET", "b", "2")
            mc.call("SET", "c", "3")
            time.sleep(0.5)
        finally:
            cli.terminate()
            out, err = cli.communicate(timeout=5)
        assert out.splitlines() == ['"SET","b","2"', '"SET","c","3"'], (out, err)
        assert "SYNC done after" in err
    finally:
        master.stop()


def test_rdb_filter_only_gives_an_rdb_without_keys():
    master = start_node("--repl-diskless-sync", "no")     # filtered: diskless anyway
    try:
        RawClient(master.port).call("SET", "a", "1")
        plain = RawReplica(master.port, capa=())
        plain.command(b"REPLCONF", b"rdb-filter-only", b"bogus")
        assert plain.line() == b"-ERR Unsupported rdb-filter-only option: bogus"
        plain.command(b"REPLCONF", b"rdb-filter-only", b"")
        assert plain.line() == b"+OK"
        plain.command(b"SYNC")
        assert plain.line() == b"-ERR Filtered replica requires EOF capability"
        raw = RawReplica(master.port)
        raw.command(b"REPLCONF", b"rdb-filter-only", b"functions")
        assert raw.line() == b"+OK"
        raw.command(b"SYNC")
        assert rdb_keys(raw.rdb()) == {}
        assert "target: replicas sockets" in log_of(master)
        plain.close()
        raw.close()
    finally:
        master.stop()


def test_sync_sends_the_rdb_then_the_stream():
    master = start_node("--repl-diskless-sync", "no")
    try:
        mc = RawClient(master.port)
        mc.call("SET", "k", "v")
        raw = RawReplica(master.port, capa=())
        raw.command(b"SYNC")
        keys = rdb_keys(raw.rdb())                # no +FULLRESYNC line before it
        assert keys[b"k"].value == b"v"
        mc.call("SET", "k2", "v2")
        # The stream follows at once, and SELECTs its db first, as Redis's does.
        assert raw.next_command() == [b"SELECT", b"0"]
        assert raw.next_command() == [b"SET", b"k2", b"v2"]
        raw.close()
    finally:
        master.stop()


def test_diskless_delay_gathers_replicas_for_one_child():
    """repl-diskless-sync-delay waits for more replicas; max-replicas cuts it short.
    Both replicas get one RDB, with the same offset, and the writes made meanwhile."""
    master = start_node("--repl-diskless-sync-delay", "60",
                        "--repl-diskless-sync-max-replicas", "2")
    try:
        mc = RawClient(master.port)
        mc.call("SET", "k", "v")
        first = RawReplica(master.port)
        first.command(b"PSYNC", b"?", b"-1")
        wait_until(lambda: "state=wait_bgsave" in info(mc).get("slave0", ""), timeout=5,
                   message="the first replica to wait")
        time.sleep(0.5)
        assert "Starting BGSAVE" not in log_of(master)      # waiting for the delay
        mc.call("SET", "k", "changed")                        # the RDB will have it
        second = RawReplica(master.port)
        second.command(b"PSYNC", b"?", b"-1")
        lines = [r.line() for r in (first, second)]
        assert lines[0] == lines[1] and lines[0].startswith(b"+FULLRESYNC ")
        offset = int(lines[0].split()[2])
        assert offset == int(info(mc)["master_repl_offset"])
        mc.call("SET", "after", "1")                          # buffered for both
        for r in (first, second):
            keys = rdb_keys(r.rdb())
            assert keys[b"k"].value == b"changed" and b"after" not in keys
            r.command(b"REPLCONF", b"ACK", b"%d" % offset)    # diskless: ACK starts it
            assert r.next_command() == [b"SELECT", b"0"]
            assert r.next_command() == [b"SET", b"after", b"1"]
        assert log_of(master).count("Starting BGSAVE for SYNC") == 1
        first.close()
        second.close()
    finally:
        master.stop()


def test_output_buffer_limit_applies_during_the_sync():
    """The stream held for a syncing replica counts against client-output-buffer-limit
    slave: past the hard limit the replica is dropped, like Redis."""
    master = start_node("--rdb-key-save-delay", "1000000",         # a child that lingers
                        "--client-output-buffer-limit", "replica 64kb 0 0")
    try:
        mc = RawClient(master.port)
        mc.call("SET", "k", "v")
        raw = RawReplica(master.port)
        raw.command(b"PSYNC", b"?", b"-1")
        assert raw.line().startswith(b"+FULLRESYNC")
        assert info(mc)["connected_slaves"] == "1"
        mc.call("SET", "big", "x" * 100000)
        wait_until(lambda: info(mc)["connected_slaves"] == "0", timeout=5,
                   message="the replica to be dropped")
        assert "output buffer limits" in log_of(master)
        raw.close()
    finally:
        master.stop()


# ---------------------------------------------------------------- masterauth

def test_cluster_with_requirepass_and_masterauth():
    password = "s3cret"
    procs = []
    try:
        for i in range(6):
            # Half of them authenticate as AUTH <masteruser> <masterauth>.
            user = ("--masteruser", "default") if i % 2 else ()
            procs.append(start_node("--requirepass", password, "--masterauth", password,
                                    *user, "--cluster-node-timeout", "2000", slots=False))
        out = subprocess.run(["redis-cli", "-a", password, "--no-auth-warning", "--cluster",
                              "create", *["127.0.0.1:%d" % p.port for p in procs],
                              "--cluster-replicas", "1", "--cluster-yes"],
                             capture_output=True, text=True, timeout=90)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]

        def replicas_up():
            up = 0
            for p in procs:
                c = RawClient(p.port)
                try:
                    c.call("AUTH", password)
                    fields = info(c)
                finally:
                    c.close()
                up += fields.get("role") == "slave" and \
                    fields.get("master_link_status") == "up"
            return up == 3
        wait_until(replicas_up, timeout=30, interval=0.2, message="3 replicas linked up")
    finally:
        for p in procs:
            p.stop()


def test_missing_or_wrong_masterauth_is_logged_clearly():
    master = start_node("--requirepass", "right")
    replica = start_node(slots=False)
    try:
        mc = RawClient(master.port)
        assert mc.call("AUTH", "right") == ("+", "OK")
        rc = RawClient(replica.port)
        assert rc.call("CLUSTER", "MEET", "127.0.0.1", str(master.port)) == ("+", "OK")
        mid = mc.call("CLUSTER", "MYID")[1].decode()
        wait_until(lambda: mid.encode() in rc.call("CLUSTER", "NODES")[1], timeout=10,
                   message="the replica to know the master")
        assert rc.call("CLUSTER", "REPLICATE", mid) == ("+", "OK")
        wait_until(lambda: "-NOAUTH" in log_of(replica) and "set masterauth" in
                   log_of(replica), timeout=10, message="the missing masterauth in the log")
        assert rc.call("CONFIG", "SET", "masterauth", "wrong") == ("+", "OK")
        wait_until(lambda: "Unable to AUTH to MASTER: -WRONGPASS" in log_of(replica),
                   timeout=10, message="the AUTH failure in the log")
        assert info(rc)["master_link_status"] == "down"
        assert "Traceback" not in log_of(replica)
        # Fixed at run time: the next attempt authenticates.
        assert rc.call("CONFIG", "SET", "masterauth", "right") == ("+", "OK")
        wait_link_up(rc, timeout=15)
    finally:
        replica.stop()
        master.stop()


def test_a_replica_that_stops_acking_is_dropped_after_repl_timeout():
    master = start_node("--repl-timeout", "1")
    try:
        mc = RawClient(master.port)
        raw = RawReplica(master.port)
        raw.command(b"PSYNC", b"?", b"-1")
        offset = int(raw.line().split()[2])
        raw.rdb()
        raw.command(b"REPLCONF", b"ACK", b"%d" % offset)
        wait_until(lambda: "state=online" in info(mc).get("slave0", ""), timeout=5,
                   message="the replica to be online")
        wait_until(lambda: info(mc)["connected_slaves"] == "0", timeout=5,
                   message="the silent replica to be dropped")
        assert "Disconnecting timedout replica (streaming sync)" in log_of(master)
        raw.close()
    finally:
        master.stop()


def test_a_replica_joins_a_running_disk_sync():
    """Disk-based: a replica arriving while the child writes joins it, with a copy of
    the buffer the first one accumulated since the fork."""
    master = start_node("--repl-diskless-sync", "no", "--rdb-key-save-delay", "300000")
    try:
        mc = RawClient(master.port)
        mc.call("SET", "k1", "v")
        mc.call("SET", "k2", "v")                            # ~0.6 s of child
        first = RawReplica(master.port)
        first.command(b"PSYNC", b"?", b"-1")
        line = first.line()
        mc.call("SET", "during", "1")                        # after the fork
        second = RawReplica(master.port)
        second.command(b"PSYNC", b"?", b"-1")
        assert second.line() == line                         # same RDB, same offset
        wait_until(lambda: "Waiting for end of BGSAVE for SYNC" in log_of(master),
                   timeout=5, message="the join in the log")
        for r in (first, second):
            assert sorted(rdb_keys(r.rdb())) == [b"k1", b"k2"]
            assert r.next_command() == [b"SELECT", b"0"]     # the buffered stream
            assert r.next_command() == [b"SET", b"during", b"1"]
        assert log_of(master).count("Starting BGSAVE for SYNC") == 1
        first.close()
        second.close()
    finally:
        master.stop()
