"""CLIENT REPLY and CLIENT PAUSE compared with redis-server 7.0 on raw sockets.

CLIENT REPLY: the bytes a connection receives for the same request stream must be the
same. CLIENT PAUSE: which commands wait and which do not, and for how long (with
generous margins: a held command must not be answered before the pause ends, a free one
must be answered well before).
"""
import socket
import time

import pytest

from tests.helpers import RawClient

PAUSE_MS = 400


def _port(client) -> int:
    return client.sock.getpeername()[1]


def _read_until(sock, end: bytes, timeout=5.0) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(end):
        left = deadline - time.monotonic()
        assert left > 0, "no %r after %r" % (end, data[-200:])
        sock.settimeout(left)
        chunk = sock.recv(65536)
        assert chunk, "connection closed after %r" % data[-200:]
        data += chunk
    return data


def _both_bytes(diff, chunks, end=b"$3\r\nend\r\n", setup=()):
    """Send `chunks` (each its own write, a moment apart) on a fresh connection to each
    server; return the bytes each answered, up to `end`."""
    results = []
    for port in (_port(diff.ours), _port(diff.redis)):
        client = RawClient(port)
        for args in setup:
            client.call(*args)
        for chunk in chunks:
            client.sock.sendall(chunk)
            time.sleep(0.01)
        results.append(_read_until(client.sock, end))
        client.close()
    return results


# ---------------------------------------------------------------- CLIENT REPLY

def test_reply_skip_off_on_in_one_batch(diff):
    ours, ref = _both_bytes(diff, [
        b"CLIENT REPLY SKIP\r\nPING\r\nECHO a\r\nCLIENT REPLY OFF\r\nPING\r\nSET x 1\r\n"
        b"CLIENT REPLY SKIP\r\nGET x\r\nCLIENT REPLY ON\r\nCLIENT REPLY ON\r\nECHO end\r\n"])
    assert ours == ref == b"$1\r\na\r\n+OK\r\n+OK\r\n$3\r\nend\r\n"


def test_reply_modes_across_reads(diff):
    """Each command in its own read: the skipped reply is the next command's."""
    ours, ref = _both_bytes(diff, [
        b"CLIENT REPLY SKIP\r\n", b"ECHO skipped\r\n", b"ECHO kept\r\n",
        b"CLIENT REPLY OFF\r\n", b"ECHO off1\r\n", b"CLIENT REPLY SKIP\r\n",
        b"ECHO off2\r\n", b"CLIENT REPLY FOO\r\n", b"CLIENT REPLY ON\r\n", b"ECHO end\r\n"])
    assert ours == ref == b"$4\r\nkept\r\n+OK\r\n$3\r\nend\r\n"


def test_reset_turns_replies_back_on(diff):
    ours, ref = _both_bytes(diff, [b"CLIENT REPLY OFF\r\nPING\r\nRESET\r\nECHO end\r\n"])
    assert ours == ref == b"+RESET\r\n$3\r\nend\r\n"


def test_reply_off_long_pipeline(diff):
    """More commands than one batch of replies (our loop sends every 64 commands)."""
    pipeline = b"CLIENT REPLY OFF\r\n" + b"INCR n\r\n" * 300 + \
        b"CLIENT REPLY ON\r\nGET n\r\nECHO end\r\n"
    ours, ref = _both_bytes(diff, [pipeline])
    assert ours == ref == b"+OK\r\n$3\r\n300\r\n$3\r\nend\r\n"


def test_reply_off_keeps_tracking_pushes(diff):
    """Invalidations are pushes: CLIENT REPLY OFF does not silence them."""
    ours, ref = _both_bytes(diff, [
        b"GET tk\r\nCLIENT REPLY OFF\r\nSET tk 1\r\nCLIENT REPLY ON\r\nECHO end\r\n"],
        setup=[("HELLO", "3"), ("CLIENT", "TRACKING", "on")])
    assert ours == ref
    assert ours == b"_\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\ntk\r\n+OK\r\n" \
                   b"$3\r\nend\r\n"


# ---------------------------------------------------------------- CLIENT PAUSE

def _timed(client, *args):
    start = time.monotonic()
    reply = client.call(*args)
    return reply, time.monotonic() - start


@pytest.fixture(params=["ours", "redis"])
def port(request, diff):
    port = _port(diff.ours if request.param == "ours" else diff.redis)
    yield port
    RawClient(port).call("CLIENT", "UNPAUSE")


