"""Every configuration parameter of Redis 7.0.15 (src/config.c's static_configs), with
Redis's types, ranges, aliases and flags, plus this node's own cluster-bus-secret.

Each parameter either has its effect here, or says why not:

- `no_effect="..."`: a knob of something this implementation does not have by nature
  (the allocator, the kernel, I/O threads); any valid value is accepted and shown.
- `missing="..."`: a feature not built yet: the default is accepted and shown, any
  other value is refused with an error naming the feature (never a silent no-op).

The README's configuration table is generated from these two fields
(`python -m commands.server.config_table` prints it).
"""
from commands.server.config_types import (INT_MAX, INT_MIN, LL_MAX, OBUF_DEFAULTS,
                                          UINT_MAX, ULL_MAX, Setting, SettingError)

# The names settings.py's table used, so a row written for it can be added here as is.
_MAX_LL, _MAX_U32 = LL_MAX, UINT_MAX

_EVICTION = "this node has no client eviction (maxmemory-clients) yet (issue 15)"


def _later(feature: str) -> str:
    return "this node has no %s yet (issue 13)" % feature


_ALLOCATOR = "allocator knob: Python manages this process's memory, there is no jemalloc"
_DEFRAG = "allocator knob: there is no jemalloc to defragment"
_LAZYFREE = ("memory is freed by Python's reference counting when the last reference "
             "goes; there is no background free thread to hand it to")


def _check_activedefrag(enabled: bool) -> None:
    # Redis's own answer when it is built without a defragmenting jemalloc.
    if enabled:
        raise SettingError("Active defragmentation cannot be enabled: it requires a Redis "
                           "server compiled with a modified Jemalloc like the one shipped "
                           "by default with the Redis source distribution")


def _basename_check(name: str, what: str = "filename", empty_ok: bool = True):
    def check(value: str) -> None:
        if not value and not empty_ok:
            raise SettingError("%s can't be empty" % name)
        if "/" in value or "\\" in value:
            raise SettingError("%s can't be a path, just a %s" % (name, what))
    return check


_TITLE_VARIABLES = {"title": "", "listen-addr": "*:0", "server-mode": "[cluster]",
                    "config-file": "-", "port": "0", "tls-port": "0", "unixsocket": ""}
def _check_proc_title_template(template: str) -> None:
    """validateProcTitleTemplate (sdstemplate): '{{' is a literal '{', '{name}' a known
    variable, anything else literal; the expansion (with an empty title) must not be
    empty."""
    invalid = SettingError("template format is invalid or contains unknown variables")
    expanded = []
    i = 0
    while i < len(template):
        start = template.find("{", i)
        if start < 0:
            expanded.append(template[i:])
            break
        expanded.append(template[i:start])
        if start + 1 >= len(template):
            raise invalid
        if template[start + 1] == "{":
            expanded.append("{")
            i = start + 2
            continue
        end = template.find("}", start + 1)
        if end < 0 or template[start + 1:end] not in _TITLE_VARIABLES:
            raise invalid
        expanded.append(_TITLE_VARIABLES[template[start + 1:end]])
        i = end + 1
    if not "".join(expanded):
        raise invalid


def _check_shutdown_flags(value: str) -> None:
    words = value.split()
    if "save" in words and "nosave" in words:
        raise SettingError("shutdown options SAVE and NOSAVE can't be used simultaneously")


def _check_cluster_enabled(enabled: bool) -> None:
    if not enabled:
        raise SettingError("this node always runs in cluster mode")


_YES_NO_LOCAL = ("no", "yes", "local")

