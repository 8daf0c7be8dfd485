"""Redis 7.0's binary cluster bus format ("RCmb"), sans-I/O: bytes <-> cluster.messages.

This is the wire format of Redis 7.0's ``clusterMsg`` (src/cluster.h), so our node can
talk to a real redis-server. It decodes to, and encodes from, the very message objects
of :mod:`cluster.messages`: the state machine never knows which format a link speaks
(:mod:`cluster.link_format` picks the format per link).

Every integer is big-endian (network order). A message is one fixed 2256-byte header,
then a body whose shape depends on ``type``::

    offset  size  field
         0     4  sig           b"RCmb"
         4     4  totlen        length of the whole message, header included
         8     2  ver           1 (CLUSTER_PROTO_VER)
        10     2  port          the sender's client port
        12     2  type          CLUSTERMSG_TYPE_* (0 PING ... 10 PUBLISHSHARD)
        14     2  count         number of gossip entries (PING/PONG/MEET), else 0
        16     8  currentEpoch
        24     8  configEpoch   the sender's, or its master's if it is a replica
        32     8  offset        replication offset
        40    40  sender        node name, 40 hex characters (no NUL)
        80  2048  myslots       16384-bit slot bitmap, bit j of byte i = slot 8*i + j
      2128    40  slaveof       the master's name, all NUL bytes for a master
      2168    46  myip          announced ip, NUL-terminated; empty = "use the socket's"
      2214     2  extensions    number of ping extensions (PING/PONG/MEET)
      2216    30  notused1      zeros
      2246     2  pport         plaintext port when port is TLS, else 0
      2248     2  cport         the sender's cluster bus port
      2250     2  flags         the sender's node flags (CLUSTER_NODE_*)
      2252     1  state         0 = CLUSTER_OK, 1 = CLUSTER_FAIL
      2253     3  mflags        mflags[0]: PAUSED 1, FORCEACK 2, EXT_DATA 4
      2256        data          (the union clusterMsgData)

Bodies (``data``)::

    PING/PONG/MEET  count * clusterMsgDataGossip (104 bytes each):
                        nodename[40] ping_sent:u32 pong_received:u32 (seconds)
                        ip[46] port:u16 cport:u16 flags:u16 pport:u16 notused1:u16
                    then, if mflags[0] has EXT_DATA, ``extensions`` ping extensions:
                        length:u32 (whole extension, a multiple of 8) type:u16 unused:u16
                        payload, NUL-padded to the length
    FAIL            nodename[40]
    PUBLISH(SHARD)  channel_len:u32 message_len:u32 channel message
    UPDATE          configEpoch:u64 nodename[40] slots[2048]
    AUTH_REQ/ACK, MFSTART   nothing

Ping extension types: 0 HOSTNAME (Redis 7.0: the cluster-announce-hostname, NUL-ended);
types Redis 7.2+ adds (1 human node name, 2 forgotten node, 3 shard id) are skipped, as
Redis skips any type it does not know. ``EXT_TYPE_COMPACT_BUS`` is ours: "I also read
the compact format of cluster.messages" (see cluster.link_format).

Validity (clusterReadHandler + the checks at the top of clusterProcessPacket): the
signature, ``totlen >= 2256``, ``ver == 1``, and ``totlen`` equal to the length the type
implies (count, the extension lengths, the publish lengths). Where Redis would silently
drop such a packet and keep the link, we raise :class:`BusProtocolError` and the link is
closed: a peer that sends them is broken. Stricter than Redis, and documented as such:
node names must be 40 lowercase hex characters, ips ASCII and NUL-terminated, epochs in
the range of :mod:`cluster.epochs`, each extension at least its 8-byte header long, a
hostname NUL-terminated and made of the characters cluster-announce-hostname allows
(it goes into CLUSTER NODES and nodes.conf lines). Like Redis, a message of a type we
do not handle (MODULE, a type number >= 11) is length-checked and skipped, not refused. ``totlen`` is checked
against ``max_frame`` from the first 8 bytes, before the body is buffered.

Names mirror cluster.c; no code is shared with it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cluster import messages as m
from cluster.epochs import MAX_EPOCH
from cluster.errors import BusProtocolError
from cluster.slots import CLUSTER_SLOTS, SlotRange

SIGNATURE = b"RCmb"
CLUSTER_PROTO_VER = 1
NAMELEN = 40
NET_IP_STR_LEN = 46
SLOT_BITMAP_LEN = CLUSTER_SLOTS // 8  # 2048

# The clusterMsg header, data excluded (CLUSTERMSG_MIN_LEN == 2256).
HEADER = struct.Struct(">4sIHHHHQQQ40s2048s40s46sH30sHHHB3s")
CLUSTERMSG_MIN_LEN = HEADER.size
GOSSIP = struct.Struct(">40sII46sHHHHH")             # clusterMsgDataGossip, 104 bytes
PING_EXT = struct.Struct(">IHH")                      # clusterMsgPingExt header, 8 bytes
PUBLISH_LENS = struct.Struct(">II")                   # clusterMsgDataPublish, before bulk
PUBLISH_DATA_LEN = 8                                  # sizeof(clusterMsgDataPublish) - 8
UPDATE = struct.Struct(">Q40s2048s")                  # clusterMsgDataUpdate, 2096 bytes
FAIL_DATA_LEN = NAMELEN                               # clusterMsgDataFail
MODULE_DATA = struct.Struct(">QIB")                   # clusterMsgModule before bulk (13)
assert CLUSTERMSG_MIN_LEN == 2256 and GOSSIP.size == 104 and UPDATE.size == 2096

CLUSTERMSG_FLAG0_EXT_DATA = 1 << 2
EXT_TYPE_HOSTNAME = 0
# Ours, out of the way of Redis's small numbers: a Redis peer logs it once as an
# unknown extension type and skips it.
EXT_TYPE_COMPACT_BUS = 0xC0DE
COMPACT_EXT_PAYLOAD = m.SIGNATURE + bytes([m.VERSION, 0, 0, 0])  # 8 bytes

_NULL_NAME = bytes(NAMELEN)
_HEX = frozenset(b"0123456789abcdef")
_MAX_U32 = 0xFFFFFFFF
_MAX_U64 = (1 << 64) - 1


@dataclass(slots=True)
class PingExtensions:
    """What the ping extensions of a PING/PONG/MEET said (None: not sent)."""
    hostname: str | None = None
    compact_version: int | None = None  # the peer also reads cluster.messages frames
    skipped_types: tuple[int, ...] = ()


@dataclass(slots=True)
class RedisFrame:
    """One decoded message. ``message`` is None for a type that is skipped (MODULE,
    unknown types); ``header`` is the sender's header (PUBLISH's message keeps only the
    sender); ``extensions`` is set for PING/PONG/MEET."""
    type: int
    message: m.Message | None
    header: m.Header | None = None
    extensions: PingExtensions | None = None


def _fail(what: str) -> BusProtocolError:
    return BusProtocolError(f"invalid Redis cluster bus message: {what}")


# --------------------------------------------------------------------------
# Field conversions
# --------------------------------------------------------------------------

def slots_to_bitmap(ranges: list[SlotRange]) -> bytes:
    bits = 0
    for start, end in ranges:
        bits |= ((1 << (end - start + 1)) - 1) << start
    return bits.to_bytes(SLOT_BITMAP_LEN, "little")


def bitmap_to_slots(bitmap: bytes) -> list[SlotRange]:
    """Bit j of byte i is slot 8*i + j (bitmapTestBit), so the bitmap is one
    little-endian integer: walk its runs of ones."""
    bits = int.from_bytes(bitmap, "little")
    ranges: list[SlotRange] = []
    while bits:
        start = (bits & -bits).bit_length() - 1
        run = bits >> start
        length = (~run & (run + 1)).bit_length() - 1  # trailing ones of `run`
        ranges.append((start, start + length - 1))
        bits &= ~(((1 << length) - 1) << start)
    return ranges


def _name(raw: bytes, what: str) -> str:
    if len(raw) != NAMELEN or not _HEX.issuperset(raw):
        raise _fail(f"{what} must be 40 lowercase hex characters")
    return raw.decode("ascii")


def _name_bytes(name: str) -> bytes:
    return name.encode("ascii")


def _c_string(raw: bytes, what: str) -> str:
    end = raw.find(b"\0")
    if end < 0:
        raise _fail(f"{what} is not NUL-terminated")
    try:
        return raw[:end].decode("ascii")
    except UnicodeDecodeError:
        raise _fail(f"{what} is not ASCII") from None


def _epoch(value: int, what: str) -> int:
    if value > MAX_EPOCH:
        raise _fail(f"{what} {value} is beyond {MAX_EPOCH}")
    return value


# --------------------------------------------------------------------------
# Encoding (clusterBuildMessageHdr, clusterSendPing, clusterSend*)
# --------------------------------------------------------------------------

def _pack_header(h: m.Header, msg_type: int, totlen: int, count: int = 0,
                 extensions: int = 0, mflags: int | None = None) -> bytes:
    return HEADER.pack(
        SIGNATURE, totlen, CLUSTER_PROTO_VER, h.port, msg_type, count,
        h.current_epoch, h.config_epoch, h.repl_offset & _MAX_U64,
        _name_bytes(h.sender), slots_to_bitmap(h.slots),
        _name_bytes(h.master_id) if h.master_id else _NULL_NAME,
        _ip_bytes(h.ip), extensions, b"",
        h.pport, h.cport, h.flags, 0 if h.cluster_ok else 1,
        bytes([h.mflags if mflags is None else mflags, 0, 0]))


def _ip_bytes(ip: str) -> bytes:
    # Total: an ip learned over the compact format is any short string; a non-ASCII
    # one must not make every Redis-format heartbeat fail to encode.
    return ip.encode("ascii", "replace")[:NET_IP_STR_LEN - 1]


def _gossip_entry(entry: tuple) -> bytes:
    node_id, pong_received_s, ip, port, cport, flags, pport = entry   # m.GossipEntry
    # ping_sent is not carried by our messages (no receiver reads it): 0.
    return GOSSIP.pack(_name_bytes(node_id), 0, pong_received_s & _MAX_U32,
                       _ip_bytes(ip), port, cport, flags, pport, 0)


def _ping_ext(ext_type: int, payload: bytes) -> bytes:
    length = PING_EXT.size + (len(payload) + 7) // 8 * 8  # EIGHT_BYTE_ALIGN
    return PING_EXT.pack(length, ext_type, 0) + payload.ljust(length - PING_EXT.size, b"\0")


def encode(msg: m.Message, *, publish_header: m.Header | None = None,
           hostname: str | None = None, advertise_compact: bool = False) -> bytes:
    """One complete Redis-format message for ``msg``.

    PUBLISH carries a full header in Redis's format (our message only names the sender):
    ``publish_header`` is it, the sender's current header. The header's hostname (our
    cluster-announce-hostname; ``hostname`` overrides it) and ``advertise_compact`` add
    ping extensions to a PING/PONG/MEET."""
    t = msg.TYPE
    if t in (m.PING, m.PONG, m.MEET):
        if hostname is None:
            hostname = msg.header.hostname
        exts = []
        if hostname:
            exts.append(_ping_ext(EXT_TYPE_HOSTNAME, hostname.encode("ascii") + b"\0"))
        if advertise_compact:
            exts.append(_ping_ext(EXT_TYPE_COMPACT_BUS, COMPACT_EXT_PAYLOAD))
        gossip = b"".join(_gossip_entry(g) for g in msg.gossip)
        ext_data = b"".join(exts)
        totlen = CLUSTERMSG_MIN_LEN + len(gossip) + len(ext_data)
        mflags = msg.header.mflags | (CLUSTERMSG_FLAG0_EXT_DATA if exts else 0)
        return _pack_header(msg.header, t, totlen, len(msg.gossip), len(exts), mflags) \
            + gossip + ext_data
    if t == m.FAIL:
        return _pack_header(msg.header, t, CLUSTERMSG_MIN_LEN + FAIL_DATA_LEN) \
            + _name_bytes(msg.node_id)
    if t == m.UPDATE:
        return _pack_header(msg.header, t, CLUSTERMSG_MIN_LEN + UPDATE.size) + UPDATE.pack(
            msg.config_epoch, _name_bytes(msg.node_id), slots_to_bitmap(msg.slots))
    if t in (m.FAILOVER_AUTH_REQUEST, m.FAILOVER_AUTH_ACK, m.MFSTART):
        return _pack_header(msg.header, t, CLUSTERMSG_MIN_LEN)
    if t in (m.PUBLISH, m.PUBLISHSHARD):
        if publish_header is None or publish_header.sender != msg.sender:
            raise ValueError("a Redis-format PUBLISH needs the sender's header")
        channel, message = bytes(msg.channel), bytes(msg.message)
        totlen = CLUSTERMSG_MIN_LEN + PUBLISH_DATA_LEN + len(channel) + len(message)
        return _pack_header(publish_header, t, totlen) \
            + PUBLISH_LENS.pack(len(channel), len(message)) + channel + message
    raise TypeError(f"cannot encode {msg!r}")  # pragma: no cover


# --------------------------------------------------------------------------
# Decoding and validation (clusterReadHandler, clusterProcessPacket's checks)
# --------------------------------------------------------------------------

def frame_length(prefix: bytes, max_frame: int) -> int:
    """``totlen`` from a message's first 8 bytes, checked as clusterReadHandler does
    (and against ``max_frame``) before any more is read."""
    sig, totlen = struct.unpack_from(">4sI", prefix)
    if sig != SIGNATURE:
        raise _fail("bad signature")
    if totlen < CLUSTERMSG_MIN_LEN or totlen > max_frame:
        raise _fail(f"length {totlen} outside {CLUSTERMSG_MIN_LEN}..{max_frame}")
    return totlen


def _header(f: tuple) -> m.Header:
    (_sig, _totlen, _ver, port, _type, _count, current_epoch, config_epoch, offset, sender,
     myslots, slaveof, myip, _exts, _unused, pport, cport, flags, state, mflags) = f
    sender_name = _name(sender, "sender")
    master = None if slaveof == _NULL_NAME else _name(slaveof, "slaveof")
    return m.Header(
        sender=sender_name,
        current_epoch=_epoch(current_epoch, "currentEpoch"),
        config_epoch=_epoch(config_epoch, "configEpoch"),
        repl_offset=offset,
        flags=flags,
        master_id=master,
        ip=_c_string(myip, "myip"),
        port=port,
        cport=cport,
        cluster_ok=state == 0,
        mflags=mflags[0] & ~CLUSTERMSG_FLAG0_EXT_DATA,
        # Redis 7.0 has no shard ids: a shard is named after its master.
        shard_id=master or sender_name,
        slots=bitmap_to_slots(myslots),
        pport=pport,
    )


def _gossip(frame: bytes, count: int) -> list[m.GossipEntry]:
    entries = []
    for nodename, _ping_sent, pong_received, ip, port, cport, flags, pport, _unused \
            in GOSSIP.iter_unpack(frame[CLUSTERMSG_MIN_LEN:CLUSTERMSG_MIN_LEN + count * GOSSIP.size]):
        entries.append(m.GossipEntry(_name(nodename, "gossip nodename"), pong_received,
                                     _c_string(ip, "gossip ip"), port, cport, flags,
                                     pport))
    return entries


def _ping_extensions(frame: bytes, pos: int, n: int) -> tuple[PingExtensions, int]:
    """Walk ``n`` extensions from ``pos``; returns them and the end offset."""
    exts = PingExtensions()
    skipped = []
    for _ in range(n):
        if len(frame) - pos < PING_EXT.size:
            raise _fail("ping extension beyond the message")
        length, ext_type, _unused = PING_EXT.unpack_from(frame, pos)
        if length % 8 or length < PING_EXT.size:
            raise _fail(f"ping extension length {length} is not a multiple of 8 of at least 8")
        if length > len(frame) - pos:
            raise _fail("ping extension exceeds the total message length")
        payload = frame[pos + PING_EXT.size:pos + length]
        if ext_type == EXT_TYPE_HOSTNAME:
            hostname = _c_string(payload, "hostname extension")
            exts.hostname = m.check_hostname(hostname) if hostname else None
        elif ext_type == EXT_TYPE_COMPACT_BUS and payload[:4] == m.SIGNATURE and len(payload) >= 5:
            exts.compact_version = payload[4]
        else:
            skipped.append(ext_type)  # as Redis: an unknown type is skipped
        pos += length
    exts.skipped_types = tuple(skipped)
    return exts, pos


def decode_frame(frame: bytes, max_frame: int = m.MAX_FRAME_BYTES) -> RedisFrame:
    """Decode and validate exactly one complete message."""
    if len(frame) < 8:
        raise _fail("shorter than 8 bytes")
    totlen = frame_length(frame, max_frame)
    if totlen != len(frame):
        raise _fail(f"totlen {totlen} but {len(frame)} bytes")
    f = HEADER.unpack_from(frame)
    ver, t, count, n_exts, mflags = f[2], f[4], f[5], f[13], f[19][0]
    if ver != CLUSTER_PROTO_VER:
        raise _fail(f"unsupported version {ver}")
    data = CLUSTERMSG_MIN_LEN
    exts = None
    if t in (m.PING, m.PONG, m.MEET):
        explen = data + count * GOSSIP.size
        if explen > totlen:
            raise _fail(f"{count} gossip entries do not fit in {totlen} bytes")
        if mflags & CLUSTERMSG_FLAG0_EXT_DATA:
            exts, explen = _ping_extensions(frame, explen, n_exts)
        else:
            exts = PingExtensions()
    elif t == m.FAIL:
        explen = data + FAIL_DATA_LEN
    elif t in (m.PUBLISH, m.PUBLISHSHARD):
        if totlen < data + PUBLISH_DATA_LEN:
            raise _fail("PUBLISH without its lengths")
        channel_len, message_len = PUBLISH_LENS.unpack_from(frame, data)
        explen = data + PUBLISH_DATA_LEN + channel_len + message_len
    elif t in (m.FAILOVER_AUTH_REQUEST, m.FAILOVER_AUTH_ACK, m.MFSTART):
        explen = data
    elif t == m.UPDATE:
        explen = data + UPDATE.size
    elif t == m.MODULE:
        if totlen < data + MODULE_DATA.size:
            raise _fail("MODULE without its length")
        explen = data + MODULE_DATA.size + MODULE_DATA.unpack_from(frame, data)[1]
    else:
        explen = totlen  # unknown type: assumed well formed, and skipped (as Redis)
    if explen != totlen:
        raise _fail(f"type {t} of length {totlen}, expected {explen}")

    if t == m.MODULE or t >= m.MESSAGE_TYPE_COUNT:
        return RedisFrame(t, None)
    hdr = _header(f)
    if t in (m.PING, m.PONG, m.MEET):
        cls = {m.PING: m.Ping, m.PONG: m.Pong, m.MEET: m.Meet}[t]
        # clusterProcessPingExtensions: no HOSTNAME extension means no hostname.
        hdr.hostname = exts.hostname or ""
        return RedisFrame(t, cls(hdr, _gossip(frame, count)), hdr, exts)
    if t == m.FAIL:
        return RedisFrame(t, m.Fail(hdr, _name(frame[data:data + NAMELEN], "FAIL nodename")), hdr)
    if t == m.UPDATE:
        config_epoch, nodename, slots = UPDATE.unpack_from(frame, data)
        return RedisFrame(t, m.Update(hdr, _epoch(config_epoch, "UPDATE configEpoch"),
                                      _name(nodename, "UPDATE nodename"),
                                      bitmap_to_slots(slots)), hdr)
    if t in (m.PUBLISH, m.PUBLISHSHARD):
        start = data + PUBLISH_DATA_LEN
        cls = m.Publish if t == m.PUBLISH else m.PublishShard
        return RedisFrame(t, cls(hdr.sender, frame[start:start + channel_len],
                                 frame[start + channel_len:totlen]), hdr)
    cls = {m.FAILOVER_AUTH_REQUEST: m.FailoverAuthRequest,
           m.FAILOVER_AUTH_ACK: m.FailoverAuthAck, m.MFSTART: m.MfStart}[t]
    return RedisFrame(t, cls(hdr), hdr)


def decode(frame: bytes, max_frame: int = m.MAX_FRAME_BYTES) -> m.Message | None:
    """The message of one complete frame (None for a skipped type)."""
    return decode_frame(frame, max_frame).message
