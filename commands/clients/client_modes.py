"""CLIENT subcommands that change how a connection is served: TRACKING, CACHING,
GETREDIR, TRACKINGINFO (client-side caching, commands/server/tracking.py), PAUSE and
UNPAUSE (commands/server/client_pause.py), REPLY and NO-EVICT.

Argument checks come in Redis 7.0.15's order with its texts (networking.c,
clientCommand): CLIENT TRACKING parses every option first, then checks that they fit
together and with the client's current mode.
"""
from commands.families.connection_cmds import CLIENT
from commands.server.args import SYNTAX_ERROR, int_arg
from commands.server.client_pause import pause_end_ms
from commands.server.resp import OK, Raw, ReplyError
from commands.server.table import subcommand
from commands.server.tracking import trackinginfo_reply

_FLAGS = "noscript loading stale"
_ADMIN = "admin noscript loading stale"
NO_REPLY = Raw(b"")      # CLIENT REPLY OFF/SKIP answer nothing


def _subcommand_syntax_error(argv) -> ReplyError:
    """Redis's addReplySubcommandSyntaxError (the subcommand as the client spelled it)."""
    return ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. "
                      "Try CLIENT HELP." % argv[1].decode("utf-8", "replace")[:128])


# ---------------------------------------------------------------- tracking

@subcommand(CLIENT, "tracking", -3, _FLAGS, since="6.0.0",
            complexity="O(1). Some options may introduce additional complexity.",
            summary="Enable or disable server assisted client side caching support")
def client_tracking(c, argv):
    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes = []
    i = 3
    while i < len(argv):
        option = argv[i].lower()
        more = i < len(argv) - 1
        if option == b"redirect" and more:
            i += 1
            if redirect != 0:
                raise ReplyError("ERR A client can only redirect to a single other client")
            redirect = int_arg(argv[i])
            # The target must exist now (it may disconnect later: then the
            # messages are lost and the client is told, see tracking.send).
            if redirect not in c.server.clients:
                raise ReplyError("ERR The client ID you want redirect to does not exist")
        elif option == b"bcast":
            bcast = True
        elif option == b"optin":
            optin = True
        elif option == b"optout":
            optout = True
        elif option == b"noloop":
            noloop = True
        elif option == b"prefix" and more:
            i += 1
            prefixes.append(argv[i])
        else:
            raise ReplyError(SYNTAX_ERROR)
        i += 1

    tracking = c.server.tracking
    mode = argv[2].lower()
    if mode == b"on":
        _check_tracking_options(c, bcast, optin, optout, prefixes)
        tracking.enable(c, redirect, bcast, optin, optout, noloop, prefixes)
    elif mode == b"off":
        tracking.disable(c)
    else:
        raise ReplyError(SYNTAX_ERROR)
    return OK


def _check_tracking_options(c, bcast, optin, optout, prefixes) -> None:
    state = c.tracking
    if prefixes and not bcast:
        raise ReplyError("ERR PREFIX option requires BCAST mode to be enabled")
    if state is not None and state.bcast != bcast:
        raise ReplyError("ERR You can't switch BCAST mode on/off before disabling tracking "
                         "for this client, and then re-enabling it with a different mode.")
    if bcast and (optin or optout):
        raise ReplyError("ERR OPTIN and OPTOUT are not compatible with BCAST")
    if optin and optout:
        raise ReplyError("ERR You can't specify both OPTIN mode and OPTOUT mode")
    if state is not None and ((optin and state.optout) or (optout and state.optin)):
        raise ReplyError("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking "
                         "for this client, and then re-enabling it with a different mode.")
    if bcast:
        collision = c.server.tracking.prefix_collision(c, prefixes)
        if collision is not None:
            raise ReplyError(collision)


@subcommand(CLIENT, "caching", 3, _FLAGS, since="6.0.0", complexity="O(1)",
            summary="Instruct the server about tracking or not keys in the next request")
def client_caching(c, argv):
    state = c.tracking
    if state is None:
        raise ReplyError("ERR CLIENT CACHING can be called only when the client is in "
                         "tracking mode with OPTIN or OPTOUT mode enabled")
    answer = argv[2].lower()
    if answer == b"yes":
        if not state.optin:
            raise ReplyError("ERR CLIENT CACHING YES is only valid when tracking is enabled "
                             "in OPTIN mode.")
    elif answer == b"no":
        if not state.optout:
            raise ReplyError("ERR CLIENT CACHING NO is only valid when tracking is enabled "
                             "in OPTOUT mode.")
    else:
        raise ReplyError(SYNTAX_ERROR)
    state.caching = True      # for the next command only (Client._after_reply)
    return OK


@subcommand(CLIENT, "getredir", 2, _FLAGS, since="6.0.0", complexity="O(1)",
            summary="Get tracking notifications redirection client ID if any")
def client_getredir(c, argv):
    return c.tracking.redirect if c.tracking is not None else -1


@subcommand(CLIENT, "trackinginfo", 2, _FLAGS, since="6.2.0", complexity="O(1)",
            summary="Return information about server assisted client side caching for "
            "the current connection")
def client_trackinginfo(c, argv):
    return trackinginfo_reply(c)


# ---------------------------------------------------------------- pause

@subcommand(CLIENT, "pause", -3, _ADMIN, since="2.9.50", complexity="O(1)",
            summary="Stop processing commands from clients for some time")
def client_pause(c, argv):
    if len(argv) > 4:
        raise _subcommand_syntax_error(argv)
    kind = "all"
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode == b"write":
            kind = "write"
        elif mode != b"all":
            raise ReplyError("ERR CLIENT PAUSE mode must be WRITE or ALL")
    timeout = _pause_timeout(argv[2])
    c.server.client_pause.pause(pause_end_ms(timeout), kind)
    return OK


def _pause_timeout(arg) -> int:
    try:
        timeout = int_arg(arg)
    except ReplyError:
        raise ReplyError("ERR timeout is not an integer or out of range")
    if timeout < 0:
        raise ReplyError("ERR timeout is negative")
    return timeout


@subcommand(CLIENT, "unpause", 2, _ADMIN, since="6.2.0",
            complexity="O(N) Where N is the number of paused clients",
            summary="Resume processing of clients that were paused")
def client_unpause(c, argv):
    c.server.client_pause.unpause()
    return OK


# ---------------------------------------------------------------- reply, no-evict

@subcommand(CLIENT, "reply", 3, _FLAGS, since="3.2.0", complexity="O(1)",
            summary="Instruct the server whether to reply to commands")
def client_reply(c, argv):
    mode = argv[2].lower()
    if mode == b"on":
        c.reply_mode = None           # this +OK is sent
        return OK
    if mode == b"off":
        c.set_reply_mode("off")
        return NO_REPLY
    if mode == b"skip":
        if c.reply_mode != "off":
            c.set_reply_mode("skip-next")
        return NO_REPLY
    raise ReplyError(SYNTAX_ERROR)


@subcommand(CLIENT, "no-evict", 3, _ADMIN, since="7.0.0", complexity="O(1)",
            summary="Set client eviction mode for the current connection")
def client_no_evict(c, argv):
    mode = argv[2].lower()
    if mode not in (b"on", b"off"):
        raise ReplyError(SYNTAX_ERROR)
    # Shown as the 'e' flag of CLIENT LIST/INFO. Client eviction (maxmemory-clients)
    # is not built, so no client is ever evicted either way (README).
    c.no_evict = mode == b"on"
    return OK
