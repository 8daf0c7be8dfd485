"""The process's log: Redis's levels, Redis's line format and Redis's sinks, in one place.

Every line is shaped as redis-server's serverLogRaw writes it:

    12345:M 05 Dec 2026 10:25:46.075 * Ready to accept connections

the pid, the role letter (M master, S replica, C a forked child -- BGSAVE, AOF rewrite,
full-sync RDB), the local time with milliseconds, the level character (`.` debug,
`-` verbose, `*` notice, `#` warning) and the message. The lines go to stdout when
`logfile` is empty, else to that file only (opened for each line, as Redis does, so a
logrotate that moves the file needs no signal); `syslog-enabled` sends them to syslog too.

Redis's levels map to loguru's: debug -> DEBUG, verbose -> VERBOSE (registered here),
notice -> INFO, warning -> WARNING. The state machine tags its lines with Redis's names
(cluster.effects.Log) and the bus turns them into loguru levels with LOG_LEVELS; the
rest of the code calls loguru directly (logger.info is a notice line).
"""
import logging.handlers
import os
import sys

from loguru import logger

# loguru has no level between DEBUG (10) and INFO (20); Redis's verbose sits there.
VERBOSE = "VERBOSE"
try:
    logger.level(VERBOSE, no=15)
except (TypeError, ValueError):  # already registered (a module reloaded, or a host app)
    pass

LOG_LEVELS = {"debug": "DEBUG", "verbose": VERBOSE, "notice": "INFO", "warning": "WARNING"}

# Redis's ".-*#", one character per level; loguru's ERROR/CRITICAL (logger.exception) are
# warnings to Redis's eye.
LEVEL_CHARS = {"TRACE": ".", "DEBUG": ".", VERBOSE: "-", "INFO": "*", "SUCCESS": "*",
               "WARNING": "#", "ERROR": "#", "CRITICAL": "#"}

LINE_FORMAT = ("{extra[pid]}:{extra[role]} {time:DD MMM YYYY HH:mm:ss.SSS} "
               "{extra[level_char]} {message}")

# syslog-enabled: where the local syslog daemon listens (a test points it elsewhere),
# and Redis's level map (debug, verbose -> info, notice, warning).
SYSLOG_ADDRESS = "/dev/log"
_SYSLOG_PRIORITY = {"DEBUG": "debug", VERBOSE: "info", "INFO": "notice",
                    "WARNING": "warning", "ERROR": "err", "CRITICAL": "crit"}


class _Role:
    """Who is logging: the node's pid and a callable saying M or S (node.py sets it once
    the replication layer exists). Until then the letter is C, as in redis-server, whose
    first lines ("Redis is starting", "Configuration loaded") come before initServer
    records the server's pid."""
    main_pid = None
    of_node = staticmethod(lambda: "C")


def set_role_source(role_of_node) -> None:
    """From now on this process is the node: its lines carry role_of_node() (M or S);
    a forked child's carry C."""
    _Role.main_pid = os.getpid()
    _Role.of_node = staticmethod(role_of_node)


def _patch(record) -> None:
    pid = os.getpid()
    extra = record["extra"]
    extra["pid"] = pid
    extra["role"] = _Role.of_node() if pid == _Role.main_pid else "C"
    extra["level_char"] = LEVEL_CHARS.get(record["level"].name, "*")


logger.configure(patcher=_patch)


def setup_logging(settings) -> None:
    """The sinks at `loglevel`: stdout, or `logfile`; syslog when syslog-enabled."""
    logger.remove()
    level = LOG_LEVELS[settings.loglevel]
    if settings.logfile:
        logger.add(_append_to(settings.logfile), format=LINE_FORMAT, level=level,
                   backtrace=False, diagnose=False)
    else:
        logger.add(sys.stdout, format=LINE_FORMAT, level=level, backtrace=False,
                   diagnose=False)
    if getattr(settings, "syslog_enabled", False):
        logger.add(_syslog_sink(settings.syslog_ident, settings.syslog_facility),
                   format="{message}", level=level, backtrace=False, diagnose=False)


def check_logfile(path: str):
    """Redis's start-up test of `logfile`: None when it can be opened for appending,
    else the reason ("Can't open the log file: No such file or directory")."""
    try:
        with open(path, "a"):
            return None
    except OSError as exc:
        return "Can't open the log file: %s" % (exc.strerror or exc)


def _append_to(path: str):
    """A sink that opens `path` for each line, as Redis's serverLogRaw does: a file
    moved away by logrotate is simply created again. A file that cannot be opened
    loses the line (Redis returns silently too)."""
    def sink(message) -> None:
        try:
            with open(path, "a") as f:
                f.write(message)
        except OSError:
            pass
    return sink


def _syslog_sink(ident: str, facility: str):
    """A loguru sink that sends each line to syslog as Redis's openlog(ident, LOG_PID,
    facility) would: '<priority>ident[pid]: message'."""
    address = SYSLOG_ADDRESS if os.path.exists(SYSLOG_ADDRESS) else ("localhost", 514)
    handler = logging.handlers.SysLogHandler(
        address=address, facility=logging.handlers.SysLogHandler.facility_names[facility])
    handler.ident = "%s[%d]: " % (ident, os.getpid())
    handler.append_nul = False                  # glibc's syslog() sends none
    # The record's levelname carries the syslog priority name itself (see sink).
    handler.mapPriority = lambda name: name

    def sink(message) -> None:
        priority = _SYSLOG_PRIORITY.get(message.record["level"].name, "notice")
        handler.emit(logging.makeLogRecord({"msg": str(message).rstrip("\n"),
                                            "levelname": priority}))
    return sink
