"""Replication, the master's side: replication ids and offset, the backlog, the replicas
attached to us, and the stream of propagated commands they receive.

One Replication object per node (server.replication), whatever the role: a replica keeps
the same ids, offset and backlog (fed by replica_link.py with its master's stream), so
that once promoted it can let the other replicas of its old master continue partially.

The stream is Redis's: the RESP of the propagated commands (commands/replication/propagation.py), in
execution order; master_repl_offset counts its bytes, and the backlog keeps the last
repl-backlog-size of them for PSYNC <replid> <offset> after a short disconnect
(+CONTINUE). Ids shift like Redis's on promotion: the new master gets a new replid and
keeps the old one as replid2, valid up to second_repl_offset.

Full sync: commands/replication/full_sync.py (a forked child writes the RDB of one
instant; the stream from that instant waits in the replica's output buffer).
"""
import os
import socket
import time

import gevent
from loguru import logger

from commands.replication.backlog import ReplBacklog
from commands.replication.full_sync import INFO_STATES, ONLINE, WAIT_START, FullSyncs
from commands.replication.propagation import Propagator, encode_command
from commands.server.blocking import block, can_block, finish
from commands.server.resp import ReplyError

NO_REPLID = "0" * 40
_MULTI = [b"MULTI"]
_EXEC = [b"EXEC"]
_PING = encode_command([b"ping"])
_GETACK = encode_command([b"REPLCONF", b"GETACK", b"*"])
_SELECT_0 = encode_command([b"SELECT", b"0"])


def new_replid() -> str:
    return os.urandom(20).hex()


class ReplicaState:
    """A replica connected to us (Redis's slave client fields)."""

    __slots__ = ("client", "ip", "port", "capa", "phase", "ack_offset", "ack_time",
                 "pre_psync", "rdb_only", "no_data", "functions", "initial_offset", "target",
                 "waiting_since", "start_stream_on_ack", "acked_in_sync")

    def __init__(self, client, ip: str, port: int, capa, pre_psync=False, rdb_only=False,
                 no_data=False, functions=True):
        self.client = client
        self.ip = ip
        self.port = port
        self.capa = capa                 # set of REPLCONF capa names ("eof", "psync2")
        self.phase = ONLINE              # see full_sync.py for the others
        self.ack_offset = 0
        self.ack_time = time.monotonic()
        self.pre_psync = pre_psync       # came with SYNC: no +FULLRESYNC, no ACKs
        self.rdb_only = rdb_only         # REPLCONF rdb-only 1: the RDB, then goodbye
        self.no_data = no_data           # REPLCONF rdb-filter-only: an RDB without keys
        self.functions = functions       # ... and with the function libraries or not
        self.initial_offset = -1         # the offset of +FULLRESYNC (psync_initial_offset)
        self.target = None               # "disk" | "socket": how its RDB travels
        self.waiting_since = 0.0
        self.start_stream_on_ack = False
        self.acked_in_sync = False       # an ACK came before we saw the child end

    @property
    def name(self) -> str:
        """replicationGetSlaveName: its listening port, else its connection's address."""
        return "%s:%d" % (self.ip, self.port) if self.port else self.client.addr_text

    @property
    def state(self) -> str:
        """INFO's state= field."""
        return INFO_STATES[self.phase]


