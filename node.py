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

import gevent
import gevent.event
from loguru import logger

from cluster import nodesconf
from cluster.bus import Clock, ClusterBus
from cluster.config import ClusterConfig, DataHooks
from cluster.errors import ConfigFileError
from cluster.logging_levels import setup_logging
from cluster.operations import ClusterOperations
from cluster.state import CRON_PERIOD_MS, ClusterState
from cluster.view import ClusterView
from commands import load_all_commands
from commands.data.keyspace import Keyspace
from commands.data.notifications import effective_flags
from commands.persistence.aof import AppendOnlyFile
from commands.persistence.aof_loading import load_aof
from commands.persistence.background import Children
from commands.persistence.loading import LoadFailed, load_data_from_disk
from commands.persistence.rdb_save import RdbPersistence
from commands.replication.master import Replication
from commands.replication.replica_link import replication_changed
from commands.server.blocking import redirect_blocked_clients
from commands.server.context import Server
from commands.server.listener import ClientListener
from commands.server.resp import ReplyError
from commands.server.routing import Router
from commands.server.settings import SETTINGS, SettingError, Settings, parse_config_file

USAGE = """usage: python node.py [/path/to/node.conf] [options]

Options are redis.conf directives as flags (command-line flags win over the file):
  -p, --port N                      client port (default 6379; cluster bus on N+10000)
  --bind ADDR [ADDR ...]            addresses to listen on (default 127.0.0.1)
  --dir PATH                        working directory for nodes.conf (default .)
  --cluster-config-file FILE        default nodes-<port>.conf in --dir
  --cluster-node-timeout MS         default 15000
  --loglevel debug|verbose|notice|warning
  --logfile FILE                    log to FILE as well as stderr
  --requirepass PASSWORD
  --maxclients N
  --proto-max-bulk-len BYTES        e.g. 512mb
  --client-query-buffer-limit BYTES e.g. 1gb
Any other directive CONFIG GET knows (e.g. --cluster-announce-ip) is accepted too."""



class UsageError(Exception):
    pass


def parse_arguments(args) -> Settings:
    settings = Settings()
    if args and not args[0].startswith("-"):
        path = args.pop(0)
        try:
            for number, name, value in parse_config_file(path):
                try:
                    settings.set(name, value, at_startup=True)
                except SettingError as exc:
                    raise UsageError("%s line %d: '%s %s': %s" % (path, number, name, value, exc))
        except OSError as exc:
            raise UsageError("can't open config file '%s': %s" % (path, exc.strerror))
        settings.config_file = os.path.abspath(path)
    while args:
        flag = args.pop(0)
        if flag in ("-h", "--help"):
            print(USAGE)
            sys.exit(0)
        if flag == "-p":
            name = "port"
        elif flag.startswith("--") and flag[2:].lower() in SETTINGS:
            name = flag[2:].lower()
        else:
            raise UsageError("unknown option '%s' (see --help)" % flag)
        if not args:
            raise UsageError("option '%s' needs a value" % flag)
        value = args.pop(0)
        if name == "bind":
            # `--bind 127.0.0.1 ::1`: every word up to the next option, as Redis reads it.
            while args and not args[0].startswith("--") and args[0] != "-p":
                value += " " + args.pop(0)
        try:
            settings.set(name, value, at_startup=True)
        except SettingError as exc:
            raise UsageError("'%s %s': %s" % (flag, value, exc))
    if not os.path.isdir(settings.dir):
        raise UsageError("can't chdir to '%s': No such file or directory" % settings.dir)
    if settings.port > 55535 and not settings.cluster_port:
        raise UsageError("port %d is too high: the cluster bus port (port + 10000) "
                         "must be below 65536" % settings.port)
    return settings


def lock_cluster_config(path: str):
    """Hold an exclusive flock for the life of the process, like Redis, so two nodes never
    share a nodes.conf. The lock is taken on a sibling `<file>.lock`: nodes.conf itself is
    replaced by rename on every save, which would drop a lock held on the old file."""
    try:
        handle = open(path + ".lock", "a+")
    except OSError as exc:
        raise UsageError("can't open the cluster config file %s: %s" % (path, exc.strerror))
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise UsageError("Sorry, the cluster configuration file %s is already used by a "
                         "different Redis Cluster node. Please make sure that different "
                         "nodes use different cluster configuration files." % path)
    return handle


