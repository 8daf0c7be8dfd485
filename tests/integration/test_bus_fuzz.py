"""Bad input on a running node's cluster bus port: random bytes, truncated frames, an
oversized declared length, valid msgpack of the wrong shape, a frame header followed by
silence, a burst of valid pings from a stranger that never reads its replies.

After each, the node must still serve clients (PING, SET/GET), keep the links it had with
its peers (same create-time in CLUSTER LINKS), be suspected by nobody, and not have grown
its memory beyond a bound. Deterministic: the random inputs come from seeded generators.
"""
import random
import socket
import struct
import time

import msgpack
import pytest

from cluster import messages as m
from cluster import redis_bus as rb
from cluster.errors import BusProtocolError
from tests.helpers import RawClient, wait_until
from tests.integration.cluster_helpers import (
    call, cluster_info, form_cluster, knows_all, my_id, rss_kb, start_nodes, stop_all)

pytestmark = pytest.mark.timeout(90)

NODE_TIMEOUT = 2000
RSS_GROWTH_LIMIT_KB = 64 * 1024


@pytest.fixture(scope="module")
def trio():
    """Three masters with slots; the fuzz targets the first one's bus port."""
    procs = []
    try:
        start_nodes(3, node_timeout=NODE_TIMEOUT, procs=procs)
        ports = form_cluster(procs)
        yield procs, ports, [my_id(p) for p in ports]
    finally:
        stop_all(procs)


def link_times(port) -> dict:
    """(peer id, direction) -> create-time, from CLUSTER LINKS (RESP2: flat key/value arrays)."""
    _, links = call(port, "CLUSTER", "LINKS")
    result = {}
    for _, fields in links:
        entry = {k[1].decode(): v[1] for k, v in zip(fields[0::2], fields[1::2])}
        result[(entry["node"].decode(), entry["direction"].decode())] = entry["create-time"]
    return result


def key_served_by(port) -> str:
    """A key whose slot `port` owns, so SET/GET are served there and not MOVED."""
    mine = set()
    for n in call(port, "CLUSTER", "NODES")[1].decode().splitlines():
        fields = n.split(" ")
        if "myself" in fields[2]:
            for token in fields[8:]:
                start, _, end = token.partition("-")
                mine.update(range(int(start), int(end or start) + 1))
    for i in range(1000):
        key = "fuzz:%d" % i
        if call(port, "CLUSTER", "KEYSLOT", key)[1] in mine:
            return key
    raise AssertionError("no key maps to a slot of %d" % port)


@pytest.fixture
def healthy(trio):
    """Snapshot the target's links and memory, then, after the test, check it is healthy."""
    procs, ports, ids = trio
    target = ports[0]
    before_links = link_times(target)
    before_rss = rss_kb(procs[0].pid)
    yield target + 10000
    client = RawClient(target, timeout=5)
    try:
        assert client.call("PING") == ("+", "PONG")
        key = key_served_by(target)
        assert client.call("SET", key, "v") == ("+", "OK")
        assert client.call("GET", key) == ("$", b"v")
    finally:
        client.close()
    # Good links survived: the same links, none re-created.
    after_links = link_times(target)
    for peer in ids[1:]:
        for direction in ("to", "from"):
            assert after_links.get((peer, direction)) == before_links[(peer, direction)], \
                "link %s with %s was dropped" % (direction, peer[:8])
    # Nobody suspects anybody; the cluster is ok everywhere.
    for port in ports:
        assert knows_all(port, ids), call(port, "CLUSTER", "NODES")
        assert cluster_info(port)["cluster_state"] == "ok"
    grown = rss_kb(procs[0].pid) - before_rss
    assert grown < RSS_GROWTH_LIMIT_KB, "RSS grew by %d kB" % grown
    # Bad frames are logged as one warning each, never as a crash of a greenlet.
    with open(procs[0].log_path, errors="replace") as log:
        assert "Traceback" not in log.read()


def connect(bus_port) -> socket.socket:
    return socket.create_connection(("127.0.0.1", bus_port), timeout=5)


