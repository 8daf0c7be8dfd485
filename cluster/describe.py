"""Text and replies that describe the cluster: CLUSTER NODES / INFO / SLOTS / SHARDS / LINKS
/ REPLICAS, and the node lines of nodes.conf.

Formats follow Redis 7 byte for byte (see reference/redis-cluster.md 1.12-1.16).
Structured replies are plain Python values: lists, ints, str, and dicts
(RESP3 maps; the RESP2 encoder flattens them into arrays, as Redis does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from cluster import messages as m
from cluster.errors import ClusterError
from cluster.node_record import NODE_FAIL, NODE_PFAIL, ClusterNode, flags_to_text
from cluster.slots import CLUSTER_SLOTS, format_ranges

if TYPE_CHECKING:  # pragma: no cover
    from cluster.state import ClusterState


def _epoch(state: ClusterState, node: ClusterNode) -> int:
    """A replica shows its master's configEpoch."""
    if node.is_replica and node.master_name:
        master = state.nodes.get(node.master_name)
        if master is not None:
            return master.config_epoch
    return node.config_epoch


def node_description(state: ClusterState, node: ClusterNode, for_config: bool = False,
                     use_pport: bool = False) -> str:
    """One CLUSTER NODES line (clusterGenNodeDescription), without the newline.

    ``for_config`` adds the aux fields nodes.conf carries after the address.
    """
    # use_pport: a TLS cluster describing itself to a plain client (its plaintext ports).
    port = node.pport if use_pport and node.pport else node.port
    address = f"{node.ip}:{port}@{node.cport}"
    if for_config:
        # Redis 7.2's aux fields; the first one is the hostname, empty when none.
        address += f",{node.hostname},tls-port=0,shard-id={node.shard_id}"
    elif node.hostname:
        address += f",{node.hostname}"  # Redis 7.0: ip:port@cport,hostname
    myself = node is state.myself
    parts = [
        node.name, address, flags_to_text(node.flags), node.master_name or "-",
        str(0 if myself else node.ping_sent), str(0 if myself else node.pong_received),
        str(_epoch(state, node)),
        "connected" if node.link is not None or myself else "disconnected",
    ]
    parts.extend(format_ranges(node.slot_ranges))
    if myself:
        # Open slots appear only on the myself line.
        for slot, target in sorted(state.migrating_slots_to.items()):
            parts.append(f"[{slot}->-{target.name}]")
        for slot, source in sorted(state.importing_slots_from.items()):
            parts.append(f"[{slot}-<-{source.name}]")
    return " ".join(parts)


def cluster_nodes(state: ClusterState, use_pport: bool = False) -> str:
    """CLUSTER NODES: one line per known node, each ending in a newline."""
    return "".join(node_description(state, node, use_pport=use_pport) + "\n"
                   for node in state.nodes.values())


def cluster_replicas(state: ClusterState, node_id: str, use_pport: bool = False) -> list[str]:
    """CLUSTER REPLICAS / SLAVES <id>: the CLUSTER NODES lines of its replicas."""
    node = state.nodes.get(node_id)
    if node is None:
        raise ClusterError(f"Unknown node {node_id}")
    if not node.is_master:
        raise ClusterError("The specified node is not a master")
    return [node_description(state, r, use_pport=use_pport) for r in state.replicas_of(node)]


def cluster_info(state: ClusterState) -> str:
    """CLUSTER INFO, CRLF-terminated lines (genClusterInfoString)."""
    ok = pfail = fail = 0
    for node in state.nodes.values():
        n = len(node.slots)
        if not n:
            continue
        if node.flags & NODE_FAIL:
            fail += n
        elif node.flags & NODE_PFAIL:
            pfail += n
        else:
            ok += n
    me = state.myself
    lines = [
        f"cluster_state:{'ok' if state.state_ok else 'fail'}",
        f"cluster_slots_assigned:{state.slots_assigned}",
        f"cluster_slots_ok:{ok}",
        f"cluster_slots_pfail:{pfail}",
        f"cluster_slots_fail:{fail}",
        f"cluster_known_nodes:{len(state.nodes)}",
        f"cluster_size:{state.size}",
        f"cluster_current_epoch:{state.current_epoch}",
        f"cluster_my_epoch:{_epoch(state, me)}",
    ]
    for direction, counts in (("sent", state.stats_sent), ("received", state.stats_received)):
        for msg_type, count in enumerate(counts):
            if count:
                lines.append(f"cluster_stats_messages_{m.MESSAGE_TYPE_NAMES[msg_type]}_{direction}:{count}")
        lines.append(f"cluster_stats_messages_{direction}:{sum(counts)}")
    lines.append("total_cluster_links_buffer_limit_exceeded:0")
    return "".join(line + "\r\n" for line in lines)


