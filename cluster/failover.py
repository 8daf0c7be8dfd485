"""Replica elections and master votes (Redis's automatic failover).

A mixin of :class:`cluster.state.ClusterState`:

* replica side: ``handle_replica_failover`` (clusterHandleSlaveFailover) drives the
  election (``self.election``, the state machine of :mod:`cluster.election`): it
  schedules one once its master is FAIL, asks the masters for votes
  (``request_failover_auth``), counts the ACKs and, with a majority, takes over
  (``failover_replace_your_master``);
* master side: ``send_failover_auth_if_needed`` (clusterSendFailoverAuthIfNeeded)
  grants at most one vote per epoch, under Redis's rules.

Log lines and their levels are Redis 7.0's (7.2 moved several to notice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluster import messages as m
from cluster.effects import ReplicationChanged
from cluster.election import Election, ElectionPhase
from cluster.epochs import next_epoch
from cluster.manual_failover import MfPhase
from cluster.node_record import NODE_NOFAILOVER, ClusterNode

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState

# Why a replica cannot fail over right now (clusterLogCantFailover reasons).
CANT_FAILOVER_NONE = 0
CANT_FAILOVER_DATA_AGE = 1
CANT_FAILOVER_WAITING_DELAY = 2
CANT_FAILOVER_EXPIRED = 3
CANT_FAILOVER_WAITING_VOTES = 4
CANT_FAILOVER_MESSAGES = {
    CANT_FAILOVER_DATA_AGE: "Disconnected from master for longer than allowed. Please check "
                            "the 'cluster-replica-validity-factor' configuration option.",
    CANT_FAILOVER_WAITING_DELAY: "Waiting the delay before I can start a new failover.",
    CANT_FAILOVER_EXPIRED: "Failover attempt expired.",
    CANT_FAILOVER_WAITING_VOTES: "Waiting for votes, but majority still not reached.",
}
# The same reason is logged again only after this long (R74: 10 s; R70 used 5 minutes,
# which hides a stuck replica for too long).
CANT_FAILOVER_RELOG_PERIOD = 10_000

ELECTION_FIXED_DELAY = 500   # ms: let the FAIL message reach every master first
ELECTION_RANDOM_DELAY = 500  # ms: desynchronise replicas of the same master
RANK_DELAY = 1000            # ms per replica that has a better offset than mine
FAILED_MASTER_RANK_DELAY = 500  # ms per other failed shard that goes before mine
NO_DATA_AGE = 1 << 62        # a replica that never reached its master: data infinitely old


class Failover:
    def _init_failover(self: ClusterState) -> None:
        self.election = Election()
        self.cant_failover_reason = CANT_FAILOVER_NONE
        self._cant_failover_logged_at = 0
        self._todo_handle_failover = False

    # ------------------------------------------------------------------
    # Timing
    # ------------------------------------------------------------------

    @property
    def failover_auth_timeout(self: ClusterState) -> int:
        """How long an election waits for votes: max(2 * node_timeout, 2000) ms."""
        return max(2 * self.config.node_timeout, 2000)

    @property
    def failover_auth_retry_time(self: ClusterState) -> int:
        """A failed election is retried this long after it was scheduled."""
        return 2 * self.failover_auth_timeout

    def get_replica_rank(self: ClusterState) -> int:
        """clusterGetSlaveRank: how many replicas of my master have a better offset.

        Rank 0 goes first. NOFAILOVER replicas never run, so they never delay
        anyone. An equal offset is broken by the smaller node name (Valkey), so
        two equally fresh replicas do not start at the same time.
        """
        me = self.myself
        master = self.nodes.get(me.master_name) if me.master_name else None
        if master is None:
            return 0
        my_offset = self.hooks.repl_offset()
        rank = 0
        for replica in self.replicas_of(master):
            if replica is me or replica.flags & NODE_NOFAILOVER:
                continue
            if replica.repl_offset > my_offset or (
                    replica.repl_offset == my_offset and replica.name < me.name):
                rank += 1
        return rank

    def get_failed_master_rank(self: ClusterState) -> int:
        """How many other failed shards elect before mine (Valkey 8.1's failed-primary rank).

        When several masters fail together, their replicas would otherwise ask
        for votes at about the same time; a master votes once per epoch, so
        requests in one epoch split the votes and every shard waits for the
        retry. Ordering the failed shards (by master name) spreads the elections
        out by FAILED_MASTER_RANK_DELAY each. Masters failed too long ago to be
        failed over (validity factor) and masters without replicas are skipped.
        """
        me = self.myself
        my_master = me.master_name
        nt = self.config.node_timeout
        factor = self.config.replica_validity_factor
        with_replicas = {n.master_name for n in self.nodes.values() if n.is_replica}
        rank = 0
        for node in self.nodes.values():
            if not (node.failed and node.is_voting_master) or node.name not in with_replicas:
                continue
            if factor and self._now - node.fail_time > nt * factor:
                continue
            if node.name < my_master:
                rank += 1
        return rank

    # ------------------------------------------------------------------
    # Replica side: clusterHandleSlaveFailover
    # ------------------------------------------------------------------

    def handle_replica_failover(self: ClusterState) -> None:
        """Run from the cron (and right after an ACK): schedule, start or conclude an election."""
        self._todo_handle_failover = False
        me = self.myself
        now = self._now
        master = self.nodes.get(me.master_name) if me.is_replica and me.master_name else None
        manual = self.mf_phase is MfPhase.READY
        if master is None or (not master.failed and not manual) \
                or (self.config.replica_no_failover and not manual) or not master.slots:
            self.cant_failover_reason = CANT_FAILOVER_NONE
            return

        nt = self.config.node_timeout
        election = self.election

        # Refuse when our data is too old to be worth promoting; a manual
        # failover is the operator's choice and skips this.
        data_age = self.master_data_age_ms()
        if data_age > nt:
            data_age -= nt
        factor = self.config.replica_validity_factor
        if factor and not manual and \
                data_age > self.config.repl_ping_replica_period * 1000 + nt * factor:
            self.log_cant_failover(CANT_FAILOVER_DATA_AGE)
            return

        # IDLE, or the previous attempt is over: SCHEDULED.
        if election.is_over(now, self.failover_auth_retry_time):
            delay = ELECTION_FIXED_DELAY + self.rng.randrange(ELECTION_RANDOM_DELAY)
            rank = self.get_replica_rank()
            failed_master_rank = self.get_failed_master_rank()
            delay += rank * RANK_DELAY + failed_master_rank * FAILED_MASTER_RANK_DELAY
            if self.mf_phase is not MfPhase.NONE:
                # Manual failover: the master is paused and we are caught up; go now.
                delay = rank = 0
                self._todo_handle_failover = True
            election.schedule(now + delay, rank, failed_master_rank)
            self._log("warning", "Start of election delayed for "
                                 f"{election.time - now} milliseconds "
                                 f"(rank #{election.rank}, "
                                 f"offset {self.hooks.repl_offset()}).")
            # Let the other replicas of my master learn my offset, so their
            # ranks (and delays) are computed from fresh data.
            self.broadcast_pong(local_replicas_only=True)
            return

        # SCHEDULED: offsets may have moved since; a replica that fell behind
        # another waits longer (Redis only ever adds delay here).
        if election.phase is ElectionPhase.SCHEDULED and self.mf_phase is MfPhase.NONE:
            new_rank = self.get_replica_rank()
            if new_rank > election.rank:
                added = (new_rank - election.rank) * RANK_DELAY
                election.delay(added, new_rank)
                self._log("warning", f"Replica rank updated to #{new_rank}, added {added} "
                                     "milliseconds of delay.")

        if now < election.time:
            self.log_cant_failover(CANT_FAILOVER_WAITING_DELAY)
            return
        if election.is_expired(now, self.failover_auth_timeout):
            self.log_cant_failover(CANT_FAILOVER_EXPIRED)
            return

        # SCHEDULED and due: VOTING.
        if election.phase is ElectionPhase.SCHEDULED:
            self.current_epoch = next_epoch(self.current_epoch)
            self._log("warning", f"Starting a failover election for epoch {self.current_epoch}.")
            election.start_voting(self.current_epoch)
            self.request_failover_auth()
            self._update_state_later()
            self._save(fsync=True)  # the epoch must survive a crash
            return

        # VOTING: a majority of the masters with slots makes me the master.
        if election.votes >= self.size // 2 + 1:
            self._log("warning", "Failover election won: I'm the new master.")
            if me.config_epoch < election.epoch:
                me.config_epoch = election.epoch
                self._log("warning", f"configEpoch set to {me.config_epoch} after successful failover")
            self.failover_replace_your_master()
        else:
            self.log_cant_failover(CANT_FAILOVER_WAITING_VOTES)

    def log_cant_failover(self: ClusterState, reason: int) -> None:
        """clusterLogCantFailover: say why we wait, without flooding the log."""
        now = self._now
        if reason == self.cant_failover_reason and self._cant_failover_logged_at \
                and now - self._cant_failover_logged_at < CANT_FAILOVER_RELOG_PERIOD:
            return
        self.cant_failover_reason = reason
        # Right after the master failed, waiting is normal: only a replica that
        # stays stuck for a while is worth a log line.
        master = self.nodes.get(self.myself.master_name or "")
        if master is not None and master.failed \
                and now - master.fail_time < self.config.node_timeout + 5000:
            return
        self._cant_failover_logged_at = now
        self._log("warning", "Currently unable to failover: " + CANT_FAILOVER_MESSAGES[reason])

    def request_failover_auth(self: ClusterState) -> None:
        """clusterRequestFailoverAuth: ask every node; only masters with slots answer."""
        header = self.build_header()
        if self.mf_phase is not MfPhase.NONE:
            # Manual failover: the master is alive, voters must not require FAIL.
            header.mflags |= m.MFLAG_FORCEACK
        self.broadcast(m.FailoverAuthRequest(header))

    def process_failover_auth_ack(self: ClusterState, sender: ClusterNode | None,
                                  hdr: m.Header) -> None:
        """Count a vote if it comes from a master with slots that knows our election epoch."""
        if sender is None:
            return
        if sender.is_master and sender.slots and hdr.current_epoch >= self.election.epoch:
            self.election.count_vote(sender.name)
            # Maybe that was the deciding vote: check before the next cron.
            self._todo_handle_failover = True

    def failover_replace_your_master(self: ClusterState) -> None:
        """clusterFailoverReplaceYourMaster: become master, take my master's slots, tell everyone."""
        me = self.myself
        old_master = self.nodes.get(me.master_name) if me.master_name else None
        if me.is_master or old_master is None:
            return
        self.set_node_as_master(me)
        self._effects.append(ReplicationChanged(None))
        self.set_master_link_down_since(None)
        for slot in sorted(old_master.slots):
            self._add_slot(slot, me)
        # The new ownership is effective at once, and durable before anyone learns it.
        self.update_cluster_state()
        self._save(fsync=True)
        # The PONG carries my new role, slots and configEpoch to every node.
        self.broadcast_pong()
        self.reset_manual_failover()

    # ------------------------------------------------------------------
    # Master side: clusterSendFailoverAuthIfNeeded
    # ------------------------------------------------------------------

    def send_failover_auth_if_needed(self: ClusterState, node: ClusterNode, hdr: m.Header) -> None:
        """Vote for ``node`` if every one of Redis's rules allows it; there is no "no" reply."""
        me = self.myself
        if me.is_replica or not me.slots:
            return  # only masters serving slots vote
        now = self._now
        denied = f"Failover auth denied to {node.name}: "
        if hdr.current_epoch < self.current_epoch:
            self._log("warning", denied + f"reqEpoch ({hdr.current_epoch}) < "
                                          f"curEpoch({self.current_epoch})")
            return
        if self.last_vote_epoch == self.current_epoch:
            self._log("warning", denied + f"already voted for epoch {self.current_epoch}")
            return
        master = self.nodes.get(node.master_name) if node.master_name else None
        force_ack = bool(hdr.mflags & m.MFLAG_FORCEACK)
        if node.is_master:
            self._log("warning", denied + "it is a master node")
            return
        if master is None:
            self._log("warning", denied + "I don't know its master")
            return
        if not master.failed and not force_ack:
            self._log("warning", denied + "its master is up")
            return
        # One replica of a given master per 2 * node_timeout: if the first
        # winner is slow to announce itself, a second one would be a needless
        # extra failover.
        spacing = 2 * self.config.node_timeout
        if master.voted_time and now - master.voted_time < spacing:
            self._log("warning", denied + "can't vote about this master before "
                                          f"{spacing - (now - master.voted_time)} milliseconds")
            return
        # The requester advertises its master's slots and configEpoch: refuse if
        # any of them is already served under a newer configuration.
        not_claiming = self.owner_not_claiming_slot
        for start, end in hdr.slots:
            for slot in range(start, end + 1):
                owner = self.slots[slot]
                if owner is None or slot in not_claiming or owner.config_epoch <= hdr.config_epoch:
                    continue
                self._log("warning", denied + f"slot {slot} epoch ({owner.config_epoch}) > "
                                              f"reqEpoch ({hdr.config_epoch})")
                return
        self.last_vote_epoch = self.current_epoch
        master.voted_time = now
        # A vote must never be given twice in one epoch, even across a crash and
        # restart: lastVoteEpoch is on disk before the ACK leaves (Redis fsyncs in
        # clusterBeforeSleep, before it writes the ACK). So the durable save goes
        # into the effect list now, ahead of the send, not at the end of the call.
        self._save_now(fsync=True)
        if node.link is not None:
            self._send(node.link, m.FailoverAuthAck(self.build_header()))
        self._log("warning", f"Failover auth granted to {node.name} for epoch {self.current_epoch}")
