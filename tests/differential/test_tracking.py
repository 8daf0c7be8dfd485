"""Client-side caching compared with redis-server 7.0, message by message.

Each scenario opens the same named connections to our node and to redis-server and
runs the same steps on both. A step sends one command on one connection and reads its
reply; then every connection is drained up to a PING's reply (a barrier), so each
invalidation lands in the log between the same two replies on both servers. The logs --
(connection, reply or message) in order -- must be identical. Client ids differ between
the servers, so they are written as "<id:name>" in the steps and in the logs.
"""
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.sequences import sequence_settings
from tests.helpers import RawClient

_PONGS = (("+", "PONG"), ("*", [("$", b"pong"), ("$", b"")]))


class Scenario:
    """Named connections to one server, and the log of everything they received."""

    def __init__(self, port, peer=None):
        self.port = port
        self.peer = peer              # the other server's port (MIGRATE's target)
        self.conns = {}
        self.ids = {}                 # client id -> connection name
        self.log = []
        self.in_multi = set()

    def open(self, name, resp3=False):
        conn = RawClient(self.port)
        self.conns[name] = conn
        cid = conn.call("CLIENT", "ID")[1]
        self.ids[cid] = name
        if resp3:
            conn.call("HELLO", "3")

    def close(self, name):
        self.conns.pop(name).close()

    def _arg(self, arg):
        if isinstance(arg, str) and arg.startswith("<id:"):
            name = arg[4:-1]
            return str(next(cid for cid, n in self.ids.items() if n == name))
        if arg == "<peer>":
            return str(self.peer)
        if isinstance(arg, str) and arg.startswith("<dump:"):
            return self.conns["dumper"].call("DUMP", arg[6:-1])[1]
        return arg

    def _name_ids(self, reply):
        """The reply with client ids written as ("id", name)."""
        if isinstance(reply, tuple) and len(reply) == 2 and isinstance(reply[0], str):
            kind, value = reply
            if kind == ":" and value in self.ids:
                return ("id", self.ids[value])
            if isinstance(value, list):
                return (kind, [self._name_ids(v) for v in value])
            return reply
        if isinstance(reply, tuple):
            return tuple(self._name_ids(v) for v in reply)
        return reply

    def step(self, name, *args):
        """A name written "+name": no barrier after this step (CLIENT CACHING holds
        for the next command only, and a barrier's PING would be that command)."""
        barrier = not name.startswith("+")
        name = name.lstrip("+")
        conn = self.conns[name]
        conn.sock.sendall(conn.encode([self._arg(a) for a in args]))
        reply = conn.read_reply()
        while reply[0] == ">":        # a push before the reply (RESP3)
            self.log.append((name, "push", self._name_ids(reply)))
            reply = conn.read_reply()
        text = " ".join(map(str, args))
        if text.upper() == "MULTI":
            self.in_multi.add(name)           # a PING would be queued: no barrier there
        elif text.upper() in ("EXEC", "DISCARD"):
            self.in_multi.discard(name)
        if text.upper() in ("CLIENT GETREDIR", "CLIENT TRACKINGINFO"):
            reply = self._name_ids(reply)     # the only replies that hold client ids
        self.log.append((name, text, reply))
        if barrier:
            self.barrier()
        return reply

    def barrier(self):
        for name, conn in self.conns.items():
            if name in self.in_multi:
                continue
            conn.sock.sendall(conn.encode(["PING"]))
            while True:
                reply = conn.read_reply()
                if reply in _PONGS:
                    break
                self.log.append((name, "push", self._name_ids(reply)))

    def shut(self):
        for conn in self.conns.values():
            conn.close()


@pytest.fixture
def pair(diff):
    """(ours, redis) Scenarios on the differential servers, closed afterwards."""
    ours_port, redis_port = diff.ours.sock.getpeername()[1], diff.redis.sock.getpeername()[1]
    ours, ref = Scenario(ours_port, redis_port), Scenario(redis_port, ours_port)
    yield ours, ref
    ours.shut()
    ref.shut()
    diff.check("CONFIG", "SET", "tracking-table-max-keys", "1000000")


