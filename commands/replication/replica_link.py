"""Replication, the replica's side: the link to our master and the role changes.

The cluster state machine decides the role (CLUSTER REPLICATE, a failover, an UPDATE that
took our slots) and says so with a ReplicationChanged effect; node.py hands it to
`replication_changed`. As a replica we run one greenlet per master (ReplicaLink):

  connect to the master's client port -> PING -> [AUTH [masteruser] masterauth] ->
  REPLCONF listening-port <port> -> REPLCONF capa eof capa psync2 -> PSYNC <replid>
  <offset+1> (or PSYNC ? -1 with no history) -> +FULLRESYNC <replid> <offset>: receive
  the RDB (rdb_transfer.py), flush, load it, count offsets from <offset> |
  +CONTINUE [new replid]: go on -> apply the stream through the executor, counting
  offsets, feeding our own backlog.

The stream is run by a client flagged as our master (CLIENT LIST flags=M): no replies,
no routing redirects, no read-only refusal, never blocks. REPLCONF ACK <offset> goes
back every second and on REPLCONF GETACK. A broken link is retried every second with a
partial resync; CLIENT KILL TYPE master breaks it on purpose.

On promotion (ReplicationChanged(None)) the link stops, the data stays, and the ids shift
(replication.py) so our old master's other replicas can continue from us.
"""
import os
import time

import gevent
import gevent.lock
import gevent.socket
import hiredis
from loguru import logger

from commands.data.keyspace import Keyspace
from commands.persistence.background import CHILD_RDB
from commands.persistence.loading import LoadingProgress
from commands.persistence.durable_file import fsync_directory
from commands.persistence.rdb_snapshot import load_into
from commands.rdb import RdbError
from commands.replication.backlog import ReplBacklog
from commands.replication.propagation import encode_command
from commands.replication.rdb_transfer import (PayloadReader, TransferError, copy_to_file,
                                               parse_preamble, temp_file_path)
from cluster.tls import connect as tls_connect
from commands.server.connection import Client
from commands.server.executor import process_command
from commands.server.resp import ReplyError

CONNECT_TIMEOUT = 5.0
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
    replication.link.start()


