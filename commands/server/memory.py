"""used_memory and its parts (what INFO memory, MEMORY STATS / DOCTOR read), and the
maxmemory limit that is enforced on it.

Redis's used_memory is its allocator's counter. Ours is an estimate built the same way
(getMemoryOverheadData): the memory at start-up, plus the keyspace -- every key's share
from the keyspace's running total (commands/data/memory_model.py explains the model)
and the tables' buckets --, plus the buffers: clients' query and output buffers, the
replication backlog, the AOF buffer, the scripts' cache. Overhead is everything but the
data: start-up, buffers, and per key the dictEntry, robj and slot-to-keys metadata;
the dataset is the rest.

The figure that changes with every write is the keyspace's and is always current; the
buffers are summed by `refresh()`, which the server cron calls (every 100 ms while
maxmemory is set, else every second: summing every client's buffers costs O(clients))
and INFO / MEMORY call when they report. used_memory_rss is the process's real RSS, so mem_fragmentation_ratio
(rss / used) shows what the Python interpreter costs beyond the data Redis would hold.

maxmemory (Maxmemory, the second half of this file): evict keys before a command when
used memory is over the limit, or refuse the commands that could grow it (Redis's
performEvictions and processCommand's check).

Off (maxmemory 0) this costs nothing: the limit is one of the states behind the
executor's `server.degraded` flag. On, `check()` runs before every command: it compares
used_memory (minus the replicas' and AOF buffers, which
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
import os
import resource
import sys
import time

import gevent

from commands.data.eviction import Evictor
from commands.data.memory_model import (BUCKET, DICT_ENTRY, ROBJ, SLOT_TO_KEYS_META,
                                        dict_slots)
from commands.server.resp import ReplyError

CLIENT_BYTES = 1024        # one client's own structures (its object, parser, greenlet)
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (ru_maxrss is only the peak)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class MemoryAccount:
    """The node's used_memory, its parts and its peak."""

    def __init__(self, server):
        self.server = server
        keyspace = server.keyspace
        # The empty keyspace's 16384 slot tables and the fixed tables around them.
        self.startup = sum(sys.getsizeof(table) for table in keyspace.slots) + \
            sys.getsizeof(keyspace.expires)
        self.peak = 0
        self.clients_normal = 0
        self.clients_slaves = 0
        self.repl_backlog = 0
        self.aof_buffer = 0
        self.lua_caches = 0
        self._ticks = 0
        self.refresh()

    # ------------------------------------------------------------ the parts

    def cron(self) -> None:
        """Every 100 ms: the buffers are summed over every client (O(clients)), so each
        tick only while maxmemory needs them current, else once a second (the peak)."""
        self._ticks += 1
        if self.server.maxmemory_on or self._ticks % 10 == 0:
            self.refresh()

    def refresh(self) -> None:
        """Sum the buffers (the cron, and before a report); update the peak."""
        server = self.server
        normal = slaves = 0
        for client in list(server.clients.values()):
            parser = client.parser
            held = client._outbox_bytes + (parser.buffered()[0] if parser is not None else 0)
            if client.replica is not None:
                slaves += held
            else:
                normal += held + CLIENT_BYTES
        repl = server.replication
        backlog = getattr(repl, "backlog", None)
        self.repl_backlog = backlog.size if backlog is not None else 0
        # Replicas' buffers count as theirs only beyond what the backlog holds anyway.
        self.clients_slaves = max(0, slaves - self.repl_backlog)
        self.clients_normal = normal
        aof = server.aof
        self.aof_buffer = getattr(aof, "buf_len", 0) if aof is not None else 0
        self.lua_caches = server.scripting.cache_memory() \
            if server.scripting is not None else 0
        self.peak = max(self.peak, self.used())

    def keys_overhead(self) -> tuple:
        """(main table, expires table, slot-to-keys) bytes, as MEMORY STATS's db.0."""
        ks = self.server.keyspace
        keys, expiring = ks.size, len(ks.expires)
        main = keys * (DICT_ENTRY + ROBJ) + dict_slots(keys) * BUCKET
        expires = expiring * DICT_ENTRY + dict_slots(expiring) * BUCKET
        return main, expires, keys * SLOT_TO_KEYS_META

    def keyspace_bytes(self) -> int:
        """The keys' share: their running total plus the two tables' buckets."""
        ks = self.server.keyspace
        return ks.settle_memory() + BUCKET * (dict_slots(ks.size) + dict_slots(len(ks.expires)))

    def used(self) -> int:
        """used_memory: cheap enough for the maxmemory check before each command."""
        return (self.startup + self.keyspace_bytes() + self.clients_normal
                + self.clients_slaves + self.repl_backlog + self.aof_buffer + self.lua_caches)

    def not_counted_for_evict(self) -> int:
        """freeMemoryGetNotCountedMemory: replicas' buffers beyond the backlog and the
        AOF buffer, which eviction must not chase (its DELs grow them)."""
        return self.clients_slaves + self.aof_buffer

    def overhead(self) -> int:
        return (self.startup + self.clients_normal + self.clients_slaves
                + self.repl_backlog + self.aof_buffer + self.lua_caches
                + sum(self.keys_overhead()))

    # ------------------------------------------------------------ reports

    def stats(self) -> dict:
        """getMemoryOverheadData's figures, fresh."""
        self.refresh()
        used = self.used()
        rss = rss_bytes()
        overhead = self.overhead()
        main, expires, slot_to_keys = self.keys_overhead()
        keys = self.server.keyspace.size
        net = used - self.startup if used > self.startup else 1
        dataset = max(0, used - overhead)
        return {
            "used": used, "rss": rss, "peak": self.peak, "startup": self.startup,
            "overhead": overhead, "dataset": dataset,
            "dataset_perc": dataset * 100.0 / net,
            "peak_perc": used * 100.0 / self.peak if self.peak else 100.0,
            "keys": keys, "bytes_per_key": net // keys if keys else 0,
            "main": main, "expires": expires, "slot_to_keys": slot_to_keys,
            "frag": rss / used if used else 0.0, "frag_bytes": rss - used,
        }


