"""node.py's command line: a redis.conf-style file first, then `--name value...` flags,
read as redis-server reads them (commands/server/settings.py parses each directive)."""
import glob
import os
import sys

from cluster.logging_levels import check_logfile
from commands.server.info import REDIS_VERSION
from commands.server.resp import split_args
from commands.server.settings import SettingError, Settings

USAGE = """usage: python node.py [/path/to/node.conf] [options]
       python node.py -v or --version

Options are redis.conf directives as flags (command-line flags win over the file):
  -p, --port N                      client port (default 6379; cluster bus on N+10000)
  --bind ADDR [ADDR ...]            addresses to listen on (default 127.0.0.1)
  --dir PATH                        working directory for nodes.conf (default .)
  --cluster-config-file FILE        default nodes-<port>.conf in --dir
  --cluster-node-timeout MS         default 15000
  --loglevel debug|verbose|notice|warning
  --logfile FILE                    log to FILE instead of stdout
  --requirepass PASSWORD
  --maxclients N
  --proto-max-bulk-len BYTES        e.g. 512mb
  --client-query-buffer-limit BYTES e.g. 1gb
Every directive of Redis 7.0 that CONFIG GET lists is accepted too; a multi-word
value takes the words up to the next option (--save 60 1 300 10). The file may
`include` others (a path or a glob)."""


class UsageError(Exception):
    """A node that cannot start (a port taken, a corrupt nodes.conf...): node.py logs it
    as a warning line, as redis-server logs these, and exits 1."""


class ConfigError(UsageError):
    """A configuration line (of the file, an included file, or a command-line option)
    that Redis's loadServerConfigFromString would refuse: node.py prints Redis's
    FATAL CONFIG FILE ERROR block to stderr and exits 1."""

    def __init__(self, reason: str, number: int = None, line: str = None):
        super().__init__(reason)
        self.reason, self.number, self.line = reason, number, line

    def block(self) -> str:
        text = "\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\n" % REDIS_VERSION
        if self.number is not None:
            text += "Reading the configuration file, at line %d\n>>> '%s'\n" \
                % (self.number, self.line)
        return text + self.reason


def version_line() -> str:
    """`node.py --version`, in redis-server's shape (the sha, dirty flag and build id are
    the zeros INFO server shows; the allocator is INFO's mem_allocator)."""
    return "Redis server v=%s sha=00000000:0 malloc=pymalloc bits=%d build=0" \
        % (REDIS_VERSION, 64 if sys.maxsize > 2 ** 32 else 32)


def parse_arguments(args) -> Settings:
    """A config file (first argument), then `--name value...` flags as redis-server
    reads them: every word up to the next `--` option is a value of this one (`--bind
    127.0.0.1 ::1`, `--save 60 1 300 10`); flags win over the file."""
    if args and args[0] in ("-v", "--version"):
        print(version_line())
        sys.exit(0)
    settings = Settings()
    # Redis appends the options to the file's text and parses the whole: the first
    # option's line number follows the file's lines (and an empty line between).
    option_line = 1
    if args and not args[0].startswith("-"):
        path = args.pop(0)
        option_line = _load_config_file(settings, path) + 1
        settings.config_file = os.path.abspath(path)
    while args:
        flag = args.pop(0)
        if flag in ("-h", "--help"):
            print(USAGE)
            sys.exit(0)
        words = []
        while args and not args[0].startswith("--") and args[0] != "-p":
            words.append(args.pop(0))
        option_line += 1
        name = "port" if flag == "-p" else flag[2:] if flag.startswith("--") else flag
        try:
            settings.set_words(name, words)
        except SettingError as exc:
            shown = " ".join([name, *(_quoted(w) for w in words)])
            raise ConfigError(str(exc), option_line, shown)
    if settings.logfile:
        # As Redis, a log file that cannot be opened stops the start (no line shown).
        reason = check_logfile(settings.logfile)
        if reason:
            raise ConfigError(reason)
    if not settings.bind.split():
        # Redis then listens on no TCP port; a cluster node needs one for its bus.
        raise UsageError("No bind address is configured, but it is required for the "
                         "Cluster bus.")
    if not os.path.isdir(settings.dir):
        raise UsageError("can't chdir to '%s': No such file or directory" % settings.dir)
    # CONFIG GET shows what is in use: the directory as an absolute path (Redis shows its
    # working directory) and the nodes.conf name picked from the port.
    settings.values["dir"] = os.path.abspath(settings.dir)
    if settings.cluster_config_file is None:
        settings.values["cluster-config-file"] = "nodes-%d.conf" % settings.port
    if settings.port > 55535 and not settings.cluster_port:
        raise UsageError("Redis port number too high. Cluster communication port is "
                         "10,000 port numbers higher than your Redis port. Your Redis "
                         "port number must be 55535 or less.")
    return settings


# An include nested deeper than this is a loop (Redis would recurse until it crashes).
MAX_INCLUDE_DEPTH = 32


def _load_config_file(settings: Settings, path: str, depth: int = 0) -> int:
    """Apply a redis.conf-style file line by line, as Redis's loadServerConfigFromString:
    `include` loads another file (or every file a glob pattern matches, none being
    fine) at that point. Returns the number of newlines in the file (for the line
    numbers of the command-line options that follow it)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError("Fatal error, can't open config file '%s': %s"
                         % (path, exc.strerror or exc))
    for number, raw in enumerate(data.split(b"\n"), 1):
        line = raw.strip(b" \t\r\n")
        if not line or line.startswith(b"#"):
            continue
        shown = line.decode("utf-8", "surrogateescape")
        try:
            words = [w.decode("utf-8", "surrogateescape") for w in split_args(line)]
        except ValueError:
            raise ConfigError("Unbalanced quotes in configuration line", number, shown)
        if not words:
            continue
        if words[0].lower() == "user" and len(words) >= 2:
            # ACL users: node.py checks and loads them (commands/security).
            settings.config_users.append((number, words[1:]))
            continue
        if words[0].lower() == "include" and len(words) == 2:
            if depth >= MAX_INCLUDE_DEPTH:
                raise ConfigError("include nested too deeply (a loop?)", number, shown)
            for included in _included_files(words[1]):
                _load_config_file(settings, included, depth + 1)
            continue
        try:
            settings.set_words(words[0], words[1:])
        except SettingError as exc:
            raise ConfigError(str(exc), number, shown)
    return data.count(b"\n")


def _included_files(pattern: str) -> list:
    """`include PATH`: that file (which must exist), or with a wildcard every match in
    glob order (none is no error: an empty conf.d is fine), as Redis."""
    if any(c in pattern for c in "*?["):
        return sorted(glob.glob(pattern))
    return [pattern]


def _quoted(word: str) -> str:
    """An option's argument as Redis shows it in the error block (sdscatrepr)."""
    out = []
    for ch in word.encode("utf-8", "surrogateescape"):
        c = chr(ch)
        if c in "\\\"":
            out.append("\\" + c)
        elif c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif 32 <= ch < 127:
            out.append(c)
        else:
            out.append("\\x%02x" % ch)
    return '"%s"' % "".join(out)


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\a": "\\a", "\b": "\\b"}
