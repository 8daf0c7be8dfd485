"""Loading the AOF at start-up: the base, then every incr file, in manifest order.

Redis's loadAppendOnlyFiles / loadSingleAppendOnlyFile, step by step:

* A file that starts with "REDIS" is an RDB (the base of a rewrite with the RDB
  preamble): it is loaded with rdb_snapshot.load_into. Anything else is RESP commands:

      *<argc>\\r\\n  then argc times  $<len>\\r\\n<len bytes>\\r\\n

  Lines starting with '#' are annotations (Redis's `#TS:<unix time>`) and are skipped.
  Each command runs through its handler in a socket-less client (Redis's fake AOF
  client): no routing, no redirects, no read-only refusal, no statistics, never blocks,
  and its replies go nowhere. MULTI queues and EXEC runs, as in a live client.

* A file that ends in the middle of a command (a crash during a write), or inside a
  MULTI without its EXEC, is *truncated*. Only the last file may be: with
  aof-load-truncated yes the tail after the last complete command (before the MULTI) is
  cut off the file with a warning and loading goes on; with no, or in another file than
  the last, it is fatal, with Redis's message.

* Anything else -- a line that is not `*`/`$` where one must be, an unknown command, an
  RDB that does not decode, a file the manifest names that does not exist -- is fatal.

Fatal errors raise AofLoadError with a one-line message; `load_aof`, the AOF loader that
loading.load_data_from_disk runs at start-up, turns them into its LoadFailed (node.py
prints it and exits 1, as Redis exits); nothing here lets a traceback out. Clients that
connect meanwhile get -LOADING (server.loading holds the progress INFO shows): the
replay yields to them every REPLAY_YIELD_EVERY commands.
"""
import os
import time

import gevent
from loguru import logger

from commands.persistence.aof import AofStartError
from commands.persistence.loading import LoadFailed, LoadingProgress
from commands.persistence.rdb_snapshot import load_into
from commands.rdb import RdbError
from commands.server.connection import Client
from commands.server.executor import lookup_command
from commands.server.resp import ReplyError

READ_BUFFER = 1 << 20
REPLAY_YIELD_EVERY = 1024
_FIX_HINT = "make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"


class AofLoadError(Exception):
    """The AOF cannot be loaded; str() is the one-line reason."""


class _Truncated(Exception):
    """The file ended in the middle of a command."""


class _BadFormat(Exception):
    pass


class LoadReport:
    __slots__ = ("files", "truncated", "base_size", "total_size", "keys")

    def __init__(self):
        self.files = 0
        self.truncated = False
        self.base_size = 0
        self.total_size = 0
        self.keys = 0


def load_aof(server) -> None:
    """Start-up with appendonly yes (Redis's loadDataFromDisk then
    aofOpenIfNeededOnServerStart): read the manifest, load its files, open the last incr
    file for appending (writing a first base if there was nothing). Raises LoadFailed."""
    aof = server.aof
    started = time.monotonic()
    try:
        aof.load_manifest()
        report = load_append_only_files(server, aof.folder, aof.manifest,
                                        load_truncated=server.settings.aof_load_truncated)
        aof.loaded(report.total_size, report.base_size)
        aof.open_on_server_start()
    except (AofLoadError, AofStartError) as exc:
        raise LoadFailed(str(exc)) from None
    if report.files:
        logger.info("DB loaded from append only file: {:.3f} seconds",
                    time.monotonic() - started)


def file_sizes(folder: str, manifest) -> list:
    """(AofFile, size) for the base and incr files; AofLoadError for a missing one (Redis:
    a file in the manifest but not on disk is fatal)."""
    sizes = []
    for info in manifest.files_to_load():
        try:
            sizes.append((info, os.stat(os.path.join(folder, info.name)).st_size))
        except OSError as exc:
            raise AofLoadError("Unable to obtain the AOF file %s length. stat: %s"
                               % (info.name, exc.strerror or exc))
    return sizes


def load_append_only_files(server, folder: str, manifest, *, load_truncated: bool) -> LoadReport:
    """Load every base and incr file of `manifest` into server.keyspace."""
    report = LoadReport()
    sizes = file_sizes(folder, manifest)
    report.total_size = sum(size for _, size in sizes)
    if not sizes or report.total_size == 0:
        return report
    dirty = server.keyspace.dirty
    progress = server.loading = LoadingProgress(report.total_size)
    try:
        _load_files(server, folder, manifest, sizes, load_truncated, report, progress)
    finally:
        server.loading = None
    server.keyspace.dirty = dirty      # replaying is not a change since the last save
    report.keys = server.keyspace.size
    return report


def _load_files(server, folder, manifest, sizes, load_truncated, report, progress) -> None:
    for number, (info, size) in enumerate(sizes, 1):
        last = number == len(sizes)
        started = time.monotonic()
        if info is manifest.base:
            report.base_size = size
        if size == 0:
            continue
        path = os.path.join(folder, info.name)
        truncated = _load_file(server, path, info.name, load_truncated, progress)
        progress.loaded_bytes = sum(s for _, s in sizes[:number])
        if truncated and not last:
            raise AofLoadError("Fatal error: the truncated file %s is not the last file"
                               % info.name)
        report.truncated |= truncated
        report.files += 1
        logger.info("DB loaded from {} file {}: {:.3f} seconds",
                    "base" if info is manifest.base else "incr", info.name,
                    time.monotonic() - started)


