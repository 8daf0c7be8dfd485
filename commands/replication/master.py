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

Full sync without fork and without a second copy of the data
-------------------------------------------------------------
Redis forks and the child writes an RDB of a frozen copy-on-write image. We serialize the
live keyspace one hash slot at a time (commands/replication/snapshot.py), send each chunk, and let
other greenlets run in between, so other clients are served during the sync and memory
grows by one chunk, not by the dataset. The snapshot is thus not of one instant; it stays
consistent because in cluster mode every write touches keys of ONE slot:

* `next_slot` marks the progress of a replica's snapshot: slots below it are serialized
  and already queued for the replica; a slot is serialized atomically (no yield inside).
* A propagated write whose slot is below `next_slot` is queued for the replica after the
  chunk holding that slot: the replica applies it on top of that slot's data, in order.
* A write to a slot not yet serialized is NOT sent to that replica: the snapshot, taken
  later, includes its effect.
* Keyless writes (FLUSHALL, FLUSHDB) and PING/GETACK are always queued. Each chunk
  *replaces* its slot range on the replica, so whatever a keyless write did to slots not
  yet serialized is superseded by their snapshot.
* After the last slot, the end marker carries master_repl_offset; from then on the
  replica gets the whole stream and counts offsets exactly like its master.

Commands sent to a syncing replica before the end marker are therefore a filtered
subset of the stream, applied but not counted; the replica's offset starts at the marker.
"""
import os
import time

import gevent
from loguru import logger

from cluster.slots import CLUSTER_SLOTS
from commands.data.keyspace import slot_of
from commands.replication import snapshot
from commands.replication.backlog import ReplBacklog
from commands.replication.propagation import Propagator, encode_command
from commands.server.blocking import block, can_block, finish
from commands.server.executor import lookup_command
from commands.server.resp import ReplyError

SYNC_QUEUE_LIMIT = 1024 * 1024     # snapshot pauses while more is queued for the replica
NO_REPLID = "0" * 40
_MULTI = [b"MULTI"]
_EXEC = [b"EXEC"]
_PING = encode_command([b"ping"])
_GETACK = encode_command([b"REPLCONF", b"GETACK", b"*"])
_ALWAYS = -1                       # "slot" of a keyless unit: queued for every replica


def new_replid() -> str:
    return os.urandom(20).hex()


class ReplicaState:
    """A replica connected to us (Redis's slave client fields)."""

    __slots__ = ("client", "ip", "port", "capa", "state", "ack_offset", "ack_time",
                 "next_slot")

    def __init__(self, client, ip: str, port: int, capa):
        self.client = client
        self.ip = ip
        self.port = port
        self.capa = capa
        self.state = "wait_bgsave"     # then send_bulk, then online
        self.ack_offset = 0
        self.ack_time = time.monotonic()
        self.next_slot = 0             # slots below are in the snapshot (see docstring)

    @property
    def name(self) -> str:
        return "%s:%d" % (self.ip, self.port)


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
        self.propagator = Propagator(self._feed_unit)
        self.wait_clients = []           # (client, offset, numreplicas) blocked in WAIT
        self.sync_full = self.sync_partial_ok = self.sync_partial_err = 0
        self._getack_pending = False
        self._last_ping = time.monotonic()

    # ------------------------------------------------------------ role

    @property
    def is_master(self) -> bool:
        return self.link is None

    def update_activity(self) -> None:
        self.propagator.set_replication_active(self.is_master and self.backlog is not None)
        self.server.read_only_replica = not self.is_master

    def create_backlog(self) -> None:
        self.backlog = ReplBacklog(self.server.settings.repl_backlog_size, self.offset)
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
        logger.info("Setting secondary replication ID to {}, valid up to offset: {}. "
                    "New replication ID is {}", self.replid2, self.second_offset,
                    self.replid)

    def disconnect_replicas(self) -> None:
        for replica in list(self.replicas):
            replica.client.kill()
        self.replicas.clear()

    # ------------------------------------------------------------ the stream

    def _feed_unit(self, unit) -> int:
        """Append one propagation unit to the stream; returns the new offset."""
        commands = [_MULTI, *unit, _EXEC] if len(unit) > 1 else unit
        self.feed(b"".join([encode_command(argv) for argv in commands]), unit)
        return self.offset

    def feed(self, data: bytes, unit=None) -> None:
        """Bytes into the backlog and to every replica (filtered while it syncs)."""
        self.offset += len(data)
        self.backlog.append(data)
        slot = None
        for replica in self.replicas:
            if replica.state == "online":
                replica.client.push_raw(data)
                continue
            if slot is None:
                slot = _unit_slot(unit)
            if slot == _ALWAYS or slot < replica.next_slot:
                replica.client.push_raw(data)

    def feed_from_master(self, data: bytes) -> None:
        """A replica keeps its master's stream in its own backlog, at the same offsets."""
        self.offset += len(data)
        self.backlog.append(data)

    def propagate_deletion(self, key: bytes) -> None:
        if self.propagator.active:
            self.propagator.add([b"DEL", key])

    def writes_paused(self) -> bool:
        """A manual failover holds writes (CLUSTER FAILOVER): the stream must stand still
        too, or the replica could never reach our offset. Redis also skips its PINGs and
        GETACKs then."""
        view = self.server.cluster
        return view is not None and view.writes_paused()

    def cron(self) -> None:
        """From the server cron (100 ms): PING replicas every repl-ping-replica-period,
        so they can tell a silent master from a dead one."""
        now = time.monotonic()
        if now - self._last_ping < self.server.settings.repl_ping_replica_period:
            return
        self._last_ping = now
        if self.is_master and self.replicas and self.backlog is not None \
                and not self.writes_paused():
            self.feed(_PING)

    # ------------------------------------------------------------ PSYNC

    def can_continue(self, replid: str, offset: int) -> bool:
        """Redis's masterTryPartialResynchronization test."""
        if self.backlog is None:
            return False
        if replid != self.replid and (replid != self.replid2 or offset > self.second_offset):
            return False
        return self.backlog.can_continue_from(offset)

    def attach_replica(self, client, replid: str, offset: int, handshake: dict) -> None:
        """PSYNC from `client`: continue it from the backlog, or start a full sync. All
        bytes go through the client's push queue, so they stay in order."""
        peer_ip = client.addr_text.rsplit(":", 1)[0]
        replica = ReplicaState(client, handshake.get("ip-address") or peer_ip,
                               handshake.get("listening-port", 0),
                               handshake.get("capa", set()))
        client.replica = replica
        psync2 = "psync2" in replica.capa
        if self.can_continue(replid, offset):
            self.sync_partial_ok += 1
            replica.state = "online"
            replica.next_slot = CLUSTER_SLOTS
            replica.ack_offset = offset - 1
            line = b"+CONTINUE %s\r\n" % self.replid.encode() if psync2 else b"+CONTINUE\r\n"
            backlog = self.backlog.read_from(offset)
            client.push_raw(line + backlog)
            self.replicas.append(replica)
            logger.info("Partial resynchronization request from {} accepted. Sending {} "
                        "bytes of backlog starting from offset {}.", replica.name,
                        len(backlog), offset)
            return
        if replid != "?":
            self.sync_partial_err += 1
        self.sync_full += 1
        if self.backlog is None:
            # Redis too starts a new history when the first replica attaches.
            self.replid = new_replid()
            self.replid2, self.second_offset = NO_REPLID, -1
            self.create_backlog()
        logger.info("Replica {} asks for synchronization; starting a full resync from "
                    "offset {}", replica.name, self.offset)
        client.push_raw(b"+FULLRESYNC %s %d\r\n" % (self.replid.encode(), self.offset))
        self.replicas.append(replica)
        gevent.spawn(self._send_snapshot, replica)

    def _send_snapshot(self, replica) -> None:
        client = replica.client
        keyspace = self.server.keyspace
        replica.state = "send_bulk"
        started = time.monotonic()
        slot = 0
        try:
            while slot < CLUSTER_SLOTS:
                if client.closed or replica not in self.replicas:
                    return
                chunk, slot = snapshot.encode_slots(keyspace, slot)
                # No yield between these two lines: writes to the slots just serialized
                # must reach the replica after this chunk, and do from now on.
                replica.next_slot = slot
                client.push_raw(chunk)
                self._wait_for_replica_socket(client)
            client.push_raw(snapshot.encode_end(self.offset))
            replica.state = "online"
            replica.ack_time = time.monotonic()
            logger.info("Synchronization with replica {} succeeded ({:.2f}s)",
                        replica.name, time.monotonic() - started)
        except Exception:
            logger.exception("full sync with replica {} failed", replica.name)
            client.kill()

    @staticmethod
    def _wait_for_replica_socket(client) -> None:
        """Let other greenlets run, and hold the next chunk while the socket is behind."""
        gevent.sleep(0)
        while client.pending_push_bytes > SYNC_QUEUE_LIMIT and not client.closed:
            gevent.sleep(0.002)

    def on_client_close(self, client) -> None:
        replica = client.replica
        if replica is not None and replica in self.replicas:
            self.replicas.remove(replica)
            logger.info("Connection with replica {} lost.", replica.name)

    # ------------------------------------------------------------ acks and WAIT

    def ack(self, client, offset: int) -> None:
        replica = client.replica
        replica.ack_time = time.monotonic()
        if offset > replica.ack_offset:
            replica.ack_offset = offset
        if self.wait_clients:
            for waiting, target, wanted in list(self.wait_clients):
                if self.count_acks(target) >= wanted:
                    self._wake(waiting)

    def _wake(self, client) -> None:
        waiter = getattr(client, "blocked_waiter", None)
        if waiter is not None:
            finish(self.server.keyspace, waiter, None)

    def count_acks(self, offset: int) -> int:
        return sum(1 for r in self.replicas if r.state == "online" and r.ack_offset >= offset)

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

    def unblock_waits(self) -> None:
        """The role changed: WAITs end now with what was acked."""
        for client, _, _ in list(self.wait_clients):
            self._wake(client)


def _unit_slot(unit):
    """The one slot a unit writes to, or _ALWAYS if it has a keyless command (or none)."""
    if not unit:
        return _ALWAYS
    slot = _ALWAYS
    for argv in unit:
        cmd, error = lookup_command(argv)
        if error is not None:
            return _ALWAYS
        indexes = cmd.key_indexes(argv)
        if not indexes:
            return _ALWAYS
        if slot == _ALWAYS:
            slot = slot_of(argv[indexes[0]])
    return slot
