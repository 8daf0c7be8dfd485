"""Redis's log levels (debug, verbose, notice, warning) as loguru levels: the one table,
and the process's log sinks in Redis's line format.

The state machine tags its log lines with Redis's level names (cluster.effects.Log);
node.py sets the sinks from ``--loglevel`` with setup_logging. Both read this table, so
a line logged at ``verbose`` is shown exactly when ``--loglevel verbose`` (or debug) is
set.
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

# syslog-enabled: where the local syslog daemon listens (a test points it elsewhere),
# and Redis's level map (debug, verbose -> info, notice, warning).
SYSLOG_ADDRESS = "/dev/log"
_SYSLOG_PRIORITY = {"DEBUG": "debug", VERBOSE: "info", "INFO": "notice",
                    "WARNING": "warning", "ERROR": "err", "CRITICAL": "crit"}


def setup_logging(settings, tag: str) -> None:
    """stderr (and --logfile) at --loglevel, lines shaped like Redis's
    '<pid>:M <date> <time> ...'."""
    logger.remove()
    fmt = ("%d:M {time:DD MMM YYYY HH:mm:ss.SSS} %s {level: <7} {message}"
           % (os.getpid(), tag))
    level = LOG_LEVELS[settings.loglevel]
    logger.add(sys.stderr, format=fmt, level=level, backtrace=False, diagnose=False)
    if settings.logfile:
        logger.add(settings.logfile, format=fmt, level=level, backtrace=False,
                   diagnose=False)
    if getattr(settings, "syslog_enabled", False):
        logger.add(_syslog_sink(settings.syslog_ident, settings.syslog_facility),
                   format="{message}", level=level, backtrace=False, diagnose=False)


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
