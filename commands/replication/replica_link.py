"""Replication, the replica's side: the link to our master and the role changes.

The cluster state machine decides the role (CLUSTER REPLICATE, a failover, an UPDATE that
took our slots) and says so with a ReplicationChanged effect; node.py hands it to
`replication_changed`. As a replica we run one greenlet per master (ReplicaLink):

  connect to the master's client port -> PING -> REPLCONF listening-port <port> ->
  REPLCONF capa eof capa psync2 -> PSYNC <replid> <offset+1> (or PSYNC ? -1 with no
  history) -> +FULLRESYNC: flush, load the snapshot chunks, apply the commands queued
  between them, take the offset of the end marker | +CONTINUE [new replid]: go on ->
  apply the stream through the executor, counting offsets, feeding our own backlog.

The stream is run by a client flagged as our master (CLIENT LIST flags=M): no replies,
no routing redirects, no read-only refusal, never blocks. REPLCONF ACK <offset> goes
back every second and on REPLCONF GETACK. A broken link is retried every second with a
partial resync; CLIENT KILL TYPE master breaks it on purpose.

On promotion (ReplicationChanged(None)) the link stops, the data stays, and the ids shift
(replication.py) so our old master's other replicas can continue from us.
"""
import time

import gevent
import gevent.lock
import gevent.socket
import hiredis
from loguru import logger

from commands.replication import snapshot
from commands.replication.backlog import ReplBacklog
from commands.replication.propagation import encode_command
from commands.server.connection import Client
from commands.server.executor import process_command

CONNECT_TIMEOUT = 5.0
REPL_TIMEOUT = 60.0                # repl-timeout: a master silent this long is gone
RETRY_DELAY = 1.0                  # Redis reconnects from its once-a-second cron
ACK_PERIOD = 1.0
RECV_SIZE = 64 * 1024


class LinkError(Exception):
    pass


def replication_changed(replication, effect, my_port: int, on_link_status=None) -> None:
    """Carry out a ReplicationChanged effect (cluster/effects.py)."""
    server = replication.server
    if effect.master_name is None:
        link = replication.link
        if link is not None:
            link.stop()
            replication.link = None
            replication.shift_replid()
            if replication.backlog is None:
                replication.create_backlog()
            logger.info("MASTER MODE enabled")
        if effect.flush_data:
            server.keyspace.flush()
        replication.update_activity()
        return
    link = replication.link
    if link is not None and (link.host, link.port) == (effect.ip, effect.port):
        return
    if link is not None:
        link.stop()
    else:
        # A master that becomes a replica drops its own replicas (they will follow the
        # cluster's view) and ends its WAITs; its history stays as the cached master,
        # so the new master may continue it partially.
        replication.disconnect_replicas()
        replication.unblock_waits()
    replication.link = ReplicaLink(replication, effect.ip, effect.port, my_port,
                                   on_link_status)
    replication.update_activity()
    if effect.flush_data:
        server.keyspace.flush()
    logger.info("Connecting to MASTER {}:{}", effect.ip, effect.port)
    replication.link.start()


