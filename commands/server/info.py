"""INFO text: Redis's sections, field names and formats, filled with this node's values.

Tools parse these lines (redis-cli --cluster reads `cluster_enabled` and looks for `db0:`,
redis-py and monitoring agents read `redis_version`, `redis_mode`, `role`, memory and
stats fields), so names and formats follow redis-server 7.0.15: every field of its
`INFO all` is here (tests/integration/test_info_fields.py compares the names with a
running redis-server) except the few that describe its C build or C buffers
(atomicvar_api, gcc_version, reply_buffer_shrinks/expands). Fields whose concept exists
but is always idle here (I/O threads, active defragmentation) show Redis's idle values.
"""
import itertools
import os
import platform
import resource
import sys
import time

from commands.metrics.latency_histogram import (CommandLatency, format_percentile,
                                                has_histogram)
from commands.server.memory import info_lines as memory_info_lines
from commands.server.table import all_commands

REDIS_VERSION = "7.0.15"      # the Redis version whose behaviour the node reproduces

# Section order of Redis's genRedisInfoString; INFO prints sections in this order whatever
# order they were asked in.
SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu",
            "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace")
DEFAULT_SECTIONS = frozenset(SECTIONS) - {"commandstats", "latencystats"}
ALL_SECTIONS = frozenset(SECTIONS)

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
    # Redis keeps the largest buffers of the last few seconds per client; here they are
    # the largest now: what is unparsed in a query buffer, what waits to be written.
    max_in = max_out = in_timeout = 0
    for client in server.clients.values():
        parser = client.parser
        if parser is not None:
            max_in = max(max_in, parser.buffered()[0])
        max_out = max(max_out, client.pending_push_bytes)
        waiter = client.blocked_waiter
        if waiter is not None and waiter.has_timeout:
            in_timeout += 1
    repl = server.replication
    replicas = len(repl.replicas) if repl is not None else 0
    return [
        "connected_clients:%d" % (len(server.clients) - replicas),   # replicas not counted
        "cluster_connections:%d" % (server.cluster.connections()
                                    if server.cluster is not None else 0),
        "maxclients:%d" % server.settings.maxclients,
        "client_recent_max_input_buffer:%d" % max_in,
        "client_recent_max_output_buffer:%d" % max_out,
        "blocked_clients:%d" % server.blocked_clients,
        "tracking_clients:%d" % server.tracking.clients,
        "clients_in_timeout_table:%d" % in_timeout,
    ]


