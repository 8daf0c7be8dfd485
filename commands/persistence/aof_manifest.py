"""The AOF manifest of Redis 7: which files make up the append-only file, and their names.

Since Redis 7.0 the AOF is a folder, `<dir>/<appenddirname>/`, holding

    appendonly.aof.3.base.rdb     the dataset as of the last rewrite (an RDB with the
                                  aof-base AUX field; `.base.aof`, plain commands, when
                                  aof-use-rdb-preamble is no)
    appendonly.aof.5.incr.aof     the writes since then, as RESP commands; more than one
    appendonly.aof.6.incr.aof     when a rewrite started (or failed) after the base
    appendonly.aof.manifest       the list of the files above, in load order

(`appendonly.aof` is `appendfilename`). The manifest is text, one file a line:

    file appendonly.aof.3.base.rdb seq 3 type b
    file appendonly.aof.4.incr.aof seq 4 type h
    file appendonly.aof.5.incr.aof seq 5 type i
    file appendonly.aof.6.incr.aof seq 6 type i

written base first, then history, then incr files (Redis's getAofManifestAsString).
Types: `b` base (at most one), `i` incremental (loaded in order, sequence numbers strictly
increasing), `h` history -- files a successful rewrite made obsolete, listed only until
they are deleted. Keys are case-insensitive, extra `key value` pairs are ignored (forward
compatibility), a name needing quotes is written as Redis's sdscatrepr writes it, and
lines starting with `#` are comments. Base and incr sequence numbers count separately:
each new base takes base_seq + 1, each new incr file incr_seq + 1.

The manifest is replaced atomically: written to `temp-appendonly.aof.manifest`, fsynced,
renamed over the old one, and the folder fsynced so the rename (and any new file it
names) survives a crash. A crash at any point leaves either the old or the new manifest.
"""
import os

from commands.persistence.durable_file import fsync_directory
from commands.server.resp import split_args

BASE_SUFFIX = ".base"
INCR_SUFFIX = ".incr"
RDB_FORMAT = ".rdb"
AOF_FORMAT = ".aof"
MANIFEST_SUFFIX = ".manifest"
TEMP_PREFIX = "temp-"

TYPE_BASE = "b"
TYPE_HISTORY = "h"
TYPE_INCR = "i"

MANIFEST_MAX_LINE = 1024             # Redis reads a line with fgets(buf, 1024 + 1)


class ManifestError(Exception):
    """A manifest Redis would refuse to load. str() is Redis's reason; `line_number`
    and `line` say where, when it is about one line."""

    def __init__(self, reason: str, line_number: int = 0, line: str = ""):
        super().__init__(reason)
        self.line_number = line_number
        self.line = line

    def describe(self, path: str) -> str:
        """One line for the log and the exit message."""
        where = " (line %d: '%s')" % (self.line_number, self.line) if self.line else ""
        return "bad AOF manifest %s%s: %s" % (path, where, self)


class AofFile:
    __slots__ = ("name", "seq", "type")

    def __init__(self, name: str, seq: int, type_: str):
        self.name = name
        self.seq = seq
        self.type = type_

    def __repr__(self):
        return "AofFile(%r, %d, %r)" % (self.name, self.seq, self.type)


# ---------------------------------------------------------------- file names

def manifest_name(filename: str) -> str:
    return filename + MANIFEST_SUFFIX


def temp_manifest_name(filename: str) -> str:
    return TEMP_PREFIX + filename + MANIFEST_SUFFIX


def temp_incr_name(filename: str) -> str:
    """The incr file a rewrite started by CONFIG SET appendonly yes writes to: it joins
    the manifest (renamed to a numbered incr file) only if the rewrite succeeds."""
    return TEMP_PREFIX + filename + INCR_SUFFIX


def rewrite_temp_name(pid: int) -> str:
    """The file a rewrite child writes the new base to, in `dir` (Redis's
    temp-rewriteaof-bg-<pid>.aof)."""
    return "temp-rewriteaof-bg-%d.aof" % pid


# ---------------------------------------------------------------- the manifest