class Node:
    """Everything one process runs, wired together: the data (keyspace), the client side
    (listener, commands, routing) and the cluster bus (state machine + gevent adapter)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.keyspace = Keyspace()
        self.server = Server(settings, self.keyspace)
        self.server.shutdown_requested = self.request_stop
        load_all_commands()
        # Persistence: one background child at a time (BGSAVE, AOF rewrite, full sync).
        self.server.children = Children()
        self.server.children.fds_to_close = self._listening_fds
        self.server.persistence = RdbPersistence(self.server)
        self.replication = self._build_replication()
        self.aof = self._build_aof()
        self.listener = ClientListener(self.server, settings.bind, settings.port)
        self.cluster_state, self.bus = self._build_cluster()
        # The two seams between commands/ and cluster/: a read-only view, and the runner
        # of state-machine operations (which answers a ClusterError with an error reply).
        view = ClusterView(self.cluster_state, self.bus)
        self.server.cluster = view
        self.server.cluster_ops = ClusterOperations(self.cluster_state, self.bus, ReplyError)
        self.server.router = Router(view, self.keyspace, settings)
        settings.listeners.append(self._on_setting_changed)
        self.keyspace.notify_flags = effective_flags(settings.notify_keyspace_events)
        self.stop_requested = gevent.event.Event()
        self._stop_saved = False        # the final save was made (SHUTDOWN did it)
        self.stopped = gevent.event.Event()
        self._cron = None

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

    def _build_cluster(self):
        settings = self.settings
        path = settings.cluster_config_path()
        keyspace = self.keyspace
        hooks = DataHooks(count_keys_in_slot=keyspace.count_in_slot,
                          delete_keys_in_slot=keyspace.delete_slot,
                          repl_offset=lambda: self.replication.offset,
                          db_size=lambda: keyspace.size,
                          master_last_interaction_ms=self._master_last_interaction_ms)
        config = ClusterConfig(port=settings.port, cport=settings.cluster_port,
                               replica_no_failover=settings.cluster_replica_no_failover)
        for name, field in self._CLUSTER_CONFIG_FIELDS.items():
            setattr(config, field, settings.values[name])
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
        return state, bus

    def _bus_secret(self):
        return self.settings.cluster_bus_secret.encode() or None

    def _on_replication_changed(self, effect) -> None:
        """The cluster made us a replica of a master, or a master (commands/replica_link)."""
        replication_changed(self.replication, effect, self.settings.port,
                            self._on_master_link_status)

    def _on_master_link_status(self, up: bool) -> None:
        """The replica link went up or down: the state measures our data's age from it."""
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

    def _on_setting_changed(self, name, value) -> None:
        field = self._CLUSTER_CONFIG_FIELDS.get(name)
        if field is not None:
            setattr(self.cluster_state.config, field, value)
            if name.startswith("cluster-announce-"):
                self.bus.execute(self.cluster_state.update_myself_announced(self.bus.now_ms()))
        elif name == "cluster-replica-no-failover":
            self.bus.execute(self.cluster_state.set_replica_no_failover(value, self.bus.now_ms()))
        elif name == "cluster-bus-secret":
            self.bus.set_secret(self._bus_secret())
        elif name == "notify-keyspace-events":
            self.keyspace.notify_flags = effective_flags(value)
        elif name == "repl-backlog-size":
            self.replication.resize_backlog(value)
        elif name == "appendonly":
            if not value:
                self.aof.stop()
            elif not self.aof.start():
                self.settings.values["appendonly"] = False
                raise SettingError("Unable to turn on AOF. Check server logs.")

    def start(self) -> None:
        # Clients may connect while the dataset loads: they get -LOADING meanwhile.
        self.listener.start()
        self._cron = gevent.spawn(self._server_cron)
        try:
            # appendonly yes: the AOF, and only the AOF (it wins over dump.rdb).
            load_data_from_disk(self.server, load_aof=load_aof)
        except LoadFailed as exc:
            self.listener.stop()
            raise UsageError(str(exc))
        try:
            self.bus.start()
        except OSError as exc:
            self.listener.stop()
            raise UsageError("Could not create the cluster bus listening socket %s:%d: %s"
                             % (self.settings.bind, self.bus.cport, exc.strerror or exc))
        logger.info("Ready to accept connections on {}:{}, cluster bus on port {}",
                    self.settings.bind, self.listener.port, self.bus.cport)

    def _server_cron(self) -> None:
        """Redis's serverCron for the data side: LRU clock, active expiry, background
        children and save points, replication (pings, full syncs waiting for a child),
        blocked clients of moved slots."""
        while not self.stopped.is_set():
            try:
                self.keyspace.tick_lru_clock()
                self.server.children.reap()
                if self.server.loading is None:
                    self.server.persistence.cron()
                    self.aof.cron()
                # A replica leaves expiry to its master, whose DELs it receives; a master
                # whose writes a manual failover or CLIENT PAUSE holds expires nothing
                # meanwhile.
                if self.server.active_expire_enabled and self.replication.is_master \
                        and not self.server.client_pause.dataset_frozen():
                    self.keyspace.active_expire_cycle()
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
            except Exception:
                logger.exception("server cron failed")
            self.stopped.wait(CRON_PERIOD_MS / 1000.0)

    def request_stop(self, saved: bool = False) -> None:
        """SIGTERM/SIGINT, or SHUTDOWN (which made the final save itself: saved=True)."""
        self._stop_saved = self._stop_saved or saved
        self.stop_requested.set()

    def run_until_stopped(self) -> None:
        while True:
            self.stop_requested.wait()
            # A signal's shutdown saves when save points are set; if that fails the node
            # keeps running, as Redis does.
            if self._stop_saved or self.server.persistence.shutdown_save(force_save=False):
                break
            logger.warning("SIGTERM received but errors trying to shut down the server, "
                           "check the logs for more information")
            self.stop_requested.clear()
        self.stopped.set()
        logger.info("Received shutdown request, closing clients and exiting")
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
    try:
        settings = parse_arguments(list(argv))
        setup_logging(settings, "%d" % settings.port)
        config_lock = lock_cluster_config(settings.cluster_config_path())
        node = Node(settings)
        setup_logging(settings, "%d %s" % (settings.port, node.cluster_state.myself.name[:8]))
        # Before start(): clients are served from the first time start() yields (loading
        # the dataset, binding the bus), and a SIGTERM from then on must stop us cleanly.
        gevent.signal_handler(signal.SIGTERM, node.request_stop)
        gevent.signal_handler(signal.SIGINT, node.request_stop)
        try:
            node.start()
        except OSError as exc:
            raise UsageError("Could not create server TCP listening socket %s:%d: %s"
                             % (settings.bind, settings.port, exc.strerror or exc))
    except UsageError as exc:
        print("Error: %s" % exc, file=sys.stderr)
        return 1
    node.run_until_stopped()
    config_lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
