"""The serve loop's fast path across reads: a generic command that is the last request
of its read (MULTI, CLIENT REPLY...) is not followed by a new look at the fast path in
that read; the next read must still see what the command changed."""

from commands import load_all_commands
from commands.data.keyspace import Keyspace
from commands.server.connection import Client
from commands.server.context import Server
from commands.server.executor import build_fast_table
from commands.server.resp import RequestParser
from commands.server.settings import Settings

load_all_commands()


def _request(*args) -> bytes:
    args = [a.encode() if isinstance(a, str) else a for a in args]
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def _client():
    server = Server(Settings(), Keyspace())
    server.fast_commands = build_fast_table()
    c = Client(server)
    c.parser = RequestParser()

    def read(*requests) -> bytes:
        """One read holding `requests`: the replies the loop encodes for it."""
        c._batch = []
        c.parser.feed(b"".join(_request(*r) for r in requests))
        c._run(c.parser.take(), 0)
        return b"".join(c._batch)
    return c, read


def test_multi_alone_in_its_read_queues_the_next_read():
    c, read = _client()
    assert read(("MULTI",)) == b"+OK\r\n"
    assert read(("SET", "a", "1")) == b"+QUEUED\r\n"
    assert read(("INCR", "a")) == b"+QUEUED\r\n"
    assert read(("EXEC",)) == b"*2\r\n+OK\r\n:2\r\n"
    assert read(("GET", "a"), ("SET", "b", "x")) == b"$1\r\n2\r\n+OK\r\n"


def test_client_reply_off_alone_in_its_read_silences_the_next_read():
    c, read = _client()
    assert read(("CLIENT", "REPLY", "OFF")) == b""
    assert read(("SET", "a", "1"), ("GET", "a")) == b""
    assert read(("CLIENT", "REPLY", "ON")) == b"+OK\r\n"
    assert read(("GET", "a")) == b"$1\r\n1\r\n"
