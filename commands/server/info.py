"""INFO text: Redis's sections, field names and formats, filled with this node's values.

Tools parse these lines (redis-cli --cluster reads `cluster_enabled` and looks for `db0:`,
redis-py and monitoring agents read `redis_version`, `redis_mode`, `role`, memory and
stats fields), so names and formats follow redis-server 7.0.15. Fields that describe C
internals we do not have (allocator, fork/COW, I/O threads) are left out, not faked;
fields whose concept exists but is always idle here (AOF, RDB saves, replicas, pub/sub
until those exist) report Redis's idle values.
"""
import itertools
import os
import platform
import resource
import sys
import time

from commands.server.table import all_commands

REDIS_VERSION = "7.0.15"      # the Redis version whose behaviour the node reproduces

# Section order of Redis's genRedisInfoString; INFO prints sections in this order whatever
# order they were asked in.
SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu",
            "modules", "commandstats", "errorstats", "cluster", "keyspace")
DEFAULT_SECTIONS = frozenset(SECTIONS) - {"commandstats"}
ALL_SECTIONS = frozenset(SECTIONS)

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_AVG_TTL_SAMPLE = 1000


def server_role(server) -> str:
    """'master' or 'slave', as INFO and HELLO spell it, from the cluster view."""
    view = server.cluster
    return view.my_role if view is not None else "master"


def select_sections(args) -> set:
    """The sections INFO [section ...] asks for (names are case-insensitive; unknown names
    select nothing, as in Redis)."""
    if not args:
        return set(DEFAULT_SECTIONS)
    chosen = set()
    for arg in args:
        name = arg.decode("utf-8", "replace").lower()
        if name in ("all", "everything"):
            chosen |= ALL_SECTIONS
        elif name == "default":
            chosen |= DEFAULT_SECTIONS
        elif name in ALL_SECTIONS:
            chosen.add(name)
    return chosen


def generate(server, sections) -> str:
    """The INFO text for `sections`: '# Name' headers, CRLF lines, a blank line between."""
    parts = []
    for name in SECTIONS:
        if name in sections:
            lines = _GENERATORS[name](server)
            title = "CPU" if name == "cpu" else name.capitalize()
            parts.append("# %s\r\n%s" % (title, "".join(line + "\r\n" for line in lines)))
    return "\r\n".join(parts)


def bytes_to_human(n: int) -> str:
    """Redis's bytesToHuman: 512B, 1.50K, 7.44M, 2.00G..."""
    if n < 1024:
        return "%dB" % n
    for unit, scale in (("K", 1024), ("M", 1024 ** 2), ("G", 1024 ** 3), ("T", 1024 ** 4),
                        ("P", 1024 ** 5)):
        if n < scale * 1024 or unit == "P":
            return "%.2f%s" % (n / scale, unit)
    return "%dB" % n


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (ru_maxrss is only the peak)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _total_system_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * _PAGE_SIZE
    except (ValueError, OSError):
        return 0


# ---------------------------------------------------------------- the sections