class Manifest:
    def __init__(self):
        self.base = None              # AofFile or None
        self.history = []             # AofFile, type h
        self.incr = []                # AofFile, type i, in load order
        self.base_seq = 0             # the last base sequence number given out
        self.incr_seq = 0             # the last incr sequence number given out

    def copy(self) -> "Manifest":
        """A deep copy to modify: the live manifest changes only once the new one is on
        disk (Redis's aofManifestDup)."""
        other = Manifest()
        dup = (lambda f: AofFile(f.name, f.seq, f.type))
        other.base = dup(self.base) if self.base else None
        other.history = [dup(f) for f in self.history]
        other.incr = [dup(f) for f in self.incr]
        other.base_seq, other.incr_seq = self.base_seq, self.incr_seq
        return other

    @property
    def empty(self) -> bool:
        return self.base is None and not self.incr

    def files_to_load(self) -> list:
        """Base first, then the incr files: the order of loading and of sizes."""
        return ([self.base] if self.base else []) + list(self.incr)

    def new_base(self, filename: str, rdb_preamble: bool) -> AofFile:
        """Give out the next base name; the current base becomes history (Redis's
        getNewBaseFileNameAndMarkPreAsHistory)."""
        if self.base is not None:
            self.base.type = TYPE_HISTORY
            self.history.insert(0, self.base)
        self.base_seq += 1
        name = "%s.%d%s%s" % (filename, self.base_seq, BASE_SUFFIX,
                              RDB_FORMAT if rdb_preamble else AOF_FORMAT)
        self.base = AofFile(name, self.base_seq, TYPE_BASE)
        return self.base

    def new_incr(self, filename: str) -> AofFile:
        self.incr_seq += 1
        info = AofFile("%s.%d%s%s" % (filename, self.incr_seq, INCR_SUFFIX, AOF_FORMAT),
                       self.incr_seq, TYPE_INCR)
        self.incr.append(info)
        return info

    def last_incr(self, filename: str) -> AofFile:
        """The incr file to append to at start-up: the last one, or a new one."""
        return self.incr[-1] if self.incr else self.new_incr(filename)

    def mark_rewritten_incr_as_history(self, keep_last: bool) -> None:
        """After a successful rewrite, every incr file but the one being written (opened
        when the rewrite began) is in the new base: it becomes history."""
        current = self.incr[-1:] if keep_last else []
        done = self.incr[:-1] if keep_last else self.incr
        for info in reversed(done):
            info.type = TYPE_HISTORY
            self.history.insert(0, info)
        self.incr = current

    def format(self) -> bytes:
        lines = [_format_line(f) for f in
                 ([self.base] if self.base else []) + self.history + self.incr]
        return "".join(lines).encode()

    @classmethod
    def parse(cls, data: bytes) -> "Manifest":
        """Parse a manifest as Redis's aofLoadManifestFromFile; ManifestError on what
        Redis refuses."""
        manifest = cls()
        if not data:
            raise ManifestError("Found an empty AOF manifest")
        max_incr_seq = 0
        number = 0
        for raw in data.splitlines(keepends=True):
            number += 1
            if raw.startswith(b"#"):
                continue
            text = raw.decode("utf-8", "replace")
            if len(raw) > MANIFEST_MAX_LINE or not raw.endswith(b"\n"):
                # fgets stops at 1024 bytes; a last line without \n is refused too
                raise ManifestError("The AOF manifest file contains too long line",
                                    number, text.strip())
            line = raw.strip(b" \t\r\n")
            if not line:
                raise ManifestError("Invalid AOF manifest file format", number, "")
            try:
                words = split_args(line)
            except ValueError:
                words = None
            if not words or len(words) < 6 or len(words) % 2:
                raise ManifestError("Invalid AOF manifest file format", number,
                                    line.decode("utf-8", "replace"))
            name, seq, type_ = None, 0, ""
            for key, value in zip(words[0::2], words[1::2]):
                key = key.lower()
                if key == b"file":
                    name = value.decode("utf-8", "surrogateescape")
                    if os.path.basename(name) != name or name in ("", ".", ".."):
                        raise ManifestError("File can't be a path, just a filename",
                                            number, line.decode("utf-8", "replace"))
                elif key == b"seq":
                    seq = _atoll(value)
                elif key == b"type":
                    type_ = value[:1].decode("latin-1")
            if not name or not seq or not type_:
                raise ManifestError("Invalid AOF manifest file format", number,
                                    line.decode("utf-8", "replace"))
            info = AofFile(name, seq, type_)
            if type_ == TYPE_BASE:
                if manifest.base is not None:
                    raise ManifestError("Found duplicate base file information", number,
                                        line.decode("utf-8", "replace"))
                manifest.base = info
                manifest.base_seq = seq
            elif type_ == TYPE_HISTORY:
                manifest.history.append(info)
            elif type_ == TYPE_INCR:
                if seq <= max_incr_seq:
                    raise ManifestError("Found a non-monotonic sequence number", number,
                                        line.decode("utf-8", "replace"))
                manifest.incr.append(info)
                manifest.incr_seq = max_incr_seq = seq
            else:
                raise ManifestError("Unknown AOF file type", number,
                                    line.decode("utf-8", "replace"))
        if number == 0:
            raise ManifestError("Found an empty AOF manifest")
        return manifest


def _atoll(text: bytes) -> int:
    """C's atoll: leading digits (with a sign), 0 when there are none."""
    text = text.strip()
    end = 1 if text[:1] in (b"-", b"+") else 0
    while end < len(text) and text[end:end + 1].isdigit():
        end += 1
    try:
        return int(text[:end])
    except ValueError:
        return 0


_NEEDS_REPR = frozenset(b'\\"\n\r\t\a\b ')


def _format_line(info: AofFile) -> str:
    raw = info.name.encode("utf-8", "surrogateescape")
    name = info.name
    if any(b in _NEEDS_REPR or not 32 <= b < 127 for b in raw):
        name = _repr(raw)
    return "file %s seq %d type %s\n" % (name, info.seq, info.type)


def _repr(raw: bytes) -> str:
    """Redis's sdscatrepr: a quoted string with C escapes and \\xHH."""
    escapes = {0x5C: "\\\\", 0x22: '\\"', 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t",
               0x07: "\\a", 0x08: "\\b"}
    out = []
    for b in raw:
        if b in escapes:
            out.append(escapes[b])
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return '"%s"' % "".join(out)


# ---------------------------------------------------------------- on disk

def load(folder: str, filename: str):
    """The manifest in `folder`, or None when the folder or the manifest does not exist
    (a first start: Redis ignores both). ManifestError if it is malformed, OSError if it
    cannot be read."""
    path = os.path.join(folder, manifest_name(filename))
    if not os.path.isdir(folder) or not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return Manifest.parse(f.read())


def persist(folder: str, filename: str, manifest: Manifest) -> None:
    """Write the manifest atomically (see the module docstring). Raises OSError."""
    write_atomically(folder, manifest_name(filename), temp_manifest_name(filename),
                     manifest.format())


def write_atomically(folder: str, name: str, temp_name: str, data: bytes) -> None:
    temp_path = os.path.join(folder, temp_name)
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(temp_path, os.path.join(folder, name))
    fsync_directory(folder)
