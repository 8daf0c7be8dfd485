"""Bus links as the state machine sees them: bind, forget, free (Redis's clusterLink).

A mixin of :class:`cluster.state.ClusterState`. The adapter owns the sockets;
these methods are called when it accepts, connects or loses one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cluster.effects import CloseLink, LinkId
from cluster.entry_point import entry_point
from cluster.node_record import ClusterNode

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState


@dataclass(slots=True)
class ClusterLink:
    link_id: LinkId
    node: ClusterNode | None  # None for an inbound link whose peer is not known yet
    inbound: bool
    ctime: int
    peer_ip: str = ""
    local_ip: str = ""
    answered: bool = False    # inbound: we answered its first PING or MEET
    # Inbound, not bound yet: the node id its packets carry, while we don't know it.
    stranger: str | None = None


class LinkHandling:
    @entry_point
    def link_accepted(self: ClusterState, link_id: LinkId, now_ms: int, peer_ip: str = "",
                      local_ip: str = "") -> None:
        """A peer connected to our bus port. Its node is learned from its first packet."""
        self.links[link_id] = ClusterLink(link_id, None, True, now_ms, peer_ip, local_ip)

    @entry_point
    def link_connected(self: ClusterState, node_name: str, link_id: LinkId, now_ms: int,
                       peer_ip: str = "", local_ip: str = "") -> None:
        """Our Connect succeeded: bind the link and send MEET or PING at once."""
        node = self.nodes.get(node_name)
        if node is None or node.link is not None:
            # Forgotten (e.g. handshake timeout) while we were connecting.
            self._effects.append(CloseLink(link_id))
            return
        node.connecting = False
        node.link = link_id
        self.links[link_id] = ClusterLink(link_id, node, False, now_ms, peer_ip or node.ip,
                                          local_ip)
        self.link_connect_handler(node, link_id)  # MEET or PING: cluster/handshake.py

    @entry_point
    def link_connect_failed(self: ClusterState, node_name: str, now_ms: int) -> None:
        node = self.nodes.get(node_name)
        if node is not None:
            node.connecting = False
            self._log("debug", f"Connection with Node {node_name} at {node.ip}:{node.cport} failed")

    @entry_point
    def link_closed(self: ClusterState, link_id: LinkId, now_ms: int) -> None:
        """The peer closed the link, or it broke. Unknown ids are ignored."""
        self._forget_link(link_id)

    def _forget_link(self: ClusterState, link_id: LinkId) -> ClusterLink | None:
        link = self.links.pop(link_id, None)
        if link is not None and link.stranger is not None \
                and self._inbound_from_strangers.get(link.stranger) == link_id:
            del self._inbound_from_strangers[link.stranger]
        if link is not None and link.node is not None:
            node = link.node
            if node.link == link_id:
                node.link = None
                self.watch_node(node)
            if node.inbound_link == link_id:
                node.inbound_link = None
                node.no_inbound_since = self._now
                self.watch_node(node)
        return link

    def free_link(self: ClusterState, link_id: LinkId) -> None:
        """freeClusterLink: forget the link and ask the adapter to close it."""
        if self._forget_link(link_id) is not None:
            self._effects.append(CloseLink(link_id))

    def note_stranger_link(self: ClusterState, link: ClusterLink, sender_name: str) -> None:
        """A packet from a node we don't know came on an inbound link. If we learn the
        node later (from gossip, or a handshake), the link is bound to it then: the
        peer may have no reason to send on it again for a long time (gossip keeps
        its view of us fresh, so no ping is due), and a node with no inbound link
        for long looks like one that dropped us (see cluster_cron's MEET)."""
        if link.stranger != sender_name:
            if link.stranger is not None:
                self._inbound_from_strangers.pop(link.stranger, None)
            link.stranger = sender_name
            self._inbound_from_strangers[sender_name] = link.link_id

    def bind_stranger_link(self: ClusterState, node: ClusterNode) -> None:
        """``node`` is now known by its real name: bind the inbound link it opened."""
        link_id = self._inbound_from_strangers.pop(node.name, None)
        link = self.links.get(link_id) if link_id is not None else None
        if link is not None and link.node is None:
            self._bind_inbound_link(node, link)

    def _bind_inbound_link(self: ClusterState, node: ClusterNode, link: ClusterLink) -> None:
        if node.inbound_link == link.link_id:
            return
        if node.inbound_link is not None:
            # A peer has one inbound link; an older one is stale (it reconnected).
            self.free_link(node.inbound_link)
        if link.stranger is not None:
            if self._inbound_from_strangers.get(link.stranger) == link.link_id:
                del self._inbound_from_strangers[link.stranger]
            link.stranger = None
        link.node = node
        node.inbound_link = link.link_id
