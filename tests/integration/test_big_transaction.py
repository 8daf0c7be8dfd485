"""A huge MULTI/EXEC against a real node.py: it runs atomically (nothing from another
client in the middle of it), and the other clients wait for it no longer than its
commands take to run -- the bound Redis has too, and the only one there is: EXEC may
not yield.

The bound asserted is generous (10 us per command plus a second, where the node takes
about 2.5 us per INCR and Redis 0.3 us): it fails on a loop gone quadratic or on a
client starved after the transaction, not on a slow machine.
"""
import socket
import threading
import time

import hiredis

from tests.helpers import RawClient

N = 200_000
US_PER_COMMAND_BOUND = 10.0


def _connect(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_exactly(sock, size) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        data = sock.recv(min(size - len(buf), 1 << 20))
        if not data:
            raise ConnectionError("closed after %d of %d bytes" % (len(buf), size))
        buf += data
    return bytes(buf)


def _read_reply(sock):
    reader = hiredis.Reader()
    while (reply := reader.gets()) is False:
        data = sock.recv(1 << 20)
        if not data:
            raise ConnectionError("closed")
        reader.feed(data)
    return reply


def test_huge_exec_is_atomic_and_delays_others_by_its_run_time_only(node):
    RawClient(node.port).call("FLUSHALL")
    a = _connect(node.port)
    writer = threading.Thread(
        target=a.sendall,
        args=(b"*1\r\n$5\r\nMULTI\r\n" + b"*2\r\n$4\r\nINCR\r\n$3\r\n{k}\r\n" * N,))
    writer.start()
    assert _read_exactly(a, 5 + 9 * N).endswith(b"+QUEUED\r\n")
    writer.join()

    # Another client increments the same key in a loop meanwhile, timing each call.
    b = _connect(node.port)
    stop = threading.Event()
    started = threading.Event()
    waits = []
    seen = []

    def other_client():
        while not stop.is_set():
            t0 = time.perf_counter()
            b.sendall(b"*2\r\n$4\r\nINCR\r\n$3\r\n{k}\r\n")
            seen.append(_read_reply(b))
            waits.append(time.perf_counter() - t0)
            started.set()

    thread = threading.Thread(target=other_client)
    thread.start()
    assert started.wait(10)
    t0 = time.perf_counter()
    a.sendall(b"*1\r\n$4\r\nEXEC\r\n")
    replies = _read_reply(a)
    took = time.perf_counter() - t0
    time.sleep(0.05)
    stop.set()
    thread.join(30)
    a.close()
    b.close()

    # Atomic: the transaction's increments are consecutive, the other client's are not
    # among them.
    first = replies[0]
    assert replies == list(range(first, first + N))
    assert not any(first <= value < first + N for value in seen)
    assert any(value > first for value in seen)     # served again after the EXEC
    bound = N * US_PER_COMMAND_BOUND / 1e6 + 1.0
    assert took < bound
    assert max(waits) < bound, "another client waited %.2fs (EXEC took %.2fs)" \
        % (max(waits), took)
