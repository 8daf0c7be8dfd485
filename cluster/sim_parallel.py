"""One simulation on several cores: the nodes are shared out among worker processes.

A 1000-node cluster costs the simulator ~10 CPU seconds per virtual second once formed,
almost all of it the real state machine and codec handling heartbeats (see README, "The
simulator at scale"). That work is per node, so it divides: worker k simulates the nodes
whose index is k modulo the number of workers, each in a :class:`cluster.sim.Simulation`
of its own.

How the workers stay in step (conservative parallel discrete-event simulation): whatever
one node causes at another -- a frame, a SYN, a FIN; ``Simulation._post`` -- arrives at
least ``latency_ms`` later. So all workers can run the same window of ``latency_ms``
virtual milliseconds without hearing from each other: nothing sent inside a window can
land inside it. Between windows the workers swap what they posted to each other's
nodes, over a pipe between every two of them (a window is a millisecond: a round trip
through the driving process would double the waiting). A window starts at the earliest
pending event anywhere, so idle stretches are skipped, as in the one-process run. The
driver (:class:`ParallelSimulation`) only tells them how far to go -- to the next time
a predicate is checked -- and carries the calls between (kill, census, ...).

Every worker boots all N nodes, in the same order from the same seed (so every node has
the same name everywhere), and then runs only its own: the others' crons and effects are
dropped, and their records serve only for names, addresses and whether they are alive
(a kill is applied in every worker at the same virtual time).

The same seed gives the same run for a given number of workers; it is not the run one
process makes (events at the same millisecond are taken in another order). Supported:
what the scale runs of scripts/simulate.py do (forming, idle load, kills, latency,
jitter, loss). Not supported: replicas, pauses, partitions, restarts and the fault
exploration, which stay in one process.
"""

from __future__ import annotations

import functools
import heapq
import multiprocessing
import pickle
import traceback
from typing import Callable

from cluster.sim import SimNode, Simulation, VirtualClock


class _Worker(Simulation):
    """A Simulation that runs only the nodes ``index`` modulo ``workers``."""

    def __init__(self, n: int, index: int, workers: int, **options):
        # Before Simulation.__init__: booting the nodes already goes through the overrides.
        self.index, self.workers = index, workers
        self.owned = set(range(index, n, workers))
        self.pairs = [pair for pair in _pairs(workers) if index in pair]   # our pipes, in order
        self.outbox: list[tuple[int, int, str, tuple]] = []
        super().__init__(n, **options)

    def _post(self, owner: int, at: int, handler: str, *args) -> None:
        if owner in self.owned:
            super()._post(owner, at, handler, *args)
        else:
            self.outbox.append((at, owner, handler, args))

    def receive(self, parcels: list[bytes]) -> None:
        """What other workers posted to our nodes: parcels in worker order, events in
        posting order within each, taken by arrival time (stably, so the same run
        always queues them the same way)."""
        events = [event for parcel in parcels for event in pickle.loads(parcel)]
        events.sort(key=lambda event: event[0])
        for at, _, handler, args in events:
            heapq.heappush(self._queue, (at, next(self._seq),
                                         functools.partial(getattr(self, handler), *args)))

    def take_outbox(self) -> dict[int, tuple[int, bytes]]:
        """What our nodes posted to other workers' nodes: worker -> (earliest arrival,
        the events pickled), sent to that worker as they are: directly after a window,
        through the driver after a call (a kill's FINs, meet_all's SYNs)."""
        by_worker: dict[int, list] = {}
        for event in self.outbox:
            by_worker.setdefault(event[1] % self.workers, []).append(event)
        self.outbox = []
        return {k: (min(event[0] for event in events), pickle.dumps(events, protocol=5))
                for k, events in by_worker.items()}

    def _apply(self, node: SimNode, effects) -> None:
        if node.index in self.owned:
            super()._apply(node, effects)

    def _cron(self, node, state) -> None:
        if node.index in self.owned:
            super()._cron(node, state)

    def _new_link_id(self) -> int:
        return next(self._link_ids) * self.workers + self.index   # unique across workers

    def observers(self) -> list[SimNode]:
        return [x for x in self.alive_nodes() if x.index in self.owned]

    def kill(self, i: int) -> None:
        if i in self.owned:
            super().kill(i)
        else:
            self.nodes[i].alive = False   # its own worker closes its links

    def run_window(self, end: int) -> None:
        """Every event before ``end``; the clock is then at end - 1."""
        queue = self._queue
        while queue and queue[0][0] < end:
            at, _, action = heapq.heappop(queue)
            self.now = at
            action()
        self.now = max(self.now, end - 1)

    def head(self) -> int | None:
        return self._queue[0][0] if self._queue else None

    def advance(self, until: int, upcoming: int | None, peers: dict) -> None:
        """Window after window, in step with the other workers, until every event up to
        ``until`` has run. ``upcoming`` is the earliest pending event anywhere."""
        while upcoming is not None and upcoming <= until:
            self.run_window(min(upcoming + self.latency_ms, until + 1))
            upcoming = self._exchange(peers)
        self.now = max(self.now, until)

    def _exchange(self, peers: dict) -> int | None:
        """Swap this window's parcels with every other worker, directly; returns the
        earliest pending event anywhere, which every worker works out the same way
        (from each worker's next event and the earliest arrival it just sent).

        Pairs talk in one fixed order, the lower index sending first, so two workers
        never both wait to send to each other (a pipe holds only so much)."""
        outbox = self.take_outbox()
        head = self.head()
        sent = [earliest for earliest, _ in outbox.values()]
        mine_earliest = min(sent) if sent else None
        reports = {}
        for low, high in self.pairs:
            peer = high if self.index == low else low
            mine = (head, mine_earliest, outbox.get(peer, (None, None))[1])
            conn = peers[peer]
            if self.index == low:
                conn.send(mine)
                reports[peer] = conn.recv()
            else:
                reports[peer] = conn.recv()
                conn.send(mine)
        self.receive([reports[peer][2] for peer in sorted(reports)
                      if reports[peer][2] is not None])
        times = [head, mine_earliest] + [t for report in reports.values() for t in report[:2]]
        times = [t for t in times if t is not None]
        return min(times) if times else None


