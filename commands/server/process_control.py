"""The process-level directives, as redis-server applies them at start-up and exit:
daemonize, supervised (systemd / upstart), pidfile, crash-log-enabled and the CPU
affinity lists (server_cpulist here; bgsave_cpulist / aof_rewrite_cpulist in the forked
children, commands/persistence/background.py)."""
import faulthandler
import os
import re
import signal
import socket
import sys

from loguru import logger

from commands.server.info import REDIS_VERSION

DEFAULT_PIDFILE = "/var/run/redis.pid"     # a daemon without a pidfile writes this one


def log_start_up(config_given: bool) -> None:
    """redis-server's first lines, at warning level so every loglevel shows them."""
    logger.warning("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
    logger.warning("Redis version={}, bits={}, commit=00000000, modified=0, pid={}, just "
                   "started", REDIS_VERSION, 64 if sys.maxsize > 2 ** 32 else 32,
                   os.getpid())
    if config_given:
        logger.warning("Configuration loaded")
    else:
        logger.warning("Warning: no config file specified, using the default config. In "
                       "order to specify a config file use node.py /path/to/redis.conf")


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


def arm_watchdog(period_ms: int, hz: int) -> None:
    """watchdog-period, Redis's software watchdog: called every cron tick, it re-arms a
    timer; if the event loop is blocked longer than the period (at least two ticks, as
    Redis enforces), every thread's stack is written to stderr. 0 disarms it."""
    if period_ms:
        faulthandler.dump_traceback_later(max(period_ms, 2000 // hz) / 1000.0)
    else:
        faulthandler.cancel_dump_traceback_later()


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


_CPU_RANGE = re.compile(r"(\d+)(?:-(\d+)(?::(\d+))?)?")


def parse_cpulist(text: str):
    """A cpulist as Redis's setcpuaffinity reads it: '0,2,4-7,8-15:2' (a range with a
    step) -> the set of CPUs; None when malformed (Redis then leaves the affinity)."""
    cpus = set()
    for item in text.split(","):
        match = _CPU_RANGE.fullmatch(item)
        if match is None:
            return None
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        step = int(match.group(3)) if match.group(3) else 1
        if step == 0 or first > last:
            return None
        cpus.update(range(first, last + 1, step))
    return cpus


def set_cpu_affinity(cpulist: str, what: str) -> None:
    """Pin this process (or forked child) to the CPUs of `cpulist`; a list that does
    not parse, or CPUs this host lacks, are logged and leave the affinity alone."""
    cpus = parse_cpulist(cpulist)
    try:
        if cpus is None:
            raise ValueError("malformed")
        os.sched_setaffinity(0, cpus)
    except (OSError, ValueError) as exc:
        logger.warning("Failed to set the CPU affinity of the {} to '{}': {}", what,
                       cpulist, exc)
