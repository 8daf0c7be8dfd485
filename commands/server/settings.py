"""The node's settings: one table of redis.conf directives.

The same table parses the command line and a redis.conf-style file (node.py), and answers
CONFIG GET / SET / REWRITE, with Redis's names, value syntax (memory units such as 512mb,
yes/no booleans) and validation messages.
"""
import fnmatch
import os
from dataclasses import dataclass

from cluster.listen import parse_bind
from commands.data.notifications import (KeyspaceEventsError, format_keyspace_events,
                                         parse_keyspace_events)
from commands.server.resp import split_args


class SettingError(ValueError):
    """A value Redis would refuse; the message is Redis's reason text."""


_UNITS = {"b": 1, "k": 1000, "kb": 1024, "m": 1000 ** 2, "mb": 1024 ** 2,
          "g": 1000 ** 3, "gb": 1024 ** 3}


def parse_memory(text: str) -> int:
    """'512mb' -> 536870912, as Redis's memtoull (units are case-insensitive)."""
    lowered = text.strip().lower()
    digits = lowered.rstrip("kmgb")
    unit = lowered[len(digits):] or "b"
    if unit not in _UNITS or not digits.isdigit():     # memtoull: no sign
        raise SettingError("argument must be a memory value")
    return int(digits) * _UNITS[unit]


@dataclass
class Setting:
    name: str
    kind: str                 # int | memory | bool | enum | string | filename | save | obuf
                              # | bind | hostname | keyspace-events
    default: object
    minimum: int = None
    maximum: int = None
    choices: tuple = ()
    mutable: bool = True
    doc: str = ""
    clamp: tuple = None       # (low, high) Redis silently applies after validation (hz)

    def parse(self, text: str):
        if self.kind == "bool":
            lowered = text.lower()
            if lowered not in ("yes", "no"):
                raise SettingError("argument must be 'yes' or 'no'")
            return lowered == "yes"
        if self.kind in ("int", "memory"):
            if self.kind == "memory":
                value = parse_memory(text)
            else:
                try:
                    value = int(text)
                except ValueError:
                    raise SettingError("argument couldn't be parsed into an integer")
            if (self.minimum is not None and value < self.minimum) or \
                    (self.maximum is not None and value > self.maximum):
                raise SettingError("argument must be between %d and %d inclusive"
                                   % (self.minimum, self.maximum))
            if self.clamp:
                value = min(max(value, self.clamp[0]), self.clamp[1])
            return value
        if self.kind == "save":
            # "<seconds> <changes> [<seconds> <changes> ...]" or "" for no snapshots.
            words = text.split()
            if len(words) % 2 or not all(w.isdigit() for w in words):
                raise SettingError("Invalid save parameters")
            return " ".join(words)
        if self.kind == "obuf":
            return parse_output_buffer_limits(text)
        if self.kind == "filename" and "/" in text:
            raise SettingError("%s can't be a path, just a filename" % self.name)
        if self.kind == "bind":
            try:
                return " ".join(parse_bind(text))
            except ValueError as exc:
                raise SettingError(str(exc))
        if self.kind == "hostname":
            return parse_announced_hostname(text)
        if self.kind == "keyspace-events":
            try:
                return parse_keyspace_events(text)
            except KeyspaceEventsError as exc:
                raise SettingError(str(exc))
        if self.kind == "enum":
            lowered = text.lower()
            if lowered not in self.choices:
                raise SettingError("argument(s) must be one of the following: %s"
                                   % ", ".join(self.choices))
            return lowered
        return text

    def format(self, value) -> str:
        if self.kind == "bool":
            return "yes" if value else "no"
        if value is None:
            return ""
        if self.kind == "keyspace-events":
            return format_keyspace_events(value)
        if self.kind == "obuf":
            return " ".join("%s %d %d %d" % (klass, *value[klass]) for klass in OBUF_CLASSES)
        return str(value)


_HOSTNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")


def parse_announced_hostname(text: str) -> str:
    """cluster-announce-hostname, checked as Redis's isValidAnnouncedHostname ("" = none)."""
    if len(text) >= 256:
        raise SettingError("Hostnames must be less than 256 characters")
    if not _HOSTNAME_CHARS.issuperset(text):
        raise SettingError("Hostnames may only contain alphanumeric characters, "
                           "hyphens or dots")
    return text


