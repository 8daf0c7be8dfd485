"""Connection commands: PING ECHO QUIT RESET SELECT AUTH HELLO and CLIENT.

Replies and error strings are those of redis-server 7.0.15 in cluster mode. Users and
passwords are the ACL's (`server.acl`, commands/security/acl_users.py); without it (a
Server built bare, in unit tests) the only user is "default", whose password is
`requirepass`.
"""
import hmac
import time

from commands.server.args import SYNTAX_ERROR
from commands.server.info import REDIS_VERSION, server_role
from commands.server.connection import RECV_SIZE
from commands.server.resp import OK, PONG, ReplyError, Status, Verbatim, request_size
from commands.server.table import command, container, subcommand

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NO_PASSWORD = ("ERR AUTH <password> called without any password configured for the default "
               "user. Are you sure your configuration is correct?")
BAD_NAME = "ERR Client names cannot contain spaces, newlines or special characters."
REDACTED = b"(redacted)"
RESET = Status("RESET")

# Flags Redis's connection commands carry; they only show in COMMAND's output here.
_SERVICE = "noscript loading stale fast no-auth allow-busy"


@command("ping", -1, "fast pubsub-ok", group="connection",
         tips=("request_policy:all_shards", "response_policy:all_succeeded"),
         summary="Ping the server", complexity="O(1)")
def ping(c, argv):
    if len(argv) > 2:
        raise ReplyError("ERR wrong number of arguments for 'ping' command")
    if c.pubsub_mode and not c.resp3:
        # In RESP2 pub/sub mode PING answers with a message-shaped array.
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    if len(argv) == 1:
        return PONG
    return argv[1]


@command("echo", 2, "loading stale fast", group="connection",
         summary="Echo the given string", complexity="O(1)")
def echo(c, argv):
    return argv[1]


@command("quit", -1, _SERVICE + " pubsub-ok", group="connection",
         summary="Close the connection", complexity="O(1)")
def quit_(c, argv):
    c.close_after_reply = True
    return OK


@command("reset", 1, _SERVICE + " pubsub-ok", group="connection",
         summary="Reset the connection", since="6.2.0", complexity="O(1)")
def reset(c, argv):
    """Back to a fresh connection's state (Redis's clearClientConnectionState)."""
    server = c.server
    c.discard_transaction()
    if c.monitor:
        c.monitor = False
        server.monitors.discard(c)
    if server.pubsub is not None:
        server.pubsub.forget_client(c)    # every subscription, silently, as Redis does
    c.pubsub_mode = False
    c.asking = False
    c.readonly = False
    c.resp3 = False
    c.name = None
    server.tracking.disable(c)        # CLIENT TRACKING off
    c.reply_mode = None               # CLIENT REPLY on: RESET's own reply is sent
    # Back to the default user: with a password set, the client must AUTH again.
    if server.acl is not None:
        server.acl.init_client(c)
    else:
        c.authenticated = not server.settings.requirepass
        c.acl_gate = not c.authenticated
    return RESET


@command("select", 2, "loading stale fast", group="connection",
         summary="Change the selected database for the current connection",
         complexity="O(1)")
def select(c, argv):
    try:
        db = int(argv[1])
    except ValueError:
        raise ReplyError("ERR value is not an integer or out of range")
    if db != 0:
        raise ReplyError("ERR SELECT is not allowed in cluster mode")
    return OK


def _check_password(c, username: bytes, password: bytes, command_name: bytes) -> None:
    """Authenticate `c` as the user or raise WRONGPASS, as ACLAuthenticateUser."""
    acl = c.server.acl
    if acl is not None:
        if not acl.authenticate(c, username, password, command_name):
            raise ReplyError(WRONGPASS)
        return
    required = c.server.settings.requirepass
    if username == b"default":
        # With no requirepass the default user is "nopass": any password is accepted.
        if not required or hmac.compare_digest(password, required.encode()):
            c.authenticated = True
            c.acl_gate = False
            return
    raise ReplyError(WRONGPASS)


@command("auth", -2, _SERVICE, group="connection",
         summary="Authenticate to the server", complexity="O(N) where N is the number of "
         "passwords defined for the user")
