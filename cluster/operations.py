"""The one way the client side changes the cluster: run a state-machine operation now.

CLUSTER MEET/ADDSLOTS/SETSLOT/FAILOVER..., PUBLISH and the DEBUG fault hooks all come
here. `run` calls the named ClusterState operation with the bus clock, has the bus carry
out the effects it returns (send, connect, save nodes.conf...), and turns a ClusterError
into the Redis error reply the caller gets (`error_reply` is given by the composition
root, so cluster/ does not import the client side). Reads go through cluster/view.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from cluster.errors import ClusterError

if TYPE_CHECKING:  # pragma: no cover
    from cluster.bus import ClusterBus
    from cluster.state import ClusterState


class ClusterOperations:
    __slots__ = ("_state", "_bus", "_error_reply")

    def __init__(self, state: ClusterState, bus: ClusterBus,
                 error_reply: Callable[[str], Exception]):
        self._state = state
        self._bus = bus
        self._error_reply = error_reply

    def run(self, name: str, *args):
        """ClusterState.<name>(*args, now_ms); effects carried out; its reply value back
        (most operations have none). Raises error_reply('ERR <text>') on ClusterError."""
        operation = getattr(self._state, name)
        try:
            outcome = operation(*args, self._bus.now_ms())    # an Outcome (entry_point.py)
        except ClusterError as exc:
            raise self._error_reply("ERR %s" % exc) from None
        self._bus.execute_command(outcome)
        return outcome.reply

    def publish(self, channel: bytes, message: bytes, sharded: bool) -> None:
        """PUBLISH (every node) or SPUBLISH (my shard) over the bus: sent straight to the
        links the state names, no state change (ClusterState.publish_targets)."""
        if len(self._state.nodes) == 1:
            return                      # alone in the cluster: nobody to tell
        msg, links = self._state.publish_targets(channel, message, sharded)
        if msg is None:
            self._bus.log_warning("PUBLISH payload too large for the cluster bus, "
                                  "not propagated")
        for link_id in links:
            self._bus.send_message(link_id, msg)

    def save_config(self) -> None:
        """CLUSTER SAVECONFIG: nodes.conf written and fsynced now (raises OSError)."""
        self._bus.save_config_now(fsync=True)

    # ------------------------------------------------------------ fault injection (DEBUG)

    def set_drop_packet_filter(self, msg_type: int) -> None:
        self.run("set_drop_packet_filter", msg_type)

    def isolate_node(self, node_id: str, isolated: bool) -> None:
        self.run("isolate_node", node_id, isolated)
