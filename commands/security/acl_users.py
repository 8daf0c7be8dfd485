"""The users of this node and what the rest of the node asks of them.

`Acl` (one per node, `server.acl`) holds the users by name, the default user (whose
password is `requirepass`), the ACL log, and answers the executor, AUTH/HELLO, EXEC and
scripts without them importing this layer (they call server.acl's methods).

The hot path: every client carries `acl_gate`, true only while it is not authenticated
or its user is restricted. The executor tests that one attribute (the test it made for
NOAUTH before ACLs existed) and calls `gate` only then, so the default user with every
permission costs nothing. Whenever a user's rules change, the gates of its clients are
set again (`refresh_clients`).
"""
import os
import time

from loguru import logger

from commands.families.connection_cmds import client_info_line
from commands.security.acl_rules import (DENIED_AUTH, DENIED_CHANNEL, DENIED_CMD,
                                         DENIED_KEY, OK, RuleError, User, has_spaces,
                                         merge_selector_args)
from commands.server.resp import ReplyError

NOAUTH = ReplyError("NOAUTH Authentication required.")
LOG_GROUPING_MS = 60000            # Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA

_NOPERM = {
    DENIED_KEY: "NOPERM this user has no permissions to access one of the keys used as "
                "arguments",
    DENIED_CHANNEL: "NOPERM this user has no permissions to access one of the channels "
                    "used as arguments",
}
# getAclErrorMessage (scripts)
SCRIPT_REASONS = {
    DENIED_CMD: "can't run this command or subcommand",
    DENIED_KEY: "can't access at least one of the keys mentioned in the command arguments",
    DENIED_CHANNEL: "can't publish to the channel mentioned in the command",
}
# execCommand's reasons
_EXEC_REASONS = {
    DENIED_CMD: "no permission to execute the command or subcommand",
    DENIED_KEY: "no permission to touch the specified keys",
    DENIED_CHANNEL: "no permission to access one of the channels used as arguments",
}
REASON_NAMES = {DENIED_CMD: "command", DENIED_KEY: "key", DENIED_CHANNEL: "channel",
                DENIED_AUTH: "auth"}


class LogEntry:
    __slots__ = ("count", "reason", "context", "object", "username", "ctime", "cinfo")

    def __init__(self, reason, context, obj, username, cinfo):
        self.count = 1
        self.reason = reason
        self.context = context
        self.object = obj
        self.username = username
        self.ctime = int(time.time() * 1000)
        self.cinfo = cinfo

    def same_event(self, other) -> bool:
        return (self.reason == other.reason and self.context == other.context
                and abs(self.ctime - other.ctime) <= LOG_GROUPING_MS
                and self.object == other.object and self.username == other.username)


