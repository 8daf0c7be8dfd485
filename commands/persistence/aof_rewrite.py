"""The new AOF base a rewrite writes: the whole dataset, as an RDB or as commands.

Runs in the forked rewrite child (commands/persistence/background.py), which sees the
dataset as it was at the fork, and at start-up when the AOF starts empty. With
aof-use-rdb-preamble yes (the default) the base is an RDB (rdb_snapshot.write_keyspace,
AUX aof-base 1); with no, it is the commands that rebuild the dataset, as Redis's
rewriteAppendOnlyFileRio writes them:

    *2 SELECT 0                     only when the database holds keys
    SET key value                   strings
    RPUSH key e1 .. e64             lists, sets (SADD), hashes (HMSET key f v ..) and
    SADD / HMSET / ZADD key ...     sorted sets (ZADD key score member ..): at most 64
                                    elements a command (AOF_REWRITE_ITEMS_PER_CMD)
    XADD / XSETID / XGROUP CREATE   streams: entries, counters, groups, then each
    XCLAIM / XGROUP CREATECONSUMER  pending entry and idle consumer (stream_commands)
    PEXPIREAT key <unix ms>         after a key with a TTL

Scores are written as Redis's rioWriteBulkDouble writes them (%.17g, "inf", "-inf").

The file is written to a temporary name, flushed and fsynced, then renamed: what the
caller finds under `path` is complete (Redis's rewriteAppendOnlyFile).
"""
import os
import time

from commands.data.value_codec import to_saved
from commands.persistence.durable_file import IncrementalFsync
from commands.persistence.rdb_snapshot import write_keyspace

ITEMS_PER_COMMAND = 64               # Redis's AOF_REWRITE_ITEMS_PER_CMD
BUFFER_BYTES = 1 << 20


def bulk(arg: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(arg), arg)


def encode_command(argv) -> bytes:
    """One command as RESP, the way Redis writes it to the AOF (catAppendOnlyGenericCommand)."""
    return b"*%d\r\n%s" % (len(argv), b"".join([bulk(a) for a in argv]))


def format_score(score: float) -> bytes:
    if score != score:
        return b"nan"
    if score in (float("inf"), float("-inf")):
        return b"inf" if score > 0 else b"-inf"
    return b"%.17g" % score


# name of the command and number of RESP arguments per element, by type
_VARIADIC = {"list": (b"RPUSH", 1), "set": (b"SADD", 1), "hash": (b"HMSET", 2),
             "zset": (b"ZADD", 2)}


def write_commands(keyspace, stream, key_delay_us: int = 0) -> None:
    """The dataset as commands (see the module docstring) to `stream`.write()."""
    out = []
    delay = key_delay_us / 1e6 if key_delay_us > 0 else 0
    expires = keyspace.expires
    if keyspace.size:
        out.append(encode_command([b"SELECT", b"0"]))
    size = 0
    for key, value in keyspace.items():
        kind, neutral, _ = to_saved(value)
        if kind == "string":
            records = [encode_command([b"SET", key, neutral])]
        elif kind == "stream":
            records = [encode_command(argv) for argv in stream_commands(key, neutral)]
        else:
            records = _variadic(kind, key, neutral)
        when = expires.get(key) if expires else None
        if when is not None:
            records.append(encode_command([b"PEXPIREAT", key, b"%d" % when]))
        out.extend(records)
        size += sum(map(len, records))
        if size >= BUFFER_BYTES or delay:
            stream.write(b"".join(out))
            out.clear()
            size = 0
        if delay:
            time.sleep(delay)      # a forked child: plain blocking sleep
    if out:
        stream.write(b"".join(out))


def _stream_id(sid: int) -> bytes:
    return b"%d-%d" % (sid >> 64, sid & ((1 << 64) - 1))


def stream_commands(key: bytes, neutral: dict) -> list:
    """A stream as Redis's rewriteStreamObject writes it: its live entries as XADDs (an
    empty stream as XADD MAXLEN 0 0-1 x y), XSETID with its counters, each group as
    XGROUP CREATE ... ENTRIESREAD, each pending entry as XCLAIM ... FORCE, each consumer
    without one as XGROUP CREATECONSUMER."""
    out = []
    for _, _, entries in neutral["nodes"]:
        for sid, deleted, flat in entries:
            if not deleted:
                out.append([b"XADD", key, _stream_id(sid), *flat])
    if not neutral["length"]:
        out.append([b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"])
    out.append([b"XSETID", key, _stream_id(neutral["last_id"]), b"ENTRIESADDED",
                b"%d" % neutral["entries_added"], b"MAXDELETEDID",
                _stream_id(neutral["max_deleted_id"])])
    for name, last_id, entries_read, pel, consumers in neutral["groups"]:
        out.append([b"XGROUP", b"CREATE", key, name, _stream_id(last_id), b"ENTRIESREAD",
                    b"%d" % entries_read])
        nacks = {sid: (when, count) for sid, when, count in pel}
        for cname, _, ids in consumers:
            if not ids:
                out.append([b"XGROUP", b"CREATECONSUMER", key, name, cname])
            for sid in ids:
                when, count = nacks[sid]
                out.append([b"XCLAIM", key, name, cname, b"0", _stream_id(sid), b"TIME",
                            b"%d" % when, b"RETRYCOUNT", b"%d" % count, b"JUSTID",
                            b"FORCE"])
    return out


def _variadic(kind: str, key: bytes, neutral) -> list:
    """RPUSH / SADD / HMSET / ZADD commands of at most ITEMS_PER_COMMAND elements."""
    name, width = _VARIADIC[kind]
    head = bulk(name) + bulk(key)
    records = []
    for start in range(0, len(neutral), ITEMS_PER_COMMAND):
        chunk = neutral[start:start + ITEMS_PER_COMMAND]
        parts = [b"*%d\r\n" % (2 + width * len(chunk)), head]
        if kind == "hash":
            for field, val in chunk:
                parts.append(bulk(field))
                parts.append(bulk(val))
        elif kind == "zset":
            for member, score in chunk:
                parts.append(bulk(format_score(score)))
                parts.append(bulk(member))
        else:
            parts.extend([bulk(e) for e in chunk])
        records.append(b"".join(parts))
    return records


def write_base(keyspace, path: str, *, rdb_preamble: bool, incremental_fsync: bool = True,
               compress: bool = True, checksum: bool = True, key_delay_us: int = 0,
               timestamp: bool = False, functions=()) -> None:
    """Write the base file to `path` atomically. Raises OSError. A base of commands
    starts with a "#TS:" line under aof-timestamp-enabled, as Redis writes it, then
    a FUNCTION LOAD per library (rewriteFunctions), then the keys."""
    temp = "%s.tmp-%d" % (path, os.getpid())
    try:
        with open(temp, "wb") as f:
            stream = IncrementalFsync(f, incremental_fsync)
            if rdb_preamble:
                write_keyspace(keyspace, stream, compress=compress, checksum=checksum,
                               aof_base=True, key_delay_us=key_delay_us,
                               functions=functions)
            else:
                if timestamp:
                    stream.write(b"#TS:%d\r\n" % int(time.time()))
                for code in functions:
                    stream.write(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n%s"
                                 % bulk(code))
                write_commands(keyspace, stream, key_delay_us=key_delay_us)
            f.flush()
            os.fsync(f.fileno())
        os.rename(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
