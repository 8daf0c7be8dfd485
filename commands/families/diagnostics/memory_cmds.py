"""MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP (Redis 7.0's object.c).

The figures are the node's estimate of what Redis would allocate
(commands/data/memory_model.py for a key, commands/server/memory.py for the whole):
MEMORY USAGE of a key is objectComputeSize plus the key's sds and dictEntry, sampling
`SAMPLES` elements of a collection (default 5, 0 = all). The allocator figures of
MEMORY STATS describe the process as a whole, since Python's allocator keeps no separate
books: allocator.* are the RSS. MALLOC-STATS is pymalloc's own report, PURGE runs the
garbage collector and glibc's malloc_trim.
"""
import ctypes
import ctypes.util
import gc
import os
import sys
import tempfile

from commands.data.memory_model import DEFAULT_SAMPLES, key_usage
from commands.data.numbers import parse_int64
from commands.server.resp import OK, ReplyError, Status, Verbatim
from commands.server.table import container, subcommand

MEMORY = container("memory", -2, group="server", since="4.0.0",
                   summary="A container for memory diagnostics commands")

_SYNTAX = ReplyError("ERR syntax error")
_NOT_AN_INTEGER = ReplyError("ERR value is not an integer or out of range")
_ALL_SHARDS = ("nondeterministic_output", "request_policy:all_shards",
               "response_policy:special")


@subcommand(MEMORY, "usage", -3, "readonly", keys=(2, 2, 1), since="4.0.0",
            complexity="O(N) where N is the number of samples.",
            summary="Estimate the memory usage of a key")
def memory_usage(c, argv):
    samples = DEFAULT_SAMPLES
    i = 3
    while i < len(argv):
        if argv[i].lower() == b"samples" and i + 1 < len(argv):
            n = parse_int64(argv[i + 1])
            if n is None:
                raise _NOT_AN_INTEGER
            if n < 0:
                raise _SYNTAX
            samples = n              # 0 = every element (Redis: LLONG_MAX)
            i += 2
        else:
            raise _SYNTAX
    # dictFind, as Redis: no expiry check, no access-time update.
    value = c.server.keyspace.peek(argv[2])
    if value is None:
        return None
    return key_usage(argv[2], value, samples)


@subcommand(MEMORY, "stats", 2, since="4.0.0", complexity="O(1)", tips=_ALL_SHARDS,
            summary="Show memory usage details")
def memory_stats(c, argv):
    m = c.server.memory.stats()
    account = c.server.memory
    rss = m["rss"]
    stats = {
        "peak.allocated": m["peak"],
        "total.allocated": m["used"],
        "startup.allocated": m["startup"],
        "replication.backlog": account.repl_backlog,
        "clients.slaves": account.clients_slaves,
        "clients.normal": account.clients_normal,
        "cluster.links": 0,
        "aof.buffer": account.aof_buffer,
        "lua.caches": account.lua_caches,
        "functions.caches": 0,
    }
    if m["keys"]:
        stats["db.0"] = {"overhead.hashtable.main": m["main"],
                         "overhead.hashtable.expires": m["expires"],
                         "overhead.hashtable.slot-to-keys": m["slot_to_keys"]}
    stats.update({
        "overhead.total": m["overhead"],
        "keys.count": m["keys"],
        "keys.bytes-per-key": m["bytes_per_key"],
        "dataset.bytes": m["dataset"],
        "dataset.percentage": m["dataset_perc"],
        "peak.percentage": m["peak_perc"],
        # No allocator of its own to report apart from the process: its RSS.
        "allocator.allocated": rss,
        "allocator.active": rss,
        "allocator.resident": rss,
        "allocator-fragmentation.ratio": 1.0,
        "allocator-fragmentation.bytes": 0,
        "allocator-rss.ratio": 1.0,
        "allocator-rss.bytes": 0,
        "rss-overhead.ratio": 1.0,
        "rss-overhead.bytes": 0,
        "fragmentation": m["frag"],
        "fragmentation.bytes": m["frag_bytes"],
    })
    return stats


_EMPTY = ("Hi Sam, this instance is empty or is using very little memory, my issues "
          "detector can't be used in these conditions. Please, leave for your mission on "
          "Earth and fill it with some data. The new Sam and I will be back to our "
          "programming as soon as I finished rebooting.\n")
_HEALTHY = ("Hi Sam, I can't find any memory issue in your instance. I can only account "
            "for what occurs on this base.\n")
