"""cluster.redis_bus against bytes real redis-servers 7.0 write, captured at test time.

Four redis-servers (r1 announces a hostname; r4 has no slots) and two fake nodes of the
test (tests/integration/redis_capture.py), MET by r1, which so receive on real bus links:
MEET, PING and PONG (with the hostname extension), PUBLISH, UPDATE (after the fake node
claims a slot with a stale configEpoch), FAILOVER_AUTH_ACK (the second fake node, a
"replica" of r2, asks r1 for its vote with FORCEACK), FAIL (after r3 is killed), then,
once r4 replicates the fake node: PUBLISHSHARD (SPUBLISH on r4), MFSTART (CLUSTER
FAILOVER on r4) and FAILOVER_AUTH_REQUEST (after our PAUSED offset reaches r4).

Each is decoded, checked field by field against what the servers were told, and
re-encoded: Redis's bytes must come back byte for byte (in gossip entries only
``ping_sent``, which our messages do not carry, is masked). The fake nodes' own
messages are our encoder's: Redis acting on them (handshakes, UPDATE, the vote, the
manual failover) is the other direction.
"""
import shutil
import struct

import pytest

from cluster import messages as m
from cluster import redis_bus as rb
from cluster.errors import BusProtocolError
from cluster.slots import key_hash_slot
from tests.helpers import RawClient, free_port, start_redis, wait_until
from tests.integration.cluster_helpers import call, cluster_info, my_id, nodes_of
from tests.integration.redis_capture import FakeBusPeer

pytestmark = [pytest.mark.timeout(90),
              pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="needs redis-server")]

HOSTNAME = "r1.example.com"
FAKE_NAME = "fa4e" * 10
RANGES = [(0, 5460), (5461, 10922), (10923, 16000)]
FREE_RANGE = (16001, 16383)
SHARD_CHANNEL = next(c for c in ("shard:%d" % i for i in range(10000))
                     if FREE_RANGE[0] <= key_hash_slot(c.encode()) <= FREE_RANGE[1])


def mask_ping_sent(raw: bytes, count: int) -> bytes:
    out = bytearray(raw)
    for i in range(count):
        at = rb.CLUSTERMSG_MIN_LEN + i * rb.GOSSIP.size + rb.NAMELEN
        out[at:at + 4] = bytes(4)
    return bytes(out)


def knows_node(port, name, flag=None) -> bool:
    return any(n["id"] == name and "handshake" not in n["flags"]
               and (flag is None or flag in n["flags"]) for n in nodes_of(port))


def join(peer: FakeBusPeer, redis_port: int) -> None:
    """CLUSTER MEET the fake node from `redis_port`; our PONGs complete the handshake."""
    assert call(redis_port, "CLUSTER", "MEET", "127.0.0.1", str(peer.port),
                str(peer.cport))[0] == "+"
    wait_until(lambda: peer.pump(0.05) or knows_node(redis_port, peer.name), timeout=10,
               message="redis to accept our PONG")


