"""THE cluster state machine: nodes, flags, epochs, slots and failure detection.

Rules of this file:

1. No I/O. No sockets, no clock, no files, no gevent. Time comes in as
   ``now_ms``; randomness from the ``random.Random`` we were given.
2. Every public entry point (``process_packet``, ``cluster_cron``,
   ``link_*`` and the admin methods in :mod:`cluster.admin`) is decorated with
   ``@entry_point`` (:mod:`cluster.entry_point`) and returns an ``Outcome``: the
   effects (:mod:`cluster.effects`) for the adapter to carry out, in order, plus
   the reply of a CLUSTER subcommand.
3. Work Redis defers to ``clusterBeforeSleep`` (update the cluster state, save
   the config) is flagged while handling a call and done once at its end.

The logic follows Redis's ``cluster_legacy.c``; functions carry the Redis
names in snake_case (see the table in ``cluster/__init__.py``).
"""

from __future__ import annotations

import heapq
import random

from cluster import messages as m
from cluster.admin import ClusterAdmin
from cluster.effects import (Connect, DeliverPublish, LinkId, Log, Outcome, ReplicationChanged,
                             SaveConfig)
from cluster.entry_point import entry_point
from cluster.config import ClusterConfig, DataHooks, LoadedConfig
from cluster.failover import Failover
from cluster.failure import FailureDetection
from cluster.gossip import Gossip
from cluster.handshake import Handshake
from cluster.links import ClusterLink, LinkHandling
from cluster.manual_failover import ManualFailover, MfPhase
from cluster.node_record import (
    NODE_FAIL, NODE_HANDSHAKE, NODE_MASTER, NODE_MEET, NODE_MIGRATE_TO, NODE_MYSELF,
    NODE_NOADDR, NODE_NOFAILOVER, NODE_PFAIL, NODE_SLAVE, ClusterNode,
    random_node_name)
from cluster.replication_state import ReplicationState
from cluster.restore import ConfigRestore
from cluster.slots import CLUSTER_SLOTS, SLOT_NUMBERS
from cluster.slot_config import SlotConfig
from cluster.slot_migration import SlotMigration
from cluster.state_update import StateUpdate

# clusterCron runs every 100 ms (Redis calls it from serverCron at hz 10). The one
# period of the node: the bus's cron greenlet, the simulator's virtual cron and
# node.py's data-side cron all tick at it.
CRON_PERIOD_MS = 100
# How many masters a master that just flagged a node PFAIL reports it to at once
# (see _report_new_pfail): enough that one of them being the failed node, or cut
# off, still leaves a place where the reports meet.
FAILURE_REPORT_COLLECTORS = 5
# Redis pings a node once its last PONG is ping_interval (node_timeout/2) old. A cluster
# that formed, or healed, at one moment then has every pair come due at one moment: N^2
# pings in a burst every ping_interval, for good (gossip cannot head them off: the pong
# times it carries are as old as everyone's). So a node's next ping is due a random part
# earlier, up to this fraction of the interval, drawn at each PONG. The pings of different
# nodes to one node spread out; the first PONG's time travels in gossip and refreshes the
# others' views before they come due, so fewer are sent. Measured in the simulator (mean
# messages per node per second over 40 s, and the busiest second), none -> 0.25:
# 400 nodes 26.5 -> 15.9 (busiest 143 -> 40), 60 nodes 7.9 -> 8.0 (33 -> 16), 20 nodes
# 3.6 -> 4.0. Redis's bound (a ping at least every ping_interval) still holds. Not in Redis.
PING_SPREAD = 0.25


def _node_name(node: ClusterNode) -> str:
    return node.name


