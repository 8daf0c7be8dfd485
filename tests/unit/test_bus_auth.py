"""cluster.bus_auth through cluster.link_format: with cluster-bus-secret every frame is
compact and signed, and only frames signed with the same secret are read."""
import pytest

from cluster import bus_auth
from cluster import messages as m
from cluster import redis_bus as rb
from cluster.errors import BusAuthError, BusProtocolError
from cluster.link_format import LinkCodec

ID_A, ID_B = "a" * 40, "b" * 40
SECRET = b"s3cret"


def header(sender=ID_A, **changes):
    fields = dict(sender=sender, current_epoch=1, config_epoch=1, repl_offset=0, flags=1,
                  master_id=None, ip="", port=7000, cport=17000, cluster_ok=True, mflags=0,
                  shard_id=sender, slots=[(0, 100)])
    fields.update(changes)
    return m.Header(**fields)


def ping():
    return m.Ping(header(), [m.GossipEntry(ID_B, 5, "10.0.0.2", 7001, 17001, 1)])


def test_nodes_sharing_the_secret_read_each_other():
    out, into = LinkCodec(secret=SECRET), LinkCodec(secret=SECRET)
    frame = out.encode(ping(), header)
    assert frame[:5] == m.SIGNATURE + bytes([bus_auth.SIGNED_VERSION])   # compact at once
    assert len(frame) == len(m.encode(ping())) + bus_auth.TAG_LEN
    assert into.feed(frame[:10]) == [] and into.feed(frame[10:]) == [ping()]


@pytest.mark.parametrize("frame, reason", [
    (m.encode(ping()), "unsigned"),
    (bus_auth.seal(b"other", m.encode_body(ping())), "does not verify"),
    (rb.encode(ping()), "Redis's format"),
])
def test_a_node_with_the_secret_refuses(frame, reason):
    codec = LinkCodec(secret=SECRET)
    with pytest.raises(BusAuthError, match=reason):
        codec.feed(frame)
    with pytest.raises(BusAuthError):         # poisoned: the link must be closed
        codec.feed(b"")


def test_redis_format_is_refused_from_its_signature_alone():
    with pytest.raises(BusAuthError):
        LinkCodec(secret=SECRET).feed(rb.SIGNATURE)


def test_any_changed_byte_is_refused():
    frame = bus_auth.seal(SECRET, m.encode_body(ping()))
    for i in range(4, len(frame)):            # prefix (after the signature), body, tag
        tampered = bytearray(frame)
        tampered[i] ^= 0x01
        # Padding completes a frame whose length grew (by up to 65536 at byte 6).
        with pytest.raises(BusProtocolError):  # a bad tag, or an impossible length
            LinkCodec(secret=SECRET).feed(bytes(tampered) + bytes(70_000))


def test_a_signed_frame_shorter_than_its_tag_is_refused():
    short = m.PREFIX.pack(m.SIGNATURE, bus_auth.SIGNED_VERSION, 3) + b"abc"
    with pytest.raises(BusAuthError, match="shorter"):
        LinkCodec(secret=SECRET).feed(short)


def test_a_node_without_a_secret_refuses_signed_frames():
    with pytest.raises(BusAuthError, match="no cluster-bus-secret"):
        LinkCodec().feed(bus_auth.seal(SECRET, m.encode_body(ping())))
    with pytest.raises(BusProtocolError, match="version"):
        m.decode(bus_auth.seal(SECRET, m.encode_body(ping())))   # plain decoder: not ours


def test_config_set_takes_effect_on_an_open_link():
    codec = LinkCodec()
    assert codec.encode(ping(), header)[:4] == rb.SIGNATURE
    codec.set_secret(SECRET)
    assert codec.encode(ping(), header)[4] == bus_auth.SIGNED_VERSION
    with pytest.raises(BusAuthError):
        codec.feed(m.encode(ping()))


def test_hostname_travels_in_both_formats():
    msg = m.Pong(header(hostname="a-node.example"), [])
    assert m.decode(m.encode(msg)).header.hostname == "a-node.example"
    assert rb.decode(rb.encode(msg)).header.hostname == "a-node.example"
    assert m.decode(m.encode(m.Pong(header(), []))).header.hostname == ""
    fields = m._header_fields(header())
    for bad in ("", "bad host", "x" * 256, 7):
        body = m.msgpack.packb([m.PONG, fields + [bad], [], b""], use_bin_type=True)
        with pytest.raises(BusProtocolError, match="hostname"):
            m.decode_body(body)
    # Redis's format: a hostname extension that would break a CLUSTER NODES line.
    with pytest.raises(BusProtocolError, match="hostname"):
        rb.decode(rb.encode(msg, hostname="a b,c"))