def run(pair, opens, steps):
    for scenario in pair:
        for name, resp3 in opens:
            scenario.open(name, resp3)
        for step in steps:
            if step[0] == "sleep":
                time.sleep(step[1])
            elif step[0] == "close":
                scenario.close(step[1])
            else:
                scenario.step(*step)
    ours, ref = pair
    for i, (mine, theirs) in enumerate(zip(ours.log, ref.log)):
        assert mine == theirs, "entry %d differs:\n  ours:  %r\n  redis: %r\n" \
            "ours so far: %r" % (i, mine, theirs, ours.log[max(0, i - 4):i])
    assert len(ours.log) == len(ref.log)
    return ours.log


def test_default_mode_invalidates_keys_read(pair):
    log = run(pair, [("a", True), ("b", False)], [
        ("a", "CLIENT", "TRACKING", "on"),
        ("a", "GET", "k1"), ("a", "MGET", "{t}2", "{t}3"), ("a", "HGET", "h", "f"),
        ("b", "SET", "k1", "v"),              # invalidates k1 once...
        ("b", "SET", "k1", "w"),              # ...and not again: it was not read since
        ("b", "MSET", "{t}2", "1", "{t}3", "2"),
        ("b", "HSET", "h", "f", "1"),
        ("a", "GET", "k1"),
        ("a", "SET", "k1", "mine"),           # the client's own write: after its reply
        ("a", "STRLEN", "k1"), ("b", "APPEND", "k1", "x"),
        ("a", "EXISTS", "{t}2"), ("b", "DEL", "{t}2"),
        ("a", "TTL", "{t}3"), ("b", "EXPIRE", "{t}3", "100"),
        ("a", "GET", "{t}3"), ("b", "PERSIST", "{t}3"),
        ("a", "GET", "{t}3"), ("b", "RENAME", "{t}3", "{t}4"),
        ("a", "GET", "untouched"), ("b", "SET", "other", "1"),
        ("a", "GET", "{t}4"), ("b", "INCR", "counter"),
        ("a", "CLIENT", "TRACKINGINFO"), ("a", "CLIENT", "GETREDIR"),
        ("a", "GET", "{t}4"), ("b", "FLUSHALL"),  # a null: every key
        ("a", "GET", "{t}5"), ("a", "FLUSHALL"),  # its own flush: the null after the reply
    ])
    pushes = [entry for entry in log if entry[1] == "push"]
    assert len(pushes) >= 10


def test_noloop_optin_optout(pair):
    log = run(pair, [("a", True), ("b", True), ("c", False)], [
        ("a", "CLIENT", "TRACKING", "on", "NOLOOP"),
        ("a", "GET", "k"), ("a", "SET", "k", "1"),      # no message for its own write
        ("a", "GET", "k"), ("c", "SET", "k", "2"),      # but others' writes are told
        ("b", "CLIENT", "TRACKING", "on", "OPTIN"),
        ("b", "GET", "{i}1"),                            # not cached: no CACHING yes
        ("+b", "CLIENT", "CACHING", "yes"), ("+b", "CLIENT", "TRACKINGINFO"),
        ("+b", "GET", "{i}2"), ("b", "GET", "{i}3"), ("b", "CLIENT", "TRACKINGINFO"),
        ("c", "MSET", "{i}1", "1", "{i}2", "2", "{i}3", "3"),   # {i}2 only
        ("b", "CLIENT", "CACHING", "no"),
        ("b", "CLIENT", "TRACKING", "on", "OPTOUT"),
        ("b", "CLIENT", "TRACKING", "off"),
        ("b", "CLIENT", "TRACKING", "on", "OPTOUT"),
        ("b", "GET", "{o}1"), ("+b", "CLIENT", "CACHING", "no"), ("b", "GET", "{o}2"),
        ("b", "CLIENT", "TRACKINGINFO"),
        ("c", "MSET", "{o}1", "1", "{o}2", "2"),
        ("+b", "CLIENT", "CACHING", "no"), ("b", "MULTI"), ("b", "GET", "{m}1"),
        ("b", "GET", "{m}2"), ("b", "EXEC"),          # the whole transaction uncached
        ("c", "MSET", "{m}1", "1", "{m}2", "2"),
    ])
    pushes = [(entry[0], entry[2][1][1]) for entry in log if entry[1] == "push"]
    assert pushes == [("a", ("*", [("$", b"k")])), ("b", ("*", [("$", b"{i}2")])),
                      ("b", ("*", [("$", b"{o}1")]))]


