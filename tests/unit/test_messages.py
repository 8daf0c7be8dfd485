import random
import struct

import msgpack
import pytest
from hypothesis import given, settings, strategies as st

from cluster import messages as m
from cluster.epochs import MAX_EPOCH, next_epoch
from cluster.errors import BusProtocolError

ID_A, ID_B, ID_C = "a" * 40, "b" * 40, "0123456789abcdef0123456789abcdef01234567"


def header(**kw):
    fields = dict(sender=ID_A, current_epoch=5, config_epoch=3, repl_offset=123, flags=1,
                  master_id=None, ip="", port=7000, cport=17000, cluster_ok=True, mflags=0,
                  shard_id=ID_C, slots=[(0, 5460), (9000, 9000)])
    fields.update(kw)
    return m.Header(**fields)


ALL_MESSAGES = [
    m.Ping(header(), [m.GossipEntry(ID_B, 1700000000, "127.0.0.1", 7001, 17001, 1)]),
    m.Pong(header(master_id=ID_B, flags=2), []),
    m.Meet(header(ip="::1"), []),
    m.Fail(header(), ID_B),
    m.Update(header(), 9, ID_B, [(0, 16383)]),
    m.FailoverAuthRequest(header(mflags=m.MFLAG_FORCEACK)),
    m.FailoverAuthAck(header()),
    m.MfStart(header()),
    m.Publish(ID_A, b"chan", b"\x00binary"),
    m.PublishShard(ID_A, b"", b""),
]


@pytest.mark.parametrize("msg", ALL_MESSAGES, ids=lambda msg: type(msg).__name__)
def test_round_trip(msg):
    assert m.decode(m.encode(msg)) == msg


def test_heartbeat_is_small_and_publish_is_light():
    gossip = [m.GossipEntry("%040x" % i, 1700000000, "127.0.0.1", 7000 + i, 17000 + i, 1)
              for i in range(3)]
    ping = m.encode(m.Ping(header(), gossip))
    assert len(ping) < 300  # Redis: 2256 + 3 * 104 bytes
    publish = m.encode(m.Publish(ID_A, b"news", b"hello"))
    assert len(publish) < 50


_U16 = st.integers(0, 0xFFFF)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=20, max_size=20).map(bytes.hex),
                          st.integers(0, 2**64 - 1),
                          st.sampled_from(["127.0.0.1", "", "::1", "10.0.0.7", "é" * 20]),
                          _U16, _U16, _U16, _U16), max_size=60))
def test_gossip_records_round_trip(entries):
    """The packed gossip section gives back every entry, in order, as the tuples it took;
    the address table holds each address once."""
    msg = m.Pong(header(), entries)
    decoded = m.decode(m.encode(msg))
    assert decoded.gossip == entries
    body = msgpack.unpackb(m.encode(msg)[m.PREFIX_LEN:], raw=False)
    assert sorted(body[2]) == sorted({entry[2] for entry in entries})
    assert len(body[3]) == m.GOSSIP_RECORD_BYTES * len(entries)


def test_frame_reader_incremental_byte_by_byte():
    data = b"".join(m.encode(msg) for msg in ALL_MESSAGES)
    reader = m.FrameReader()
    out = []
    for i in range(len(data)):
        out += reader.feed(data[i:i + 1])
    assert out == ALL_MESSAGES
    assert reader.buffered == 0


def test_frame_reader_many_frames_in_one_feed():
    data = m.encode(ALL_MESSAGES[0]) * 500
    assert len(m.FrameReader().feed(data)) == 500


@pytest.mark.parametrize("data,reason", [
    (b"XXXX\x01\x00\x00\x00\x01\x90", "signature"),
    (m.SIGNATURE + b"\x02\x00\x00\x00\x01\x90", "version"),
    (m.SIGNATURE + b"\x01\x00\x00\x00\x00", "length"),
    (m.PREFIX.pack(m.SIGNATURE, m.VERSION, m.MAX_FRAME_BYTES + 1), "length"),
])
def test_bad_prefix_rejected_before_body(data, reason):
    with pytest.raises(BusProtocolError, match=reason):
        m.FrameReader().feed(data)


def test_reader_is_poisoned_after_error():
    reader = m.FrameReader()
    with pytest.raises(BusProtocolError):
        reader.feed(b"garbage!!!")
    with pytest.raises(BusProtocolError):
        reader.feed(m.encode(ALL_MESSAGES[0]))


def frame(obj) -> bytes:
    body = msgpack.packb(obj, use_bin_type=True)
    return m.PREFIX.pack(m.SIGNATURE, m.VERSION, len(body)) + body


def good_header_fields():
    return [bytes(20), 1, 1, 0, 1, None, "", 7000, 17000, 0, 0, bytes(20), [0, 10]]


def with_field(i, value):
    fields = good_header_fields()
    fields[i] = value
    return fields


# One well-formed gossip record: node id, pong seconds, address index 0, ports, flags.
RECORD = struct.pack(">20sQHHHHH", bytes(20), 1, 0, 7001, 17001, 1, 0)


