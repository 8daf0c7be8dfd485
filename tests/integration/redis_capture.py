"""A fake cluster node in the test process, to capture what a real redis-server writes on
its cluster bus.

``FakeBusPeer`` listens on a bus port of its own; ``CLUSTER MEET 127.0.0.1 <port> <cport>``
on a redis-server makes Redis connect to it. Every message read is kept, raw, with the
connection it came on; PING and MEET are answered with a PONG (encoded by
cluster.redis_bus), so Redis completes the handshake and keeps the peer as a healthy
node. It can also connect to a Redis bus port and send what a test wants.

Blocking sockets and select() only, no gevent: the test drives it step by step.
"""
from __future__ import annotations

import select
import socket
import struct
import time

from cluster import messages as m
from cluster import redis_bus as rb


class FakeBusPeer:
    def __init__(self, name: str, port: int):
        self.name = name
        self.port = port   # the client port we claim (nothing listens there)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.cport = self.listener.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.buffers: dict[socket.socket, bytearray] = {}
        self.frames: list[tuple[socket.socket, bytes]] = []  # (connection, raw message)
        # What our headers (and the automatic PONGs) say about us.
        self.slots: list[tuple[int, int]] = []
        self.config_epoch = 0
        self.current_epoch = 0
        self.master_id: str | None = None

    def header(self, **overrides) -> m.Header:
        fields = dict(sender=self.name, current_epoch=self.current_epoch,
                      config_epoch=self.config_epoch, repl_offset=0,
                      flags=2 if self.master_id else 1, master_id=self.master_id, ip="",
                      port=self.port, cport=self.cport, cluster_ok=True, mflags=0,
                      shard_id=self.master_id or self.name, slots=self.slots)
        fields.update(overrides)
        return m.Header(**fields)

    def connect(self, cport: int) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", cport), timeout=5)
        self._add(sock)
        return sock

    def send(self, sock: socket.socket, msg: m.Message, **kw) -> None:
        sock.sendall(rb.encode(msg, **kw))

    def _add(self, sock: socket.socket) -> None:
        sock.setblocking(True)
        self.conns.append(sock)
        self.buffers[sock] = bytearray()

    def pump(self, seconds: float) -> None:
        """Accept, read and answer for `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            readable, _, _ = select.select([self.listener, *self.conns], [], [], min(left, 0.05))
            for sock in readable:
                if sock is self.listener:
                    conn, _ = self.listener.accept()
                    self._add(conn)
                    continue
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self.conns.remove(sock)
                    sock.close()
                    continue
                self._parse(sock, data)

    def _parse(self, sock: socket.socket, data: bytes) -> None:
        buf = self.buffers[sock]
        buf += data
        while len(buf) >= 8:
            (totlen,) = struct.unpack_from(">I", buf, 4)
            if len(buf) < totlen:
                return
            raw = bytes(buf[:totlen])
            del buf[:totlen]
            self.frames.append((sock, raw))
            msg_type = struct.unpack_from(">H", raw, 12)[0]
            if msg_type in (m.PING, m.MEET):
                try:
                    sock.sendall(rb.encode(m.Pong(self.header(), [])))
                except OSError:
                    pass

    def wait_for(self, msg_type: int, timeout: float = 15.0, after: int = 0,
                 sender: str | None = None, match=None) -> bytes:
        """The first captured message of `msg_type` (from index `after`, from `sender` and
        for which `match(raw)` holds if given), pumping until it arrives."""
        deadline = time.monotonic() + timeout
        while True:
            for _, raw in self.frames[after:]:
                if struct.unpack_from(">H", raw, 12)[0] == msg_type and (
                        sender is None or raw[40:80] == sender.encode()) and (
                        match is None or match(raw)):
                    return raw
            if time.monotonic() > deadline:
                raise AssertionError("no message of type %d captured in %.0fs (got %s)" % (
                    msg_type, timeout,
                    [struct.unpack_from(">H", r, 12)[0] for _, r in self.frames]))
            self.pump(0.1)

    def close(self) -> None:
        for sock in self.conns:
            sock.close()
        self.listener.close()