class ClusterState(Handshake, LinkHandling, Gossip, FailureDetection, SlotConfig, Failover,
                   ManualFailover, ReplicationState, ConfigRestore, ClusterAdmin, SlotMigration,
                   StateUpdate):
    """The cluster as this node sees it. commands/ reads it through cluster/view.py and
    changes it through cluster/operations.py."""

    def __init__(self, config: ClusterConfig, rng: random.Random, now_ms: int,
                 hooks: DataHooks | None = None, loaded: LoadedConfig | None = None):
        self.config = config
        self.rng = rng
        self.hooks = hooks or DataHooks()
        self.nodes: dict[str, ClusterNode] = {}
        self.slots: list[ClusterNode | None] = [None] * CLUSTER_SLOTS
        self.slots_assigned = 0
        self.owner_not_claiming_slot: set[int] = set()
        self.migrating_slots_to: dict[int, ClusterNode] = {}
        self.importing_slots_from: dict[int, ClusterNode] = {}
        self.current_epoch = 0
        self.last_vote_epoch = 0
        self.state_ok = False  # Redis starts in FAIL
        self.size = 0          # masters serving at least one slot
        self.links: dict[LinkId, ClusterLink] = {}
        self.blacklist: dict[str, int] = {}  # node name -> expiry (FORGET)
        self.stats_sent = [0] * m.MESSAGE_TYPE_COUNT
        self.stats_received = [0] * m.MESSAGE_TYPE_COUNT
        self.stats_pfail_nodes = 0
        # Fault hooks for tests (DEBUG DROP-CLUSTER-PACKET-FILTER, partitions).
        self.drop_packet_filter = -1  # -1 none, -2 every type, else one message type
        self.isolated_nodes: set[str] = set()
        self._start_ms = now_ms
        self._among_minority_time: int | None = None  # last time we were in a minority
        self._cron_iteration = 0
        self._now = now_ms
        self._effects = Outcome()   # of the entry point running now (cluster.entry_point)
        self._entered = False
        self._todo_update_state = False
        self._todo_save = False
        self._todo_fsync = False
        self._node_list: list[ClusterNode] | None = None
        # Inbound links opened by nodes we did not know yet: node id -> link (links.py).
        self._inbound_from_strangers: dict[str, LinkId] = {}
        # The nodes the cron walks, and when the quiet ones' next ping is due.
        self._cron_watch: dict[ClusterNode, None] = {}
        self._ping_due: list[tuple[int, int, ClusterNode]] = []
        self._ping_due_seq = 0
        self._watch_ping_interval = 0
        self._pfail_nodes: list[ClusterNode] = []
        self._init_failover()
        self._init_manual_failover()
        self._init_replication()
        self._announced_ip = config.announce_ip   # the cluster-announce-ip in effect
        if loaded is None:
            me = ClusterNode(random_node_name(rng), NODE_MYSELF | NODE_MASTER, now_ms)
            me.shard_id = random_node_name(rng)
            self.myself = me
            self._init_myself_address()
            self.add_node(me)
            self._log("notice", f"No cluster configuration found, I'm {me.name}")
            self._todo_save = self._todo_fsync = True  # a new identity must be durable
        else:
            self._restore(loaded, now_ms)
        self.update_myself_flags()

    # ------------------------------------------------------------------
    # Entry-point plumbing (used by cluster.entry_point, nothing else)
    # ------------------------------------------------------------------

    def _begin(self, now_ms: int | None) -> None:
        # Effects are not reset here: the constructor's (first save, logs) wait
        # for the first entry point or take_effects().
        if now_ms is not None:
            self._now = now_ms

    def _finish(self) -> Outcome:
        """Redis's clusterBeforeSleep: deferred failover steps, state update and config save."""
        # Failover steps run as soon as their reason arises (the deciding ACK, the
        # catch-up of a manual failover) instead of at the next cron. A step may
        # ask for the next one (a manual failover schedules, then asks at once).
        for _ in range(3):
            if not (self._todo_handle_manual_failover or self._todo_handle_failover):
                break
            if not self.myself.is_replica:
                self._todo_handle_manual_failover = self._todo_handle_failover = False
                break
            if self._todo_handle_manual_failover:
                self.handle_manual_failover()
            self.handle_replica_failover()
        if self._todo_update_state and not self._fail_until_covered():
            self._todo_update_state = False
            self.update_cluster_state()
        if self._todo_save:
            self._effects.append(SaveConfig(self._todo_fsync))
            self._todo_save = self._todo_fsync = False
        effects, self._effects = self._effects, Outcome()
        return effects

    @entry_point
    def take_effects(self, now_ms: int) -> None:
        """Effects pending since the last call (the constructor's initial save, for one)."""

    def _log(self, level: str, text: str) -> None:
        self._effects.append(Log(level, text))

    def _save(self, fsync: bool = False) -> None:
        """Save nodes.conf at the end of this call (clusterDoBeforeSleep's TODO_SAVE_CONFIG)."""
        self._todo_save = True
        self._todo_fsync = self._todo_fsync or fsync

    def _save_now(self, fsync: bool) -> None:
        """Save nodes.conf before the effects that follow: the adapter renders the whole
        state when it saves, so a save pending from earlier in this call is covered."""
        self._effects.append(SaveConfig(fsync or self._todo_fsync))
        self._todo_save = self._todo_fsync = False

    def _update_state_later(self) -> None:
        self._todo_update_state = True

    # ------------------------------------------------------------------
    # Node table
    # ------------------------------------------------------------------

    def _init_myself_address(self) -> None:
        me = self.myself
        me.ip = self.config.announce_ip
        me.port, me.cport = self.config.announced_ports()
        me.pport = self.config.pport
        me.hostname = self.config.announce_hostname

    def add_node(self, node: ClusterNode) -> None:
        replaced = self.nodes.get(node.name)
        self.nodes[node.name] = node
        if self._inbound_from_strangers and not node.flags & NODE_HANDSHAKE:
            self.bind_stranger_link(node)
        # A joining node learns N nodes one by one: extend the list, don't rebuild it.
        if replaced is None and self._node_list is not None:
            self._node_list.append(node)
        else:
            self._node_list = None
        self._cron_watch[node] = None

    def watch_node(self, node: ClusterNode) -> None:
        """The cron must look at ``node`` again from its next run (it lost a link or
        has a ping outstanding): see cluster_cron."""
        self._cron_watch[node] = None

    def node_list(self) -> list[ClusterNode]:
        # Random picks need indexable storage; rebuilt only when the table changes.
        if self._node_list is None:
            self._node_list = list(self.nodes.values())
        return self._node_list

    def lookup_node(self, name: str) -> ClusterNode | None:
        return self.nodes.get(name)

    def del_node(self, node: ClusterNode) -> None:
        """clusterDelNode: unassign its slots, drop its reports and links, forget it."""
        for slot in list(node.slots):
            self._del_slot(slot)
        for slot, peer in list(self.importing_slots_from.items()):
            if peer is node:
                del self.importing_slots_from[slot]
        for slot, peer in list(self.migrating_slots_to.items()):
            if peer is node:
                del self.migrating_slots_to[slot]
        for other in self.nodes.values():
            if other.fail_reports is not None:
                other.fail_reports.pop(node.name, None)
            if other.master_name == node.name:
                other.master_name = None
        for link_id in (node.link, node.inbound_link):
            if link_id is not None:
                self.free_link(link_id)
        del self.nodes[node.name]
        self._node_list = None
        self._cron_watch.pop(node, None)

    def _add_slot(self, slot: int, node: ClusterNode) -> None:
        old = self.slots[slot]
        if old is node:
            return
        if old is None:
            self.slots_assigned += 1
        else:
            old.slots.discard(slot)
            old.slot_removed(slot)
        # The shared int of that slot number: ints above 256 are a 32-byte object each,
        # and a node's set of 16384 slots made of fresh ones would hold another 512 KB.
        node.slots.add(SLOT_NUMBERS[slot])
        node.slot_added(slot)
        self.slots[slot] = node

    def _del_slot(self, slot: int) -> None:
        old = self.slots[slot]
        if old is None:
            return
        old.slots.discard(slot)
        old.slot_removed(slot)
        self.slots[slot] = None
        self.slots_assigned -= 1

    def master_of(self, node: ClusterNode) -> ClusterNode | None:
        """The node itself if a master, else its master (when known)."""
        if node.is_master:
            return node
        return self.nodes.get(node.master_name) if node.master_name else None

    def replicas_of(self, node: ClusterNode) -> list[ClusterNode]:
        return [n for n in self.nodes.values() if n.master_name == node.name]

    def set_node_as_master(self, node: ClusterNode) -> None:
        if node.is_master:
            return
        if node.master_name and node is not self.myself:
            # A promoted replica took over a shard that had replicas: if it ends
            # up without any, spare replicas may migrate to it.
            node.flags |= NODE_MIGRATE_TO
        node.flags = (node.flags & ~NODE_SLAVE) | NODE_MASTER
        node.master_name = None
        self._save()
        self._update_state_later()

    def update_shard_id(self, node: ClusterNode, shard_id: str) -> None:
        """updateShardId: a node's shard id from its header (nodes learned from gossip get
        theirs here); my own follows my master's."""
        if node.shard_id != shard_id:
            node.shard_id = shard_id
            self._save()
        me = self.myself
        if node is not me and me.master_name == node.name and me.shard_id != shard_id:
            me.shard_id = shard_id
            self._save(fsync=True)

    def set_my_master(self, master: ClusterNode) -> None:
        """clusterSetMaster: become a replica of ``master`` (replication itself is node.py's)."""
        me = self.myself
        for slot in list(me.slots):
            self._del_slot(slot)
        if me.is_master:
            me.flags = (me.flags & ~(NODE_MASTER | NODE_MIGRATE_TO)) | NODE_SLAVE
            # clusterCloseAllSlots: a replica has no slots to import or migrate.
            self.importing_slots_from.clear()
            self.migrating_slots_to.clear()
        me.master_name = master.name
        if master.shard_id:
            me.shard_id = master.shard_id  # else learned from its next header
        master.flags |= NODE_MIGRATE_TO
        self.set_master_link_down_since(self._now)
        self._effects.append(ReplicationChanged(master.name, master.ip, master.port))
        self.reset_manual_failover()
        # A new master means a new election context (Valkey #782): no waiting
        # for the retry time of an attempt made for the previous master.
        self.election.reset()
        self._save(fsync=True)
        self._update_state_later()

    # ------------------------------------------------------------------
    # Receiving: clusterProcessPacket
    # ------------------------------------------------------------------

    @entry_point
    def process_packet(self, link_id: LinkId, msg: m.Message, now_ms: int) -> None:
        link = self.links.get(link_id)
        if link is None:
            return
        t = msg.TYPE
        sender_name = msg.sender if t in (m.PUBLISH, m.PUBLISHSHARD) else msg.header.sender
        if sender_name in self.isolated_nodes:
            return  # fault hook: as if the packet never arrived
        self.stats_received[t] += 1
        if self.drop_packet_filter == -2 or self.drop_packet_filter == t:
            return

        if t in (m.PUBLISH, m.PUBLISHSHARD):
            if sender_name in self.nodes:
                self._effects.append(DeliverPublish(msg.channel, msg.message, t == m.PUBLISHSHARD))
            return

        hdr = msg.header
        sender = self.nodes.get(hdr.sender)
        if sender is not None and sender.in_handshake:
            sender = None
        if sender is not None:
            if link.inbound:
                self._bind_inbound_link(sender, link)
            self._update_sender_info(sender, hdr)
        elif link.inbound and link.node is None:
            self.note_stranger_link(link, hdr.sender)

        if t in (m.PING, m.MEET):
            self.process_ping_or_meet(link, msg, sender)  # cluster/handshake.py
        if t in (m.PING, m.PONG, m.MEET):
            self._process_heartbeat(link, msg, sender)
        elif t == m.FAIL:
            self.process_fail(msg, sender)
        elif t == m.UPDATE:
            self.process_update(msg, sender)
        elif t == m.FAILOVER_AUTH_REQUEST:
            if sender is not None:
                self.send_failover_auth_if_needed(sender, hdr)
        elif t == m.FAILOVER_AUTH_ACK:
            self.process_failover_auth_ack(sender, hdr)
        elif t == m.MFSTART:
            self.process_mfstart(sender)

    def _update_sender_info(self, sender: ClusterNode, hdr: m.Header) -> None:
        sender.data_received = self._now
        if hdr.current_epoch > self.current_epoch:
            self.current_epoch = hdr.current_epoch  # not worth a save on its own
        # A replica's header carries its master's configEpoch; Redis records it for any
        # sender, so CLUSTER NODES shows a replica with its master's epoch.
        if hdr.config_epoch > sender.config_epoch:
            sender.config_epoch = hdr.config_epoch
            self._save(fsync=True)
            self._update_state_later()
        sender.repl_offset = hdr.repl_offset
        sender.flags = (sender.flags & ~NODE_NOFAILOVER) | (hdr.flags & NODE_NOFAILOVER)
        if hdr.shard_id != sender.shard_id:
            self.update_shard_id(sender, hdr.shard_id)
        if self.mf_phase is not MfPhase.NONE:
            self.note_paused_master_offset(sender, hdr)

    def _process_heartbeat(self, link: ClusterLink, msg: m.Heartbeat,
                           sender: ClusterNode | None) -> None:
        hdr = msg.header
        t = msg.TYPE
        if not link.inbound:
            # The handshake's end (a rename), or a peer that changed its id.
            go_on, sender = self.check_sender_on_outbound_link(link, hdr, sender)
            if not go_on:
                return

        if sender is not None and t == m.PING and self.node_update_address_if_needed(sender, link, hdr):
            self._save()
            self._update_state_later()

        if not link.inbound and t == m.PONG:
            node = link.node
            node.pong_received = self._now
            node.ping_early = self.rng.random() * PING_SPREAD
            node.ping_sent = 0
            node.flags &= ~NODE_MEET  # reliable MEET: the peer answered
            if node.timed_out:
                node.flags &= ~NODE_PFAIL
                self._update_state_later()
            elif node.failed:
                self.clear_node_failure_if_needed(node)

        if sender is None:
            return
        self._update_role(sender, hdr)

        sender_master = self.master_of(sender)
        dirty_slots = sender_master is not None and hdr.slots != sender_master.slot_ranges
        if sender.is_master and dirty_slots:
            self.update_slots_config_with(sender, hdr.config_epoch, hdr.slots)
        if dirty_slots:
            self._send_update_if_stale(sender, link, hdr)
        if sender.is_master and self.myself.is_master and hdr.config_epoch == self.myself.config_epoch:
            self.handle_config_epoch_collision(sender)
        self.process_gossip_section(msg.gossip, sender)
        self.update_announced_hostname(sender, hdr.hostname)

    def update_announced_hostname(self, node: ClusterNode, hostname: str) -> None:
        """updateAnnouncedHostname (via clusterProcessPingExtensions): every heartbeat
        says the sender's hostname, and one without it clears it. Saved so nodes.conf
        keeps it across restarts (Redis writes it at the next save)."""
        if node.hostname != hostname:
            node.hostname = hostname
            self._save()

    @entry_point
    def update_myself_announced(self, now_ms: int) -> None:
        """clusterUpdateMyselfAnnouncedPorts / clusterUpdateMyselfIp /
        clusterUpdateMyselfHostname: CONFIG SET of a cluster-announce-* option takes
        effect in myself's record and so in the next heartbeat."""
        me = self.myself
        port, cport = self.config.announced_ports()
        changed = (me.port, me.cport, me.pport, me.hostname) != \
            (port, cport, self.config.pport, self.config.announce_hostname)
        me.port, me.cport, me.pport = port, cport, self.config.pport
        me.hostname = self.config.announce_hostname
        announce_ip = self.config.announce_ip
        if announce_ip != self._announced_ip:
            # Unset, our address is learned again from the next MEET or PING (Redis's
            # clusterUpdateMyselfIp: "Force autodetection").
            self._announced_ip = announce_ip
            if me.ip != announce_ip:
                me.ip = announce_ip
                changed = True
        if changed:
            self._save()

    def _update_role(self, sender: ClusterNode, hdr: m.Header) -> None:
        if hdr.master_id is None:
            self.set_node_as_master(sender)
            return
        if sender.is_master:
            # A master turned into a replica: its slots are no longer its own.
            self._log("notice", f"Node {sender.name} is now a replica")
            for slot in list(sender.slots):
                self._del_slot(slot)
            sender.flags = (sender.flags & ~(NODE_MASTER | NODE_MIGRATE_TO)) | NODE_SLAVE
            self._save()
            self._update_state_later()
        master = self.nodes.get(hdr.master_id)
        if master is not None and sender.master_name != master.name:
            sender.master_name = master.name
            if master.shard_id:
                sender.shard_id = master.shard_id
            master.flags |= NODE_MIGRATE_TO
            self._save()

    def _send_update_if_stale(self, sender: ClusterNode, link: ClusterLink, hdr: m.Header) -> None:
        """The sender claims slots a node with a newer configEpoch owns: tell it (UPDATE)."""
        for start, end in hdr.slots:
            if self.slots[start:end + 1].count(sender) == end + 1 - start:
                continue              # all the sender's already: nothing stale here
            for slot in range(start, end + 1):
                owner = self.slots[slot]
                if owner is None or owner is sender or slot in self.owner_not_claiming_slot:
                    continue
                if owner.config_epoch > hdr.config_epoch:
                    self._log("verbose", f"Node {sender.name} has old slots configuration, "
                                         f"sending an UPDATE message about {owner.name}")
                    # Redis reports only the first such owner per packet.
                    self.send_update(sender.link if sender.link is not None else link.link_id, owner)
                    return

    def node_update_address_if_needed(self, node: ClusterNode, link: ClusterLink,
                                      hdr: m.Header) -> bool:
        if node is self.myself:
            return False
        ip = hdr.ip or link.peer_ip
        if not ip or (node.ip == ip and node.port == hdr.port and node.cport == hdr.cport
                      and node.pport == hdr.pport):
            return False
        node.ip, node.port, node.cport, node.pport = ip, hdr.port, hdr.cport, hdr.pport
        if node.link is not None and node.link != link.link_id:
            self.free_link(node.link)
        node.flags &= ~NODE_NOADDR
        self._log("warning", f"Address updated for node {node.name}, now {ip}:{hdr.port}")
        return True

    # ------------------------------------------------------------------
    # clusterCron
    # ------------------------------------------------------------------

    @property
    def ping_interval(self) -> int:
        return self.config.ping_interval or self.config.node_timeout // 2

    @entry_point
    def cluster_cron(self, now_ms: int) -> None:
        """Run every CRON_PERIOD_MS: reconnect, ping, detect failures, time out handshakes."""
        self._cron_iteration += 1
        if self._cron_iteration % 10 == 0:
            self._ping_oldest_of_random_sample()
        now = now_ms
        nt = self.config.node_timeout
        half_timeout = nt // 2
        handshake_timeout = self.handshake_timeout
        # A MEET is resent until answered, a few times within the handshake timeout.
        meet_retry = max(100, handshake_timeout // 3)
        connect_timeout = max(100, min(half_timeout, 5000))
        ping_interval = self.ping_interval
        links = self.links
        pfail_nodes = []
        new_pfail = False
        # Redis walks every node on every cron (twice). Most nodes, most of the time,
        # are "quiet": linked both ways, no ping outstanding, no flag that needs the
        # cron; for them the walk only asks "is a ping due?". So quiet nodes leave
        # the walk and wait in a heap keyed by when their next ping is due; anything
        # that can make a node need the cron again (a link lost, a ping sent, a new
        # node) puts it back in `_cron_watch` (see watch_node). At 1000 nodes this
        # is the difference between 10^7 node visits per second and a few hundred.
        watch = self._cron_watch
        if ping_interval != self._watch_ping_interval:
            # The node timeout changed: due times are stale, look at everyone again.
            self._watch_ping_interval = ping_interval
            self._ping_due.clear()
            for node in self.nodes.values():
                watch[node] = None
        due = self._ping_due
        while due and due[0][0] <= now:
            node = heapq.heappop(due)[2]
            if self.nodes.get(node.name) is node:
                watch[node] = None
        # A snapshot: the body may add (send_ping) or delete nodes while we walk.
        for node in list(watch):
            flags = node.flags
            if flags & NODE_MYSELF or self.nodes.get(node.name) is not node:
                watch.pop(node, None)
                continue
            if flags & NODE_NOADDR:
                continue
            if flags & NODE_PFAIL:
                pfail_nodes.append(node)
            if flags & NODE_HANDSHAKE:
                # Time out, connect, (re)send MEET: cluster/handshake.py.
                self.handshake_cron(node, now, connect_timeout, meet_retry)
                continue
            link = links.get(node.link) if node.link is not None else None
            if link is None:
                self.connect_to(node, now, connect_timeout)
            elif flags & NODE_MEET:
                self.resend_meet_if_due(node, link.link_id, now, meet_retry)
            elif node.inbound_link is None and now - node.no_inbound_since > handshake_timeout:
                # It answers us but never connects back: it may have dropped us
                # (its handshake timed out). A MEET makes it add us again.
                node.no_inbound_since = now
                self.send_ping(link.link_id, m.MEET)

            ping_sent = node.ping_sent
            data_delay = now - node.data_received
            # A link whose ping went unanswered for half the timeout, with no
            # data either, is probably stuck: drop it, a later cron reconnects.
            if link is not None and ping_sent and now - link.ctime > nt \
                    and now - ping_sent > half_timeout and data_delay > half_timeout:
                self.free_link(link.link_id)
                link = None
            if ping_sent == 0:
                interval = ping_interval - int(ping_interval * node.ping_early)
                if link is not None and now - node.pong_received > interval:
                    self.send_ping(link.link_id, m.PING)
                elif link is not None and not flags & (NODE_MEET | NODE_PFAIL):
                    # Quiet: nothing to do until its ping is due, or, while it has
                    # not connected to us, until the MEET above is due.
                    watch.pop(node, None)
                    wake = node.pong_received + interval + 1
                    if node.inbound_link is None:
                        wake = min(wake, node.no_inbound_since + handshake_timeout + 1)
                    self._ping_due_seq += 1
                    heapq.heappush(due, (wake, self._ping_due_seq, node))
                continue
            if min(now - ping_sent, data_delay) > nt and not flags & (NODE_PFAIL | NODE_FAIL):
                self._log("debug", f"*** NODE {node.name} possibly failing")
                node.flags |= NODE_PFAIL
                pfail_nodes.append(node)
                new_pfail = True
                self._update_state_later()
                if self.myself.is_voting_master and self.size == 1:
                    self.mark_node_as_failing_if_needed(node)
        self.stats_pfail_nodes = len(pfail_nodes)
        self._pfail_nodes = pfail_nodes
        if new_pfail and self.myself.is_voting_master:
            self._report_new_pfail()

        if self.blacklist:
            for name in [n for n, exp in self.blacklist.items() if exp <= now]:
                del self.blacklist[name]
        self.update_myself_flags()
        self.manual_failover_cron()
        self.manual_failover_check_timeout()
        if self.myself.is_replica:
            self.handle_manual_failover()
            self.handle_replica_failover()
            self.replica_migration_cron()
        # Redis updates the state on every cron while it is fail; while it is fail for
        # want of slot owners, once a second (see _fail_until_covered).
        if (self._todo_update_state or not self.state_ok) and \
                (self._cron_iteration % 10 == 0 or not self._fail_until_covered()):
            self._todo_update_state = False
            self.update_cluster_state()

    def connect_to(self, node: ClusterNode, now: int, timeout_ms: int) -> None:
        """Ask the adapter for a link to the node's bus port, unless one is on its way."""
        if not node.connecting:
            node.connecting = True
            # If we can't connect, this pending "ping" is what lets PFAIL happen.
            if node.ping_sent == 0:
                node.ping_sent = now
            self._effects.append(Connect(node.name, node.ip, node.cport, timeout_ms))

    def _report_new_pfail(self) -> None:
        """A master that just flagged a node PFAIL pings a few other masters with slots
        at once (not in Redis: there the report waits for the next scheduled ping, up to
        node_timeout/2 later). Every ping gossips all PFAIL nodes, and every master
        picks the same few (the smallest ids among the masters it can reach), so the
        failure reports gather there and reach a majority, and FAIL is reached and
        broadcast, as soon as the masters' own timers agree; the election, and so the
        failover, starts that much sooner. A few, not all: pinging every master would
        be N^2 heartbeats of N/10 gossip entries each, cluster-wide, the moment a node
        dies (a burst of 2 million at 1000 nodes)."""
        targets = [node for node in self.node_list()
                   if node.link is not None and node.is_voting_master
                   and not node.flags & (NODE_MYSELF | NODE_PFAIL | NODE_FAIL | NODE_HANDSHAKE)]
        for node in heapq.nsmallest(FAILURE_REPORT_COLLECTORS, targets, key=_node_name):
            pending = node.ping_sent
            self.send_ping(node.link, m.PING)
            if pending:
                node.ping_sent = pending    # an older unanswered ping keeps its time

    def _ping_oldest_of_random_sample(self) -> None:
        """About once a second, ping the node with the oldest pong among 5 random ones."""
        nodes = self.node_list()
        best = None
        for _ in range(5):
            node = nodes[int(self.rng.random() * len(nodes))]
            if node.link is None or node.ping_sent != 0 or node.flags & (NODE_MYSELF | NODE_HANDSHAKE):
                continue
            if best is None or node.pong_received < best.pong_received:
                best = node
        if best is not None:
            self._log("debug", f"Pinging node {best.name}")
            self.send_ping(best.link, m.PING)
