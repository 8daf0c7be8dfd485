"""BGREWRITEAOF, with redis-server 7.0.15's replies (the work is in aof.py).

    +Background append only file rewriting started
    +Background append only file rewriting scheduled     another child (BGSAVE) runs, or
                                                          inside MULTI: the cron starts it
    -ERR Background append only file rewriting already in progress
    -ERR Can't execute an AOF background rewriting. Please check the server logs for
         more information.

BGREWRITEAOF works with appendonly no too, as in Redis: it writes a base and a manifest
(and no incr file), which a later start with appendonly yes loads.
"""
from commands.server.resp import ReplyError, Status
from commands.server.table import command

_REPLIES = {
    "started": Status("Background append only file rewriting started"),
    "scheduled": Status("Background append only file rewriting scheduled"),
}
_IN_PROGRESS = ReplyError("ERR Background append only file rewriting already in progress")
_FAILED = ReplyError("ERR Can't execute an AOF background rewriting. Please check the "
                     "server logs for more information.")


@command("bgrewriteaof", 1, "admin noscript no-async-loading", group="server",
         summary="Asynchronously rewrite the append-only file", since="1.0.0",
         complexity="O(1)")
def bgrewriteaof(c, argv):
    outcome = c.server.aof.bgrewriteaof(in_transaction=c.multi is not None)
    if outcome == "in-progress":
        return _IN_PROGRESS
    if outcome == "error":
        return _FAILED
    return _REPLIES[outcome]
