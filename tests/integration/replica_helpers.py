"""Helpers for the replication and failover tests (test_replica_cluster.py,
test_failover.py): a cluster of masters and replicas built with
`redis-cli --cluster create --cluster-replicas 1`, its topology as CLUSTER NODES shows it,
INFO replication as a dict, and a bounded writer thread that records what was acknowledged.

Every wait polls with a deadline; every process is killed by pid when the test ends
(SIGCONT first, for one a test left stopped).
"""
import signal
import threading
import time

from redis.cluster import RedisCluster

from cluster.slots import key_hash_slot
from tests.helpers import RawClient, wait_until
from tests.integration.cluster_helpers import parse_nodes
from tests.integration.cluster_util import Cluster, call, cluster_info, value


class ReplicaCluster(Cluster):
    """N node.py processes; `create(replicas)` joins them with redis-cli."""

    def __init__(self, n, node_timeout=1000, extra=()):
        super().__init__(n, node_timeout=node_timeout, extra=("--loglevel", "notice", *extra))

    def by_port(self, port):
        return next(p for p in self.procs if p.port == port)

    def stop(self):
        for proc in self.procs:
            proc.signal(signal.SIGCONT)     # a stopped process still dies on SIGKILL,
        super().stop()                      # but leave nothing frozen behind

    def logs(self) -> str:
        return "\n".join("---- %d\n%s" % (p.port, p.output()[-2500:]) for p in self.procs)


def nodes(port) -> list[dict]:
    return parse_nodes(value(port, "CLUSTER", "NODES").decode())


def topology(port) -> dict:
    """{id: node dict} as `port` sees it, each with 'role' ('master'/'slave')."""
    view = {}
    for n in nodes(port):
        n["role"] = "slave" if "slave" in n["flags"] else "master"
        view[n["id"]] = n
    return view


def myself(port) -> dict:
    return next(n for n in topology(port).values() if "myself" in n["flags"])


def shards(port) -> dict:
    """{master port: [replica ports]} as `port` sees it (masters with slots only)."""
    view = topology(port)
    out = {n["port"]: [] for n in view.values() if n["role"] == "master" and n["slots"]}
    for n in view.values():
        if n["role"] == "slave" and n["master"] in view:
            master_port = view[n["master"]]["port"]
            if master_port in out:
                out[master_port].append(n["port"])
    return {m: sorted(r) for m, r in out.items()}


def repl_info(port) -> dict:
    text = value(port, "INFO", "replication").decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def link_up(port, master_port=None) -> bool:
    info = repl_info(port)
    return info.get("role") == "slave" and info.get("master_link_status") == "up" and \
        (master_port is None or int(info["master_port"]) == master_port)


def wait_shards(ports, expected, timeout=20.0):
    """Every node in `ports` sees `expected` ({master port: [replica ports]})."""
    expected = {m: sorted(r) for m, r in expected.items()}
    wait_until(lambda: all(shards(p) == expected for p in ports), timeout=timeout,
               interval=0.1, message="every node to see shards %r" % expected)


def wait_cluster_ok(ports, timeout):
    try:
        wait_until(lambda: all(cluster_info(p)["cluster_state"] == "ok" for p in ports),
                   timeout=timeout, interval=0.05, message="cluster_state:ok on %s" % ports)
    except AssertionError as exc:
        down = [p for p in ports if cluster_info(p)["cluster_state"] != "ok"]
        raise AssertionError("%s\nnot ok: %s\n%s" % (exc, down, "\n".join(
            "%d sees:\n%s" % (p, value(p, "CLUSTER", "NODES").decode()) for p in down)))


def promoted(ports, node_port, slots) -> bool:
    """Every node in `ports` sees `node_port` as a master serving `slots`."""
    for p in ports:
        n = next((n for n in topology(p).values() if n["port"] == node_port), None)
        if n is None or n["role"] != "master" or n["slots"] != slots:
            return False
    return True


