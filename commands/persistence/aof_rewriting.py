"""Rewriting the AOF, the parent's side (Redis's rewriteAppendOnlyFileBackground and
backgroundRewriteDoneHandler): open a new incr file first, fork the child that writes
the new base (commands/persistence/aof_rewrite.py), and when it exits install that base
in a new manifest, or count the failure and back off (aofRewriteLimited).

A mixin of commands/persistence/aof.AppendOnlyFile, whose state (the file descriptor,
the manifest, the counters INFO shows) it works on; aof.py keeps the appending, the
fsync policy and turning the AOF on and off.
"""
import os
import time

import gevent
from loguru import logger

from commands.persistence import aof_manifest
from commands.persistence.aof_manifest import temp_incr_name
from commands.persistence.aof_rewrite import write_base
from commands.persistence.background import CHILD_AOF, KILL_SIGNAL, ChildBusy
from commands.persistence.durable_file import fdatasync_and_close, unlink_quietly
from commands.persistence.rdb_snapshot import library_codes

AOF_OFF = "off"
AOF_ON = "on"
AOF_WAIT_REWRITE = "wait_rewrite"

REWRITE_LIMIT_THRESHOLD = 3          # failures before automatic rewrites back off
REWRITE_LIMIT_MAX_MINUTES = 60


