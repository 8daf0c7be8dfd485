"""The replica's side of a full sync without processes: PayloadReader over a socket pair,
and a ReplicaLink against a fake master (gevent, in process) that sends a good, a
truncated or a corrupt RDB."""
import io

import gevent
import gevent.server
import gevent.socket
import pytest
from loguru import logger

from commands.data.keyspace import Keyspace
from commands.persistence.rdb_snapshot import write_keyspace
from commands.replication.master import Replication
from commands.replication.rdb_transfer import PayloadReader, TransferError, parse_preamble
from commands.replication.replica_link import ReplicaLink
from commands.server.context import Server
from commands.server.settings import Settings

MARK = b"m" * 40


def an_rdb(**keys) -> bytes:
    keyspace = Keyspace()
    for key, value in keys.items():
        keyspace.set(key.encode(), value)
    out = io.BytesIO()
    write_keyspace(keyspace, out, repl_id="a" * 40, repl_offset=0)
    return out.getvalue()


def pair():
    return gevent.socket.socketpair()


def test_preamble_forms_and_errors():
    assert parse_preamble(b"$123") == (123, None)
    assert parse_preamble(b"$EOF:" + MARK) == (None, MARK)
    with pytest.raises(TransferError, match="MASTER aborted replication with an error: ERR x"):
        parse_preamble(b"-ERR x")
    with pytest.raises(TransferError, match="the first byte is not '\\$'"):
        parse_preamble(b"+OK")
    with pytest.raises(TransferError, match="Bad RDB length"):
        parse_preamble(b"$-5")


def test_sized_payload_stops_at_its_length():
    ours, theirs = pair()
    theirs.sendall(b"world*1\r\n$4\r\nPING\r\n")
    reader = PayloadReader(ours, b"hello ", size=11)
    got = b""
    while True:
        data = reader.read(4)
        if not data:
            break
        got += data
    assert got == b"hello world"
    assert ours.recv(100) == b"*1\r\n$4\r\nPING\r\n"      # the stream is left alone


def test_sized_payload_already_received_leaves_the_stream_as_leftover():
    ours, _ = pair()
    reader = PayloadReader(ours, b"hello*1\r\n", size=5)
    assert reader.read(100) == b"hello" and reader.read(100) == b""
    assert reader.leftover == b"*1\r\n"


def test_mark_payload_strips_the_mark_even_split_across_reads():
    ours, theirs = pair()
    body = b"x" * 1000

    def send():
        data = body + MARK
        for i in range(0, len(data), 7):
            theirs.sendall(data[i:i + 7])
            gevent.sleep(0)
    sender = gevent.spawn(send)
    counted = []
    reader = PayloadReader(ours, b"", mark=MARK, on_bytes=counted.append)
    got = b""
    while True:
        data = reader.read(64)
        if not data:
            break
        got += data
    sender.join()
    assert got == body and reader.done
    assert sum(counted) == len(body) + len(MARK)


def test_a_closed_connection_mid_payload_is_a_transfer_error():
    ours, theirs = pair()
    theirs.sendall(b"abc")
    theirs.close()
    reader = PayloadReader(ours, b"", size=10)
    assert reader.read(10) == b"abc"
    with pytest.raises(TransferError, match="closed the connection during the transfer"):
        reader.read(10)


# ---------------------------------------------------------------- a fake master

class FakeMaster:
    """Answers the handshake, then +FULLRESYNC and `payload`; then closes the connection
    (close=True) or keeps it open. Counts the connections it got."""

    def __init__(self, payload: bytes, close: bool = False):
        self.payload = payload
        self.close = close
        self.connections = 0
        self.server = gevent.server.StreamServer(("127.0.0.1", 0), self.handle)
        self.server.start()
        self.port = self.server.server_port

    def handle(self, sock, _addr):
        self.connections += 1
        # The replica sends one command and waits for its reply: PING, REPLCONF x2, PSYNC.
        for reply in (b"+PONG\r\n", b"+OK\r\n", b"+OK\r\n",
                      b"+FULLRESYNC " + b"b" * 40 + b" 100\r\n\n" + self.payload):
            if not sock.recv(4096):
                return
            sock.sendall(reply)
        if not self.close:
            gevent.sleep(30)
        sock.close()

    def stop(self):
        self.server.stop(timeout=0)


@pytest.fixture
def node_side(tmp_path):
    settings = Settings()
    settings.set("dir", str(tmp_path), at_startup=True)
    settings.set("repl-diskless-load", "swapdb", at_startup=True)
    keyspace = Keyspace()
    server = Server(settings, keyspace)
    replication = Replication(server)
    server.replication = replication
    lines = []
    sink = logger.add(lambda m: lines.append(m), format="{level} {message}\n{exception}")
    yield server, replication, lines
    logger.remove(sink)


def run_link(replication, master, until, timeout=5.0):
    link = ReplicaLink(replication, "127.0.0.1", master.port, 0)
    replication.link = link
    link.start()
    try:
        with gevent.Timeout(timeout, False):
            while not until(link):
                gevent.sleep(0.01)
        return link
    finally:
        link.stop()
        master.stop()


@pytest.mark.parametrize("load", ["swapdb", "disabled", "on-empty-db"])
def test_a_good_rdb_is_loaded_and_the_offset_taken(node_side, load):
    server, replication, _ = node_side
    server.settings.set("repl-diskless-load", load)
    server.keyspace.set(b"old", b"gone")
    master = FakeMaster(b"$EOF:" + MARK + b"\r\n" + an_rdb(a=b"1", b=b"2") + MARK)
    run_link(replication, master, lambda link: link.link_up)
    assert sorted(server.keyspace.iter_keys()) == [b"a", b"b"]
    assert replication.offset == 100 and replication.replid == "b" * 40


@pytest.mark.parametrize("payload, reason", [
    (b"$EOF:" + MARK + b"\r\n" + an_rdb(a=b"1")[:-20] + MARK, "Failed trying to load"),
    (b"$EOF:" + MARK + b"\r\nREDIS0010garbage" + MARK, "Failed trying to load"),
    (b"$500\r\n" + an_rdb(a=b"1"), "closed the connection during the transfer"),
    (b"+what\r\n", "Bad protocol from MASTER"),
])
def test_a_bad_rdb_drops_the_link_and_retries_without_a_traceback(node_side, payload,
                                                                  reason):
    server, replication, lines = node_side
    server.keyspace.set(b"old", b"kept")         # swapdb: a bad RDB leaves the old data
    master = FakeMaster(payload, close=payload.startswith(b"$500"))
    run_link(replication, master, lambda link: master.connections >= 2, timeout=6)
    assert master.connections >= 2                       # it tried again
    failures = [m for m in lines if m.startswith("WARNING")]
    assert failures and reason in failures[0], lines
    assert not any("Traceback" in m for m in lines), lines
    assert list(server.keyspace.iter_keys()) == [b"old"] and server.loading is None


def test_replace_with_takes_the_whole_dataset_and_fails_watchers():
    live, fresh = Keyspace(), Keyspace()
    live.set(b"a", b"1")
    fresh.set(b"b", b"2")
    fresh.expire_at(b"b", 2 ** 45)

    class Watcher:
        dirty_cas = False
    watcher = Watcher()
    live.watchers[b"b"] = {watcher}           # absent before, present after
    live.replace_with(fresh)
    assert list(live.iter_keys()) == [b"b"] and live.size == 1
    assert live.ttl_ms(b"b") > 0
    assert watcher.dirty_cas
