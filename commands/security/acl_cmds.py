"""The ACL command: SETUSER GETUSER DELUSER LIST USERS WHOAMI CAT GENPASS LOG DRYRUN LOAD
SAVE HELP, with the replies and error texts of Redis 7.0.15 (acl.c: aclCommand)."""
import os
import time

from commands.security.acl_rules import (CATEGORIES, DENIED_CHANNEL, DENIED_CMD, DENIED_KEY,
                                         OK, has_spaces, universe)
from commands.security.acl_users import REASON_NAMES
from commands.server.executor import lookup_command
from commands.server.resp import OK as OK_REPLY
from commands.server.resp import ReplyError, SetReply, Status
from commands.server.table import container, subcommand

ACL = container("acl", -2, group="server", since="6.0.0",
                summary="A container for Access List Control commands")

_ADMIN = "admin noscript loading stale"
_PLAIN = "noscript loading stale"
NO_ACLFILE = ("ERR This Redis instance is not configured to use an ACL file. You may want "
              "to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE "
              "(assuming you have a Redis configuration file set) in order to store users in "
              "the Redis configuration.")
GENPASS_MAX_BITS = 4096

_HELP = [
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the "
    "command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
]


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


@subcommand(ACL, "setuser", -3, _ADMIN, summary="Modify or create the rules for a specific "
            "ACL user", since="6.0.0", complexity="O(N). Where N is the number of rules "
            "provided.")
def acl_setuser(c, argv):
    name = argv[2]
    words = argv[3:]
    # Passwords must not reach MONITOR (Redis redacts every argument).
    for i in range(2, len(argv)):
        argv[i] = b"(redacted)"
    if has_spaces(name):
        raise ReplyError("ERR Usernames can't contain spaces or null characters")
    error = c.server.acl.set_user(name, words, c)
    if error is not None:
        raise ReplyError("ERR " + error)
    return OK_REPLY


@subcommand(ACL, "getuser", 3, _ADMIN, summary="Get the rules for a specific ACL user",
            since="6.0.0", complexity="O(N). Where N is the number of password, command and "
            "pattern rules that the user has.")
def acl_getuser(c, argv):
    user = c.server.acl.users.get(argv[2])
    if user is None:
        return None
    reply = {"flags": SetReply(name.encode() for name in user.flag_names()),
             "passwords": [p.encode() for p in user.passwords]}
    reply.update(_selector_reply(user.root))
    reply["selectors"] = [_selector_reply(s) for s in user.selectors[1:]]
    return reply


def _selector_reply(selector) -> dict:
    return {"commands": selector.command_rules().encode(),
            "keys": " ".join(selector.key_rules()).encode(),
            "channels": " ".join(selector.channel_rules()).encode()}


@subcommand(ACL, "deluser", -3, _ADMIN, summary="Remove the specified ACL users and the "
            "associated rules", since="6.0.0", complexity="O(1) amortized time considering "
            "the typical user.")
def acl_deluser(c, argv):
    names = argv[2:]
    if b"default" in names:
        raise ReplyError("ERR The 'default' user cannot be removed")
    return c.server.acl.delete_users(names, c)


@subcommand(ACL, "list", 2, _ADMIN, summary="List the current ACL rules in ACL config file "
            "format", since="6.0.0", complexity="O(N). Where N is the number of configured "
            "users.")
def acl_list(c, argv):
    return [b"user " + user.name + b" " + user.describe().encode("latin-1")
            for user in c.server.acl.sorted_users()]


@subcommand(ACL, "users", 2, _ADMIN, summary="List the username of all the configured ACL "
            "rules", since="6.0.0", complexity="O(N). Where N is the number of configured "
            "users.")
def acl_users(c, argv):
    return [user.name for user in c.server.acl.sorted_users()]


@subcommand(ACL, "whoami", 2, _PLAIN, summary="Return the name of the user associated to "
            "the current connection", since="6.0.0", complexity="O(1)")
def acl_whoami(c, argv):
    return c.user.name if c.user is not None else None


@subcommand(ACL, "cat", -2, _PLAIN, summary="List the ACL categories or the commands inside "
            "a category", since="6.0.0",
            complexity="O(1) since the categories and commands are a fixed set.")
def acl_cat(c, argv):
    if len(argv) == 2:
        return [name.encode() for name in CATEGORIES]
    if len(argv) > 3:
        raise _syntax(argv)
    name = _text(argv[2]).lower()
    if name not in CATEGORIES:
        raise ReplyError("ERR Unknown category '%s'" % _text(argv[2])[:128])
    return [cmd.full_name.encode() for cmd in universe().commands
            if "@" + name in cmd.categories]


