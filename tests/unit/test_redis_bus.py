"""cluster.redis_bus: Redis 7.0's binary bus format, round trips, the validity checks of
clusterProcessPacket, and fuzzing (only BusProtocolError, bounded buffering).

Frames captured from a real redis-server are tested in
tests/integration/test_redis_bus_capture.py.
"""
import struct

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cluster import messages as m
from cluster import redis_bus as rb
from cluster.epochs import MAX_EPOCH
from cluster.errors import BusProtocolError
from cluster.link_format import LinkCodec

ID_A, ID_B = "a" * 40, "0123456789abcdef0123456789abcdef01234567"


def header(**kw):
    fields = dict(sender=ID_A, current_epoch=5, config_epoch=3, repl_offset=123, flags=1,
                  master_id=None, ip="", port=7000, cport=17000, cluster_ok=True, mflags=0,
                  shard_id=ID_A, slots=[(0, 5460), (9000, 9000), (16383, 16383)])
    fields.update(kw)
    return m.Header(**fields)


GOSSIP = [m.GossipEntry(ID_B, 1700000000, "127.0.0.1", 7001, 17001, 1),
          m.GossipEntry("c" * 40, 0, "::1", 7002, 17002, 2 | 4)]
# Redis 7.0 has no shard ids: a decoded header names the shard after the master.
ALL_MESSAGES = [
    m.Ping(header(), GOSSIP),
    m.Pong(header(master_id=ID_B, flags=2, shard_id=ID_B, slots=[]), []),
    m.Meet(header(ip="10.0.0.1", cluster_ok=False), GOSSIP[:1]),
    m.Fail(header(), ID_B),
    m.Update(header(), 9, ID_B, [(0, 16383)]),
    m.FailoverAuthRequest(header(mflags=m.MFLAG_FORCEACK)),
    m.FailoverAuthAck(header(current_epoch=MAX_EPOCH)),
    m.MfStart(header(mflags=m.MFLAG_PAUSED)),
    m.Publish(ID_A, b"chan", b"\x00binary"),
    m.PublishShard(ID_A, b"", b""),
]


def encode(msg, **kw):
    return rb.encode(msg, publish_header=header(), **kw)


@pytest.mark.parametrize("msg", ALL_MESSAGES, ids=lambda msg: type(msg).__name__)
def test_round_trip(msg):
    frame = encode(msg)
    assert rb.decode(frame) == msg
    assert struct.unpack_from(">I", frame, 4)[0] == len(frame)


def test_sizes_are_redis_sizes():
    assert len(encode(m.MfStart(header()))) == 2256
    assert len(encode(m.Ping(header(), GOSSIP))) == 2256 + 2 * 104
    assert len(encode(m.Fail(header(), ID_B))) == 2256 + 40
    assert len(encode(m.Update(header(), 1, ID_B, []))) == 2256 + 2096
    assert len(encode(m.Publish(ID_A, b"ch", b"msg"))) == 2256 + 8 + 5


def test_slot_bitmap_is_redis_bit_order():
    bitmap = rb.slots_to_bitmap([(0, 0), (9, 10), (16383, 16383)])
    assert bitmap[0] == 1 and bitmap[1] == 0b110 and bitmap[2047] == 0x80
    for ranges in ([], [(0, 16383)], [(1, 1), (3, 7), (64, 200), (16000, 16383)]):
        assert rb.bitmap_to_slots(rb.slots_to_bitmap(ranges)) == ranges


def test_extensions_hostname_and_compact():
    frame = encode(m.Ping(header(), GOSSIP), hostname="node-1.example", advertise_compact=True)
    decoded = rb.decode_frame(frame)
    assert decoded.extensions == rb.PingExtensions("node-1.example", m.VERSION, ())
    assert decoded.message.header.mflags == 0  # EXT_DATA is the codec's business
    assert len(frame) == 2256 + 2 * 104 + (8 + 16) + (8 + 8)


