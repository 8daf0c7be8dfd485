"""Pub/Sub on one node (a real node.py process): redis-py clients in RESP2 and RESP3,
cleanup on disconnect and RESET, and client-output-buffer-limit for subscribers that do
not read (hard limit: closed at once; soft limit: closed after its seconds), with the node
staying healthy and its memory bounded.

Every wait polls with a deadline; publish loops are bounded in count and time.
"""
import socket
import time

import pytest
import redis

from tests.helpers import RawClient, next_pubsub_message, wait_until
from tests.integration.cluster_helpers import rss_kb

OBUF_DEFAULT = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"


@pytest.fixture
def r(node):
    client = redis.Redis(port=node.port, socket_timeout=10)
    yield client
    client.config_set("client-output-buffer-limit", OBUF_DEFAULT)
    client.close()


def _numsub(r, channel) -> int:
    return dict(r.pubsub_numsub(channel))[channel.encode()]


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_channels_and_patterns(node, r, protocol):
    client = redis.Redis(port=node.port, socket_timeout=10, protocol=protocol)
    p = client.pubsub()
    try:
        p.subscribe("news")
        p.psubscribe("sport.*")
        wait_until(lambda: _numsub(r, "news") == 1, timeout=5, message="subscription")
        assert r.publish("news", "hello") == 1
        assert r.publish("sport.tennis", "ace") == 1
        assert r.publish("weather", "rain") == 0
        first, second = next_pubsub_message(p), next_pubsub_message(p)
        assert (first["type"], first["channel"], first["data"]) == ("message", b"news", b"hello")
        assert (second["type"], second["pattern"], second["channel"], second["data"]) == \
            ("pmessage", b"sport.*", b"sport.tennis", b"ace")
        assert r.pubsub_numpat() == 1
        p.unsubscribe("news")
        p.punsubscribe()
        wait_until(lambda: _numsub(r, "news") == 0 and r.pubsub_numpat() == 0, timeout=5,
                   message="unsubscribed")
    finally:
        p.close()
        client.close()


def test_many_messages_in_order(node, r):
    p = r.pubsub(ignore_subscribe_messages=True)
    try:
        p.subscribe("seq")
        wait_until(lambda: _numsub(r, "seq") == 1, timeout=5, message="subscription")
        pipe = r.pipeline(transaction=False)
        for i in range(2000):
            pipe.publish("seq", str(i))
        assert pipe.execute() == [1] * 2000
        got = [int(next_pubsub_message(p)["data"]) for _ in range(2000)]
        assert got == list(range(2000))
    finally:
        p.close()


def test_disconnect_and_reset_drop_subscriptions(node, r):
    sub = RawClient(node.port)
    sub.call("SUBSCRIBE", "gone")
    sub.call("SSUBSCRIBE", "gone")
    assert _numsub(r, "gone") == 1
    sub.close()
    wait_until(lambda: _numsub(r, "gone") == 0 and
               r.execute_command("PUBSUB", "SHARDNUMSUB", "gone")[1] == 0,
               timeout=5, message="subscriptions dropped on disconnect")

    sub = RawClient(node.port)
    try:
        sub.call("PSUBSCRIBE", "p*")
        sub.call("SUBSCRIBE", "kept")
        assert sub.call("RESET") == ("+", "RESET")      # no unsubscribe messages before it
        assert r.pubsub_numpat() == 0 and _numsub(r, "kept") == 0
        assert sub.call("GET", "x") == ("$", None)
    finally:
        sub.close()


def _silent_subscriber(port, channel):
    """A subscriber that never reads, with a small receive buffer so the node's queue
    grows quickly."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(RawClient.encode(("SUBSCRIBE", channel)))
    return sock


def _closed_by_peer(sock) -> bool:
    """True once the node has closed the connection (pending data is drained first)."""
    sock.setblocking(False)
    try:
        while True:
            data = sock.recv(1 << 20)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_hard_limit_disconnects_a_subscriber_that_never_reads(node, r):
    r.config_set("client-output-buffer-limit", "pubsub 256kb 0 0")
    sock = _silent_subscriber(node.port, "flood")
    reader = r.pubsub(ignore_subscribe_messages=True)   # a subscriber that does read
    try:
        reader.subscribe("flood")
        wait_until(lambda: _numsub(r, "flood") == 2, timeout=5, message="subscriptions")
        rss_before = rss_kb(node.pid)
        payload = b"x" * 10_000
        deadline = time.monotonic() + 20
        sent = 0
        # 4 MB at most, 16x the limit; stop as soon as the node dropped the silent one.
        while sent < 400 and time.monotonic() < deadline and _numsub(r, "flood") == 2:
            pipe = r.pipeline(transaction=False)
            for _ in range(20):
                pipe.publish("flood", payload)
            pipe.execute()
            sent += 20
            while next_pubsub_message(reader)["data"] != payload:
                pass
            for _ in range(19):
                next_pubsub_message(reader)
        assert _numsub(r, "flood") == 1, "the silent subscriber is still subscribed"
        wait_until(lambda: _closed_by_peer(sock), timeout=5, message="connection closed")
        # The kernel's socket buffers absorb a few MB before anything queues in the node.
        assert sent < 400, "closed only after %d messages" % sent
        assert r.ping() is True
        assert rss_kb(node.pid) - rss_before < 64 * 1024     # KB: no runaway queue
        assert r.info("clients")["connected_clients"] >= 1
    finally:
        reader.close()
        sock.close()


def _queued_bytes(r) -> int:
    """omem of the (only) pubsub client: what the node holds for it."""
    clients = r.client_list(_type="pubsub")
    return int(clients[0]["omem"]) if clients else -1


def test_soft_limit_closes_after_its_seconds(node, r):
    r.config_set("client-output-buffer-limit", "pubsub 0 64kb 1")
    sock = _silent_subscriber(node.port, "soft")
    try:
        wait_until(lambda: _numsub(r, "soft") == 1, timeout=5, message="subscription")
        payload = b"y" * 10_000

        # About 1 MB/s for at most 10 s: the kernel's socket buffers take the first few MB
        # (growing in steps, so the node's queue comes and goes at first), then the queue
        # stays over 64 KB and the client must be closed about 1 s later, not at once.
        start = time.monotonic()
        first_over = closed_at = None
        while time.monotonic() - start < 10:
            pipe = r.pipeline(transaction=False)
            for _ in range(10):
                pipe.publish("soft", payload)
            pipe.execute()
            now = time.monotonic()
            if _numsub(r, "soft") == 0:
                closed_at = now
                break
            if first_over is None and _queued_bytes(r) >= 64 * 1024:
                first_over = now
            time.sleep(0.1)
        assert closed_at is not None, "never closed over the soft limit"
        assert first_over is not None, "closed at once: the soft limit acted as a hard one"
        assert closed_at - first_over >= 0.5, "closed %.2fs after going over the soft " \
            "limit of 1 s" % (closed_at - first_over)
        assert r.ping() is True
    finally:
        sock.close()


def test_output_buffer_limit_is_per_class(node, r):
    """A pubsub limit does not apply to a normal client's MONITOR stream."""
    r.config_set("client-output-buffer-limit", "pubsub 1kb 0 0")
    monitor = RawClient(node.port)
    try:
        assert monitor.call("MONITOR") == ("+", "OK")
        for i in range(50):
            r.set("{m}key", "v" * 100)
        lines = [monitor.read_reply() for _ in range(50)]
        assert all(kind == "+" for kind, _ in lines)
    finally:
        monitor.close()
