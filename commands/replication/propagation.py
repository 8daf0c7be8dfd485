"""What a command leaves in the replication stream (Redis's propagate / alsoPropagate).

The rule, applied by `call()` after every command while a replication stream exists:

* a handler that set `c.propagate_as` (a list of argv lists, possibly empty) is propagated
  as exactly those commands;
* otherwise a command flagged `write` that changed the dataset (keyspace.dirty moved) is
  propagated verbatim, unless commands/replication/rewrites.py has a rewrite for it: commands
  whose effect depends on the moment or on chance are propagated as their *effect*, so
  the replica ends in the master's state instead of redoing the computation (SET EX ->
  SET PXAT <absolute ms>, EXPIRE -> PEXPIREAT, SPOP -> SREM, BLPOP -> LPOP, ...);
* deletions without a command of their own (expiry, lazy or active; keys of a lost slot)
  are propagated as DEL through `propagate()` (keyspace.propagate_deletion), and so are
  the pops done for blocked clients, in the context of the write that served them
  (`Propagator.served`), while the blocked command itself then propagates nothing.

The stream has two consumers: the replication stream (`sink`: backlog and replicas, on
a master with a backlog) and the append-only file (`aof_sink`: commands/persistence/aof.py,
while AOF is on -- on a replica too, which appends what its master sends). The
propagator is `active` while either wants it.

Everything one client command causes (the command, the commands of its EXEC, the DELs
of keys it found expired, the blocked clients it served) forms one unit, handed to the
replication stream when that client's outermost `call()` ends; a unit of more than one
command is wrapped in MULTI/EXEC by the stream, as Redis 7 does.

Units are per client, not global: a handler may yield (BLPOP waiting, MIGRATE on the
network) and other clients' commands run meanwhile, each flushing its own unit. Code
that propagates from outside a handler's argv finds the unit of the call running in the
current greenlet, if any.
"""
import gevent

from commands.replication.rewrites import ALWAYS_PROPAGATED, rewrite_for


def encode_command(argv) -> bytes:
    """The canonical RESP multibulk of a command (what the stream and the backlog hold)."""
    out = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def propagate(server, argv) -> None:
    """Add a command to the stream from outside a handler's own argv (expiry...). Joins
    the unit of the call running in this greenlet, or forms a unit of its own."""
    prop = server.propagator
    if prop is not None and prop.active:
        prop.add(argv)


class Propagator:
    """Collects each client's unit and hands it to `sink(commands)`, which returns the
    stream offset after it (the offset that client's WAIT waits for), and to
    `aof_sink(commands)` when the AOF is on."""

    __slots__ = ("sink", "aof_sink", "repl_active", "active", "running")

    def __init__(self, sink):
        self.sink = sink
        self.aof_sink = None     # fn(unit) while the AOF takes the stream
        self.repl_active = False  # a replication stream exists: replication sets it
        self.active = False      # repl_active or aof_sink: read on every call()
        self.running = {}        # greenlet -> the client whose call() runs in it

    def set_replication_active(self, active: bool) -> None:
        self.repl_active = active
        self.active = active or self.aof_sink is not None

    def set_aof_sink(self, aof_sink) -> None:
        self.aof_sink = aof_sink
        self.active = self.repl_active or aof_sink is not None

    def _emit(self, unit):
        """Hand a unit to the consumers; the replication offset after it, or None."""
        offset = self.sink(unit) if self.repl_active else None
        if self.aof_sink is not None:
            self.aof_sink(unit)
        return offset

    def served(self, client, reply) -> None:
        """A blocked client was served by the write running now (commands/server/
        blocking.py): its pop joins this write's unit, in order, and its own call
        propagates nothing."""
        if not self.active or client.prop_depth == 0:
            return
        client.propagate_as = []
        forms = rewrite_for(client.last_command, client, client.argv, reply)
        for argv in forms or ():
            self.add(argv)

    def begin(self, client, argv) -> None:
        if not client.prop_depth:
            client.prop_unit = []
            self.running[gevent.getcurrent()] = client
        client.prop_depth += 1
        client.propagate_as = None
        client.argv = argv

    def after_command(self, client, cmd, argv, reply, dirty_before: int,
                      dirty_after: int) -> None:
        explicit = client.propagate_as
        if explicit is not None:
            client.propagate_as = None
            client.prop_unit.extend(explicit)
        elif cmd.is_write and (dirty_after != dirty_before
                               or cmd.name in ALWAYS_PROPAGATED):
            forms = rewrite_for(cmd, client, argv, reply)
            if forms is None:
                client.prop_unit.append(argv)
            else:
                client.prop_unit.extend(forms)

    def end(self, client) -> None:
        client.prop_depth -= 1
        if client.prop_depth:
            return
        if self.running.get(gevent.getcurrent()) is client:
            del self.running[gevent.getcurrent()]
        unit, client.prop_unit = client.prop_unit, None
        if unit and self.active:
            offset = self._emit(unit)
            if offset is not None:
                client.woff = offset

    def add(self, argv) -> None:
        client = self.running.get(gevent.getcurrent())
        if client is not None:
            client.prop_unit.append(argv)
        elif self.active:
            self._emit([argv])