def with_extension(msg, ext_type, payload, count=None, length=None):
    frame = bytearray(encode(msg))
    ext = struct.pack(">IHH", length if length is not None else 8 + len(payload), ext_type, 0)
    frame += ext + payload
    struct.pack_into(">I", frame, 4, len(frame))
    struct.pack_into(">H", frame, 2214, 1 if count is None else count)
    frame[2253] |= rb.CLUSTERMSG_FLAG0_EXT_DATA
    return bytes(frame)


def test_unknown_extension_is_skipped():
    frame = with_extension(m.Pong(header(), []), 2, ID_B.encode() + bytes(8))  # 7.2's forgotten node
    decoded = rb.decode_frame(frame)
    assert decoded.message == m.Pong(header(), []) and decoded.extensions.skipped_types == (2,)


@pytest.mark.parametrize("msg_type,body", [(m.MODULE, struct.pack(">QIB", 1, 3, 0) + b"abc"),
                                           (11, b"whatever"), (999, b"")])
def test_module_and_unknown_types_are_skipped_not_refused(msg_type, body):
    frame = bytearray(encode(m.MfStart(header()))) + body
    struct.pack_into(">IHHH", frame, 4, len(frame), 1, 7000, msg_type)
    decoded = rb.decode_frame(bytes(frame))
    assert decoded.type == msg_type and decoded.message is None


def patched(msg, offset, fmt, value):
    frame = bytearray(encode(msg))
    struct.pack_into(fmt, frame, offset, value)
    return bytes(frame)


PING = m.Ping(header(), GOSSIP)
PUB = m.Publish(ID_A, b"chan", b"msg")


@pytest.mark.parametrize("frame,reason", [
    (b"RCmq" + encode(PING)[4:], "signature"),
    (patched(PING, 4, ">I", 2255), "length"),
    (patched(PING, 8, ">H", 2), "version"),
    (patched(PING, 14, ">H", 3), "do not fit"),                # count too big for totlen
    (patched(PING, 14, ">H", 65535), "do not fit"),
    (patched(PING, 14, ">H", 1), "expected"),                  # count too small
    (patched(PUB, 2256, ">I", 5), "expected"),                 # channel_len
    (patched(PUB, 2260, ">I", 0xFFFFFFFF), "expected"),        # message_len
    (patched(PING, 16, ">Q", MAX_EPOCH + 1), "currentEpoch"),
    (patched(PING, 24, ">Q", 2 ** 64 - 1), "configEpoch"),
    (patched(m.Update(header(), 1, ID_B, []), 2256, ">Q", MAX_EPOCH + 1), "configEpoch"),
    (patched(PING, 40, ">40s", b"Z" * 40), "sender"),
    (patched(PING, 40, ">40s", ID_A.upper().encode()), "sender"),
    (patched(PING, 2128, ">40s", b"\x01" * 40), "slaveof"),
    (patched(PING, 2168, ">46s", b"1" * 46), "myip"),
    (patched(PING, 2168, ">46s", b"\xff\x00"), "myip"),
    (patched(PING, 2256 + 40 + 8, ">46s", b"x" * 46), "gossip ip"),
    (patched(m.Fail(header(), ID_B), 2256, ">40s", b"\x00" * 40), "FAIL nodename"),
    (with_extension(PING, 0, b"abcdefgh"), "NUL"),             # hostname without its NUL
    (with_extension(PING, 0, b"abc\x00", length=12), "multiple of 8"),
    (with_extension(PING, 0, b"", length=0), "multiple of 8"),
    (with_extension(PING, 0, b"abcdefg\x00", length=24), "exceeds"),
    (with_extension(PING, 0, b"abcdefg\x00", count=2), "beyond"),
    (with_extension(PING, 0, b"abcdefg\x00", count=0), "expected"),  # trailing bytes
])
def test_invalid_packets_are_refused(frame, reason):
    with pytest.raises(BusProtocolError, match=reason):
        rb.decode_frame(frame)