@subcommand(ACL, "genpass", -2, _PLAIN, summary="Generate a pseudorandom secure password to "
            "use for ACL users", since="6.0.0", complexity="O(1)")
def acl_genpass(c, argv):
    if len(argv) > 3:
        raise _syntax(argv)
    bits = 256
    if len(argv) == 3:
        try:
            bits = int(argv[2])
        except ValueError:
            raise ReplyError("ERR value is not an integer or out of range")
    if bits <= 0 or bits > GENPASS_MAX_BITS:
        raise ReplyError("ERR ACL GENPASS argument must be the number of bits for the output "
                         "password, a positive number up to %d" % GENPASS_MAX_BITS)
    chars = (bits + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars].encode()


@subcommand(ACL, "log", -2, _ADMIN, summary="List latest events denied because of ACLs in "
            "place", since="6.0.0", complexity="O(N) with N being the number of entries "
            "shown.")
def acl_log(c, argv):
    acl = c.server.acl
    count = 10
    if len(argv) > 3:
        raise _syntax(argv)
    if len(argv) == 3:
        if argv[2].lower() == b"reset":
            acl.log.clear()
            return OK_REPLY
        try:
            count = int(argv[2])
        except ValueError:
            raise ReplyError("ERR value is not an integer or out of range")
        count = max(count, 0)
    now_ms = _now_ms()
    return [{"count": e.count, "reason": REASON_NAMES[e.reason].encode(),
             "context": e.context.encode(), "object": e.object, "username": e.username,
             "age-seconds": (now_ms - e.ctime) / 1000.0, "client-info": e.cinfo.encode()}
            for e in acl.log[:count]]


def _now_ms() -> int:
    return int(time.time() * 1000)


@subcommand(ACL, "dryrun", -4, _ADMIN, summary="Returns whether the user can execute the "
            "given command without executing the command.", since="7.0.0",
            complexity="O(1).")
def acl_dryrun(c, argv):
    user = c.server.acl.users.get(argv[2])
    if user is None:
        raise ReplyError("ERR User '%s' not found" % _text(argv[2]))
    args = argv[3:]
    cmd, error = lookup_command(args)
    if cmd is None or (error is not None and not error.args[0].startswith(
            "ERR wrong number")):
        raise ReplyError("ERR Command '%s' not found" % _text(args[0]))
    if error is not None:
        raise ReplyError("ERR wrong number of arguments for '%s' command" % cmd.full_name)
    result, index = user.check(cmd, args)
    if result == OK:
        return OK_REPLY
    if result == DENIED_CMD:
        return ("This user has no permissions to run the '%s' command"
                % cmd.full_name).encode()
    if result == DENIED_KEY:
        return b"This user has no permissions to access the '%s' key" % args[index]
    if result == DENIED_CHANNEL:
        return b"This user has no permissions to access the '%s' channel" % args[index]
    raise ReplyError("ERR Invalid permission result")


@subcommand(ACL, "load", 2, _ADMIN, summary="Reload the ACLs from the configured ACL file",
            since="6.0.0", complexity="O(N). Where N is the number of configured users.")
def acl_load(c, argv):
    path = c.server.settings.aclfile
    if not path:
        raise ReplyError(NO_ACLFILE)
    errors = c.server.acl.load_file(path, c)
    if errors is not None:
        raise ReplyError("ERR " + errors)
    return OK_REPLY


@subcommand(ACL, "save", 2, _ADMIN, summary="Save the current ACL rules in the configured ACL "
            "file", since="6.0.0", complexity="O(N). Where N is the number of configured "
            "users.")
def acl_save(c, argv):
    path = c.server.settings.aclfile
    if not path:
        raise ReplyError(NO_ACLFILE)
    if not c.server.acl.save_file(path):
        raise ReplyError("ERR There was an error trying to save the ACLs. Please check the "
                         "server logs for more information")
    return OK_REPLY


@subcommand(ACL, "help", 2, "loading stale", summary="Show helpful text about the different "
            "subcommands", since="6.0.0", complexity="O(1)")
def acl_help(c, argv):
    return [Status(line) for line in _HELP]


def _syntax(argv) -> ReplyError:
    return ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. Try "
                      "ACL HELP." % _text(argv[1]))
