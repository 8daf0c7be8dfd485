"""CLIENT UNBLOCK: end another client's blocking command (as a timeout, or with an error).

A subcommand of CLIENT (commands/families/connection_cmds.py), registered here because it belongs
to the blocked-clients machinery in commands/server/blocking.py.
"""
from commands.families.connection_cmds import CLIENT
from commands.server.args import int_arg
from commands.server.blocking import unblock_client
from commands.server.resp import ReplyError
from commands.server.table import subcommand


@subcommand(CLIENT, "unblock", -3, "admin noscript loading stale", since="5.0.0",
            complexity="O(log N) where N is the number of client connections",
            summary="Unblock a client blocked in a blocking command from a different "
                    "connection")
def client_unblock(c, argv):
    client_id = int_arg(argv[2])
    error = False
    if len(argv) == 4:
        reason = argv[3].lower()
        if reason == b"error":
            error = True
        elif reason != b"timeout":
            raise ReplyError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    elif len(argv) > 4:
        raise ReplyError("ERR syntax error")
    target = c.server.clients.get(client_id)
    if target is None:
        return 0
    return 1 if unblock_client(target, error) else 0
