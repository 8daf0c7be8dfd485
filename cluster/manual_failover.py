"""CLUSTER FAILOVER [FORCE|TAKEOVER] and the master/replica handshake behind it.

A mixin of :class:`cluster.state.ClusterState`. The default manual failover is
lossless: the replica sends MFSTART, its master pauses client writes and
advertises its offset with the PAUSED flag, the replica waits until it has
processed that offset, then runs an election at once (FORCEACK: voters do not
require the master to be FAIL). FORCE skips the offset handshake; TAKEOVER
skips the election too.

Where a manual failover stands is ``mf_phase`` (Redis encodes it in mf_end == 0,
mf_master_offset == -1 and mf_can_start)::

    replica:  NONE ──CLUSTER FAILOVER──> WAIT_OFFSET ──PAUSED header──> CATCH_UP
                 │                                                        │ our offset
                 └──CLUSTER FAILOVER FORCE / TAKEOVER──> READY <──────────┘ reached it
                                                           │
                                          the election (or the takeover) runs at once

    master:   NONE ──MFSTART from a replica──> PAUSED (client writes held)

Every phase but NONE ends at ``mf_end`` (``manual_failover_check_timeout``)
or when the failover happens (``reset_manual_failover``), back to NONE.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from cluster import messages as m
from cluster.entry_point import entry_point
from cluster.errors import ClusterError
from cluster.node_record import ClusterNode

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState

MF_TIMEOUT = 5000        # CLUSTER_MF_TIMEOUT: the whole manual failover, ms
MF_PAUSE_MULT = 2        # the master pauses writes for MF_TIMEOUT * this, at most


class MfPhase(Enum):
    NONE = "none"                # no manual failover in progress
    PAUSED = "paused"            # master: a replica asked; client writes are held
    WAIT_OFFSET = "wait-offset"  # replica: MFSTART sent, waiting for the master's paused offset
    CATCH_UP = "catch-up"        # replica: processing the stream up to mf_master_offset
    READY = "ready"              # replica: caught up (or FORCE/TAKEOVER): elect now


class ManualFailover:
    def _init_manual_failover(self: ClusterState) -> None:
        self.mf_phase = MfPhase.NONE
        self.mf_end = 0                         # deadline of the phases but NONE
        self.mf_replica: ClusterNode | None = None  # PAUSED: who asked
        self.mf_master_offset = 0               # CATCH_UP: the master's offset once paused
        self.manual_failover_pause_until_ms = 0  # PAUSED: client writes held until
        self._todo_handle_manual_failover = False

    def writes_paused(self: ClusterState, now_ms: int) -> bool:
        """True while a manual failover holds client writes on this master.

        Redis pauses writing clients (CLIENT PAUSE WRITE semantics) rather than
        refusing them; the commands layer decides how to hold them.
        """
        return now_ms < self.manual_failover_pause_until_ms

    # ------------------------------------------------------------------
    # The command (replica side)
    # ------------------------------------------------------------------

    @entry_point
    def failover(self: ClusterState, mode: str | bytes | None, now_ms: int) -> None:
        """CLUSTER FAILOVER [FORCE|TAKEOVER]; ``mode`` is None, 'force' or 'takeover'."""
        force = takeover = False
        if mode is not None:
            text = (mode.decode("utf-8", "replace") if isinstance(mode, bytes) else mode).lower()
            if text == "force":
                force = True
            elif text == "takeover":
                force = takeover = True  # a takeover implies force
            else:
                raise ClusterError("syntax error")
        me = self.myself
        if me.is_master:
            raise ClusterError("You should send CLUSTER FAILOVER to a replica")
        master = self.nodes.get(me.master_name) if me.master_name else None
        if master is None:
            raise ClusterError("I'm a replica but my master is unknown to me")
        if not force and (master.failed or master.link is None):
            raise ClusterError("Master is down or failed, please use CLUSTER FAILOVER FORCE")
        self.reset_manual_failover()
        self.mf_end = now_ms + MF_TIMEOUT
        if takeover:
            # No votes: a new configEpoch of our own, then claim the slots. This is
            # for when the majority of masters is gone; it may win over a partition.
            self._log("warning", "Taking over the master (user request).")
            self.mf_phase = MfPhase.READY
            self.bump_config_epoch_without_consensus()
            self.failover_replace_your_master()
        elif force:
            self._log("warning", "Forced failover user request accepted.")
            self.mf_phase = MfPhase.READY
            self._todo_handle_failover = True
        else:
            self._log("warning", "Manual failover user request accepted.")
            self.mf_phase = MfPhase.WAIT_OFFSET
            if master.link is not None:
                self._send(master.link, m.MfStart(self.build_header()))

    # ------------------------------------------------------------------
    # Master side
    # ------------------------------------------------------------------

    def process_mfstart(self: ClusterState, sender: ClusterNode | None) -> None:
        """One of my replicas wants to take over: pause writes and tell it my offset."""
        if sender is None or sender.master_name != self.myself.name or not self.myself.is_master:
            return
        now = self._now
        self.reset_manual_failover()
        self.mf_phase = MfPhase.PAUSED
        self.mf_end = now + MF_TIMEOUT
        self.mf_replica = sender
        self.manual_failover_pause_until_ms = now + MF_TIMEOUT * MF_PAUSE_MULT
        self._log("warning", f"Manual failover requested by replica {sender.name}.")
        # The PING carries PAUSED and the offset at which writes stopped. It goes
        # on our outbound link: its PONG must come back there to clear ping_sent.
        if sender.link is not None:
            self.send_ping(sender.link, m.PING)

    def manual_failover_cron(self: ClusterState) -> None:
        """A paused master pings the replica every cron tick, so it sees the offset soon."""
        replica = self.mf_replica
        if self.mf_phase is MfPhase.PAUSED and self.myself.is_master and replica is not None \
                and replica.link is not None:
            self.send_ping(replica.link, m.PING)

    # ------------------------------------------------------------------
    # Replica side
    # ------------------------------------------------------------------

    def note_paused_master_offset(self: ClusterState, sender: ClusterNode, hdr: m.Header) -> None:
        """WAIT_OFFSET -> CATCH_UP: my master's first PAUSED header gives its final offset."""
        me = self.myself
        if self.mf_phase is MfPhase.WAIT_OFFSET and me.is_replica \
                and me.master_name == sender.name and hdr.mflags & m.MFLAG_PAUSED:
            self.mf_phase = MfPhase.CATCH_UP
            self.mf_master_offset = hdr.repl_offset
            self._todo_handle_manual_failover = True
            self._log("warning", "Received replication offset for paused master manual "
                                 f"failover: {self.mf_master_offset}")

    def handle_manual_failover(self: ClusterState) -> None:
        """clusterHandleManualFailover: CATCH_UP -> READY once we processed the master's offset."""
        self._todo_handle_manual_failover = False
        if self.mf_phase is not MfPhase.CATCH_UP:
            return
        # Redis waits for equality; the master is paused, so our offset cannot
        # pass its own, and >= only guards against an adapter rounding up.
        if self.hooks.repl_offset() >= self.mf_master_offset:
            self.mf_phase = MfPhase.READY
            self._log("warning", "All master replication stream processed, "
                                 "manual failover can start.")
            self._todo_handle_failover = True
            return
        self._todo_handle_manual_failover = True  # look again after the next call

    # ------------------------------------------------------------------
    # Both sides
    # ------------------------------------------------------------------

    def manual_failover_check_timeout(self: ClusterState) -> None:
        if self.mf_phase is not MfPhase.NONE and self.mf_end < self._now:
            self._log("warning", "Manual failover timed out.")
            self.reset_manual_failover()

    def reset_manual_failover(self: ClusterState) -> None:
        """resetManualFailover: any phase -> NONE; a master that paused writes resumes them."""
        if self.mf_phase is MfPhase.PAUSED:
            self.manual_failover_pause_until_ms = 0
        self.mf_phase = MfPhase.NONE
        self.mf_end = 0
        self.mf_replica = None
        self.mf_master_offset = 0
