"""SAVE, BGSAVE [SCHEDULE] and LASTSAVE (the work is in commands/persistence/rdb_save.py)."""
from commands.persistence.rdb_save import SaveError
from commands.server.args import SYNTAX_ERROR
from commands.server.resp import OK, ReplyError, Status
from commands.server.table import command


def _persistence(c):
    persistence = c.server.persistence
    if persistence is None:             # a bare Server in unit tests
        raise ReplyError("ERR persistence is not set up")
    return persistence


@command("save", 1, "admin noscript no-async-loading no-multi", group="server",
         categories=("@dangerous",), since="1.0.0",
         summary="Synchronously save the dataset to disk",
         complexity="O(N) where N is the total number of keys in all databases")
def save(c, argv):
    try:
        _persistence(c).save()
    except SaveError as exc:
        raise ReplyError(str(exc)) from None
    return OK


@command("bgsave", -1, "admin noscript no-async-loading", group="server",
         categories=("@dangerous",), since="1.0.0",
         summary="Asynchronously save the dataset to disk", complexity="O(1)")
def bgsave(c, argv):
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            raise ReplyError(SYNTAX_ERROR)
    try:
        return Status(_persistence(c).bgsave(schedule))
    except SaveError as exc:
        raise ReplyError(str(exc)) from None


@command("lastsave", 1, "loading stale fast", group="server",
         categories=("@admin", "@dangerous"), tips=("nondeterministic_output",),
         summary="Get the UNIX time stamp of the last successful save to disk",
         complexity="O(1)")
def lastsave(c, argv):
    return c.server.last_save