SETTINGS = {s.name: s for s in [
    # ------------------------------------------------------------ network and clients
    Setting("port", "int", 6379, 0, 65535, doc="client port (CONFIG SET re-listens)"),
    Setting("bind", "bind", "127.0.0.1",
            doc="addresses to listen on, space separated ('-' prefix: optional)"),
    # The source address of the replica link and the outgoing cluster bus links.
    Setting("bind-source-addr", "string", "", empty_is_null=True),
    Setting("tcp-backlog", "int", 511, 0, INT_MAX, mutable=False),
    Setting("tcp-keepalive", "int", 300, 0, INT_MAX),
    Setting("timeout", "int", 0, 0, INT_MAX),
    # Client-side caching (commands/server/tracking.py). size_t: unsigned bounds.
    Setting("tracking-table-max-keys", "int", 1000000, 0, _MAX_LL, unsigned=True),
    Setting("maxclients", "int", 10000, 1, UINT_MAX, unsigned=True),
    # Clients from outside loopback are refused while the default user has no password
    # (commands/server/listener.py: refuse_unprotected).
    Setting("protected-mode", "bool", True),
    Setting("unixsocket", "string", "", mutable=False, empty_is_null=True),
    Setting("unixsocketperm", "octal", 0, 0, 0o777, mutable=False, unsigned=True),
    Setting("socket-mark-id", "int", 0, 0, UINT_MAX, mutable=False, unsigned=True,
            doc="SO_MARK of the client port's listening sockets"),
    Setting("proto-max-bulk-len", "memory", 512 * 1024 ** 2, 1024 ** 2, LL_MAX),
    Setting("client-query-buffer-limit", "memory", 1024 ** 3, 1024 ** 2, LL_MAX,
            unsigned=True),
    Setting("client-output-buffer-limit", "obuf", OBUF_DEFAULTS,
            doc="per client class: hard limit, soft limit, soft seconds"),
    Setting("maxmemory-clients", "percent-memory", 0, -100, LL_MAX, missing=_EVICTION),
    Setting("requirepass", "string", "", empty_is_null=True,
            doc="password clients must AUTH with"),
    Setting("enable-protected-configs", "enum", "no", choices=_YES_NO_LOCAL, mutable=False),
    Setting("enable-debug-command", "enum", "no", choices=_YES_NO_LOCAL, mutable=False),
    # MODULE is there (commands/families/module_cmds.py), but no module can load.
    Setting("enable-module-command", "enum", "no", choices=_YES_NO_LOCAL, mutable=False),
    # ------------------------------------------------------------ process
    Setting("daemonize", "bool", False, mutable=False),
    Setting("supervised", "enum", "no", choices=("upstart", "systemd", "auto", "no"),
            mutable=False),
    Setting("pidfile", "string", "", mutable=False, empty_is_null=True),
    Setting("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning")),
    Setting("logfile", "string", "", mutable=False, doc="log file ('' = stderr only)"),
    # syslog (cluster/logging_levels.py): /dev/log, else UDP to localhost:514.
    Setting("syslog-enabled", "bool", False, mutable=False),
    Setting("syslog-ident", "string", "redis", mutable=False),
    Setting("syslog-facility", "enum", "local0", mutable=False,
            choices=("user", "local0", "local1", "local2", "local3", "local4", "local5",
                     "local6", "local7")),
    Setting("crash-log-enabled", "bool", True),
    Setting("crash-memcheck-enabled", "bool", True,
            no_effect="Redis tests its C heap after a crash; there is none here"),
    Setting("use-exit-on-panic", "bool", False, hidden=True,
            no_effect="a panic here is a Python exception, which always exits"),
    Setting("watchdog-period", "int", 0, 0, INT_MAX, hidden=True,
            doc="ms the event loop may block before every stack is logged"),
    Setting("always-show-logo", "bool", False, mutable=False,
            no_effect="this node prints no ASCII-art logo"),
    Setting("set-proc-title", "bool", True, mutable=False,
            no_effect="Python cannot rename its process without a C extension"),
    Setting("proc-title-template", "string", "{title} {listen-addr} {server-mode}",
            check=_check_proc_title_template,
            no_effect="Python cannot rename its process without a C extension"),
    Setting("ignore-warnings", "string", "",
            no_effect="Redis's start-up warnings are about its C build (ARM64-COW-BUG)"),
    Setting("databases", "int", 16, 1, INT_MAX, mutable=False),
    Setting("hz", "int", 10, 0, INT_MAX, clamp=(1, 500)),
    Setting("dynamic-hz", "bool", True),
    Setting("io-threads", "int", 1, 1, 128, mutable=False,
            no_effect="one thread by design: connections are greenlets"),
    Setting("io-threads-do-reads", "bool", False, mutable=False,
            no_effect="one thread by design: connections are greenlets"),
    # CPU affinity (commands/server/process_control.py), as Redis's setcpuaffinity.
    Setting("server_cpulist", "string", "", mutable=False, empty_is_null=True),
    Setting("bio_cpulist", "string", "", mutable=False, empty_is_null=True,
            missing="the AOF's background fsyncs run in gevent's thread pool, which this "
                    "node does not pin yet (issue 13)"),
    Setting("aof_rewrite_cpulist", "string", "", mutable=False, empty_is_null=True),
    Setting("bgsave_cpulist", "string", "", mutable=False, empty_is_null=True),
    Setting("oom-score-adj", "enum", "no", choices=("no", "yes", "relative", "absolute"),
            no_effect="kernel knob (/proc/self/oom_score_adj): left to the supervisor"),
    Setting("oom-score-adj-values", "oom-values", "0 200 800",
            no_effect="kernel knob (/proc/self/oom_score_adj): left to the supervisor"),
    Setting("disable-thp", "bool", True, mutable=False,
            no_effect="kernel knob (transparent huge pages): left to the host"),
    Setting("jemalloc-bg-thread", "bool", True, no_effect=_ALLOCATOR),
    Setting("activerehashing", "bool", True,
            no_effect="Python's dicts resize themselves in one step"),
    Setting("shutdown-on-sigint", "flags", "default",
            choices=("default", "save", "nosave", "now", "force"),
            check=_check_shutdown_flags),
    Setting("shutdown-on-sigterm", "flags", "default",
            choices=("default", "save", "nosave", "now", "force"),
            check=_check_shutdown_flags),
    Setting("shutdown-timeout", "int", 10, 0, INT_MAX,
            doc="seconds a shutdown waits for lagging replicas (writes are not paused)"),
    # ------------------------------------------------------------ memory and eviction
    # commands/server/memory.py, commands/data/eviction.py; used_memory is the
    # estimate of commands/data/memory_model.py.
    Setting("maxmemory", "memory", 0, 0, ULL_MAX, unsigned=True),
    Setting("maxmemory-policy", "enum", "noeviction",
            choices=("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                     "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"),
            doc="picks LRU or LFU bookkeeping (OBJECT IDLETIME / FREQ)"),
    Setting("maxmemory-samples", "int", 5, 1, INT_MAX),
    Setting("maxmemory-eviction-tenacity", "int", 10, 0, 100),
    Setting("replica-ignore-maxmemory", "bool", True, alias="slave-ignore-maxmemory"),
    Setting("lfu-log-factor", "int", 10, 0, INT_MAX),
    Setting("lfu-decay-time", "int", 1, 0, INT_MAX),
    # Picks UNLINK over DEL for the evictions propagated (keyspace.evict).
    Setting("lazyfree-lazy-eviction", "bool", False),
    # These two only pick UNLINK over DEL where the node propagates a deletion of its own
    # (commands/replication/master.py propagate_deletion, rewrites.py), as Redis 7.0 does.
    Setting("lazyfree-lazy-expire", "bool", False),
    Setting("lazyfree-lazy-server-del", "bool", False),
    Setting("lazyfree-lazy-user-del", "bool", False, no_effect=_LAZYFREE),
    Setting("lazyfree-lazy-user-flush", "bool", False, no_effect=_LAZYFREE),
    Setting("replica-lazy-flush", "bool", False, alias="slave-lazy-flush",
            no_effect=_LAZYFREE),
    Setting("activedefrag", "bool", False, check=_check_activedefrag, no_effect=_DEFRAG),
    Setting("active-defrag-cycle-min", "int", 1, 1, 99, no_effect=_DEFRAG),
    Setting("active-defrag-cycle-max", "int", 25, 1, 99, no_effect=_DEFRAG),
    Setting("active-defrag-threshold-lower", "int", 10, 0, 1000, no_effect=_DEFRAG),
    Setting("active-defrag-threshold-upper", "int", 100, 0, 1000, no_effect=_DEFRAG),
    Setting("active-defrag-ignore-bytes", "memory", 100 * 1024 ** 2, 1, LL_MAX,
            unsigned=True, no_effect=_DEFRAG),
    Setting("active-defrag-max-scan-fields", "int", 1000, 1, LL_MAX, no_effect=_DEFRAG),
    Setting("active-expire-effort", "int", 1, 1, 10),
    # ------------------------------------------------------------ encodings
    # Redis 7.0's built-in defaults: its redis.conf sets 128 hash entries, but a server
    # started without one uses 512.
    Setting("hash-max-listpack-entries", "int", 512, 0, LL_MAX, unsigned=True,
            alias="hash-max-ziplist-entries"),
    Setting("hash-max-listpack-value", "memory", 64, 0, LL_MAX, unsigned=True,
            alias="hash-max-ziplist-value"),
    Setting("set-max-intset-entries", "int", 512, 0, LL_MAX, unsigned=True),
    # HyperLogLog (commands/data/hyperloglog.py). size_t: unsigned bounds.
    Setting("hll-sparse-max-bytes", "memory", 3000, 0, _MAX_LL, unsigned=True),
    Setting("zset-max-listpack-entries", "int", 128, 0, LL_MAX, unsigned=True,
            alias="zset-max-ziplist-entries"),
    Setting("zset-max-listpack-value", "memory", 64, 0, LL_MAX, unsigned=True,
            alias="zset-max-ziplist-value"),
    Setting("list-max-listpack-size", "int", -2, INT_MIN, INT_MAX,
            alias="list-max-ziplist-size"),
    Setting("list-compress-depth", "int", 0, 0, INT_MAX,
            no_effect="a list here is one deque: there are no interior nodes to compress"),
    # Stream nodes (commands/streams/stream_type.py): when XADD starts a new node.
    Setting("stream-node-max-bytes", "memory", 4096, 0, LL_MAX, unsigned=True),
    Setting("stream-node-max-entries", "int", 100, 0, LL_MAX),
    # ------------------------------------------------------------ persistence
    Setting("dir", "dir", ".", protected=True, deny_loading=True,
            doc="working directory (shown absolute)"),
    Setting("save", "save", "3600 1 300 100 60 10000"),
    Setting("dbfilename", "string", "dump.rdb", protected=True,
            check=_basename_check("dbfilename"), doc="RDB file name in dir"),
    Setting("rdbcompression", "bool", True),
    Setting("rdbchecksum", "bool", True, mutable=False),
    Setting("rdb-del-sync-files", "bool", False),
    Setting("rdb-key-save-delay", "int", 0, INT_MIN, INT_MAX, hidden=True,
            doc="microseconds a background save sleeps per key (tests)"),
    Setting("key-load-delay", "int", 0, INT_MIN, INT_MAX, hidden=True,
            doc="microseconds loading waits per key (tests)"),
    Setting("loading-process-events-interval-bytes", "int", 2 * 1024 ** 2, 1024, INT_MAX,
            hidden=True, doc="bytes an RDB load reads between two yields to clients"),
    Setting("stop-writes-on-bgsave-error", "bool", True),
    Setting("rdb-save-incremental-fsync", "bool", True),
    Setting("sanitize-dump-payload", "enum", "no", choices=("no", "yes", "clients"),
            no_effect="every RESTORE payload and RDB is decoded in full and checked"),
    Setting("appendonly", "bool", False, deny_loading=True),
    Setting("appendfilename", "string", "appendonly.aof", mutable=False,
            check=_basename_check("appendfilename", empty_ok=False)),
    Setting("appenddirname", "string", "appendonlydir", mutable=False,
            check=_basename_check("appenddirname", "dirname", empty_ok=False)),
    Setting("appendfsync", "enum", "everysec", choices=("everysec", "always", "no")),
    Setting("no-appendfsync-on-rewrite", "bool", False),
    Setting("auto-aof-rewrite-percentage", "int", 100, 0, INT_MAX),
    Setting("auto-aof-rewrite-min-size", "memory", 64 * 1024 ** 2, 0, LL_MAX),
    Setting("aof-load-truncated", "bool", True),
    Setting("aof-use-rdb-preamble", "bool", True),
    Setting("aof-rewrite-incremental-fsync", "bool", True),
    Setting("aof-timestamp-enabled", "bool", False),
    Setting("aof-disable-auto-gc", "bool", False),
    # ------------------------------------------------------------ replication
    Setting("replicaof", "replicaof", "", alias="slaveof", mutable=False),
    Setting("masterauth", "string", "", empty_is_null=True,
            doc="password a replica sends its master"),
    Setting("masteruser", "string", "", empty_is_null=True,
            doc="user a replica authenticates as"),
    Setting("replica-serve-stale-data", "bool", True, alias="slave-serve-stale-data"),
    Setting("replica-read-only", "bool", True, alias="slave-read-only"),
    Setting("replica-ignore-disk-write-errors", "bool", False),
    # Shown in INFO replication (slave_priority, replica_announced) for Sentinel.
    Setting("replica-priority", "int", 100, 0, INT_MAX, alias="slave-priority"),
    Setting("replica-announced", "bool", True),
    Setting("replica-announce-ip", "string", "", alias="slave-announce-ip",
            empty_is_null=True),
    Setting("replica-announce-port", "int", 0, 0, 65535, alias="slave-announce-port"),
    Setting("repl-diskless-sync", "bool", True),
    Setting("repl-diskless-sync-delay", "int", 5, 0, INT_MAX),
    Setting("repl-diskless-sync-max-replicas", "int", 0, 0, INT_MAX),
    Setting("repl-diskless-load", "enum", "disabled", deny_loading=True,
            choices=("disabled", "on-empty-db", "swapdb")),
    Setting("repl-timeout", "int", 60, 1, INT_MAX),
    Setting("repl-ping-replica-period", "int", 10, 1, INT_MAX,
            alias="repl-ping-slave-period"),
    Setting("repl-backlog-size", "memory", 1024 ** 2, 1, LL_MAX),
    Setting("repl-backlog-ttl", "int", 3600, 0, LL_MAX),
    Setting("repl-disable-tcp-nodelay", "bool", False),
    Setting("min-replicas-to-write", "int", 0, 0, INT_MAX, alias="min-slaves-to-write"),
    Setting("min-replicas-max-lag", "int", 10, 0, INT_MAX, alias="min-slaves-max-lag"),
    Setting("propagation-error-behavior", "enum", "ignore",
            choices=("ignore", "panic", "panic-on-replicas")),
    # ------------------------------------------------------------ cluster
    Setting("cluster-enabled", "bool", True, mutable=False, check=_check_cluster_enabled),
    Setting("cluster-config-file", "string", None, mutable=False,
            doc="nodes.conf file in dir (default nodes-<port>.conf)"),
    Setting("cluster-port", "int", 0, 0, 65535, mutable=False),
    Setting("cluster-node-timeout", "int", 15000, 0, LL_MAX,
            doc="ms without a pong before a node is PFAIL"),
    Setting("cluster-announce-ip", "string", "", empty_is_null=True),
    # Behind NAT or in a container: what peers and clients are told (cluster/config.py).
    Setting("cluster-announce-port", "int", 0, 0, 65535, doc="0: port"),
    Setting("cluster-announce-bus-port", "int", 0, 0, 65535, doc="0: the bus port"),
    # With tls-cluster: the TLS port peers and clients are told (node.py).
    Setting("cluster-announce-tls-port", "int", 0, 0, 65535),
    # Checked as Redis's isValidAnnouncedHostname.
    Setting("cluster-announce-hostname", "hostname", "", empty_is_null=True),
    Setting("cluster-preferred-endpoint-type", "enum", "ip",
            choices=("ip", "hostname", "unknown-endpoint")),
    # Ours: the HMAC key of the bus (cluster/bus_auth.py); "" = none. CONFIG GET shows
    # it, as Redis 7.0 shows requirepass and masterauth.
    Setting("cluster-bus-secret", "string", "", empty_is_null=True,
            doc="sign and check every bus frame"),
    Setting("cluster-require-full-coverage", "bool", True),
    Setting("cluster-allow-reads-when-down", "bool", False),
    Setting("cluster-allow-pubsubshard-when-down", "bool", True),
    Setting("cluster-replica-validity-factor", "int", 10, 0, INT_MAX,
            alias="cluster-slave-validity-factor"),
    Setting("cluster-migration-barrier", "int", 1, 0, INT_MAX),
    Setting("cluster-allow-replica-migration", "bool", True),
    Setting("cluster-replica-no-failover", "bool", False, alias="cluster-slave-no-failover"),
    # 0: Redis's "no limit" is our safety cap of 16 MB per link (cluster/bus.py).
    Setting("cluster-link-sendbuf-limit", "memory", 0, 0, ULL_MAX, unsigned=True),
    # Keyspace notifications (commands/data/notifications.py): the classes as flags.
    Setting("notify-keyspace-events", "keyspace-events", 0,
            doc="classes of keyspace events published (letters of Ag$lshzxeKEtmdn)"),
    # ------------------------------------------------------------ features not built yet
    # ACL (commands/security): users from the aclfile, the log's length, the channels
    # of new users.
    Setting("aclfile", "string", "", mutable=False),
    Setting("acllog-max-len", "int", 128, 0, LL_MAX),
    Setting("acl-pubsub-default", "enum", "resetchannels",
            choices=("allchannels", "resetchannels")),
    Setting("slowlog-log-slower-than", "int", 10000, -1, LL_MAX),
    Setting("slowlog-max-len", "int", 128, 0, LL_MAX),
    Setting("latency-monitor-threshold", "int", 0, 0, LL_MAX),
    Setting("latency-tracking", "bool", True),
    Setting("latency-tracking-info-percentiles", "percentiles", "50 99 99.9"),
    Setting("busy-reply-threshold", "int", 5000, 0, LL_MAX, alias="lua-time-limit"),
    Setting("tls-port", "int", 0, 0, 65535),
    Setting("tls-session-cache-size", "int", 20 * 1024, 0, INT_MAX),
    Setting("tls-session-cache-timeout", "int", 300, 0, INT_MAX),
    Setting("tls-cluster", "bool", False),
    Setting("tls-replication", "bool", False),
    Setting("tls-auth-clients", "enum", "yes", choices=("no", "yes", "optional")),
    Setting("tls-prefer-server-ciphers", "bool", False),
    Setting("tls-session-caching", "bool", True),
    # The files are VOLATILE in Redis: CONFIG SET of the same path re-reads them.
    *(Setting(name, "string", "", empty_is_null=True, volatile=True) for name in (
        "tls-cert-file", "tls-key-file", "tls-client-cert-file", "tls-client-key-file",
        "tls-dh-params-file", "tls-ca-cert-file", "tls-ca-cert-dir")),
    *(Setting(name, "string", "", empty_is_null=True) for name in (
        "tls-key-file-pass", "tls-client-key-file-pass", "tls-protocols", "tls-ciphers",
        "tls-ciphersuites")),
]}

