"""Background children: a forked process writes a point-in-time snapshot, as Redis does.

BGSAVE, BGREWRITEAOF and the RDB a replica's full sync needs are written by a child
process made with fork(). The child sees the dataset exactly as it was at the fork --
the kernel copies a page only when one side writes it -- and writes it out with plain
blocking I/O, while the parent keeps serving clients. This is what Redis does, and the
reason we do it too: any in-process alternative (serializing a slot at a time between
client commands) either blocks the node or is not a snapshot of one instant.

Python's cost: a child that walks every object touches every reference count, so the
pages holding the objects it reads get copied (measured in scripts/bench_persistence.py:
RSS during BGSAVE). Two things keep that down: gc.freeze() before the fork moves every
object to the permanent generation, so the child's collector (disabled anyway) and the
parent's never walk -- and dirty -- the old objects; and the child never allocates much
beyond its write buffer.

Only one child runs at a time (Redis's hasActiveChildProcess): a BGSAVE asked for while
an AOF rewrite runs is refused or scheduled, and so on. The server cron calls reap()
every 100 ms; the child's exit status says whether its work succeeded.

In the child: only the work function runs, at a lower CPU priority (niceness 10) than
the parent, so clients do not wait behind the snapshot on a busy machine. No greenlet is ever switched to (the work is
plain blocking code), signals are back to their defaults so the parent can stop it with
SIGUSR1 (as Redis kills its children), and os._exit() ends it without running the
parent's cleanup (atexit, buffered files, the gevent hub).
"""
import gc
import os
import signal
import sys
import time
import traceback

from loguru import logger

CHILD_RDB = "rdb"                    # BGSAVE, full-sync RDB
CHILD_AOF = "aof"                    # BGREWRITEAOF

KILL_SIGNAL = signal.SIGUSR1         # Redis kills its children with SIGUSR1: no error
CHILD_NICENESS = 10                  # the child yields the CPU to the serving parent


class ChildBusy(Exception):
    """Another child is running."""


class Child:
    __slots__ = ("pid", "kind", "purpose", "started", "on_done", "killed", "report_fd")

    def __init__(self, pid, kind, purpose, on_done, report_fd):
        self.pid = pid
        self.kind = kind
        self.purpose = purpose
        self.started = time.monotonic()
        self.on_done = on_done          # fn(ok: bool, killed: bool)
        self.killed = False
        self.report_fd = report_fd      # the child writes its copy-on-write size here


class Children:
    """The node's background child (at most one)."""

    def __init__(self):
        self.active = None
        # fn() -> file descriptors the child closes first: the listening sockets, so a
        # node that exits while its child still writes frees its ports at once (Redis's
        # closeChildUnusedResourceAfterFork). node.py sets it.
        self.fds_to_close = lambda: ()
        self.last_fork_usec = 0           # INFO latest_fork_usec
        self.latency = None               # the latency monitor ("fork" event); node.py
        self.total_forks = 0              # INFO total_forks
        self.last_cow_size = {}           # kind -> bytes the last child of it copied
        # kind -> CPUs its children run on (bgsave_cpulist, aof_rewrite_cpulist); node.py
        self.cpu_affinity = {}

    def busy(self) -> bool:
        return self.active is not None

    def start(self, kind: str, purpose: str, work, on_done) -> int:
        """Fork; the child runs work() -> bool and exits 0 on True. on_done(ok, killed)
        runs in the parent once the child has been reaped; killed is True when kill()
        stopped it on purpose (not a failure to report). Raises ChildBusy, OSError."""
        if self.active is not None:
            raise ChildBusy(self.active.kind)
        began = time.perf_counter()
        report_read, report_write = os.pipe()
        gc.freeze()
        try:
            pid = os.fork()
        except OSError:
            gc.unfreeze()
            os.close(report_read)
            os.close(report_write)
            raise
        if pid == 0:
            # The child: nothing here may return into the parent's code (it would go on
            # serving as a second node), so everything runs under os._exit.
            try:
                os.close(report_read)
                for fd in self.fds_to_close():
                    os.close(fd)
                if kind in self.cpu_affinity:
                    try:
                        os.sched_setaffinity(0, self.cpu_affinity[kind])
                    except OSError:
                        pass                # CPUs this host lacks: run where we are
            except BaseException:       # noqa: BLE001
                os._exit(1)
            _run_child(work, report_write, kind.upper())     # never returns
        gc.unfreeze()
        os.close(report_write)
        self.last_fork_usec = int((time.perf_counter() - began) * 1e6)
        self.total_forks += 1
        if self.latency is not None:
            self.latency.add_sample_if_needed("fork", self.last_fork_usec // 1000)
        self.active = Child(pid, kind, purpose, on_done, report_read)
        return pid

    def reap(self) -> None:
        """From the server cron: if the child has exited, collect it and report."""
        child = self.active
        if child is None:
            return
        try:
            pid, status = os.waitpid(child.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = child.pid, 1 << 8          # gone without a status: failed
        if pid == 0:
            return
        self.active = None
        self._collect_report(child)
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if os.WIFSIGNALED(status):
            # Redis's words: "Background saving / AOF rewrite / transfer terminated..."
            what = {"BGSAVE": "saving", "AOF rewrite": "AOF rewrite"}.get(child.purpose,
                                                                          "transfer")
            logger.warning("Background {} terminated by signal {}", what,
                           os.WTERMSIG(status))
        child.on_done(ok, False)

    def kill(self) -> None:
        """Stop the child now and wait for it (SHUTDOWN, FLUSHALL, a newer sync...);
        its on_done still runs, with ok False."""
        child = self.active
        if child is None:
            return
        child.killed = True
        try:
            os.kill(child.pid, KILL_SIGNAL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(child.pid, 0)
        except ChildProcessError:
            pass
        self.active = None
        os.close(child.report_fd)
        child.on_done(False, True)

    def _collect_report(self, child) -> None:
        try:
            text = os.read(child.report_fd, 64)
        except OSError:
            text = b""
        finally:
            os.close(child.report_fd)
        if text.strip().isdigit():
            self.last_cow_size[child.kind] = int(text)


def private_dirty_bytes() -> int:
    """This process's pages written since the fork (copy-on-write), from /proc: what
    Redis reports as the child's CoW size; 0 where /proc does not say."""
    try:
        with open("/proc/self/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _run_child(work, report_fd, kind_name: str) -> None:
    status = 1
    try:
        for number in (signal.SIGTERM, signal.SIGINT, KILL_SIGNAL):
            signal.signal(number, signal.SIG_DFL)
        # The parent serves clients on one thread; when the machine's cores are busy,
        # the kernel should run it before the snapshot writer.
        os.nice(CHILD_NICENESS)
        gc.disable()
        status = 0 if work() else 1
        cow = private_dirty_bytes()
        # Redis's child reports its copy-on-write at exit, from the child (role C).
        logger.info("Fork CoW for {}: current {} MB, peak {} MB, average {} MB", kind_name,
                    cow >> 20, cow >> 20, cow >> 20)
        os.write(report_fd, b"%d" % cow)
    except BaseException:             # noqa: BLE001 - report, then exit non-zero
        try:
            traceback.print_exc(file=sys.stderr)
        except Exception:             # noqa: BLE001
            pass
    finally:
        os._exit(status)
