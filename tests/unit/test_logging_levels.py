"""--loglevel and the state machine's log lines use one table of Redis levels; every
line has redis-server's shape (pid:role date time.ms level-char message)."""
import os
import re
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
        logging_levels.setup_logging(settings)
        for level in ("debug", "verbose", "notice", "warning"):
            ClusterBus._loguru(level, f"a {level} line")   # how Log effects reach loguru
    finally:
        logger.remove()
        logger.add(sys.stderr)
    text = logfile.read_text()
    assert "a debug line" not in text
    for level in ("verbose", "notice", "warning"):
        assert f"a {level} line" in text
    lines = text.splitlines()
    assert len(lines) == 3
    for line, char in zip(lines, "-*#"):
        # Before node.py names the role, lines carry C, as redis-server's first lines.
        assert re.fullmatch(r"%d:C \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} %s a \w+ line"
                            % (os.getpid(), re.escape(char)), line), line


def test_role_letter_follows_the_role_source(tmp_path):
    logfile = tmp_path / "node.log"
    role = ["M"]
    try:
        logging_levels.setup_logging(SimpleNamespace(loglevel="notice", logfile=str(logfile)))
        logging_levels.set_role_source(lambda: role[0])
        logger.info("as a master")
        role[0] = "S"
        logger.warning("as a replica")
    finally:
        logging_levels.set_role_source(lambda: "C")
        logging_levels._Role.main_pid = None
        logger.remove()
        logger.add(sys.stderr)
    first, second = logfile.read_text().splitlines()
    assert first.startswith("%d:M " % os.getpid()) and first.endswith(" * as a master")
    assert second.startswith("%d:S " % os.getpid()) and second.endswith(" # as a replica")


def test_syslog_enabled_sends_redis_style_lines(tmp_path, monkeypatch):
    address = str(tmp_path / "log")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(address)
    receiver.settimeout(5)
    monkeypatch.setattr(logging_levels, "SYSLOG_ADDRESS", address)
    settings = SimpleNamespace(loglevel="notice", logfile="", syslog_enabled=True,
                               syslog_ident="mynode", syslog_facility="local3")
    try:
        logging_levels.setup_logging(settings)
        logger.warning("disk is full")
        logger.info("ready")
    finally:
        logger.remove()
        logger.add(sys.stderr)
    # local3 is facility 19: priority = 19 * 8 + severity (warning 4, notice 5).
    assert receiver.recv(200) == b"<156>mynode[%d]: disk is full" % os.getpid()
    assert receiver.recv(200) == b"<157>mynode[%d]: ready" % os.getpid()
    receiver.close()
