"""What must hold in a simulated cluster, whatever the faults.

Safety (checked after every step of a schedule, and every half node timeout
between steps):

- **one vote per epoch**: a master never sends two FAILOVER_AUTH_ACKs in one
  epoch (watched as they leave, through ``Simulation.on_vote``);
- **elections are won by a majority**: a replica that logs "Failover election
  won" was sent votes by a majority of distinct masters in its election epoch
  (so a duplicated ACK cannot stand in for a second voter);
- **votes are durable**: a vote never leaves before the nodes.conf that records
  its epoch was saved with fsync (the simulator's effect runner raises
  ``VoteNotDurable`` otherwise);
- **epochs only grow**: no node's currentEpoch goes back, restarts included (a
  node that takes a new identity with CLUSTER RESET HARD starts a new history);
- a node never records a vote in an epoch it has not reached
  (lastVoteEpoch <= currentEpoch).

Liveness (once the faults stop, the network heals and every process runs
again), within a bound in virtual time (cluster/sim_explore.py states it):

- every live node maps every slot to the same master, which claims it itself, and
  no two masters with slots share a configEpoch (collisions were handled);
- every slot has a master (so every shard with a live replica has one);
- cluster_state is ok everywhere, nobody is stuck in handshake, and no live node
  flags another live node PFAIL or FAIL;
- no acknowledged write is lost (cluster/sim_data.py).
"""

from __future__ import annotations

from cluster.node_record import NODE_FAIL, NODE_HANDSHAKE, NODE_PFAIL
from cluster.slots import CLUSTER_SLOTS


class InvariantViolation(AssertionError):
    """A safety or liveness property failed; ``kind`` names which (for shrinking)."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class SafetyMonitor:
    """Watches a simulation's votes and epochs; ``check()`` raises on a violation."""

    def __init__(self, sim):
        self.sim = sim
        self.votes: dict[tuple[str, int], str] = {}   # (voter, epoch) -> candidate
        self.highest_epoch: dict[str, int] = {}       # node name -> highest currentEpoch
        self.votes_seen = 0
        sim.on_vote = self._vote_sent
        sim.on_log = self._logged

    def _vote_sent(self, node, effect) -> None:
        voter = node.state.myself.name
        epoch = effect.message.header.current_epoch
        link = self.sim.links.get(effect.link_id)
        peer = self.sim.links.get(link.peer_link) if link is not None else None
        candidate = self.sim.nodes[peer.owner].state.myself.name if peer is not None else "?"
        self.votes_seen += 1
        earlier = self.votes.get((voter, epoch))
        if earlier is not None:
            raise InvariantViolation(
                "double vote", f"{voter[:8]} voted twice in epoch {epoch}: for {earlier[:8]} "
                f"and for {candidate[:8]} (t={self.sim.now})")
        self.votes[(voter, epoch)] = candidate

    def _logged(self, node, effect) -> None:
        if not effect.text.startswith("Failover election won"):
            return
        state = node.state
        me, epoch = state.myself.name, state.election.epoch
        voters = sum(1 for (_, vote_epoch), candidate in self.votes.items()
                     if vote_epoch == epoch and candidate == me)
        needed = state.size // 2 + 1
        if voters < needed:
            raise InvariantViolation(
                "election without majority", f"{me[:8]} won epoch {epoch} with {voters} "
                f"distinct voters of {state.size} masters (t={self.sim.now})")

    def check(self) -> None:
        for node in self.sim.nodes:
            if not node.alive:
                continue
            state = node.state
            name = state.myself.name
            epoch = state.current_epoch
            if epoch < self.highest_epoch.get(name, 0):
                raise InvariantViolation(
                    "epoch went back", f"{name[:8]} currentEpoch {epoch} after "
                    f"{self.highest_epoch[name]} (t={self.sim.now})")
            self.highest_epoch[name] = epoch
            if state.last_vote_epoch > epoch:
                raise InvariantViolation(
                    "vote ahead of epoch", f"{name[:8]} lastVoteEpoch {state.last_vote_epoch} "
                    f"> currentEpoch {epoch}")


def convergence_problem(sim, model=None) -> str | None:
    """None when the healed cluster has converged (see the module doc); otherwise what
    is still wrong, in a few words."""
    alive = sim.alive_nodes()
    names = {n.state.myself.name for n in alive}
    by_name = {n.state.myself.name: n for n in alive}
    for node in alive:
        state = node.state
        if not state.state_ok:
            return f"cluster_state fail on {node.index}"
        for peer in state.nodes.values():
            if peer.flags & NODE_HANDSHAKE:
                return f"{node.index} stuck in handshake with {peer.ip}:{peer.port}"
            if peer.name in names and peer.flags & (NODE_PFAIL | NODE_FAIL):
                return f"{node.index} flags live {by_name[peer.name].index} PFAIL/FAIL"
        if len([p for p in state.nodes if p in names]) != len(names):
            return f"{node.index} does not know every live node"
    reference = alive[0].state.slots
    for node in alive:
        table = node.state.slots
        for slot in range(CLUSTER_SLOTS):
            owner, ref = table[slot], reference[slot]
            if owner is None or ref is None:
                return f"slot {slot} has no master in the view of {node.index}"
            if owner.name != ref.name:
                return f"{node.index} and {alive[0].index} disagree on slot {slot}"
    for slot, owner in enumerate(reference):
        holder = by_name.get(owner.name)
        if holder is None or holder.state.slots[slot] is not holder.state.myself:
            return f"slot {slot}'s owner does not claim it"
    epochs: dict[int, str] = {}
    for node in alive:
        me = node.state.myself
        if me.is_master and me.slots:
            other = epochs.setdefault(me.config_epoch, me.name)
            if other != me.name:
                return f"masters {other[:8]} and {me.name[:8]} share configEpoch {me.config_epoch}"
    return None


def check_no_lost_writes(model) -> None:
    lost = model.lost_writes()
    if lost:
        write_id, slot, master = lost[0]
        raise InvariantViolation(
            "lost write", f"{len(lost)} acknowledged writes lost, e.g. #{write_id} "
            f"(slot {slot}, master {master[:8]})")
