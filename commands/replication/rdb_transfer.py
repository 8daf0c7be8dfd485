"""Receiving a full sync's RDB, the replica's side (Redis's readSyncBulkPayload).

After +FULLRESYNC the master sends (newline keepalives first, while its child works):

    $<len>\\r\\n<len bytes of RDB>                         disk-based master
    $EOF:<40-byte mark>\\r\\n<RDB><the same 40 bytes>      diskless master

then the stream. A diskless master sends nothing after the mark until our first
REPLCONF ACK, so "the last 40 bytes received are the mark" is the end, as in Redis.

`PayloadReader` turns the socket into a file-like `.read(n)` that ends where the RDB
ends (it never reads past a `$<len>` payload; it strips the mark), so the RDB codec's
RdbReader can parse straight from the socket, a window at a time, or the bytes can be
copied to a file first.

Where the RDB goes (repl-diskless-load; the same choices as Redis, one simplification):

    disabled      (default) to `<dir>/temp-<time>.<pid>.rdb` while our old data is still
                  served; renamed over dbfilename (it is our dataset now, as in Redis;
                  removed after loading with rdb-del-sync-files and no persistence),
                  then flush and load from it. Memory: one window.
    on-empty-db   straight from the socket into the keyspace when it is empty, else as
                  `disabled`.
    swapdb        straight from the socket into a new keyspace, swapped in when the RDB
                  is complete; a bad RDB leaves the old data in place. While loading,
                  the old data is served when it is an earlier state of the same
                  history (same replid: Redis's async loading), else -LOADING. Memory:
                  both datasets, as in Redis.
"""
import os
import time

EOF_MARK_SIZE = 40
RECV_SIZE = 64 * 1024
COPY_CHUNK = 1 << 20


class TransferError(Exception):
    """The transfer broke: the link is dropped and retried."""


def parse_preamble(line: bytes):
    """The first line after +FULLRESYNC (or SYNC): -> (size, None) or (None, mark)."""
    if line[:1] == b"-":
        raise TransferError("MASTER aborted replication with an error: %s"
                            % line[1:].decode(errors="replace"))
    if line[:1] != b"$":
        raise TransferError("Bad protocol from MASTER, the first byte is not '$' (we "
                            "received '%s'), are you sure the host and port are right?"
                            % line[:100].decode(errors="replace"))
    if line[1:5] == b"EOF:" and len(line) >= 5 + EOF_MARK_SIZE:
        return None, line[5:5 + EOF_MARK_SIZE]
    try:
        size = int(line[1:])
    except ValueError:
        size = -1
    if size < 0:
        raise TransferError("Bad RDB length from MASTER: %r" % line[:100])
    return size, None


class PayloadReader:
    """The RDB payload on the socket as a file-like object ending where the RDB ends.

    `head` holds bytes already received past the preamble line. `on_bytes(n)` is told
    of every payload byte received (INFO master_sync_read_bytes, the I/O clock)."""

    def __init__(self, sock, head: bytes, size=None, mark=None, on_bytes=None):
        self.sock = sock
        self.size = size                  # None: ends at the mark
        self.mark = mark
        self.on_bytes = on_bytes
        self.received = 0
        self.done = False
        self._pending = bytearray()       # mark mode: received, not yet handed out
        self._head = b""
        self.leftover = b""               # bytes of `head` past a sized payload: stream
        if size is not None and len(head) > size:
            head, self.leftover = head[:size], head[size:]
        self._take(head)

    def _take(self, data) -> None:
        self.received += len(data)
        if self.on_bytes is not None and data:
            self.on_bytes(len(data))
        if self.mark is None:
            self._head += data
            return
        self._pending += data
        if self._pending.endswith(self.mark):
            del self._pending[-EOF_MARK_SIZE:]
            self.done = True

    def _recv(self, n: int) -> None:
        data = self.sock.recv(n)
        if not data:
            raise TransferError("the master closed the connection during the transfer "
                                "(%d bytes received)" % self.received)
        self._take(data)

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = COPY_CHUNK
        if self.mark is None:
            return self._read_sized(n)
        pending = self._pending
        while not self.done and len(pending) <= EOF_MARK_SIZE:
            self._recv(RECV_SIZE)
        # Hand out all but the last 40 bytes until the mark is seen: they may be it.
        avail = len(pending) if self.done else len(pending) - EOF_MARK_SIZE
        give = min(n, avail)
        out = bytes(pending[:give])
        del pending[:give]
        return out

    def _read_sized(self, n: int) -> bytes:
        if self._head:
            out, self._head = self._head[:n], self._head[n:]
            return out
        left = self.size - self.received
        if left <= 0:
            self.done = True
            return b""
        self._recv(min(n, left, RECV_SIZE * 16))
        out, self._head = self._head, b""
        return out


def temp_file_path(directory: str) -> str:
    """Redis's name for the replica's transfer file."""
    return os.path.join(directory, "temp-%d.%d.rdb" % (int(time.time()), os.getpid()))


def copy_to_file(reader: PayloadReader, path: str, pause=None) -> int:
    """Write the whole payload to `path` (repl-diskless-load disabled); returns its size.
    pause() runs between chunks (the caller yields to other greenlets there)."""
    written = 0
    with open(path, "wb") as out:
        while True:
            data = reader.read(COPY_CHUNK)
            if not data:
                break
            out.write(data)
            written += len(data)
            if pause is not None:
                pause()
        out.flush()
        os.fsync(out.fileno())
    return written
