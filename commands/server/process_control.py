"""The process-level directives, as redis-server applies them at start-up and exit:
daemonize, supervised (systemd / upstart), pidfile and crash-log-enabled."""
import faulthandler
import os
import signal
import socket

from loguru import logger

DEFAULT_PIDFILE = "/var/run/redis.pid"     # a daemon without a pidfile writes this one


def supervision_mode(mode: str) -> str:
    """Redis's redisIsSupervised: 'systemd', 'upstart' or '' (not supervised). `auto`
    looks at the environment; a mode whose environment variable is missing is logged
    and ignored."""
    if mode == "auto":
        if "UPSTART_JOB" in os.environ:
            mode = "upstart"
        elif "NOTIFY_SOCKET" in os.environ:
            mode = "systemd"
    if mode == "upstart":
        if "UPSTART_JOB" not in os.environ:
            logger.warning("upstart supervision requested, but UPSTART_JOB not found!")
            return ""
        del os.environ["UPSTART_JOB"]
        return "upstart"
    if mode == "systemd":
        if "NOTIFY_SOCKET" not in os.environ:
            logger.warning("systemd supervision requested or auto-detected, but "
                           "NOTIFY_SOCKET not found!")
            return ""
        return "systemd"
    return ""


def daemonize() -> None:
    """Redis's daemonize(): the parent exits 0, the child leaves the terminal's session
    and writes nothing to it (stdin, stdout and stderr go to /dev/null)."""
    if os.fork() != 0:
        os._exit(0)
    os.setsid()
    fd = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(fd, std)
    if fd > 2:
        os.close(fd)


def notify_supervisor(mode: str, message: str) -> None:
    """Tell systemd (sd_notify over NOTIFY_SOCKET: READY=1, STOPPING=1, STATUS=...);
    under upstart, READY stops the process (SIGSTOP) as upstart's `expect stop` waits
    for."""
    if mode == "upstart":
        if message.startswith("READY"):
            os.kill(os.getpid(), signal.SIGSTOP)
        return
    if mode != "systemd":
        return
    address = os.environ.get("NOTIFY_SOCKET", "")
    if address.startswith("@"):
        address = "\0" + address[1:]          # an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), address)
    except OSError as exc:
        logger.warning("Can't send notification to systemd: {}", exc)


def write_pidfile(path: str) -> None:
    """pidfile: written at start-up, removed at exit; failing to write it is logged."""
    try:
        with open(path, "w") as f:
            f.write("%d\n" % os.getpid())
    except OSError as exc:
        logger.warning("Failed to write PID file: {}", exc.strerror or exc)


def remove_pidfile(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def set_crash_log(enabled: bool) -> None:
    """crash-log-enabled: a fatal signal (SIGSEGV in a C extension, SIGABRT...) prints
    every thread's Python stack to stderr before the process dies."""
    if enabled:
        faulthandler.enable()
    else:
        faulthandler.disable()
