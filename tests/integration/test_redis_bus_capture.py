"""cluster.redis_bus against bytes a real redis-server 7.0 writes, captured at test time.

Three redis-servers form a cluster (one announces a hostname); a fake node of the test
(tests/integration/redis_capture.py) is MET by the first one and so receives, on real
bus links: MEET, PING, PONG (with the hostname extension), PUBLISH, UPDATE (after it
claims a slot with a stale configEpoch) and FAIL (after the third server is killed).
Each is decoded, checked field by field against what the servers were told, and
re-encoded: where Redis's bytes are deterministic they must match byte for byte (in
gossip entries only ``ping_sent`` is not carried by our messages and is masked).
The fake node's own PONGs and PINGs are our encoder's: Redis accepting them (it lists
the fake node without the handshake flag) is the other direction.
"""
import shutil
import struct

import pytest

from cluster import messages as m
from cluster import redis_bus as rb
from cluster.errors import BusProtocolError
from tests.helpers import free_port, start_redis, wait_until
from tests.integration.cluster_helpers import call, cluster_info, my_id, nodes_of
from tests.integration.redis_capture import FakeBusPeer

pytestmark = [pytest.mark.timeout(90),
              pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="needs redis-server")]

HOSTNAME = "r1.example.com"
FAKE_NAME = "fa4e" * 10
RANGES = [(0, 5460), (5461, 10922), (10923, 16383)]


def mask_ping_sent(raw: bytes, count: int) -> bytes:
    out = bytearray(raw)
    for i in range(count):
        at = rb.CLUSTERMSG_MIN_LEN + i * rb.GOSSIP.size + rb.NAMELEN
        out[at:at + 4] = bytes(4)
    return bytes(out)


@pytest.fixture(scope="module")
def captured():
    procs, peer = [], None
    try:
        for i in range(3):
            extra = ["--cluster-node-timeout", "1000"]
            if i == 0:
                extra += ["--cluster-announce-hostname", HOSTNAME]
            procs.append(start_redis(*extra, cluster=True))
        ports = [p.port for p in procs]
        for i, port in enumerate(ports):
            assert call(port, "CLUSTER", "ADDSLOTSRANGE", *map(str, RANGES[i]))[0] == "+"
            assert call(port, "CLUSTER", "SET-CONFIG-EPOCH", str(i + 1))[0] == "+"
        for port in ports[1:]:
            assert call(ports[0], "CLUSTER", "MEET", "127.0.0.1", str(port))[0] == "+"
        wait_until(lambda: all(cluster_info(p)["cluster_state"] == "ok" for p in ports),
                   timeout=20, message="the three redis-servers to agree")

        peer = FakeBusPeer(FAKE_NAME, free_port())
        r1 = ports[0]
        assert call(r1, "CLUSTER", "MEET", "127.0.0.1", str(peer.port), str(peer.cport))[0] == "+"
        frames = {"meet": peer.wait_for(m.MEET)}

        def r1_knows_fake():
            peer.pump(0.05)
            return any(n["id"] == FAKE_NAME and "handshake" not in n["flags"]
                       for n in nodes_of(r1))
        wait_until(r1_knows_fake, timeout=10, message="redis to accept our PONG")

        # Our PING on a link we open: Redis answers PONG on it.
        to_r1 = peer.connect(r1 + 10000)
        mark = len(peer.frames)
        peer.send(to_r1, m.Ping(peer.header(), []))
        frames["pong"] = peer.wait_for(m.PONG, after=mark)
        frames["ping"] = peer.wait_for(m.PING)

        mark = len(peer.frames)
        assert call(r1, "PUBLISH", "news", "hello\x00world")[0] == ":"
        frames["publish"] = peer.wait_for(m.PUBLISH, after=mark)

        # Claim slot 0 (r1's, configEpoch 1) with configEpoch 0: r1 sends UPDATE.
        mark = len(peer.frames)
        peer.send(to_r1, m.Ping(peer.header(slots=[(0, 0)]), []))
        frames["update"] = peer.wait_for(m.UPDATE, after=mark)
        peer.send(to_r1, m.Ping(peer.header(), []))  # and let go of it

        procs[2].stop()
        frames["fail"] = peer.wait_for(m.FAIL, timeout=30)
        yield {"frames": frames, "ids": [my_id(p) for p in ports[:2]], "ports": ports}
    finally:
        if peer is not None:
            peer.close()
        for proc in procs:
            proc.stop()


