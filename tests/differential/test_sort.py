"""SORT and SORT_RO: the same requests to node.py and redis-server (both cluster nodes),
on lists, sets and sorted sets with every option; hypothesis draws option combinations.

Cluster mode refuses BY patterns and GET, so the pattern machinery (BY weights and
"->field" hash lookups, GET # and GET patterns) is checked against a standalone
redis-server by running our SORT handler in-process on a keyspace with cluster mode off.
"""
import threading
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands import load_all_commands
from commands.data.keyspace import Keyspace
from commands.server.resp import ReplyError, encode_one
from commands.server.settings import Settings
from commands.server.table import lookup
from tests.differential.collections_util import check_cases, check_unordered
from tests.differential.notify_streams import StreamPair
from tests.differential.sequences import sequence_settings
from tests.helpers import RawClient, start_redis, wait_until

KEYS = {"l", "la", "si", "sh", "z", "none", "str", "dst", "h"}

DATA = [("RPUSH", "l", "3", "1", "2", "10", "-1.5", "1e3", "0x10", " 7", "inf", "-inf", "1",
         ""),
        ("RPUSH", "la", "b", "a", "c", "B", "aa", "", "\xe9", "a", "10", "9"),
        ("SADD", "si", "5", "3", "-1", "100", "42", "0"),
        ("SADD", "sh", "x", "y", "z", "10", "2", "b"),
        ("ZADD", "z", "1", "c", "2", "b", "3", "a", "3", "d", "-1", "10", "0", "2.5"),
        ("SET", "str", "x"), ("HSET", "h", "f", "1")]