def test_bcast_prefixes(pair):
    run(pair, [("a", True), ("b", True), ("c", False)], [
        ("a", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "obj:"),
        ("b", "CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"),   # every key
        ("a", "CLIENT", "TRACKINGINFO"), ("b", "CLIENT", "TRACKINGINFO"),
        ("c", "MSET", "user:2{u}", "x", "obj:1{u}", "y", "user:1{u}", "z", "nothing{u}", "1"),
        ("b", "SET", "user:3", "mine"),       # b's own change: not for b (NOLOOP)
        ("b", "MSET", "zz{z}", "1", "aa{z}", "2"),
        ("c", "DEL", "user:1{u}", "user:2{u}"),
        ("a", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "obj:x"),   # overlaps
        ("a", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "new:"),    # adds one
        ("a", "CLIENT", "TRACKINGINFO"),
        ("c", "SET", "new:1", "1"),
        ("a", "FLUSHALL"),
        ("a", "CLIENT", "TRACKING", "off"), ("c", "SET", "user:9", "1"),
        ("b", "RESET"), ("b", "CLIENT", "TRACKINGINFO"), ("c", "SET", "user:9", "2"),
    ])


def test_redirect_resp2_and_broken(pair):
    run(pair, [("sub", False), ("a", False), ("b", False), ("r3", True), ("t", True)], [
        ("sub", "SUBSCRIBE", "__redis__:invalidate"),
        ("a", "CLIENT", "TRACKING", "on", "REDIRECT", "<id:sub>"),
        ("a", "CLIENT", "GETREDIR"), ("a", "CLIENT", "TRACKINGINFO"),
        ("a", "GET", "k"), ("b", "SET", "k", "1"),
        ("a", "GET", "k"), ("a", "SET", "k", "2"),     # its own write, redirected too
        ("a", "GET", "j"), ("b", "FLUSHALL"),           # a RESP2 null on the channel
        # A RESP3 client redirecting to a RESP3 one: pushes there.
        ("t", "CLIENT", "TRACKING", "on", "REDIRECT", "<id:r3>", "BCAST", "PREFIX", "p"),
        ("b", "SET", "p1", "1"),
        ("close", "r3"),
        ("b", "SET", "p2", "1"),                        # redirect broken: told once...
        ("t", "CLIENT", "TRACKINGINFO"),
        ("b", "SET", "p3", "1"),                        # ...per message
        ("close", "sub"),
        ("a", "GET", "k"), ("b", "SET", "k", "3"),      # RESP2: nothing to tell a
        ("a", "CLIENT", "TRACKINGINFO"),
    ])


def test_expiry_restore_and_limits(pair):
    log = run(pair, [("a", True), ("b", False), ("dumper", False)], [
        ("a", "CLIENT", "TRACKING", "on"),
        ("b", "SET", "e", "1", "PX", "60"), ("a", "GET", "e"),
        ("sleep", 0.15),
        ("b", "GET", "e"),                    # expired (lazily or by the cron): told
        ("b", "SET", "r", "payload"), ("a", "GET", "r"),
        ("b", "RESTORE", "r", "0", "<dump:r>", "REPLACE"),
        ("a", "GET", "r"), ("b", "GETDEL", "r"),
        ("a", "GET", "s"), ("b", "SET", "s", "1", "PXAT", "1"),   # deleted at once
        ("b", "SET", "mk", "1"), ("a", "GET", "mk"),
        ("b", "MIGRATE", "127.0.0.1", "<peer>", "mk", "0", "5000", "REPLACE"),  # gone here
        ("b", "CONFIG", "SET", "tracking-table-max-keys", "2"),
        ("a", "MGET", "{x}1", "{x}2"),
    ])
    told = [entry[2][1][1] for entry in log if entry[1] == "push"]
    assert told == [("*", [("$", key)]) for key in (b"e", b"r", b"r", b"s", b"mk")]
    ours, ref = pair
    for scenario in pair:
        # Over the limit: one key is dropped and its client told (Redis picks it at
        # random, we the oldest: compare the count, not the key).
        conn = scenario.conns["a"]
        assert conn.call("GET", "{x}3") == ("_", None)
        conn.sock.sendall(conn.encode(["PING"]))
        push = conn.read_reply()
        assert push[0] == ">" and push[1][1][1][0][1] in (b"{x}1", b"{x}2", b"{x}3"), push
        assert conn.read_reply() == ("+", "PONG")
        info = scenario.conns["b"].call("INFO", "stats")[1].decode()
        scenario.stats = {line.split(":")[0]: line.split(":")[1].strip()
                          for line in info.splitlines() if line.startswith("tracking_")}
        clients = scenario.conns["b"].call("INFO", "clients")[1].decode()
        scenario.stats["clients"] = [line for line in clients.splitlines()
                                     if line.startswith("tracking_clients")]
    assert ours.stats == ref.stats
    assert ours.stats["tracking_total_keys"] == "2"