# client-output-buffer-limit: class -> (hard bytes, soft bytes, soft seconds); 0 = none.
OBUF_CLASSES = ("normal", "slave", "pubsub")
_OBUF_CLASS_NAMES = {"normal": "normal", "slave": "slave", "replica": "slave",
                     "pubsub": "pubsub"}
OBUF_DEFAULTS = {"normal": (0, 0, 0), "slave": (256 * 1024 ** 2, 64 * 1024 ** 2, 60),
                 "pubsub": (32 * 1024 ** 2, 8 * 1024 ** 2, 60)}


def parse_output_buffer_limits(text: str) -> dict:
    """'<class> <hard> <soft> <soft_seconds> ...' -> the classes given (Redis's
    setConfigClientOutputBufferLimitOption: the whole value is checked before any of it
    applies; classes not named keep their limits)."""
    try:
        words = [w.decode() for w in split_args(text.encode())]
    except (ValueError, UnicodeDecodeError):
        raise SettingError("Wrong number of arguments in buffer limit configuration.")
    if len(words) % 4:
        raise SettingError("Wrong number of arguments in buffer limit configuration.")
    limits = {}
    for i in range(0, len(words), 4):
        klass = _OBUF_CLASS_NAMES.get(words[i].lower())
        if klass is None:           # "master" too: Redis refuses a limit for it
            raise SettingError("Invalid client class specified in buffer limit "
                               "configuration.")
        try:
            hard, soft = parse_memory(words[i + 1]), parse_memory(words[i + 2])
            seconds = int(words[i + 3], 10)
        except (SettingError, ValueError):
            seconds = -1
        if seconds < 0:
            raise SettingError("Error in hard, soft or soft_seconds setting in buffer "
                               "limit configuration.")
        limits[klass] = (hard, soft, seconds)
    return limits


_MAX_LL = 2 ** 63 - 1
_MAX_U32 = 2 ** 32 - 1

