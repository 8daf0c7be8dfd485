"""MULTI / EXEC / DISCARD / WATCH / UNWATCH.

While a client is in MULTI, the executor queues its commands (after the checks a command
gets before running: a command rejected then — unknown, wrong arity, redirected — dooms
the transaction, and EXEC answers EXECABORT). WATCH is optimistic locking: the keyspace
marks a client `dirty_cas` when a key it watches changes, and EXEC then runs nothing and
returns a null array. A watched key that expires before EXEC counts as changed, as in
Redis 7.
"""
from commands.data.keyspace import now_ms
from commands.server.executor import call_queued
from commands.server.resp import NULL_ARRAY, OK, ReplyError
from commands.server.table import command, key_spec

EXECABORT = "EXECABORT Transaction discarded because of previous errors."


@command("multi", 1, "noscript loading stale fast allow-busy", group="transactions",
         summary="Starts a transaction.", since="1.2.0", complexity="O(1)")
def multi(c, argv):
    if c.multi is not None:
        raise ReplyError("ERR MULTI calls can not be nested")
    c.multi = []
    c.multi_error = False
    return OK


@command("exec", 1, "noscript loading stale skip-slowlog", group="transactions",
         summary="Executes all commands in a transaction.", since="1.2.0",
         complexity="Depends on commands in the transaction")
def exec_(c, argv):
    if c.multi is None:
        raise ReplyError("ERR EXEC without MULTI")
    if watched_key_expired(c):
        c.dirty_cas = True
    if c.multi_error or c.dirty_cas:
        aborted = c.multi_error
        c.discard_transaction()
        if aborted:
            raise ReplyError(EXECABORT)
        return NULL_ARRAY
    queued = c.multi
    c.unwatch_all()
    # The client stays "in MULTI" while the queue runs, as in Redis (ASKING, for one,
    # holds for the whole transaction).
    c.multi = []
    try:
        return call_queued(c, queued)
    finally:
        c.discard_transaction()


@command("discard", 1, "noscript loading stale fast allow-busy", group="transactions",
         summary="Discards a transaction.", since="2.0.0", complexity="O(N)")
def discard(c, argv):
    if c.multi is None:
        raise ReplyError("ERR DISCARD without MULTI")
    c.discard_transaction()
    return OK


@command("watch", -2, "noscript loading stale fast allow-busy", keys=(1, -1, 1),
         group="transactions", since="2.2.0", complexity="O(1) for every key.",
         summary="Monitors changes to keys to determine the execution of a transaction.",
         key_specs=[key_spec(["RO"], 1, -1)])
def watch(c, argv):
    if c.multi is not None:
        raise ReplyError("ERR WATCH inside MULTI is not allowed")
    keyspace = c.server.keyspace
    for key in argv[1:]:
        if key in c.watched:
            continue
        keyspace.watch(c, key)
    return OK


@command("unwatch", 1, "noscript loading stale fast allow-busy", group="transactions",
         summary="Forgets about watched keys of a transaction.", since="2.2.0",
         complexity="O(1)")
def unwatch(c, argv):
    c.unwatch_all()
    return OK


def watched_key_expired(c) -> bool:
    """A key that existed when WATCHed and whose TTL has passed since (not yet deleted)."""
    expires = c.server.keyspace.expires
    if not expires:
        return False
    now = now_ms()
    return any(existed and expires.get(key, now + 1) <= now
               for key, existed in c.watched.items())