def test_argument_errors(diff):
    other = RawClient(diff.ours.sock.getpeername()[1])
    try:
        for args in [
            ("CLIENT", "TRACKING"), ("CLIENT", "TRACKING", "maybe"),
            ("CLIENT", "TRACKING", "on", "foo"), ("CLIENT", "TRACKING", "on", "REDIRECT"),
            ("CLIENT", "TRACKING", "on", "REDIRECT", "x"),
            ("CLIENT", "TRACKING", "on", "REDIRECT", "0"),
            ("CLIENT", "TRACKING", "on", "REDIRECT", "99999", "REDIRECT", "1"),
            ("CLIENT", "TRACKING", "on", "PREFIX", "a"),
            ("CLIENT", "TRACKING", "on", "BCAST", "OPTIN"),
            ("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"),
            ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"),
            ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX"),
            ("CLIENT", "TRACKING", "off", "PREFIX", "a"),
            ("CLIENT", "CACHING"), ("CLIENT", "CACHING", "yes"), ("CLIENT", "CACHING", "yes", "no"),
            ("CLIENT", "GETREDIR"), ("CLIENT", "GETREDIR", "x"),
            ("CLIENT", "TRACKINGINFO"), ("CLIENT", "TRACKINGINFO", "x"),
            ("CLIENT", "TRACKING", "on", "OPTIN"), ("CLIENT", "CACHING", "no"),
            ("CLIENT", "CACHING", "maybe"), ("CLIENT", "TRACKING", "on", "OPTOUT"),
            ("CLIENT", "TRACKING", "on", "BCAST"), ("CLIENT", "TRACKING", "off"),
            ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"),
            ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "abc"),
            ("CLIENT", "TRACKING", "on"), ("CLIENT", "TRACKING", "off"),
            ("CLIENT", "PAUSE"), ("CLIENT", "PAUSE", "x"), ("CLIENT", "PAUSE", "-1"),
            ("CLIENT", "PAUSE", "10", "foo"), ("CLIENT", "PAUSE", "1", "write", "x"),
            ("CLIENT", "PAUSE", "99999999999999999999"), ("CLIENT", "PAUSE", "0"),
            ("CLIENT", "PAUSE", "0", "WRITE"), ("CLIENT", "UNPAUSE", "x"),
            ("CLIENT", "UNPAUSE"),
            ("CLIENT", "REPLY"), ("CLIENT", "REPLY", "foo"), ("CLIENT", "REPLY", "on"),
            ("CLIENT", "NO-EVICT"), ("CLIENT", "NO-EVICT", "foo"),
            ("CLIENT", "NO-EVICT", "on"), ("CLIENT", "NO-EVICT", "off"),
            ("CONFIG", "SET", "tracking-table-max-keys", "-1"),
            ("CONFIG", "SET", "tracking-table-max-keys", "1k"),
            ("CONFIG", "SET", "tracking-table-max-keys", "10"),
            ("CONFIG", "GET", "tracking-table-max-keys"),
            ("CONFIG", "SET", "tracking-table-max-keys", "1000000"),
        ]:
            diff.check(*args)
    finally:
        other.close()