SETTINGS = {s.name: s for s in [
    Setting("port", "int", 6379, 0, 65535, mutable=False, doc="client port"),
    Setting("bind", "bind", "127.0.0.1", mutable=False,
            doc="addresses to listen on, space separated ('-' prefix: optional)"),
    Setting("dir", "string", ".", mutable=False, doc="working directory"),
    Setting("cluster-config-file", "string", None, mutable=False,
            doc="nodes.conf path (default nodes-<port>.conf in dir)"),
    Setting("cluster-node-timeout", "int", 15000, 0, _MAX_LL,
            doc="ms without a pong before a node is PFAIL"),
    Setting("cluster-enabled", "bool", True, mutable=False),
    Setting("cluster-port", "int", 0, 0, 65535, mutable=False),
    Setting("cluster-announce-ip", "string", ""),
    # Behind NAT or in a container: what peers and clients are told (cluster/config.py).
    Setting("cluster-announce-port", "int", 0, 0, 65535, doc="0: port"),
    Setting("cluster-announce-bus-port", "int", 0, 0, 65535, doc="0: the bus port"),
    Setting("cluster-announce-hostname", "hostname", ""),
    Setting("cluster-preferred-endpoint-type", "enum", "ip",
            choices=("ip", "hostname", "unknown-endpoint")),
    # Ours: the HMAC key of the bus (cluster/bus_auth.py); "" = none. CONFIG GET shows
    # it, as Redis 7.0 shows requirepass and masterauth.
    Setting("cluster-bus-secret", "string", "", doc="sign and check every bus frame"),
    Setting("cluster-require-full-coverage", "bool", True),
    Setting("cluster-allow-reads-when-down", "bool", False),
    Setting("cluster-allow-pubsubshard-when-down", "bool", True),
    Setting("cluster-replica-validity-factor", "int", 10, 0, 2 ** 31 - 1),
    Setting("cluster-migration-barrier", "int", 1, 0, 2 ** 31 - 1),
    Setting("cluster-allow-replica-migration", "bool", True),
    Setting("cluster-replica-no-failover", "bool", False),
    Setting("cluster-link-sendbuf-limit", "memory", 0, 0, _MAX_LL),
    Setting("loglevel", "enum", "notice",
            choices=("debug", "verbose", "notice", "warning")),
    Setting("logfile", "string", "", mutable=False, doc="log file ('' = stderr only)"),
    Setting("requirepass", "string", "", doc="password clients must AUTH with"),
    Setting("maxclients", "int", 10000, 1, _MAX_U32),
    Setting("proto-max-bulk-len", "memory", 512 * 1024 ** 2, 1024 ** 2, _MAX_LL),
    Setting("client-query-buffer-limit", "memory", 1024 ** 3, 1024 ** 2, _MAX_LL),
    Setting("timeout", "int", 0, 0, 2 ** 31 - 1),
    Setting("tracking-table-max-keys", "int", 1000000, 0, _MAX_LL),
    Setting("tcp-keepalive", "int", 300, 0, 2 ** 31 - 1),
    Setting("databases", "int", 16, 1, 2 ** 31 - 1, mutable=False),
    # Persistence (commands/persistence). save: Redis 7.0's built-in schedule.
    Setting("save", "save", "3600 1 300 100 60 10000"),
    Setting("dbfilename", "filename", "dump.rdb", doc="RDB file name in dir"),
    Setting("rdbcompression", "bool", True),
    Setting("rdbchecksum", "bool", True),
    Setting("rdb-del-sync-files", "bool", False),
    Setting("rdb-key-save-delay", "int", 0, -2 ** 31, 2 ** 31 - 1,
            doc="microseconds a background save sleeps per key (tests)"),
    Setting("key-load-delay", "int", 0, -2 ** 31, 2 ** 31 - 1,
            doc="microseconds loading waits per key (tests)"),
    Setting("stop-writes-on-bgsave-error", "bool", True),
    Setting("appendonly", "bool", False),
    Setting("appendfilename", "filename", "appendonly.aof", mutable=False),
    Setting("appenddirname", "string", "appendonlydir", mutable=False),
    Setting("appendfsync", "enum", "everysec", choices=("always", "everysec", "no")),
    Setting("no-appendfsync-on-rewrite", "bool", False),
    Setting("auto-aof-rewrite-percentage", "int", 100, 0, 2 ** 31 - 1),
    Setting("auto-aof-rewrite-min-size", "memory", 64 * 1024 ** 2, 0, _MAX_LL),
    Setting("aof-load-truncated", "bool", True),
    Setting("aof-use-rdb-preamble", "bool", True),
    Setting("aof-rewrite-incremental-fsync", "bool", True),
    Setting("rdb-save-incremental-fsync", "bool", True),
    # Replication (commands/replication).
    Setting("masterauth", "string", "", doc="password a replica sends its master"),
    Setting("masteruser", "string", "", doc="user a replica authenticates as"),
    Setting("repl-diskless-sync", "bool", True),
    Setting("repl-diskless-sync-delay", "int", 5, 0, 2 ** 31 - 1),
    Setting("repl-diskless-sync-max-replicas", "int", 0, 0, 2 ** 31 - 1),
    Setting("repl-diskless-load", "enum", "disabled",
            choices=("disabled", "on-empty-db", "swapdb")),
    Setting("repl-timeout", "int", 60, 1, 2 ** 31 - 1),
    Setting("maxmemory", "memory", 0, 0, _MAX_LL),
    Setting("maxmemory-policy", "enum", "noeviction",
            choices=("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                     "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")),
    Setting("hz", "int", 10, 0, 2 ** 31 - 1, clamp=(1, 500)),
    Setting("daemonize", "bool", False, mutable=False),
    Setting("repl-ping-replica-period", "int", 10, 1, 2 ** 31 - 1),
    Setting("repl-backlog-size", "memory", 1024 ** 2, 1, _MAX_LL),
    # Collection encodings (hashes.py, sets.py). Redis 7.0's built-in defaults: its
    # redis.conf sets 128 hash entries, but a server started without one uses 512.
    Setting("hash-max-listpack-entries", "int", 512, 0, _MAX_LL),
    Setting("hash-max-listpack-value", "int", 64, 0, _MAX_LL),
    Setting("set-max-intset-entries", "int", 512, 0, _MAX_LL),
    Setting("hll-sparse-max-bytes", "memory", 3000, 0, _MAX_LL),   # commands/data/hyperloglog.py
    # Stream nodes (commands/streams/stream_type.py): when XADD starts a new node.
    Setting("stream-node-max-bytes", "memory", 4096, 0, _MAX_LL),
    Setting("stream-node-max-entries", "int", 100, 0, _MAX_LL),
    Setting("client-output-buffer-limit", "obuf", OBUF_DEFAULTS,
            doc="per client class: hard limit, soft limit, soft seconds"),
    # Keyspace notifications (commands/data/notifications.py): the classes as flags.
    Setting("notify-keyspace-events", "keyspace-events", 0,
            doc="classes of keyspace events published (letters of Ag$lshzxeKEtmdn)"),
]}


class _Values(dict):
    """name -> value, mirrored as a plain attribute of the Settings ('-' spelled '_'), so
    `settings.requirepass` on a hot path is an ordinary attribute read, not a
    __getattr__ fallback (which costs about 1 us)."""

    def __init__(self, owner, initial):
        super().__init__()
        self._owner = owner
        for name, value in initial.items():
            self[name] = value

    def __setitem__(self, name, value):
        super().__setitem__(name, value)
        setattr(self._owner, name.replace("-", "_"), value)


class Settings:
    """Current values, readable as attributes with '-' spelled '_' (settings.maxclients)."""

    def __init__(self):
        self.config_file = None     # the file given at start-up, for CONFIG REWRITE
        self.listeners = []         # fn(name, value) after a successful CONFIG SET
        self.values = _Values(self, {name: s.default for name, s in SETTINGS.items()})

    def set(self, name: str, text: str, at_startup: bool = False) -> None:
        """Parse and store one directive; SettingError for an unknown name or bad value."""
        setting = SETTINGS.get(name.lower())
        if setting is None:
            raise SettingError("Bad directive or wrong number of arguments")
        if not setting.mutable and not at_startup:
            raise SettingError("can't set immutable config")
        value = setting.parse(text)
        if setting.kind == "obuf":          # only the classes given change
            value = {**self.values[setting.name], **value}
        self.values[setting.name] = value
        if not at_startup:
            for listener in self.listeners:
                listener(setting.name, self.values[setting.name])

    def get_matching(self, pattern: str) -> dict:
        """CONFIG GET: every setting whose name matches the glob pattern."""
        pattern = pattern.lower()
        return {name: SETTINGS[name].format(value)
                for name, value in self.values.items()
                if fnmatch.fnmatchcase(name, pattern)}

    def cluster_config_path(self) -> str:
        path = self.values["cluster-config-file"] or "nodes-%d.conf" % self.values["port"]
        return os.path.join(self.values["dir"], path)

    def rewrite(self) -> None:
        """CONFIG REWRITE: rewrite the start-up file with the current non-default values."""
        if not self.config_file:
            raise SettingError("The server is running without a config file")
        lines = []
        with open(self.config_file) as f:
            original = f.read().splitlines()
        written = set()
        for line in original:
            words = line.split(None, 1)
            name = words[0].lower() if words and not line.lstrip().startswith("#") else None
            if name in SETTINGS:
                if name not in written:
                    lines.append(self._line(name))
                    written.add(name)
                continue
            lines.append(line)
        for name, value in self.values.items():
            if name not in written and value != SETTINGS[name].default:
                lines.append(self._line(name))
        tmp = self.config_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.config_file)

    def _line(self, name: str) -> str:
        text = SETTINGS[name].format(self.values[name])
        return '%s "%s"' % (name, text) if (not text or " " in text) else "%s %s" % (name, text)


def parse_config_file(path: str) -> list:
    """(line number, name, value) for each directive of a redis.conf-style file."""
    directives = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith(b"#"):
                continue
            try:
                words = split_args(line)
            except ValueError:
                raise SettingError("line %d: unbalanced quotes" % number)
            if len(words) < 2:
                if len(words) == 1 and words[0].lower() == b"save":
                    words.append(b"")
                else:
                    raise SettingError("line %d: '%s': wrong number of arguments"
                                       % (number, line.decode(errors="replace")))
            directives.append((number, words[0].decode(), b" ".join(words[1:]).decode()))
    return directives