_REPORTS = {
    "big_peak": " * Peak memory: In the past this instance used more than 150% the memory "
    "that is currently using. The allocator is normally not able to release memory after a "
    "peak, so you can expect to see a big fragmentation ratio, however this is actually "
    "harmless and is only due to the memory peak, and if the Redis instance Resident Set "
    "Size (RSS) is currently bigger than expected, the memory will be used as soon as you "
    "fill the Redis instance with more data. If the memory peak was only occasional and you "
    "want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only "
    "other option is to shutdown and restart the instance.\n\n",
    "high_frag": " * High total RSS: This instance has a memory fragmentation and RSS "
    "overhead greater than 1.4 (this means that the Resident Set Size of the Redis process "
    "is much larger than the sum of the logical allocations Redis performed). This problem "
    "is usually due either to a large peak memory (check if there is a peak memory entry "
    "above in the report) or may result from a workload that causes the allocator to "
    "fragment memory a lot. If the problem is a large peak memory, then there is no issue. "
    "Otherwise, make sure you are using the Jemalloc allocator and not the default libc "
    "malloc. Note: The currently used allocator is \"pymalloc\".\n\n",
    "big_slave_buf": " * Big replica buffers: The replica output buffers in this instance "
    "are greater than 10MB for each replica (on average). This likely means that there is "
    "some replica instance that is struggling receiving data, either because it is too slow "
    "or because of networking issues. As a result, data piles on the master output buffers. "
    "Please try to identify what replica is not receiving data correctly and why. You can "
    "use the INFO output in order to check the replicas delays and the CLIENT LIST command "
    "to check the output buffers of each replica.\n\n",
    "big_client_buf": " * Big client buffers: The clients output buffers in this instance "
    "are greater than 200K per client (on average). This may result from different causes, "
    "like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so "
    "that data piles on the Redis instance output buffer, or clients sending commands with "
    "large replies or very large sequences of commands in the same pipeline. Please use "
    "the CLIENT LIST command in order to investigate the issue if it causes problems in "
    "your instance, or to understand better why certain clients are using a big amount of "
    "memory.\n\n",
    "many_scripts": " * Many scripts: There seem to be many cached scripts in this "
    "instance (more than 1000). This may be because scripts are generated and `EVAL`ed, "
    "instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. "
    "Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up "
    "consuming most of your memory.\n\n",
}


def doctor_report(server) -> str:
    """getMemoryDoctorReport's checks, on our figures (the allocator's own checks have
    no figures here to look at)."""
    account = server.memory
    m = account.stats()
    if m["used"] < 5 * 1024 * 1024:
        return _EMPTY
    found = []
    if m["peak"] / m["used"] > 1.5:
        found.append("big_peak")
    if m["frag"] > 1.4 and m["frag_bytes"] > 10 << 20:
        found.append("high_frag")
    replicas = sum(1 for client in server.clients.values() if client.replica is not None)
    normal = max(1, len(server.clients) - replicas)
    if account.clients_normal / normal > 200 * 1024:
        found.append("big_client_buf")
    if replicas and account.clients_slaves > 10 * 1024 * 1024:
        found.append("big_slave_buf")
    if server.scripting is not None and len(server.scripting.scripts) > 1000:
        found.append("many_scripts")
    if not found:
        return _HEALTHY
    return ("Sam, I detected a few issues in this Redis instance memory implants:\n\n"
            + "".join(_REPORTS[name] for name in found)
            + "I'm here to keep you safe, Sam. I want to help you.\n")


@subcommand(MEMORY, "doctor", 2, since="4.0.0", complexity="O(1)", tips=_ALL_SHARDS,
            summary="Outputs memory problems report")
def memory_doctor(c, argv):
    return Verbatim(doctor_report(c.server).encode())


def pymalloc_stats() -> str:
    """sys._debugmallocstats() writes to the C stderr: catch it in a file for the reply
    (the node does not yield meanwhile, so no log line can land in it)."""
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        try:
            sys.stderr.flush()
            os.dup2(sink.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        text = sink.read().decode("utf-8", "replace")
    counts = gc.get_count()
    return text + "\ngc: objects tracked %d, generation counts %d %d %d\n" % (
        len(gc.get_objects()), *counts)


@subcommand(MEMORY, "malloc-stats", 2, since="4.0.0",
            complexity="Depends on how much memory is allocated, could be slow",
            tips=_ALL_SHARDS, summary="Show allocator internal stats")
def memory_malloc_stats(c, argv):
    return Verbatim(pymalloc_stats().encode())


_libc = []


def malloc_trim() -> bool:
    """glibc's malloc_trim(0): give free heap pages back to the system."""
    if not _libc:
        name = ctypes.util.find_library("c")
        try:
            _libc.append(ctypes.CDLL(name) if name else None)
        except OSError:
            _libc.append(None)
    libc = _libc[0]
    if libc is None or not hasattr(libc, "malloc_trim"):
        return False
    libc.malloc_trim(0)
    return True


@subcommand(MEMORY, "purge", 2, since="4.0.0",
            complexity="Depends on how much memory is allocated, could be slow",
            tips=("request_policy:all_shards", "response_policy:all_succeeded"),
            summary="Ask the allocator to release memory")
def memory_purge(c, argv):
    gc.collect()
    malloc_trim()
    c.server.memory.refresh()
    return OK


_HELP = [
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
]


@subcommand(MEMORY, "help", 2, "loading stale", since="4.0.0", complexity="O(1)",
            summary="Show helpful text about the different subcommands")
def memory_help(c, argv):
    return [Status(line) for line in _HELP]
