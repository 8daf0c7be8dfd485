"""Writing files that survive a crash: the pieces SAVE, the AOF rewrite, the manifest and
a replica's sync file share.

* IncrementalFsync wraps a file and fsyncs every AUTOSYNC_BYTES written
  (rdb-save-incremental-fsync, aof-rewrite-incremental-fsync), so the kernel never holds
  gigabytes of dirty pages that one final fsync would have to push at once.
* fsync_directory makes a rename (or a new file) in a folder durable: without it a crash
  can forget the rename even though the file's own bytes were fsynced.
* write_all, fdatasync_and_close and unlink_quietly: the AOF's raw-descriptor steps.
"""
import os

AUTOSYNC_BYTES = 4 * 1024 * 1024     # Redis's REDIS_AUTOSYNC_BYTES


class IncrementalFsync:
    def __init__(self, f, enabled: bool = True):
        self._f = f
        self._enabled = enabled
        self._unsynced = 0

    def write(self, data) -> None:
        self._f.write(data)
        if self._enabled:
            self._unsynced += len(data)
            if self._unsynced >= AUTOSYNC_BYTES:
                self._f.flush()
                os.fsync(self._f.fileno())
                self._unsynced = 0


def fsync_directory(path: str) -> None:
    """Make renames and new files in `path` durable (Redis's fsyncFileDir)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """write(2) until all of it is written (Redis's aofWrite); one call, almost always."""
    written = os.write(fd, data)
    if written < len(data):
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view):]


def fdatasync_and_close(fd: int) -> None:
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
