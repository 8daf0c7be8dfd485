"""node.py's command line: a redis.conf-style file first, then `--name value...` flags,
read as redis-server reads them (commands/server/settings.py parses each directive)."""
import os
import sys

from commands.server.config_table import DEPRECATED, lookup
from commands.server.settings import SettingError, Settings, parse_config_file

USAGE = """usage: python node.py [/path/to/node.conf] [options]

Options are redis.conf directives as flags (command-line flags win over the file):
  -p, --port N                      client port (default 6379; cluster bus on N+10000)
  --bind ADDR [ADDR ...]            addresses to listen on (default 127.0.0.1)
  --dir PATH                        working directory for nodes.conf (default .)
  --cluster-config-file FILE        default nodes-<port>.conf in --dir
  --cluster-node-timeout MS         default 15000
  --loglevel debug|verbose|notice|warning
  --logfile FILE                    log to FILE as well as stderr
  --requirepass PASSWORD
  --maxclients N
  --proto-max-bulk-len BYTES        e.g. 512mb
  --client-query-buffer-limit BYTES e.g. 1gb
Every directive of Redis 7.0 that CONFIG GET lists is accepted too; a multi-word
value takes the words up to the next option (--save 60 1 300 10)."""


class UsageError(Exception):
    """A bad option or value: node.py prints it on one line and exits 1."""


def parse_arguments(args) -> Settings:
    """A config file (first argument), then `--name value...` flags as redis-server
    reads them: every word up to the next `--` option is a value of this one (`--bind
    127.0.0.1 ::1`, `--save 60 1 300 10`); flags win over the file."""
    settings = Settings()
    if args and not args[0].startswith("-"):
        path = args.pop(0)
        try:
            directives = parse_config_file(path)
        except OSError as exc:
            raise UsageError("can't open config file '%s': %s" % (path, exc.strerror))
        except SettingError as exc:
            raise UsageError("%s %s" % (path, exc))
        for number, name, words in directives:
            if name.lower() == "user" and words:
                # ACL users: node.py checks and loads them (commands/security).
                settings.config_users.append((number, words))
                continue
            try:
                settings.set_words(name, words)
            except SettingError as exc:
                raise UsageError("%s line %d: '%s': %s"
                                 % (path, number, " ".join([name, *words]), exc))
        settings.config_file = os.path.abspath(path)
    while args:
        flag = args.pop(0)
        if flag in ("-h", "--help"):
            print(USAGE)
            sys.exit(0)
        if flag == "-p":
            name = "port"
        elif flag.startswith("--") and (lookup(flag[2:])[1] is not None
                                        or flag[2:].lower() in DEPRECATED):
            name = flag[2:]
        else:
            raise UsageError("unknown option '%s' (see --help)" % flag)
        words = []
        while args and not args[0].startswith("--") and args[0] != "-p":
            words.append(args.pop(0))
        try:
            settings.set_words(name, words)
        except SettingError as exc:
            raise UsageError("'%s': %s" % (" ".join([flag, *words]), exc))
    if not settings.bind.split():
        # Redis then listens on no TCP port; a cluster node needs one (and its bus).
        raise UsageError("bind: at least one address is needed")
    if not os.path.isdir(settings.dir):
        raise UsageError("can't chdir to '%s': No such file or directory" % settings.dir)
    # CONFIG GET shows what is in use: the directory as an absolute path (Redis shows its
    # working directory) and the nodes.conf name picked from the port.
    settings.values["dir"] = os.path.abspath(settings.dir)
    if settings.cluster_config_file is None:
        settings.values["cluster-config-file"] = "nodes-%d.conf" % settings.port
    if settings.port > 55535 and not settings.cluster_port:
        raise UsageError("port %d is too high: the cluster bus port (port + 10000) "
                         "must be below 65536" % settings.port)
    return settings
