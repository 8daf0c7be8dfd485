"""Keyspace notifications of the stream commands against redis-server 7.0, event by
event (xadd, xtrim, xdel, xsetid, xgroup-*, new, del), with and without 'n'."""
import pytest

from tests.differential.notify_streams import StreamPair

SEQUENCE = [
    ("XADD", "s", "1-1", "f", "v"), ("XADD", "s", "2-1", "f", "v"),
    ("XADD", "s", "MAXLEN", "1", "3-1", "f", "v"), ("XADD", "s", "MAXLEN", "5", "4-1", "f", "v"),
    ("XADD", "none", "NOMKSTREAM", "1-1", "f", "v"), ("XADD", "s", "1-1", "f", "v"),
    ("XDEL", "s", "9-9"), ("XDEL", "s", "3-1"), ("XTRIM", "s", "MAXLEN", "5"),
    ("XTRIM", "s", "MAXLEN", "0"), ("XLEN", "s"), ("XSETID", "s", "10-0"),
    ("XGROUP", "CREATE", "s", "g", "$"), ("XGROUP", "CREATE", "s", "g", "$"),
    ("XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"), ("XGROUP", "SETID", "s", "g", "0"),
    ("XGROUP", "CREATECONSUMER", "s", "g", "c"), ("XGROUP", "CREATECONSUMER", "s", "g", "c"),
    ("XADD", "s", "11-0", "f", "v"),
    ("XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">"),
    ("XCLAIM", "s", "g", "e", "0", "11-0"), ("XAUTOCLAIM", "s", "g", "f", "0", "0"),
    ("XACK", "s", "g", "11-0"), ("XGROUP", "DELCONSUMER", "s", "g", "c"),
    ("XGROUP", "DELCONSUMER", "s", "g", "zz"), ("XGROUP", "DESTROY", "s", "g"),
    ("XGROUP", "DESTROY", "s", "g"), ("XRANGE", "s", "-", "+"), ("XRANGE", "no", "-", "+"),
    ("DEL", "s"), ("XADD", "s", "MAXLEN", "0", "1-1", "f", "v"),
]


@pytest.fixture
def streams(diff_servers):
    ours, ref = diff_servers
    pair = StreamPair(ours.port, ref.port)
    pair.both("FLUSHALL")
    pair.ours.drain(), pair.redis.drain()
    yield pair
    pair.both("CONFIG", "SET", "notify-keyspace-events", "")
    pair.both("FLUSHALL")
    pair.close()


@pytest.mark.parametrize("flags", ["KEA", "KEAnm", "Et"])
def test_stream_command_events(streams, flags):
    streams.both("CONFIG", "SET", "notify-keyspace-events", flags)
    streams.run(SEQUENCE)