def closed_by_peer(sock, timeout=5.0) -> bool:
    """True once the node has closed the connection (recv returns b"" or a reset)."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def frame(body: bytes, length=None) -> bytes:
    return m.PREFIX.pack(m.SIGNATURE, m.VERSION, len(body) if length is None else length) + body


def valid_header(rng, sender=None) -> m.Header:
    return m.Header(sender=sender or "%040x" % rng.getrandbits(160), current_epoch=10 ** 6,
                    config_epoch=10 ** 6, repl_offset=0, flags=1, master_id=None,
                    ip="127.0.0.1", port=1, cport=2, cluster_ok=True, mflags=0,
                    shard_id="%040x" % rng.getrandbits(160), slots=[(0, 16383)])


# ---------------------------------------------------------------- the cases

def test_random_bytes_are_refused(healthy):
    rng = random.Random(1)
    for _ in range(40):
        sock = connect(healthy)
        sock.sendall(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096))))
        # Anything that is not "RCmp" + version 1 closes the link at once (a rare random
        # prefix shorter than 9 bytes just waits, and is closed by us below).
        sock.close()
    sock = connect(healthy)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert closed_by_peer(sock)
    sock.close()


def test_truncated_frames_then_close(healthy):
    rng = random.Random(2)
    whole = m.encode(m.Ping(valid_header(rng), []))
    for cut in (1, 4, 8, 9, 10, len(whole) // 2, len(whole) - 1):
        sock = connect(healthy)
        sock.sendall(whole[:cut])
        sock.close()


def test_oversized_declared_length_is_refused_before_buffering(healthy):
    for length in (m.MAX_FRAME_BYTES + 1, 2 ** 32 - 1, 0):
        sock = connect(healthy)
        sock.sendall(frame(b"", length=length) + b"\x00" * 1024)
        assert closed_by_peer(sock), "length %d not refused" % length
        sock.close()


def test_valid_msgpack_of_the_wrong_shape_is_refused(healthy):
    rng = random.Random(3)
    hdr = m._header_fields(valid_header(rng))
    bad_headers = []
    for wrong in ["x", -1, 2 ** 64 - 1, -2 ** 63, b"\x00" * 3, [1], None, True, 1.5, "x" * 47]:
        for pos in range(13):
            fields = list(hdr)
            fields[pos] = wrong
            try:
                m._header(fields)       # keep only the replacements that make it invalid
            except BusProtocolError:
                bad_headers.append(fields)
    bodies = [
        {"a": 1}, [], [0], ["ping"], [99, hdr, []], [0, hdr], [0, hdr, [[1, 2, 3]]],
        [0, hdr, "gossip"], [3, hdr, b"short"], [7, hdr, 1, b"\x00" * 20, [5, 1]],
        [4, b"\x01" * 20, "channel-as-str", b"m"], [0, hdr, [], "extra"],
        1, "string", None, [[[[[[[[[[[]]]]]]]]]]],
    ] + [[0, h, []] for h in bad_headers]
    bodies = [msgpack.packb(b, use_bin_type=True) for b in bodies]
    bodies.append(b"\x91" * 5000)              # nested 5000 deep
    bodies.append(b"\xdd\xff\xff\xff\xff")     # array header claiming 4G items
    refused = 0
    for body in bodies:
        sock = connect(healthy)
        sock.sendall(frame(body))
        refused += closed_by_peer(sock)
        sock.close()
    assert refused == len(bodies)


def test_header_then_silence_is_bounded(healthy):
    # Each connection declares a maximal frame, sends most of it and stops. The node holds
    # at most one frame per link, and must go on serving clients and its peers meanwhile.
    socks = []
    try:
        partial = b"\x00" * (m.MAX_FRAME_BYTES // 2)
        for _ in range(10):
            sock = connect(healthy)
            sock.sendall(frame(b"", length=m.MAX_FRAME_BYTES) + partial)
            socks.append(sock)
        for _ in range(20):
            sock = connect(healthy)
            sock.sendall(frame(b"", length=100))    # the header alone
            socks.append(sock)
        # Hold them open across a node timeout: the peers must not suspect the target.
        deadline = time.monotonic() + NODE_TIMEOUT / 1000 * 1.5
        client = RawClient(healthy - 10000, timeout=5)
        try:
            while time.monotonic() < deadline:
                assert client.call("PING") == ("+", "PONG")
                time.sleep(0.1)
        finally:
            client.close()
    finally:
        for sock in socks:
            sock.close()


def test_stranger_pings_get_pongs_and_change_nothing(healthy, trio):
    _, ports, ids = trio
    rng = random.Random(4)
    slots_before = call(ports[0], "CLUSTER", "SLOTS")
    epoch_before = cluster_info(ports[0])["cluster_current_epoch"]
    # A node we never met pings, claiming every slot with a huge epoch: Redis answers
    # PONG to any PING and ignores what an unknown sender claims.
    sender = "%040x" % rng.getrandbits(160)
    sock = connect(healthy)
    try:
        sock.sendall(m.encode(m.Ping(valid_header(rng, sender), [])))
        reader = m.FrameReader()
        replies = []
        sock.settimeout(5)
        wait_until(lambda: replies.extend(reader.feed(sock.recv(65536))) or replies,
                   timeout=5, message="a PONG to the stranger's PING")
        assert replies[0].TYPE == m.PONG and replies[0].header.sender == ids[0]
        # Then a burst it never reads: the node's send queue for this link is bounded.
        burst = b"".join(m.encode(m.Ping(valid_header(rng, sender), [])) for _ in range(300))
        sock.sendall(burst)
    finally:
        sock.close()
    assert call(ports[0], "CLUSTER", "SLOTS") == slots_before
    assert cluster_info(ports[0])["cluster_current_epoch"] == epoch_before
    assert sender not in call(ports[0], "CLUSTER", "NODES")[1].decode()


def test_frame_split_across_many_writes_is_still_read(healthy, trio):
    # Not an attack: a valid frame one byte at a time must be reassembled (then PONGed).
    rng = random.Random(5)
    data = m.encode(m.Ping(valid_header(rng), []))
    sock = connect(healthy)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            sock.sendall(data[i:i + 1])
        reader = m.FrameReader()
        replies = []
        sock.settimeout(5)
        wait_until(lambda: replies.extend(reader.feed(sock.recv(65536))) or replies,
                   timeout=5, message="a PONG to the byte-by-byte PING")
        assert replies[0].TYPE == m.PONG
    finally:
        sock.close()


# ---------------------------------------------------------------- Redis's format (RCmb)

def test_redis_format_stranger_gets_a_redis_format_pong(healthy, trio):
    _, _, ids = trio
    rng = random.Random(6)
    sock = connect(healthy)
    try:
        sock.sendall(rb.encode(m.Ping(valid_header(rng), [])))
        data = b""
        sock.settimeout(5)
        while len(data) < 8 or len(data) < struct.unpack_from(">I", data, 4)[0]:
            data += sock.recv(65536)
        reply = rb.decode_frame(data[:struct.unpack_from(">I", data, 4)[0]])
        assert reply.message.TYPE == m.PONG and reply.message.header.sender == ids[0]
        assert reply.extensions.compact_version == m.VERSION  # the offer of ours
    finally:
        sock.close()


def test_redis_format_bad_packets_close_the_link(healthy):
    rng = random.Random(7)
    ping = bytearray(rb.encode(m.Ping(valid_header(rng), [])))
    cases = []
    for offset, fmt, value in [(4, ">I", 2 ** 32 - 1), (4, ">I", 100), (8, ">H", 0),
                               (14, ">H", 9), (16, ">Q", 2 ** 64 - 1), (40, ">4s", b"XYZ!")]:
        bad = bytearray(ping)
        struct.pack_into(fmt, bad, offset, value)
        cases.append(bytes(bad))
    ext = bytearray(ping) + struct.pack(">IHH", 12, 0, 0) + b"host"   # unpadded extension
    struct.pack_into(">I", ext, 4, len(ext))
    struct.pack_into(">H", ext, 2214, 1)
    ext[2253] |= rb.CLUSTERMSG_FLAG0_EXT_DATA
    cases.append(bytes(ext))
    for data in cases:
        sock = connect(healthy)
        sock.sendall(data + b"\x00" * 64)
        assert closed_by_peer(sock), data[:16]
        sock.close()


def test_redis_format_random_mutations(healthy):
    """Seeded byte flips, truncations and length rewrites of valid Redis-format messages
    from strangers: whatever the node makes of them, it stays healthy (the fixture). No
    MEET: a stranger's MEET rightly starts a handshake."""
    rng = random.Random(8)
    header = valid_header(rng)
    corpus = [rb.encode(msg, publish_header=header, advertise_compact=True)
              for msg in (m.Ping(header, []), m.Fail(header, header.sender),
                          m.Update(header, 1, header.sender, [(0, 10)]),
                          m.Publish(header.sender, b"ch", b"msg"), m.MfStart(header))]
    for _ in range(60):
        data = bytearray(rng.choice(corpus))
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] ^= rng.randint(1, 255)
        if rng.random() < 0.3:
            data = data[:rng.randint(8, len(data))]
            struct.pack_into(">I", data, 4, len(data))
        if struct.unpack_from(">H", data, 12)[0] == m.MEET:
            struct.pack_into(">H", data, 12, m.PING)
        sock = connect(healthy)
        sock.sendall(bytes(data))
        sock.close()