class ReplicaLink:
    """The connection to our master, reconnecting until stopped."""

    def __init__(self, replication, host: str, port: int, my_port: int, on_link_status=None):
        self.replication = replication
        self.server = replication.server
        self.host = host
        self.port = port
        self.my_port = my_port
        self.on_link_status = on_link_status   # fn(up: bool): the cluster's data age
        self.state = "connect"          # ROLE's names: connect, connecting, handshake,
        self.client = None              # sync, connected
        self.sock = None
        self.read_offset = 0            # stream bytes received (slave_read_repl_offset)
        self.last_io = 0.0              # monotonic time of the last bytes from the master
        self.down_since = time.time()   # master_link_down_since_seconds
        self.sync_read_bytes = 0
        self.synced_once = False
        self._stopped = False
        self._greenlet = None
        self._acker = None
        self._send_lock = gevent.lock.Semaphore()

    @property
    def link_up(self) -> bool:
        return self.state == "connected"

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        self._stopped = True
        for greenlet in (self._greenlet, self._acker):
            if greenlet is not None and greenlet is not gevent.getcurrent():
                greenlet.kill(block=False)
        self._drop()

    # ------------------------------------------------------------ the loop

    def _run(self) -> None:
        while not self._stopped:
            try:
                self._session()
            except (OSError, LinkError, snapshot.SnapshotError, hiredis.ProtocolError) as exc:
                if not self._stopped:
                    logger.warning("Connection with master {}:{} lost or failed: {}",
                                   self.host, self.port, exc or type(exc).__name__)
            except Exception:
                logger.exception("replication link to {}:{} failed", self.host, self.port)
            finally:
                self._drop()
            if not self._stopped:
                gevent.sleep(RETRY_DELAY)

    def _drop(self) -> None:
        was_up = self.state == "connected"
        self.state = "connect"
        if was_up:
            self.down_since = time.time()
            self._report(False)
        client, self.client = self.client, None
        if client is not None:
            client.close()              # also closes the socket
        elif self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _report(self, up: bool) -> None:
        if self.on_link_status is not None and not self._stopped:
            try:
                self.on_link_status(up)
            except Exception:
                logger.exception("reporting the master link status failed")

    def _session(self) -> None:
        self.state = "connecting"
        sock = gevent.socket.create_connection((self.host, self.port), CONNECT_TIMEOUT)
        self.sock = sock
        sock.settimeout(REPL_TIMEOUT)
        self.state = "handshake"
        logger.info("MASTER <-> REPLICA sync started")
        lines = _Lines(sock)
        self._send([b"PING"])
        reply = lines.next()
        if reply[:1] == b"-" and not reply.startswith(b"-NOAUTH"):
            raise LinkError("error reply to PING: %r" % reply)
        for argv in ([b"REPLCONF", b"listening-port", b"%d" % self.my_port],
                     [b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]):
            self._send(argv)
            reply = lines.next()
            if reply[:1] == b"-":
                logger.info("(Non critical) Master does not understand {}: {}",
                            argv[1].decode(), reply.decode(errors="replace"))
        repl = self.replication
        if repl.backlog is not None:
            self._send([b"PSYNC", repl.replid.encode(), b"%d" % (repl.offset + 1)])
        else:
            self._send([b"PSYNC", b"?", b"-1"])
        reply = lines.next()
        reader = hiredis.Reader()
        if reply.startswith(b"+FULLRESYNC"):
            self._begin_full_sync(reply)
        elif reply.startswith(b"+CONTINUE"):
            self._continue(reply)
        else:
            raise LinkError("unexpected reply to PSYNC: %r" % reply[:200])
        self.client = self._master_client(sock)
        rest = lines.rest()
        if rest:
            reader.feed(rest)
        self._stream(reader)

    def _begin_full_sync(self, reply: bytes) -> None:
        words = reply.split()
        if len(words) != 3 or len(words[1]) != 40:
            raise LinkError("bad FULLRESYNC reply: %r" % reply)
        self.full_sync_replid = words[1].decode()
        logger.info("Full resync from master: {}:{}", self.full_sync_replid,
                    words[2].decode())
        self.state = "sync"
        self.sync_read_bytes = 0
        self.server.keyspace.flush()

    def _continue(self, reply: bytes) -> None:
        repl = self.replication
        words = reply.split()
        if len(words) == 2 and words[1].decode() != repl.replid:
            # The master's history goes on under a new id (it was promoted): ours, up
            # to here, is now our replid2, like Redis's PSYNC2.
            repl.replid2 = repl.replid
            repl.second_offset = repl.offset + 1
            repl.replid = words[1].decode()
            logger.info("Master replication ID changed to {}", repl.replid)
        logger.info("Successful partial resynchronization with master.")
        self._connected()

    def _connected(self) -> None:
        self.state = "connected"
        self.synced_once = True
        self.last_io = time.monotonic()
        self._report(True)
        if self._acker is None:
            self._acker = gevent.spawn(self._ack_loop)
        logger.info("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization."
                    if self.sync_read_bytes == 0 else
                    "MASTER <-> REPLICA sync: Finished with success")

    def _master_client(self, sock) -> Client:
        client = Client(self.server, sock, (self.host, self.port), None)
        client.is_master_link = True
        client.authenticated = True
        client.deny_blocking = True     # BLPOP & co never wait on this link
        self.server.clients[client.id] = client
        return client

    # ------------------------------------------------------------ the stream

    def _stream(self, reader) -> None:
        sock = self.sock
        while not self._stopped:
            self._drain(reader)
            data = sock.recv(RECV_SIZE)
            if not data:
                raise LinkError("master closed the connection")
            self.last_io = time.monotonic()
            self.read_offset += len(data)
            self.server.net_input_bytes += len(data)
            if self.state == "sync":
                self.sync_read_bytes += len(data)
            reader.feed(data)
            gevent.sleep(0)             # a busy master must not starve our own clients

    def _drain(self, reader) -> None:
        repl = self.replication
        client = self.client
        while True:
            item = reader.gets()
            if item is False:
                return
            if type(item) is list:
                if self.state == "connected":
                    data = encode_command(item)
                    repl.feed_from_master(data)
                process_command(client, item)
                if client.closed:
                    raise LinkError("master link closed")
                if item[0].lower() == b"replconf" and len(item) > 1 \
                        and item[1].lower() == b"getack" and self.state == "connected":
                    self._send_ack()
            elif type(item) is bytes and self.state == "sync":
                kind, value = snapshot.load_chunk(self.server.keyspace, item)
                if kind == "end":
                    self._end_full_sync(value)
                else:
                    gevent.sleep(0)     # loading: let our other clients run
            else:
                raise LinkError("unexpected item in the replication stream: %r"
                                % (item,)[:100])

    def _end_full_sync(self, offset: int) -> None:
        repl = self.replication
        repl.replid = self.full_sync_replid
        repl.replid2, repl.second_offset = "0" * 40, -1
        repl.offset = offset
        repl.backlog = ReplBacklog(self.server.settings.repl_backlog_size, offset)
        self.read_offset = offset
        logger.info("MASTER <-> REPLICA sync: Loaded {} keys, offset {}",
                    self.server.keyspace.size, offset)
        if self.server.aof is not None:
            # A new dataset: the AOF starts over from a rewrite of it (restartAOFAfterSYNC).
            self.server.aof.restart_after_sync()
        self._connected()

    # ------------------------------------------------------------ writing to the master

    def _send(self, argv) -> None:
        data = encode_command(argv)
        with self._send_lock:
            self.sock.sendall(data)

    def _send_ack(self) -> None:
        sock = self.sock
        if sock is None or self.state != "connected":
            return
        try:
            self._send([b"REPLCONF", b"ACK", b"%d" % self.replication.offset])
        except OSError:
            pass                        # the reader notices the broken link

    def _ack_loop(self) -> None:
        while not self._stopped:
            self._send_ack()
            gevent.sleep(ACK_PERIOD)

    # ------------------------------------------------------------ INFO / ROLE

    def last_io_seconds(self) -> int:
        return int(time.monotonic() - self.last_io) if self.client is not None else -1

    def last_interaction_ms_ago(self) -> float:
        return (time.monotonic() - self.last_io) * 1000.0


class _Lines:
    """Reads the handshake's single-line replies; keeps what follows for the stream."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def next(self) -> bytes:
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[:end + 2]
                if not line:
                    continue            # a newline keepalive while the master prepares
                return line
            if len(self.buf) > 64 * 1024:
                raise LinkError("handshake reply too long")
            data = self.sock.recv(RECV_SIZE)
            if not data:
                raise LinkError("master closed the connection during the handshake")
            self.buf += data

    def rest(self) -> bytes:
        data = bytes(self.buf)
        self.buf.clear()
        return data
