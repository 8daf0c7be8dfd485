"""Cluster bus wire format: frames carrying msgpack bodies, sans-I/O.

A frame is::

    b"RCmp"  version:u8  length:u32 big-endian  body[length]

``length`` is checked against ``max_frame`` as soon as the 9-byte prefix has
arrived, before any of the body is buffered, so a peer cannot make us hold
more than one maximal frame.

The body is a msgpack array whose first element is the message type; the
numbering is Redis's (``CLUSTERMSG_TYPE_*``) so the per-type statistics of
CLUSTER INFO line up. It carries the same information as Redis's 2256-byte
``clusterMsg`` header, but slots travel as a flat list of inclusive ranges
``[s1, e1, s2, e2, ...]`` and node ids as 20 raw bytes, so a heartbeat of a
small cluster is a couple of hundred bytes::

    PING/PONG/MEET   [type, header, gossip_ips, gossip_records]
    FAIL             [type, header, node_id]
    UPDATE           [type, header, config_epoch, node_id, slots]
    AUTH_REQ/ACK, MFSTART   [type, header]
    PUBLISH(SHARD)   [type, sender_id, channel, message]   (no header, like Valkey's light header)

    header = [sender, current_epoch, config_epoch, repl_offset, flags,
              master_id or nil, announced_ip, port, cport, cluster_state,
              mflags, shard_id, slots, (hostname)]

The hostname (cluster-announce-hostname, what Redis sends as its HOSTNAME ping
extension) is a 14th field sent only when set, so a header without one is the 13
fields older nodes send and read.

The gossip section is most of what the bus carries at scale (N/10 entries in
every heartbeat, N^2 heartbeats while a cluster forms), so it is packed rather
than a msgpack array per entry: ``gossip_records`` is one binary string of
fixed 38-byte records, unpacked in C by ``struct.iter_unpack``::

    node_id:20 raw bytes  pong_received_seconds:u64  ip_index:u16
    port:u16  cport:u16  flags:u16  pport:u16          (big-endian)

and ``gossip_ips`` the distinct addresses the records name by index (one,
usually, in a cluster on one host; pport is 0 outside a TLS cluster).
Redis's gossip entry also has ``ping_sent``; no receiver reads it, so we do
not send it.

Every field is type-checked on decode: a body that is valid msgpack but has a
wrong shape raises :class:`BusProtocolError` here, never an odd exception
later in the state machine.

This is our own format, spoken between our nodes. Redis's binary format, for links to
a redis-server, is :mod:`cluster.redis_bus`, decoding to the same message classes;
:mod:`cluster.link_format` picks the format of each link.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple, Union

import msgpack

from cluster.epochs import MAX_EPOCH
from cluster.errors import BusProtocolError
from cluster.slots import CLUSTER_SLOTS, SlotRange

SIGNATURE = b"RCmp"
VERSION = 1
PREFIX = struct.Struct(">4sBI")
PREFIX_LEN = PREFIX.size  # 9
MAX_FRAME_BYTES = 1 << 20

# Message types, numbered as Redis numbers them.
PING = 0
PONG = 1
MEET = 2
FAIL = 3
PUBLISH = 4
FAILOVER_AUTH_REQUEST = 5
FAILOVER_AUTH_ACK = 6
UPDATE = 7
MFSTART = 8
MODULE = 9  # not supported; present so the numbering and stats table match Redis
PUBLISHSHARD = 10
MESSAGE_TYPE_COUNT = 11

# The names CLUSTER INFO uses (clusterGetMessageTypeString).
MESSAGE_TYPE_NAMES = (
    "ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack",
    "update", "mfstart", "module", "publishshard",
)

# mflags[0] bits.
MFLAG_PAUSED = 1 << 0
MFLAG_FORCEACK = 1 << 1

_MAX_U64 = (1 << 64) - 1
_MAX_IP_LEN = 46  # INET6_ADDRSTRLEN, as in Redis
_MAX_HOSTNAME_LEN = 256  # NET_HOST_STR_LEN
_HOSTNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
_MAX_CHANNEL_BYTES = MAX_FRAME_BYTES


@dataclass(slots=True)
class Header:
    """What every message but PUBLISH says about its sender (Redis's clusterMsg header)."""
    sender: str
    current_epoch: int
    config_epoch: int      # the master's configEpoch when the sender is a replica
    repl_offset: int
    flags: int             # sender's node flags (cluster.state.NODE_*)
    master_id: str | None  # None when the sender is a master
    ip: str                # announced ip, "" to let the receiver use the socket peer address
    port: int
    cport: int
    cluster_ok: bool
    mflags: int
    shard_id: str
    slots: list[SlotRange] = field(default_factory=list)  # the master's slots if a replica
    hostname: str = ""     # cluster-announce-hostname; "" when none (read from heartbeats)
    pport: int = 0         # tls-cluster: the plaintext client port beside `port` (TLS)


class GossipEntry(NamedTuple):
    """One gossip entry. Heartbeats carry entries as plain tuples in this field order
    (what the decoder and send_ping build: a NamedTuple costs 2.6 times as much to
    make, and at 1000 nodes a node handles millions of entries); this class names
    the fields, and builds an entry where speed does not matter."""
    node_id: str
    pong_received_s: int
    ip: str
    port: int
    cport: int
    flags: int
    pport: int = 0         # tls-cluster: the node's plaintext client port


@dataclass(slots=True)
class Ping:
    TYPE: ClassVar[int] = PING
    header: Header
    gossip: list[tuple] = field(default_factory=list)   # GossipEntry fields


@dataclass(slots=True)
class Pong:
    TYPE: ClassVar[int] = PONG
    header: Header
    gossip: list[tuple] = field(default_factory=list)   # GossipEntry fields


@dataclass(slots=True)
class Meet:
    TYPE: ClassVar[int] = MEET
    header: Header
    gossip: list[tuple] = field(default_factory=list)   # GossipEntry fields


@dataclass(slots=True)
class Fail:
    TYPE: ClassVar[int] = FAIL
    header: Header
    node_id: str


@dataclass(slots=True)
class Update:
    TYPE: ClassVar[int] = UPDATE
    header: Header
    config_epoch: int
    node_id: str
    slots: list[SlotRange]


@dataclass(slots=True)
class FailoverAuthRequest:
    TYPE: ClassVar[int] = FAILOVER_AUTH_REQUEST
    header: Header


@dataclass(slots=True)
class FailoverAuthAck:
    TYPE: ClassVar[int] = FAILOVER_AUTH_ACK
    header: Header


@dataclass(slots=True)
class MfStart:
    TYPE: ClassVar[int] = MFSTART
    header: Header


@dataclass(slots=True)
class Publish:
    TYPE: ClassVar[int] = PUBLISH
    sender: str
    channel: bytes
    message: bytes


@dataclass(slots=True)
class PublishShard:
    TYPE: ClassVar[int] = PUBLISHSHARD
    sender: str
    channel: bytes
    message: bytes


Heartbeat = Union[Ping, Pong, Meet]
Message = Union[Ping, Pong, Meet, Fail, Update, FailoverAuthRequest,
                FailoverAuthAck, MfStart, Publish, PublishShard]
HEARTBEAT_TYPES = (Ping, Pong, Meet)
_HEADER_ONLY = {FAILOVER_AUTH_REQUEST: FailoverAuthRequest,
                FAILOVER_AUTH_ACK: FailoverAuthAck, MFSTART: MfStart}
_HEARTBEATS = {PING: Ping, PONG: Pong, MEET: Meet}


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------

# Node ids are 40 hex characters in the state and 20 raw bytes on the wire. A cluster
# has a bounded set of ids, and every heartbeat carries N/10 of them each way, so the
# conversions are remembered: a dict hit costs a quarter of bytes.fromhex, and a decoded
# id is then the very str object the node table holds as a key (its hash cached, equal
# by identity). Cleared when it grows past any real cluster, so junk ids cannot pile up.
_ID_CACHE_LIMIT = 1 << 16
_id_to_bytes: dict[str, bytes] = {}
_id_to_text: dict[bytes, str] = {}


def _id_bytes(node_id: str) -> bytes:
    raw = _id_to_bytes.get(node_id)
    if raw is None:
        raw = bytes.fromhex(node_id)
        if len(_id_to_bytes) >= _ID_CACHE_LIMIT:
            _id_to_bytes.clear()
        _id_to_bytes[node_id] = raw
    return raw


def _id_text(raw: bytes) -> str:
    """The id for 20 raw bytes the caller checked."""
    text = _id_to_text.get(raw)
    if text is None:
        text = raw.hex()
        if len(_id_to_text) >= _ID_CACHE_LIMIT:
            _id_to_text.clear()
        _id_to_text[raw] = text
    return text


def _flat_slots(ranges: list[SlotRange]) -> list[int]:
    flat: list[int] = []
    for start, end in ranges:
        flat.append(start)
        flat.append(end)
    return flat


def _header_fields(h: Header) -> list[Any]:
    fields = [
        _id_bytes(h.sender), h.current_epoch, h.config_epoch, h.repl_offset,
        h.flags, _id_bytes(h.master_id) if h.master_id else None, h.ip,
        h.port, h.cport, 0 if h.cluster_ok else 1, h.mflags,
        _id_bytes(h.shard_id), _flat_slots(h.slots),
    ]
    # Optional trailing fields: the hostname, then pport (only in a TLS cluster).
    if h.pport:
        fields += [h.hostname, h.pport]
    elif h.hostname:
        fields.append(h.hostname)
    return fields


_GOSSIP_RECORD = struct.Struct(">20sQHHHHH")
GOSSIP_RECORD_BYTES = _GOSSIP_RECORD.size    # 38


def _gossip_section(gossip: list[tuple]) -> tuple[list[str], bytes]:
    """(gossip_ips, gossip_records) for a heartbeat's entries."""
    ips: dict[str, int] = {}
    records = []
    pack = _GOSSIP_RECORD.pack
    ids = _id_to_bytes
    for node_id, pong_s, ip, port, cport, flags, pport in gossip:
        index = ips.get(ip)
        if index is None:
            index = ips[ip] = len(ips)
        records.append(pack(ids.get(node_id) or _id_bytes(node_id), pong_s, index, port,
                            cport, flags, pport))
    return list(ips), b"".join(records)


def encode_body(msg: Message) -> bytes:
    """The msgpack body of ``msg`` (no frame prefix)."""
    t = msg.TYPE
    if t in _HEARTBEATS:
        ips, records = _gossip_section(msg.gossip)
        body = [t, _header_fields(msg.header), ips, records]
    elif t == FAIL:
        body = [t, _header_fields(msg.header), _id_bytes(msg.node_id)]
    elif t == UPDATE:
        body = [t, _header_fields(msg.header), msg.config_epoch,
                _id_bytes(msg.node_id), _flat_slots(msg.slots)]
    elif t in _HEADER_ONLY:
        body = [t, _header_fields(msg.header)]
    elif t in (PUBLISH, PUBLISHSHARD):
        body = [t, _id_bytes(msg.sender), bytes(msg.channel), bytes(msg.message)]
    else:  # pragma: no cover - every Message class is handled above
        raise TypeError(f"cannot encode {msg!r}")
    return msgpack.packb(body, use_bin_type=True)


def encode(msg: Message) -> bytes:
    """One complete frame for ``msg``."""
    body = encode_body(msg)
    return PREFIX.pack(SIGNATURE, VERSION, len(body)) + body


# --------------------------------------------------------------------------
# Decoding and validation
# --------------------------------------------------------------------------

def _fail(what: str) -> BusProtocolError:
    return BusProtocolError(f"invalid cluster bus message: {what}")


def _int(value: Any, what: str, hi: int = _MAX_U64) -> int:
    # bool is an int subclass; a peer sending true for an epoch is broken.
    if type(value) is not int or not 0 <= value <= hi:
        raise _fail(f"{what} must be an integer in 0..{hi}")
    return value


def _node_id(value: Any, what: str) -> str:
    if type(value) is not bytes or len(value) != 20:
        raise _fail(f"{what} must be a 20-byte node id")
    return _id_text(value)


def _ip(value: Any, what: str) -> str:
    if type(value) is not str or len(value) > _MAX_IP_LEN:
        raise _fail(f"{what} must be a string of at most {_MAX_IP_LEN} characters")
    return value


def _bin(value: Any, what: str) -> bytes:
    if type(value) is not bytes:
        raise _fail(f"{what} must be binary")
    return value


def _list(value: Any, what: str, length: int | None = None) -> list:
    if type(value) is not list or (length is not None and len(value) != length):
        shape = "a list" if length is None else f"a list of {length} items"
        raise _fail(f"{what} must be {shape}")
    return value


def _slot_ranges(value: Any, what: str) -> list[SlotRange]:
    flat = _list(value, what)
    if len(flat) % 2:
        raise _fail(f"{what} must hold start/end pairs")
    ranges: list[SlotRange] = []
    previous_end = -1
    for i in range(0, len(flat), 2):
        start, end = flat[i], flat[i + 1]
        if (type(start) is not int or type(end) is not int
                or not previous_end < start <= end < CLUSTER_SLOTS):
            raise _fail(f"{what} must be ascending, disjoint ranges of slots")
        ranges.append((start, end))
        previous_end = end
    return ranges


def check_hostname(value: Any) -> str:
    """A peer's hostname, as cluster-announce-hostname allows it: 1-255 letters, digits,
    '-' and '.'. Anything else is refused: it would break the CLUSTER NODES line and the
    nodes.conf line it goes into (Redis checks only its own setting). Both formats use it."""
    if type(value) is not str or not value or len(value) >= _MAX_HOSTNAME_LEN \
            or not _HOSTNAME_CHARS.issuperset(value):
        raise _fail("hostname must be 1-255 letters, digits, '-' or '.'")
    return value


def _header(value: Any) -> Header:
    """The header of a message: every message has one, so the usual header (13 fields,
    every check passing) is checked in one expression; anything else is checked field
    by field by _checked_header, which names the bad field."""
    if type(value) is list and len(value) == 13:
        (sender, current_epoch, config_epoch, repl_offset, flags, master, ip, port, cport,
         state, mflags, shard, slots) = value
        if (type(sender) is bytes and len(sender) == 20
                and type(shard) is bytes and len(shard) == 20
                and (master is None or type(master) is bytes and len(master) == 20)
                and type(current_epoch) is int and 0 <= current_epoch <= MAX_EPOCH
                and type(config_epoch) is int and 0 <= config_epoch <= MAX_EPOCH
                and type(repl_offset) is int and 0 <= repl_offset <= _MAX_U64
                and type(flags) is int and 0 <= flags <= 0xFFFF
                and type(ip) is str and len(ip) <= _MAX_IP_LEN
                and type(port) is int and 0 <= port <= 0xFFFF
                and type(cport) is int and 0 <= cport <= 0xFFFF
                and type(state) is int and 0 <= state <= 1
                and type(mflags) is int and 0 <= mflags <= 0xFF):
            texts = _id_to_text
            return Header(texts.get(sender) or _id_text(sender), current_epoch, config_epoch,
                          repl_offset, flags,
                          None if master is None else texts.get(master) or _id_text(master),
                          ip, port, cport, state == 0, mflags,
                          texts.get(shard) or _id_text(shard), _slot_ranges(slots, "slots"))
    return _checked_header(value)


def _checked_header(value: Any) -> Header:
    pport = 0
    if type(value) is list and len(value) == 15:
        pport = _int(value[14], "pport", 0xFFFF)
        value = value[:14]
    if type(value) is list and len(value) == 14:
        # "" only as the placeholder before a pport
        hostname = check_hostname(value[13]) if value[13] or not pport else ""
        value = value[:13]
    else:
        hostname = ""
    f = _list(value, "header", 13)
    master = None if f[5] is None else _node_id(f[5], "master id")
    state = _int(f[9], "cluster state", 1)
    return Header(
        sender=_node_id(f[0], "sender"),
        current_epoch=_int(f[1], "currentEpoch", MAX_EPOCH),
        config_epoch=_int(f[2], "configEpoch", MAX_EPOCH),
        repl_offset=_int(f[3], "replication offset"),
        flags=_int(f[4], "flags", 0xFFFF),
        master_id=master,
        ip=_ip(f[6], "ip"),
        port=_int(f[7], "port", 0xFFFF),
        cport=_int(f[8], "cport", 0xFFFF),
        cluster_ok=state == 0,
        mflags=_int(f[10], "mflags", 0xFF),
        shard_id=_node_id(f[11], "shard id"),
        slots=_slot_ranges(f[12], "slots"),
        hostname=hostname,
        pport=pport,
    )


def _gossip(ips: Any, records: Any) -> list[tuple]:
    """The entries of a gossip section, as tuples in GossipEntry's field order. The
    records' sizes and integer ranges are the struct format's own; what is left to
    check is the address table and the indexes into it."""
    for ip in _list(ips, "gossip addresses"):
        _ip(ip, "gossip ip")
    if type(records) is not bytes or len(records) % GOSSIP_RECORD_BYTES:
        raise _fail(f"gossip records must be binary, {GOSSIP_RECORD_BYTES} bytes each")
    texts = _id_to_text
    try:
        return [(texts.get(raw) or _id_text(raw), pong_s, ips[index], port, cport, flags, pport)
                for raw, pong_s, index, port, cport, flags, pport
                in _GOSSIP_RECORD.iter_unpack(records)]
    except IndexError:
        raise _fail("gossip address index out of range") from None


def decode_body(body: bytes) -> Message:
    """Decode and validate one msgpack body; raise BusProtocolError if it is not a message."""
    try:
        # Bounded: str/bin/array sizes can never exceed the body length anyway.
        obj = msgpack.unpackb(body, raw=False, use_list=True, strict_map_key=True,
                              max_ext_len=0, max_map_len=0)
    except Exception as exc:  # msgpack raises several unrelated classes
        raise _fail(f"undecodable msgpack ({exc.__class__.__name__})") from None
    if type(obj) is not list or not obj:
        raise _fail("body must be a non-empty list")
    t = obj[0]
    if type(t) is not int:
        raise _fail("message type must be an integer")
    if t in _HEARTBEATS:
        _list(obj, "heartbeat", 4)
        return _HEARTBEATS[t](_header(obj[1]), _gossip(obj[2], obj[3]))
    if t == FAIL:
        _list(obj, "FAIL", 3)
        return Fail(_header(obj[1]), _node_id(obj[2], "failing node id"))
    if t == UPDATE:
        _list(obj, "UPDATE", 5)
        return Update(_header(obj[1]), _int(obj[2], "UPDATE configEpoch", MAX_EPOCH),
                      _node_id(obj[3], "UPDATE node id"), _slot_ranges(obj[4], "UPDATE slots"))
    if t in _HEADER_ONLY:
        _list(obj, "message", 2)
        return _HEADER_ONLY[t](_header(obj[1]))
    if t in (PUBLISH, PUBLISHSHARD):
        _list(obj, "PUBLISH", 4)
        cls = Publish if t == PUBLISH else PublishShard
        return cls(_node_id(obj[1], "sender"), _bin(obj[2], "channel"), _bin(obj[3], "message"))
    raise _fail(f"unknown message type {t}")


def decode(frame: bytes, max_frame: int = MAX_FRAME_BYTES) -> Message:
    """Decode exactly one complete frame (convenience for tests and the simulator)."""
    reader = FrameReader(max_frame)
    messages = reader.feed(frame)
    if len(messages) != 1 or reader.buffered:
        raise _fail("expected exactly one complete frame")
    return messages[0]


# A frame signed with cluster-bus-secret: the body is followed by an HMAC tag (the
# length counts it). cluster.bus_auth signs and checks; this module only frames.
SIGNED_VERSION = 2


def body_length(buf, pos: int, max_frame: int, signed_ok: bool = False) -> int:
    """The body length a frame prefix at ``buf[pos:pos + PREFIX_LEN]`` announces, checked
    before any of the body is buffered. ``signed_ok``: the caller checks signed frames
    (cluster.link_format does, with cluster.bus_auth)."""
    sig, version, length = PREFIX.unpack_from(buf, pos)
    if sig != SIGNATURE:
        raise _fail("bad signature")
    if version != VERSION and not (signed_ok and version == SIGNED_VERSION):
        raise _fail(f"unsupported version {version}")
    if length == 0 or length > max_frame:
        raise _fail(f"frame length {length} outside 1..{max_frame}")
    return length


class FrameReader:
    """Incremental frame parser: ``feed(bytes)`` returns the messages completed so far.

    After it has raised BusProtocolError the reader is poisoned (the link must
    be closed); further feeds raise again.
    """

    __slots__ = ("max_frame", "_buf", "_need", "_error")

    def __init__(self, max_frame: int = MAX_FRAME_BYTES):
        self.max_frame = max_frame
        self._buf = bytearray()
        self._need = 0  # body length of the frame being read, 0 while reading a prefix
        self._error: BusProtocolError | None = None

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        if self._error is not None:
            raise self._error
        try:
            return self._feed(data)
        except BusProtocolError as exc:
            self._error = exc
            self._buf = bytearray()
            raise

    def _feed(self, data: bytes) -> list[Message]:
        buf = self._buf
        buf += data
        messages: list[Message] = []
        pos = 0
        # Parse with an offset and delete the consumed prefix once at the end:
        # many small frames per read stay O(bytes), not O(frames * buffer).
        while True:
            if not self._need:
                if len(buf) - pos < PREFIX_LEN:
                    break
                self._need = body_length(buf, pos, self.max_frame)
                pos += PREFIX_LEN
            if len(buf) - pos < self._need:
                break
            end = pos + self._need
            messages.append(decode_body(bytes(buf[pos:end])))
            pos = end
            self._need = 0
        if pos:
            del buf[:pos]
        return messages
