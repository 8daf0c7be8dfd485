"""What the state machine asks its adapter (cluster/bus.py or cluster/sim.py) to do.

The state never touches sockets, files or clocks; every entry point returns an
:class:`Outcome`: the list of these small records, which the adapter carries out
in order (cluster/effect_runner.py), plus the reply of a CLUSTER subcommand.

Order is meaning: an effect may rely on the ones before it. A
``SaveConfig(fsync=True)`` placed before a ``Send`` says "this must be on disk
before that leaves" (a failover vote); adapters honour it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Hashable, Iterable

from cluster.messages import Message

LinkId = Hashable


@dataclass(slots=True)
class Send:
    """Write ``message`` on the link ``link_id`` (the adapter encodes it)."""
    link_id: LinkId
    message: Message


@dataclass(slots=True)
class Connect:
    """Open an outbound link to ``ip:cport`` for the node named ``node_name``.

    The adapter answers later with ``state.link_connected(node_name, link_id,
    now_ms, ...)`` or ``state.link_connect_failed(node_name, now_ms)``; it must
    give up after ``timeout_ms``.
    """
    node_name: str
    ip: str
    cport: int
    timeout_ms: int


@dataclass(slots=True)
class CloseLink:
    """Close the link; the state has already forgotten it."""
    link_id: LinkId


@dataclass(slots=True)
class SaveConfig:
    """Write nodes.conf (with fsync when asked: epochs and votes must be durable).

    With ``fsync`` the save is a barrier: the adapter finishes it, on disk, before
    it carries out the effects after it; if it cannot, it sends none of them.
    """
    fsync: bool


@dataclass(slots=True)
class Log:
    """A log line; ``level`` is Redis's: debug, verbose, notice or warning."""
    level: str
    text: str


@dataclass(slots=True)
class DeliverPublish:
    """A PUBLISH/SPUBLISH arrived from the bus: deliver it to local subscribers."""
    channel: bytes
    message: bytes
    sharded: bool


@dataclass(slots=True)
class ReplicationChanged:
    """My role changed: replicate ``master_name`` (at ip:port), or stop replicating if None.

    ``flush_data`` is set when Redis would empty the dataset (CLUSTER RESET of a replica).
    """
    master_name: str | None
    ip: str = ""
    port: int = 0
    flush_data: bool = False


Effect = Send | Connect | CloseLink | SaveConfig | Log | DeliverPublish | ReplicationChanged


class Outcome(list):
    """What every state-machine entry point returns: its effects, in order (an Outcome
    *is* that list, so ``adapter.execute(outcome)`` carries them out), and ``reply``,
    the value a CLUSTER subcommand answers with (``CLUSTER BUMPEPOCH``'s text, the
    count of ``CLUSTER COUNT-FAILURE-REPORTS``); None for the rest."""

    __slots__ = ("reply",)

    def __init__(self, effects: Iterable[Effect] = (), reply: Any = None):
        super().__init__(effects)
        self.reply = reply

    def __repr__(self) -> str:
        return f"Outcome({list.__repr__(self)}, reply={self.reply!r})"
