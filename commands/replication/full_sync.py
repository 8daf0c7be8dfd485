"""Full resynchronization, the master's side: an RDB of one instant, then the stream.

A replica that cannot continue from the backlog (PSYNC answered below, or the old SYNC)
gets what Redis 7.0 sends:

    +FULLRESYNC <replid> <offset>\\r\\n      (not for SYNC)
    [\\n ...]                                  keepalives while the RDB is being made
    $<len>\\r\\n<rdb>                          disk-based: the file the child saved
  | $EOF:<40 random chars>\\r\\n<rdb><same 40 chars>      diskless: the child's pipe
    <the stream from <offset> + 1 on>

The RDB is written by a forked child (commands/persistence/background.py), so it is the
dataset at the fork instant, and it carries repl-id/repl-offset of that instant: the
offset in +FULLRESYNC. From the fork on, the stream goes into the replica's output
buffer, held (commands/server/connection.py hold_output) until the RDB is through, and
subject to client-output-buffer-limit slave like any replica's buffer.

The replica's states (INFO slaveN state=): wait_bgsave (WAIT_START: waiting for a child;
WAIT_END: the child runs), send_bulk (the parent sends the saved file), online.

When the child starts (Redis's syncCommand, shouldStartChildReplication):

* disk-based (repl-diskless-sync no, or a waiting replica lacks `capa eof`): at once
  when no other child runs; a replica arriving while the disk child runs joins it,
  starting from a copy of an attached replica's buffer.
* diskless: after repl-diskless-sync-delay seconds (checked by the cron) so that
  replicas arriving together share one child; at once when
  repl-diskless-sync-max-replicas are waiting, or when the delay is 0. A replica
  arriving while the socket child runs waits for the next one.

Diskless end: the child's pipe is drained to every replica's socket; once the child
has exited with success, the replicas are online but their buffer is released only at
their first REPLCONF ACK (the replica detects the end by the trailing mark, so nothing
may follow it until the replica says it is done). Disk-based end: the saved file (dir/
dbfilename, like BGSAVE's) is sent with its length, then the buffer follows at once.

REPLCONF rdb-only 1 (redis-cli --rdb) gets the RDB and nothing else: its connection is
closed once the RDB is through. REPLCONF rdb-filter-only (redis-cli --replica,
--functions-rdb) asks for the functions only: an RDB without keys, always diskless, from
a child of its own (Redis's slave_req: replicas share a child only with equal requests).
"""
import os
import time

import gevent
import gevent.event
import gevent.os
from loguru import logger

from commands.data.keyspace import Keyspace
from commands.persistence.background import CHILD_RDB, ChildBusy
from commands.persistence.rdb_snapshot import library_codes, write_keyspace

WAIT_START = "wait_start"        # Redis's SLAVE_STATE_WAIT_BGSAVE_START
WAIT_END = "wait_end"            # SLAVE_STATE_WAIT_BGSAVE_END
SEND_BULK = "send_bulk"
ONLINE = "online"
RDB_TRANSMITTED = "rdb_transmitted"

INFO_STATES = {WAIT_START: "wait_bgsave", WAIT_END: "wait_bgsave", SEND_BULK: "send_bulk",
               ONLINE: "online", RDB_TRANSMITTED: "rdb_transmitted"}

EOF_MARK_SIZE = 40
IO_CHUNK = 64 * 1024
KEEPALIVE_PERIOD = 1.0           # Redis's replicationCron sends "\n" once a second


def rdb_options(settings) -> dict:
    return {"compress": settings.rdbcompression, "checksum": settings.rdbchecksum,
            "key_delay_us": settings.rdb_key_save_delay}