class AofRewriting:
    """BGREWRITEAOF and automatic rewrites, for AppendOnlyFile."""

    def rewrite_in_progress(self) -> bool:
        child = self.children.active
        return child is not None and child.kind == CHILD_AOF

    def rewrite_background(self) -> bool:
        """Open a new incr file, fork the child that writes the new base (Redis's
        rewriteAppendOnlyFileBackground). False (logged) if it could not start."""
        if self.children.busy():
            return False
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as exc:
            logger.warning("Can't open or create append-only dir {}: {}", self.folder,
                           exc.strerror or exc)
            self.last_bgrewrite_ok = False
            return False
        self.selected_db = -1         # the new incr file starts with SELECT 0
        self.flush(force=True)
        if not self._open_new_incr():
            self.last_bgrewrite_ok = False
            return False
        self.rewrites += 1
        preamble = self.settings.aof_use_rdb_preamble
        settings = self.settings
        keyspace = self.server.keyspace
        functions = library_codes(self.server)

        def work() -> bool:
            path = os.path.join(settings.dir, aof_manifest.rewrite_temp_name(os.getpid()))
            write_base(keyspace, path, rdb_preamble=preamble, functions=functions,
                       incremental_fsync=settings.aof_rewrite_incremental_fsync,
                       compress=settings.rdbcompression, checksum=settings.rdbchecksum,
                       key_delay_us=settings.rdb_key_save_delay,
                       timestamp=settings.aof_timestamp_enabled)
            logger.info("Successfully created the temporary AOF base file {}",
                        os.path.basename(path))
            return True

        try:
            pid = self.children.start(CHILD_AOF, "AOF rewrite", work, self._rewrite_done)
        except (ChildBusy, OSError) as exc:
            self.last_bgrewrite_ok = False
            logger.warning("Can't rewrite append only file in background: fork: {}", exc)
            return False
        self._rewrite_pid = pid
        self._rewrite_preamble = preamble
        self.rewrite_scheduled = False
        self.rewrite_started = time.time()
        logger.info("Background append only file rewriting started by pid {}", pid)
        return True

    def _open_new_incr(self) -> bool:
        """Redis's openNewIncrAofForAppend: a new incr file, in the manifest on disk
        before any write goes to it (or the temporary one while waiting to turn on)."""
        if self.state == AOF_OFF:
            return True
        new_manifest = None
        if self.state == AOF_WAIT_REWRITE:
            name = temp_incr_name(self.filename)
        else:
            new_manifest = self.manifest.copy()
            name = new_manifest.new_incr(self.filename).name
        try:
            fd = os.open(self._path(name), os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
        except OSError as exc:
            logger.warning("Can't open the append-only file {}: {}", name,
                           exc.strerror or exc)
            return False
        if new_manifest is not None:
            try:
                aof_manifest.persist(self.folder, self.filename, new_manifest)
            except OSError as exc:
                logger.warning("Can't persist the AOF manifest: {}", exc)
                os.close(fd)
                return False
        logger.info("Creating AOF incr file {} on background rewrite", name)
        self._retire_fd()
        self.fd = fd
        self.last_incr_size = self.last_incr_fsync_offset = 0
        if new_manifest is not None:
            self.manifest = new_manifest
        return True

    def _retire_fd(self) -> None:
        """The old incr file: what was written to it reaches the disk, then it closes.
        Redis hands this to a bio thread; we wait for it in the calling greenlet (a
        rewrite starting: rare), the event loop and other clients going on meanwhile,
        so `synced` is exact again when the new file takes over."""
        if self.fd < 0:
            return
        if self._fsync_job is not None:
            self._fsync_job.wait()
        old, target = self.fd, self.written
        self.fd = -1
        try:
            gevent.get_hub().threadpool.apply(fdatasync_and_close, (old,))
            self.synced = max(self.synced, target)
        except OSError as exc:
            logger.warning("Fail to fsync the AOF file: {}", exc)
        self.last_fsync = time.monotonic()

    def _rewrite_done(self, ok: bool, killed: bool) -> None:
        """The rewrite child exited (Redis's backgroundRewriteDoneHandler); killed: we
        stopped it on purpose (Redis's SIGUSR1), which is no failure."""
        temp_base = os.path.join(self.settings.dir,
                                 aof_manifest.rewrite_temp_name(self._rewrite_pid or 0))
        if ok:
            logger.info("Background AOF rewrite terminated with success")
            if self._install_rewrite(temp_base):
                self.last_bgrewrite_ok = True
                self.consecutive_failures = 0
                logger.info("Background AOF rewrite finished successfully")
                if self.state == AOF_WAIT_REWRITE:
                    self._set_state(AOF_ON)
            else:
                self.last_bgrewrite_ok = False
                self.consecutive_failures += 1
        elif killed:
            logger.warning("Background AOF rewrite terminated by signal {}", KILL_SIGNAL)
        else:
            self.last_bgrewrite_ok = False
            self.consecutive_failures += 1
            logger.warning("Background AOF rewrite terminated with error")
        unlink_quietly(temp_base)
        if self.state == AOF_WAIT_REWRITE:
            # Not switched on: what accumulated is dropped; the next rewrite starts over.
            self._buf = []
            self.buf_len = 0
            self._close_fd_quietly()
            logger.info("Removing the temp incr aof file {} in the background",
                        temp_incr_name(self.filename))
            unlink_quietly(self._path(temp_incr_name(self.filename)))
            self.rewrite_scheduled = True
        if self.rewrite_started is not None:
            self.last_rewrite_time = int(time.time() - self.rewrite_started)
        self.rewrite_started = None
        self._rewrite_pid = None

    def _install_rewrite(self, temp_base: str) -> bool:
        """Rename the child's file to the new base, and write the manifest that uses it."""
        manifest = self.manifest.copy()
        base = manifest.new_base(self.filename, self._rewrite_preamble)
        base_path = self._path(base.name)
        try:
            os.rename(temp_base, base_path)
        except OSError as exc:
            logger.warning("Error trying to rename the temporary AOF base file {} into {}: "
                           "{}", temp_base, base.name, exc.strerror or exc)
            return False
        logger.info("Successfully renamed the temporary AOF base file {} into {}",
                    os.path.basename(temp_base), base.name)
        incr_path = None
        if self.state == AOF_WAIT_REWRITE:
            incr = manifest.new_incr(self.filename)
            incr_path = self._path(incr.name)
            try:
                os.rename(self._path(temp_incr_name(self.filename)), incr_path)
            except OSError as exc:
                logger.warning("Error trying to rename the temporary AOF incr file into "
                               "{}: {}", incr.name, exc.strerror or exc)
                unlink_quietly(base_path)
                return False
        manifest.mark_rewritten_incr_as_history(keep_last=self.fd >= 0)
        try:
            aof_manifest.persist(self.folder, self.filename, manifest)
        except OSError as exc:
            logger.warning("Can't persist the AOF manifest: {}", exc)
            unlink_quietly(base_path)
            if incr_path:
                unlink_quietly(incr_path)
            return False
        self.manifest = manifest
        if self.state != AOF_OFF:
            self.current_size = os.path.getsize(base_path) + self.last_incr_size
            self.base_size = self.current_size
        self.delete_history_files()
        return True

    def kill_rewrite(self) -> None:
        if self.rewrite_in_progress():
            logger.info("Killing running AOF rewrite child: {}", self.children.active.pid)
            self.children.kill()

    def _rewrite_limited(self) -> bool:
        """After 3 failed rewrites in a row, automatic ones wait 1, 2, 4 ... 60 minutes
        (Redis's aofRewriteLimited); BGREWRITEAOF is never limited."""
        if self.consecutive_failures < REWRITE_LIMIT_THRESHOLD:
            self._limit_delay_minutes = 0
            self._limit_until = 0.0
            return False
        now = time.time()
        if self._limit_until:
            if now < self._limit_until:
                return True
            self._limit_until = 0.0
            return False
        self._limit_delay_minutes = min(max(1, self._limit_delay_minutes * 2),
                                        REWRITE_LIMIT_MAX_MINUTES)
        self._limit_until = now + self._limit_delay_minutes * 60
        logger.warning("Background AOF rewrite has repeatedly failed and triggered the "
                       "limit, will retry in {} minutes", self._limit_delay_minutes)
        return True
