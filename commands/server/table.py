"""The command table: one entry per command, declared next to its implementation.

An entry says what Redis's command table says: name, arity (negative = at least that many
arguments), flags, key positions (first, last, step; last -1 = the last argument) and the
ACL categories. The table drives dispatch and arity errors, and it is what COMMAND,
COMMAND INFO/COUNT/DOCS/GETKEYS report, so redis-py's RedisCluster can route from it.

    @command("get", 2, "readonly fast", keys=(1, 1, 1), group="string")
    def get(ctx, key): ...

Handlers receive the calling Context and the command's arguments after the name.
"""
from dataclasses import dataclass, field

from commands.metrics.latency_histogram import new_durations

# Flags that also put a command in an ACL category, as Redis derives them.
_FLAG_CATEGORIES = {"write": "@write", "readonly": "@read", "admin": "@admin",
                    "fast": "@fast", "pubsub": "@pubsub", "blocking": "@blocking"}

# Redis's ACL categories in its own order (acl.c): COMMAND prints a command's categories
# in this order, whatever order they were declared in.
ACL_CATEGORY_ORDER = ("@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash",
                      "@string", "@bitmap", "@hyperloglog", "@geo", "@stream", "@pubsub",
                      "@admin", "@fast", "@slow", "@blocking", "@dangerous", "@connection",
                      "@transaction", "@scripting")
_CATEGORY_RANK = {name: rank for rank, name in enumerate(ACL_CATEGORY_ORDER)}

_GROUP_CATEGORIES = {"string": "@string", "generic": "@keyspace", "hash": "@hash",
                     "list": "@list", "set": "@set", "sorted-set": "@sortedset",
                     "connection": "@connection", "transactions": "@transaction",
                     "bitmap": "@bitmap", "hyperloglog": "@hyperloglog",
                     "geo": "@geo", "stream": "@stream",
                     # @pubsub comes from the "pubsub" flag (PUBSUB HELP has neither)
                     "pubsub": None, "server": None, "cluster": None}


# slots: ~360 commands and subcommands live as long as the node, and a __dict__ of
# their 33 fields is 1.6 KB each (570 KB together); slots hold them in ~300 bytes.
@dataclass(eq=False, slots=True)
class Command:
    name: str
    handler: object
    arity: int
    flags: frozenset
    first_key: int = 0
    last_key: int = 0
    key_step: int = 0
    group: str = "generic"
    summary: str = ""
    since: str = "1.0.0"
    complexity: str = ""
    categories: tuple = ()
    tips: tuple = ()                  # Redis's command tips (request_policy:..., ...)
    deprecated: tuple = ()            # (since, replaced by) for COMMAND DOCS, or ()
    key_specs: tuple = ()             # Redis's key specs where (first, last, step) says too
                                      # little (see families/introspection.py: key_specs)
    key_flags_finder: object = None   # fn(argv) -> [(index, flags)], for a key spec with
                                      # variable_flags (Redis asks the command's getkeys)
    subcommands: dict = field(default_factory=dict)
    container: object = None          # the parent command of a subcommand
    # Precomputed for the hot path.
    is_write: bool = False
    has_keys: bool = False
    argc_min: int = 0                 # the arity as a range of len(argv)
    argc_max: int = 0
    fast_route: int = 0               # how the fast path routes it (executor.py)
    movable_keys: bool = False
    key_finder: object = None         # for movable keys: fn(argv) -> list of key indexes
    # fn(client, argv) -> bool, for a command whose denyoom flag depends on its
    # arguments (EVAL: the script's shebang flags; commands/server/memory.py)
    denyoom_finder: object = None
    # Statistics (INFO commandstats). A call is counted where its duration is: in
    # `durations` (calls of 0..255 whole µs, the executor's hot path) or `slow_calls`;
    # `calls` adds them up (commands/metrics/latency_histogram.py says why).
    nsec: int = 0                     # their total duration (INFO shows µs)
    rejected_calls: int = 0
    failed_calls: int = 0
    durations: list = field(default_factory=new_durations)
    slow_calls: int = 0
    extra_calls: int = 0              # counted by code that does not time the call
    latency: object = None            # CommandLatency: the histogram's long calls & co

    @property
    def calls(self) -> int:
        return sum(self.durations) + self.slow_calls + self.extra_calls

    @calls.setter
    def calls(self, value: int) -> None:
        self.extra_calls += value - self.calls

    @property
    def full_name(self) -> str:
        if self.container is not None:
            return "%s|%s" % (self.container.name, self.name)
        return self.name

    def key_indexes(self, argv) -> list:
        """Indexes into argv (argv[0] = command name) of the keys this call touches."""
        if self.key_finder is not None:
            return self.key_finder(argv)
        if not self.first_key:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.key_step))

    def arity_ok(self, argc: int) -> bool:
        return argc == self.arity if self.arity >= 0 else argc >= -self.arity


