"""What the state machine asks its adapter (cluster/bus.py or cluster/sim.py) to do.

The state never touches sockets, files or clocks; every entry point returns a
list of these small records and the adapter carries them out in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable

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
    """Write nodes.conf now (with fsync when asked: epochs must be durable)."""
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
