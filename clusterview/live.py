"""Polling a live cluster: one greenlet per node, so a dead or frozen node never holds up
the others.

Each node's greenlet asks, in one pipeline, CLUSTER NODES, CLUSTER INFO, CLUSTER LINKS
and INFO replication (the same commands on node.py and redis-server) every ``interval``
seconds, with short socket timeouts, and keeps the last answer. Every ``interval`` the
snapshot loop collects the latest answers (one older than ``stale`` seconds counts as no
answer), builds the picture, diffs it with the previous one for the timeline, and adds
greenlets for nodes the views name that are not polled yet (starting from ``--node``).
Needs gevent's monkey patching (scripts/cluster_view.py does it) so redis-py's sockets
yield to the other greenlets.
"""
from __future__ import annotations

import time

import gevent
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from clusterview.model import build_picture
from clusterview.snapshot import parse_cluster_nodes
from clusterview.timeline import diff

COMMANDS = (("CLUSTER", "NODES"), ("CLUSTER", "INFO"), ("CLUSTER", "LINKS"), ("INFO", "replication"))
MAX_EVENTS = 500


class LiveCluster:
    def __init__(self, seed: str, interval: float = 0.25, timeout: float = 0.5, stale: float = 1.5):
        self.seed = seed
        self.interval = interval
        self.timeout = timeout
        self.stale = stale
        self.latest: dict[str, tuple[float, dict | None]] = {}   # addr -> (when, answer)
        self.pollers: dict[str, gevent.Greenlet] = {}
        self.tried: set[str] = set()      # polled at least once, answered or not
        self.picture: dict | None = None
        self.events: list[dict] = []
        self.started = time.time()

    def start(self) -> None:
        self._watch(self.seed)
        gevent.spawn(self._snapshots)

    def state(self, query: dict) -> dict:
        picture = self.picture or {"t": 0, "nodes": [], "segments": [], "covered": 0, "masters": []}
        return {"mode": "live", "seed": self.seed, "picture": picture, "events": self.events[-200:]}

    # -- polling one node

    def _watch(self, addr: str) -> None:
        if addr not in self.pollers:
            self.latest[addr] = (0.0, None)
            self.pollers[addr] = gevent.spawn(self._poll_forever, addr)

    def _poll_forever(self, addr: str) -> None:
        host, port = addr.rsplit(":", 1)
        # No retries: redis-py's default backs off and retries for seconds, which would
        # hide a dead node behind its last answer; the next poll is the retry.
        client = redis.Redis(host=host, port=int(port), socket_timeout=self.timeout,
                             socket_connect_timeout=self.timeout, decode_responses=True,
                             retry=Retry(NoBackoff(), 0))
        for command in ("CLUSTER NODES", "CLUSTER INFO", "CLUSTER LINKS", "INFO"):
            client.response_callbacks.pop(command, None)   # keep the raw text: we parse it
        while True:
            started = time.time()
            try:
                self.latest[addr] = (time.time(), self._ask(client))
            except (redis.RedisError, OSError):
                self.latest[addr] = (time.time(), None)     # refused or timed out: silent now
                client.connection_pool.disconnect()
            self.tried.add(addr)
            gevent.sleep(max(0.0, self.interval - (time.time() - started)))

    @staticmethod
    def _ask(client: redis.Redis) -> dict:
        pipe = client.pipeline(transaction=False)
        for command in COMMANDS:
            pipe.execute_command(*command)
        nodes, info, links, repl = pipe.execute()
        return {"nodes": nodes, "info": info, "repl": repl, "links": [_pairs_to_dict(x) for x in links]}

    # -- the snapshot loop

    def snapshot(self) -> dict:
        now = time.time()
        samples = []
        for addr, (when, answer) in sorted(self.latest.items()):
            if addr not in self.tried:
                continue      # not asked yet: neither answering nor silent
            if answer is not None and now - when <= self.stale:
                samples.append({"addr": addr, "ok": True, **answer})
            else:
                samples.append({"addr": addr, "ok": False})
        return {"t": int((now - self.started) * 1000), "nodes": samples}

    def _snapshots(self) -> None:
        while not self.tried:     # a first picture of nothing would make every node "join"
            gevent.sleep(0.05)
        while True:
            snapshot = self.snapshot()
            picture = build_picture(snapshot, anchor_addr=self.seed)
            if self.picture is not None:
                self.events.extend(diff(self.picture, picture))
                del self.events[:-MAX_EVENTS]
            self.picture = picture
            for sample in snapshot["nodes"]:
                if sample["ok"]:
                    for line in parse_cluster_nodes(sample["nodes"]):
                        if line.addr and "handshake" not in line.flags:
                            self._watch(line.addr)
            gevent.sleep(self.interval)


def _pairs_to_dict(item) -> dict:
    """A CLUSTER LINKS entry: a map in RESP3, a flat [key, value, ...] array in RESP2."""
    if isinstance(item, dict):
        return item
    return dict(zip(item[0::2], item[1::2]))
