"""Outgoing heartbeats and the gossip section: clusterSendPing, broadcasts, UPDATE,
and clusterProcessGossipSection.

A mixin of :class:`cluster.state.ClusterState`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluster import messages as m
from cluster.effects import LinkId, Send
from cluster.manual_failover import MfPhase
from cluster.node_record import (NODE_FAIL, NODE_HANDSHAKE, NODE_MASTER, NODE_MYSELF,
                                 NODE_NOADDR, NODE_NOFAILOVER, NODE_PFAIL, NODE_SLAVE,
                                 ClusterNode)
from cluster.slots import slots_to_ranges

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState

_HEARTBEAT_CLASSES = {m.PING: m.Ping, m.PONG: m.Pong, m.MEET: m.Meet}

# Redis gossips max(3, N/10) nodes in every heartbeat: N/10 so that, with every node
# pinged at least every node_timeout/2, failure reports about a node reach a majority
# of masters within node_timeout*2 (cluster.c, clusterSendPing). The PING that opens a
# link and the PONG that answers it are not part of that schedule: they come on top,
# once per link, and forming a cluster of N nodes opens N^2 links at once. We send the
# minimum in those: knowledge still spreads (each new link teaches 3 nodes each way,
# and every node learned opens another link), PFAIL nodes are still all added, and
# forming 1000 nodes costs 6 million gossip entries instead of 200 million. Not in
# Redis; below 30 nodes it is the same, as N/10 < 3.
MIN_GOSSIP_ENTRIES = 3

# One int object per port number for the node records gossip creates (ints above 256
# are a new object each): every heartbeat that gossips a node reads its record's ports,
# and in a large (or simulated) cluster shared ones stay in the cache. At most 65536.
_PORTS: dict[int, int] = {}


def shared_port(port: int) -> int:
    return _PORTS.setdefault(port, port)


class Gossip:
    def _send(self: ClusterState, link_id: LinkId, msg: m.Message) -> None:
        link = self.links.get(link_id)
        if link is None:
            return
        if link.node is not None and link.node.name in self.isolated_nodes:
            return  # fault hook: traffic to this node is dropped
        self.stats_sent[msg.TYPE] += 1
        self._effects.append(Send(link_id, msg))

    def build_header(self: ClusterState) -> m.Header:
        """clusterBuildMessageHdr. A replica advertises its master's slots and epoch, and
        its own processed offset; a master in a manual failover sets PAUSED."""
        me = self.myself
        master = self.master_of(me)
        # PAUSED tells the replica that the offset in this header will not move.
        mflags = m.MFLAG_PAUSED if self.mf_phase is not MfPhase.NONE and me.is_master else 0
        return m.Header(
            sender=me.name,
            current_epoch=self.current_epoch,
            config_epoch=master.config_epoch if master else 0,
            repl_offset=self.hooks.repl_offset(),
            flags=me.flags,
            master_id=None if me.is_master else me.master_name,
            ip=self.config.announce_ip,
            port=me.port,     # the announced ports (ClusterConfig.announced_ports)
            cport=me.cport,
            pport=me.pport,
            cluster_ok=self.state_ok,
            mflags=mflags,
            shard_id=me.shard_id,
            slots=master.slot_ranges if master else [],
            hostname=me.hostname,
        )

    @staticmethod
    def _gossip_entry(node: ClusterNode) -> tuple:
        """clusterSetGossipEntry: a tuple in m.GossipEntry's field order."""
        return (node.name, node.pong_received // 1000, node.ip, node.port, node.cport,
                node.flags, node.pport)

    def send_ping(self: ClusterState, link_id: LinkId, msg_type: int,
                  opening: bool = False) -> None:
        """clusterSendPing: a heartbeat with max(3, N/10) random nodes plus every PFAIL node.

        ``opening``: the PING a new link starts with, or the PONG that answers it. Those
        carry MIN_GOSSIP_ENTRIES (not in Redis, see there)."""
        link = self.links.get(link_id)
        if link is None:
            return
        receiver = link.node
        nodes = self.node_list()
        # Two fewer: myself and the receiver are never gossiped.
        freshnodes = len(nodes) - 2
        wanted = MIN_GOSSIP_ENTRIES if opening else max(MIN_GOSSIP_ENTRIES, len(nodes) // 10)
        wanted = min(wanted, freshnodes)
        if receiver is not None and msg_type == m.PING:
            receiver.ping_sent = self._now
            self.watch_node(receiver)   # the cron waits for its PONG
        gossip: list[tuple] = []
        chosen: set[ClusterNode] = set()
        maxiter = wanted * 3
        count = len(nodes)
        rand = self.rng.random
        needed = wanted
        # The flag tests as local constants: this loop runs N/10 times per heartbeat.
        never = NODE_MYSELF | NODE_PFAIL            # PFAIL nodes are all added below
        unfit = NODE_HANDSHAKE | NODE_NOADDR
        while freshnodes > 0 and needed > 0 and maxiter > 0:
            maxiter -= 1
            node = nodes[int(rand() * count)]
            flags = node.flags
            if flags & never or node is receiver:
                continue
            # Nodes still in handshake or with no address are not worth gossiping,
            # and neither are disconnected nodes without slots.
            if flags & unfit or (node.link is None and not node.slots):
                freshnodes -= 1
                continue
            if node in chosen:
                continue
            chosen.add(node)
            # clusterSetGossipEntry, written out (a call per entry is measurable here).
            gossip.append((node.name, node.pong_received // 1000, node.ip, node.port,
                           node.cport, flags, node.pport))
            freshnodes -= 1
            needed -= 1
        # Every PFAIL node, so failure reports reach a majority of masters in time.
        for node in self._pfail_nodes:
            if node.flags & NODE_PFAIL and not node.flags & (NODE_HANDSHAKE | NODE_NOADDR):
                if self.nodes.get(node.name) is node:
                    gossip.append(self._gossip_entry(node))
        cls = _HEARTBEAT_CLASSES[msg_type]
        if msg_type == m.MEET and receiver is not None:
            receiver.meet_sent = self._now
        self._send(link_id, cls(self.build_header(), gossip))

    def broadcast(self: ClusterState, msg: m.Message) -> None:
        """clusterBroadcastMessage: to every connected node but myself and handshakes."""
        for node in self.node_list():
            if node.link is None or node.flags & (NODE_MYSELF | NODE_HANDSHAKE):
                continue
            self._send(node.link, msg)

    def broadcast_pong(self: ClusterState, local_replicas_only: bool = False) -> None:
        """clusterBroadcastPong: to all, or (LOCAL_SLAVES) to the other replicas of my
        master and to my own replicas."""
        me = self.myself
        for node in self.node_list():
            if node.link is None or node.flags & (NODE_MYSELF | NODE_HANDSHAKE):
                continue
            if local_replicas_only and not (
                    node.is_replica and node.master_name is not None
                    and node.master_name in (me.master_name, me.name)):
                continue
            self.send_ping(node.link, m.PONG)

    def send_update(self: ClusterState, link_id: LinkId | None, node: ClusterNode) -> None:
        """clusterSendUpdate: tell a stale node who really owns ``node``'s slots."""
        if link_id is None:
            return
        slots = node.slot_ranges
        if self.owner_not_claiming_slot:
            # Slots the owner stopped claiming are not ours to assert.
            slots = slots_to_ranges(s for s in node.slots if s not in self.owner_not_claiming_slot)
        self._send(link_id, m.Update(self.build_header(), node.config_epoch, node.name, slots))


    def process_gossip_section(self: ClusterState, gossip: list[tuple],
                               sender: ClusterNode | None) -> None:
        now = self._now
        me = self.myself
        reporter = sender is not None and sender.is_voting_master
        failing = NODE_FAIL | NODE_PFAIL
        # Gossip is most of what a node does at scale: N/10 entries in every heartbeat.
        # The usual entry is about a healthy node we know and think healthy, and costs
        # a lookup and a few flag tests; everything else is under those tests.
        latest_pong = (now + 500) // 1000   # a pong time no later than this is believable
        known = self.nodes.get
        for node_id, pong_s, ip, port, cport, flags, pport in gossip:   # m.GossipEntry
            node = known(node_id)
            if node is not None:
                if flags & failing:
                    if reporter and node is not me:
                        if self.add_failure_report(node, sender):
                            self._log("verbose", f"Node {sender.name} reported node {node.name} "
                                                 "as not reachable.")
                        self.mark_node_as_failing_if_needed(node)
                else:
                    reports = node.fail_reports
                    if reports is not None and reporter and node is not me \
                            and reports.pop(sender.name, None) is not None:
                        self._log("verbose", f"Node {sender.name} reported node {node.name} "
                                             "is back online.")
                        if not reports:
                            reports = node.fail_reports = None
                    # Someone heard from it recently: no need to ping it ourselves so soon.
                    if not node.ping_sent and not reports and pong_s <= latest_pong:
                        pongtime = pong_s * 1000
                        if pongtime > node.pong_received:
                            node.pong_received = pongtime
                    # It was unreachable and is healthy at another address: follow it.
                    if node.flags & failing and not flags & NODE_NOADDR and ip \
                            and (node.ip, node.port, node.cport) != (ip, port, cport):
                        if node.link is not None:
                            self.free_link(node.link)
                        node.ip, node.port, node.cport, node.pport = ip, port, cport, pport
                        node.flags &= ~NODE_NOADDR
            elif sender is not None and not flags & NODE_NOADDR and ip \
                    and not self._blacklisted(node_id):
                # No handshake: we trust the sender, and the node will answer our PING.
                node = ClusterNode(node_id, flags & (NODE_MASTER | NODE_SLAVE | NODE_NOFAILOVER | NODE_FAIL), now)
                if node.failed:
                    node.fail_time = now
                node.ip, node.port, node.cport, node.pport = ip, shared_port(port), \
                    shared_port(cport), pport
                self.add_node(node)
                self._save()

    def _blacklisted(self: ClusterState, name: str) -> bool:
        expiry = self.blacklist.get(name)
        if expiry is None:
            return False
        if expiry <= self._now:
            del self.blacklist[name]
            return False
        return True