COMMANDS: dict = {}        # lower-case bytes name -> Command


def _make(name, arity, flags, keys, group, summary, since, complexity, key_finder,
          categories, handler, tips=(), is_container=False, key_specs=(),
          group_category=True):
    flagset = frozenset(flags.split())
    first, last, step = keys or (0, 0, 0)
    cats = set(categories)
    if not is_container:
        # What Redis's setImplicitACLCategories derives, plus the group's category.
        cats.update(_FLAG_CATEGORIES[f] for f in flagset if f in _FLAG_CATEGORIES)
        if "readonly" in flagset and "@scripting" in categories:
            cats.discard("@read")     # Redis keeps scripts (EVAL_RO...) out of @read
        if group_category and _GROUP_CATEGORIES.get(group):
            cats.add(_GROUP_CATEGORIES[group])
        if "admin" in flagset or "dangerous" in flagset:
            cats.add("@dangerous")
    if "fast" not in flagset:
        cats.add("@slow")
    ordered = tuple(sorted(cats, key=lambda c: (_CATEGORY_RANK.get(c, len(_CATEGORY_RANK)), c)))
    cmd = Command(name=name, handler=handler, arity=arity, flags=flagset, first_key=first,
                  last_key=last, key_step=step, group=group, summary=summary, since=since,
                  complexity=complexity, categories=ordered, tips=tuple(tips),
                  key_specs=tuple(key_specs))
    cmd.is_write = "write" in flagset
    cmd.argc_min = abs(arity)
    cmd.argc_max = arity if arity >= 0 else 1 << 31
    cmd.movable_keys = key_finder is not None
    cmd.key_finder = key_finder
    cmd.has_keys = bool(first) or cmd.movable_keys
    return cmd


def key_spec(flags, index: int, lastkey: int = 0, notes: str = "") -> dict:
    """One of Redis's key specs in the form `command(key_specs=...)` takes (the common
    begin_search index / find_keys range kind; write other kinds as dicts): keys from argument `index` to `lastkey` (relative; -1 = the last argument), with the
    access flags Redis gives them, for COMMAND INFO."""
    spec = {"flags": flags, "begin_search": {"index": index},
            "find_keys": {"range": (lastkey, 1, 0)}}
    if notes:
        spec["notes"] = notes
    return spec


def command(name, arity, flags="", keys=None, group="generic", summary="", since="1.0.0",
            complexity="", key_finder=None, categories=(), tips=(), key_specs=(),
            group_category=True, deprecated=(), key_flags_finder=None):
    """Register a top-level command. `group_category=False`: the group's ACL category is
    not implied (SORT is "generic" but not @keyspace in Redis)."""
    def register(handler):
        cmd = _make(name, arity, flags, keys, group, summary, since, complexity,
                    key_finder, categories, handler, tips, key_specs=key_specs,
                    group_category=group_category)
        cmd.deprecated = tuple(deprecated)
        cmd.key_flags_finder = key_flags_finder
        COMMANDS[name.encode()] = cmd
        return handler
    return register


def container(name, arity=-2, group="server", summary="", since="1.0.0", flags="",
              categories=(), tips=(), handler=None):
    """Register a command made of subcommands (CONFIG, CLIENT, CLUSTER...).

    `handler`, if given, runs when the command comes without a subcommand (COMMAND);
    otherwise that is an arity error, as for CONFIG.
    """
    cmd = _make(name, arity, flags, None, group, summary, since, "", None, categories,
                handler, tips, is_container=True)
    COMMANDS[name.encode()] = cmd
    return cmd


def subcommand(parent: Command, name, arity, flags="", keys=None, summary="",
               since="1.0.0", complexity="", key_finder=None, categories=(), tips=(),
               key_specs=()):
    """Register `parent name` (arity counts the parent's name too, as Redis does)."""
    def register(handler):
        cmd = _make(name, arity, flags, keys, parent.group, summary, since, complexity,
                    key_finder, categories, handler, tips, key_specs=key_specs)
        cmd.container = parent
        parent.subcommands[name.encode()] = cmd
        return handler
    return register


def lookup(name: bytes):
    cmd = COMMANDS.get(name)
    if cmd is None:
        cmd = COMMANDS.get(name.lower())
    return cmd


def all_commands():
    return list(COMMANDS.values())
