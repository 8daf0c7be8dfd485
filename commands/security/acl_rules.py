"""ACL users and their rules, as Redis 7.0's acl.c describes them.

A User has flags (on/off, nopass), password hashes (SHA-256 hex) and selectors: the root
selector (the rules written outside parentheses) and any number of extra "(...)"
selectors. A command runs if one selector allows it; each selector says which commands
(a set of Command objects of the table, subcommands included, plus first-arg exceptions
like +select|0), which keys (glob patterns with read/write permissions: ~ %R~ %W~) and
which Pub/Sub channels (&pattern) it allows.

The categories a command is in come from the command table itself (Command.categories,
the same acl_categories Redis's command table carries): nothing here lists commands.

ACL LIST's form of a selector's commands (`command_rules`) is Redis's best-fit walk:
start from +@all or -@all, apply the category that fits best while one fits better than
it misfits, then fix the rest one command at a time. Redis walks its command dict in hash
order for that last step; we walk the table in its order, so where several single
commands are named, ACL LIST may name them in another order (the rules mean the same).
"""
import hashlib
import hmac

from commands.data.glob import matcher
from commands.families.introspection import key_access_flags, keys_with_flags
from commands.server.table import ACL_CATEGORY_ORDER, COMMANDS

CATEGORIES = tuple(name[1:] for name in ACL_CATEGORY_ORDER)

READ, WRITE = 1, 2
ALL_PERMISSIONS = READ | WRITE

# Results of a permission check (Redis's ACL_DENIED_*; the order picks the error logged).
OK, DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 0, 1, 2, 3, 4

# Redis's commands_with_channels (db.c): which arguments are channels, and whether they
# are patterns (matched literally against the user's channel patterns). Only publishing
# and subscribing are checked; unsubscribing never is.
_CHANNEL_ARGS = {"publish": (1, 2, False), "spublish": (1, 2, False),
                 "subscribe": (1, None, False), "ssubscribe": (1, None, False),
                 "psubscribe": (1, None, True)}

_RULE_ERRORS = {
    "ENOENT": "Unknown command or category name in ACL",
    "EINVAL": "Syntax error",
    "EEXIST": "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid "
              "and does not have any effect. Try 'resetkeys' to start with an empty list "
              "of patterns",
    "EISDIR": "Adding a pattern after the * pattern (or the 'allchannels' flag) is not "
              "valid and does not have any effect. Try 'resetchannels' to start with an "
              "empty list of channels",
    "ENODEV": "The password you are trying to remove from the user does not exist",
    "EBADMSG": "The password hash must be exactly 64 characters and contain only "
               "lowercase hexadecimal characters",
    "EALREADY": "Duplicate user found. A user can only be defined once in config files",
    "ECHILD": "Allowing first-arg of a subcommand is not supported",
}


class RuleError(Exception):
    """A rule Redis's ACLSetUser refuses; `kind` is the errno name Redis sets."""

    def __init__(self, kind: str):
        super().__init__(_RULE_ERRORS[kind])
        self.kind = kind


