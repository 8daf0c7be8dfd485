"""A Redis Cluster node: `python node.py -p 7001` serves clients on 7001.

The composition root: parse the settings (a redis.conf-style file first, then command-line
flags, which win), build the keyspace, the client side and the cluster seam, run until
SIGTERM/SIGINT, then stop accepting, close the clients and exit 0.
"""
import fcntl
import os
import random
import signal
import sys
import time

import gevent
import gevent.event
from loguru import logger

from cluster import nodesconf
from cluster.bus import SENDBUF_LIMIT, Clock, ClusterBus
from cluster.config import ClusterConfig, DataHooks
from cluster.errors import ConfigFileError
from cluster.logging_levels import set_role_source, setup_logging
from cluster.operations import ClusterOperations
from cluster.state import CRON_PERIOD_MS, ClusterState
from cluster.tls import CONTEXT_SETTINGS, TlsConfigError, configure as configure_tls, tls_needed
from cluster.view import ClusterView
from commands import load_all_commands
from commands.data.eviction import is_lfu_policy
from commands.data.keyspace import Keyspace
from commands.data.notifications import effective_flags
from commands.persistence.aof import AppendOnlyFile
from commands.persistence.aof_loading import load_aof
from commands.persistence.background import CHILD_AOF, CHILD_RDB, Children
from commands.persistence.loading import LoadFailed, load_data_from_disk
from commands.persistence.rdb_save import RdbPersistence
from commands.rdb import quicklist
from commands.replication.master import Replication
from commands.replication.replica_link import replication_changed
from commands.scripting.function_libraries import FunctionLibraries
from commands.server.blocking import handle_clients_blocked_on_keys, redirect_blocked_clients
from commands.families.server_cmds import wait_for_replicas
from commands.security.acl_users import Acl, user_declaration_error
from commands.server.context import Server
from commands.server.executor import build_fast_table
from commands.server.listener import ClientListener, ListenFailed, close_idle_clients
from commands.server.command_line import ConfigError, UsageError, parse_arguments
from commands.server.process_control import (DEFAULT_PIDFILE, arm_watchdog, daemonize,
                                             log_start_up, notify_supervisor, parse_cpulist,
                                             remove_pidfile, set_cpu_affinity,
                                             set_crash_log, supervision_mode,
                                             write_pidfile)
from commands.server.resp import ReplyError
from commands.server.routing import Router
from commands.server.settings import SettingError, Settings

class ClusterConfigLock:
    """An exclusive flock held for the life of the process, like Redis's, so two nodes
    never share a nodes.conf. It is taken on a sibling `<file>.lock`: nodes.conf itself
    is replaced by rename on every save, which would drop a lock held on the old file.
    The lock file is removed when the node exits, whether it started or not; a node
    that takes the lock checks that its file is still the one at the path (another
    node may have removed it between our open and our flock) and tries again if not."""

    def __init__(self, config_path: str):
        self.path = config_path + ".lock"
        self.handle = None

    def acquire(self) -> None:
        for _ in range(10):
            try:
                handle = open(self.path, "a+")
            except OSError as exc:
                raise UsageError("Can't open %s in order to acquire a lock: %s"
                                 % (self.path, exc.strerror))
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise UsageError("Sorry, the cluster configuration file %s is already "
                                 "used by a different Redis Cluster node. Please make "
                                 "sure that different nodes use different cluster "
                                 "configuration files." % self.path[:-len(".lock")])
            try:
                same = os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.handle = handle
                return
            handle.close()
        raise UsageError("Can't acquire the lock %s: it keeps being replaced" % self.path)

    def release(self) -> None:
        """Remove the lock file, then let the lock go (in that order: a node starting
        meanwhile finds the file gone and makes its own)."""
        if self.handle is None:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        self.handle.close()
        self.handle = None