@pytest.mark.parametrize("obj", [
    {"type": 0},                                       # a map
    [],                                                # empty
    ["ping"],                                          # type not an int
    [99, good_header_fields(), [], b""],               # unknown type
    [0, good_header_fields()],                         # missing gossip
    [0, good_header_fields(), []],                     # the old one-list gossip section
    [0, "header", [], b""],                                 # header not a list
    [0, good_header_fields()[:-1], [], b""],                # short header
    [0, with_field(0, "a" * 40), [], b""],                  # sender as str
    [0, with_field(0, bytes(19)), [], b""],                 # sender too short
    [0, with_field(1, -1), [], b""],                        # negative epoch
    [0, with_field(1, True), [], b""],                      # bool epoch
    [0, with_field(1, 1.5), [], b""],                       # float epoch
    [0, with_field(7, 70000), [], b""],                     # port out of range
    [0, with_field(6, b"127.0.0.1"), [], b""],              # ip as bin
    [0, with_field(6, "x" * 100), [], b""],                 # ip too long
    [0, with_field(9, 2), [], b""],                         # state not 0/1
    [0, with_field(12, [5]), []],                      # odd slot list
    [0, with_field(12, [10, 5]), []],                  # start > end
    [0, with_field(12, [0, 16384]), []],               # slot out of range
    [0, with_field(12, [5, 10, 8, 20]), []],           # overlapping ranges
    [0, good_header_fields(), ["ip"], RECORD[:-1]],                 # short gossip record
    [0, good_header_fields(), ["ip"], RECORD + b"x"],               # trailing bytes
    [0, good_header_fields(), [], RECORD],                          # address index 0 of none
    [0, good_header_fields(), "ip", RECORD],                        # addresses not a list
    [0, good_header_fields(), [b"ip"], RECORD],                     # address as bin
    [0, good_header_fields(), ["x" * 100], RECORD],                 # address too long
    [0, good_header_fields(), ["ip"], "records"],                   # records not binary
    [3, good_header_fields(), "b" * 40],                            # FAIL id as str
    [4, bytes(20), "chan", b"msg"],                                 # channel as str
    [7, good_header_fields(), 1, bytes(20), [3, 1]],                # UPDATE bad slots
])
def test_valid_msgpack_with_wrong_shape_is_rejected(obj):
    with pytest.raises(BusProtocolError):
        m.FrameReader().feed(frame(obj))


def test_not_msgpack_rejected():
    body = b"\xc1\xc1"
    with pytest.raises(BusProtocolError):
        m.FrameReader().feed(m.PREFIX.pack(m.SIGNATURE, m.VERSION, len(body)) + body)


def test_trailing_bytes_in_body_rejected():
    body = msgpack.packb([8, good_header_fields()]) + b"\x00"
    with pytest.raises(BusProtocolError):
        m.FrameReader().feed(m.PREFIX.pack(m.SIGNATURE, m.VERSION, len(body)) + body)


def test_truncated_frame_waits_for_more():
    data = m.encode(ALL_MESSAGES[0])
    reader = m.FrameReader()
    assert reader.feed(data[:-1]) == []
    assert reader.feed(data[-1:]) == [ALL_MESSAGES[0]]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data):
    reader = m.FrameReader()
    try:
        reader.feed(data)
    except BusProtocolError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**64 - 1) | st.text(max_size=5)
                    | st.binary(max_size=25) | st.floats(),
                    lambda children: st.lists(children, max_size=14), max_leaves=40))
def test_random_msgpack_values_never_crash(obj):
    for t in (0, 3, 4, 7, 8):
        try:
            m.FrameReader().feed(frame([t, obj, obj]))
            m.FrameReader().feed(frame([t, obj]))
        except BusProtocolError:
            pass


def test_random_mutations_of_valid_frames():
    rng = random.Random(7)
    valid = [m.encode(msg) for msg in ALL_MESSAGES]
    for _ in range(2000):
        data = bytearray(rng.choice(valid))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            m.FrameReader().feed(bytes(data))
        except BusProtocolError:
            pass


# ---------------------------------------------------------------- epochs (cluster/epochs.py)

@pytest.mark.parametrize("msg", [
    m.Ping(header(current_epoch=2 ** 64 - 1), []),
    m.Pong(header(current_epoch=MAX_EPOCH + 1), []),
    m.FailoverAuthRequest(header(config_epoch=2 ** 64 - 1)),
    m.Update(header(), MAX_EPOCH + 1, ID_B, [(0, 16383)]),
], ids=["ping-current", "pong-current", "auth-config", "update-config"])
def test_an_epoch_past_max_epoch_is_refused_at_decode(msg):
    # Adopted, 2^64-1 made the next election's epoch 2^64: unencodable, failover over.
    with pytest.raises(BusProtocolError, match="[Ee]poch"):
        m.decode(m.encode(msg))


def test_max_epoch_itself_is_accepted():
    msg = m.Ping(header(current_epoch=MAX_EPOCH, config_epoch=MAX_EPOCH), [])
    assert m.decode(m.encode(msg)) == msg


def test_next_epoch_saturates_at_max_epoch():
    assert next_epoch(0) == 1
    assert next_epoch(MAX_EPOCH - 1) == MAX_EPOCH
    assert next_epoch(MAX_EPOCH) == MAX_EPOCH


def test_tls_cluster_pport_round_trips_and_costs_nothing_without_tls():
    """A TLS cluster's plaintext port (Redis's pport) travels in the header and in gossip
    entries as optional trailing fields: absent (not even a 0) when there is none."""
    plain = m.Ping(header(), [m.GossipEntry(ID_B, 1700000000, "127.0.0.1", 7001, 17001, 1)])
    tls = m.Ping(header(pport=6380, hostname=""),
                 [m.GossipEntry(ID_B, 1700000000, "127.0.0.1", 7001, 17001, 1, 6381)])
    named = m.Pong(header(pport=6380, hostname="n1.example"), [])
    for msg in (plain, tls, named):
        assert m.decode(m.encode(msg)) == msg
    assert len(m.encode(tls)) > len(m.encode(plain))
