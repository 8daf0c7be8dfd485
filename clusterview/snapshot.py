"""Parsing what every node says about the cluster: CLUSTER NODES, CLUSTER INFO, INFO.

A snapshot is a plain dict, the same whether a live poll round made it or the simulator
recorder (cluster/sim_record.py) wrote it:

    {"t": ms, "nodes": [{"addr": "127.0.0.1:7001", "ok": true,
                         "nodes": <CLUSTER NODES text>, "info": <CLUSTER INFO text>,
                         "links": [{"direction": "to", "node": id, ...}, ...],
                         "repl": <INFO replication text>}, ...]}

"ok": false means the node did not answer (killed, paused, unreachable); its other
fields are then absent. A sampled node may also carry only its own line of CLUSTER
NODES (the recorder does that for big clusters): a view is whatever lines it has.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class NodeLine:
    """One line of CLUSTER NODES, as the observer that printed it sees that node."""
    id: str
    addr: str                 # ip:port ("" for a noaddr node, ":0" in the text)
    flags: set[str]
    master: str | None        # the master's id for a replica
    config_epoch: int
    link: str                 # "connected" / "disconnected"
    slots: list[tuple[int, int]] = field(default_factory=list)
    migrating: dict[int, str] = field(default_factory=dict)   # slot -> target id
    importing: dict[int, str] = field(default_factory=dict)   # slot -> source id

    @property
    def is_replica(self) -> bool:
        return "slave" in self.flags


def parse_cluster_nodes(text: str) -> list[NodeLine]:
    """CLUSTER NODES: id ip:port@cport[,hostname] flags master ping pong epoch link slots...
    (the field order is fixed; redis-cli reads it positionally too)."""
    lines = []
    for raw in text.splitlines():
        fields = raw.split(" ")
        if len(fields) < 8:
            continue
        address = fields[1].split(",")[0].split("@")[0]
        if address.startswith(":"):
            address = ""      # noaddr: Redis prints ":0@0" (or ":port@cport") for it
        line = NodeLine(id=fields[0], addr=address, flags=set(fields[2].split(",")),
                        master=None if fields[3] == "-" else fields[3],
                        config_epoch=int(fields[6]), link=fields[7])
        for token in fields[8:]:
            if token.startswith("["):
                body = token[1:-1]
                if "->-" in body:
                    slot, target = body.split("->-")
                    line.migrating[int(slot)] = target
                elif "-<-" in body:
                    slot, source = body.split("-<-")
                    line.importing[int(slot)] = source
            elif "-" in token:
                start, end = token.split("-")
                line.slots.append((int(start), int(end)))
            elif token:
                line.slots.append((int(token), int(token)))
        lines.append(line)
    return lines


def parse_info(text: str) -> dict[str, str]:
    """INFO-style text (CLUSTER INFO, INFO replication): key:value lines."""
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            key, value = line.split(":", 1)
            out[key] = value.strip()
    return out