class FullSyncs:
    """The full syncs of one master: who waits, the child serving them, the transfer."""

    def __init__(self, replication):
        self.replication = replication
        self.server = replication.server
        self.target = None               # "disk" | "socket" while our child runs
        self._last_keepalive = 0.0
        self._generated_file = None      # rdb-del-sync-files: the file we made for a sync

    # ------------------------------------------------------------ arrival

    def request(self, replica) -> None:
        """A replica needs a full sync (syncCommand's three cases)."""
        replica.phase = WAIT_START
        replica.waiting_since = time.monotonic()
        settings = self.server.settings
        if self.target == "disk":
            donor = next((r for r in self.replication.replicas
                          if r.phase == WAIT_END and r.target == "disk"
                          and (not r.rdb_only or replica.rdb_only)
                          and r.no_data == replica.no_data
                          and r.functions == replica.functions), None)
            if donor is not None and donor.capa <= replica.capa:
                if not replica.rdb_only:
                    replica.client.copy_held_output(donor.client)
                self._setup_full_resync(replica, donor.initial_offset, "disk")
                logger.info("Waiting for end of BGSAVE for SYNC")
            else:
                logger.info("Can't attach the replica to the current BGSAVE. Waiting for "
                            "next BGSAVE for SYNC")
        elif self.target == "socket":
            logger.info("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC")
        elif settings.repl_diskless_sync and "eof" in replica.capa \
                and settings.repl_diskless_sync_delay:
            logger.info("Delay next BGSAVE for diskless SYNC")
        elif self.server.children.busy():
            logger.info("No BGSAVE in progress, but another BG operation is active. "
                        "BGSAVE for replication delayed")
        else:
            self._start([replica])

    # ------------------------------------------------------------ cron

    def cron(self) -> None:
        """From the server cron: keepalives, a pending child, leftover sync files."""
        self._remove_sync_file()
        if not self.replication.replicas:
            return
        now = time.monotonic()
        waiting = [r for r in self.replication.replicas if r.phase == WAIT_START]
        if waiting:
            # One child serves one kind of request: the first waiting replica's.
            waiting = [r for r in waiting if r.no_data == waiting[0].no_data
                       and r.functions == waiting[0].functions]
        if now - self._last_keepalive >= KEEPALIVE_PERIOD:
            self._last_keepalive = now
            for replica in self.replication.replicas:
                # Not into a socket transfer: the newline would land inside the RDB.
                if replica.phase == WAIT_START or \
                        (replica.phase == WAIT_END and replica.target == "disk"):
                    _send_now(replica.client, b"\n")
        if waiting and not self.server.children.busy() and self.target is None:
            settings = self.server.settings
            longest = max(now - r.waiting_since for r in waiting)
            wanted = settings.repl_diskless_sync_max_replicas
            if not settings.repl_diskless_sync or longest >= settings.repl_diskless_sync_delay \
                    or (wanted and len(waiting) >= wanted):
                self._start(waiting)

    # ------------------------------------------------------------ the child

    def _start(self, replicas) -> None:
        """startBgsaveForReplication: one child for every replica waiting."""
        settings = self.server.settings
        no_data = replicas[0].no_data
        # A filtered RDB never goes to disk: it would replace dbfilename with no data.
        socket_target = (settings.repl_diskless_sync or no_data) and \
            all("eof" in r.capa for r in replicas)
        target = "socket" if socket_target else "disk"
        logger.info("Starting BGSAVE for SYNC with target: {}",
                    "replicas sockets" if socket_target else "disk")
        repl = self.replication
        replid, offset = repl.replid, repl.offset
        keyspace = Keyspace() if no_data else self.server.keyspace
        functions = library_codes(self.server) if replicas[0].functions else ()
        options = rdb_options(settings)
        read_fd = write_fd = None
        if socket_target:
            read_fd, write_fd = os.pipe()
            mark = os.urandom(EOF_MARK_SIZE // 2).hex().encode()

            def work():
                os.close(read_fd)
                try:
                    with open(write_fd, "wb", buffering=IO_CHUNK) as out:
                        out.write(b"$EOF:%s\r\n" % mark)
                        write_keyspace(keyspace, out, repl_id=replid, repl_offset=offset,
                                       functions=functions, **options)
                        out.write(mark)
                except BrokenPipeError:
                    return False        # the parent stopped reading: nobody to send to
                return True
            purpose = "RDB transfer to replicas"
        else:
            persistence = self.server.persistence
            path = persistence.path

            def work():
                # BGSAVE's file, written the same way: the child's replid and offset
                # are those of the fork instant.
                persistence.write_file(path)
                return True
            purpose = "background save for replication"
        transfer = _Transfer(target, read_fd, list(replicas))
        transfer.dirty_at_fork = self.server.keyspace.dirty
        try:
            transfer.pid = self.server.children.start(
                CHILD_RDB, purpose, work,
                lambda ok, killed: self._child_done(transfer, ok, killed))
        except (ChildBusy, OSError) as exc:
            for fd in (read_fd, write_fd):
                if fd is not None:
                    os.close(fd)
            if isinstance(exc, ChildBusy):
                return                  # the cron tries again when the child is gone
            logger.warning("Can't save in background: fork: {}", exc)
            logger.warning("BGSAVE for replication failed")
            for replica in replicas:
                _send_now(replica.client, b"-ERR BGSAVE failed, replication can't "
                                          b"continue\r\n")
                replica.client.kill()
            return
        self.target = target
        if socket_target:
            os.close(write_fd)
            logger.info("Background RDB transfer started by pid {}", transfer.pid)
        else:
            logger.info("Background saving started by pid {}", transfer.pid)
        for replica in replicas:
            self._setup_full_resync(replica, offset, target)
        if socket_target:
            gevent.spawn(self._stream_pipe, transfer)

    def _setup_full_resync(self, replica, offset: int, target: str) -> None:
        """replicationSetupSlaveForFullResync: from here the stream accumulates in the
        replica's (held) buffer, and it learns the offset the RDB stands for."""
        replica.initial_offset = offset
        replica.phase = WAIT_END
        self.replication.stream_db = -1      # the next command re-SELECTs, as Redis
        replica.target = target
        client = replica.client
        client.hold_output()
        if not replica.pre_psync:
            line = b"+FULLRESYNC %s %d\r\n" % (self.replication.replid.encode(), offset)
            if not _send_now(client, line):
                client.kill()

    def _child_done(self, transfer, ok: bool, killed: bool) -> None:
        """The child was reaped (or killed). A socket transfer finishes in its own
        greenlet once the pipe is drained too; a disk one goes on to send the file."""
        if transfer.target == "socket":
            transfer.ok = ok
            transfer.child_done.set()
            return
        self.target = None
        # rdbSaveBackground for a replica is a BGSAVE: lastsave, dirty, bgsave status.
        if not killed:
            self.server.persistence.replication_save_done(ok, transfer.dirty_at_fork)
        if ok:
            logger.info("Background saving terminated with success")
            self._disk_done()
            return
        for replica in list(self.replication.replicas):
            if replica.phase == WAIT_END:
                logger.warning("SYNC failed. BGSAVE child returned an error")
                replica.client.kill()

    # ------------------------------------------------------------ disk-based

    def _disk_done(self) -> None:
        path = self.server.persistence.path
        if self.server.settings.rdb_del_sync_files:
            self._generated_file = path
        for replica in list(self.replication.replicas):
            if replica.phase == WAIT_END:
                replica.phase = SEND_BULK
                gevent.spawn(self._send_file, replica, path)

    def _send_file(self, replica, path: str) -> None:
        """sendBulkToSlave: $<size>, the file, then the held stream."""
        client = replica.client
        timeout = self.server.settings.repl_timeout
        try:
            with open(path, "rb") as rdb:
                size = os.fstat(rdb.fileno()).st_size
                with gevent.Timeout(timeout):
                    client.send_direct(b"$%d\r\n" % size)
                sent = 0
                while sent < size:
                    data = rdb.read(IO_CHUNK)
                    if not data:
                        raise OSError("premature EOF")
                    with gevent.Timeout(timeout):
                        client.send_direct(data)
                    sent += len(data)
        except (OSError, gevent.Timeout) as exc:
            if not client.closed:
                logger.warning("Write error sending DB to replica: {}", exc or "timeout")
                client.kill()
            return
        if client.closed:
            return
        if self._put_online(replica):
            client.release_output()

    # ------------------------------------------------------------ diskless

    def _stream_pipe(self, transfer) -> None:
        """rdbPipeReadHandler: what the child writes goes to every replica of this
        transfer, at the pace of the slowest (one buffer, like Redis's). No new socket
        child starts before this one's pipe is drained (self.target stays set)."""
        try:
            self._drain_pipe(transfer)
        finally:
            self.target = None

    def _drain_pipe(self, transfer) -> None:
        read_fd = transfer.read_fd
        timeout = self.server.settings.repl_timeout
        live = transfer.replicas
        try:
            gevent.os.make_nonblocking(read_fd)
            while live:
                data = gevent.os.nb_read(read_fd, IO_CHUNK)
                if not data:
                    break
                for replica in list(live):
                    client = replica.client
                    try:
                        if client.closed:
                            raise OSError("connection closed")
                        with gevent.Timeout(timeout):
                            client.send_direct(data)
                    except (OSError, gevent.Timeout) as exc:
                        if not client.closed:
                            logger.warning("Diskless rdb transfer, write error sending DB "
                                           "to replica: {}", exc or "timeout")
                            client.kill()
                        live.remove(replica)
            if not live:
                logger.warning("Diskless rdb transfer, last replica dropped, killing fork "
                               "child.")
                children = self.server.children
                if children.active is not None and children.active.pid == transfer.pid:
                    children.kill()
                return
            logger.warning("Diskless rdb transfer, done reading from pipe, {} replicas "
                           "still up.", len(live))
        finally:
            os.close(read_fd)
        transfer.child_done.wait()
        if not transfer.ok:
            for replica in live:
                logger.warning("SYNC failed. BGSAVE child returned an error")
                replica.client.kill()
            return
        for replica in live:
            if replica.client.closed or replica.phase != WAIT_END:
                continue
            logger.info("Streamed RDB transfer with replica {} succeeded (socket). Waiting "
                        "for REPLCONF ACK from slave to enable streaming", replica.name)
            if self._put_online(replica):
                if replica.acked_in_sync:
                    replica.client.release_output()
                else:
                    replica.start_stream_on_ack = True

    # ------------------------------------------------------------ online

    def _put_online(self, replica) -> bool:
        """replicaPutOnline; False when the connection is to be closed (rdb-only)."""
        if replica.rdb_only:
            replica.phase = RDB_TRANSMITTED
            logger.info("RDB transfer completed, rdb only replica ({}) should be "
                        "disconnected asap", replica.name)
            replica.client.kill()
            return False
        replica.phase = ONLINE
        replica.ack_time = time.monotonic()
        logger.info("Synchronization with replica {} succeeded", replica.name)
        return True

    def on_ack(self, replica) -> None:
        """REPLCONF ACK: the first one after a diskless transfer starts the stream. It
        may come before the child is reaped (the cron's pace): then it is remembered,
        and the child is looked at now (Redis's checkChildrenDone from the ACK)."""
        if replica.start_stream_on_ack and replica.phase == ONLINE:
            replica.start_stream_on_ack = False
            replica.client.release_output()
        elif replica.phase == WAIT_END and replica.target == "socket":
            replica.acked_in_sync = True
            self.server.children.reap()

    def _remove_sync_file(self) -> None:
        """removeRDBUsedToSyncReplicas: with rdb-del-sync-files and no persistence, the
        file made for a disk-based sync does not stay around."""
        path = self._generated_file
        if path is None:
            return
        settings = self.server.settings
        if not settings.rdb_del_sync_files:
            self._generated_file = None
            return
        if settings.save or settings.appendonly:
            return
        if any(r.phase in (WAIT_START, WAIT_END, SEND_BULK)
               for r in self.replication.replicas):
            return
        self._generated_file = None
        try:
            os.unlink(path)
            logger.info("Removing the RDB file used to feed replicas in a "
                        "persistence-less instance")
        except OSError:
            pass


class _Transfer:
    """One child's RDB: its target, pid, pipe (socket target) and replicas."""

    def __init__(self, target: str, read_fd, replicas):
        self.target = target
        self.read_fd = read_fd
        self.replicas = replicas
        self.pid = None
        self.dirty_at_fork = 0
        self.ok = None
        self.child_done = gevent.event.Event()


def _send_now(client, data: bytes) -> bool:
    """A short write that must not wait (the +FULLRESYNC line, a keepalive newline):
    Redis's connWrite on a socket whose buffer is empty at that point."""
    if client.closed:
        return False
    try:
        sent = client.send_nowait(data)
    except OSError:
        return False
    client.server.net_output_bytes += sent
    return sent == len(data)
