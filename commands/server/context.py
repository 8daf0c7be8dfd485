"""What every command can reach: the node-wide state on the client side.

One Server per process. It holds the settings, the keyspace, the connected clients, the
statistics INFO reports, and the handles node.py (the composition root) installs: the
two seams to the cluster bus -- `cluster`, the read-only view (cluster/view.py), and
`cluster_ops`, which runs state-machine operations (cluster/operations.py) -- the
`router` (commands/server/routing.py) and the replication layer's `replication` and
`propagator`.
"""
import collections
import os
import time

from commands.data.keyspace import ExpireCycleStats
from commands.server.client_pause import ClientPause
from commands.metrics.latency_histogram import QUICK_USEC, CommandLatency, new_durations
from commands.metrics.latency_monitor import LatencyMonitor
from commands.metrics.slowlog import SlowLog
from commands.server.memory import Maxmemory, MemoryAccount
from commands.server.table import all_commands
from commands.server.tracking import Tracking

METRIC_SAMPLES = 16               # Redis's STATS_METRIC_SAMPLES: instantaneous_* averages
# The instantaneous_* metrics, each sampled every 100 ms from a running total.
INSTANT_METRICS = ("ops", "net_input", "net_output", "net_repl_input", "net_repl_output")


class Server:
    def __init__(self, settings, keyspace):
        self.settings = settings
        self.keyspace = keyspace
        self.clients = {}             # client id -> Client
        self.next_client_id = 1
        self.monitors = set()         # clients in MONITOR mode
        self.blocked_clients = 0      # clients waiting in BLPOP & co (INFO clients)
        self.start_time = time.time()
        self.start_monotonic = time.monotonic()
        self.run_id = os.urandom(20).hex()
        self.replid = os.urandom(20).hex()   # INFO master_replid
        self.last_save = int(time.time())
        self.shutdown_requested = None   # set by node.py: fn() that stops the node
        self.shutdown_waiting = False    # a shutdown waits for replicas (shutdown-timeout)
        self.shutdown_aborted = False    # SHUTDOWN ABORT came meanwhile
        self.cluster = None           # read-only cluster view (cluster/view.py)
        self.cluster_ops = None       # runs cluster operations (cluster/operations.py)
        self.deliver_publish = None   # fn(channel, message, sharded): PUBLISH from the bus
        self.pubsub = None            # the Pub/Sub registry (commands/pubsub/channels.py), on first use
        self.router = None            # fn(client, cmd, argv) -> error reply or None
        # spelling -> Command of the commands the serve loop may run on its fast path
        # (executor.py: build_fast_table; node.py fills it once the commands are loaded)
        self.fast_commands = {}
        self.acl = None               # the users (commands/security/acl_users.py: Acl)
        self.replication = None       # commands/replication/master.py: ids, offsets, replicas
        self.propagator = None        # commands/replication/propagation.py: what call() propagates
        self.tls = None               # cluster/tls.TlsContexts while TLS is configured (node.py)
        self.supervised = ""          # "systemd" / "upstart" when supervised (node.py)
        self.hz = settings.hz         # the cron's rate now (dynamic-hz may raise it)
        self.read_only_replica = False  # keyless writes get -READONLY (a replica)
        self.close_hooks = []         # fn(client) run when a client disconnects
        self.children = None          # commands/persistence/background.Children (node.py)
        self.persistence = None       # commands/persistence/rdb_save.RdbPersistence
        self.aof = None               # commands/persistence/aof (when built)
        self.scripting = None         # commands/scripting/eval_cmds.ScriptCache, on first use
        self.functions = None         # commands/scripting/function_libraries (node.py builds it)
        # The states that refuse commands. They are properties that keep `degraded`
        # current: the executor's hot path reads that one plain attribute instead.
        self.degraded = False
        self._loading = None          # LoadingProgress while loading: commands get -LOADING
        self._misconf = False         # a failed BGSAVE stops writes (-MISCONF)
        self._aof_misconf = None      # the -MISCONF reply while the AOF cannot be written
        self._noreplicas = False      # fewer good replicas than min-replicas-to-write
        self._masterdown = False      # a replica's master link is down (serve-stale-data no)
        self._paused = False          # CLIENT PAUSE in force (client_pause holds commands)
        self._yielding_script = None  # a long script letting the loop run (see yielding_script)
        self._maxmemory_on = False    # maxmemory set: every command checks it (memory.py)
        self.client_pause = ClientPause(self)
        self.tracking = Tracking(self)  # client-side caching (CLIENT TRACKING)
        # INFO stats
        self.total_connections = 0
        self.total_commands = 0
        self.rejected_connections = 0
        self.net_input_bytes = 0      # every byte read, our master's stream included
        self.net_output_bytes = 0     # every byte written, to replicas included
        self.net_repl_input_bytes = 0   # of those, our master's stream and RDB
        self.net_repl_output_bytes = 0  # of those, the stream and RDBs to our replicas
        self.total_reads = 0          # reads from client sockets (total_reads_processed)
        self.total_writes = 0         # replies written (total_writes_processed)
        # Set by eviction (maxmemory): ms spent over maxmemory, and since when (monotonic).
        self.eviction_exceeded_ms = 0
        self.eviction_exceeded_since = None
        self.dump_payload_sanitizations = 0   # RESTOREs deeply validated as configured
        self.error_replies = 0
        self.errorstats = {}          # error code -> count
        self.unexpected_errors = 0
        self.active_expire_enabled = True   # DEBUG SET-ACTIVE-EXPIRE
        # metric -> its last 16 per-second rates; (time, totals) of the last sample
        self._samples = {name: collections.deque([0] * METRIC_SAMPLES, maxlen=METRIC_SAMPLES)
                         for name in INSTANT_METRICS}
        self._last_sample = (time.monotonic(), self._metric_totals())
        # Observability: the slow log, the latency monitor, per-command histograms.
        self.slowlog = SlowLog(settings)
        self.latency = LatencyMonitor(settings)
        self.latency_tracking = True
        self.slow_call_ns = QUICK_USEC * 1000  # calls this long take executor's slow path
        self.refresh_slow_call_ns()
        if not settings.latency_tracking:
            self.set_latency_tracking(False)
        settings.listeners.append(self._on_observability_setting)
        self.memory = MemoryAccount(self)       # used_memory and its parts (memory.py)
        self.maxmemory = Maxmemory(self)        # eviction and -OOM (memory.py)

    def _refresh_degraded(self) -> None:
        self.degraded = bool(self._loading is not None or self._misconf
                             or self._aof_misconf is not None or self._noreplicas
                             or self._masterdown or self._paused
                             or self._yielding_script is not None or self._maxmemory_on)

    @property
    def loading(self):
        return self._loading

    @loading.setter
    def loading(self, progress) -> None:
        self._loading = progress
        self._refresh_degraded()

    @property
    def misconf(self) -> bool:
        return self._misconf

    @misconf.setter
    def misconf(self, value: bool) -> None:
        self._misconf = value
        self._refresh_degraded()

    @property
    def aof_misconf(self):
        return self._aof_misconf

    @aof_misconf.setter
    def aof_misconf(self, reply) -> None:
        self._aof_misconf = reply
        self._refresh_degraded()

    @property
    def noreplicas(self) -> bool:
        return self._noreplicas

    @noreplicas.setter
    def noreplicas(self, value: bool) -> None:
        if value != self._noreplicas:
            self._noreplicas = value
            self._refresh_degraded()

    @property
    def masterdown(self) -> bool:
        return self._masterdown

    @masterdown.setter
    def masterdown(self, value: bool) -> None:
        if value != self._masterdown:
            self._masterdown = value
            self._refresh_degraded()

    @property
    def yielding_script(self):
        """A script that gave the event loop a turn (commands/scripting/lua_engine.py):
        other clients wait for it, or get -BUSY once it is past busy-reply-threshold."""
        return self._yielding_script

    @yielding_script.setter
    def yielding_script(self, run) -> None:
        self._yielding_script = run
        self._refresh_degraded()

    @property
    def maxmemory_on(self) -> bool:
        """A maxmemory limit is set (node.py follows the setting)."""
        return self._maxmemory_on

    @maxmemory_on.setter
    def maxmemory_on(self, value: bool) -> None:
        self._maxmemory_on = value
        self._refresh_degraded()

    @property
    def paused(self) -> bool:
        return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        self._paused = value
        self._refresh_degraded()

    # ------------------------------------------------------------ observability

    def refresh_slow_call_ns(self) -> None:
        """The shortest call the executor must look at closely: the slow log's
        threshold, the latency monitor's (ms), or the end of the histogram's fast
        counters, whichever comes first."""
        settings = self.settings
        limit = QUICK_USEC
        if settings.slowlog_log_slower_than >= 0:
            limit = min(limit, settings.slowlog_log_slower_than)
        if settings.latency_monitor_threshold > 0:
            limit = min(limit, settings.latency_monitor_threshold * 1000)
        self.slow_call_ns = limit * 1000

    @staticmethod
    def command_latency(cmd) -> CommandLatency:
        """cmd's histogram beyond its durations list, made when first needed."""
        if cmd.latency is None:
            cmd.latency = CommandLatency()
        return cmd.latency

    def set_latency_tracking(self, on: bool) -> None:
        """latency-tracking: off, calls are still counted but kept out of the
        histograms, which stay (hidden from INFO); on again, they go on from where they
        were, as in Redis."""
        self.latency_tracking = on
        for top in all_commands():
            for cmd in (top, *top.subcommands.values()):
                if on:
                    if cmd.latency is not None:
                        cmd.latency.resume(cmd.durations)
                else:
                    self.command_latency(cmd).pause(cmd.durations)

    def _on_observability_setting(self, name, value) -> None:
        if name in ("slowlog-log-slower-than", "latency-monitor-threshold"):
            self.refresh_slow_call_ns()
        if name in ("slowlog-log-slower-than", "slowlog-max-len"):
            self.slowlog.trim()
        elif name == "latency-tracking" and value != self.latency_tracking:
            self.set_latency_tracking(value)

    def new_client_id(self) -> int:
        cid = self.next_client_id
        self.next_client_id += 1
        return cid

    def count_error(self, code: str) -> None:
        self.error_replies += 1
        self.errorstats[code] = self.errorstats.get(code, 0) + 1

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT."""
        for cmd in all_commands():
            for c in [cmd, *cmd.subcommands.values()]:
                c.rejected_calls = c.failed_calls = c.slow_calls = c.extra_calls = 0
                c.nsec = 0
                c.durations = new_durations()
                c.latency = None
                if not self.latency_tracking:
                    self.command_latency(c).pause(c.durations)
        self.total_connections = self.total_commands = self.rejected_connections = 0
        self.net_input_bytes = self.net_output_bytes = 0
        self.net_repl_input_bytes = self.net_repl_output_bytes = 0
        self.total_reads = self.total_writes = 0
        self.eviction_exceeded_ms = 0
        self.dump_payload_sanitizations = 0
        children = self.children
        if children is not None:
            children.last_fork_usec = children.total_forks = 0
        self.keyspace.expire_stats = ExpireCycleStats()
        self.error_replies = 0
        self.errorstats.clear()
        ks = self.keyspace
        ks.expired_keys = ks.keyspace_hits = ks.keyspace_misses = ks.evicted_keys = 0

    def _metric_totals(self) -> tuple:
        return (self.total_commands, self.net_input_bytes, self.net_output_bytes,
                self.net_repl_input_bytes, self.net_repl_output_bytes)

    def sample_metrics(self) -> None:
        """Called by the server cron every 100 ms: one per-second rate of each metric
        (Redis's trackInstantaneousMetric in serverCron)."""
        now = time.monotonic()
        then, counts = self._last_sample
        totals = self._metric_totals()
        elapsed_ms = int((now - then) * 1000)
        for name, total, count in zip(INSTANT_METRICS, totals, counts):
            # A total that went down was reset (CONFIG RESETSTAT): no rate this time.
            rate = (total - count) * 1000 // elapsed_ms if elapsed_ms > 0 else 0
            self._samples[name].append(max(rate, 0))
        self._last_sample = (now, totals)

    def instantaneous(self, name: str) -> int:
        """The mean of the last 16 samples of a metric (getInstantaneousMetric)."""
        return sum(self._samples[name]) // METRIC_SAMPLES

    def instantaneous_ops(self) -> int:
        return self.instantaneous("ops")

    def uptime(self) -> float:
        return time.monotonic() - self.start_monotonic
