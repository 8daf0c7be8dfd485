"""Settings of the cluster state machine, its hooks into the data side, and the
shape of a loaded nodes.conf."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass
class ClusterConfig:
    """Tunables, named as the redis.conf options they mirror."""
    port: int
    cport: int = 0                      # 0: port + 10000
    node_timeout: int = 15000           # cluster-node-timeout, ms
    require_full_coverage: bool = True  # cluster-require-full-coverage
    allow_replica_migration: bool = True  # cluster-allow-replica-migration
    migration_barrier: int = 1          # cluster-migration-barrier
    replica_no_failover: bool = False   # cluster-replica-no-failover (NOFAILOVER flag)
    replica_validity_factor: int = 10   # cluster-replica-validity-factor; 0: any data age
    repl_ping_replica_period: int = 10  # repl-ping-replica-period, seconds (data-age slack)
    announce_ip: str = ""               # cluster-announce-ip
    announce_port: int = 0              # cluster-announce-port; 0: port
    announce_bus_port: int = 0          # cluster-announce-bus-port; 0: cport
    pport: int = 0                      # tls-cluster: the plaintext client port announced
                                        # beside the TLS one (Redis's pport); 0: none
    announce_hostname: str = ""         # cluster-announce-hostname; "": none
    preferred_endpoint_type: str = "ip"  # cluster-preferred-endpoint-type
    blacklist_ttl: int = 60000          # CLUSTER FORGET ban, ms
    ping_interval: int = 0              # hidden cluster-ping-interval; 0: node_timeout/2

    def __post_init__(self) -> None:
        if not self.cport:
            self.cport = self.port + 10000

    def announced_ports(self) -> tuple[int, int]:
        """deriveAnnouncedPorts: the client and bus ports peers should use, which behind
        NAT or in a container are not the ones we listen on."""
        return self.announce_port or self.port, self.announce_bus_port or self.cport


@dataclass
class DataHooks:
    """What the cluster needs from the data side, handed in by node.py."""
    count_keys_in_slot: Callable[[int], int] = lambda slot: 0
    delete_keys_in_slot: Callable[[int], int] = lambda slot: 0
    # A master's master_repl_offset; a replica's processed offset from its master.
    repl_offset: Callable[[], int] = lambda: 0
    db_size: Callable[[], int] = lambda: 0
    # When the replication link is up: the ms time (the state's clock) of the last
    # data or ping from the master, or None to treat the data as current.
    master_last_interaction_ms: Callable[[], int | None] = lambda: None


@dataclass
class LoadedNode:
    """A node as read back from nodes.conf (see cluster.nodesconf)."""
    name: str
    ip: str
    port: int
    cport: int
    flags: int
    master_name: str | None
    ping_sent: int
    pong_received: int
    config_epoch: int
    link_connected: bool
    slots: list[tuple[int, int]]
    shard_id: str = ""
    hostname: str = ""
    migrating: dict[int, str] = field(default_factory=dict)
    importing: dict[int, str] = field(default_factory=dict)


@dataclass
class LoadedConfig:
    current_epoch: int
    last_vote_epoch: int
    nodes: list[LoadedNode]