@pytest.fixture(scope="module")
def captured():
    procs, peers = [], []
    try:
        for i in range(4):
            extra = ["--cluster-node-timeout", "1000"]
            if i == 0:
                extra += ["--cluster-announce-hostname", HOSTNAME]
            procs.append(start_redis(*extra, cluster=True))
        ports = [p.port for p in procs]
        r1, r2, r3, r4 = ports
        for i, port in enumerate(ports[:3]):
            assert call(port, "CLUSTER", "ADDSLOTSRANGE", *map(str, RANGES[i]))[0] == "+"
            assert call(port, "CLUSTER", "SET-CONFIG-EPOCH", str(i + 1))[0] == "+"
        for port in ports[1:]:
            assert call(r1, "CLUSTER", "MEET", "127.0.0.1", str(port))[0] == "+"
        ids = [my_id(p) for p in ports]
        wait_until(lambda: all(knows_node(p, i) for p in ports for i in ids), timeout=20,
                   message="the four redis-servers to know each other")

        peer = FakeBusPeer(FAKE_NAME, free_port())
        peers.append(peer)
        mark = len(peer.frames)
        join(peer, r1)
        frames = {"meet": peer.wait_for(m.MEET, after=mark)}

        # Our PING on a link we open: Redis answers PONG on it.
        to_r1 = peer.connect(r1 + 10000)
        mark = len(peer.frames)
        peer.send(to_r1, m.Ping(peer.header(), []))
        frames["pong"] = peer.wait_for(m.PONG, after=mark)
        frames["ping"] = peer.wait_for(m.PING, sender=ids[0])

        mark = len(peer.frames)
        assert call(r1, "PUBLISH", "news", "hello\x00world")[0] == ":"
        frames["publish"] = peer.wait_for(m.PUBLISH, after=mark)

        # Claim slot 0 (r1's, configEpoch 1) with configEpoch 0: r1 sends UPDATE.
        mark = len(peer.frames)
        peer.send(to_r1, m.Ping(peer.header(slots=[(0, 0)]), []))
        frames["update"] = peer.wait_for(m.UPDATE, after=mark)
        peer.send(to_r1, m.Ping(peer.header(), []))  # and let go of it

        # A second fake node, a replica of r2, asks r1 for its vote (FORCEACK): r1 ACKs.
        voter = FakeBusPeer("b0a7" * 10, free_port())
        peers.append(voter)
        join(voter, r1)
        voter.master_id, voter.slots, voter.config_epoch = ids[1], [RANGES[1]], 2
        voter.current_epoch = int(cluster_info(r1)["cluster_current_epoch"]) + 10
        to_r1_voter = voter.connect(r1 + 10000)
        voter.send(to_r1_voter, m.Ping(voter.header(), []))
        wait_until(lambda: voter.pump(0.05) or knows_node(r1, voter.name, "slave"),
                   timeout=10, message="r1 to see the voter as a replica")
        voter.send(to_r1_voter, m.FailoverAuthRequest(voter.header(mflags=m.MFLAG_FORCEACK)))
        frames["auth_ack"] = voter.wait_for(m.FAILOVER_AUTH_ACK)

        # kill -9 of r3: r1 or r2 marks it FAIL and tells everyone.
        procs[2].stop()
        about_r3 = ids[2].encode()
        frames["fail"] = peer.wait_for(m.FAIL, timeout=30,
                                       match=lambda raw: raw[2256:2296] == about_r3)

        # The fake node takes the free slots, r4 replicates it and starts a manual
        # failover: MFSTART to us; our PAUSED offset lets it ask for votes (AUTH_REQUEST).
        peer.slots, peer.config_epoch = [FREE_RANGE], 10
        peer.send(to_r1, m.Ping(peer.header(), []))
        wait_until(lambda: peer.pump(0.05) or knows_node(r4, FAKE_NAME, "master"), timeout=15,
                   message="r4 to learn the fake node")
        to_r4 = peer.connect(r4 + 10000)
        peer.send(to_r4, m.Ping(peer.header(), []))
        peer.pump(0.3)
        assert call(r4, "CLUSTER", "REPLICATE", FAKE_NAME)[0] == "+"
        peer.pump(0.3)
        # SPUBLISH on the replica (READONLY) goes to its shard: its master, us.
        mark = len(peer.frames)
        client = RawClient(r4)
        try:
            assert client.call("READONLY") == ("+", "OK")
            reply = client.call("SPUBLISH", SHARD_CHANNEL, "shard-news")
            assert reply[0] == ":", reply
        finally:
            client.close()
        frames["publishshard"] = peer.wait_for(m.PUBLISHSHARD, after=mark)
        mark = len(peer.frames)
        reply = call(r4, "CLUSTER", "FAILOVER")
        assert reply[0] == "+", reply
        frames["mfstart"] = peer.wait_for(m.MFSTART, after=mark)
        peer.send(to_r4, m.Ping(peer.header(mflags=m.MFLAG_PAUSED), []))
        frames["auth_request"] = peer.wait_for(m.FAILOVER_AUTH_REQUEST, after=mark)
        yield {"frames": frames, "ids": ids, "ports": ports}
    finally:
        for peer in peers:
            peer.close()
        for proc in procs:
            proc.stop()


def test_meet_with_hostname_and_gossip(captured):
    raw = captured["frames"]["meet"]
    frame = rb.decode_frame(raw)
    msg = frame.message
    r1_id = captured["ids"][0]
    assert isinstance(msg, m.Meet)
    assert frame.extensions.hostname == HOSTNAME
    assert frame.extensions.compact_version is None
    h = msg.header
    assert (h.sender, h.master_id, h.config_epoch, h.flags & 3) == (r1_id, None, 1, 1)
    assert h.slots == [RANGES[0]] and h.ip == ""
    assert not h.cluster_ok  # slots 16001-16383 are not covered yet: CLUSTER_FAIL
    assert h.port == captured["ports"][0] and h.cport == captured["ports"][0] + 10000
    assert h.current_epoch >= 3
    assert {g.node_id for g in msg.gossip} <= set(captured["ids"])
    assert all(g.ip == "127.0.0.1" and g.cport == g.port + 10000 for g in msg.gossip)
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


def test_publishshard_from_a_replica(captured):
    raw = captured["frames"]["publishshard"]
    frame = rb.decode_frame(raw)
    assert frame.message == m.PublishShard(captured["ids"][3], SHARD_CHANNEL.encode(),
                                           b"shard-news")
    assert frame.header.master_id == FAKE_NAME
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
    assert frame.message.header.sender in captured["ids"][:2] + captured["ids"][3:]
    assert frame.message.node_id == captured["ids"][2]
    assert rb.encode(frame.message) == raw


def test_failover_auth_ack(captured):
    raw = captured["frames"]["auth_ack"]
    msg = rb.decode(raw)
    assert isinstance(msg, m.FailoverAuthAck) and msg.header.sender == captured["ids"][0]
    assert len(raw) == rb.CLUSTERMSG_MIN_LEN and rb.encode(msg) == raw


def test_mfstart_and_auth_request_from_a_replica(captured):
    r4 = captured["ids"][3]
    mfstart = rb.decode(captured["frames"]["mfstart"])
    request = rb.decode(captured["frames"]["auth_request"])
    assert isinstance(mfstart, m.MfStart) and isinstance(request, m.FailoverAuthRequest)
    for msg, raw in ((mfstart, captured["frames"]["mfstart"]),
                     (request, captured["frames"]["auth_request"])):
        h = msg.header
        assert (h.sender, h.master_id, h.flags & 3) == (r4, FAKE_NAME, 2)
        assert h.slots == [FREE_RANGE] and h.config_epoch == 10  # its master's
        assert rb.encode(msg) == raw
    assert request.header.mflags & m.MFLAG_FORCEACK  # a manual failover
    assert request.header.current_epoch > mfstart.header.current_epoch


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
