"""The gevent adapter of the cluster state machine: sockets in, effects out.

- a listener on the bus port (port + 10000) accepts inbound links;
- every link, inbound or outbound, has one reader greenlet (recv -> LinkCodec
  -> ``state.process_packet``) and one writer greenlet draining its queue;
- each link speaks Redis's bus format or our compact one, chosen per link by
  cluster.link_format (the rule is there); the bus remembers which node names read
  ours, so a new outbound link to them starts compact;
- with cluster-bus-secret set, every frame is signed and checked (cluster.bus_auth);
  a refused one closes its link, is counted (CLUSTER INFO's
  cluster_stats_messages_auth_failed_received) and is logged once per peer address,
  so a stranger retrying every second cannot flood the log;
- the cron greenlet calls ``state.cluster_cron`` every CRON_PERIOD_MS (100 ms);
- effects are carried out in order (this is a cluster.effect_runner.EffectRunner):
  sends are queued, connects spawn a greenlet, nodes.conf is written in gevent's
  threadpool, one save at a time. A save without fsync is left to a saver
  greenlet (saves requested meanwhile are merged into one more); a save with
  fsync is waited for, so what the state put after it (a vote) leaves only once
  it is on disk.

Nothing that happens on one link (a bad frame, a reset, a bug in the state
machine while handling its packet) may stop the cron or the other links: such
a link is closed and logged, and the node goes on.
"""

from __future__ import annotations

import itertools
import socket
import time
from typing import Any, Callable

import gevent
import gevent.event
import gevent.lock
import gevent.pool
import gevent.queue
import gevent.server
from loguru import logger

from cluster import messages as m
from cluster import nodesconf
from cluster.effect_runner import EffectRunner, NotDurable
from cluster.effects import (CloseLink, Connect, DeliverPublish, Log, ReplicationChanged,
                             SaveConfig, Send)
from cluster.errors import BusAuthError, BusProtocolError
from cluster.link_format import LinkCodec
from cluster.listen import listen_to_port, parse_bind
from cluster.logging_levels import LOG_LEVELS
from cluster.state import CRON_PERIOD_MS, ClusterState
from cluster.tls import connect as tls_connect

RECV_SIZE = 64 * 1024
SENDBUF_LIMIT = 16 * 1024 * 1024  # a peer that stops reading must not grow our memory forever


class Clock:
    """Milliseconds that never jump (monotonic) but read like wall-clock time.

    Redis prints ping/pong times of CLUSTER NODES as Unix ms and gossips pong
    times in seconds to other nodes, so the state's clock is anchored to the
    wall clock once at start.
    """

    def __init__(self) -> None:
        self._wall0 = time.time() * 1000.0
        self._mono0 = time.monotonic()

    def now_ms(self) -> int:
        return int(self._wall0 + (time.monotonic() - self._mono0) * 1000.0)


class _Link:
    __slots__ = ("id", "sock", "inbound", "peer", "peer_ip", "ctime", "queue", "queued_bytes",
                 "bytes_sent", "bytes_received", "closed", "writer", "codec", "node_name",
                 "started_compact")

    def __init__(self, link_id: int, sock: socket.socket, inbound: bool, peer: tuple,
                 ctime: int, codec: LinkCodec, node_name: str | None):
        self.id = link_id
        self.sock = sock
        self.inbound = inbound
        self.peer = f"{peer[0]}:{peer[1]}"
        self.peer_ip = peer[0]
        self.ctime = ctime
        self.queue: gevent.queue.Queue = gevent.queue.Queue()
        self.queued_bytes = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self.closed = False
        self.writer: gevent.Greenlet | None = None
        self.codec = codec
        self.node_name = node_name  # the node an outbound link was opened to
        self.started_compact = codec.compact