class Acl:
    def __init__(self, server):
        self.server = server
        self.users = {}                # name (bytes) -> User
        self.log = []                  # newest first
        self.default = User(b"default")
        self._make_default(self.default)
        self.users[b"default"] = self.default
        self.auth_required = False     # the default user has a password or is off

    def _make_default(self, user) -> None:
        for rule in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            user.apply(rule, True)
        user.changed()

    @property
    def allchannels_default(self) -> bool:
        return self.server.settings.acl_pubsub_default == "allchannels"

    # ------------------------------------------------------------ clients

    def init_client(self, client) -> None:
        """A new connection: the default user, authenticated unless it needs a password."""
        client.user = self.default
        client.authenticated = not self.auth_required
        client.acl_gate = self.auth_required or self.default.restricted

    def set_client_user(self, client, user) -> None:
        client.user = user
        client.authenticated = True
        client.acl_gate = user is not None and user.restricted

    def refresh_clients(self, user) -> None:
        for client in list(self.server.clients.values()):
            if client.user is user:
                client.acl_gate = not client.authenticated or user.restricted

    def _default_changed(self) -> None:
        default = self.default
        self.auth_required = not default.nopass or not default.enabled
        for client in list(self.server.clients.values()):
            if client.user is default:
                client.acl_gate = not client.authenticated or default.restricted

    def _kill_clients_of(self, user, current) -> None:
        """Redis's ACLFreeUserAndKillClients: back to the default user, unauthenticated,
        and closed (the calling client after its reply)."""
        for client in list(self.server.clients.values()):
            if client.user is user:
                client.user = self.default
                client.authenticated = False
                client.acl_gate = True
                if client is current:
                    client.close_after_reply = True
                else:
                    client.kill()

    # ------------------------------------------------------------ authentication

    def authenticate(self, client, username: bytes, password: bytes,
                     command_name: bytes = b"AUTH") -> bool:
        """AUTH / HELLO AUTH: True and the client is the user's, or False (logged with
        the command's name as the client spelled it)."""
        user = self.users.get(username)
        if user is not None and user.enabled and user.check_password(password):
            self.set_client_user(client, user)
            return True
        self.add_log(client, DENIED_AUTH, "multi" if client.multi is not None
                     else "toplevel", command_name, username)
        return False

    def update_default_password(self, password) -> None:
        """requirepass (start-up and CONFIG SET): Redis's ACLUpdateDefaultUserPassword."""
        default = self.default
        default.apply(b"resetpass", True)
        default.apply(b">" + password.encode() if password else b"nopass", True)
        default.changed()
        self._default_changed()

    # ------------------------------------------------------------ permission checks

    def gate(self, client, cmd, argv):
        """The executor's check for a client with acl_gate set: NOAUTH, then the user's
        permissions (Redis's processCommand). An error reply or None."""
        if not client.authenticated and self.auth_required and "no-auth" not in cmd.flags:
            return NOAUTH
        result = self._denial(client, cmd, argv,
                              "multi" if client.multi is not None else "toplevel")
        if result is None:
            return None
        if result == DENIED_CMD:
            return ReplyError("NOPERM this user has no permissions to run the '%s' command"
                              % cmd.full_name)
        return ReplyError(_NOPERM[result])

    def _denial(self, client, cmd, argv, context):
        """The client's user's verdict on a command run on its behalf (EXEC's queue, a
        script's redis.call): None when allowed; else the check's result, logged in
        ACL LOG with ``context``."""
        user = client.user
        if user is None or not user.restricted:
            return None
        result, index = user.check(cmd, argv)
        if result == OK:
            return None
        self._log_denial(client, result, context, cmd, argv, index)
        return result

    def check_exec(self, client, cmd, argv):
        """EXEC checks each queued command again: the rules may have changed since."""
        result = self._denial(client, cmd, argv, "multi")
        if result is None:
            return None
        return ReplyError("NOPERM ACLs rules changed between the moment the transaction "
                          "was accumulated and the EXEC call. This command is no longer "
                          "allowed for the following reason: %s" % _EXEC_REASONS[result])

    def check_script(self, client, cmd, argv):
        """redis.call: the calling client's user. An error text or None."""
        result = self._denial(client, cmd, argv, "lua")
        if result is None:
            return None
        return "The user executing the script %s" % SCRIPT_REASONS[result]

    def _log_denial(self, client, result, context, cmd, argv, index) -> None:
        obj = cmd.full_name.encode() if result == DENIED_CMD else argv[index]
        self.add_log(client, result, context, obj, None)

    # ------------------------------------------------------------ the ACL log

    def add_log(self, client, reason, context, obj: bytes, username) -> None:
        if username is None:
            username = client.user.name if client.user is not None else b"default"
        entry = LogEntry(reason, context, obj, username, client_info_line(client))
        log = self.log
        for position, current in enumerate(log[:10]):
            if current.same_event(entry):
                del log[position]
                current.cinfo = entry.cinfo
                current.ctime = entry.ctime
                current.count += 1
                log.insert(0, current)
                return
        log.insert(0, entry)
        del log[self.server.settings.acllog_max_len:]

    # ------------------------------------------------------------ changing users

    def set_user(self, name: bytes, words: list, current=None):
        """ACL SETUSER: every rule applied to a copy, the user changed only if all were
        accepted. Returns an error text or None."""
        merged, bad = merge_selector_args(words)
        if merged is None:
            return ("Unmatched parenthesis in acl selector starting at '%s'."
                    % words[bad].decode("utf-8", "replace"))
        existing = self.users.get(name)
        staged = existing.clone() if existing is not None else User(
            name, self.allchannels_default)
        allchannels = self.allchannels_default
        for word in merged:
            try:
                staged.apply(word, allchannels)
            except RuleError as exc:
                return "Error in ACL SETUSER modifier '%s': %s" % (
                    word.decode("utf-8", "replace"), exc)
        staged.changed()
        if existing is None:
            self.users[name] = staged
            return None
        self._kill_pubsub_clients_if_needed(existing, staged)
        existing.copy_from(staged)
        if existing is self.default:
            self._default_changed()
        else:
            self.refresh_clients(existing)
        return None

    def _kill_pubsub_clients_if_needed(self, original, new) -> None:
        """Redis's ACLKillPubsubClientsIfNeeded: subscribers whose channels the new rules
        no longer allow are disconnected."""
        if any(s.allchannels for s in new.selectors):
            return
        upcoming = [p for s in new.selectors for p in s.channels]
        if not any(s.allchannels for s in original.selectors) and all(
                p in upcoming for s in original.selectors for p in s.channels):
            return
        probe = User(b"probe")
        probe.root.apply(b"resetchannels")
        for pattern in upcoming:
            probe.root.apply(b"&" + pattern)
        for client in list(self.server.clients.values()):
            subs = client.subscriptions
            if client.user is not original or subs is None:
                continue
            channels, patterns, shard = subs.tables
            if any(not probe.root.channel_allowed(p, True) for p in patterns) or any(
                    not probe.root.channel_allowed(ch, False)
                    for table in (channels, shard) for ch in table):
                client.kill()

    def delete_users(self, names, current) -> int:
        deleted = 0
        for name in names:
            user = self.users.pop(name, None)
            if user is not None:
                self._kill_clients_of(user, current)
                deleted += 1
        return deleted

    def sorted_users(self) -> list:
        return [self.users[name] for name in sorted(self.users)]

    # ------------------------------------------------------------ files

    def load_configured(self, declarations) -> None:
        """`user` lines of the config file, at start-up (Redis's ACLLoadConfiguredUsers).
        Raises ValueError with the line Redis logs."""
        for words in declarations:
            name, rules = words[0], words[1:]
            merged, _ = merge_selector_args(rules)
            user = self.users.get(name)
            if user is None:
                user = self.users[name] = User(name, self.allchannels_default)
            else:
                user.apply(b"reset", self.allchannels_default)
            for rule in merged:
                try:
                    user.apply(rule, self.allchannels_default)
                except RuleError as exc:
                    raise ValueError("Error loading ACL rule '%s' for the user named '%s': "
                                     "%s" % (rule.decode("utf-8", "replace"),
                                             name.decode("utf-8", "replace"), exc))
            user.changed()
            if not user.enabled:
                logger.info("The user '{}' is disabled (there is no 'on' modifier in the "
                            "user description). Make sure this is not a configuration "
                            "error.", name.decode("utf-8", "replace"))
        self._default_changed()

    def load_file(self, path: str, current=None):
        """ACL LOAD / start-up with aclfile: every user of the file, or nothing at all if
        one line is wrong. Returns the errors (one line) or None."""
        try:
            with open(path, "rb") as f:
                text = f.read()
        except OSError as exc:
            return "Error loading ACLs, opening file '%s': %s" % (path, exc.strerror)
        errors = []
        loaded = {}
        for number, line in enumerate(text.split(b"\n"), 1):
            line = line.strip(b" \t\r\n")
            if not line:
                continue
            words = [w for w in line.split(b" ") if w]
            if not words:
                continue
            if words[0] != b"user" or len(words) < 2:
                errors.append("%s:%d should start with user keyword followed by the "
                              "username. " % (path, number))
                continue
            name = words[1]
            if name in loaded:
                errors.append("WARNING: Duplicate user '%s' found on line %d. "
                              % (name.decode("utf-8", "replace"), number))
                continue
            user = loaded[name] = User(name, self.allchannels_default)
            merged, _ = merge_selector_args(words[2:])
            if merged is None:
                errors.append("%s:%d: Unmatched parenthesis in selector definition."
                              % (path, number))
                continue
            syntax_error = False
            for rule in merged:
                rule = rule.strip(b"\t\r\n")
                try:
                    user.apply(rule, self.allchannels_default)
                except RuleError as exc:
                    if exc.kind == "ENOENT":
                        errors.append("%s:%d: Error in applying operation '%s': %s. "
                                      % (path, number, rule.decode("utf-8", "replace"), exc))
                    elif not syntax_error:
                        errors.append("%s:%d: %s. " % (path, number, exc))
                        syntax_error = True
            user.changed()
        if errors:
            return "".join(errors) + ("WARNING: ACL errors detected, no change to the "
                                      "previously active ACL rules was performed")
        new_default = loaded.pop(b"default", None)
        if new_default is None:
            new_default = User(b"default")
            self._make_default(new_default)
        old = self.users
        self.users = {b"default": self.default}
        self.users.update(loaded)
        self.default.copy_from(new_default)
        self._default_changed()
        for name, user in old.items():
            if user is not self.default:
                self._kill_clients_of(user, current)
        return None

    def config_lines(self) -> list:
        """Every user as a `user` line (ACL SAVE's file, CONFIG REWRITE's lines)."""
        return ["user %s %s" % (user.name.decode("latin-1"), user.describe())
                for user in self.sorted_users()]

    def save_file(self, path: str) -> bool:
        lines = [line + "\n" for line in self.config_lines()]
        tmp = "%s.tmp-%d-%d" % (path, os.getpid(), int(time.time() * 1000))
        try:
            with open(tmp, "w", encoding="latin-1") as f:
                f.write("".join(lines))
            os.rename(tmp, path)
            return True
        except OSError as exc:
            logger.warning("Writing ACL file for ACL SAVE: {}", exc.strerror)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False


def user_declaration_error(words: list):
    """Redis's ACLAppendUserForLoading check of a config file `user` line: the text of
    'Error in user declaration ...' or None. Unknown commands are let through (Redis
    reports them when it loads the users)."""
    if len(words) < 2:
        return "Error in user declaration '%s': Wrong format" % words[0].decode()
    probe = User(b"probe")
    merged, bad = merge_selector_args(words[2:])
    if merged is None:
        return "Error in user declaration '%s': Wrong format" % words[2 + bad].decode(
            "utf-8", "replace")
    for index, rule in enumerate(merged):
        try:
            probe.apply(rule, False)
        except RuleError as exc:
            if exc.kind != "ENOENT":
                return "Error in user declaration '%s': %s" % (
                    words[index].decode("utf-8", "replace"), exc)
    if has_spaces(words[1]):
        return "Spaces not allowed in ACL usernames"
    return None