# alias -> canonical name (Redis registers both; CONFIG GET * lists both).
ALIASES = {s.alias: s.name for s in SETTINGS.values() if s.alias}

# Directives Redis 7.0 still accepts in a config file and ignores (loadServerConfig's
# deprecated_configs), with their argument count.
DEPRECATED = {"list-max-ziplist-entries": 1, "list-max-ziplist-value": 1,
              "lua-replicate-commands": 1}


def lookup(name: str):
    """(registered name, Setting) for a name or an alias, any case; (None, None)."""
    lowered = name.lower()
    setting = SETTINGS.get(lowered)
    if setting is None:
        canonical = ALIASES.get(lowered)
        if canonical is None:
            return None, None
        setting = SETTINGS[canonical]
    return lowered, setting


def readme_table() -> str:
    """The README's rows: every parameter without its effect here, and why."""
    rows = ["| parameter | why it has no effect here |", "|---|---|"]
    for name in sorted(SETTINGS):
        setting = SETTINGS[name]
        names = "`%s`" % name + (" (`%s`)" % setting.alias if setting.alias else "")
        if setting.missing:
            rows.append("| %s | not built yet: %s; only the default `%s` is accepted |"
                        % (names, setting.missing.replace("this node has no ", "no "),
                           setting.format(setting.default) or '""'))
        elif setting.no_effect:
            rows.append("| %s | %s |" % (names, setting.no_effect))
    return "\n".join(rows)


if __name__ == "__main__":
    print(readme_table())