def _server(server):
    settings = server.settings
    uptime = int(server.uptime())
    uname = platform.uname()
    return [
        "redis_version:%s" % REDIS_VERSION,
        "redis_git_sha1:00000000",
        "redis_git_dirty:0",
        "redis_build_id:0",
        "redis_mode:cluster",
        "os:%s %s %s" % (uname.system, uname.release, uname.machine),
        "arch_bits:%d" % (64 if sys.maxsize > 2 ** 32 else 32),
        "monotonic_clock:POSIX clock_gettime",
        "multiplexing_api:gevent",
        "python_version:%s" % platform.python_version(),
        "process_id:%d" % os.getpid(),
        "process_supervised:%s" % (getattr(server, "supervised", "") or "no"),
        "run_id:%s" % server.run_id,
        "tcp_port:%d" % settings.port,
        "server_time_usec:%d" % int(time.time() * 1e6),
        "uptime_in_seconds:%d" % uptime,
        "uptime_in_days:%d" % (uptime // 86400),
        "hz:%d" % server.hz,
        "configured_hz:%d" % settings.hz,
        "lru_clock:%d" % (server.keyspace.lru_clock & 0xFFFFFF),
        "executable:%s" % os.path.abspath(sys.argv[0]),
        "config_file:%s" % (settings.config_file or ""),
        "io_threads_active:0",
    ]


def _clients(server):
    return [
        "connected_clients:%d" % len(server.clients),
        "cluster_connections:%d" % (server.cluster.connections()
                                    if server.cluster is not None else 0),
        "maxclients:%d" % server.settings.maxclients,
        "client_recent_max_input_buffer:0",
        "client_recent_max_output_buffer:0",
        "blocked_clients:%d" % server.blocked_clients,
        "tracking_clients:%d" % server.tracking.clients,
        "clients_in_timeout_table:0",
    ]


def _memory(server):
    # Python has no allocator counter comparable to zmalloc's, so used_memory is the RSS
    # too: it is what maxmemory-style checks and people reading INFO care about.
    rss = rss_bytes()
    server.memory_peak = max(server.memory_peak, rss)
    peak = server.memory_peak
    total = _total_system_memory()
    settings = server.settings
    return [
        "used_memory:%d" % rss,
        "used_memory_human:%s" % bytes_to_human(rss),
        "used_memory_rss:%d" % rss,
        "used_memory_rss_human:%s" % bytes_to_human(rss),
        "used_memory_peak:%d" % peak,
        "used_memory_peak_human:%s" % bytes_to_human(peak),
        "used_memory_peak_perc:%.2f%%" % (100.0 * rss / peak if peak else 100.0),
        "total_system_memory:%d" % total,
        "total_system_memory_human:%s" % bytes_to_human(total),
        *_scripts_memory(server),
        "maxmemory:%d" % settings.maxmemory,
        "maxmemory_human:%s" % bytes_to_human(settings.maxmemory),
        "maxmemory_policy:%s" % settings.maxmemory_policy,
        "mem_fragmentation_ratio:1.00",
        "mem_allocator:pymalloc",
        "lazyfree_pending_objects:0",
    ]


def _scripts_memory(server) -> list:
    """The script and function fields of Redis's memory section (in its order): EVAL's
    cached scripts (their bodies and shas, Redis's scripts dict entries), the functions'
    Lua VM heap and how many functions and libraries are loaded."""
    cache = server.scripting              # commands/scripting/eval_cmds.ScriptCache
    scripts = cache.scripts if cache is not None else {}
    eval_bytes = sum(len(sha) + len(script.body) for sha, script in scripts.items())
    functions = server.functions          # commands/scripting/function_libraries
    if functions is None:
        libraries = function_count = vm = 0
    else:
        (libraries, function_count), vm = functions.stats(), functions.vm_memory()
    return ["used_memory_scripts_eval:%d" % eval_bytes,
            "number_of_cached_scripts:%d" % len(scripts),
            "number_of_functions:%d" % function_count,
            "number_of_libraries:%d" % libraries,
            "used_memory_vm_functions:%d" % vm]


def _persistence(server):
    return [
        "loading:0",
        "async_loading:0",
        "rdb_changes_since_last_save:%d" % server.keyspace.dirty,
        "rdb_bgsave_in_progress:0",
        "rdb_last_save_time:%d" % server.last_save,
        "rdb_last_bgsave_status:ok",
        "rdb_last_bgsave_time_sec:-1",
        "rdb_current_bgsave_time_sec:-1",
        "rdb_saves:0",
        "aof_enabled:0",
        "aof_rewrite_in_progress:0",
        "aof_rewrite_scheduled:0",
        "aof_last_rewrite_time_sec:-1",
        "aof_current_rewrite_time_sec:-1",
        "aof_last_bgrewrite_status:ok",
        "aof_rewrites:0",
        "aof_last_write_status:ok",
        "module_fork_in_progress:0",
    ]


def _stats(server):
    ks = server.keyspace
    repl = server.replication
    pubsub = server.pubsub.counts() if server.pubsub is not None else (0, 0, 0)
    return [
        "total_connections_received:%d" % server.total_connections,
        "total_commands_processed:%d" % server.total_commands,
        "instantaneous_ops_per_sec:%d" % server.instantaneous_ops(),
        "total_net_input_bytes:%d" % server.net_input_bytes,
        "total_net_output_bytes:%d" % server.net_output_bytes,
        "rejected_connections:%d" % server.rejected_connections,
        "sync_full:%d" % (repl.sync_full if repl is not None else 0),
        "sync_partial_ok:%d" % (repl.sync_partial_ok if repl is not None else 0),
        "sync_partial_err:%d" % (repl.sync_partial_err if repl is not None else 0),
        "expired_keys:%d" % ks.expired_keys,
        "evicted_keys:0",
        "evicted_clients:0",
        "keyspace_hits:%d" % ks.keyspace_hits,
        "keyspace_misses:%d" % ks.keyspace_misses,
        "pubsub_channels:%d" % pubsub[0],
        "pubsub_patterns:%d" % pubsub[1],
        "pubsubshard_channels:%d" % pubsub[2],
        *server.tracking.info_stats(),
        "unexpected_error_replies:%d" % server.unexpected_errors,
        "total_error_replies:%d" % server.error_replies,
    ]


def idle_replication(server):
    """The replication section of a node without a Replication object (unit tests); the
    replication layer registers the real one (register_section)."""
    return [
        "role:%s" % server_role(server),
        "connected_slaves:0",
        "master_failover_state:no-failover",
        "master_replid:%s" % server.replid,
        "master_replid2:%s" % ("0" * 40),
        "master_repl_offset:0",
        "second_repl_offset:-1",
        "repl_backlog_active:0",
        "repl_backlog_size:%d" % server.settings.repl_backlog_size,
        "repl_backlog_first_byte_offset:0",
        "repl_backlog_histlen:0",
    ]


def _cpu(server):
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [
        "used_cpu_sys:%.6f" % me.ru_stime,
        "used_cpu_user:%.6f" % me.ru_utime,
        "used_cpu_sys_children:%.6f" % children.ru_stime,
        "used_cpu_user_children:%.6f" % children.ru_utime,
    ]
    if hasattr(resource, "RUSAGE_THREAD"):
        thread = resource.getrusage(resource.RUSAGE_THREAD)
        lines += ["used_cpu_sys_main_thread:%.6f" % thread.ru_stime,
                  "used_cpu_user_main_thread:%.6f" % thread.ru_utime]
    return lines


def _modules(server):
    return []


def _commandstats(server):
    lines = []
    for top in all_commands():
        for cmd in (top, *top.subcommands.values()):
            if cmd.calls or cmd.rejected_calls or cmd.failed_calls:
                lines.append(
                    "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,"
                    "failed_calls=%d" % (cmd.full_name, cmd.calls, int(cmd.usec),
                                         cmd.usec / cmd.calls if cmd.calls else 0.0,
                                         cmd.rejected_calls, cmd.failed_calls))
    return lines


def _errorstats(server):
    return ["errorstat_%s:count=%d" % (code, count)
            for code, count in sorted(server.errorstats.items())]


def _cluster(server):
    return ["cluster_enabled:1"]


def _keyspace(server):
    ks = server.keyspace
    if not ks.size:
        return []
    return ["db0:keys=%d,expires=%d,avg_ttl=%d" % (ks.size, len(ks.expires), _avg_ttl(ks))]


def _avg_ttl(ks) -> int:
    """Average TTL in ms of keys with one, estimated from a sample like Redis's estimate
    (Redis keeps a running average fed by the active expire cycle)."""
    if not ks.expires:
        return 0
    now = int(time.time() * 1000)
    sample = [when - now for when in itertools.islice(ks.expires.values(), _AVG_TTL_SAMPLE)]
    live = [ttl for ttl in sample if ttl > 0]
    return sum(live) // len(live) if live else 0


_GENERATORS = {"server": _server, "clients": _clients, "memory": _memory,
               "persistence": _persistence, "stats": _stats, "replication": idle_replication,
               "cpu": _cpu, "modules": _modules, "commandstats": _commandstats,
               "errorstats": _errorstats, "cluster": _cluster, "keyspace": _keyspace}


def register_section(name: str, generate_lines) -> None:
    """Let a layer above fill a section: generate_lines(server) -> list of 'field:value'
    lines (replication and persistence register theirs when imported)."""
    assert name in ALL_SECTIONS, name
    _GENERATORS[name] = generate_lines