def _load_file(server, path: str, name: str, load_truncated: bool, progress) -> bool:
    """Load one file; returns whether it was truncated (and cut)."""
    try:
        f = open(path, "rb", buffering=READ_BUFFER)
    except OSError as exc:
        raise AofLoadError("Fatal error: can't open the append log file %s for reading: %s"
                           % (name, exc.strerror or exc))
    with f:
        if f.peek(5)[:5] == b"REDIS":
            logger.info("Reading RDB base file on AOF loading...")
            try:
                load_into(server.keyspace, f, progress=lambda keys: gevent.sleep(0),
                          functions=server.functions)
            except (RdbError, OSError) as exc:
                raise AofLoadError("Error reading the RDB base file %s, AOF loading "
                                   "aborted: %s" % (name, exc))
            return False
        replay = _Replay(server, name, progress)
        try:
            replay.run(f, track_valid=load_truncated)
            return False
        except _BadFormat:
            raise AofLoadError("Bad file format reading the append only file %s: %s"
                               % (name, _FIX_HINT))
        except _Truncated:
            if not load_truncated:
                raise AofLoadError(
                    "Unexpected end of file reading the append only file %s. You can: "
                    "1) Make a backup of your AOF file, then use ./redis-check-aof --fix "
                    "<filename.manifest>. 2) Alternatively you can set the "
                    "'aof-load-truncated' configuration option to yes and restart the "
                    "server." % name)
        finally:
            replay.close()
    # aof-load-truncated yes: cut the file after the last complete command.
    valid = replay.valid_up_to
    logger.warning("!!! Warning: short read while loading the AOF file {}!!!", name)
    logger.warning("!!! Truncating the AOF {} at offset {} !!!", name, valid)
    try:
        os.truncate(path, valid)
    except OSError as exc:
        raise AofLoadError("Error truncating the AOF file %s: %s"
                           % (name, exc.strerror or exc))
    logger.warning("AOF {} loaded anyway because aof-load-truncated is enabled", name)
    return True


class _Replay:
    """Commands of one RESP file through a fake client."""

    def __init__(self, server, name: str, progress):
        self.name = name
        self.progress = progress
        self.client = Client(server)
        self.client.authenticated = True
        self.client.acl_gate = False        # no user: everything is allowed
        self.client.deny_blocking = True
        self.client.is_master_link = True   # obeyed, like our master's stream
        self.valid_up_to = 0                # offset after the last complete command
        self.valid_before_multi = 0

    def close(self) -> None:
        self.client.multi = None

    def run(self, f, track_valid: bool) -> None:
        readline, read = f.readline, f.read
        offset = 0
        client = self.client
        progress = self.progress
        file_start = progress.loaded_bytes
        commands = 0
        while True:
            line = readline(1024)
            if not line:
                break
            offset += len(line)
            if line[:1] == b"#":
                continue                      # an annotation (#TS:...)
            if line[:1] != b"*":
                raise _BadFormat()
            if len(line) == 1:
                raise _Truncated()            # "*" and then the end of the file
            argc = _atoi(line[1:])
            if argc < 1:
                raise _BadFormat()
            argv = []
            for _ in range(argc):
                header = readline(1024)
                if not header:
                    raise _Truncated()
                if header[:1] != b"$":
                    raise _BadFormat()
                offset += len(header)
                length = _atoi(header[1:])
                arg = read(length) if length > 0 else b""
                if len(arg) < length:
                    raise _Truncated()
                if len(read(2)) < 2:
                    raise _Truncated()
                offset += length + 2
                argv.append(arg)
            self._execute(argv)
            if track_valid:
                self.valid_up_to = offset
            commands += 1
            if commands % REPLAY_YIELD_EVERY == 0:
                progress.loaded_bytes = file_start + offset
                gevent.sleep(0)               # -LOADING replies get out
        if client.multi is not None:
            logger.warning("Revert incomplete MULTI/EXEC transaction in AOF file {}",
                           self.name)
            self.valid_up_to = self.valid_before_multi
            raise _Truncated()

    def _execute(self, argv) -> None:
        client = self.client
        cmd, error = lookup_command(argv)
        if cmd is None:
            raise AofLoadError("Unknown command '%s' reading the append only file %s"
                               % (argv[0].decode("utf-8", "replace")[:128], self.name))
        if cmd.name == "multi":
            self.valid_before_multi = self.valid_up_to
        if error is not None:
            return                            # a reply nobody reads, as in Redis
        if client.multi is not None and cmd.name != "exec":
            client.multi.append((cmd, argv))
            return
        try:
            cmd.handler(client, argv)
        except ReplyError as exc:
            # propagation-error-behavior panic: a command of the AOF that fails here
            # stops the load instead of leaving a dataset that differs from the file's.
            if client.server.settings.propagation_error_behavior == "panic":
                raise AofLoadError("This AOF panicked sending an error to its caller "
                                   "after processing the command '%s': %s"
                                   % (cmd.full_name, exc))
        except Exception as exc:              # noqa: BLE001 - one line, then exit 1
            raise AofLoadError("error replaying '%s' from the append only file %s: %r"
                               % (cmd.full_name, self.name, exc))


def _atoi(text: bytes) -> int:
    """C's atoi/strtol on a header line: leading digits, 0 without any."""
    text = text.strip()
    end = 1 if text[:1] in (b"-", b"+") else 0
    while end < len(text) and 48 <= text[end] <= 57:
        end += 1
    try:
        return int(text[:end])
    except ValueError:
        return 0