def error_from_master_stream(server, argv, error) -> None:
    """A command of our master's stream failed here (Redis's afterErrorReply): logged
    as CRITICAL and counted; with propagation-error-behavior panic or panic-on-replicas
    a read-only replica stops rather than drift from its master."""
    name = argv[0].decode("utf-8", "replace")[:128]
    logger.warning("== CRITICAL == This replica is sending an error to its master: '{}' "
                   "after processing the command '{}'", str(error)[:128], name)
    server.unexpected_errors += 1
    if server.settings.propagation_error_behavior != "ignore" and \
            server.settings.replica_read_only:
        logger.critical("This replica panicked sending an error to its master after "
                        "processing the command '{}'", name)
        os._exit(1)


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
        self.sync_total_bytes = -1      # master_sync_total_bytes: -1 until "$", 0 for EOF
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
            logger.info("Connecting to MASTER {}:{}", self.host, self.port)
            try:
                self._session()
            except (OSError, LinkError, TransferError, RdbError, hiredis.ProtocolError,
                    gevent.socket.timeout) as exc:
                if not self._stopped:
                    self._log_failure(exc)
            except Exception:
                logger.exception("replication link to {}:{} failed", self.host, self.port)
            finally:
                self._drop()
            if not self._stopped:
                gevent.sleep(RETRY_DELAY)

    def _log_failure(self, exc) -> None:
        """Redis's line for a link that failed: lost, once it was up; a socket error
        before that; else what went wrong in the handshake or the transfer, in the
        error's own words (they are Redis's)."""
        if self.state == "connected":
            logger.warning("Connection with master lost.")
        elif isinstance(exc, OSError):
            logger.warning("Error condition on socket for SYNC: {}",
                           exc.strerror or exc or type(exc).__name__)
        else:
            logger.warning("{}", exc)

    def _drop(self) -> None:
        was_up = self.state == "connected"
        self.state = "connect"
        # What was read but not processed is gone with the connection (Redis's
        # replicationCacheMaster drops the query buffer): read = processed again.
        self.read_offset = self.replication.offset
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
        settings = self.server.settings
        self.state = "connecting"
        source = (settings.bind_source_addr, 0) if settings.bind_source_addr else None
        # tls-replication: the link to the master is TLS (to its tls-port).
        tls = self.server.tls if settings.tls_replication else None
        sock = tls_connect((self.host, self.port), tls, CONNECT_TIMEOUT,
                           source_address=source)
        self.sock = sock
        sock.settimeout(settings.repl_timeout)
        self.state = "handshake"
        logger.info("MASTER <-> REPLICA sync started")
        lines = _Lines(sock)
        self._send([b"PING"])
        reply = lines.next()
        # An unauthenticated PING is refused by a password-protected master: fine,
        # AUTH comes next (syncWithMaster accepts these three).
        if reply[:1] != b"+" and not reply.startswith((b"-NOAUTH", b"-NOPERM",
                                                         b"-ERR operation not permitted")):
            raise LinkError("Error reply to PING from master: '%s'"
                            % reply.decode(errors="replace"))
        logger.info("Master replied to PING, replication can continue...")
        if settings.masterauth:
            argv = [b"AUTH", settings.masterauth.encode()]
            if settings.masteruser:
                argv.insert(1, settings.masteruser.encode())
            self._send(argv)
            reply = lines.next()
            if reply[:1] == b"-":
                raise LinkError("Unable to AUTH to MASTER: %s"
                                % reply.decode(errors="replace"))
        # replica-announce-port / -ip: what the master shows and tells others (NAT).
        handshake = [[b"REPLCONF", b"listening-port",
                      b"%d" % (settings.replica_announce_port or self.my_port)]]
        if settings.replica_announce_ip:
            handshake.append([b"REPLCONF", b"ip-address",
                              settings.replica_announce_ip.encode()])
        handshake.append([b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
        for argv in handshake:
            self._send(argv)
            reply = lines.next()
            if reply.startswith((b"-NOAUTH", b"-WRONGPASS", b"-NOPERM")):
                raise LinkError("the master refused %s: %s (%s)" % (
                    argv[1].decode(), reply.decode(errors="replace"),
                    "set masterauth (and masteruser)" if not settings.masterauth else
                    "check masterauth and masteruser"))
            if reply[:1] == b"-":
                logger.info("(Non critical) Master does not understand REPLCONF {}: {}",
                            argv[1].decode(), reply.decode(errors="replace"))
        repl = self.replication
        if repl.backlog is not None:
            self._send([b"PSYNC", repl.replid.encode(), b"%d" % (repl.offset + 1)])
        else:
            self._send([b"PSYNC", b"?", b"-1"])
        reply = lines.next()
        reader = hiredis.Reader()
        if reply.startswith(b"+FULLRESYNC"):
            self._full_sync(reply, lines)
        elif reply.startswith(b"+CONTINUE"):
            self._continue(reply)
        elif reply.startswith((b"-NOMASTERLINK", b"-LOADING")):
            raise LinkError("Master is currently unable to PSYNC but should be in the "
                            "future: %s" % reply[:200].decode(errors="replace"))
        else:
            raise LinkError("Unexpected reply to PSYNC from master: %s"
                            % reply[:200].decode(errors="replace"))
        self.client = self._master_client(sock)
        rest = lines.rest()
        if rest:
            # Stream bytes that came with the PSYNC reply (or after the RDB): read.
            self.read_offset += len(rest)
            reader.feed(rest)
        self._stream(reader)

    # ------------------------------------------------------------ full sync

    def _full_sync(self, reply: bytes, lines) -> None:
        """+FULLRESYNC <replid> <offset>, then the RDB (readSyncBulkPayload)."""
        words = reply.split()
        if len(words) != 3 or len(words[1]) != 40 or not words[2].isdigit():
            raise LinkError("bad FULLRESYNC reply: %r" % reply[:200])
        replid, offset = words[1].decode(), int(words[2])
        logger.info("Full resync from master: {}:{}", replid, offset)
        self.state = "sync"
        self.sync_total_bytes = -1
        self.sync_read_bytes = 0
        self.last_io = time.monotonic()
        size, mark = parse_preamble(lines.next())
        self.sync_total_bytes = size if size is not None else 0
        settings = self.server.settings
        keyspace = self.server.keyspace
        mode = settings.repl_diskless_load
        to_disk = mode == "disabled" or (mode == "on-empty-db" and keyspace.size)
        if mark is not None:
            logger.info("MASTER <-> REPLICA sync: receiving streamed RDB from master with "
                        "EOF {}", "to disk" if to_disk else "to parser")
        else:
            logger.info("MASTER <-> REPLICA sync: receiving {} bytes from master {}",
                        size, "to disk" if to_disk else "to parser")
        payload = PayloadReader(self.sock, lines.rest(), size=size, mark=mark,
                                on_bytes=self._sync_bytes)
        if to_disk:
            self._load_through_disk(payload)
        elif mode == "swapdb":
            self._load_beside(payload, same_history=replid == self.replication.replid)
        else:
            self._load_from_socket(payload)
        lines.push_back(payload.leftover)
        repl = self.replication
        repl.replid = replid
        repl.replid2, repl.second_offset = "0" * 40, -1
        repl.offset = offset
        repl.backlog = ReplBacklog(settings.repl_backlog_size, offset)
        self.read_offset = offset
        if self.server.aof is not None:
            # A new dataset: the AOF starts over from a rewrite of it (restartAOFAfterSYNC).
            self.server.aof.restart_after_sync()
        self._connected(True)

    def _sync_bytes(self, count: int) -> None:
        self.sync_read_bytes += count
        self.server.net_input_bytes += count
        self.server.net_repl_input_bytes += count
        self.last_io = time.monotonic()

    def _load_through_disk(self, payload) -> None:
        """repl-diskless-load disabled: the payload becomes our dbfilename (renamed
        over it, as Redis does: the file is our dataset now), then it is loaded."""
        settings = self.server.settings
        temp = temp_file_path(settings.dir)
        path = os.path.join(settings.dir, settings.dbfilename)
        try:
            size = copy_to_file(payload, temp, pause=_yield)
            os.replace(temp, path)
        except OSError as exc:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise TransferError("Failed trying to write or rename the temp DB into %s in "
                                "MASTER <-> REPLICA synchronization: %s"
                                % (path, exc.strerror or exc)) from None
        try:
            fsync_directory(settings.dir)
            self._flush_old_data()
            with open(path, "rb") as rdb:
                self._load(rdb, size, "disk")
        finally:
            if settings.rdb_del_sync_files and not settings.save and not settings.appendonly:
                logger.info("Removing the RDB file obtained from the master. This replica "
                            "has persistence disabled")
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def _load_from_socket(self, payload) -> None:
        self._flush_old_data()
        self._load(payload, payload.size or 0, "socket")
        if not payload.done or payload.read(1):
            raise TransferError("the RDB ended before the payload did")
        self.server.keyspace.dirty += 1     # not saved anywhere yet: a save point sees it

    def _load_beside(self, payload, same_history: bool) -> None:
        """repl-diskless-load swapdb: load into a new keyspace while the old one stays;
        swap them when the RDB is complete, keep the old one if it is bad. With the
        same replication history (the old data is an earlier state of the new) the old
        data is served meanwhile, as Redis's async loading; otherwise -LOADING."""
        self._kill_rdb_child()
        fresh = Keyspace()
        fresh.lru_clock = self.server.keyspace.lru_clock
        logger.info("MASTER <-> REPLICA sync: Loading DB in memory{}",
                    " (async loading, the old data is served)" if same_history else "")
        self._load(payload, payload.size or 0, "socket", into=fresh,
                   blocking=not same_history)
        if not payload.done or payload.read(1):
            raise TransferError("the RDB ended before the payload did")
        logger.info("MASTER <-> REPLICA sync: Swapping active DB with loaded DB")
        self.server.keyspace.replace_with(fresh)

    def _kill_rdb_child(self) -> None:
        children = self.server.children
        if children is not None and children.busy() and children.active.kind == CHILD_RDB:
            # Its file would be of the data we are about to replace (and its pages
            # would all be copied while we load).
            logger.info("Replica is about to load the RDB file received from the master, "
                        "but there is a pending RDB child running. Killing process {} and "
                        "removing its temp file to avoid any race", children.active.pid)
            children.kill()

    def _flush_old_data(self) -> None:
        self._kill_rdb_child()
        logger.info("MASTER <-> REPLICA sync: Flushing old data")
        self.server.keyspace.flush()

    def _load(self, stream, size: int, source: str, into=None, blocking=True) -> None:
        """Load the master's RDB (into the keyspace, or `into`), with -LOADING meanwhile
        when blocking. Keys already expired are skipped (rdb_snapshot.load_into says
        why). A bad RDB leaves what it was loaded into empty and drops the link."""
        server = self.server
        keyspace = server.keyspace if into is None else into
        if into is None:
            logger.info("MASTER <-> REPLICA sync: Loading DB in memory")
        progress = LoadingProgress(size)
        if blocking:
            server.loading = progress
        try:
            result = load_into(keyspace, _Counted(stream, progress),
                               verify_checksum=server.settings.rdbchecksum,
                               progress=lambda _: _yield(), functions=server.functions)
        except RdbError as exc:
            keyspace.flush()
            raise TransferError("Failed trying to load the MASTER synchronization DB "
                                "from %s: %s" % (source, exc)) from None
        finally:
            server.loading = None
        logger.info("MASTER <-> REPLICA sync: Finished loading {} keys from {}",
                    result.keys_loaded, source)

    def _continue(self, reply: bytes) -> None:
        repl = self.replication
        words = reply.split()
        if len(words) == 2 and words[1].decode() != repl.replid:
            # The master's history goes on under a new id (it was promoted): ours, up
            # to here, is now our replid2, like Redis's PSYNC2.
            repl.replid2 = repl.replid
            repl.second_offset = repl.offset + 1
            repl.replid = words[1].decode()
            logger.warning("Master replication ID changed to {}", repl.replid)
        # The stream goes on from what we processed: read and processed start equal
        # (slave_read_repl_offset must not restart from an old count).
        self.read_offset = repl.offset
        logger.info("Successful partial resynchronization with master.")
        self._connected(False)

    def _connected(self, full: bool) -> None:
        self.state = "connected"
        self.synced_once = True
        self.last_io = time.monotonic()
        self._report(True)
        if self._acker is None:
            self._acker = gevent.spawn(self._ack_loop)
        logger.info("MASTER <-> REPLICA sync: Finished with success" if full else
                    "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")

    def _master_client(self, sock) -> Client:
        client = Client(self.server, sock, (self.host, self.port), None)
        client.is_master_link = True
        client.authenticated = True
        client.user = None            # our master is obeyed whatever the ACL says
        client.acl_gate = False
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
            self.server.net_repl_input_bytes += len(data)
            reader.feed(data)
            gevent.sleep(0)             # a busy master must not starve our own clients

    def _drain(self, reader) -> None:
        repl = self.replication
        client = self.client
        keyspace = self.server.keyspace
        while True:
            item = reader.gets()
            if item is False:
                return
            if type(item) is list:
                if self.state == "connected":
                    data = encode_command(item)
                    repl.feed_from_master(data)
                keyspace.master_applying = True
                try:
                    reply = process_command(client, item)
                finally:
                    keyspace.master_applying = False
                if isinstance(reply, ReplyError):
                    error_from_master_stream(self.server, item, reply)
                if client.closed:
                    raise LinkError("master link closed")
                if item[0].lower() == b"replconf" and len(item) > 1 \
                        and item[1].lower() == b"getack" and self.state == "connected":
                    self._send_ack()
            else:
                raise LinkError("unexpected item in the replication stream: %r"
                                % (item,)[:100])

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


class _Counted:
    """Counts the bytes the loader reads (INFO loading_loaded_bytes)."""

    def __init__(self, stream, progress):
        self._stream = stream
        self._progress = progress

    def read(self, n=-1):
        data = self._stream.read(n)
        self._progress.loaded_bytes += len(data)
        return data


def _yield() -> None:
    """Loading: let our other clients run."""
    gevent.sleep(0)


class _Lines:
    """Reads the handshake's single-line replies; keeps what follows for the stream."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def next(self) -> bytes:
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[:end]).rstrip(b"\r")
                del self.buf[:end + 1]
                if not line:
                    continue            # a bare "\n": keepalive while the master prepares
                return line
            if len(self.buf) > 64 * 1024:
                raise LinkError("handshake reply too long")
            data = self.sock.recv(RECV_SIZE)
            if not data:
                raise LinkError("master closed the connection during the handshake")
            self.buf += data

    def push_back(self, data: bytes) -> None:
        """Bytes read past the RDB: the start of the stream."""
        self.buf[:0] = data

    def rest(self) -> bytes:
        data = bytes(self.buf)
        self.buf.clear()
        return data