def auth(c, argv):
    if len(argv) > 3:
        raise ReplyError(SYNTAX_ERROR)
    if len(argv) == 2:
        if not _default_needs_password(c.server):
            _redact(argv, 1)
            raise ReplyError(NO_PASSWORD)
        username, password = b"default", argv[1]
    else:
        username, password = argv[1], argv[2]
    name = argv[0]
    _redact(argv, 1, len(argv))
    _check_password(c, username, password, name)
    return OK


def _default_needs_password(server) -> bool:
    """The default user is not "nopass" (AUTH <password> needs one to compare with)."""
    if server.acl is not None:
        return not server.acl.default.nopass
    return bool(server.settings.requirepass)


def _redact(argv, start: int, stop: int = None) -> None:
    """Hide secrets from MONITOR: the executor feeds monitors with argv after the call."""
    for i in range(start, stop if stop is not None else start + 1):
        argv[i] = REDACTED


def valid_client_name(name: bytes) -> bool:
    return all(33 <= b <= 126 for b in name)


def _set_name(c, name: bytes) -> None:
    if not valid_client_name(name):
        raise ReplyError(BAD_NAME)
    c.name = name or None


@command("hello", -1, _SERVICE, group="connection",
         summary="Handshake with Redis", since="6.0.0", complexity="O(1)")
def hello(c, argv):
    proto = None
    if len(argv) >= 2:
        try:
            proto = int(argv[1])
        except ValueError:
            raise ReplyError("ERR Protocol version is not an integer or out of range")
        if proto not in (2, 3):
            raise ReplyError("NOPROTO unsupported protocol version")
    # Options take effect one by one, like in Redis 7.0: a SETNAME before a failing AUTH
    # or a syntax error has already renamed the client.
    i = 2
    while i < len(argv):
        option = argv[i].lower()
        left = len(argv) - i - 1
        if option == b"auth" and left >= 2:
            username, password = argv[i + 1], argv[i + 2]
            _redact(argv, i + 1, i + 3)
            _check_password(c, username, password, argv[0])
            i += 3
        elif option == b"setname" and left >= 1:
            _set_name(c, argv[i + 1])
            i += 2
        else:
            raise ReplyError("ERR Syntax error in HELLO option '%s'"
                             % argv[i].decode("utf-8", "replace"))
    if not c.authenticated and _auth_required(c.server):
        raise ReplyError("NOAUTH HELLO must be called with the client already "
                         "authenticated, otherwise the HELLO AUTH <user> <pass> option can "
                         "be used to authenticate the client and select the RESP protocol "
                         "version at the same time")
    if proto is not None:
        c.resp3 = proto == 3
    return {"server": b"redis", "version": REDIS_VERSION.encode(),
            "proto": 3 if c.resp3 else 2, "id": c.id, "mode": b"cluster",
            "role": server_role(c.server).encode(), "modules": []}


def _auth_required(server) -> bool:
    if server.acl is not None:
        return server.acl.auth_required
    return bool(server.settings.requirepass)


# ---------------------------------------------------------------- CLIENT

CLIENT = container("client", -2, group="connection", since="2.4.0",
                   summary="A container for client connection commands")

_CLIENT_FLAGS = "noscript loading stale"
_CLIENT_ADMIN = "admin noscript loading stale"

_CLIENT_HELP = [
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "    * ID <client-id> [<client-id> ...]",
    "      Return clients with the given ids.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "HELP",
    "    Prints this help.",
]

_CLIENT_TYPES = {b"normal": "normal", b"master": "master", b"replica": "replica",
                 b"slave": "replica", b"pubsub": "pubsub"}


def client_type(c) -> str:
    """Redis's getClientType. Monitors count as normal clients."""
    if c.is_master_link:
        return "master"
    if c.replica is not None:
        return "replica"
    return "pubsub" if c.pubsub_mode else "normal"


def _parse_type(name: bytes) -> str:
    kind = _CLIENT_TYPES.get(name.lower())
    if kind is None:
        raise ReplyError("ERR Unknown client type '%s'" % name.decode("utf-8", "replace"))
    return kind


