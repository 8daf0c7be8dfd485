"""The append-only file: every write, as it is propagated, appended to disk.

What is appended is the propagation stream (commands/replication/propagation.py): each
client command's unit -- MULTI/EXEC around it when it has more than one command, expiries
already absolute (SET PXAT, PEXPIREAT), blocking pops as plain pops -- preceded by
`SELECT 0` whenever a file starts (Redis's aof_selected_db). The same stream feeds the
replicas; a replica appends the stream its master sends it.

Files, in Redis 7's multi-part layout (commands/persistence/aof_manifest.py): appends go
to the last incr file; a rewrite (BGREWRITEAOF, an automatic one, CONFIG SET appendonly
yes) opens a new incr file *first*, then forks a child that writes the new base from the
dataset as it was at that instant (aof_rewrite.py). Writes made while the child works go
to the new incr file, so no rewrite buffer is needed: on success the manifest becomes
"new base + the incr files opened since the rewrite began", the older files become
history and are deleted; on failure the old manifest stays, and the extra incr file is
simply one more in it.

When the bytes reach the disk (`appendfsync`):

    always    the replies of a client's read batch are sent only once everything fed so
              far is written and fsynced (Connection -> before_reply): group commit, the
              fsync runs in gevent's thread pool while other clients keep working, and
              all writes waiting for it share it. Replies that only *read* wait too, so
              nobody observes a write that could still be lost (as in Redis, where every
              reply of an event-loop iteration waits for its fsync).
    everysec  the buffer is written before a batch's replies are sent (a process crash
              loses nothing acknowledged), and by the cron for writes no client waits
              on; fsync runs in the thread pool at most once a second, never on the
              event loop. When an fsync
              is still running a write may wait up to 2 s (then it goes ahead anyway and
              aof_delayed_fsync counts it), as Redis's flushAppendOnlyFile does.
    no        written as everysec, never fsynced: the kernel decides.

States, as Redis's aof_state: off, on, and wait_rewrite -- CONFIG SET appendonly yes
at run time: the AOF is switched on only once a first rewrite has written a base; until
then writes accumulate in a temporary incr file that joins the manifest with that base.
"""
import os
import time

import gevent
from loguru import logger

from commands.persistence import aof_manifest
from commands.persistence.aof_manifest import ManifestError, temp_incr_name
from commands.persistence.aof_rewriting import (AOF_OFF, AOF_ON, AOF_WAIT_REWRITE,
                                                AofRewriting)
from commands.persistence.aof_rewrite import write_base
from commands.persistence.durable_file import unlink_quietly, write_all
from commands.persistence.rdb_snapshot import library_codes
from commands.server.resp import ReplyError

_SELECT_0 = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
_MULTI = b"*1\r\n$5\r\nMULTI\r\n"
_EXEC = b"*1\r\n$4\r\nEXEC\r\n"

POSTPONE_LIMIT = 2.0                 # seconds a write may wait for a running fsync
WRITE_ERROR_LOG_PERIOD = 30.0        # Redis's AOF_WRITE_LOG_ERROR_RATE


class AofStartError(Exception):
    """The AOF cannot be opened at start-up (Redis exits); str() is the one-line reason."""


def _encode(argv) -> bytes:
    """A command as RESP, as Redis's catAppendOnlyGenericCommand writes it."""
    return b"*%d\r\n%s" % (len(argv), b"".join([b"$%d\r\n%s\r\n" % (len(a), a)
                                               for a in argv]))


