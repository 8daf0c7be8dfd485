"""Rebuilding the state from a loaded nodes.conf (Redis's clusterLoadConfig, minus the parsing).

A mixin of :class:`cluster.state.ClusterState`; :mod:`cluster.nodesconf` parses
the text into a :class:`LoadedConfig`, this applies it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluster.config import LoadedConfig
from cluster.effects import ReplicationChanged
from cluster.errors import ConfigFileError
from cluster.node_record import (NODE_HANDSHAKE, NODE_MEET, NODE_MIGRATE_TO, NODE_PFAIL,
                                 ClusterNode, random_node_name)

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState


class ConfigRestore:
    def _restore(self: ClusterState, loaded: LoadedConfig, now_ms: int) -> None:
        """Nodes, slots, open slots and epochs as saved; myself takes the configured ports."""
        self.current_epoch = loaded.current_epoch
        self.last_vote_epoch = loaded.last_vote_epoch
        myself = None
        for rec in loaded.nodes:
            node = ClusterNode(rec.name, rec.flags & ~(NODE_PFAIL | NODE_HANDSHAKE | NODE_MEET), now_ms)
            node.ip, node.port, node.cport = rec.ip, rec.port, rec.cport
            node.master_name = rec.master_name
            node.config_epoch = rec.config_epoch
            node.shard_id = rec.shard_id
            node.hostname = rec.hostname
            node.ping_sent = now_ms if rec.ping_sent else 0
            node.pong_received = now_ms if rec.pong_received else 0
            if node.failed:
                node.fail_time = now_ms
            self.add_node(node)
            for start, end in rec.slots:
                for slot in range(start, end + 1):
                    self._add_slot(slot, node)
            if node.is_myself:
                myself = node
        if myself is None:
            # nodesconf.parse refuses such a file; a LoadedConfig built another way must
            # still end start-up with Redis's one-line error, not a traceback.
            raise ConfigFileError("Unrecoverable error: corrupted cluster config file: "
                                  "no 'myself' node")
        for rec in loaded.nodes:
            for slot, peer in rec.migrating.items():
                if peer in self.nodes:
                    self.migrating_slots_to[slot] = self.nodes[peer]
            for slot, peer in rec.importing.items():
                if peer in self.nodes:
                    self.importing_slots_from[slot] = self.nodes[peer]
        for node in self.nodes.values():
            master = self.nodes.get(node.master_name) if node.master_name else None
            if master is not None:
                master.flags |= NODE_MIGRATE_TO  # it has a replica (clusterNodeAddSlave)
            if not node.shard_id:
                master = self.nodes.get(node.master_name) if node.master_name else None
                node.shard_id = master.shard_id if master and master.shard_id else random_node_name(self.rng)
        self.myself = myself
        myself.port, myself.cport = self.config.announced_ports()
        myself.hostname = self.config.announce_hostname
        if self.config.announce_ip:
            myself.ip = self.config.announce_ip
        self._log("notice", f"Node configuration loaded, I'm {myself.name}")
        master = self.nodes.get(myself.master_name) if myself.master_name else None
        if myself.is_replica and master is not None:
            # A restarted replica resumes replicating (Redis's cron re-enables it).
            self._effects.append(ReplicationChanged(master.name, master.ip, master.port))