def test_client_list_flags(pair):
    """CLIENT INFO's flags= and redir= as Redis prints them for tracking clients."""
    for scenario in pair:
        scenario.open("a", True)
        scenario.open("b", False)
        conn = scenario.conns["a"]
        rows = []
        for args in [("CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", scenario._arg("<id:b>")),
                     ("CLIENT", "NO-EVICT", "on")]:
            conn.call(*args)
            rows.append(_fields(conn.call("CLIENT", "INFO")[1]))
        scenario.close("b")
        scenario.conns["c"] = RawClient(scenario.port)
        scenario.conns["c"].call("SET", "x", "1")
        conn.read_reply()              # tracking-redir-broken
        rows.append(_fields(conn.call("CLIENT", "INFO")[1]))
        conn.call("CLIENT", "TRACKING", "off")
        rows.append(_fields(conn.call("CLIENT", "INFO")[1]))
        scenario.rows = [(r["flags"], r["redir"] != "-1") for r in rows]
    ours, ref = pair
    assert ours.rows == ref.rows


def _fields(text: bytes) -> dict:
    line = text.decode().split(":", 1)[1] if text.startswith(b"txt:") else text.decode()
    return dict(item.split("=", 1) for item in line.split())


# ---------------------------------------------------------------- generated sequences

_KEYS = ["{r}a", "{r}b", "{r}ab", "{r}c"]
_key = st.sampled_from(_KEYS)
_conn = st.sampled_from(["a", "b", "c"])        # a, b: RESP3; c: RESP2 (no pushes)
_tracking = st.sampled_from([
    ("CLIENT", "TRACKING", "on"), ("CLIENT", "TRACKING", "on", "NOLOOP"),
    ("CLIENT", "TRACKING", "off"), ("CLIENT", "TRACKING", "on", "OPTIN"),
    ("CLIENT", "TRACKING", "on", "OPTOUT"), ("CLIENT", "TRACKING", "on", "BCAST"),
    ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "{r}a"),
    ("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP", "PREFIX", "{r}b", "PREFIX", "{r}c"),
    ("CLIENT", "TRACKINGINFO"), ("CLIENT", "GETREDIR"),
])
_read = st.one_of(
    st.tuples(st.just("GET"), _key), st.tuples(st.just("EXISTS"), _key),
    st.tuples(st.just("STRLEN"), _key),
    st.lists(_key, min_size=1, max_size=3).map(lambda ks: ("MGET", *ks)))
_write = st.one_of(
    st.tuples(st.just("SET"), _key, st.sampled_from(["1", "x"])),
    st.tuples(st.just("DEL"), _key), st.tuples(st.just("INCR"), _key),
    st.tuples(st.just("APPEND"), _key, st.just("z")),
    st.tuples(st.just("EXPIRE"), _key, st.sampled_from(["1000", "0"])),
    st.tuples(st.just("PERSIST"), _key),
    st.lists(_key, min_size=1, max_size=2).map(
        lambda ks: ("MSET", *[part for k in ks for part in (k, "v")])),
    st.just(("FLUSHALL",)))
_step = st.one_of(
    st.tuples(_conn, _tracking), st.tuples(_conn, _read), st.tuples(_conn, _read),
    st.tuples(_conn, _write), st.tuples(_conn, _write),
    # CLIENT CACHING holds for the next command only: no barrier in between.
    st.tuples(_conn, st.sampled_from(["yes", "no"]), _read).map(
        lambda t: [("+" + t[0], "CLIENT", "CACHING", t[1]), (t[0],) + t[2]]),
)


def _flatten(steps):
    out = []
    for step in steps:
        if isinstance(step, list):
            out.extend(step)
        else:
            out.append((step[0],) + tuple(step[1]))
    return out


@sequence_settings(max_examples=25)
@given(steps=st.lists(_step, min_size=5, max_size=25))
def test_generated_sequences(diff, steps):
    ours = Scenario(diff.ours.sock.getpeername()[1])
    ref = Scenario(diff.redis.sock.getpeername()[1])
    try:
        diff.check("FLUSHALL")
        run((ours, ref), [("a", True), ("b", True), ("c", False)], _flatten(steps))
    finally:
        ours.shut()
        ref.shut()
