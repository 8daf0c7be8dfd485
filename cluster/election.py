"""A replica's election, as an explicit state machine (Redis keeps it in
failover_auth_time / failover_auth_sent / failover_auth_count).

::

    IDLE ──schedule()──> SCHEDULED ──start_voting()──> VOTING ──majority──> I am the master
     ^                      │  ^                          │
     │                      │  └──────── schedule() ──────┘  once the retry time has passed
     └──── reset() ─────────┘            (a lost or expired attempt is tried again)
       (a new master)

* IDLE: no attempt yet, or the master changed (a new election context).
* SCHEDULED: an attempt is due at ``time`` (fixed + random + rank delays).
* VOTING: FAILOVER_AUTH_REQUEST went out in ``epoch``; ACKs are counted in
  ``votes``.

Expiry is a matter of time, not a phase: an attempt (SCHEDULED or VOTING)
older than the auth timeout is expired and waits, doing nothing, until the
retry time has passed (``is_over``) and ``schedule`` starts the next one.

Timing decisions (delays, timeouts, the majority) stay in
:mod:`cluster.failover`, which drives these transitions from
``handle_replica_failover``; this class only holds the phase and what each
phase needs, so a reader sees at a glance where an election stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class ElectionPhase(Enum):
    IDLE = "idle"
    SCHEDULED = "scheduled"
    VOTING = "voting"


@dataclass
class Election:
    phase: ElectionPhase = ElectionPhase.IDLE
    time: int = 0               # SCHEDULED: when it starts; later: when it was due
    epoch: int = 0              # the epoch of the last request (failover_auth_epoch)
    votes: int = 0              # ACKs counted since the last schedule (failover_auth_count)
    voters: set[str] = field(default_factory=set)  # the masters those ACKs came from
    rank: int = 0               # my rank among my master's replicas (failover_auth_rank)
    failed_master_rank: int = 0  # my master's rank among failed masters

    def is_expired(self, now: int, auth_timeout: int) -> bool:
        """The attempt was due longer ago than the auth timeout: no more voting."""
        return now - self.time > auth_timeout

    def is_over(self, now: int, retry_time: int) -> bool:
        """No attempt, or the last one is older than the retry time: schedule a new one."""
        return self.phase is ElectionPhase.IDLE or now - self.time > retry_time

    # ------------------------------------------------------------------
    # Transitions
    # ------------------------------------------------------------------

    def schedule(self, at: int, rank: int, failed_master_rank: int) -> None:
        """IDLE, or an attempt that is over -> SCHEDULED: a fresh attempt, votes from zero."""
        self.phase = ElectionPhase.SCHEDULED
        self.time = at
        self.votes = 0
        self.voters = set()
        self.rank = rank
        self.failed_master_rank = failed_master_rank

    def delay(self, added_ms: int, new_rank: int) -> None:
        """SCHEDULED: the rank got worse meanwhile, start later."""
        self.time += added_ms
        self.rank = new_rank

    def start_voting(self, epoch: int) -> None:
        """SCHEDULED -> VOTING: the request for votes goes out in ``epoch``."""
        self.phase = ElectionPhase.VOTING
        self.epoch = epoch

    def count_vote(self, voter: str) -> None:
        # Counted in any phase, as Redis does: an ACK for the current epoch that
        # arrives late still counts until the next schedule() starts from zero.
        # Unlike Redis, a master counts once however many ACKs it sends: over TCP
        # an ACK is never duplicated, but the simulator's duplication fault showed a
        # replica winning with 2 distinct voters of 5 masters when each ACK counted.
        if voter not in self.voters:
            self.voters.add(voter)
            self.votes += 1

    def reset(self) -> None:
        """-> IDLE: a new master means a new election context (Valkey #782)."""
        self.phase = ElectionPhase.IDLE
        self.time = 0
