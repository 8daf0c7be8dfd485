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

from commands.server.client_pause import ClientPause
from commands.server.table import all_commands
from commands.server.tracking import Tracking

METRIC_SAMPLES = 16               # Redis's STATS_METRIC_SAMPLES: instantaneous_* averages


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
        self.client_pause = ClientPause(self)
        self.tracking = Tracking(self)  # client-side caching (CLIENT TRACKING)
        # INFO stats
        self.total_connections = 0
        self.total_commands = 0
        self.rejected_connections = 0
        self.net_input_bytes = 0
        self.net_output_bytes = 0
        self.error_replies = 0
        self.errorstats = {}          # error code -> count
        self.unexpected_errors = 0
        self.active_expire_enabled = True   # DEBUG SET-ACTIVE-EXPIRE
        self.memory_peak = 0          # INFO used_memory_peak
        self._ops_samples = collections.deque(maxlen=METRIC_SAMPLES)
        self._last_sample = (time.monotonic(), 0)

    def _refresh_degraded(self) -> None:
        self.degraded = bool(self._loading is not None or self._misconf
                             or self._aof_misconf is not None or self._noreplicas
                             or self._masterdown or self._paused
                             or self._yielding_script is not None)

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
    def paused(self) -> bool:
        return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        self._paused = value
        self._refresh_degraded()

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
                c.calls = c.rejected_calls = c.failed_calls = 0
                c.usec = 0.0
        self.total_connections = self.total_commands = self.rejected_connections = 0
        self.net_input_bytes = self.net_output_bytes = 0
        self.error_replies = 0
        self.errorstats.clear()
        ks = self.keyspace
        ks.expired_keys = ks.keyspace_hits = ks.keyspace_misses = 0

    def sample_metrics(self) -> None:
        """Called by the server cron every 100 ms: one ops/sec sample (trackInstantaneousMetric)."""
        now = time.monotonic()
        then, count = self._last_sample
        if now > then:
            self._ops_samples.append((self.total_commands - count) / (now - then))
        self._last_sample = (now, self.total_commands)

    def instantaneous_ops(self) -> int:
        samples = self._ops_samples
        return int(sum(samples) / len(samples)) if samples else 0

    def uptime(self) -> float:
        return time.monotonic() - self.start_monotonic
