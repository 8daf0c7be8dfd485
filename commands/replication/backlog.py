"""The replication backlog: the last `size` bytes of the replication stream, by offset.

Offsets are Redis's: the stream's bytes are numbered from 1, and `end_offset` (INFO's
master_repl_offset) is the number of bytes ever appended, i.e. the offset of the last
one. A replica that has processed up to offset N asks for `PSYNC <replid> N+1`; the master
can continue it from the backlog when byte N+1 is still held (or is the next byte to be
written, when the replica is fully caught up).

The buffer is circular: a bytearray of `size` bytes and a write position, so appending
costs O(bytes appended) and memory never grows past `size` (Redis's repl-backlog-size).
No sockets, no clock: replication.py and replica_link.py feed it.
"""


class ReplBacklog:
    __slots__ = ("size", "_buf", "_pos", "histlen", "end_offset")

    def __init__(self, size: int, end_offset: int = 0):
        """An empty backlog whose next byte will have offset end_offset + 1."""
        self.size = max(1, size)
        self._buf = bytearray(self.size)
        self._pos = 0                  # where the next byte goes in _buf
        self.histlen = 0               # bytes held (<= size)
        self.end_offset = end_offset

    @property
    def first_byte_offset(self) -> int:
        """Offset of the oldest byte held (INFO repl_backlog_first_byte_offset)."""
        return self.end_offset - self.histlen + 1

    def append(self, data) -> None:
        n = len(data)
        if not n:
            return
        self.end_offset += n
        size = self.size
        if n >= size:
            # Only the tail survives: the buffer restarts holding exactly it.
            self._buf[:] = data[n - size:]
            self._pos = 0
            self.histlen = size
            return
        pos = self._pos
        first = min(n, size - pos)
        self._buf[pos:pos + first] = data[:first]
        if first < n:
            self._buf[:n - first] = data[first:]
        self._pos = (pos + n) % size
        self.histlen = min(size, self.histlen + n)

    def can_continue_from(self, offset: int) -> bool:
        """Is every byte from `offset` to end_offset held (or is `offset` the next byte)?"""
        return self.first_byte_offset <= offset <= self.end_offset + 1

    def read_from(self, offset: int) -> bytes:
        """The bytes from `offset` to the end; the caller checked can_continue_from."""
        count = self.end_offset - offset + 1
        if count <= 0:
            return b""
        start = (self._pos - count) % self.size
        if start + count <= self.size:
            return bytes(self._buf[start:start + count])
        return bytes(self._buf[start:]) + bytes(self._buf[:count - (self.size - start)])

    def resize(self, size: int) -> None:
        """CONFIG SET repl-backlog-size: keep the newest bytes that still fit."""
        size = max(1, size)
        if size == self.size:
            return
        keep = min(self.histlen, size)
        tail = self.read_from(self.end_offset - keep + 1) if keep else b""
        self.size = size
        self._buf = bytearray(size)
        self._buf[:keep] = tail
        self._pos = keep % size
        self.histlen = keep
