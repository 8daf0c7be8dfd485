"""maxmemory: evict keys before a command when used memory is over the limit, or refuse
the commands that could grow it (Redis's performEvictions and processCommand's check).

Off (maxmemory 0) this costs nothing: the limit is one of the states behind the
executor's `server.degraded` flag. On, `check()` runs before every command: it compares
used_memory (commands/server/memory.py, minus the replicas' and AOF buffers, which
eviction must not chase) with the limit and, over it, evicts the keys the policy picks
(commands/data/eviction.py) until the excess is freed. Like Redis it stops after
maxmemory-eviction-tenacity's time budget (checked every 16 keys) and then goes on in
the background, a slice per loop turn, so a sudden big excess (CONFIG SET maxmemory
lowered) does not freeze the node; meanwhile commands are not refused. With nothing
left to evict (noeviction; volatile-* with no key having a TTL) the result is
EVICT_FAIL and commands flagged denyoom get -OOM.

Evictions are skipped where Redis skips them (isSafeToPerformEvictions): while
loading, on a replica with replica-ignore-maxmemory (it mirrors its master, whose DELs
bring the evictions), during a client pause (the dataset must stand still) and while a
long script lets other clients in.
"""
import time

import gevent

from commands.data.eviction import Evictor
from commands.server.resp import ReplyError

EVICT_OK, EVICT_RUNNING, EVICT_FAIL = 0, 1, 2

OOM_ERROR = ReplyError("OOM command not allowed when used memory > 'maxmemory'.")
# What a client in MULTI may still send over the limit (the rest would grow the queue).
_ALLOWED_IN_MULTI_WHEN_OOM = frozenset(("exec", "discard", "quit", "reset"))


def eviction_time_limit(tenacity: int) -> float:
    """evictionTimeLimitUs, in seconds: 50 us a step up to 10, then +15% a step; none
    at 100."""
    if tenacity <= 10:
        return 50e-6 * tenacity
    if tenacity < 100:
        return 500e-6 * 1.15 ** (tenacity - 10)
    return float("inf")


class Maxmemory:
    def __init__(self, server):
        self.server = server
        self.evictor = Evictor(server.keyspace, server.keyspace._rng)
        self.background = None          # the greenlet finishing a long eviction
        self.pre_command_oom = False    # the last check's verdict (scripts read it)

    def over_limit(self) -> int:
        """Bytes to free to get back under maxmemory (0: under it)."""
        server = self.server
        limit = server.settings.maxmemory
        account = server.memory
        used = account.used() - account.not_counted_for_evict()
        return used - limit if used > limit else 0

    def safe_to_evict(self) -> bool:
        server = self.server
        if server.loading is not None or server.yielding_script is not None:
            return False
        if server.read_only_replica and server.settings.replica_ignore_maxmemory:
            return False
        return not server.paused

    def perform_evictions(self) -> int:
        """performEvictions: EVICT_OK, EVICT_RUNNING (over the limit, the rest left to
        the background) or EVICT_FAIL (over the limit, nothing to evict)."""
        if not self.safe_to_evict():
            return EVICT_OK
        result = self._evict()
        if result == EVICT_RUNNING and self.background is None:
            self.background = gevent.spawn(self._evict_in_background)
        if result == EVICT_OK and self.background is not None:
            return EVICT_RUNNING
        return result

    def _evict(self) -> int:
        """Evict until under the limit (EVICT_OK), out of keys (EVICT_FAIL) or out of
        the tenacity's time (EVICT_RUNNING)."""
        to_free = self.over_limit()
        if not to_free:
            return EVICT_OK
        settings = self.server.settings
        policy = settings.maxmemory_policy
        if policy == "noeviction":
            return EVICT_FAIL
        keyspace = self.server.keyspace
        samples = settings.maxmemory_samples
        deadline = time.monotonic() + eviction_time_limit(settings.maxmemory_eviction_tenacity)
        freed = evicted = 0
        while freed < to_free:
            key = self.evictor.best_key(policy, samples)
            if key is None:
                return EVICT_FAIL
            before = keyspace.used_memory
            keyspace.evict(key)
            freed += before - keyspace.used_memory
            evicted += 1
            if evicted % 16 == 0 and time.monotonic() > deadline:
                return EVICT_RUNNING
        return EVICT_OK

    def _evict_in_background(self) -> None:
        """evictionTimeProc: a budget of evictions per loop turn, clients running in
        between, until under the limit or out of keys."""
        try:
            while True:
                gevent.sleep(0.001)
                if not self.server.settings.maxmemory or not self.safe_to_evict() or \
                        self._evict() != EVICT_RUNNING:
                    return
        finally:
            self.background = None

    def check(self, client, cmd, argv):
        """processCommand's maxmemory step: evict, then the -OOM reply or None."""
        out_of_memory = self.perform_evictions() == EVICT_FAIL
        self.pre_command_oom = out_of_memory
        if not out_of_memory or client.is_master_link:
            return None
        if denies_oom(client, cmd, argv) or (
                client.multi is not None and cmd.name not in _ALLOWED_IN_MULTI_WHEN_OOM):
            return OOM_ERROR
        return None


def denies_oom(client, cmd, argv) -> bool:
    """Is the command flagged denyoom -- EXEC when any queued command is, EVAL when its
    script's shebang flags make it so (scriptFlagsToCmdFlags)?"""
    if "denyoom" in cmd.flags:
        return True
    if cmd.name == "exec" and client.multi:
        return any(denies_oom(client, queued, queued_argv)
                   for queued, queued_argv in client.multi)
    if cmd.denyoom_finder is not None:
        return cmd.denyoom_finder(client, argv)
    return False