class ClusterBus(EffectRunner):
    def __init__(self, state: ClusterState, bind: str, cport: int,
                 config_path: str | None = None, *, clock: Clock | None = None,
                 on_publish: Callable[[bytes, bytes, bool], None] | None = None,
                 on_replication_changed: Callable[[ReplicationChanged], None] | None = None,
                 log: Callable[[str, str], None] | None = None,
                 max_frame: int = m.MAX_FRAME_BYTES, secret: bytes | None = None):
        super().__init__()
        self.secret = secret or None      # cluster-bus-secret (cluster.bus_auth)
        self.state = state
        self.bind_host = bind          # the `bind` setting: one or more addresses
        self.cport = cport
        self.config_path = config_path
        self.clock = clock or Clock()
        self.on_publish = on_publish
        self.on_replication_changed = on_replication_changed
        self._log = log or self._loguru
        self.max_frame = max_frame
        self.links: dict[int, _Link] = {}
        # Node names known to read the compact format (cluster.link_format, rule 2c).
        self.compact_peers: set[str] = set()
        self._ids = itertools.count(1)
        self._greenlets = gevent.pool.Pool(None)  # unbounded, but killable at stop()
        self._servers: list[gevent.server.StreamServer] = []
        self._stopping = gevent.event.Event()
        self._saving = False
        self._save_wanted = False   # nodes.conf is behind the state
        self._save_inline = False   # carrying out a CLUSTER command's outcome (below)
        # One write of nodes.conf at a time, rendered under the lock: a later save
        # always holds a later state and lands after an earlier one.
        self._save_lock = gevent.lock.Semaphore()
        # Set while client writes may run; cleared while a manual failover pauses them
        # (writing clients wait on it: commands/server/executor.py).
        self.writes_resumed = gevent.event.Event()
        self.writes_resumed.set()
        # fn() called after every execute(): read-only views refresh their copies.
        self.state_listeners = []
        # Counters (CLUSTER INFO, benchmarks, tests).
        self.bytes_sent = 0
        self.bytes_received = 0
        self.invalid_frames = 0
        self.auth_failures = 0            # frames refused by the cluster-bus-secret check
        self._auth_failure_logged: set[str] = set()   # peer addresses already logged
        self.messages_sent_compact = 0
        self.messages_sent_redis = 0
        self.links_buffer_limit_exceeded = 0
        # cluster-link-sendbuf-limit (node.py sets it); 0 there means our safety cap.
        self.sendbuf_limit = SENDBUF_LIMIT
        self.source_address = None      # bind-source-addr: (ip, 0) for outgoing links
        # tls-cluster: the cluster/tls.TlsContexts every new link (in and out) uses;
        # a peer must present a certificate our CA signed, as Redis's bus asks.
        self.tls = None
        self.save_errors = 0

    @staticmethod
    def _loguru(level: str, text: str) -> None:
        logger.log(LOG_LEVELS.get(level, "INFO"), text)

    # ------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------

    def start(self) -> None:
        # Every `bind` address, as the client port (cluster/listen.py has the rules).
        for sock in listen_to_port(parse_bind(self.bind_host), self.cport,
                                   lambda text: self._log("warning", text)):
            server = gevent.server.StreamServer(sock, self._handle_inbound,
                                                spawn=self._greenlets)
            server.start()
            self._servers.append(server)
        self._greenlets.spawn(self._cron_loop)
        self.execute(self.state.take_effects(self.now_ms()))

    def stop(self) -> None:
        self._stopping.set()
        for server in self._servers:
            server.close()
        for link in list(self.links.values()):
            self._close(link, notify_state=False)
        self._greenlets.kill(block=True, timeout=2)

    def listening_fds(self) -> list:
        """The bus port's listening sockets (a forked child closes its copies)."""
        return [server.socket.fileno() for server in self._servers
                if server.socket is not None]

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def _cron_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.execute(self.state.cluster_cron(self.now_ms()))
            except Exception:  # a bug must not stop failure detection for good
                logger.exception("cluster cron failed")
            self._stopping.wait(CRON_PERIOD_MS / 1000.0)

    # ------------------------------------------------------------------
    # Effects
    # ------------------------------------------------------------------

    # ``execute(outcome)`` (EffectRunner) carries out what any state call returned;
    # node.py and cluster/operations.py call it with the Outcome of the operations.

    def execute(self, effects) -> None:
        super().execute(effects)
        self._track_write_pause()
        for listener in self.state_listeners:
            listener()

    def execute_command(self, effects) -> None:
        """execute() for the outcome of a CLUSTER command (cluster/operations.py): a
        save without fsync is written now, before the command's reply, as Redis's
        clusterBeforeSleep saves before the replies go out -- not by the saver greenlet,
        which would cost a greenlet and a loop turn per command (a reshard sends five
        SETSLOTs per slot). When a save is already under way, it is left to the saver."""
        self._save_inline = True
        try:
            self.execute(effects)
        finally:
            self._save_inline = False

    def _track_write_pause(self) -> None:
        """Mirror the state's manual-failover write pause in `writes_resumed`. Every
        change of the state passes through execute() (packets, cron, commands), and the
        cron notices a pause that timed out, so waiters wake within one cron period."""
        paused = self.state.writes_paused(self.now_ms())
        if paused == self.writes_resumed.is_set():
            if paused:
                self.writes_resumed.clear()
            else:
                self.writes_resumed.set()

    def send(self, effect: Send) -> None:
        self._queue_send(effect.link_id, effect.message)

    def log(self, effect: Log) -> None:
        self._log(effect.level, effect.text)

    def save_config(self, effect: SaveConfig) -> None:
        if not effect.fsync:
            self._request_save()
            return
        failure = self._save_or_log(True, ", not sending what depends on it")
        if failure is not None:
            raise NotDurable(str(failure))

    def connect(self, effect: Connect) -> None:
        self._greenlets.spawn(self._connect, effect)

    def close_link(self, effect: CloseLink) -> None:
        link = self.links.get(effect.link_id)
        if link is not None:
            self._close(link, notify_state=False)

    def deliver_publish(self, effect: DeliverPublish) -> None:
        if self.on_publish is not None:
            self.on_publish(effect.channel, effect.message, effect.sharded)

    def replication_changed(self, effect: ReplicationChanged) -> None:
        if self.on_replication_changed is not None:
            self.on_replication_changed(effect)

    def send_message(self, link_id, msg: m.Message) -> None:
        """Send a message the state named without a state change (PUBLISH:
        cluster/operations.py)."""
        self._queue_send(link_id, msg)

    def log_warning(self, text: str) -> None:
        self._log("warning", text)

    def _queue_send(self, link_id, msg: m.Message) -> None:
        link = self.links.get(link_id)
        if link is None or link.closed:
            return
        frame = link.codec.encode(msg, self.state.build_header)
        if link.codec.compact:
            self.messages_sent_compact += 1
        else:
            self.messages_sent_redis += 1
        link.queued_bytes += len(frame)
        if link.queued_bytes > self.sendbuf_limit:
            self.links_buffer_limit_exceeded += 1
            self._log("warning", f"Freeing cluster link to {link.peer}: send buffer over "
                                 f"{self.sendbuf_limit} bytes")
            self._close(link, notify_state=True)
            return
        link.queue.put(frame)

    # ------------------------------------------------------------------
    # nodes.conf
    # ------------------------------------------------------------------

    def _request_save(self) -> None:
        """Mark nodes.conf dirty (a save without fsync). One saver greenlet renders the
        state when it gets to it, so a burst of changes (a reshard moves a slot every
        few ms) costs one write, not one per change."""
        if self.config_path is None:
            return
        if self._save_inline and not self._saving and not self._save_lock.locked():
            self._save_or_log(False)        # a CLUSTER command's change: execute_command
            return
        self._save_wanted = True
        if not self._saving:
            self._saving = True
            self._greenlets.spawn(self._save_loop)

    def _save_loop(self) -> None:
        try:
            while self._save_wanted:
                self._save_wanted = False
                self._save_or_log(False)
        finally:
            self._saving = False

    def _save_or_log(self, fsync: bool, consequence: str = "") -> OSError | None:
        """Save now; a failure is counted, logged with what it means, and returned."""
        try:
            self.save_config_now(fsync=fsync)
        except OSError as exc:
            self.save_errors += 1
            self._log("warning", f"Could not save the cluster config file {self.config_path}"
                                 f"{consequence}: {exc.strerror or exc}")
            return exc
        return None

    def save_config_now(self, fsync: bool = True) -> None:
        """Save and wait (CLUSTER SAVECONFIG, a durable SaveConfig, the saver greenlet);
        raises OSError on failure. A durable save goes to the threadpool (fsync blocks);
        one without fsync is written in place, inline (see nodesconf.overwrite)."""
        if self.config_path is None:
            return
        with self._save_lock:
            # Rendered without yielding, so the file is the state at one instant.
            text = nodesconf.render(self.state)
            if fsync:
                gevent.get_hub().threadpool.apply(nodesconf.save, (self.config_path, text))
            else:
                nodesconf.overwrite(self.config_path, text)

    # ------------------------------------------------------------------
    # Links
    # ------------------------------------------------------------------

    def _new_link(self, sock: socket.socket, inbound: bool, node_name: str | None = None) -> _Link:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = sock.getpeername()
        codec = LinkCodec(compact=node_name in self.compact_peers, max_frame=self.max_frame,
                          secret=self.secret)
        link = _Link(next(self._ids), sock, inbound, peer, self.now_ms(), codec, node_name)
        self.links[link.id] = link
        link.writer = self._greenlets.spawn(self._write_loop, link)
        return link

    def _handle_inbound(self, sock: socket.socket, address) -> None:
        if self._stopping.is_set():
            sock.close()
            return
        try:
            if self.tls is not None:
                sock = self.tls.accept(sock, "yes")
            link = self._new_link(sock, inbound=True)
        except (OSError, ValueError) as exc:
            if self.tls is not None:
                self._log("verbose", f"Error accepting cluster node connection: {exc}")
            sock.close()
            return
        self._log("verbose", "Accepting cluster node connection from %s:%d" % address[:2])
        self._execute_safely(link, lambda: self.state.link_accepted(
            link.id, self.now_ms(), peer_ip=address[0], local_ip=sock.getsockname()[0]))
        # The StreamServer closes the socket when this handler returns, so the
        # handler itself is the link's reader.
        self._read_loop(link)

    def _connect(self, effect: Connect) -> None:
        try:
            sock = tls_connect((effect.ip, effect.cport), self.tls,
                               timeout=effect.timeout_ms / 1000.0,
                               source_address=self.source_address)
            sock.settimeout(None)
            link = self._new_link(sock, inbound=False, node_name=effect.node_name)
        except (OSError, ValueError) as exc:
            self._log("debug", f"Unable to connect to Cluster Node [{effect.ip}]:{effect.cport} -> {exc}")
            self.execute(self.state.link_connect_failed(effect.node_name, self.now_ms()))
            return
        if self._stopping.is_set():
            self._close(link, notify_state=False)
            return
        peer_ip, local_ip = sock.getpeername()[0], sock.getsockname()[0]
        self._execute_safely(link, lambda: self.state.link_connected(
            effect.node_name, link.id, self.now_ms(), peer_ip=peer_ip, local_ip=local_ip))
        self._read_loop(link)

    def _execute_safely(self, link: _Link, call: Callable[[], Any]) -> bool:
        try:
            self.execute(call())
            return True
        except Exception:
            logger.exception(f"cluster bus: error handling link {link.peer}; closing it")
            self._close(link, notify_state=True)
            return False

    def _read_loop(self, link: _Link) -> None:
        codec = link.codec
        sock = link.sock
        try:
            while not link.closed:
                try:
                    data = sock.recv(RECV_SIZE)
                except OSError:
                    break
                if not data:
                    break
                link.bytes_received += len(data)
                self.bytes_received += len(data)
                try:
                    messages = codec.feed(data)
                except BusAuthError as exc:
                    self._auth_failed(link, exc)
                    break
                except BusProtocolError as exc:
                    self.invalid_frames += 1
                    self._log("warning", f"Bad message received on the cluster bus from "
                                         f"{link.peer}: {exc}; closing the link")
                    break
                if codec.peer_name is not None and codec.peer_name not in self.compact_peers:
                    self.compact_peers.add(codec.peer_name)
                    self._log("verbose", f"Node {codec.peer_name} ({link.peer}) reads the "
                                         "compact cluster bus format")
                for msg in messages:
                    if link.closed:
                        break
                    if not self._execute_safely(
                            link, lambda msg=msg: self.state.process_packet(link.id, msg, self.now_ms())):
                        return
                # A peer that keeps our receive buffer full must not starve the cron.
                gevent.sleep(0)
        finally:
            self._close(link, notify_state=True)

    def _auth_failed(self, link: _Link, exc: BusAuthError) -> None:
        self.auth_failures += 1
        if link.peer_ip in self._auth_failure_logged:
            return
        self._auth_failure_logged.add(link.peer_ip)
        self._log("warning", f"Refused a cluster bus message from {link.peer}: {exc}; "
                             f"closing the link. Further refusals from {link.peer_ip} are "
                             "counted in CLUSTER INFO (cluster_stats_messages_auth_failed_"
                             "received), not logged")

    def set_secret(self, secret: bytes | None) -> None:
        """CONFIG SET cluster-bus-secret: new links and every open one, from their next
        message on (a peer with the old secret is refused at its next frame)."""
        self.secret = secret or None
        for link in self.links.values():
            link.codec.set_secret(self.secret)

    def _write_loop(self, link: _Link) -> None:
        sock = link.sock
        queue = link.queue
        while True:
            frame = queue.get()
            if frame is None:  # the close marker
                return
            chunks = [frame]
            closing = False
            while not queue.empty():  # batch everything queued into one send
                more = queue.get_nowait()
                if more is None:
                    closing = True
                    break
                chunks.append(more)
            data = b"".join(chunks)
            try:
                sock.sendall(data)
            except OSError:
                self._close(link, notify_state=True)
                return
            link.queued_bytes -= len(data)
            link.bytes_sent += len(data)
            self.bytes_sent += len(data)
            if closing:
                return

    def _close(self, link: _Link, notify_state: bool) -> None:
        if link.closed:
            return
        link.closed = True
        self.links.pop(link.id, None)
        if link.started_compact and link.bytes_received == 0 and link.node_name is not None:
            # Rule 2c went wrong (the name now belongs to a Redis node?): start in Redis's
            # format next time.
            self.compact_peers.discard(link.node_name)
        link.queue.put(None)
        try:
            link.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        link.sock.close()
        if notify_state:
            try:
                self.execute(self.state.link_closed(link.id, self.now_ms()))
            except Exception:
                logger.exception("cluster bus: error while closing a link")

    def link_info(self, link_id) -> dict[str, Any]:
        """What CLUSTER LINKS needs from the adapter (see cluster.describe.cluster_links)."""
        link = self.links.get(link_id)
        if link is None:
            return {}
        return {"events": "rw" if link.queued_bytes else "r",
                "send-buffer-allocated": link.queued_bytes,
                "send-buffer-used": link.queued_bytes}