def _memory(server):
    return memory_info_lines(server)     # commands/server/memory.py


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
    children = server.children
    exceeded_since = server.eviction_exceeded_since
    exceeded_now = int((time.monotonic() - exceeded_since) * 1000) \
        if exceeded_since is not None else 0
    return [
        "total_connections_received:%d" % server.total_connections,
        "total_commands_processed:%d" % server.total_commands,
        "instantaneous_ops_per_sec:%d" % server.instantaneous("ops"),
        "total_net_input_bytes:%d" % server.net_input_bytes,
        "total_net_output_bytes:%d" % server.net_output_bytes,
        "total_net_repl_input_bytes:%d" % server.net_repl_input_bytes,
        "total_net_repl_output_bytes:%d" % server.net_repl_output_bytes,
        "instantaneous_input_kbps:%.2f" % (server.instantaneous("net_input") / 1024),
        "instantaneous_output_kbps:%.2f" % (server.instantaneous("net_output") / 1024),
        "instantaneous_input_repl_kbps:%.2f"
        % (server.instantaneous("net_repl_input") / 1024),
        "instantaneous_output_repl_kbps:%.2f"
        % (server.instantaneous("net_repl_output") / 1024),
        "rejected_connections:%d" % server.rejected_connections,
        "sync_full:%d" % (repl.sync_full if repl is not None else 0),
        "sync_partial_ok:%d" % (repl.sync_partial_ok if repl is not None else 0),
        "sync_partial_err:%d" % (repl.sync_partial_err if repl is not None else 0),
        "expired_keys:%d" % ks.expired_keys,
        "expired_stale_perc:%.2f" % (ks.expire_stats.stale_perc * 100),
        "expired_time_cap_reached_count:%d" % ks.expire_stats.time_cap_reached,
        "expire_cycle_cpu_milliseconds:%d" % (ks.expire_stats.time_used_us // 1000),
        "evicted_keys:%d" % ks.evicted_keys,
        "evicted_clients:0",
        "total_eviction_exceeded_time:%d" % (server.eviction_exceeded_ms + exceeded_now),
        "current_eviction_exceeded_time:%d" % exceeded_now,
        "keyspace_hits:%d" % ks.keyspace_hits,
        "keyspace_misses:%d" % ks.keyspace_misses,
        "pubsub_channels:%d" % pubsub[0],
        "pubsub_patterns:%d" % pubsub[1],
        "pubsubshard_channels:%d" % pubsub[2],
        "latest_fork_usec:%d" % (children.last_fork_usec if children is not None else 0),
        "total_forks:%d" % (children.total_forks if children is not None else 0),
        "migrate_cached_sockets:%d" % _stat_sources["migrate_cached_sockets"](),
        # A writable replica's own keys with a TTL: this node keeps no separate table of
        # them (its expiry of such keys is lazy), so there is none to report.
        "slave_expires_tracked_keys:0",
        # Active defragmentation cannot be enabled (no jemalloc): these stay 0 in Redis too.
        "active_defrag_hits:0",
        "active_defrag_misses:0",
        "active_defrag_key_hits:0",
        "active_defrag_key_misses:0",
        "total_active_defrag_time:0",
        "current_active_defrag_time:0",
        *server.tracking.info_stats(),
        "unexpected_error_replies:%d" % server.unexpected_errors,
        "total_error_replies:%d" % server.error_replies,
        "dump_payload_sanitizations:%d" % server.dump_payload_sanitizations,
        "total_reads_processed:%d" % server.total_reads,
        "total_writes_processed:%d" % server.total_writes,
        "io_threaded_reads_processed:0",      # one thread: no I/O threads read
        "io_threaded_writes_processed:0",
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
            calls = cmd.calls
            if calls or cmd.rejected_calls or cmd.failed_calls:
                lines.append(
                    "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,"
                    "failed_calls=%d" % (cmd.full_name, calls, cmd.nsec // 1000,
                                         cmd.nsec / 1000 / calls if calls else 0.0,
                                         cmd.rejected_calls, cmd.failed_calls))
    return lines


def _errorstats(server):
    return ["errorstat_%s:count=%d" % (code, count)
            for code, count in sorted(server.errorstats.items())]


def _latencystats(server):
    """latency_percentiles_usec_<command>:p50=...,p99=...,p99.9=... for every command
    with a histogram, while latency-tracking is on (Redis's
    fillPercentileDistributionLatencies: '%f' percentiles trimmed, µs to 3 decimals)."""
    if not server.latency_tracking:
        return []
    wanted = [float(word) for word in
              server.settings.latency_tracking_info_percentiles.split()]
    lines = []
    for top in all_commands():
        for cmd in (top, *top.subcommands.values()):
            if not has_histogram(cmd.durations, cmd.latency):
                continue
            values = (cmd.latency or CommandLatency()).percentiles(cmd.durations, wanted)
            lines.append("latency_percentiles_usec_%s:%s" % (cmd.full_name, ",".join(
                "p%s=%.3f" % (format_percentile(p), ns / 1000.0)
                for p, ns in zip(wanted, values))))
    return lines


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
               "errorstats": _errorstats, "latencystats": _latencystats,
               "cluster": _cluster, "keyspace": _keyspace}


# Counters kept by layers above this one (MIGRATE's socket cache): fn() -> int.
_stat_sources = {"migrate_cached_sockets": lambda: 0}


def register_stat(name: str, count) -> None:
    """Let a layer above supply a counter INFO prints (families/migrate.py does)."""
    assert name in _stat_sources, name
    _stat_sources[name] = count


def register_section(name: str, generate_lines) -> None:
    """Let a layer above fill a section: generate_lines(server) -> list of 'field:value'
    lines (replication and persistence register theirs when imported)."""
    assert name in ALL_SECTIONS, name
    _GENERATORS[name] = generate_lines