def test_length_is_checked_before_the_body_is_buffered():
    codec = LinkCodec(max_frame=1 << 20)
    with pytest.raises(BusProtocolError, match="length"):
        codec.feed(b"RCmb" + struct.pack(">I", 0xFFFFFFFF))
    codec = LinkCodec(max_frame=1 << 20)
    assert codec.feed(b"RCmb" + struct.pack(">I", 1 << 20) + bytes(100)) == []
    assert codec.buffered == 108


# ---------------------------------------------------------------- fuzzing

CORPUS = [encode(msg, advertise_compact=True, hostname="h.example") for msg in ALL_MESSAGES]


def mutations():
    flips = st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 255)), min_size=1, max_size=8)
    field = st.sampled_from([(4, ">I"), (14, ">H"), (2214, ">H"), (2256, ">I"), (2260, ">I"),
                             (2256 + 208, ">I"), (12, ">H")])
    return st.one_of(
        st.tuples(st.just("flip"), flips),
        st.tuples(st.just("truncate"), st.integers(0, 5000)),
        st.tuples(st.just("field"), st.tuples(field, st.integers(0, 2 ** 32 - 1))),
        st.tuples(st.just("append"), st.binary(max_size=64)),
    )


def mutate(frame: bytes, mutation) -> bytes:
    kind, arg = mutation
    data = bytearray(frame)
    if kind == "flip":
        for index, xor in arg:
            if index < len(data):
                data[index] ^= xor
    elif kind == "truncate":
        data = data[:arg % (len(data) + 1)]
        if len(data) >= 8:
            struct.pack_into(">I", data, 4, len(data))
    elif kind == "field":
        (offset, fmt), value = arg
        if offset + struct.calcsize(fmt) <= len(data):
            struct.pack_into(fmt, data, offset, value & ((1 << (8 * struct.calcsize(fmt))) - 1))
    else:
        data += arg
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(CORPUS), mutation=mutations())
def test_fuzz_decode_frame_raises_only_bus_protocol_error(base, mutation):
    data = mutate(base, mutation)
    try:
        rb.decode_frame(data)
    except BusProtocolError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bases=st.lists(st.sampled_from(CORPUS), min_size=1, max_size=3), mutation=mutations(),
       chunk=st.integers(1, 3000))
def test_fuzz_link_codec_stream(bases, mutation, chunk):
    data = mutate(b"".join(bases), mutation)
    codec = LinkCodec(max_frame=8192)
    try:
        for i in range(0, len(data), chunk):
            codec.feed(data[i:i + chunk])
            assert codec.buffered <= 8192 + chunk
    except BusProtocolError:
        with pytest.raises(BusProtocolError):  # poisoned
            codec.feed(b"")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_fuzz_random_bytes_after_a_valid_prefix(tail):
    frame = b"RCmb" + struct.pack(">IHHHH", 8 + 8 + len(tail), 1, 7000, 0, 0) + tail
    try:
        rb.decode_frame(frame)
    except BusProtocolError:
        pass


def test_encoding_is_total_for_what_the_compact_format_lets_in():
    """An ip learned over the compact format may be any string of up to 46 characters."""
    odd = m.Ping(header(ip="é" * 46), [m.GossipEntry(ID_B, 2 ** 40, "ü", 1, 2, 3)])
    decoded = rb.decode(rb.encode(odd))
    assert decoded.header.ip == "?" * 45 and decoded.gossip[0].ip == "?"


def test_pport_is_carried_in_header_and_gossip():
    """Redis 7.0's pport fields (the plaintext port of a TLS cluster's node)."""
    msg = m.Ping(header(pport=6380), [m.GossipEntry(ID_B, 1700000000, "127.0.0.1", 7001,
                                                    17001, 1, 6381)])
    assert rb.decode(encode(msg)) == msg
