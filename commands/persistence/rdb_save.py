"""RDB snapshots: SAVE, BGSAVE, the save points, and the saves at shutdown (rdb.c).

    SAVE            writes <dir>/<dbfilename> now, blocking the node (as Redis)
    BGSAVE          a forked child writes it (commands/persistence/background.py) while
                    the node keeps serving; the file is a snapshot of the fork instant
    save points     "save 3600 1 300 100 60 10000": the cron starts a BGSAVE when at
                    least <changes> writes happened and <seconds> passed since the last
                    successful save; after a failed one it waits 5 s before retrying
    shutdown        SHUTDOWN [SAVE], SIGTERM and SIGINT save when save points are set,
                    SHUTDOWN NOSAVE does not; a failed shutdown save keeps the node up

A save writes `temp-<pid>.rdb` in dir, fsyncs it, renames it over dbfilename and fsyncs
the directory, so a crash leaves either the old file or the new one, never half of one.

`dirty` is the keyspace's change counter: rdb_changes_since_last_save is the changes
since the last successful save; a BGSAVE that succeeds subtracts the changes that were
made before its fork (later ones are not in the file).

stop-writes-on-bgsave-error: while the last background save failed and save points are
set, write commands get -MISCONF (`server.misconf` is the executor's cheap check).
"""
import os
import time

from loguru import logger

from commands.persistence.background import CHILD_AOF, CHILD_RDB, ChildBusy
from commands.persistence.durable_file import IncrementalFsync, fsync_directory
from commands.persistence.rdb_snapshot import library_codes, write_keyspace

RETRY_DELAY = 5                      # CONFIG_BGSAVE_RETRY_DELAY: seconds after a failure

class SaveError(Exception):
    """A save could not start or failed; the text is for the reply and the log."""


def save_points(text: str) -> list:
    """'3600 1 300 100' -> [(3600, 1), (300, 100)]."""
    words = [int(w) for w in text.split()]
    return list(zip(words[0::2], words[1::2]))