def client_flags(c) -> str:
    """The flags= field, letters in Redis's order (catClientInfoString)."""
    flags = ""
    if c.replica is not None:
        flags += "S"
    if c.is_master_link:
        flags += "M"
    if c.monitor:
        flags += "O"
    if c.pubsub_mode:
        flags += "P"
    if c.multi is not None:
        flags += "x"
    if c.blocked_waiter is not None or c.held_by_pause:
        flags += "b"
    tracking = c.tracking
    if tracking is not None:
        flags += "t"
        if tracking.broken_redirect:
            flags += "R"
        if tracking.bcast:
            flags += "B"
    if c.dirty_cas:
        flags += "d"
    if c.close_after_reply:
        flags += "c"
    if c.killed:
        flags += "A"
    if c.unix_socket:
        flags += "U"
    if c.readonly:
        flags += "r"
    if c.no_evict:
        flags += "e"
    return flags or "N"


def client_info_line(c, current_argv=None) -> str:
    """One CLIENT LIST line, fields in Redis 7.0.15's order (7.2's lib-name and lib-ver
    are not there: the node is 7.0.15 throughout, INFO included).

    qbuf is what the client sent that has not been executed yet (the calling client's
    running command included, as in Redis), asked of its request parser only here;
    qbuf-free the room left in the read buffer it arrived in. argv-mem is the command
    being run (only the calling client has one, as in Redis, which frees argv after each
    command) or the arguments of a request not received whole yet (Redis moves each
    finished argument out of the query buffer), multi-mem the queued commands, omem the bytes queued by other greenlets
    (MONITOR, pub/sub). Replies are built per read and handed to the socket at once:
    there is no standing reply buffer, so rbs and rbp are 0.
    """
    now = time.time()
    qbuf, argv_mem = c.parser.buffered() if c.parser is not None else (0, 0)
    if current_argv:
        qbuf += request_size(current_argv)
        argv_mem += sum(len(a) for a in current_argv)
    qbuf_free = RECV_SIZE - qbuf if 0 < qbuf < RECV_SIZE else 0
    multi_mem = 0
    if c.multi is not None:
        multi_mem = sum(len(a) for _, argv in c.multi for a in argv)
    omem = c._outbox_bytes
    cmd = c.last_command
    events = "rw" if c._writer is not None else "r"
    subs = c.subscriptions
    sub, psub, ssub = (len(t) for t in subs.tables) if subs is not None else (0, 0, 0)
    return ("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=0 sub=%d psub=%d "
            "ssub=%d multi=%d qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=%d rbs=0 rbp=0 obl=0 "
            "oll=%d omem=%d tot-mem=%d events=%s cmd=%s user=%s redir=%d resp=%d"
            % (c.id, c.addr_text, c.laddr_text, c.fd, _text(c.name),
               max(0, int(now - c.created)),
               max(0, int(time.monotonic() - c.last_interaction)), client_flags(c),
               sub, psub, ssub, -1 if c.multi is None else len(c.multi), qbuf, qbuf_free,
               argv_mem, multi_mem, len(c._outbox), omem,
               qbuf + qbuf_free + argv_mem + multi_mem + omem, events,
               cmd.full_name if cmd is not None else "NULL",
               _text(c.user.name) if c.user is not None else (
                   "(superuser)" if c.server.acl is not None else "default"),
               c.tracking.redirect if c.tracking is not None else -1, 3 if c.resp3 else 2))


def _text(value) -> str:
    return value.decode("utf-8", "replace") if value else ""


def _text_reply(c, text: str):
    """CLIENT LIST/INFO and INFO: a bulk string, verbatim text in RESP3."""
    return Verbatim(text.encode()) if c.resp3 else text.encode()


@subcommand(CLIENT, "id", 2, _CLIENT_FLAGS, summary="Returns the client ID for the current "
            "connection", since="5.0.0", complexity="O(1)")
def client_id(c, argv):
    return c.id


@subcommand(CLIENT, "setname", 3, _CLIENT_FLAGS, summary="Set the current connection name",
            since="2.6.9", complexity="O(1)")
def client_setname(c, argv):
    _set_name(c, argv[2])
    return OK


