"""Which wire format a bus link speaks: Redis's (cluster.redis_bus, "RCmb") or our compact
one (cluster.messages, "RCmp"). Sans-I/O: the bus keeps one LinkCodec per link.

Both formats start every message with a 4-byte signature, so the choice is made per
message and per direction, and the state machine never sees it (both codecs produce
the same message objects). The rule:

1. Reading: every message is decoded by the codec its signature names, on any link, at
   any message boundary. Anything else is a bad message: the link is closed.
2. Writing: we write Redis's format to a peer unless it is known to read ours. It is
   known to read ours once
     a. it has sent a compact message on this link, or
     b. a Redis-format PING/PONG/MEET it sent on this link carried the COMPACT_BUS ping
        extension (redis_bus.EXT_TYPE_COMPACT_BUS), or
     c. (an outbound link) its node name was learned by a. or b. on an earlier link; the
        bus remembers such names (``peer_name`` tells it which) and forgets one whose
        compact-first link closes before the peer sent a byte.
   A link switches once, to compact, and stays there.
3. While a link writes Redis's format, its first PING/PONG/MEET carries the COMPACT_BUS
   extension. Our nodes switch on it (2b); a Redis node skips the unknown extension type
   (logging it, once per link) and the link simply stays in Redis's format.

So two of our nodes pay one Redis-format message per new link (a MEET or first PING of
about 2.3 KB) and then speak compact; a Redis node and ours speak Redis's format.

With cluster-bus-secret set (cluster.bus_auth) there is no choice left: every frame we
write is compact and signed, and every frame we read must be compact and carry a valid
tag; a Redis-format message is refused (BusAuthError) before its length is read.
"""

from __future__ import annotations

from typing import Callable

from cluster import bus_auth
from cluster import messages as m
from cluster import redis_bus as rb
from cluster.errors import BusAuthError, BusProtocolError

_HEARTBEATS = (m.PING, m.PONG, m.MEET)
_PUBLISHES = (m.PUBLISH, m.PUBLISHSHARD)
_SIGNATURE_LEN = 4


class LinkCodec:
    """One link's reader and writer. ``feed(bytes)`` returns the messages completed so
    far (raising BusProtocolError for a bad one: close the link; the codec then stays
    poisoned); ``encode(msg, header)`` returns the bytes to send."""

    __slots__ = ("compact", "advertised", "peer_name", "max_frame", "secret", "_buf",
                 "_need", "_compact_frame", "_error")

    def __init__(self, compact: bool = False, max_frame: int = m.MAX_FRAME_BYTES,
                 secret: bytes | None = None):
        self.secret = None          # cluster-bus-secret (set_secret)
        self.compact = compact      # write the compact format (rule 2)
        self.advertised = False     # the COMPACT_BUS extension went out (rule 3)
        self.peer_name: str | None = None  # the sender whose message made us switch
        self.max_frame = max_frame
        self._buf = bytearray()
        self._need = 0              # length of the message being read, 0 between messages
        self._compact_frame = False
        self._error: BusProtocolError | None = None
        self.set_secret(secret)

    def set_secret(self, secret: bytes | None) -> None:
        """cluster-bus-secret, also when CONFIG SET changes it: from the next message on."""
        self.secret = secret or None
        if self.secret is not None:
            self.compact = True

    @property
    def buffered(self) -> int:
        return len(self._buf)

    # ------------------------------------------------------------------ reading

    def feed(self, data: bytes) -> list[m.Message]:
        if self._error is not None:
            raise self._error
        try:
            return self._feed(data)
        except BusProtocolError as exc:
            self._error = exc
            self._buf = bytearray()
            raise

    def _feed(self, data: bytes) -> list[m.Message]:
        buf = self._buf
        buf += data
        out: list[m.Message] = []
        pos = 0
        while True:
            if not self._need and not self._start_message(buf, pos):
                break
            if len(buf) - pos < self._need:
                break
            end = pos + self._need
            msg = self._decode(bytes(buf[pos:end]))
            if msg is not None:
                out.append(msg)
            pos = end
            self._need = 0
        if pos:
            del buf[:pos]
        return out

    def _start_message(self, buf: bytearray, pos: int) -> bool:
        """Read the next message's length from its prefix; False until it has arrived."""
        available = len(buf) - pos
        if available < _SIGNATURE_LEN:
            return False
        signature = bytes(buf[pos:pos + _SIGNATURE_LEN])
        if signature == m.SIGNATURE:
            if available < m.PREFIX_LEN:
                return False
            self._need = m.PREFIX_LEN + m.body_length(buf, pos, self.max_frame, signed_ok=True)
            self._compact_frame = True
        elif signature == rb.SIGNATURE:
            if self.secret is not None:
                raise BusAuthError("a message in Redis's format, which cannot be signed, "
                                   "but cluster-bus-secret is set")
            if available < 8:
                return False
            self._need = rb.frame_length(bytes(buf[pos:pos + 8]), self.max_frame)
            self._compact_frame = False
        else:
            raise BusProtocolError("invalid cluster bus message: bad signature")
        return True

    def _decode(self, frame: bytes) -> m.Message | None:
        if self._compact_frame:
            msg = m.decode_body(bus_auth.open_frame(self.secret, frame))
            self._peer_speaks_compact(msg)
            return msg
        decoded = rb.decode_frame(frame, self.max_frame)
        exts = decoded.extensions
        if exts is not None and exts.compact_version == m.VERSION:
            self._peer_speaks_compact(decoded.message)
        return decoded.message

    def _peer_speaks_compact(self, msg: m.Message) -> None:
        if not self.compact:
            self.compact = True
            self.peer_name = msg.sender if msg.TYPE in _PUBLISHES else msg.header.sender

    # ------------------------------------------------------------------ writing

    def encode(self, msg: m.Message, header: Callable[[], m.Header]) -> bytes:
        """The bytes of ``msg`` in this link's format. ``header()`` is the sender's current
        header, needed only for a Redis-format PUBLISH."""
        if self.secret is not None:
            return bus_auth.seal(self.secret, m.encode_body(msg))
        if self.compact:
            return m.encode(msg)
        t = msg.TYPE
        advertise = t in _HEARTBEATS and not self.advertised
        if advertise:
            self.advertised = True
        return rb.encode(msg, publish_header=header() if t in _PUBLISHES else None,
                         advertise_compact=advertise)