class RdbPersistence:
    def __init__(self, server):
        self.server = server
        self.children = server.children
        self.dirty_before_bgsave = 0      # keyspace.dirty at the fork
        self.last_bgsave_ok = True        # rdb_last_bgsave_status
        self.last_bgsave_try = 0.0        # time of the last attempt (retry delay)
        self.last_bgsave_time_sec = -1
        self.bgsave_started = None        # time.time() of the running child's fork
        self.bgsave_scheduled = False     # BGSAVE SCHEDULE while an AOF rewrite runs
        self.saves = 0                    # rdb_saves
        self.last_load_keys_loaded = 0
        self.last_load_keys_expired = 0

    # ------------------------------------------------------------ paths and state

    @property
    def path(self) -> str:
        values = self.server.settings.values
        return os.path.join(values["dir"], values["dbfilename"])

    @property
    def changes_since_last_save(self) -> int:
        return self.server.keyspace.dirty

    @property
    def bgsave_in_progress(self) -> bool:
        child = self.children.active
        return child is not None and child.kind == CHILD_RDB and child.purpose == "BGSAVE"

    def _update_misconf(self) -> None:
        values = self.server.settings.values
        self.server.misconf = (not self.last_bgsave_ok and values["stop-writes-on-bgsave-error"]
                               and bool(values["save"]))

    # ------------------------------------------------------------ writing a file

    def write_file(self, path: str) -> int:
        """The whole keyspace into `path`, atomically; returns its size. Blocking: it runs
        in SAVE (the node waits, as Redis) or in a forked child."""
        values = self.server.settings.values
        directory = os.path.dirname(os.path.abspath(path))
        temp = os.path.join(directory, "temp-%d.rdb" % os.getpid())
        repl = self.server.replication
        try:
            with open(temp, "wb", buffering=0) as f:
                out = IncrementalFsync(f, values["rdb-save-incremental-fsync"])
                write_keyspace(self.server.keyspace, out,
                               compress=values["rdbcompression"],
                               checksum=values["rdbchecksum"],
                               repl_id=repl.replid if repl is not None else None,
                               repl_offset=repl.offset if repl is not None else None,
                               key_delay_us=values["rdb-key-save-delay"],
                               functions=library_codes(self.server))
                os.fsync(f.fileno())
                size = f.tell()
            os.replace(temp, path)
            fsync_directory(directory)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        return size

    # ------------------------------------------------------------ SAVE

    def save(self) -> None:
        """SAVE (and the shutdown save): write now; SaveError on failure."""
        if self.children.busy() and self.children.active.kind == CHILD_RDB:
            raise SaveError("ERR Background save already in progress")
        try:
            self.write_file(self.path)
        except OSError as exc:
            logger.warning("Failed opening the temp RDB file temp-{}.rdb (in server root "
                           "dir {}) for saving: {}", os.getpid(), os.getcwd(),
                           exc.strerror or exc)
            self.last_bgsave_ok = False
            self._update_misconf()
            raise SaveError("ERR") from None
        logger.info("DB saved on disk")
        self._saved(self.server.keyspace.dirty)

    def _saved(self, dirty_in_file: int) -> None:
        self.server.keyspace.dirty -= dirty_in_file
        self.server.last_save = int(time.time())
        self.last_bgsave_ok = True
        self.saves += 1
        self._update_misconf()

    # ------------------------------------------------------------ BGSAVE

    def bgsave(self, schedule: bool = False) -> str:
        """BGSAVE [SCHEDULE]: the status text of the reply; SaveError with the error."""
        child = self.children.active
        if child is not None and child.kind == CHILD_RDB:
            raise SaveError("ERR Background save already in progress")
        if child is not None:
            if schedule:
                self.bgsave_scheduled = True
                return "Background saving scheduled"
            raise SaveError("ERR An AOF log rewriting in progress: can't BGSAVE right now. "
                            "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever "
                            "possible.")
        self.start_bgsave()
        return "Background saving started"

    def start_bgsave(self) -> None:
        """Fork the child (rdbSaveBackground); SaveError when fork fails."""
        self.last_bgsave_try = time.time()
        self.dirty_before_bgsave = self.server.keyspace.dirty
        path = self.path
        try:
            pid = self.children.start(CHILD_RDB, "BGSAVE", lambda: self._child_save(path),
                                      self._bgsave_done)
        except (ChildBusy, OSError) as exc:
            self.last_bgsave_ok = False
            self._update_misconf()
            logger.warning("Can't save in background: fork: {}", exc)
            raise SaveError("ERR Can't save in background: fork: %s" % exc) from None
        self.bgsave_started = time.time()
        self.bgsave_scheduled = False
        logger.info("Background saving started by pid {}", pid)

    def _child_save(self, path: str) -> bool:
        self.write_file(path)
        logger.info("DB saved on disk")
        return True

    def _bgsave_done(self, ok: bool, killed: bool) -> None:
        started, self.bgsave_started = self.bgsave_started, None
        if started is not None:
            self.last_bgsave_time_sec = int(time.time() - started)
        if ok:
            logger.info("Background saving terminated with success")
            self._saved(self.dirty_before_bgsave)
        elif not killed:
            # A child that failed, or died of a signal we did not send: Redis's
            # "Background saving error" / "terminated by signal", status err.
            logger.warning("Background saving error")
            self.last_bgsave_ok = False
            self._update_misconf()

    def replication_save_done(self, ok: bool, dirty_in_file: int) -> None:
        """A disk-based full sync's child saved dbfilename (commands/replication/
        full_sync.py): Redis makes it with rdbSaveBackground, so it counts as a BGSAVE."""
        if ok:
            self._saved(dirty_in_file)
        else:
            self.last_bgsave_ok = False
            self._update_misconf()

    # ------------------------------------------------------------ cron and shutdown

    def cron(self) -> None:
        """From the server cron: a scheduled BGSAVE, then the save points."""
        if self.children.busy():
            return
        if self.bgsave_scheduled:
            self._try_bgsave("scheduled")
            return
        values = self.server.settings.values
        if not values["save"]:
            return
        now = time.time()
        dirty = self.server.keyspace.dirty
        since_save = now - self.server.last_save
        # After a failure, wait RETRY_DELAY before the next attempt (rdb.c).
        retry_ok = self.last_bgsave_ok or now - self.last_bgsave_try > RETRY_DELAY
        for seconds, changes in save_points(values["save"]):
            if dirty >= changes and since_save > seconds and retry_ok:
                logger.info("{} changes in {} seconds. Saving...", changes, seconds)
                self._try_bgsave("save point")
                return

    def _try_bgsave(self, why: str) -> None:
        try:
            self.start_bgsave()
        except SaveError:
            pass                          # logged; retried after RETRY_DELAY

    def shutdown_save(self, force_save: bool) -> bool:
        """The save SHUTDOWN/SIGTERM makes (prepareForShutdown): with save points set,
        or SHUTDOWN SAVE. A running BGSAVE is killed first. Returns False when the save
        failed (the node then refuses to exit, as Redis)."""
        if not force_save and not self.server.settings.values["save"]:
            return True
        if self.children.busy() and self.children.active.kind == CHILD_RDB:
            logger.warning("There is a child saving an .rdb. Killing it!")
            self.children.kill()
        elif self.children.busy() and self.children.active.kind == CHILD_AOF:
            logger.warning("There is a child rewriting the AOF. Killing it!")
            self.children.kill()
        logger.info("Saving the final RDB snapshot before exiting.")
        try:
            self.save()
        except SaveError:
            logger.warning("Error trying to save the DB, can't exit.")
            return False
        return True