def bytes_to_human(n: int) -> str:
    """Redis's bytesToHuman: 512B, 1.50K, 7.44M, 2.00G..."""
    if n < 1024:
        return "%dB" % n
    for unit, scale in (("K", 1024), ("M", 1024 ** 2), ("G", 1024 ** 3), ("T", 1024 ** 4),
                        ("P", 1024 ** 5)):
        if n < scale * 1024 or unit == "P":
            return "%.2f%s" % (n / scale, unit)
    return "%dB" % n


def _total_system_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * _PAGE_SIZE
    except (ValueError, OSError):
        return 0


def info_lines(server) -> list:
    """INFO memory, in Redis 7.0's field order. The allocator_* and rss_overhead_*
    fields describe jemalloc's arenas, which this process does not have: left out."""
    account = server.memory
    m = account.stats()
    settings = server.settings
    scripting = server.scripting
    lua_vm = scripting.vm_memory() if scripting is not None else 0
    # Functions (commands/scripting/function_libraries.py): their own Lua VM, and the
    # libraries' code, which is what Redis counts as functions' memory.
    functions = server.functions
    if functions is None:
        libraries = function_count = functions_vm = functions_code = 0
    else:
        (libraries, function_count), functions_vm = functions.stats(), functions.vm_memory()
        functions_code = sum(len(code) for code in functions.codes())
    scripts = len(scripting.scripts) if scripting is not None else 0
    total = _total_system_memory()
    repl = server.replication
    backlog = getattr(repl, "backlog", None)
    replication_buffers = (backlog.histlen if backlog is not None else 0) + \
        account.clients_slaves
    return [
        "used_memory:%d" % m["used"],
        "used_memory_human:%s" % bytes_to_human(m["used"]),
        "used_memory_rss:%d" % m["rss"],
        "used_memory_rss_human:%s" % bytes_to_human(m["rss"]),
        "used_memory_peak:%d" % m["peak"],
        "used_memory_peak_human:%s" % bytes_to_human(m["peak"]),
        "used_memory_peak_perc:%.2f%%" % m["peak_perc"],
        "used_memory_overhead:%d" % m["overhead"],
        "used_memory_startup:%d" % m["startup"],
        "used_memory_dataset:%d" % m["dataset"],
        "used_memory_dataset_perc:%.2f%%" % m["dataset_perc"],
        "total_system_memory:%d" % total,
        "total_system_memory_human:%s" % bytes_to_human(total),
        "used_memory_lua:%d" % lua_vm,
        "used_memory_vm_eval:%d" % lua_vm,
        "used_memory_lua_human:%s" % bytes_to_human(lua_vm),
        "used_memory_scripts_eval:%d" % account.lua_caches,
        "number_of_cached_scripts:%d" % scripts,
        "number_of_functions:%d" % function_count,
        "number_of_libraries:%d" % libraries,
        "used_memory_vm_functions:%d" % functions_vm,
        "used_memory_vm_total:%d" % (lua_vm + functions_vm),
        "used_memory_vm_total_human:%s" % bytes_to_human(lua_vm + functions_vm),
        "used_memory_functions:%d" % functions_code,
        "used_memory_scripts:%d" % (account.lua_caches + functions_code),
        "used_memory_scripts_human:%s" % bytes_to_human(account.lua_caches + functions_code),
        "maxmemory:%d" % settings.maxmemory,
        "maxmemory_human:%s" % bytes_to_human(settings.maxmemory),
        "maxmemory_policy:%s" % settings.maxmemory_policy,
        "mem_fragmentation_ratio:%.2f" % m["frag"],
        "mem_fragmentation_bytes:%d" % m["frag_bytes"],
        "mem_not_counted_for_evict:%d" % account.not_counted_for_evict(),
        "mem_replication_backlog:%d" % account.repl_backlog,
        "mem_total_replication_buffers:%d" % replication_buffers,
        "mem_clients_slaves:%d" % account.clients_slaves,
        "mem_clients_normal:%d" % account.clients_normal,
        "mem_cluster_links:0",
        "mem_aof_buffer:%d" % account.aof_buffer,
        "mem_allocator:pymalloc",
        "active_defrag_running:0",
        "lazyfree_pending_objects:0",
        "lazyfreed_objects:0",
    ]


# ---------------------------------------------------------------- maxmemory

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
        if server.settings.replica_ignore_maxmemory and \
                not getattr(server.replication, "is_master", True):
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