def hash_password(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


def _password_digest(op: bytes) -> str:
    """The SHA-256 hex digest a password rule names: hashed from the clear text of
    `>pass` / `<pass`, given as is by `#hash` / `!hash` (64 lower-case hex digits)."""
    if op[:1] in (b">", b"<"):
        return hash_password(op[1:])
    if not _valid_hash(op[1:]):
        raise RuleError("EBADMSG")
    return op[1:].decode()


def _valid_hash(text: bytes) -> bool:
    return len(text) == 64 and all(c in b"0123456789abcdef" for c in text)


def has_spaces(name: bytes) -> bool:
    """Redis's ACLStringHasSpaces: spaces and NUL bytes are refused in names/patterns."""
    return b" " in name or b"\0" in name


# ---------------------------------------------------------------- the command universe

class _Universe:
    """Every command and subcommand of the table, and each category's members, built on
    first use (after every command module has registered)."""

    def __init__(self):
        self.ready = False

    def build(self):
        self.commands = []             # table order, each container before its subs
        for cmd in COMMANDS.values():
            self.commands.append(cmd)
            self.commands.extend(cmd.subcommands.values())
        self.everything = frozenset(self.commands)
        self.members = {name: frozenset(c for c in self.commands
                                        if "@" + name in c.categories)
                        for name in CATEGORIES}
        # What +@cat sets: the members, and every subcommand of a member container.
        self.expanded = {}
        for name, members in self.members.items():
            closure = set(members)
            for cmd in members:
                closure.update(cmd.subcommands.values())
            self.expanded[name] = frozenset(closure)
        self.ready = True
        return self


_universe = _Universe()


def universe() -> _Universe:
    return _universe if _universe.ready else _universe.build()


def lookup_acl_command(name: bytes):
    """Redis's ACLLookupCommand: 'get' or 'config|get' (any case), else None."""
    parts = name.lower().split(b"|")
    if len(parts) > 2:
        return None
    cmd = COMMANDS.get(parts[0])
    if cmd is None or len(parts) == 1:
        return cmd
    return cmd.subcommands.get(parts[1])


# ---------------------------------------------------------------- selectors

class Selector:
    __slots__ = ("root", "allkeys", "allchannels", "allcommands", "future", "allowed",
                 "firstargs", "patterns", "channels", "_channel_matchers")

    def __init__(self, root: bool, allchannels: bool):
        self.root = root
        self.allkeys = False
        self.allchannels = allchannels   # acl-pubsub-default
        self.allcommands = False         # the fast "every command" flag
        self.future = False              # Redis's reserved bit: set by +@all only
        self.allowed = set()             # Command objects
        self.firstargs = {}              # Command -> [lower-case first args]
        self.patterns = []               # [pattern bytes, READ|WRITE, match fn]
        self.channels = []               # channel patterns (bytes)
        self._channel_matchers = None

    def copy(self) -> "Selector":
        other = Selector(self.root, self.allchannels)
        other.allkeys = self.allkeys
        other.allcommands = self.allcommands
        other.future = self.future
        other.allowed = set(self.allowed)
        other.firstargs = {cmd: list(args) for cmd, args in self.firstargs.items()}
        other.patterns = [list(p) for p in self.patterns]
        other.channels = list(self.channels)
        return other

    def unrestricted(self) -> bool:
        return self.allcommands and self.allkeys and self.allchannels

    # ------------------------------------------------------------ rules

    def apply(self, op: bytes) -> None:
        """One selector rule (Redis's ACLSetSelector); RuleError if refused."""
        lowered = op.lower()
        if lowered in (b"allkeys", b"~*"):
            self.allkeys = True
            self.patterns = []
        elif lowered == b"resetkeys":
            self.allkeys = False
            self.patterns = []
        elif lowered in (b"allchannels", b"&*"):
            self.allchannels = True
            self._set_channels([])
        elif lowered == b"resetchannels":
            self.allchannels = False
            self._set_channels([])
        elif lowered in (b"allcommands", b"+@all"):
            self.allowed = set(universe().everything)
            self.allcommands = self.future = True
            self.firstargs = {}
        elif lowered in (b"nocommands", b"-@all"):
            self.allowed = set()
            self.allcommands = self.future = False
            self.firstargs = {}
        elif op[:1] in (b"~", b"%"):
            self._add_key_pattern(op)
        elif op[:1] == b"&":
            if self.allchannels:
                raise RuleError("EISDIR")
            pattern = op[1:]
            if has_spaces(pattern):
                raise RuleError("EINVAL")
            if pattern not in self.channels:
                self._set_channels(self.channels + [pattern])
            self.allchannels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow_command(op[1:])
        elif op[:1] == b"-" and op[1:2] != b"@":
            cmd = lookup_acl_command(op[1:])
            if cmd is None:
                raise RuleError("ENOENT")
            self.change_permission(cmd, False)
        elif op[:1] in (b"+", b"-") and op[1:2] == b"@":
            members = universe().expanded.get(op[2:].decode("latin-1").lower())
            if members is None:
                raise RuleError("ENOENT")
            for cmd in members:
                self._set_bit(cmd, op[:1] == b"+")
                self.firstargs.pop(cmd, None)
        else:
            raise RuleError("EINVAL")

    def _set_channels(self, channels) -> None:
        self.channels = channels
        self._channel_matchers = None

    def _add_key_pattern(self, op: bytes) -> None:
        if self.allkeys:
            raise RuleError("EEXIST")
        if op[:1] == b"%":
            flags = 0
            offset = 1
            while offset < len(op):
                ch = op[offset:offset + 1].upper()
                if ch == b"R" and not flags & READ:
                    flags |= READ
                elif ch == b"W" and not flags & WRITE:
                    flags |= WRITE
                elif ch == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError("EINVAL")
                offset += 1
        else:
            flags, offset = ALL_PERMISSIONS, 1
        pattern = op[offset:]
        if has_spaces(pattern):
            raise RuleError("EINVAL")
        for existing in self.patterns:
            if existing[0] == pattern:
                existing[1] |= flags
                break
        else:
            self.patterns.append([pattern, flags, matcher(pattern)])
        self.allkeys = False

    def _allow_command(self, name: bytes) -> None:
        if b"|" not in name:
            cmd = lookup_acl_command(name)
            if cmd is None:
                raise RuleError("ENOENT")
            self.change_permission(cmd, True)
            return
        base, _, sub = name.rpartition(b"|")
        cmd = lookup_acl_command(base)
        if cmd is None:
            raise RuleError("ENOENT")
        if cmd.container is not None:
            raise RuleError("ECHILD")
        if not sub:
            raise RuleError("EINVAL")
        if cmd.subcommands:
            subcmd = lookup_acl_command(name)
            if subcmd is None:
                raise RuleError("ENOENT")
            self.change_permission(subcmd, True)
        else:
            # +select|0: this first argument only (Redis logs a deprecation warning).
            args = self.firstargs.setdefault(cmd, [])
            if sub.lower() not in args:
                args.append(sub.lower())

    def _set_bit(self, cmd, allow: bool) -> None:
        if allow:
            self.allowed.add(cmd)
        else:
            self.allowed.discard(cmd)
            self.allcommands = False

    def change_permission(self, cmd, allow: bool) -> None:
        """Redis's ACLChangeSelectorPerm: a container takes its subcommands with it."""
        self._set_bit(cmd, allow)
        self.firstargs.pop(cmd, None)
        for sub in cmd.subcommands.values():
            self._set_bit(sub, allow)

    # ------------------------------------------------------------ checks

    def check(self, cmd, argv, keys) -> tuple:
        """(result, argument index) of this selector for one command (Redis's
        ACLSelectorCheckCmd). `keys` is a one-item list caching the keys and their
        flags across selectors."""
        if not self.allcommands and cmd not in self.allowed and "no-auth" not in cmd.flags:
            args = self.firstargs.get(cmd)
            if not args or len(argv) < 2:
                return DENIED_CMD, 0
            if argv[2 if cmd.container is not None else 1].lower() not in args:
                return DENIED_CMD, 0
        if not self.allkeys and cmd.has_keys and "pubsubshard" not in cmd.flags:
            found = keys[0]
            if found is None:
                found = keys[0] = key_permissions(cmd, argv)
            patterns = self.patterns
            for index, needed in found:
                key = argv[index]
                for _pattern, flags, match in patterns:
                    if flags & needed == needed and match(key):
                        break
                else:
                    return DENIED_KEY, index
        if not self.allchannels:
            spec = _CHANNEL_ARGS.get(cmd.name) if cmd.container is None else None
            if spec is not None:
                first, stop, is_pattern = spec
                for index in range(first, len(argv) if stop is None else min(stop, len(argv))):
                    if not self.channel_allowed(argv[index], is_pattern):
                        return DENIED_CHANNEL, index
        return OK, 0

    def channel_allowed(self, channel: bytes, is_pattern: bool) -> bool:
        """Redis's ACLCheckChannelAgainstList: a PSUBSCRIBE pattern must be one of the
        user's patterns literally; a channel is matched against them."""
        if self.allchannels:
            return True
        if is_pattern:
            return channel in self.channels
        if self._channel_matchers is None:
            self._channel_matchers = [matcher(p) for p in self.channels]
        return any(match(channel) for match in self._channel_matchers)

    # ------------------------------------------------------------ descriptions

    def key_rules(self) -> list:
        if self.allkeys:
            return ["~*"]
        return [_pattern_text(p, f) for p, f, _ in self.patterns]

    def channel_rules(self) -> list:
        if self.allchannels:
            return ["&*"]
        return ["&" + p.decode("latin-1") for p in self.channels]

    def describe(self) -> str:
        """Redis's ACLDescribeSelector: keys, channels, commands."""
        parts = self.key_rules()
        if self.allchannels:
            parts.append("&*")
        else:
            parts.append("resetchannels")
            parts.extend(self.channel_rules())
        parts.append(self.command_rules())
        return " ".join(parts)

    def command_rules(self) -> str:
        """The +@all/-@all, categories and single commands that rebuild this selector's
        commands (Redis's ACLDescribeSelectorCommandRules)."""
        world = universe()
        additive = not self.future
        rules = ["-@all" if additive else "+@all"]
        fake = set() if additive else set(world.everything)
        temp = set(self.allowed)
        applied = set()
        while True:
            best, mindiff, maxsame = None, 1 << 62, 0
            for name in CATEGORIES:
                if name in applied:
                    continue
                members = world.members[name]
                on = len(members & temp)
                off = len(members) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                    best, mindiff, maxsame = name, diff, same
            if best is None:
                break
            expanded = world.expanded[best]
            if additive:
                fake |= expanded
                temp -= expanded
                rules.append("+@" + best)
            else:
                fake -= expanded
                temp |= expanded
                rules.append("-@" + best)
            applied.add(best)
        for cmd in world.commands:
            userbit = cmd in self.allowed
            if userbit != (cmd in fake):
                rules.append(("+" if userbit else "-") + cmd.full_name)
                if userbit:
                    fake.add(cmd)
                    fake.update(cmd.subcommands.values())
                else:
                    fake.discard(cmd)
                    fake.difference_update(cmd.subcommands.values())
            if not userbit and cmd in self.firstargs:
                rules.extend("+%s|%s" % (cmd.full_name, arg.decode("latin-1"))
                             for arg in self.firstargs[cmd])
        return " ".join(rules)


def _pattern_text(pattern: bytes, flags: int) -> str:
    prefix = {ALL_PERMISSIONS: "~", READ: "%R~", WRITE: "%W~"}[flags]
    return prefix + pattern.decode("latin-1")


def _needed(flags) -> int:
    """READ|WRITE a key with these key-spec flags needs: Redis derives read from ACCESS
    and write from INSERT, DELETE or UPDATE."""
    lowered = {f.lower() for f in flags}
    return (READ if "access" in lowered else 0) | (
        WRITE if lowered & {"insert", "delete", "update"} else 0)


_plans = {}                       # Command -> (first, last, step, needed) or None


def _plan(cmd):
    """For a command whose keys sit at fixed positions with fixed flags (GET, SET without
    its variable flags aside, MGET...): the range and the permission, worked out once."""
    if cmd.key_finder is not None or cmd.key_flags_finder is not None:
        return None
    if cmd.key_specs:
        if len(cmd.key_specs) != 1:
            return None
        spec = cmd.key_specs[0]
        (begin, first), = spec["begin_search"].items()
        (find, span), = spec["find_keys"].items()
        if begin != "index" or find != "range" or span[2]:
            return None
        lastkey, step = span[0], span[1]
        last = first + lastkey if lastkey >= 0 else lastkey
        return first, last, step, _needed(spec["flags"])
    if not cmd.first_key:
        return None
    return cmd.first_key, cmd.last_key, cmd.key_step, _needed(key_access_flags(cmd))


def key_permissions(cmd, argv) -> list:
    """[(key index, READ|WRITE needed)] for one call."""
    plan = _plans.get(cmd, False)
    if plan is False:
        plan = _plans[cmd] = _plan(cmd)
    if plan is not None:
        first, last, step, needed = plan
        if first == last and len(argv) > first:
            return ((first, needed),)
        if last < 0:
            last += len(argv)
        return [(i, needed) for i in range(first, min(last, len(argv) - 1) + 1, step)]
    found = []
    for index, flags in keys_with_flags(cmd, argv):
        flags = tuple(flags)
        needed = _needed_by_flags.get(flags)
        if needed is None:
            needed = _needed_by_flags[flags] = _needed(flags)
        found.append((index, needed))
    return found


_needed_by_flags = {}             # key-spec flags (tuple) -> READ|WRITE


# ---------------------------------------------------------------- users

class User:
    def __init__(self, name: bytes, allchannels: bool = False):
        self.name = name
        self.enabled = False
        self.nopass = False
        self.sanitize = None          # None, "sanitize-payload" or "skip-sanitize-payload"
        self.passwords = []           # SHA-256 hex strings
        self.selectors = [Selector(True, allchannels)]
        self.restricted = True        # some command, key or channel is not allowed
        self._description = None

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def copy_from(self, other: "User") -> None:
        """Redis's ACLCopyUser: same rules, own name."""
        self.enabled = other.enabled
        self.nopass = other.nopass
        self.sanitize = other.sanitize
        self.passwords = list(other.passwords)
        self.selectors = [s.copy() for s in other.selectors]
        self.changed()

    def clone(self) -> "User":
        twin = User(self.name)
        twin.copy_from(self)
        return twin

    def changed(self) -> None:
        self._description = None
        self.restricted = not self.root.unrestricted()

    def apply(self, op: bytes, allchannels_default: bool) -> None:
        """One rule (Redis's ACLSetUser); RuleError if refused."""
        self._description = None
        if not op:
            return
        lowered = op.lower()
        if lowered == b"on":
            self.enabled = True
        elif lowered == b"off":
            self.enabled = False
        elif lowered == b"skip-sanitize-payload":
            self.sanitize = "skip-sanitize-payload"
        elif lowered == b"sanitize-payload":
            self.sanitize = "sanitize-payload"
        elif lowered == b"nopass":
            self.nopass = True
            self.passwords = []
        elif lowered == b"resetpass":
            self.nopass = False
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            digest = _password_digest(op)
            if digest not in self.passwords:
                self.passwords.append(digest)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            digest = _password_digest(op)
            if digest not in self.passwords:
                raise RuleError("ENODEV")
            self.passwords.remove(digest)
        elif op[:1] == b"(" and op[-1:] == b")":
            selector = Selector(False, allchannels_default)
            for word in split_args(op[1:-1]):
                selector.apply(word)
            self.selectors.append(selector)
        elif lowered == b"clearselectors":
            del self.selectors[1:]
        elif lowered == b"reset":
            self.nopass = False
            self.passwords = []
            root = self.root
            root.apply(b"resetkeys")
            root.apply(b"resetchannels")
            if allchannels_default:
                root.apply(b"allchannels")
            self.enabled = False
            self.sanitize = "sanitize-payload"
            del self.selectors[1:]
            root.apply(b"-@all")
        else:
            self.root.apply(op)
        self.restricted = not self.root.unrestricted()

    def check_password(self, password: bytes) -> bool:
        if self.nopass:
            return True
        digest = hash_password(password)
        # Constant-time comparisons, each stored hash compared (as Redis does).
        matched = False
        for stored in self.passwords:
            matched |= hmac.compare_digest(stored, digest)
        return matched

    def check(self, cmd, argv) -> tuple:
        """(result, argument index) over every selector (Redis's
        ACLCheckAllUserCommandPerm): OK if one allows it, otherwise the most relevant
        denial (command < key < channel; the later argument among equals)."""
        keys = [None]
        selectors = self.selectors
        if len(selectors) == 1:
            return selectors[0].check(cmd, argv, keys)
        relevant, last = DENIED_CMD, 0
        for selector in selectors:
            result, index = selector.check(cmd, argv, keys)
            if result == OK:
                return OK, 0
            if result > relevant or (result == relevant and index > last):
                relevant, last = result, index
        return relevant, last

    def channel_allowed(self, channel: bytes, is_pattern: bool) -> bool:
        return any(s.channel_allowed(channel, is_pattern) for s in self.selectors)

    def flag_names(self) -> list:
        """Redis's ACLUserFlags order: on, off, nopass, skip-sanitize-payload,
        sanitize-payload."""
        names = ["on" if self.enabled else "off"]
        if self.nopass:
            names.append("nopass")
        if self.sanitize == "skip-sanitize-payload":
            names.append("skip-sanitize-payload")
        elif self.sanitize == "sanitize-payload":
            names.append("sanitize-payload")
        return names

    def describe(self) -> str:
        """The rules as ACL LIST and the ACL file show them (Redis's ACLDescribeUser)."""
        if self._description is None:
            parts = self.flag_names() + ["#" + p for p in self.passwords]
            text = " ".join(parts) + " " + self.root.describe()
            for selector in self.selectors[1:]:
                text += " (%s)" % selector.describe()
            self._description = text
        return self._description


def split_args(text: bytes) -> list:
    """Redis's sdssplitargs for the inside of a selector: words split on spaces (no
    quoting is needed by any rule)."""
    return text.split()


def merge_selector_args(words: list):
    """Redis's ACLMergeSelectorArguments: '(' ... ')' spread over several arguments
    become one. Returns (merged, None) or (None, index of the unmatched '(')."""
    merged = []
    opening = None
    for index, word in enumerate(words):
        if opening is None and word[:1] == b"(" and word[-1:] != b")":
            opening = index
            current = word
            continue
        if opening is not None:
            current += b" " + word
            if word[-1:] == b")":
                opening = None
                merged.append(current)
            continue
        merged.append(word)
    if opening is not None:
        return None, opening
    return merged, None

