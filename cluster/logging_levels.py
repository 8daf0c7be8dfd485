"""Redis's log levels (debug, verbose, notice, warning) as loguru levels: the one table.

The state machine tags its log lines with Redis's level names (cluster.effects.Log);
node.py sets its sinks from ``--loglevel``. Both read this table, so a line logged at
``verbose`` is shown exactly when ``--loglevel verbose`` (or debug) is set.
"""

from loguru import logger

# loguru has no level between DEBUG (10) and INFO (20); Redis's verbose sits there.
VERBOSE = "VERBOSE"
try:
    logger.level(VERBOSE, no=15)
except (TypeError, ValueError):  # already registered (a module reloaded, or a host app)
    pass

LOG_LEVELS = {"debug": "DEBUG", "verbose": VERBOSE, "notice": "INFO", "warning": "WARNING"}
