"""Playing a simulator recording (cluster/sim_record.py writes it; JSON lines: a header,
then one snapshot per sample, in virtual ms).

Every picture and the whole timeline are worked out once at load, so the browser can
jump anywhere: it keeps the play clock (play/pause, speed, seek) and asks for
/state.json?t=<virtual ms>; the answer is the last sample at or before t and the events
up to it.
"""
from __future__ import annotations

import bisect
import gzip
import json

from clusterview.model import build_picture
from clusterview.timeline import diff


class Replay:
    def __init__(self, path: str):
        self.header: dict = {}
        self.pictures: list[dict] = []
        self.events: list[dict] = []
        with (gzip.open(path, "rt") if path.endswith(".gz") else open(path)) as f:
            for line in f:
                if not line.strip():
                    continue
                record = json.loads(line)
                if record.get("kind") == "header":
                    self.header = record
                    continue
                anchor = self.header.get("observers", [None])[0] if self.header.get("observers") else None
                picture = build_picture(record, anchor_addr=anchor)
                if self.pictures:
                    self.events.extend(diff(self.pictures[-1], picture))
                for note in record.get("notes", []):    # what the run did: "killed ..."
                    self.events.append({"t": record["t"], "kind": "action", "node": None, "text": note})
                self.pictures.append(picture)
        if not self.pictures:
            raise ValueError(f"{path}: no samples")
        self.times = [p["t"] for p in self.pictures]
        self.event_times = [e["t"] for e in self.events]

    def state(self, query: dict) -> dict:
        try:
            t = int(float(query.get("t", self.times[0])))
        except ValueError:
            t = self.times[0]
        i = max(0, bisect.bisect_right(self.times, t) - 1)
        picture = self.pictures[i]
        shown = self.events[:bisect.bisect_right(self.event_times, picture["t"])]
        return {"mode": "replay", "header": self.header, "picture": picture, "events": shown[-200:],
                "start": self.times[0], "end": self.times[-1], "every_ms": self.header.get("every_ms", 500)}
