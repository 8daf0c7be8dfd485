"""The one interpreter of the state machine's effects.

Every adapter of :class:`cluster.state.ClusterState` (the gevent bus, the
simulator, the unit tests' synchronous network) subclasses :class:`EffectRunner`
and implements one method per effect type; ``execute`` dispatches on the type and
keeps the rules that hold for every adapter in one place:

* effects are carried out in the order the state emitted them;
* ``SaveConfig(fsync=True)`` is a barrier: ``save_config`` returns only once the
  file is on disk. If it cannot be made durable it raises :class:`NotDurable`,
  and no ``Send`` after it in the same list is carried out (what follows may
  depend on it: a failover vote must never leave before it is saved, or a
  restarted master could vote twice in one epoch). The other effects still run.

``check_votes=True`` (the simulator and the unit tests) also asserts the
durability rule from the outside: a FAILOVER_AUTH_ACK sent before a
``SaveConfig(fsync=True)`` that recorded its epoch raises :class:`VoteNotDurable`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from cluster import messages as m
from cluster.effects import (CloseLink, Connect, DeliverPublish, Effect, Log, ReplicationChanged,
                             SaveConfig, Send)

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState


class NotDurable(Exception):
    """A ``SaveConfig(fsync=True)`` could not be written to disk."""


class VoteNotDurable(AssertionError):
    """A failover vote was about to leave before its epoch was saved with fsync."""


class EffectRunner:
    """Carries out effects in order; subclasses implement the handlers they need.

    ``send``, ``connect``, ``close_link`` and ``save_config`` must be implemented;
    ``log``, ``deliver_publish`` and ``replication_changed`` do nothing unless
    overridden (an adapter without logs, subscribers or data ignores them).
    """

    def __init__(self, *, check_votes: bool = False) -> None:
        self._handlers: dict[type, Callable[[Effect], None]] = {
            Send: self.send,
            Connect: self.connect,
            CloseLink: self.close_link,
            SaveConfig: self.save_config,
            Log: self.log,
            DeliverPublish: self.deliver_publish,
            ReplicationChanged: self.replication_changed,
        }
        if check_votes:
            self._durable_vote_epoch = 0
            self._handlers[Send] = self._send_checking_votes
            self._handlers[SaveConfig] = self._save_recording_votes

    # ------------------------------------------------------------------
    # Dispatch
    # ------------------------------------------------------------------

    def execute(self, effects: Iterable[Effect]) -> None:
        """Carry out ``effects`` (an Outcome, or any list of effects) in order."""
        handlers = self._handlers
        remaining = iter(effects)
        try:
            for effect in remaining:
                handlers[type(effect)](effect)
        except NotDurable:
            # The rest may rely on the failed save: run it, but let nothing leave.
            self.execute([effect for effect in remaining if type(effect) is not Send])

    def run(self, effect: Effect) -> None:
        """Carry out one effect (for adapters that queue effects one by one)."""
        self.execute((effect,))

    # ------------------------------------------------------------------
    # Handlers: one per effect type (cluster/effects.py)
    # ------------------------------------------------------------------

    def send(self, effect: Send) -> None:
        raise NotImplementedError

    def connect(self, effect: Connect) -> None:
        raise NotImplementedError

    def close_link(self, effect: CloseLink) -> None:
        raise NotImplementedError

    def save_config(self, effect: SaveConfig) -> None:
        """Save nodes.conf; with ``fsync``, return only once it is durable, or raise
        NotDurable."""
        raise NotImplementedError

    def log(self, effect: Log) -> None:
        pass

    def deliver_publish(self, effect: DeliverPublish) -> None:
        pass

    def replication_changed(self, effect: ReplicationChanged) -> None:
        pass

    # ------------------------------------------------------------------
    # The vote durability check (check_votes=True)
    # ------------------------------------------------------------------

    # The state whose effects this runner carries out; the vote check reads it.
    state: ClusterState

    def reset_vote_check(self) -> None:
        """A (re)started state: what it loaded from nodes.conf is durable by definition."""
        self._durable_vote_epoch = self.state.last_vote_epoch

    def _save_recording_votes(self, effect: SaveConfig) -> None:
        self.save_config(effect)
        if effect.fsync:
            # The adapter renders the state when it saves, so the file holds the
            # state's lastVoteEpoch as it is now.
            self._durable_vote_epoch = self.state.last_vote_epoch

    def _send_checking_votes(self, effect: Send) -> None:
        message = effect.message
        if type(message) is m.FailoverAuthAck and \
                message.header.current_epoch > self._durable_vote_epoch:
            raise VoteNotDurable(
                f"{self.state.myself.name} sends a vote for epoch {message.header.current_epoch} "
                f"but lastVoteEpoch {self._durable_vote_epoch} is the last one saved with fsync")
        self.send(effect)
