"""Loading the dataset at start-up (loadDataFromDisk), with Redis's -LOADING replies.

The node listens for clients before it loads, as Redis does, so a client that connects
early gets `-LOADING Redis is loading the dataset in memory` for every command not
flagged "loading" (INFO, PING and a few others still answer), and INFO persistence shows
loading:1 with the loading_* progress fields. The loader yields to other greenlets
every few thousand keys (rdb_snapshot.LOAD_PROGRESS_EVERY) so those replies are sent.

Which file: with appendonly yes the AOF (its loader is given by the AOF layer),
otherwise <dir>/<dbfilename> when it exists. A file that does not load stops the node
with one line naming the reason (Redis: "Fatal error loading the DB ... Exiting.").
"""
import os
import time

import gevent
from loguru import logger

from commands.persistence.rdb_snapshot import LOAD_PROGRESS_EVERY, load_into
from commands.rdb import RdbError


class LoadFailed(Exception):
    """The dataset on disk could not be loaded; the text is the log line."""


class _CountingReader:
    """A file reader that counts bytes for the loading_* fields, and yields to the other
    greenlets every `interval` bytes (loading-process-events-interval-bytes), so clients
    get -LOADING replies while a big file loads."""

    def __init__(self, f, progress, interval: int):
        self._f = f
        self._progress = progress
        self._interval = interval
        self._next_yield = interval

    def read(self, n=-1):
        data = self._f.read(n)
        progress = self._progress
        progress.loaded_bytes += len(data)
        if progress.loaded_bytes >= self._next_yield:
            self._next_yield = progress.loaded_bytes + self._interval
            gevent.sleep(0)
        return data


class LoadingProgress:
    """What INFO persistence shows while loading."""

    def __init__(self, total_bytes: int):
        self.start_time = int(time.time())
        self.started = time.monotonic()
        self.total_bytes = total_bytes
        self.loaded_bytes = 0

    def info_lines(self) -> list:
        perc = 100.0 * self.loaded_bytes / self.total_bytes if self.total_bytes else 0.0
        elapsed = time.monotonic() - self.started
        eta = 1
        if self.loaded_bytes and self.total_bytes > self.loaded_bytes:
            eta = int(elapsed * (self.total_bytes - self.loaded_bytes) / self.loaded_bytes)
        return ["loading_start_time:%d" % self.start_time,
                "loading_total_bytes:%d" % self.total_bytes,
                "loading_rdb_used_mem:0",
                "loading_loaded_bytes:%d" % self.loaded_bytes,
                "loading_loaded_perc:%.2f" % perc,
                "loading_eta_seconds:%d" % eta]


def load_rdb_file(server, path: str) -> None:
    """Load <path> into the (empty) keyspace with -LOADING meanwhile; LoadFailed."""
    try:
        size = os.path.getsize(path)
        f = open(path, "rb")
    except OSError as exc:
        raise LoadFailed("Fatal error loading the DB, check server logs. Exiting. (%s: %s)"
                         % (path, exc.strerror or exc)) from None
    progress = LoadingProgress(size)
    server.loading = progress
    started = time.monotonic()
    # key-load-delay (Redis's test knob): microseconds per key, slept per batch of keys;
    # either way the loader yields so -LOADING replies get out.
    pause = max(0, server.settings.values["key-load-delay"]) * LOAD_PROGRESS_EVERY / 1e6
    try:
        with f:
            interval = server.settings.values["loading-process-events-interval-bytes"]
            result = load_into(server.keyspace, _CountingReader(f, progress, interval),
                               verify_checksum=server.settings.values["rdbchecksum"],
                               progress=lambda loaded: gevent.sleep(pause),
                               functions=server.functions)
    except RdbError as exc:
        raise LoadFailed("Fatal error loading the DB %s: %s. Exiting." % (path, exc)) \
            from None
    finally:
        server.loading = None
    persistence = server.persistence
    if persistence is not None:
        persistence.last_load_keys_loaded = result.keys_loaded
        persistence.last_load_keys_expired = result.expired_skipped
    server.keyspace.dirty = 0
    logger.info("Done loading RDB, keys loaded: {}, keys expired: {}.",
                result.keys_loaded, result.expired_skipped)
    logger.info("DB loaded from disk: {:.3f} seconds", time.monotonic() - started)


def load_data_from_disk(server, load_aof=None) -> None:
    """At start-up: the AOF when appendonly is on (load_aof(server) does it), else the
    RDB file if there is one. Raises LoadFailed."""
    values = server.settings.values
    if values["appendonly"] and load_aof is not None:
        load_aof(server)
        return
    path = os.path.join(values["dir"], values["dbfilename"])
    if os.path.exists(path):
        load_rdb_file(server, path)
