"""cluster.link_format: the per-link choice between Redis's format and ours."""
import pytest

from cluster import messages as m
from cluster import redis_bus as rb
from cluster.errors import BusProtocolError
from cluster.link_format import LinkCodec

ID_A, ID_B = "a" * 40, "b" * 40


def header(sender):
    return m.Header(sender=sender, current_epoch=1, config_epoch=1, repl_offset=0, flags=1,
                    master_id=None, ip="", port=7000, cport=17000, cluster_ok=True, mflags=0,
                    shard_id=sender, slots=[(0, 100)])


def hdr_a():
    return header(ID_A)


def hdr_b():
    return header(ID_B)


def test_a_new_link_writes_redis_format_and_advertises_once():
    codec = LinkCodec()
    first = codec.encode(m.Meet(hdr_a(), []), hdr_a)
    second = codec.encode(m.Ping(hdr_a(), []), hdr_a)
    assert first[:4] == second[:4] == rb.SIGNATURE
    assert rb.decode_frame(first).extensions.compact_version == m.VERSION
    assert rb.decode_frame(second).extensions.compact_version is None
    fail = codec.encode(m.Fail(hdr_a(), ID_B), hdr_a)
    assert fail[:4] == rb.SIGNATURE and len(fail) == 2256 + 40


def test_two_of_ours_switch_to_compact():
    a_out, b_in = LinkCodec(), LinkCodec()
    [meet] = b_in.feed(a_out.encode(m.Meet(hdr_a(), []), hdr_a))
    assert isinstance(meet, m.Meet)
    assert b_in.compact and b_in.peer_name == ID_A          # rule 2b
    pong = b_in.encode(m.Pong(hdr_b(), []), hdr_b)
    assert pong[:4] == m.SIGNATURE
    assert a_out.feed(pong) == [m.Pong(hdr_b(), [])]
    assert a_out.compact and a_out.peer_name == ID_B         # rule 2a
    assert a_out.encode(m.Ping(hdr_a(), []), hdr_a)[:4] == m.SIGNATURE


def test_a_redis_peer_stays_in_redis_format():
    ours = LinkCodec()
    redis_ping = rb.encode(m.Ping(hdr_b(), []), hostname="r.example")  # no COMPACT_BUS
    assert len(ours.feed(redis_ping)) == 1
    assert not ours.compact and ours.peer_name is None
    assert ours.encode(m.Pong(hdr_a(), []), hdr_a)[:4] == rb.SIGNATURE
    publish = ours.encode(m.Publish(ID_A, b"ch", b"hi"), hdr_a)
    frame = rb.decode_frame(publish)
    assert frame.message == m.Publish(ID_A, b"ch", b"hi") and frame.header.slots == [(0, 100)]


def test_known_compact_peer_starts_compact():
    codec = LinkCodec(compact=True)
    assert codec.encode(m.Ping(hdr_a(), []), hdr_a) == m.encode(m.Ping(hdr_a(), []))


def test_both_formats_on_one_link_byte_by_byte():
    msgs = [m.Meet(hdr_a(), []), m.Ping(hdr_a(), []), m.Publish(ID_A, b"c", b"m"),
            m.Fail(hdr_a(), ID_B)]
    data = (rb.encode(msgs[0]) + m.encode(msgs[1]) + rb.encode(msgs[2], publish_header=hdr_a())
            + m.encode(msgs[3]))
    codec = LinkCodec()
    out = []
    for i in range(len(data)):
        out += codec.feed(data[i:i + 1])
    assert out == msgs and codec.buffered == 0 and codec.compact


@pytest.mark.parametrize("data", [b"GET / HTTP/1.1\r\n", b"RCmX\x00\x00\x00\x00",
                                  m.SIGNATURE + b"\x09\x00\x00\x00\x05"])
def test_anything_else_is_refused_and_poisons(data):
    codec = LinkCodec()
    with pytest.raises(BusProtocolError):
        codec.feed(data)
    with pytest.raises(BusProtocolError):
        codec.feed(m.encode(m.Ping(hdr_a(), [])))