def test_pause_write_holds_writes_not_reads(port):
    admin, other = RawClient(port), RawClient(port)
    other.call("SET", "pw", "before")
    assert admin.call("CLIENT", "PAUSE", PAUSE_MS, "WRITE") == ("+", "OK")
    reply, took = _timed(other, "GET", "pw")
    assert reply == ("$", b"before") and took < 0.2
    reply, took = _timed(other, "SET", "pw", "after")
    assert reply == ("+", "OK") and took > PAUSE_MS / 1000.0 * 0.6, took
    # PUBLISH may replicate: held too. UNPAUSE releases it before the timeout.
    admin.call("CLIENT", "PAUSE", 5000, "WRITE")
    other.send_raw(RawClient.encode(["PUBLISH", "ch", "m"]))
    time.sleep(0.2)
    other.sock.settimeout(0.05)
    with pytest.raises(socket.timeout):
        other.sock.recv(1)
    other.sock.settimeout(10)
    # Held as Redis holds a postponed client: counted as blocked, flagged 'b'.
    info = admin.call("INFO", "clients")[1].decode()
    assert "blocked_clients:1\r\n" in info
    listing = admin.call("CLIENT", "LIST")[1].decode()
    assert " flags=b " in listing and " cmd=publish " in listing, listing
    admin.call("CLIENT", "UNPAUSE")
    assert other.read_reply() == (":", 0)
    admin.close()
    other.close()


def test_pause_write_answers_earlier_replies_of_a_pipeline(port):
    admin, other = RawClient(port), RawClient(port)
    admin.call("CLIENT", "PAUSE", PAUSE_MS, "WRITE")
    start = time.monotonic()
    other.send_raw(b"GET pp\r\nSET pp 1\r\n")
    assert other.read_reply() == ("$", None)
    assert time.monotonic() - start < 0.2          # not held behind the SET
    assert other.read_reply() == ("+", "OK")
    assert time.monotonic() - start > PAUSE_MS / 1000.0 * 0.6
    # In a transaction the held command is the queued write itself.
    admin.call("CLIENT", "PAUSE", PAUSE_MS, "WRITE")
    assert other.call("MULTI") == ("+", "OK")
    reply, took = _timed(other, "SET", "pp", "2")
    assert reply == ("+", "QUEUED") and took > PAUSE_MS / 1000.0 * 0.6
    assert other.call("EXEC") == ("*", [("+", "OK")])
    admin.close()
    other.close()


def test_pause_all_holds_reads_and_unpause(port):
    admin, other = RawClient(port), RawClient(port)
    admin.call("CLIENT", "PAUSE", PAUSE_MS)          # ALL by default
    reply, took = _timed(other, "GET", "pa")
    assert reply == ("$", None) and took > PAUSE_MS / 1000.0 * 0.6
    # ALL holds CLIENT UNPAUSE too: only the timeout ends it.
    admin.call("CLIENT", "PAUSE", PAUSE_MS, "ALL")
    reply, took = _timed(other, "CLIENT", "UNPAUSE")
    assert reply == ("+", "OK") and took > PAUSE_MS / 1000.0 * 0.6
    admin.close()
    other.close()


def test_pause_keeps_expired_keys(port):
    """While paused, a key past its TTL reads as missing but is not deleted."""
    admin, other = RawClient(port), RawClient(port)
    other.call("FLUSHALL")
    other.call("SET", "pe", "1", "PX", "50")
    admin.call("CLIENT", "PAUSE", 2000, "WRITE")
    time.sleep(0.2)
    assert other.call("GET", "pe") == ("$", None)
    assert other.call("DBSIZE") == (":", 1)
    admin.call("CLIENT", "UNPAUSE")
    assert other.call("GET", "pe") == ("$", None)
    assert other.call("DBSIZE") == (":", 0)
    admin.close()
    other.close()


def _killed_while_waiting(port, first: bytes, setup=()):
    """A client sends `first` (which waits) with a pipelined SET behind it and is killed
    while waiting; returns what the key of that SET then holds."""
    admin, victim = RawClient(port), RawClient(port)
    admin.call("DEL", "{kw}after")
    for args in setup:
        admin.call(*args)
    victim.send_raw(b"CLIENT ID\r\n" + first + b"SET {kw}after 1\r\n")
    cid = victim.read_reply()[1]          # answered before the wait, as Redis does
    time.sleep(0.1)
    assert admin.call("CLIENT", "KILL", "ID", cid) == (":", 1)
    admin.call("CLIENT", "UNPAUSE")
    time.sleep(0.1)
    value = admin.call("GET", "{kw}after")
    admin.close()
    victim.close()
    return value


def test_client_killed_while_held_by_pause_runs_nothing_more(port):
    held = b"SET {kw}held 1\r\n"
    assert _killed_while_waiting(port, held, [("CLIENT", "PAUSE", 5000, "WRITE")]) \
        == ("$", None)
    assert RawClient(port).call("EXISTS", "{kw}held") == (":", 0)


def test_client_killed_while_blocked_runs_nothing_more(port):
    assert _killed_while_waiting(port, b"BLPOP {kw}list 0\r\n") == ("$", None)
