"""The simulator's model of the data: writes, asynchronous replication, WAIT.

The cluster bus carries no data, but what it decides (who is master of a slot,
who gets promoted) is only right if acknowledged writes survive it. So each
simulated node keeps its copy of the replication stream as a list of write ids
(``SimNode.log``), and:

- a write goes to a node that, in its own view, owns the slot, sees the cluster
  ok and is not pausing writes for a manual failover (as a Redis master checks
  before it accepts one); it is appended to that master's log;
- replication is asynchronous: a replica whose link to the master is up copies
  the master's log one round trip after each write (a full or partial sync
  gives the same result in this model: the replica's copy *becomes* the
  master's, so a demoted master loses what its new master never had);
- a write is **acknowledged** the way ``WAIT numreplicas`` acknowledges it, with
  ``numreplicas`` = every replica of that master when the write was made, as the
  replicas and the master see it (down ones included, so they can never confirm
  it). That is the case where Redis promises the write survives a failover:
  whichever replica wins, it has the write.

The invariant (cluster/sim_invariants.py) then is simple: once the cluster has
converged, every acknowledged write is in the log of the master that owns its
slot. Data survives a restart (appendfsync always); CLUSTER RESET of a replica
empties its copy, as it does in Redis.
"""

from __future__ import annotations

from dataclasses import dataclass

from cluster.slots import CLUSTER_SLOTS


@dataclass
class PendingWrite:
    write_id: int
    slot: int
    master: int         # index of the master that accepted it
    position: int       # its index in that master's log
    needed: int         # numreplicas of the WAIT


class WriteModel:
    """Writes made against a :class:`cluster.sim.Simulation`, and which were acknowledged."""

    def __init__(self, sim, write_slots: list[int]):
        self.sim = sim
        sim.data = self
        self.write_slots = write_slots   # slots clients write to (never migrated)
        self.slot_of: dict[int, int] = {}
        self.pending: list[PendingWrite] = []
        self.acknowledged: dict[int, int] = {}   # write id -> slot
        self.refused = 0
        self._next_id = 1

    # ------------------------------------------------------------------ writing

    def write(self, slot: int) -> bool:
        """A client writes a key of ``slot``: it finds the master by asking any live node
        (following one MOVED), as a cluster client does. False if no master takes it."""
        sim = self.sim
        for node in sim.alive_nodes():
            if node.paused:
                continue
            owner = node.state.slots[slot]
            if owner is None:
                continue
            master = sim.node_named(owner.name)
            if master is None or not master.alive or master.paused:
                break
            state = master.state
            if state.slots[slot] is not state.myself or not state.state_ok \
                    or state.writes_paused(sim.now):
                break
            self._accept(master, slot)
            return True
        self.refused += 1
        return False

    def _accept(self, master, slot: int) -> None:
        sim = self.sim
        write_id = self._next_id
        self._next_id += 1
        self.slot_of[write_id] = slot
        master.log.append(write_id)
        name = master.state.myself.name
        replicas = [n for n in sim.nodes if n.state.myself.is_replica
                    and n.state.myself.master_name == name]
        # WAIT numreplicas as a careful client sets it: every replica the shard has, as
        # the replicas say and as the master says. The master's own view still lists a
        # replica that has just taken over (CLUSTER FAILOVER TAKEOVER/FORCE) until it
        # hears of it, and that replica will confirm nothing more: writes made on the
        # old master meanwhile are never acknowledged, as WAIT would time out.
        needed = max(len(replicas), len(master.state.replicas_of(master.state.myself)))
        pending = PendingWrite(write_id, slot, master.index, len(master.log) - 1, needed)
        if pending.needed == 0:
            return  # no replica to confirm it: WAIT 0 proves nothing
        self.pending.append(pending)
        for replica in replicas:
            sim._schedule(2 * sim.latency_ms, self._copy_to(replica.index, master.index))

    def _copy_to(self, replica_index: int, master_index: int):
        def copy() -> None:
            sim = self.sim
            replica, master = sim.nodes[replica_index], sim.nodes[master_index]
            if not replica.alive or replica.replicating_from != master_index:
                return
            if not master.alive or master.paused or \
                    not sim._reachable(master_index, replica_index):
                return  # the link is stuck: the replica stays behind
            sim._at_node(replica, lambda: self._apply_copy(replica, master))
        return copy

    def _apply_copy(self, replica, master) -> None:
        if replica.alive and replica.replicating_from == master.index:
            replica.log = list(master.log)
            self.replica_caught_up(master.index)

    # ------------------------------------------------------------------ WAIT

    def replica_caught_up(self, master_index: int) -> None:
        """Re-count the confirmations of the writes made on ``master_index``."""
        sim = self.sim
        still = []
        for p in self.pending:
            if p.master != master_index:
                still.append(p)
                continue
            confirmed = sum(1 for n in sim.nodes if n.alive and n.replicating_from == p.master
                            and len(n.log) > p.position and n.log[p.position] == p.write_id)
            if confirmed >= p.needed:
                self.acknowledged[p.write_id] = p.slot
            else:
                still.append(p)
        self.pending = still

    # ------------------------------------------------------------------ checking

    def lost_writes(self) -> list[tuple[int, int, str]]:
        """(write id, slot, master name) of acknowledged writes the slot's master lacks."""
        sim = self.sim
        lost = []
        held: dict[int, set[int]] = {}
        for write_id, slot in self.acknowledged.items():
            owner = sim.alive_nodes()[0].state.slots[slot]
            master = sim.node_named(owner.name) if owner is not None else None
            if master is None:
                lost.append((write_id, slot, "(no master)"))
                continue
            if master.index not in held:
                held[master.index] = set(master.log)
            if write_id not in held[master.index]:
                lost.append((write_id, slot, owner.name))
        return lost


def pick_write_slots(rng, count: int) -> list[int]:
    return sorted(rng.sample(range(CLUSTER_SLOTS), count))