@subcommand(CLIENT, "getname", 2, _CLIENT_FLAGS, summary="Get the current connection name",
            since="2.6.9", complexity="O(1)")
def client_getname(c, argv):
    return c.name


@subcommand(CLIENT, "info", 2, _CLIENT_FLAGS, tips=("nondeterministic_output",),
            summary="Returns information about the current client connection.",
            since="6.2.0", complexity="O(1)")
def client_info(c, argv):
    return _text_reply(c, client_info_line(c, argv) + "\n")


@subcommand(CLIENT, "list", -2, _CLIENT_ADMIN, tips=("nondeterministic_output",),
            summary="Get the list of client connections", since="2.4.0",
            complexity="O(N) where N is the number of client connections")
def client_list(c, argv):
    clients = c.server.clients
    if len(argv) == 2:
        chosen = list(clients.values())
    elif len(argv) == 4 and argv[2].lower() == b"type":
        kind = _parse_type(argv[3])
        chosen = [other for other in clients.values() if client_type(other) == kind]
    elif len(argv) > 3 and argv[2].lower() == b"id":
        chosen = []
        for raw in argv[3:]:
            try:
                wanted = int(raw)
            except ValueError:
                raise ReplyError("ERR Invalid client ID")
            if wanted in clients:
                chosen.append(clients[wanted])
    else:
        raise ReplyError(SYNTAX_ERROR)
    lines = "".join(client_info_line(other, argv if other is c else None) + "\n"
                    for other in chosen)
    return _text_reply(c, lines)


@subcommand(CLIENT, "kill", -3, _CLIENT_ADMIN, summary="Kill the connection of a client",
            since="2.4.0", complexity="O(N) where N is the number of client connections")
def client_kill(c, argv):
    if len(argv) == 3:
        # The old form CLIENT KILL ip:port may kill the caller itself.
        target = argv[2].decode("utf-8", "replace")
        for other in list(c.server.clients.values()):
            if other.addr_text == target:
                _kill(c, other)
                return OK
        raise ReplyError("ERR No such client")
    addr = laddr = kind = None
    wanted_id = wanted_user = None
    skipme = True
    i = 2
    while i < len(argv):
        if i + 1 >= len(argv):
            raise ReplyError(SYNTAX_ERROR)
        option, value = argv[i].lower(), argv[i + 1]
        if option == b"id":
            try:
                wanted_id = int(value)
            except ValueError:
                wanted_id = 0
            if wanted_id < 1:
                raise ReplyError("ERR client-id should be greater than 0")
        elif option == b"type":
            kind = _parse_type(value)
        elif option == b"addr":
            addr = value.decode("utf-8", "replace")
        elif option == b"laddr":
            laddr = value.decode("utf-8", "replace")
        elif option == b"user":
            acl = c.server.acl
            user = acl.users.get(value) if acl is not None else None
            if user is None and (acl is not None or value != b"default"):
                raise ReplyError("ERR No such user '%s'" % value.decode("utf-8", "replace"))
            wanted_user = user
        elif option == b"skipme":
            if value.lower() == b"yes":
                skipme = True
            elif value.lower() == b"no":
                skipme = False
            else:
                raise ReplyError(SYNTAX_ERROR)
        else:
            raise ReplyError(SYNTAX_ERROR)
        i += 2
    killed = 0
    for other in list(c.server.clients.values()):
        if wanted_id is not None and other.id != wanted_id:
            continue
        if kind is not None and client_type(other) != kind:
            continue
        if addr is not None and other.addr_text != addr:
            continue
        if laddr is not None and other.laddr_text != laddr:
            continue
        if skipme and other is c:
            continue
        if wanted_user is not None and other.user is not wanted_user:
            continue
        _kill(c, other)
        killed += 1
    return killed


def _kill(c, other) -> None:
    if other is c:
        c.close_after_reply = True    # answer first, then close, as Redis does
    else:
        other.kill()


@subcommand(CLIENT, "help", 2, "loading stale", summary="Show helpful text about the "
            "different subcommands", since="5.0.0", complexity="O(1)")
def client_help(c, argv):
    return [Status(line) for line in _CLIENT_HELP]
