"""Redis's log levels (debug, verbose, notice, warning) as loguru levels: the one table,
and the process's log sinks in Redis's line format.

The state machine tags its log lines with Redis's level names (cluster.effects.Log);
node.py sets the sinks from ``--loglevel`` with setup_logging. Both read this table, so
a line logged at ``verbose`` is shown exactly when ``--loglevel verbose`` (or debug) is
set.
"""
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