def keys_in(slots, prefix, count):
    """`count` keys named prefix:N whose slots are in `slots`."""
    out, j = [], 0
    while len(out) < count:
        key = "%s:%d" % (prefix, j)
        if key_hash_slot(key.encode()) in slots:
            out.append(key)
        j += 1
    return out


def redis_cluster(port, **kw):
    return RedisCluster(host="127.0.0.1", port=port, decode_responses=True,
                        socket_timeout=5, socket_connect_timeout=2, **kw)


class Writer(threading.Thread):
    """A RedisCluster client writing k:<i> = <i> for i = 0, 1, ... until stopped, at most
    `max_ops` writes and `max_seconds` seconds. With `wait_ms`, each SET is followed by
    `WAIT 1 wait_ms` on the same connection (one thread: the node's pool hands back the
    connection the SET used) and the write is acknowledged when WAIT returns >= 1;
    without, a +OK acknowledges it. Errors are counted, and the key is retried."""

    def __init__(self, port, prefix="k", wait_ms=None, max_ops=20000, max_seconds=60):
        super().__init__(daemon=True)
        self.rc = redis_cluster(port)
        self.prefix = prefix
        self.wait_ms = wait_ms
        self.max_ops = max_ops
        self.max_seconds = max_seconds
        self.stop_event = threading.Event()
        self.acked = {}           # key -> (value, monotonic time of the ack)
        self.ok_times = []        # (monotonic time, key) of every successful SET
        self.errors = []
        self.lock = threading.Lock()

    def run(self):
        deadline = time.monotonic() + self.max_seconds
        i = 0
        while i < self.max_ops and time.monotonic() < deadline and not self.stop_event.is_set():
            key, val = "%s:%d" % (self.prefix, i), str(i)
            try:
                self.rc.set(key, val)
                now = time.monotonic()
                acked = True
                if self.wait_ms is not None:
                    node = self.rc.get_node_from_key(key)
                    acked = self.rc.execute_command("WAIT", 1, self.wait_ms,
                                                    target_nodes=node) >= 1
                with self.lock:
                    self.ok_times.append((now, key))
                    if acked:
                        self.acked[key] = (val, time.monotonic())
                i += 1
            except Exception as exc:  # noqa: BLE001 - a failover in progress
                with self.lock:
                    self.errors.append((time.monotonic(), repr(exc)))
                self.stop_event.wait(0.05)
        self.rc.close()

    def oks_since(self, t, slots=None) -> int:
        """Successful SETs after monotonic time t (to keys in `slots`, if given)."""
        with self.lock:
            return sum(1 for x, key in self.ok_times if x > t and
                       (slots is None or key_hash_slot(key.encode()) in slots))

    def acked_in(self, slots) -> int:
        with self.lock:
            return sum(1 for k in self.acked if key_hash_slot(k.encode()) in slots)

    def finish(self, timeout=15.0):
        self.stop_event.set()
        self.join(timeout)
        assert not self.is_alive(), "writer did not stop"


def missing(port, acked: dict) -> list:
    """The acknowledged keys that are absent or different, read through RedisCluster."""
    rc = redis_cluster(port)
    try:
        lost = []
        items = sorted(acked.items())
        for start in range(0, len(items), 500):
            batch = items[start:start + 500]
            pipe = rc.pipeline()
            for key, _ in batch:
                pipe.get(key)
            for (key, (val, _)), got in zip(batch, pipe.execute()):
                if got != val:
                    lost.append((key, val, got))
        return lost
    finally:
        rc.close()


def readonly_get(port, keys) -> list:
    """READONLY then GET of each key on one (replica) connection."""
    client = RawClient(port)
    try:
        assert client.call("READONLY") == ("+", "OK")
        return [client.call("GET", k) for k in keys]
    finally:
        client.close()


__all__ = ["ReplicaCluster", "nodes", "topology", "myself", "shards", "repl_info", "link_up",
           "wait_shards", "wait_cluster_ok", "promoted", "keys_in", "redis_cluster", "Writer",
           "missing", "readonly_get", "call", "cluster_info", "value"]