CASES = {
    "plain": DATA + [(cmd, key) + opts for cmd in ("SORT", "SORT_RO")
                     for key in ("l", "si", "z", "none")
                     for opts in [(), ("DESC",), ("ASC",), ("LIMIT", "1", "3"),
                                  ("LIMIT", "-2", "2"), ("LIMIT", "2", "-1"),
                                  ("LIMIT", "100", "1"), ("LIMIT", "0", "0"),
                                  ("DESC", "LIMIT", "1", "2", "ASC")]],
    "alpha": DATA + [("SORT", key) + opts for key in ("la", "l", "si", "sh", "z")
                     for opts in [("ALPHA",), ("ALPHA", "DESC"), ("alpha", "limit", "2", "3"),
                                  ("DESC", "ALPHA", "LIMIT", "0", "100")]],
    "nosort": DATA + [("SORT", key, "BY", "nosort") + opts for key in ("l", "la", "si", "z")
                      for opts in [(), ("DESC",), ("LIMIT", "1", "2"),
                                   ("DESC", "LIMIT", "2", "10"), ("LIMIT", "7", "3")]],
    "store": DATA + [
        ("EXPIRE", "dst", "100"), ("SORT", "l", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
        ("SORT", "la", "ALPHA", "DESC", "LIMIT", "1", "3", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"), ("TTL", "dst"), ("TYPE", "dst"),
        ("SORT", "sh", "BY", "nosort", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
        ("SORT", "z", "BY", "nosort", "DESC", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
        ("SORT", "l", "STORE", "dst", "STORE", "{t}other"), ("EXISTS", "dst"),
        ("SORT", "none", "STORE", "dst"), ("EXISTS", "{t}other"),
        ("SORT", "l", "LIMIT", "0", "0", "STORE", "{t}other"), ("EXISTS", "{t}other"),
        ("SORT_RO", "l", "STORE", "dst"),
        ("OBJECT", "ENCODING", "z"), ("SORT_RO", "z", "LIMIT", "0", "1"),
        ("OBJECT", "ENCODING", "z")],
    "errors": DATA + [
        ("SORT", "la"), ("SORT", "la", "LIMIT", "0", "1"), ("SORT", "l", "ALPHA", "FOO"),
        ("SORT", "str"), ("SORT", "h"), ("SORT", "str", "FOO"), ("SORT", "l", "LIMIT", "1"),
        ("SORT", "l", "LIMIT", "x", "1"), ("SORT", "l", "LIMIT", "1", "1.5"),
        ("SORT", "l", "BY"), ("SORT", "l", "STORE"), ("SORT", "l", "GET"),
        ("SORT", "l", "BY", "w_*"), ("SORT", "l", "BY", "w_*->f"), ("SORT", "l", "GET", "#"),
        ("SORT", "l", "GET", "x"), ("SORT", "str", "GET", "#"),
        ("SORT", "l", "LIMIT", "x", "1", "GET", "#"), ("SORT_RO", "l", "BY", "w*"),
        ("SORT_RO", "l", "GET", "#"), ("SORT", "la", "STORE", "dst"), ("EXISTS", "dst")],
    "weights": [("RPUSH", "w", "nan", "1"), ("SORT", "w"),
                ("DEL", "w"), ("RPUSH", "w", "5 ", "1"), ("SORT", "w"),
                ("DEL", "w"), ("RPUSH", "w", "1_0", "1"), ("SORT", "w"),
                ("DEL", "w"), ("RPUSH", "w", "0x1p3", "-Infinity", "  4", ".5", "-0", "0"),
                ("SORT", "w"), ("SORT", "w", "DESC")],
}


def test_sort_cases(diff):
    for name, commands in CASES.items():
        check_cases(diff, commands, KEYS | {"w"})


@pytest.mark.parametrize("weight", ["1e400", "-1e400", "1e-310", "1e-400", "0x1p99999"])
def test_out_of_range_weights(diff, weight):
    """strtod's ERANGE is an error. redis-server reads errno without clearing it first, so
    one out-of-range weight fails every numeric SORT after it until a system call resets
    errno (accepting a connection does): each case gets new connections and comes last."""
    diff.check("RPUSH", "{w}w", weight, "1")
    diff.check("SORT", "{w}w", "ALPHA", "STORE", "{w}d")
    diff.check("LRANGE", "{w}d", "0", "-1")
    diff.check("SORT", "{w}w")


def test_unsorted_hashtable_set_is_the_set(diff):
    diff.check("SADD", "s", "x", "y", "z", "10")
    check_unordered(diff, "SORT", "s", "BY", "nosort")


def test_command_info_and_keys(diff):
    diff.check("COMMAND", "INFO", "sort", "sort_ro")
    for args in [("sort", "a", "limit", "store", "x", "store", "b", "get", "store", "c"),
                 ("sort", "a", "store"), ("sort_ro", "a", "store", "b")]:
        diff.check("COMMAND", "GETKEYS", *args)
        diff.check("COMMAND", "GETKEYSANDFLAGS", *args)


def test_store_key_must_share_the_slot(diff):
    diff.check("RPUSH", "l", "1")
    diff.check("SORT", "l", "STORE", "elsewhere")
    diff.check("SORT", "l", "STORE", "elsewhere", "STORE", "{l}x")
    diff.check("LRANGE", "{l}x", "0", "-1")


def _blocked_reply(client, setup, blocking, store):
    """Block one connection with `blocking`, run `store` on `client`; the blocked reply."""
    port = client.sock.getpeername()[1]
    blocker = RawClient(port)
    replies = {}
    try:
        for command in setup:
            client.call(*command)
        waiter = threading.Thread(target=lambda: replies.update(blocked=blocker.call(*blocking)))
        waiter.start()
        wait_until(lambda: b"blocked_clients:1" in client.call("INFO", "clients")[1],
                   message="a blocked client on %d" % port)
        replies["store"] = client.call(*store)
        waiter.join(10)
        return replies
    finally:
        blocker.close()


@pytest.mark.parametrize("setup, blocking, store", [
    ([("RPUSH", "{b}src", "3", "1", "2")], ("BLPOP", "{b}dst", "10"),
     ("SORT", "{b}src", "STORE", "{b}dst")),
    ([("GEOADD", "{b}src", "1", "1", "a", "1.1", "1", "b")], ("BZPOPMIN", "{b}dst", "10"),
     ("GEOSEARCHSTORE", "{b}dst", "{b}src", "FROMLONLAT", "1", "1", "BYRADIUS", "100", "km",
      "STOREDIST"))])
def test_store_serves_blocked_clients(diff, setup, blocking, store):
    """A STOREd list or sorted set wakes a client blocked on the destination."""
    assert _blocked_reply(diff.ours, setup, blocking, store) == \
        _blocked_reply(diff.redis, setup, blocking, store)


ELEMENTS = ["1", "2", "10", "-3", "2.5", "a", "b", "", "inf", "1e2", "0"]
OPTIONS = st.lists(st.sampled_from(
    [("ASC",), ("DESC",), ("ALPHA",), ("BY", "nosort"), ("LIMIT", "0", "3"),
     ("LIMIT", "2", "2"), ("LIMIT", "-1", "5"), ("LIMIT", "3", "-1"), ("STORE", "{r}d")]),
    max_size=4)


@given(kind=st.sampled_from(["list", "intset", "zset"]),
       elements=st.lists(st.sampled_from(ELEMENTS), min_size=0, max_size=12),
       options=st.lists(OPTIONS, min_size=1, max_size=4))
@sequence_settings(40)
def test_random_sorts(diff, kind, elements, options):
    diff.check("FLUSHALL")
    if kind == "list" and elements:
        diff.check("RPUSH", "{r}k", *elements)
    elif kind == "intset":
        numbers = [e for e in elements if e.lstrip("-").isdigit()]
        if numbers:
            diff.check("SADD", "{r}k", *numbers)
    elif elements:
        diff.check("ZADD", "{r}k", *[w for i, e in enumerate(elements) for w in (str(i % 4), e)])
    for opts in options:
        flat = [word for option in opts for word in option]
        diff.check("SORT", "{r}k", *flat)
        diff.check("LRANGE", "{r}d", "0", "-1")


# ---------------------------------------------------------------- patterns, cluster mode off

class _Local:
    """Just enough of a client for command handlers run in-process."""

    def __init__(self):
        load_all_commands()
        settings = Settings()
        settings.values["cluster-enabled"] = False
        self.server = types.SimpleNamespace(keyspace=Keyspace(), settings=settings)
        self.resp3 = False

    def call(self, *args):
        argv = [a.encode() if isinstance(a, str) else a for a in args]
        try:
            reply = lookup(argv[0].lower()).handler(self, argv)
        except ReplyError as exc:
            reply = exc
        return _parse(encode_one(reply))


def _parse(data: bytes):
    """RESP bytes as RawClient would return them."""
    client = RawClient.__new__(RawClient)
    client.buf = bytearray(data)
    client._fill = lambda: (_ for _ in ()).throw(AssertionError("truncated reply"))
    return client.read_reply()


@pytest.fixture(scope="module")
def standalone():
    proc = start_redis("--save", "")
    yield proc
    proc.stop()


PATTERN_DATA = [
    ("RPUSH", "l", "1", "2", "3", "4", "5", "x"), ("SADD", "s", "1", "2", "3", "4", "5"),
    ("ZADD", "z", "1", "1", "2", "2", "3", "3", "4", "4"),
    ("MSET", "w_1", "30", "w_2", "10", "w_3", "20", "w_4", "10", "w_x", "5",
     "n_1", "one", "n_2", "two", "n_3", "three", "n_5", "five", "bad_2", "oops"),
    ("HSET", "h_1", "f", "3", "g", "c"), ("HSET", "h_2", "f", "1", "g", "a"),
    ("HSET", "h_3", "f", "2"), ("HSET", "h_4", "g", "b"), ("SADD", "w_5", "notastring")]

# ALPHA with BY leaves equal weights in the order the elements were loaded: a list's own
# order, but a hash-table order for sets and sorted sets (random per redis-server start),
# so those are sorted ALPHA BY only on the list.
_NUMERIC_AND_GET = [
    ("BY", "w_*"), ("BY", "w_*", "DESC"), ("BY", "w_*", "LIMIT", "1", "2"), ("BY", "h_*->f"),
    ("BY", "h_*->"), ("GET", "#"), ("GET", "n_*", "GET", "#"), ("GET", "h_*->g", "GET",
                                                                "h_*->f"),
    ("GET", "nostar"), ("BY", "nosort", "GET", "n_*"), ("BY", "bad_*"),
    ("BY", "w_*", "GET", "n_*", "STORE", "dst"), ("GET", "#", "GET", "n_*", "STORE", "dst"),
    ("BY", "nosort", "BY", "w_*")]
_ALPHA_BY = [
    ("BY", "w_*", "ALPHA"), ("BY", "h_*->g", "ALPHA"), ("BY", "bad_*", "ALPHA"),
    ("BY", "h_*->g", "ALPHA", "DESC", "LIMIT", "0", "3"), ("BY", "n_*", "ALPHA", "GET", "n_*"),
    ("BY", "w_*", "ALPHA", "LIMIT", "1", "3"), ("BY", "w_*", "ALPHA", "DESC", "LIMIT", "2", "2")]
PATTERN_COMMANDS = [("SORT", key) + opts for key in ("l", "s", "z")
                    for opts in _NUMERIC_AND_GET] + \
    [("SORT", "l") + opts for opts in _ALPHA_BY]


def test_by_and_get_patterns_outside_cluster_mode(standalone):
    ours = _Local()
    ref = RawClient(standalone.port)
    try:
        for command in PATTERN_DATA:
            assert ours.call(*command) == ref.call(*command), command
        for command in PATTERN_COMMANDS:
            mine, theirs = ours.call(*command), ref.call(*command)
            assert mine == theirs, "%r:\n  ours:  %r\n  redis: %r" % (command, mine, theirs)
            if "STORE" in command:
                assert ours.call("LRANGE", "dst", "0", "-1") == \
                    ref.call("LRANGE", "dst", "0", "-1"), command
    finally:
        ref.close()


# ---------------------------------------------------------------- keyspace notifications

@pytest.fixture
def streams(diff_servers):
    ours, ref = diff_servers
    pair = StreamPair(ours.port, ref.port)
    pair.both("FLUSHALL")
    pair.both("CONFIG", "SET", "notify-keyspace-events", "KEAnm")
    pair.ours.drain(), pair.redis.drain()
    yield pair
    pair.both("CONFIG", "SET", "notify-keyspace-events", "")
    pair.both("FLUSHALL")
    pair.close()


def test_sort_event_streams(streams):
    """SORT ... STORE emits 'sortstore' (a list event), or 'del' when the result is empty
    and the destination existed; the sorted key's miss is a 'keymiss'."""
    events = streams.run([
        ("RPUSH", "{s}l", "3", "1", "2"), ("SADD", "{s}set", "b", "a"),
        ("SORT", "{s}l", "STORE", "{s}dst"), ("SORT", "{s}set", "BY", "nosort", "STORE",
                                               "{s}dst"),
        ("SORT", "{s}l", "LIMIT", "0", "0", "STORE", "{s}dst"),
        ("SORT", "{s}l", "LIMIT", "0", "0", "STORE", "{s}dst"),
        ("SORT", "{s}none", "STORE", "{s}dst"), ("SORT_RO", "{s}none"), ("SORT", "{s}l")])
    assert (b"__keyevent@0__:sortstore", b"{s}dst") in events
