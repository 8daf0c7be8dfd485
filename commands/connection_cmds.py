"""Connection commands: PING ECHO QUIT ..."""
from commands.resp import OK, PONG
from commands.table import command


@command("ping", -1, "fast pubsub-ok", group="connection",
         summary="Returns the server's liveliness response.")
def ping(c, argv):
    if len(argv) == 1:
        return PONG
    return argv[1]


@command("quit", -1, "no-auth pubsub-ok fast", group="connection",
         summary="Closes the connection.")
def quit_(c, argv):
    c.close_after_reply = True
    return OK
