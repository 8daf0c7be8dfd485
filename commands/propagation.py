"""What a command leaves in the replication stream (Redis's propagate / alsoPropagate).

The rule, applied by `call()` after every command while a replication stream exists:

* a handler that set `c.propagate_as` (a list of argv lists, possibly empty) is propagated
  as exactly those commands. Handlers do this for commands whose effect depends on the
  moment or on chance, so the replica ends in the master's state instead of redoing the
  computation: SET EX/PX and SETEX -> SET PXAT <absolute ms>, EXPIRE & co -> PEXPIREAT (or
  DEL when the time has passed), GETEX -> PEXPIREAT/PERSIST, INCRBYFLOAT -> SET KEEPTTL,
  HINCRBYFLOAT -> HSET, SPOP -> SREM, BLPOP & co -> their non-blocking pop, RESTORE with a
  relative TTL -> RESTORE ABSTTL, MIGRATE -> DEL of the moved keys;
* otherwise a command flagged `write` that changed the dataset (keyspace.dirty moved) is
  propagated verbatim;
* deletions without a command of their own (expiry, lazy or active; keys of a lost slot)
  are propagated as DEL through `propagate()` (keyspace.propagate_deletion), and so are
  the pops done for blocked clients (BLPOP served by a later LPUSH).

Everything one client command causes (the command, the commands of its EXEC, the DELs
of keys it found expired, the blocked clients it served) forms one unit, handed to the
replication stream when the outermost `call()` ends; a unit of more than one command is
wrapped in MULTI/EXEC, as Redis 7 does, so a replica applies it atomically.
"""


def encode_command(argv) -> bytes:
    """The canonical RESP multibulk of a command (what the stream and the backlog hold)."""
    out = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def rewrite(c, *argvs) -> None:
    """Propagate the running command as `argvs` instead of its own argv ([] = nothing)."""
    c.propagate_as = [[a if isinstance(a, bytes) else str(a).encode() for a in argv]
                      for argv in argvs]


def propagate(server, argv) -> None:
    """Add a command to the stream from outside a handler's own argv (served blocked
    clients, expiry). Joins the running unit, or forms a unit of its own."""
    prop = server.propagator
    if prop is not None and prop.active:
        prop.add(argv)


class Propagator:
    """Collects the unit of the command being run and hands it to `sink(commands)`,
    which returns the stream offset after it (a client's WAIT waits for that offset)."""

    __slots__ = ("sink", "active", "depth", "unit")

    def __init__(self, sink):
        self.sink = sink
        self.active = False      # a stream exists (backlog or replicas): replication sets it
        self.depth = 0           # nesting of call() (EXEC runs its commands through call())
        self.unit = []

    def begin(self) -> None:
        self.depth += 1

    def after_command(self, client, cmd, argv, dirty_before: int, dirty_after: int) -> None:
        explicit = client.propagate_as
        if explicit is not None:
            client.propagate_as = None
            self.unit.extend(explicit)
        elif cmd.is_write and dirty_after != dirty_before:
            self.unit.append(argv)

    def end(self, client) -> None:
        self.depth -= 1
        if self.depth or not self.unit:
            return
        unit, self.unit = self.unit, []
        if self.active:
            client.woff = self.sink(unit)

    def add(self, argv) -> None:
        if self.depth:
            self.unit.append(argv)
        elif self.active:
            self.sink([argv])
