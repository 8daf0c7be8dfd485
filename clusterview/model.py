"""The picture the page draws, merged from every answering node's view of the cluster.

Each node knows only its own view; the picture combines them:

- a node's role, epochs, offsets and open slots come from its own answer (its "myself"
  line, CLUSTER INFO, INFO replication) when it answers, else from the anchor's line;
- its flags are the anchor's view of it (the anchor is the first answering node, the
  one the viewer was started with while it answers), and PFAIL/FAIL are also counted
  over every view ("fail? by 2 of 5");
- each slot goes to the master claiming it with the highest config epoch in any view,
  the rule nodes themselves use to settle a conflict, so a replica that just won an
  election colours its slots before the others have heard of it.
"""
from __future__ import annotations

from clusterview.snapshot import NodeLine, parse_cluster_nodes, parse_info

SLOTS = 16384


def build_picture(snapshot: dict, anchor_addr: str | None = None) -> dict:
    answering = [n for n in snapshot["nodes"] if n.get("ok")]
    polled = {n["addr"] for n in snapshot["nodes"]}
    views = {}          # observer addr -> {id: NodeLine}
    own = {}            # id -> (the node's own line, its sample)
    for sample in answering:
        lines = parse_cluster_nodes(sample.get("nodes", ""))
        views[sample["addr"]] = {line.id: line for line in lines}
        for line in lines:
            if "myself" in line.flags:
                own[line.id] = (line, sample)
    anchor = _anchor(answering, views, anchor_addr)
    anchor_view = views.get(anchor, {})
    full_views = [v for v in views.values() if len(v) > 1]

    ids = set(own)
    for view in views.values():
        ids.update(view)
    nodes = []
    for node_id in ids:
        seen = [v[node_id] for v in views.values() if node_id in v]
        mine = own.get(node_id)
        line = mine[0] if mine else anchor_view.get(node_id) or max(seen, key=lambda x: x.config_epoch)
        shown = anchor_view.get(node_id, line)
        others = [v[node_id] for v in full_views if node_id in v and v[node_id] is not (mine and mine[0])]
        node = _node(node_id, line, shown, mine[1] if mine else None, others, len(full_views))
        node["polled"] = node["addr"] in polled
        nodes.append(node)
    nodes.sort(key=lambda n: (_sort_addr(n["addr"]), n["id"]))

    owners = slot_owners(views)
    segments = _segments(owners)
    by_id = {n["id"]: n for n in nodes}
    counts: dict[str, int] = {}
    for start, end, owner in segments:
        counts[owner] = counts.get(owner, 0) + end - start + 1
    for node_id, count in counts.items():
        if node_id in by_id:
            by_id[node_id]["slots"] = count
    masters = [{"id": s[2], "addr": by_id[s[2]]["addr"] if s[2] in by_id else "?",
                "slots": counts[s[2]]} for s in _first_segments(segments)]
    return {
        "t": snapshot["t"], "anchor": anchor, "nodes": nodes, "segments": segments,
        "covered": sum(counts.values()), "masters": masters,
        "answering": len(answering), "polled": len(snapshot["nodes"]),
        "state_ok": sum(1 for n in nodes if n["cluster_state"] == "ok"),
    }


def _anchor(answering, views, wanted) -> str | None:
    """The observer whose flags the page shows: the one asked for while it answers,
    else the first answering node with a full view."""
    if wanted in views:
        return wanted
    full = [s["addr"] for s in answering if len(views[s["addr"]]) > 1]
    return full[0] if full else (answering[0]["addr"] if answering else None)


def _node(node_id: str, line: NodeLine, shown: NodeLine, sample: dict | None,
          others: list[NodeLine], observers: int) -> dict:
    info = parse_info(sample.get("info", "")) if sample else {}
    repl = parse_info(sample.get("repl", "")) if sample else {}
    # CLUSTER LINKS: None when not asked (a recording's non-observer nodes).
    links = sample.get("links") if sample else None
    offset = repl.get("slave_repl_offset") or repl.get("master_repl_offset")
    flags = [f for f in sorted(shown.flags) if f not in ("master", "slave", "noflags")]
    return {
        "id": node_id,
        "addr": line.addr or shown.addr,
        "answering": sample is not None,
        "role": "replica" if line.is_replica else "master",
        "master": line.master,
        "flags": flags,
        "pfail_by": sum(1 for o in others if "fail?" in o.flags),
        "fail_by": sum(1 for o in others if "fail" in o.flags),
        "observers": observers,
        "connected_by": sum(1 for o in others if o.link == "connected"),
        "config_epoch": line.config_epoch,
        "current_epoch": int(info["cluster_current_epoch"]) if "cluster_current_epoch" in info else None,
        "cluster_state": info.get("cluster_state"),
        "offset": int(offset) if offset is not None else None,
        "master_link": repl.get("master_link_status"),
        "links_to": None if links is None else sum(1 for x in links if x.get("direction") == "to"),
        "links_from": None if links is None else sum(1 for x in links if x.get("direction") == "from"),
        "slots": 0,
        "migrating": sorted(line.migrating.items()),
        "importing": sorted(line.importing.items()),
    }


def slot_owners(views: dict) -> list[str | None]:
    """Owner id per slot: the highest config epoch's claim over every view (claims are
    laid down in epoch order, so a higher epoch paints over a lower one)."""
    claims = []
    for view in views.values():
        for line in view.values():
            if line.slots and not line.is_replica and "handshake" not in line.flags:
                claims.append((line.config_epoch, line.id, line.slots))
    owners: list[str | None] = [None] * SLOTS
    for _, node_id, ranges in sorted(claims, key=lambda c: (c[0], c[1])):
        for start, end in ranges:
            owners[start:end + 1] = [node_id] * (end - start + 1)
    return owners


def _segments(owners: list[str | None]) -> list[list]:
    """[[start, end, owner id]] runs of one owner; unowned slots are left out."""
    out = []
    start = 0
    for slot in range(1, SLOTS + 1):
        if slot == SLOTS or owners[slot] != owners[start]:
            if owners[start] is not None:
                out.append([start, slot - 1, owners[start]])
            start = slot
    return out


def _first_segments(segments):
    seen = set()
    for seg in segments:
        if seg[2] not in seen:
            seen.add(seg[2])
            yield seg


def _sort_addr(addr: str):
    host, _, port = addr.rpartition(":")
    return (host, int(port) if port.isdigit() else 0)


def owners_from_segments(segments) -> list[str | None]:
    owners: list[str | None] = [None] * SLOTS
    for start, end, owner in segments:
        owners[start:end + 1] = [owner] * (end - start + 1)
    return owners