class Node:
    """Everything one process runs, wired together: the data (keyspace), the client side
    (listener, commands, routing) and the cluster bus (state machine + gevent adapter)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.keyspace = Keyspace()
        self.server = Server(settings, self.keyspace)
        self.server.shutdown_requested = self.request_stop
        load_all_commands()
        self.server.fast_commands = build_fast_table()
        self.server.acl = self._build_acl()
        # Persistence: one background child at a time (BGSAVE, AOF rewrite, full sync).
        self.server.children = Children()
        self.server.children.fds_to_close = self._listening_fds
        self.server.children.latency = self.server.latency
        for kind, name in ((CHILD_RDB, "bgsave_cpulist"), (CHILD_AOF, "aof_rewrite_cpulist")):
            cpus = parse_cpulist(settings.values[name]) if settings.values[name] else None
            if cpus:
                self.server.children.cpu_affinity[kind] = cpus
        self.server.persistence = RdbPersistence(self.server)
        # Before any load: an RDB or AOF may hold function libraries.
        self.server.functions = FunctionLibraries(self.server)
        self.replication = self._build_replication()
        self.aof = self._build_aof()
        self.server.tls = self._configure_tls_at_startup()
        self.listener = ClientListener(self.server, settings.bind, settings.port,
                                       settings.tls_port)
        self.cluster_state, self.bus = self._build_cluster()
        # The two seams between commands/ and cluster/: a read-only view, and the runner
        # of state-machine operations (which answers a ClusterError with an error reply).
        view = ClusterView(self.cluster_state, self.bus)
        self.server.cluster = view
        self.server.cluster_ops = ClusterOperations(self.cluster_state, self.bus, ReplyError)
        self.server.router = Router(view, self.keyspace, settings)
        settings.listeners.append(self._on_setting_changed)
        quicklist.set_fill(settings.list_max_listpack_size)
        self.keyspace.notify_flags = effective_flags(settings.notify_keyspace_events)
        self._apply_memory_settings()
        self.stop_requested = gevent.event.Event()
        self._stop_saved = False        # the final save was made (SHUTDOWN did it)
        self._signal_flags = "default"  # shutdown-on-sigterm/-sigint of the last signal
        self.stopped = gevent.event.Event()
        self._cron = None
        self._watchdog_armed = False
        # The log lines' role letter from now on: M, or S while we replicate a master.
        set_role_source(lambda: "M" if self.replication.is_master else "S")

    def _build_acl(self) -> Acl:
        """The users: requirepass is the default user's password, then the config file's
        `user` lines or the aclfile -- not both, as Redis refuses (ACLLoadUsersAtStartup)."""
        settings = self.settings
        acl = Acl(self.server)
        if settings.requirepass:
            acl.update_default_password(settings.requirepass)
        declared = []
        for number, words in settings.config_users:
            line = [b"user"] + [w.encode("utf-8", "surrogateescape") for w in words]
            error = user_declaration_error(line)
            if error is not None:
                raise ConfigError(error, number, " ".join(["user", *words]))
            declared.append(line[1:])
        if settings.aclfile and declared:
            raise UsageError(
                "Configuring Redis with users defined in redis.conf and at the same setting "
                "an ACL file path is invalid. This setup is very likely to lead to "
                "configuration errors and security holes, please define either an ACL file "
                "or declare users directly in your redis.conf, but not both.")
        try:
            acl.load_configured(declared)
        except ValueError as exc:
            raise UsageError("%s. Critical error while loading ACLs. Exiting." % exc)
        if settings.aclfile:
            errors = acl.load_file(settings.aclfile)
            if errors is not None:
                raise UsageError("Aborting Redis startup because of ACL errors: %s" % errors)
        # CONFIG REWRITE writes the users as `user` lines, unless they live in the aclfile.
        settings.user_lines = lambda: [] if settings.aclfile else acl.config_lines()
        return acl

    def _listening_fds(self) -> list:
        """The client and bus listening sockets (a forked child closes its copies)."""
        return self.listener.listening_fds() + self.bus.listening_fds()

    def _build_replication(self) -> Replication:
        """The replication layer, and what it hooks into: the executor hands every write
        to its propagator, the keyspace tells it of expired and evicted keys (replicas
        get a DEL), and a closing client may be one of its replicas."""
        replication = Replication(self.server)
        self.server.replication = replication
        self.server.propagator = replication.propagator
        self.keyspace.propagate_deletion = replication.propagate_deletion
        # While CLIENT PAUSE (or a manual failover) holds writes, expired keys stay.
        self.keyspace.expiry_held = self.server.client_pause.dataset_frozen
        self.server.close_hooks.append(replication.on_client_close)
        return replication

    def _build_aof(self) -> AppendOnlyFile:
        """The append-only file: fed by the propagator while it is on (or waiting for its
        first rewrite), written (and fsynced) by the connections before they reply,
        loaded at start-up (aof_loading.load_aof), and its part of the cron."""
        aof = AppendOnlyFile(self.server, self.server.children)
        propagator = self.server.propagator

        def on_activity(feeding: bool) -> None:
            propagator.set_aof_sink(aof.feed if feeding else None)
        aof.on_activity = on_activity
        self.server.aof = aof
        return aof

    def _configure_tls_at_startup(self):
        """The TLS contexts, when tls-port, tls-replication or tls-cluster asks for them
        (Redis's initServer exits the same way when they cannot be made)."""
        if not tls_needed(self.settings.values):
            return None
        try:
            return configure_tls(self.settings.values)
        except TlsConfigError as exc:
            logger.warning("{}", exc)
            raise UsageError("Failed to configure TLS. Check logs for more info. (%s)" % exc)

    def _reconfigure_tls(self) -> None:
        """CONFIG SET of a tls-* setting (Redis's applyTlsCfg): new contexts for new
        connections, all or nothing; connections already open keep theirs."""
        if not tls_needed(self.settings.values):
            return
        try:
            self.server.tls = configure_tls(self.settings.values)
        except TlsConfigError as exc:
            logger.warning("{}", exc)
            raise SettingError("Unable to update TLS configuration. Check server logs.")
        self.bus.tls = self.server.tls if self.settings.tls_cluster else None

    def _build_cluster(self):
        settings = self.settings
        path = settings.cluster_config_path()
        keyspace = self.keyspace
        hooks = DataHooks(count_keys_in_slot=keyspace.count_in_slot,
                          delete_keys_in_slot=keyspace.delete_slot,
                          repl_offset=lambda: self.replication.offset,
                          db_size=lambda: keyspace.size,
                          master_last_interaction_ms=self._master_last_interaction_ms)
        # With tls-cluster the node's port in the cluster is its TLS port, and the bus
        # derives from it (Redis's deriveAnnouncedPorts).
        port = settings.tls_port if settings.tls_cluster and settings.tls_port else settings.port
        config = ClusterConfig(port=port, cport=settings.cluster_port,
                               replica_no_failover=settings.cluster_replica_no_failover)
        for name, field in self._CLUSTER_CONFIG_FIELDS.items():
            setattr(config, field, settings.values[name])
        config.announce_port = self._announced_client_port()
        config.pport = self._announced_pport()
        clock = Clock()
        try:
            # Both the parse and applying it to a new state may find the file corrupt.
            loaded = nodesconf.load(path)
            state = ClusterState(config, random.Random(), clock.now_ms(), hooks=hooks,
                                 loaded=loaded)
        except ConfigFileError as exc:
            raise UsageError(str(exc))
        bus = ClusterBus(state, settings.bind, config.cport, path, clock=clock,
                         on_publish=self._deliver_publish,
                         on_replication_changed=self._on_replication_changed,
                         secret=self._bus_secret())
        bus.sendbuf_limit = settings.cluster_link_sendbuf_limit or SENDBUF_LIMIT
        bus.tls = self.server.tls if settings.tls_cluster else None
        if settings.bind_source_addr:       # outgoing bus links leave from this address
            bus.source_address = (settings.bind_source_addr, 0)
        return state, bus

    def _announced_client_port(self) -> int:
        """cluster-announce-port, or with tls-cluster cluster-announce-tls-port when set
        (deriveAnnouncedPorts); 0: the port the node listens on."""
        settings = self.settings
        if settings.tls_cluster and settings.cluster_announce_tls_port:
            return settings.cluster_announce_tls_port
        return settings.cluster_announce_port

    def _announced_pport(self) -> int:
        """With tls-cluster, the plaintext client port announced beside the TLS one
        (deriveAnnouncedPorts' pport: the port, or cluster-announce-port when
        cluster-announce-tls-port is set); 0 otherwise."""
        settings = self.settings
        if not (settings.tls_cluster and settings.tls_port):
            return 0
        if settings.cluster_announce_tls_port:
            return settings.cluster_announce_port
        return settings.port

    def _bus_secret(self):
        return self.settings.cluster_bus_secret.encode() or None

    def _on_replication_changed(self, effect) -> None:
        """The cluster made us a replica of a master, or a master (commands/replica_link)."""
        replication_changed(self.replication, effect, self.settings.port,
                            self._on_master_link_status)

    def _on_master_link_status(self, up: bool) -> None:
        """The replica link went up or down: the state measures our data's age from it."""
        self.replication.refresh_masterdown()
        self.bus.execute(self.cluster_state.set_master_link_status(up, self.bus.now_ms()))

    def _master_last_interaction_ms(self):
        """When our master last sent us something, on the state's clock (data age)."""
        link = self.replication.link
        if link is None or not link.link_up:
            return None
        return self.bus.now_ms() - int(link.last_interaction_ms_ago())

    def _deliver_publish(self, channel: bytes, message: bytes, sharded: bool) -> None:
        deliver = self.server.deliver_publish
        if deliver is not None:
            deliver(channel, message, sharded)

    # CONFIG SET of these directives reaches the cluster state machine's config.
    _CLUSTER_CONFIG_FIELDS = {
        "cluster-node-timeout": "node_timeout",
        "cluster-require-full-coverage": "require_full_coverage",
        "cluster-allow-replica-migration": "allow_replica_migration",
        "cluster-announce-ip": "announce_ip",
        "cluster-announce-port": "announce_port",
        "cluster-announce-bus-port": "announce_bus_port",
        "cluster-announce-hostname": "announce_hostname",
        "cluster-preferred-endpoint-type": "preferred_endpoint_type",
        "cluster-migration-barrier": "migration_barrier",
        "cluster-replica-validity-factor": "replica_validity_factor",
        "repl-ping-replica-period": "repl_ping_replica_period",
    }

    _MEMORY_SETTINGS = frozenset(("maxmemory", "maxmemory-policy", "lfu-log-factor",
                                  "lfu-decay-time"))

    def _apply_memory_settings(self) -> None:
        """maxmemory on or off (the executor's check), and LRU access times or LFU
        counters as the policy needs."""
        settings = self.settings
        self.server.maxmemory_on = bool(settings.maxmemory)
        self.server.maxmemory.evictor.pool.clear()     # ranked by the old policy's score
        if is_lfu_policy(settings.maxmemory_policy):
            self.keyspace.use_lfu(settings.lfu_log_factor, settings.lfu_decay_time)
        else:
            self.keyspace.use_lru()

    def _enforce_new_maxmemory(self, limit: int) -> None:
        """CONFIG SET maxmemory below what is used: warn and evict now (updateMaxmemory)."""
        used = self.server.memory.used()
        if limit < used:
            logger.warning("WARNING: the new maxmemory value set via CONFIG SET ({}) is "
                           "smaller than the current memory usage ({}). This will result in "
                           "key eviction and/or the inability to accept new write commands "
                           "depending on the maxmemory-policy.", limit, used)
        self.server.maxmemory.perform_evictions()

    def _on_setting_changed(self, name, value) -> None:
        """CONFIG SET changed `name`: the settings that act through the node (the others
        are read where they are used). A SettingError undoes the whole CONFIG SET."""
        field = self._CLUSTER_CONFIG_FIELDS.get(name)
        if field is not None:
            setattr(self.cluster_state.config, field, value)
            if name == "cluster-announce-port":
                self.cluster_state.config.announce_port = self._announced_client_port()
                self.cluster_state.config.pport = self._announced_pport()
            if name.startswith("cluster-announce-"):
                self.bus.execute(self.cluster_state.update_myself_announced(self.bus.now_ms()))
        elif name == "cluster-announce-tls-port":
            self.cluster_state.config.announce_port = self._announced_client_port()
            self.cluster_state.config.pport = self._announced_pport()
            self.bus.execute(self.cluster_state.update_myself_announced(self.bus.now_ms()))
        elif name == "cluster-replica-no-failover":
            self.bus.execute(self.cluster_state.set_replica_no_failover(value, self.bus.now_ms()))
        elif name == "cluster-bus-secret":
            self.bus.set_secret(self._bus_secret())
        elif name == "cluster-link-sendbuf-limit":
            self.bus.sendbuf_limit = value or SENDBUF_LIMIT
        elif name == "bind-source-addr":
            self.bus.source_address = (value, 0) if value else None
        elif name == "list-max-listpack-size":
            quicklist.set_fill(value)
        elif name == "notify-keyspace-events":
            self.keyspace.notify_flags = effective_flags(value)
        elif name in self._MEMORY_SETTINGS:
            self._apply_memory_settings()
            if name == "maxmemory" and value:
                self._enforce_new_maxmemory(value)
        elif name == "repl-backlog-size":
            self.replication.resize_backlog(value)
        elif name == "appendonly":
            if not value:
                self.aof.stop()
            elif not self.aof.start():
                raise SettingError("Unable to turn on AOF. Check server logs.")
        elif name == "aof-disable-auto-gc":
            if not value:
                self.aof.delete_history_files()
        elif name in ("port", "bind", "tls-port"):
            if name == "tls-port" and value and self.server.tls is None:
                self._reconfigure_tls()
            self._relisten()
        elif name in CONTEXT_SETTINGS:
            self._reconfigure_tls()
        elif name == "requirepass":
            self.server.acl.update_default_password(value)
        elif name == "loglevel":
            setup_logging(self.settings)
        elif name == "crash-log-enabled":
            set_crash_log(value)
        elif name in ("replica-read-only", "replica-serve-stale-data"):
            self.replication.update_activity()
        elif name in ("min-replicas-to-write", "min-replicas-max-lag"):
            self.replication.refresh_good_replicas()

    def _relisten(self) -> None:
        """CONFIG SET port / bind (Redis's changeListenPort / changeBindAddr): the client
        port moves, connected clients stay, and on failure the old listeners stay. The
        cluster bus keeps its port and addresses, as in Redis 7.0; peers learn the new
        client port from our next heartbeat."""
        settings = self.settings
        try:
            self.listener.relisten(settings.bind, settings.port, settings.tls_port)
        except OSError as exc:
            logger.warning("Failed to listen on {}:{}: {}", settings.bind, settings.port,
                           exc.strerror or exc)
            if settings.port != self.listener.requested_port or \
                    settings.tls_port != self.listener.requested_tls_port:
                raise SettingError("Unable to listen on this port. Check server logs.")
            raise SettingError("Failed to bind to specified addresses.")
        config = self.cluster_state.config
        port = settings.tls_port if settings.tls_cluster and settings.tls_port else settings.port
        if (config.port, config.pport) != (port, self._announced_pport()):
            config.port, config.pport = port, self._announced_pport()
            self.bus.execute(self.cluster_state.update_myself_announced(self.bus.now_ms()))

    def start(self) -> None:
        """The rest of redis-server's start-up, with its log lines: listen (clients may
        connect while the dataset loads: they get -LOADING meanwhile), load the data,
        join the cluster bus."""
        logger.info("monotonic clock: POSIX clock_gettime")
        try:
            self.listener.start()
        except ListenFailed as exc:
            raise UsageError(str(exc))
        logger.info("Running mode=cluster, port={}.",
                    self.settings.port or self.settings.tls_port)
        logger.warning("Server initialized")
        self._cron = gevent.spawn(self._server_cron)
        try:
            # appendonly yes: the AOF, and only the AOF (it wins over dump.rdb).
            load_data_from_disk(self.server, load_aof=load_aof)
        except LoadFailed as exc:
            self.listener.stop()
            raise UsageError(str(exc))
        try:
            self.bus.start()
        except OSError:
            self.listener.stop()
            raise UsageError("Failed listening on port %d (cluster), aborting."
                             % self.bus.cport)
        if self.listener.streams or self.listener.tls_streams:
            logger.info("Ready to accept connections")
        if self.listener.unix_stream is not None:
            logger.info("The server is now ready to accept connections at {}",
                        self.settings.unixsocket)

    def _server_cron(self) -> None:
        """Redis's serverCron for the data side, `hz` times a second: active expiry
        every tick (a quarter of the tick at most at active-expire-effort 1, as Redis's
        slow cycle), and every
        100 ms the LRU clock, background children and save points, replication (pings,
        full syncs waiting for a child), blocked clients of moved slots, the ops/sec
        sample; once a second, idle clients past `timeout` are closed."""
        last_100ms = last_second = 0.0
        while not self.stopped.is_set():
            now = time.monotonic()
            hz = self.server.hz = self._current_hz()
            try:
                if now - last_100ms >= CRON_PERIOD_MS / 1000.0 - 0.001:
                    last_100ms = now
                    self._cron_every_100ms()
                # A replica leaves expiry to its master, whose DELs it receives; a master
                # whose writes a manual failover or CLIENT PAUSE holds expires nothing
                # meanwhile.
                if self.server.active_expire_enabled and self.replication.is_master \
                        and not self.server.client_pause.dataset_frozen():
                    effort = self.settings.active_expire_effort
                    budget_ms = (25 + 2 * (effort - 1)) * 10.0 / hz   # % of a tick
                    self.keyspace.active_expire_cycle(budget_ms, effort)
                    self.server.latency.add_sample_if_needed(
                        "expire-cycle", self.keyspace.expire_stats.last_cycle_us // 1000)
                    if self.keyspace.ready_keys:
                        # an expired stream ends its XREADGROUP waits (Redis serves
                        # ready keys in beforeSleep, not only after a command)
                        handle_clients_blocked_on_keys(self.keyspace)
                if self.settings.watchdog_period or self._watchdog_armed:
                    arm_watchdog(self.settings.watchdog_period, hz)
                    self._watchdog_armed = bool(self.settings.watchdog_period)
                if now - last_second >= 1.0:
                    last_second = now
                    if self.settings.timeout:
                        close_idle_clients(self.server, self.settings.timeout)
            except Exception:
                logger.exception("server cron failed")
            self.stopped.wait(1.0 / hz)

    def _current_hz(self) -> int:
        """hz, doubled while there are more than 200 clients per tick (dynamic-hz)."""
        hz = self.settings.hz
        if self.settings.dynamic_hz:
            while len(self.server.clients) / hz > 200 and hz < 500:
                hz = min(hz * 2, 500)
        return hz

    def _cron_every_100ms(self) -> None:
        self.keyspace.tick_lru_clock()
        self.server.memory.cron()
        self.server.children.reap()
        if self.server.loading is None:
            self.server.persistence.cron()
            self.aof.cron()
        if self.server.tracking.table:
            self.server.tracking.limit_cron()   # tracking-table-max-keys lowered
        self.replication.cron()
        if self.keyspace.blocking_keys:
            # Clients blocked on a slot that moved away, or in a cluster that went
            # down, get -MOVED / -CLUSTERDOWN instead of waiting forever.
            redirect_blocked_clients(self.keyspace, self.server.router.blocked_key_error)
        if self.server.pubsub is not None:
            # Shard channels of slots that left this shard: subscribers are told.
            self.server.pubsub.cron()
        self.server.sample_metrics()

    def request_stop(self, saved: bool = False) -> None:
        """SHUTDOWN (which made the final save itself: saved=True)."""
        self._stop_saved = self._stop_saved or saved
        self.stop_requested.set()

    def on_signal(self, name: str) -> None:
        """SIGTERM / SIGINT: a shutdown as shutdown-on-sigterm / -sigint says."""
        logger.warning("Received {} scheduling shutdown...", name)
        self._signal_flags = self.settings.values["shutdown-on-%s" % name.lower()]
        self.stop_requested.set()

    def run_until_stopped(self) -> None:
        while True:
            self.stop_requested.wait()
            if not self._stop_saved:        # a signal (SHUTDOWN logged it itself)
                logger.warning("User requested shutdown...")
            # A signal's shutdown saves when save points are set; if that fails the node
            # keeps running, as Redis does. shutdown-on-sigterm / -sigint: `nosave`
            # skips the save, `save` makes it without save points, `force` exits even
            # when it fails, `now` does not wait for lagging replicas (shutdown-timeout).
            flags = self._signal_flags.split()
            if not self._stop_saved and not wait_for_replicas(self.server, "now" in flags):
                self.stop_requested.clear()     # SHUTDOWN ABORT
                continue
            if self._stop_saved or "nosave" in flags or \
                    self.server.persistence.shutdown_save(force_save="save" in flags):
                break
            if "force" in flags:
                logger.warning("Error trying to save the DB. Exit anyway.")
                break
            logger.warning("SIGTERM received but errors trying to shut down the server, "
                           "check the logs for more information")
            self.stop_requested.clear()
        self.stopped.set()
        self.server.children.kill()
        if self.replication.link is not None:
            self.replication.link.stop()
        self.listener.stop()
        self.bus.stop()
        try:
            self.bus.save_config_now(fsync=True)   # as Valkey 8 does at shutdown
        except OSError as exc:
            logger.warning("could not save the cluster config at shutdown: {}", exc)
        if self._cron is not None:
            self._cron.kill()
        self.aof.shutdown()                        # written and fsynced before exit


def main(argv) -> int:
    setup_logging(Settings())           # stdout at notice, until the settings say
    try:
        settings = parse_arguments(list(argv))
    except ConfigError as exc:
        print(exc.block(), file=sys.stderr)
        return 1
    except UsageError as exc:
        logger.warning(str(exc))
        return 1
    # As redis-server: supervised wins over daemonize; a daemon without a pidfile
    # writes the default one.
    supervised = supervision_mode(settings.supervised)
    if settings.daemonize and not supervised:
        daemonize()
    if settings.daemonize and not settings.pidfile:
        settings.values["pidfile"] = DEFAULT_PIDFILE
    setup_logging(settings)
    log_start_up(config_given=bool(argv))
    set_role_source(lambda: "M")        # the node's own lines from here (Node says M/S)
    set_crash_log(settings.crash_log_enabled)
    if settings.server_cpulist:
        set_cpu_affinity(settings.server_cpulist, "server")
    config_lock = ClusterConfigLock(settings.cluster_config_path())
    try:
        config_lock.acquire()
        node = Node(settings)
        node.server.supervised = supervised
        if settings.pidfile:
            write_pidfile(settings.pidfile)
        # Before start(): clients are served from the first time start() yields (loading
        # the dataset, binding the bus), and a SIGTERM from then on must stop us cleanly.
        gevent.signal_handler(signal.SIGTERM, node.on_signal, "SIGTERM")
        gevent.signal_handler(signal.SIGINT, node.on_signal, "SIGINT")
        node.start()
    except UsageError as exc:
        if isinstance(exc, ConfigError):        # a `user` line found bad only now
            print(exc.block(), file=sys.stderr)
        else:
            logger.warning(str(exc))
        if settings.pidfile:
            remove_pidfile(settings.pidfile)
        config_lock.release()
        return 1
    notify_supervisor(supervised, "STATUS=Ready to accept connections\n")
    notify_supervisor(supervised, "READY=1\n")
    node.run_until_stopped()
    notify_supervisor(supervised, "STOPPING=1\n")
    if settings.pidfile:
        logger.info("Removing the pid file.")
        remove_pidfile(settings.pidfile)
    config_lock.release()
    logger.warning("Redis is now ready to exit, bye bye...")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
