"""Bad input gets Redis's error and the node keeps serving.

Protocol errors are compared byte for byte with a real redis-server: both get the same
raw bytes, both must answer the same and close the connection.
"""
import os
import random
import socket

import pytest
import redis

from tests.helpers import RawClient, start_node, wait_until


def raw_exchange(port, data: bytes, timeout=5.0) -> bytes:
    """Send raw bytes, read until the server closes (or the timeout), return the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout:
            chunks.append(b"<still open>")
        return b"".join(chunks)


@pytest.mark.parametrize("data", [
    b"*abc\r\n",
    b"*1\r\n$x\r\n",
    b"*1\r\n$-5\r\n",
    b"*1\r\nfoo\r\n",
    b"*2\r\n$4\r\nPING\r\n:5\r\n",
    b"*99999999999\r\n",
    b'SET k "unbalanced\r\n',
    b"*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n",
    b"*1\r\n$600000000\r\n",
])
def test_protocol_errors_match_redis(node, redis_server, data):
    ours = raw_exchange(node.port, data)
    ref = raw_exchange(redis_server.port, data)
    assert ours == ref
    assert b"Protocol error" in ours


def test_inline_commands_like_telnet(node):
    reply = raw_exchange(node.port, b"PING\r\nECHO hello\r\nQUIT\r\n")
    assert reply == b"+PONG\r\n$5\r\nhello\r\n+OK\r\n"


def test_unknown_command_and_arity_errors(node):
    c = RawClient(node.port)
    assert c.call("NOPE", "a", "b") == (
        "-", "ERR unknown command 'NOPE', with args beginning with: 'a' 'b' ")
    assert c.call("GET") == ("-", "ERR wrong number of arguments for 'get' command")
    assert c.call("PING") == ("+", "PONG")      # the connection survives
    c.close()


def test_bulk_over_proto_max_bulk_len_closes_only_that_client():
    node = start_node("--proto-max-bulk-len", "1mb")
    try:
        other = RawClient(node.port)
        reply = raw_exchange(node.port, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\nabc")
        assert reply == b"-ERR Protocol error: invalid bulk length\r\n"
        assert other.call("PING") == ("+", "PONG")
        other.close()
    finally:
        node.stop()


def test_query_buffer_limit_closes_the_client():
    node = start_node("--client-query-buffer-limit", "1mb")
    try:
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as s:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000000\r\n")
            closed = False
            try:
                for _ in range(100):
                    s.sendall(b"x" * 65536)
            except OSError:
                closed = True
            if not closed:
                s.settimeout(5)
                assert s.recv(100) in (b"",)
        assert RawClient(node.port).call("PING") == ("+", "PONG")
    finally:
        node.stop()


def test_maxclients():
    node = start_node("--maxclients", "2")
    try:
        a, b = RawClient(node.port), RawClient(node.port)
        assert a.call("PING") == ("+", "PONG") and b.call("PING") == ("+", "PONG")
        assert raw_exchange(node.port, b"") == b"-ERR max number of clients reached\r\n"
        a.close()
        wait_until(lambda: RawClient(node.port).call("PING") == ("+", "PONG"), timeout=5,
                   message="a slot to free up")
    finally:
        node.stop()


def test_half_sent_command_does_not_block_others(node):
    stuck = socket.create_connection(("127.0.0.1", node.port))
    stuck.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nonly part")
    c = redis.Redis(port=node.port)
    assert c.ping()
    assert c.set("other", "v") and c.get("other") == b"v"
    stuck.close()


def test_random_bytes_never_crash_the_node(node):
    rng = random.Random(1234)
    for i in range(200):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
        if i % 3 == 0:
            data = b"*" + data
        try:
            with socket.create_connection(("127.0.0.1", node.port), timeout=2) as s:
                s.sendall(data)
                s.settimeout(0.05)
                try:
                    s.recv(65536)
                except OSError:
                    pass
        except OSError:
            pass
    c = redis.Redis(port=node.port)
    assert c.ping()
    assert c.set("after-fuzz", "ok") and c.get("after-fuzz") == b"ok"


def test_big_pipeline_is_answered_in_order(node):
    c = RawClient(node.port)
    n = 20000
    data = b"".join(RawClient.encode(["SET", "k%d" % i, os.urandom(8).hex()]) for i in range(n))
    c.send_raw(data + RawClient.encode(["GET", "k%d" % (n - 1)]))
    replies = [c.read_reply() for _ in range(n + 1)]
    assert all(r == ("+", "OK") for r in replies[:n])
    assert replies[n][0] == "$" and len(replies[n][1]) == 16
    c.close()


def test_client_that_writes_its_whole_pipeline_before_reading(node):
    """1M pipelined commands sent before any reply is read (23 MB): the node must keep
    reading while replies pile up, as Redis does, instead of deadlocking in send()."""
    import threading
    n = 1_000_000
    command = RawClient.encode(["GET", "{p}:1"])
    sock = socket.create_connection(("127.0.0.1", node.port), timeout=60)
    sent = []

    def send_all():
        sock.sendall(command * n)
        sent.append(True)
    writer = threading.Thread(target=send_all, daemon=True)
    writer.start()
    writer.join(timeout=60)
    assert sent, "the node stopped reading: the pipeline could not be written"
    expected = b"$-1\r\n" * n
    received = bytearray()
    while len(received) < len(expected):
        chunk = sock.recv(1 << 20)
        assert chunk, "connection closed early"
        received += chunk
    assert received == expected
    sock.close()
