"""--loglevel and the state machine's log lines use one table of Redis levels."""
import sys
from types import SimpleNamespace

from loguru import logger

from cluster import logging_levels
from cluster.bus import ClusterBus


def test_loglevel_verbose_shows_the_state_machines_verbose_lines(tmp_path):
    logfile = tmp_path / "node.log"
    settings = SimpleNamespace(loglevel="verbose", logfile=str(logfile))
    try:
        logging_levels.setup_logging(settings, "7000")
        for level in ("debug", "verbose", "notice", "warning"):
            ClusterBus._loguru(level, f"a {level} line")   # how Log effects reach loguru
    finally:
        logger.remove()
        logger.add(sys.stderr)
    text = logfile.read_text()
    assert "a debug line" not in text
    for level in ("verbose", "notice", "warning"):
        assert f"a {level} line" in text
    assert "VERBOSE a verbose line" in text
