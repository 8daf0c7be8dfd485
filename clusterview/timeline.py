"""Events found by comparing two successive pictures (clusterview/model.py).

Nothing here is reported by the nodes as an event: the timeline is what changed between
two polls, so an event is dated by the poll (or recorded sample) that first saw it.
"""
from __future__ import annotations

from clusterview.model import owners_from_segments


def diff(before: dict, after: dict) -> list[dict]:
    t = after["t"]
    old = {n["id"]: n for n in before["nodes"]}
    new = {n["id"]: n for n in after["nodes"]}
    events = []

    def name(node_id: str | None) -> str:
        known = new.get(node_id) or old.get(node_id)
        return label(known) if known else short(node_id)

    def add(kind: str, node: dict | None, text: str) -> None:
        events.append({"t": t, "kind": kind, "node": node["id"] if node else None, "text": text})

    for node_id, n in new.items():
        if "handshake" in n["flags"]:
            continue
        p = old.get(node_id)
        if p is None or "handshake" in p["flags"]:
            add("joined", n, f"{label(n)} joined as {n['role']}")
            continue
        if n["answering"] != p["answering"] and n["polled"] and p["polled"]:
            add("answering" if n["answering"] else "silent", n,
                f"{label(n)} {'answers the viewer again' if n['answering'] else 'stopped answering the viewer'}")
        was_fail, is_fail = "fail" in p["flags"], "fail" in n["flags"]
        if is_fail and not was_fail:
            add("fail", n, f"{label(n)} marked FAIL (by {n['fail_by']} of {n['observers']} views)")
        elif was_fail and not is_fail:
            add("recovered", n, f"{label(n)} FAIL cleared")
        elif not is_fail and n["pfail_by"] and not p["pfail_by"] and "fail?" not in p["flags"]:
            add("pfail", n, f"{label(n)} suspected: PFAIL (by {n['pfail_by']} of {n['observers']} views)")
        elif not is_fail and "fail?" in n["flags"] and "fail?" not in p["flags"] and not p["pfail_by"]:
            add("pfail", n, f"{label(n)} suspected: PFAIL")
        if p["role"] == "replica" and n["role"] == "master":
            add("failover", n, f"{label(n)} became master: failover won "
                               f"(config epoch {n['config_epoch']}, was replica of {name(p['master'])})")
        elif p["role"] == "master" and n["role"] == "replica":
            if p["slots"]:
                add("demoted", n, f"{label(n)} lost its slots: now a replica of {name(n['master'])}")
            else:
                add("replicates", n, f"{label(n)} became a replica of {name(n['master'])}")
        elif n["role"] == "replica" and p["master"] != n["master"]:
            add("replicates", n, f"{label(n)} now replicates {name(n['master'])}")
        for slot, target in n["migrating"]:
            if [slot, target] not in _pairs(p["migrating"]):
                add("migrating", n, f"slot {slot} migrating from {label(n)} to {name(target)}")
    for node_id, p in old.items():
        if node_id not in new and "handshake" not in p["flags"]:
            add("left", p, f"{label(p)} left the cluster (no view knows it)")
    events.extend(_slot_moves(before, after, new, old, t))
    return events


def _slot_moves(before, after, new, old, t) -> list[dict]:
    """Slots that changed owner, grouped by (from, to)."""
    if before["segments"] == after["segments"]:
        return []
    a, b = owners_from_segments(before["segments"]), owners_from_segments(after["segments"])
    moves: dict[tuple, list[int]] = {}
    for slot in range(len(a)):
        if a[slot] != b[slot]:
            moves.setdefault((a[slot], b[slot]), []).append(slot)
    events = []
    for (src, dst), slots in sorted(moves.items(), key=lambda kv: kv[1][0]):
        what = f"slot {slots[0]}" if len(slots) == 1 else f"{len(slots)} slots ({slots[0]}..{slots[-1]})"
        name = lambda i: label(new.get(i) or old.get(i) or {"id": i, "addr": ""})  # noqa: E731
        if src is None:
            text, kind = f"{what} assigned to {name(dst)}", "assigned"
        elif dst is None:
            text, kind = f"{what} of {name(src)} unassigned", "unassigned"
        else:
            text, kind = f"{what} moved {name(src)} -> {name(dst)}", "moved"
        events.append({"t": t, "kind": kind, "node": dst, "text": text})
    return events


def _pairs(items) -> list[list]:
    return [list(x) for x in items]


def label(node: dict) -> str:
    return f"{node['addr'] or 'noaddr'} ({short(node['id'])})"


def short(node_id: str | None) -> str:
    return node_id[:8] if node_id else "-"