def preferred_endpoint(state: ClusterState, node: ClusterNode) -> str:
    """getPreferredEndpoint: what MOVED/ASK and CLUSTER SHARDS' "endpoint" name a node by,
    per cluster-preferred-endpoint-type. '?' is a node without a hostname when hostnames
    are preferred; "" (unknown-endpoint) tells a client to reuse the address it used."""
    kind = state.config.preferred_endpoint_type
    if kind == "hostname":
        return node.hostname or "?"
    if kind == "unknown-endpoint":
        return ""
    return node.ip


def _node_reply(state: ClusterState, node: ClusterNode, use_pport: bool = False) -> list[Any]:
    """addNodeToNodeReply: [endpoint, port, id, metadata]. The endpoint is the preferred
    one (nil for unknown-endpoint); the metadata map holds the other known addresses."""
    kind = state.config.preferred_endpoint_type
    metadata: dict[str, Any] = {}
    if kind != "ip":
        metadata["ip"] = node.ip
    if kind != "hostname" and node.hostname:
        metadata["hostname"] = node.hostname
    endpoint = None if kind == "unknown-endpoint" else preferred_endpoint(state, node)
    port = node.pport if use_pport and node.pport else node.port
    return [endpoint, port, node.name, metadata]


def _repl_offset(state: ClusterState, node: ClusterNode) -> int:
    """A peer's offset is what its last heartbeat said; ours is our own, as now (Redis's
    replicationGetSlaveOffset for myself)."""
    return state.hooks.repl_offset() if node is state.myself else node.repl_offset


def _replica_available(state: ClusterState, node: ClusterNode) -> bool:
    return not node.failed and _repl_offset(state, node) != 0


def cluster_slots(state: ClusterState, use_pport: bool = False) -> list[list[Any]]:
    """CLUSTER SLOTS: [start, end, master, replica...] per contiguous range, in slot
    order as Redis 7.0 walks them."""
    reply = []
    for node in state.nodes.values():
        if not node.is_master or not node.slots:
            continue
        replicas = [_node_reply(state, r, use_pport) for r in state.replicas_of(node)
                    if _replica_available(state, r)]
        master = _node_reply(state, node, use_pport)
        for start, end in node.slot_ranges:
            reply.append([start, end, master, *replicas])
    reply.sort(key=lambda entry: entry[0])
    return reply


def _shard_node(state: ClusterState, node: ClusterNode, tls_cluster: bool) -> dict[str, Any]:
    offset = _repl_offset(state, node)
    if node.failed:
        health = "fail"
    elif node.is_replica and offset == 0:
        health = "loading"
    else:
        health = "online"
    reply: dict[str, Any] = {"id": node.name}
    # In a TLS cluster a node's port is its TLS port and pport its plaintext one
    # (addNodeDetailsToShardReply); a port that is 0 is left out.
    plaintext, tls = (node.pport, node.port) if tls_cluster else (node.port, 0)
    if plaintext:
        reply["port"] = plaintext
    if tls:
        reply["tls-port"] = tls
    reply["ip"] = node.ip
    reply["endpoint"] = preferred_endpoint(state, node)
    if node.hostname:
        reply["hostname"] = node.hostname
    reply["role"] = "master" if node.is_master else "replica"
    reply["replication-offset"] = offset
    reply["health"] = health
    return reply


def cluster_shards(state: ClusterState, tls_cluster: bool = False) -> list[dict[str, Any]]:
    """CLUSTER SHARDS: one map per master with its slots and its nodes."""
    reply = []
    for node in state.nodes.values():
        if not node.is_master or node.in_handshake:
            continue
        slots: list[int] = []
        for start, end in node.slot_ranges:
            slots += (start, end)
        members = [node, *state.replicas_of(node)]
        reply.append({"slots": slots, "nodes": [_shard_node(state, n, tls_cluster) for n in members]})
    return reply


def cluster_links(state: ClusterState, link_info: Callable[[Any], dict[str, Any]]) -> list[dict[str, Any]]:
    """CLUSTER LINKS. ``link_info(link_id)`` (from the adapter) supplies ``events``,
    ``send-buffer-allocated`` and ``send-buffer-used``."""
    reply = []
    for node in state.nodes.values():
        for link_id, direction in ((node.link, "to"), (node.inbound_link, "from")):
            link = state.links.get(link_id) if link_id is not None else None
            if link is None:
                continue
            info = link_info(link_id)
            reply.append({
                "direction": direction,
                "node": node.name,
                "create-time": link.ctime,
                "events": info.get("events", ""),
                "send-buffer-allocated": info.get("send-buffer-allocated", 0),
                "send-buffer-used": info.get("send-buffer-used", 0),
            })
    return reply


def slot_owner_counts(state: ClusterState) -> int:
    """Slots with an owner (handy for tests and the simulator)."""
    return sum(1 for slot in range(CLUSTER_SLOTS) if state.slots[slot] is not None)