def _pairs(workers: int) -> list[tuple[int, int]]:
    """Every two workers, in the one order all of them walk."""
    return [(low, high) for low in range(workers) for high in range(low + 1, workers)]


def _serve(conn, peers: dict, n: int, index: int, workers: int, options: dict) -> None:
    """A worker process: requests in, (result, outbox, next event time) out; while it
    advances the clock, it swaps events with the other workers (``peers``) directly."""
    try:
        sim = _Worker(n, index, workers, **options)
        conn.send(("ok", None, sim.take_outbox(), sim.head()))
        while True:
            op, arg, parcels = conn.recv()
            sim.receive(parcels)
            if op == "advance":
                until, upcoming = arg
                sim.advance(until, upcoming, peers)
                result = None
            elif op == "call":          # a Simulation method: kill, assign_slots, holds, ...
                name, args = arg
                result = getattr(sim, name)(*args)
            elif op == "apply":         # a function of this process (gc settings)
                func, args = arg
                result = func(*args)
            else:
                conn.send(("ok", None, {}, None))
                return
            conn.send(("ok", result, sim.take_outbox(), sim.head()))
    except BaseException:   # noqa: BLE001 - reported to the coordinator, which raises
        conn.send(("error", traceback.format_exc(), {}, None))


class ParallelSimulation(VirtualClock):
    """The driver's side of a simulation spread over ``workers`` processes: the calls the
    scale runs make on a :class:`Simulation`, each carried out by every worker."""

    def __init__(self, n: int, *, workers: int = 2, seed: int = 1, node_timeout: int = 5000,
                 latency_ms: int = 1, jitter_ms: int = 0, loss: float = 0.0):
        if latency_ms < 1:
            raise ValueError("workers need a latency of at least 1 ms (their lookahead)")
        self.now = 0
        self.lookahead = latency_ms
        options = dict(seed=seed, node_timeout=node_timeout, latency_ms=latency_ms,
                       jitter_ms=jitter_ms, loss=loss)
        if workers < 2:
            raise ValueError("at least 2 workers (one is Simulation itself)")
        context = multiprocessing.get_context("fork")
        # A pipe between every two workers, for the windows' parcels.
        peers: list[dict] = [{} for _ in range(workers)]
        for low, high in _pairs(workers):
            peers[low][high], peers[high][low] = context.Pipe()
        self._conns = []
        self._procs = []
        for index in range(workers):
            parent, child = context.Pipe()
            proc = context.Process(target=_serve,
                                   args=(child, peers[index], n, index, workers, options),
                                   daemon=True)
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        for ends in peers:
            for end in ends.values():
                end.close()     # the workers' own
        self._heads: list[int | None] = [None] * workers
        # Per worker: parcels of events for it from the others, and their earliest arrival.
        self._parcels: list[list[bytes]] = [[] for _ in range(workers)]
        self._earliest: list[int | None] = [None] * workers
        self._collect()

    # ------------------------------------------------------------------ the protocol

    def _collect(self) -> list:
        """Every worker's reply: its outbox goes to the inboxes of the owners' workers."""
        results = []
        for k, conn in enumerate(self._conns):
            status, result, outbox, head = conn.recv()
            if status != "ok":
                self.close()
                raise RuntimeError(f"simulation worker {k} failed:\n{result}")
            self._heads[k] = head
            for dest, (earliest, parcel) in outbox.items():
                self._parcels[dest].append(parcel)
                if self._earliest[dest] is None or earliest < self._earliest[dest]:
                    self._earliest[dest] = earliest
            results.append(result)
        return results

    def _round(self, op: str, arg) -> list:
        for k, conn in enumerate(self._conns):
            conn.send((op, arg, self._parcels[k]))
            self._parcels[k] = []
            self._earliest[k] = None
        return self._collect()

    def _call(self, name: str, *args) -> list:
        return self._round("call", (name, args))

    def _next_event(self) -> int | None:
        times = [t for t in self._heads + self._earliest if t is not None]
        return min(times) if times else None

    # ------------------------------------------------------------------ Simulation's calls

    def assign_slots(self, masters: int | None = None) -> None:
        self._call("assign_slots", masters)

    def meet_all(self, pattern: str = "star") -> None:
        self._call("meet_all", pattern)

    def kill(self, i: int) -> None:
        self._call("kill", i)

    def holds(self, predicate: str, *args) -> bool:
        return all(self._call("holds", predicate, *args))

    def census(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for counts in self._call("census"):
            for key, value in counts.items():
                total[key] = total.get(key, 0) + value
        return total

    @property
    def total_messages(self) -> int:
        return self.census()["messages"]

    @property
    def total_bytes(self) -> int:
        return self.census()["bytes"]

    def in_every_worker(self, func: Callable, *args) -> list:
        """Run a module-level function in each worker (it is sent by name); its results."""
        return self._round("apply", (func, args))

    def _advance(self, horizon: int) -> bool:
        """Every event up to ``horizon``: the workers run the windows between them, and
        answer when their clocks are at the horizon."""
        if self.now < horizon:
            self._round("advance", (horizon, self._next_event()))
        return False

    def close(self) -> None:
        for conn in self._conns:
            try:
                conn.send(("stop", None, []))
            except OSError:
                pass
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
        self._conns = []
        self._procs = []

    def __enter__(self) -> ParallelSimulation:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
