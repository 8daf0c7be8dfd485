"""--loglevel and the state machine's log lines use one table of Redis levels."""
import os
import socket
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


def test_syslog_enabled_sends_redis_style_lines(tmp_path, monkeypatch):
    address = str(tmp_path / "log")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(address)
    receiver.settimeout(5)
    monkeypatch.setattr(logging_levels, "SYSLOG_ADDRESS", address)
    settings = SimpleNamespace(loglevel="notice", logfile="", syslog_enabled=True,
                               syslog_ident="mynode", syslog_facility="local3")
    try:
        logging_levels.setup_logging(settings, "7000")
        logger.warning("disk is full")
        logger.info("ready")
    finally:
        logger.remove()
        logger.add(sys.stderr)
    # local3 is facility 19: priority = 19 * 8 + severity (warning 4, notice 5).
    assert receiver.recv(200) == b"<156>mynode[%d]: disk is full" % os.getpid()
    assert receiver.recv(200) == b"<157>mynode[%d]: ready" % os.getpid()
    receiver.close()