class Replication:
    def __init__(self, server):
        self.server = server
        self.replid = new_replid()
        self.replid2 = NO_REPLID
        self.second_offset = -1
        self.offset = 0                  # master_repl_offset
        self.backlog = None              # created by the first sync (or a promotion)
        self.replicas = []               # ReplicaState, in order of attachment
        self.link = None                 # replica_link.ReplicaLink while we are a replica
        # Redis's slaveseldb: the db the stream last SELECTed, -1 after a new backlog,
        # a full-sync setup or a promotion. A cluster node has only db 0, but the
        # stream still says SELECT 0 first, as Redis's does (redis-cli --replica
        # relies on it: it takes the first thing after its ACK as the ACK's reply).
        self.stream_db = -1
        self.propagator = Propagator(self._feed_unit)
        self.full_syncs = FullSyncs(self)
        self.wait_clients = []           # (client, offset, numreplicas) blocked in WAIT
        self.sync_full = self.sync_partial_ok = self.sync_partial_err = 0
        self._getack_pending = False
        self._last_ping = time.monotonic()
        self.no_replicas_since = time.monotonic()   # repl-backlog-ttl counts from here
        self.good_replicas = 0           # min-replicas-to-write's count

    # ------------------------------------------------------------ role

    @property
    def is_master(self) -> bool:
        return self.link is None

    def update_activity(self) -> None:
        self.propagator.set_replication_active(self.is_master and self.backlog is not None)
        # replica-read-only no: a replica takes keyless writes from its clients too.
        self.server.read_only_replica = not self.is_master and \
            self.server.settings.replica_read_only
        # A replica leaves expiry to its master's DELs (commands/data/keyspace.py).
        self.server.keyspace.lazy_expire = self.is_master
        self.refresh_good_replicas()
        self.refresh_masterdown()

    def refresh_masterdown(self) -> None:
        """replica-serve-stale-data no: while our master link is down, serve only the
        commands flagged stale (-MASTERDOWN, commands/server/executor.py)."""
        link = self.link
        self.server.masterdown = link is not None and not link.link_up and \
            not self.server.settings.replica_serve_stale_data

    def create_backlog(self) -> None:
        self.backlog = ReplBacklog(self.server.settings.repl_backlog_size, self.offset)
        self.stream_db = -1
        self.update_activity()

    def resize_backlog(self, size: int) -> None:
        if self.backlog is not None:
            self.backlog.resize(size)

    def shift_replid(self) -> None:
        """A replica becomes a master (Redis's shiftReplicationId): its history under the
        old id stays valid, up to here, for the other replicas of its old master."""
        self.replid2 = self.replid
        self.second_offset = self.offset + 1
        self.replid = new_replid()
        self.stream_db = -1
        logger.warning("Setting secondary replication ID to {}, valid up to offset: {}. "
                       "New replication ID is {}", self.replid2, self.second_offset,
                       self.replid)

    def change_replid(self) -> None:
        """DEBUG CHANGE-REPL-ID (changeReplicationId + clearReplicationId2): a new
        history, and no second one, so no replica can continue partially."""
        self.replid = new_replid()
        self.replid2, self.second_offset = NO_REPLID, -1

    def disconnect_replicas(self) -> None:
        for replica in list(self.replicas):
            replica.client.kill()
        self.replicas.clear()
        self.no_replicas_since = time.monotonic()

    # ------------------------------------------------------------ the stream

    def _feed_unit(self, unit) -> int:
        """Append one propagation unit to the stream; returns the new offset."""
        commands = [_MULTI, *unit, _EXEC] if len(unit) > 1 else unit
        data = b"".join([encode_command(argv) for argv in commands])
        if self.stream_db != 0:
            self.stream_db = 0
            data = _SELECT_0 + data
        self.feed(data)
        return self.offset

    def feed(self, data: bytes) -> None:
        """Bytes into the backlog and to every replica: online ones get them now, the
        ones in a full sync hold them in their output buffer until the RDB is through
        (client.hold_output); a replica still waiting for its child gets nothing, its
        RDB will include this."""
        self.offset += len(data)
        self.backlog.append(data)
        for replica in self.replicas:
            if replica.phase != WAIT_START and not replica.rdb_only:
                replica.client.push_raw(data)

    def feed_from_master(self, data: bytes) -> None:
        """A replica keeps its master's stream in its own backlog, at the same offsets."""
        self.offset += len(data)
        self.backlog.append(data)

    def propagate_deletion(self, key: bytes, expired: bool = True,
                           evicted: bool = False) -> None:
        """A key the node removed by itself: an expired one (lazyfree-lazy-expire picks
        UNLINK), an evicted one (lazyfree-lazy-eviction) or one of a slot it lost
        (lazyfree-lazy-server-del), as propagateDeletion."""
        if self.propagator.active:
            lazy = "lazyfree-lazy-eviction" if evicted else \
                "lazyfree-lazy-expire" if expired else "lazyfree-lazy-server-del"
            verb = b"UNLINK" if self.server.settings.values[lazy] else b"DEL"
            self.propagator.add([verb, key])

    def writes_paused(self) -> bool:
        """A manual failover holds writes (CLUSTER FAILOVER): the stream must stand still
        too, or the replica could never reach our offset. Redis also skips its PINGs and
        GETACKs then."""
        view = self.server.cluster
        return view is not None and view.writes_paused()

    def cron(self) -> None:
        """From the server cron (100 ms): full syncs waiting for a child; replicas that
        stopped acking; PING replicas every repl-ping-replica-period, so they can tell a
        silent master from a dead one."""
        now = time.monotonic()
        self.full_syncs.cron()
        if self.replicas:
            self._drop_silent_replicas(now)
        else:
            self._free_idle_backlog(now)
        self.refresh_good_replicas(now)
        if now - self._last_ping < self.server.settings.repl_ping_replica_period:
            return
        self._last_ping = now
        if self.is_master and self.replicas and self.backlog is not None \
                and not self.writes_paused():
            self.feed(_PING)

    def refresh_good_replicas(self, now: float = None) -> None:
        """min-replicas-to-write / -max-lag (Redis's refreshGoodSlavesCount and
        checkGoodReplicasStatus): count the online replicas that acked within max-lag
        seconds; a master with fewer refuses writes (-NOREPLICAS)."""
        settings = self.server.settings
        to_write, max_lag = settings.min_replicas_to_write, settings.min_replicas_max_lag
        if not (to_write and max_lag):
            self.good_replicas = 0
            self.server.noreplicas = False
            return
        now = time.monotonic() if now is None else now
        self.good_replicas = sum(1 for r in self.replicas
                                 if r.phase == ONLINE and int(now - r.ack_time) <= max_lag)
        self.server.noreplicas = self.is_master and self.good_replicas < to_write

    def _free_idle_backlog(self, now: float) -> None:
        """repl-backlog-ttl: a master without replicas for that long frees its backlog
        and starts a new history (Redis's replicationCron); 0 keeps it forever."""
        ttl = self.server.settings.repl_backlog_ttl
        if ttl and self.backlog is not None and self.is_master \
                and now - self.no_replicas_since > ttl:
            self.replid = new_replid()
            self.replid2, self.second_offset = NO_REPLID, -1
            self.backlog = None
            self.update_activity()
            logger.info("Replication backlog freed after {} seconds without connected "
                        "replicas.", ttl)

    def _drop_silent_replicas(self, now: float) -> None:
        """An online replica acks every second; one silent for repl-timeout is gone
        (SYNC clients never ack: they are left alone, as in Redis)."""
        timeout = self.server.settings.repl_timeout
        for replica in list(self.replicas):
            if replica.phase == ONLINE and not replica.pre_psync \
                    and now - replica.ack_time > timeout:
                logger.warning("Disconnecting timedout replica (streaming sync): {}",
                               replica.name)
                replica.client.kill()

    # ------------------------------------------------------------ PSYNC

    def can_continue(self, replid: str, offset: int) -> bool:
        """Redis's masterTryPartialResynchronization test."""
        if self.backlog is None:
            return False
        if replid != self.replid and (replid != self.replid2 or offset > self.second_offset):
            return False
        return self.backlog.can_continue_from(offset)

    def attach_replica(self, client, replid: str, offset: int, handshake: dict,
                       pre_psync: bool = False) -> None:
        """PSYNC (or SYNC) from `client`: continue it from the backlog, or start a full
        sync (full_sync.py). The replica's bytes all go through the client's output
        buffer, so they stay in order."""
        peer_ip = client.addr_text.rsplit(":", 1)[0]
        replica = ReplicaState(client, handshake.get("ip-address") or peer_ip,
                               handshake.get("listening-port", 0),
                               handshake.get("capa", set()), pre_psync=pre_psync,
                               rdb_only=handshake.get("rdb-only", False),
                               no_data=handshake.get("rdb-filter", False),
                               functions=handshake.get("rdb-functions", True))
        client.replica = replica
        logger.info("Replica {} asks for synchronization", replica.name)
        if not pre_psync and self.can_continue(replid, offset):
            self.sync_partial_ok += 1
            replica.ack_offset = offset - 1
            psync2 = "psync2" in replica.capa
            line = b"+CONTINUE %s\r\n" % self.replid.encode() if psync2 else b"+CONTINUE\r\n"
            backlog = self.backlog.read_from(offset)
            client.push_raw(line + backlog)
            self.replicas.append(replica)
            logger.info("Partial resynchronization request from {} accepted. Sending {} "
                        "bytes of backlog starting from offset {}.", replica.name,
                        len(backlog), offset)
            return
        if pre_psync:
            pass
        elif replid == "?":
            logger.info("Full resync requested by replica {}", replica.name)
        else:
            self.sync_partial_err += 1
            logger.info("Partial resynchronization not accepted: Replication ID mismatch "
                        "or lack of backlog (Replica asked for '{}' offset {})", replid,
                        offset)
        self.sync_full += 1
        self.replicas.append(replica)
        if self.server.settings.repl_disable_tcp_nodelay:
            try:       # fewer, larger packets to the replica, as Redis (non critical)
                client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
            except OSError:
                pass
        if self.backlog is None:
            # Redis too starts a new history when the first replica attaches.
            self.replid = new_replid()
            self.replid2, self.second_offset = NO_REPLID, -1
            self.create_backlog()
            logger.info("Replication backlog created, my new replication IDs are '{}' "
                        "and '{}'", self.replid, self.replid2)
        self.full_syncs.request(replica)

    def on_client_close(self, client) -> None:
        replica = client.replica
        if replica is not None and replica in self.replicas:
            self.replicas.remove(replica)
            logger.warning("Connection with replica {} lost.", replica.name)
            if not self.replicas:
                self.no_replicas_since = time.monotonic()
            self.refresh_good_replicas()

    # ------------------------------------------------------------ acks and WAIT

    def ack(self, client, offset: int) -> None:
        replica = client.replica
        replica.ack_time = time.monotonic()
        if offset > replica.ack_offset:
            replica.ack_offset = offset
        self.full_syncs.on_ack(replica)
        if self.wait_clients:
            for waiting, target, wanted in list(self.wait_clients):
                if self.count_acks(target) >= wanted:
                    self._wake(waiting)

    def _wake(self, client) -> None:
        waiter = getattr(client, "blocked_waiter", None)
        if waiter is not None:
            finish(self.server.keyspace, waiter, None)

    def count_acks(self, offset: int) -> int:
        return sum(1 for r in self.replicas if r.phase == ONLINE and r.ack_offset >= offset)

    def wait(self, client, numreplicas: int, timeout_ms: int) -> int:
        """WAIT: block this client (only) until `numreplicas` acked its last write."""
        target = client.woff
        acked = self.count_acks(target)
        if acked >= numreplicas or not can_block(client):
            return acked
        entry = (client, target, numreplicas)
        self.wait_clients.append(entry)
        self.request_acks()
        try:
            reply = block(client, [], timeout_ms / 1000.0, None, None)
        finally:
            self.wait_clients.remove(entry)
        if isinstance(reply, ReplyError):
            return reply                # CLIENT UNBLOCK .. ERROR
        return self.count_acks(target)

    def request_acks(self) -> None:
        """REPLCONF GETACK * to every replica, once per loop iteration however many WAITs
        ask (Redis sends it from beforeSleep)."""
        if self._getack_pending:
            return
        self._getack_pending = True

        def send():
            self._getack_pending = False
            if self.is_master and self.replicas and self.backlog is not None \
                    and not self.writes_paused():
                self.feed(_GETACK)
        gevent.get_hub().loop.run_callback(send)

    def wait_for_replicas_before_shutdown(self, timeout_s: int, aborted) -> None:
        """prepareForShutdown: give replicas that have not acked our offset up to
        shutdown-timeout seconds to catch up (asking them with GETACK) before the final
        save; those still behind are logged. Ends early when aborted() (SHUTDOWN ABORT).
        Unlike Redis, writes of other clients are not paused meanwhile."""
        def lagging():
            return [r for r in self.replicas if r.ack_offset != self.offset]
        if not timeout_s or not lagging():
            return
        logger.info("Waiting for replicas before shutting down.")
        deadline = time.monotonic() + timeout_s
        next_getack = 0.0
        while lagging() and not aborted():
            now = time.monotonic()
            if now >= deadline:
                break
            if now >= next_getack:
                self.request_acks()
                next_getack = now + 1.0
            gevent.sleep(0.01)
        now = time.monotonic()
        for replica in lagging():
            logger.warning("Lagging replica {} reported offset {} behind master, lag={}, "
                           "state={}.", replica.name, self.offset - replica.ack_offset,
                           int(now - replica.ack_time), replica.state)

    def unblock_waits(self) -> None:
        """The role changed: WAITs end now with what was acked."""
        for client, _, _ in list(self.wait_clients):
            self._wake(client)