def test_meet_with_hostname_and_gossip(captured):
    raw = captured["frames"]["meet"]
    frame = rb.decode_frame(raw)
    msg = frame.message
    r1_id, r2_id = captured["ids"]
    assert isinstance(msg, m.Meet)
    assert frame.extensions.hostname == HOSTNAME
    assert frame.extensions.compact_version is None
    h = msg.header
    assert (h.sender, h.master_id, h.config_epoch, h.flags & 3) == (r1_id, None, 1, 1)
    assert h.slots == [RANGES[0]] and h.cluster_ok and h.ip == ""
    assert h.port == captured["ports"][0] and h.cport == captured["ports"][0] + 10000
    assert h.current_epoch >= 3
    assert {g.node_id for g in msg.gossip} <= set(captured["ids"]) | {my_id(captured["ports"][1])}
    assert r2_id in {g.node_id for g in msg.gossip}
    again = rb.encode(msg, hostname=HOSTNAME)
    assert again == mask_ping_sent(raw, len(msg.gossip))


@pytest.mark.parametrize("kind", ["ping", "pong"])
def test_ping_and_pong(captured, kind):
    raw = captured["frames"][kind]
    frame = rb.decode_frame(raw)
    assert isinstance(frame.message, m.Ping if kind == "ping" else m.Pong)
    assert frame.extensions.hostname == HOSTNAME
    assert frame.message.header.sender == captured["ids"][0]
    again = rb.encode(frame.message, hostname=HOSTNAME)
    assert again == mask_ping_sent(raw, len(frame.message.gossip))


def test_publish(captured):
    raw = captured["frames"]["publish"]
    frame = rb.decode_frame(raw)
    assert frame.message == m.Publish(captured["ids"][0], b"news", b"hello\x00world")
    assert rb.encode(frame.message, publish_header=frame.header) == raw


def test_update(captured):
    raw = captured["frames"]["update"]
    frame = rb.decode_frame(raw)
    msg = frame.message
    assert isinstance(msg, m.Update)
    assert (msg.node_id, msg.config_epoch, msg.slots) == (captured["ids"][0], 1, [RANGES[0]])
    assert rb.encode(msg) == raw


def test_fail(captured):
    raw = captured["frames"]["fail"]
    frame = rb.decode_frame(raw)
    assert isinstance(frame.message, m.Fail)
    assert frame.message.header.sender in captured["ids"]
    assert frame.message.node_id not in captured["ids"] and frame.message.node_id != FAKE_NAME
    assert rb.encode(frame.message) == raw


def test_captured_frames_survive_the_compact_codec(captured):
    """The same message objects go through cluster.messages unchanged."""
    for raw in captured["frames"].values():
        msg = rb.decode(raw)
        assert m.decode(m.encode(msg)) == msg


@pytest.mark.parametrize("kind", ["meet", "update", "publish"])
def test_every_truncation_of_a_captured_frame_is_refused(captured, kind):
    raw = captured["frames"][kind]
    for cut in list(range(0, 64)) + list(range(64, len(raw), 97)):
        short = raw[:cut]
        if len(short) >= 8:  # keep totlen consistent with the bytes, as a reader would
            short = short[:4] + struct.pack(">I", len(short)) + short[8:]
        with pytest.raises(Exception) as info:
            rb.decode_frame(short)
        assert info.type is BusProtocolError
