"""The MEET handshake, top to bottom: how two nodes that never met come to know each other.

A mixin of :class:`cluster.state.ClusterState`. In the order things happen
(node A runs CLUSTER MEET for node B):

1. A: CLUSTER MEET (``ClusterAdmin.meet``) calls ``start_handshake``
   (clusterStartHandshake), which adds a node with the
   HANDSHAKE and MEET flags and a *random* name: B's real name is not known yet.
2. A: ``handshake_cron`` (the handshake part of clusterCron) opens a link to B's
   bus port (port + 10000 unless CLUSTER MEET gave one) and, once connected,
   ``link_connect_handler`` sends MEET; MEET is resent until B answers.
3. B: ``process_ping_or_meet`` (the PING/MEET part of clusterProcessPacket) learns
   its own address from the socket, adds A as a HANDSHAKE node, again with a random
   name (A is not trusted yet: B will handshake with A through its own cron, steps
   2-4 the other way round), and answers PONG.
4. A: ``check_sender_on_outbound_link`` sees the PONG on its outbound link and
   ``rename_node``\\ s the handshake node to the sender's real name (clusterRenameNode);
   HANDSHAKE and MEET are cleared: B is a node like any other.
5. A handshake node that does not get there within ``handshake_timeout`` is
   deleted (``handshake_cron``).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from cluster import messages as m
from cluster.effects import LinkId
from cluster.node_record import (NODE_HANDSHAKE, NODE_MASTER, NODE_MEET, NODE_NOADDR, NODE_SLAVE,
                                 ClusterNode, random_node_name)

if TYPE_CHECKING:  # pragma: no cover
    from cluster.links import ClusterLink
    from cluster.state import ClusterState


class Handshake:
    # ------------------------------------------------------------------
    # 1. CLUSTER MEET (node A; admin.meet parses the arguments)
    # ------------------------------------------------------------------

    def start_handshake(self: ClusterState, ip: str, port: int, cport: int) -> bool:
        """clusterStartHandshake: a HANDSHAKE|MEET node with a random name; the cron connects."""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        if not (0 < port <= 65535 and 0 < cport <= 65535):
            return False
        norm = str(address)  # canonical text, so "::0:1" and "::1" are one address
        for node in self.nodes.values():
            if node.in_handshake and (node.ip, node.port, node.cport) == (norm, port, cport):
                return True  # already in progress; Redis still replies OK
        node = ClusterNode(random_node_name(self.rng), NODE_HANDSHAKE | NODE_MEET, self._now)
        node.ip, node.port, node.cport = norm, port, cport
        self.add_node(node)
        return True

    # ------------------------------------------------------------------
    # 2. The cron connects and sends MEET (node A)
    # ------------------------------------------------------------------

    @property
    def handshake_timeout(self: ClusterState) -> int:
        return max(self.config.node_timeout, 1000)

    def handshake_cron(self: ClusterState, node: ClusterNode, now: int, connect_timeout: int,
                       meet_retry: int) -> None:
        """clusterCron for a node in handshake: give up after the handshake timeout; else
        open the link to its bus port (whose handler sends MEET) or resend an unanswered MEET."""
        if now - node.ctime > self.handshake_timeout:
            self._log("verbose", f"Handshake with node {node.name} ({node.ip}:{node.port}) "
                                 "timed out")
            self.del_node(node)
            return
        link = self.links.get(node.link) if node.link is not None else None
        if link is None:
            self.connect_to(node, now, connect_timeout)
        elif node.flags & NODE_MEET:
            self.resend_meet_if_due(node, link.link_id, now, meet_retry)

    def resend_meet_if_due(self: ClusterState, node: ClusterNode, link_id: LinkId, now: int,
                           meet_retry: int) -> None:
        # Reliable MEET: resent until a PONG clears the MEET flag.
        if now - node.meet_sent >= meet_retry:
            self.send_ping(link_id, m.MEET)

    def link_connect_handler(self: ClusterState, node: ClusterNode, link_id: LinkId) -> None:
        """clusterLinkConnectHandler: the first packet on a new outbound link is MEET for a
        node we are meeting, PING for the others."""
        # Keep an older pending ping time: a reconnect must not reset the PFAIL clock.
        old_ping_sent = node.ping_sent
        self.send_ping(link_id, m.MEET if node.flags & NODE_MEET else m.PING, opening=True)
        if old_ping_sent:
            node.ping_sent = old_ping_sent

    # ------------------------------------------------------------------
    # 3. The peer answers (node B)
    # ------------------------------------------------------------------

    def process_ping_or_meet(self: ClusterState, link: ClusterLink, msg: m.Heartbeat,
                             sender: ClusterNode | None) -> None:
        """A PING or MEET arrived: learn my address, add a MEETing stranger, answer PONG."""
        hdr = msg.header
        me = self.myself
        # Learn my own address from the socket, as Redis does without cluster-announce-ip.
        if (msg.TYPE == m.MEET or not me.ip) and not self.config.announce_ip and link.local_ip:
            if me.ip != link.local_ip:
                me.ip = link.local_ip
                self._log("warning", f"IP address for this node updated to {me.ip}")
                self._save()
        if sender is None and msg.TYPE == m.MEET:
            if self._blacklisted(hdr.sender):
                return  # FORGET means: ignore this node for a while, MEETs included
            node = ClusterNode(random_node_name(self.rng), NODE_HANDSHAKE, self._now)
            node.ip = hdr.ip or link.peer_ip
            node.port = hdr.port
            node.pport = hdr.pport
            node.cport = hdr.cport
            self.add_node(node)
            self._save()
            # Not trusted yet: only updates known nodes, adds nothing.
            self.process_gossip_section(msg.gossip, None)
        # The answer to the first heartbeat on an inbound link is part of its opening.
        opening = not link.answered
        link.answered = True
        self.send_ping(link.link_id, m.PONG, opening=opening)

    # ------------------------------------------------------------------
    # 4. The PONG completes the handshake (node A)
    # ------------------------------------------------------------------

    def check_sender_on_outbound_link(self: ClusterState, link: ClusterLink, hdr: m.Header,
                                      sender: ClusterNode | None
                                      ) -> tuple[bool, ClusterNode | None]:
        """A heartbeat came back on a link we opened. Completes a handshake (the node
        takes the sender's real name) or notices a node that changed its id.

        Returns (go on processing the packet?, the sender to process it as)."""
        node = link.node
        if node.in_handshake:
            if sender is not None:
                # We already know this node under its real name.
                self._log("verbose", f"Handshake: we already know node {sender.name}, "
                                     "updating the address if needed.")
                if self.node_update_address_if_needed(sender, link, hdr):
                    self._save()
                    self._update_state_later()
                self.del_node(node)
                return False, sender
            self.rename_node(node, hdr.sender)
            self._log("debug", f"Handshake with node {node.name} completed.")
            node.flags &= ~NODE_HANDSHAKE
            node.flags |= hdr.flags & (NODE_MASTER | NODE_SLAVE)
            self.bind_stranger_link(node)   # if it connected to us before we knew it
            node.shard_id = hdr.shard_id
            self._save()
            self._update_sender_info(node, hdr)
            return True, node
        if node.name != hdr.sender:
            self._log("debug", f"PONG contains mismatching sender ID. About node {node.name} "
                               f"added {self._now - node.ctime} ms ago, having flags {node.flags}")
            node.flags |= NODE_NOADDR
            node.ip, node.port, node.cport = "", 0, 0
            self.free_link(link.link_id)
            self._save()
            return False, sender
        return True, sender

    def rename_node(self: ClusterState, node: ClusterNode, new_name: str) -> None:
        """clusterRenameNode: the handshake node takes its real name (or CLUSTER RESET HARD
        gives myself a new one)."""
        self._log("debug", f"Renaming node {node.name} into {new_name}")
        del self.nodes[node.name]
        node.name = new_name
        self._node_list = None       # (add_node would list the same node twice)
        self.add_node(node)