class AppendOnlyFile(AofRewriting):
    def __init__(self, server, children):
        self.server = server
        self.settings = server.settings
        self.children = children
        self.state = AOF_OFF
        self.manifest = aof_manifest.Manifest()
        self.on_activity = None       # fn(feeding: bool): node.py connects the propagator
        self.fd = -1
        self.selected_db = -1
        self._buf = []                # encoded units not yet written
        self.buf_len = 0
        # Offsets in the stream of bytes fed since start: what the reply barrier compares.
        self.fed = 0
        self.last_timestamp = 0           # aof-timestamp-enabled: the last #TS written
        self.written = 0
        self.synced = 0
        self.current_size = 0         # aof_current_size: base + incr files
        self.base_size = 0            # aof_rewrite_base_size (auto rewrite's reference)
        self.last_incr_size = 0       # bytes in the incr file being appended to
        self.last_incr_fsync_offset = 0
        self.last_fsync = time.monotonic()
        self.flush_postponed_start = 0.0
        self.delayed_fsync = 0
        self.last_write_ok = True
        self.last_write_error = ""
        self._last_write_error_log = 0.0
        self.fsync_error = None       # the last background fsync's error (INFO: err)
        self._fsync_job = None        # the thread pool's running fdatasync, if any
        self._fsync_started = 0.0     # when it began (LATENCY aof-fsync-always)
        # Rewrites
        self.rewrite_scheduled = False
        self.rewrite_started = None   # time.time() while a rewrite child runs
        self._rewrite_pid = None
        self._rewrite_preamble = True
        self.last_rewrite_time = -1
        self.last_bgrewrite_ok = True
        self.rewrites = 0
        self.consecutive_failures = 0
        self._limit_delay_minutes = 0
        self._limit_until = 0.0

    # ------------------------------------------------------------ places

    @property
    def folder(self) -> str:
        return os.path.join(self.settings.dir, self.settings.appenddirname)

    @property
    def filename(self) -> str:
        return self.settings.appendfilename

    def _path(self, name: str) -> str:
        return os.path.join(self.folder, name)

    def _set_state(self, state: str) -> None:
        self.state = state
        if self.on_activity is not None:
            self.on_activity(state != AOF_OFF)

    # ------------------------------------------------------------ start-up

    def load_manifest(self) -> None:
        """Read the manifest, if there is one (Redis's aofLoadManifestFromDisk).
        Raises AofStartError for a manifest Redis would refuse."""
        try:
            manifest = aof_manifest.load(self.folder, self.filename)
        except ManifestError as exc:
            raise AofStartError(exc.describe(
                os.path.join(self.settings.appenddirname,
                             aof_manifest.manifest_name(self.filename))))
        except OSError as exc:
            raise AofStartError("Fatal error: can't open the AOF manifest file %s for "
                                "reading: %s" % (aof_manifest.manifest_name(self.filename),
                                                 exc.strerror or exc))
        if manifest is not None:
            self.manifest = manifest

    def loaded(self, total_size: int, base_size: int) -> None:
        self.current_size = total_size
        self.base_size = base_size

    def open_on_server_start(self) -> None:
        """appendonly yes at start-up, after loading (Redis's aofOpenIfNeededOnServerStart):
        write a base if there is nothing yet, open the last incr file for appending (or
        a new one), persist the manifest, then delete history files."""
        self.state = AOF_ON
        manifest = self.manifest
        changed = False
        try:
            os.makedirs(self.folder, exist_ok=True)
            if manifest.empty:
                preamble = self.settings.aof_use_rdb_preamble
                base = manifest.new_base(self.filename, preamble)
                write_base(self.server.keyspace, self._path(base.name), rdb_preamble=preamble,
                           functions=library_codes(self.server),
                           incremental_fsync=self.settings.aof_rewrite_incremental_fsync,
                           timestamp=self.settings.aof_timestamp_enabled)
                logger.info("Creating AOF base file {} on server start", base.name)
                changed = True
            existed = bool(manifest.incr)
            incr = manifest.last_incr(self.filename)
            changed |= not existed
            self.fd = os.open(self._path(incr.name), os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                              0o644)
            if changed:
                aof_manifest.persist(self.folder, self.filename, manifest)
            self.last_incr_size = self.last_incr_fsync_offset = os.fstat(self.fd).st_size
        except OSError as exc:
            raise AofStartError("Can't open the append-only file in %s: %s"
                                % (self.folder, exc.strerror or exc))
        if changed and manifest.base is not None:
            self.base_size = os.path.getsize(self._path(manifest.base.name))
            self.current_size = self.base_size + self.last_incr_size
        logger.info("{} AOF incr file {} on server start",
                    "Opening" if existed else "Creating", incr.name)
        self.delete_history_files()
        self._set_state(AOF_ON)

    def delete_history_files(self) -> None:
        """Redis's aofDelHistoryFiles: the files a rewrite replaced, unless
        aof-disable-auto-gc keeps them (then CONFIG SET aof-disable-auto-gc no deletes)."""
        history = self.manifest.history if self.manifest is not None else None
        if not history or self.server.settings.aof_disable_auto_gc:
            return
        for info in history:
            logger.info("Removing the history file {} in the background", info.name)
            try:
                os.unlink(self._path(info.name))
            except FileNotFoundError:
                pass
            except OSError as exc:
                logger.warning("Could not remove the history file {}: {}", info.name, exc)
        history.clear()
        try:
            aof_manifest.persist(self.folder, self.filename, self.manifest)
        except OSError as exc:
            logger.warning("Can't persist the AOF manifest: {}", exc)

    # ------------------------------------------------------------ appending

    @property
    def feeding(self) -> bool:
        """Redis appends when the AOF is on, or while its first rewrite runs."""
        return self.state == AOF_ON or (self.state == AOF_WAIT_REWRITE
                                        and self.rewrite_started is not None)

    def feed(self, unit) -> None:
        """One propagation unit (a list of argvs) into the AOF buffer. It reaches the
        file before the replies of the batch that made it (before_reply), or from the
        cron within 100 ms for writes no client waits on (expiry, our master's stream)."""
        if not self.feeding:
            return
        if len(unit) == 1:
            data = _encode(unit[0])
        else:
            data = b"".join([_MULTI, *[_encode(argv) for argv in unit], _EXEC])
        if self.selected_db != 0:
            data = _SELECT_0 + data
            self.selected_db = 0
        if self.settings.aof_timestamp_enabled:
            # aof-timestamp-enabled: a "#TS:<unix time>" line before the first write of
            # each second (redis-check-aof can truncate a file to a point in time).
            now = int(time.time())
            if now > self.last_timestamp:
                self.last_timestamp = now
                data = b"#TS:%d\r\n" % now + data
        self._buf.append(data)
        self.buf_len += len(data)
        self.fed += len(data)

    def before_reply(self) -> None:
        """Called by a connection before it sends a batch of replies: with always, wait
        until everything fed so far is fsynced; else write the buffer now. This runs
        once per read batch of every client, so the common case is a single write(2)
        without the general checks of flush()."""
        buf = self._buf
        if self.settings.appendfsync == "always":
            if self.synced < self.fed:
                self.wait_synced(self.fed)
            return
        if not buf:
            return
        if self._fsync_job is not None or self.fd < 0 or not self.last_write_ok:
            self.flush()                  # postponing, retrying: the general path
            return
        data = buf[0] if len(buf) == 1 else b"".join(buf)
        try:
            written = os.write(self.fd, data)
        except OSError:
            self.flush()                  # records the error, keeps the buffer
            return
        self._buf = [data[written:]] if written < len(data) else []
        self.buf_len -= written
        self.written += written
        self.current_size += written
        self.last_incr_size += written
        if self._buf:
            self.flush()                  # a short write: the rest, or the error
        elif self.settings.appendfsync == "everysec":
            now = time.monotonic()
            if now - self.last_fsync >= 1.0:
                self._maybe_fsync("everysec", now, False)

    def wait_synced(self, target: int) -> None:
        """Block this greenlet until the stream is on disk up to `target` (always)."""
        while self.synced < target and self.state != AOF_OFF:
            if self.written < target:
                self.flush(force=True)
                if self.written < target:
                    return            # the write failed and was logged
            job = self._fsync_job
            if job is None:
                self._start_fsync()
                job = self._fsync_job
            job.wait()

    def flush(self, force: bool = False) -> None:
        """Write the buffer, then fsync as the policy says (Redis's flushAppendOnlyFile).
        Never blocks the event loop on the disk's flush: fsyncs go to the thread pool."""
        policy = self.settings.appendfsync
        sync_running = self._fsync_job is not None
        now = time.monotonic()
        if not self._buf:
            unsynced = self.last_incr_fsync_offset != self.last_incr_size
            if policy == "everysec" and unsynced and now - self.last_fsync >= 1.0 \
                    and not sync_running:
                self._maybe_fsync(policy, now, sync_running)
            elif policy == "always" and unsynced:
                self._maybe_fsync(policy, now, sync_running)
            return
        if self.fd < 0:
            return
        if policy == "everysec" and not force and sync_running:
            # Linux would block this write behind the running fsync anyway.
            if not self.flush_postponed_start:
                self.flush_postponed_start = now
                return
            if now - self.flush_postponed_start < POSTPONE_LIMIT:
                return
            self.delayed_fsync += 1
            logger.info("Asynchronous AOF fsync is taking too long (disk is busy?). Writing "
                        "the AOF buffer without waiting for fsync to complete, this may "
                        "slow down Redis.")
        self.flush_postponed_start = 0.0
        data = self._buf[0] if len(self._buf) == 1 else b"".join(self._buf)
        try:
            write_all(self.fd, data)
        except OSError as exc:
            self._write_failed(exc, policy)
            return
        if not self.last_write_ok:
            logger.warning("AOF write error looks solved, Redis can write again.")
            self.last_write_ok = True
            self._update_misconf()
        self._buf = []
        self.buf_len = 0
        self.written += len(data)
        self.current_size += len(data)
        self.last_incr_size += len(data)
        self._maybe_fsync(policy, now, sync_running)

    def _write_failed(self, exc: OSError, policy: str) -> None:
        now = time.monotonic()
        if now - self._last_write_error_log > WRITE_ERROR_LOG_PERIOD:
            self._last_write_error_log = now
            logger.warning("Error writing to the AOF file: {}", exc.strerror or exc)
        # Nothing half-written may stay: a replay would find a broken command there.
        try:
            os.ftruncate(self.fd, self.last_incr_size)
        except OSError:
            pass
        if policy == "always":
            # The reply is promised to wait for the disk, and the write cannot be undone.
            logger.warning("Can't recover from AOF write error when the AOF fsync policy "
                           "is 'always'. Exiting...")
            os._exit(1)
        self.last_write_ok = False
        self.last_write_error = exc.strerror or str(exc)
        self._update_misconf()

    def _update_misconf(self) -> None:
        """Writes are refused while the AOF cannot be written or fsynced (Redis's
        writeCommandsDeniedByDiskError): -MISCONF with the error's text."""
        error = None
        if self.state != AOF_OFF:
            if not self.last_write_ok:
                error = self.last_write_error
            elif self.fsync_error is not None:
                error = self.fsync_error
        self.server.aof_misconf = None if error is None else ReplyError(
            "MISCONF Errors writing to the AOF file: %s" % error)

    def _maybe_fsync(self, policy: str, now: float, sync_running: bool) -> None:
        if policy == "no" or (policy == "everysec" and now - self.last_fsync < 1.0):
            return                    # the common case, decided first
        if self.settings.no_appendfsync_on_rewrite and self.children.busy():
            return
        if not sync_running:          # else: always waits for it; everysec skips a turn
            self._start_fsync()
        self.last_fsync = now

    def _start_fsync(self) -> None:
        """fdatasync the incr file in the thread pool; `synced` moves when it is done."""
        target = self.written
        self.last_incr_fsync_offset = self.last_incr_size
        self._fsync_started = time.monotonic()
        job = gevent.get_hub().threadpool.spawn(os.fdatasync, self.fd)
        self._fsync_job = job
        job.rawlink(lambda result: self._fsync_done(result, target))

    def _fsync_done(self, result, target: int) -> None:
        if self._fsync_job is result:
            self._fsync_job = None
        if result.successful():
            self.synced = max(self.synced, target)
            if self.settings.appendfsync == "always":
                # What the clients waiting for it waited (LATENCY "aof-fsync-always").
                self.server.latency.add_sample_if_needed(
                    "aof-fsync-always", int((time.monotonic() - self._fsync_started) * 1000))
            if self.fsync_error is not None:
                self.fsync_error = None
                self._update_misconf()
            return
        error = result.exception
        if self.settings.appendfsync == "always":
            logger.warning("Can't persist AOF for fsync error when the AOF fsync policy is "
                           "'always': {}. Exiting...", error)
            os._exit(1)
        logger.warning("Fail to fsync the AOF file: {}", error)
        self.fsync_error = str(getattr(error, "strerror", None) or error)
        self._update_misconf()

    def _sync_now(self) -> None:
        """Everything written, on disk, now (in this greenlet: rotation, stop, exit)."""
        if self._fsync_job is not None:
            self._fsync_job.wait()
        if self.fd >= 0 and self.synced < self.written:
            target = self.written
            try:
                gevent.get_hub().threadpool.apply(os.fdatasync, (self.fd,))
                self.synced = max(self.synced, target)
            except OSError as exc:
                logger.warning("Fail to fsync the AOF file: {}", exc)
        self.last_incr_fsync_offset = self.last_incr_size

    # ------------------------------------------------------------ commands and config

    def bgrewriteaof(self, in_transaction: bool) -> str:
        """BGREWRITEAOF: 'started', 'scheduled', 'in-progress' or 'error'."""
        if self.rewrite_in_progress():
            return "in-progress"
        if self.children.busy() or in_transaction:
            self.rewrite_scheduled = True
            self.consecutive_failures = 0   # asked for by hand: not limited
            return "scheduled"
        return "started" if self.rewrite_background() else "error"

    def start(self) -> bool:
        """CONFIG SET appendonly yes (Redis's startAppendOnly): rewrite first, switch on
        when the rewrite is done. False if the rewrite could not even start."""
        if self.state != AOF_OFF:
            return True
        self.state = AOF_WAIT_REWRITE
        if self.children.busy() and not self.rewrite_in_progress():
            self.rewrite_scheduled = True
            logger.warning("AOF was enabled but there is already another background "
                           "operation. An AOF background was scheduled to start when "
                           "possible.")
        else:
            if self.rewrite_in_progress():
                logger.warning("AOF was enabled but there is already an AOF rewriting in "
                               "background. Stopping background AOF and starting a rewrite "
                               "now.")
                self.kill_rewrite()
            if not self.rewrite_background():
                self.state = AOF_OFF
                logger.warning("Redis needs to enable the AOF but can't trigger a "
                               "background AOF rewrite operation. Check the above logs "
                               "for more info about the error.")
                return False
        self._set_state(AOF_WAIT_REWRITE)
        self.last_fsync = time.monotonic()
        if self.fsync_error is not None or not self.last_write_ok:
            logger.warning("AOF reopen, just ignore the last error.")
            self.fsync_error = None
            self.last_write_ok = True
            self._update_misconf()
        return True

    def stop(self) -> None:
        """CONFIG SET appendonly no (Redis's stopAppendOnly)."""
        if self.state == AOF_OFF:
            return
        if self.state == AOF_WAIT_REWRITE:
            unlink_quietly(self._path(temp_incr_name(self.filename)))
        self.flush(force=True)
        self._sync_now()
        self._close_fd_quietly()
        self.selected_db = -1
        self._set_state(AOF_OFF)
        self.rewrite_scheduled = False
        self.last_incr_size = self.last_incr_fsync_offset = 0
        self.kill_rewrite()
        self._buf = []
        self.buf_len = 0
        self.synced = self.written = self.fed
        self._update_misconf()

    def restart_after_sync(self) -> None:
        """A replica loaded a new dataset from its master: the AOF starts over from a
        rewrite of it (Redis's restartAOFAfterSYNC)."""
        if self.state == AOF_OFF:
            return
        self.stop()
        if not self.start():
            logger.warning("Failed enabling the AOF after successful master synchronization!")

    def shutdown(self) -> None:
        """At exit: kill a rewrite (the AOF we have holds everything), write and fsync."""
        self.kill_rewrite()
        if self.state == AOF_OFF:
            return
        logger.info("Calling fsync() on the AOF file.")
        self.flush(force=True)
        self._sync_now()

    def _close_fd_quietly(self) -> None:
        if self._fsync_job is not None:
            self._fsync_job.wait()
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1

    # ------------------------------------------------------------ cron

    @property
    def fsync_in_flight(self) -> bool:
        return self._fsync_job is not None

    def cron(self) -> None:
        """From the server cron, every 100 ms (the AOF parts of Redis's serverCron)."""
        children = self.children
        if not children.busy() and self.rewrite_scheduled and not self._rewrite_limited():
            self.rewrite_background()
        settings = self.settings
        if self.state == AOF_ON and not children.busy() \
                and settings.auto_aof_rewrite_percentage \
                and self.current_size > settings.auto_aof_rewrite_min_size:
            base = self.base_size or 1
            growth = self.current_size * 100 // base - 100
            if growth >= settings.auto_aof_rewrite_percentage and not self._rewrite_limited():
                logger.info("Starting automatic rewriting of AOF on {}% growth", growth)
                self.rewrite_background()
        if self.state != AOF_OFF:
            # Postponed writes, a failed write to retry, everysec's fsync when idle.
            self.flush()
