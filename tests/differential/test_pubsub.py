"""Pub/Sub against a real redis-server 7.0 in cluster mode: (un)subscribe reply sequences in
RESP2 and RESP3, message shapes, PUBSUB introspection, subscribed-mode refusals, sharded
channels (CROSSSLOT, MULTI), CLIENT LIST / INFO counts, client-output-buffer-limit config.

A command may answer with several replies (SUBSCRIBE a b -> two messages) or none we know
in advance (UNSUBSCRIBE with no argument), so every exchange is followed by a sentinel
PING: the replies before the sentinel's answer are the command's, on both servers.

Two orders are Redis hash-table orders, not something to copy: the channels an argument-
less (P|S)UNSUBSCRIBE walks, and the patterns a PUBLISH matches. Those exchanges are
compared as multisets (names, and the counts that go down by one per reply).
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import RawClient

SENTINEL = b"-sentinel-"
OBUF_DEFAULT = b"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"


def _is_sentinel(reply) -> bool:
    return reply == ("$", SENTINEL) or reply == ("*", [("$", b"pong"), ("$", SENTINEL)]) \
        or reply == (">", [("$", b"pong"), ("$", SENTINEL)])


def exchange(client, *args) -> list:
    """Send a command (or nothing) then PING SENTINEL; every reply before the sentinel's.
    Reads are bounded by the client's socket timeout."""
    data = RawClient.encode(args) if args else b""
    client.send_raw(data + RawClient.encode(("PING", SENTINEL)))
    replies = []
    for _ in range(1000):
        reply = client.read_reply()
        if _is_sentinel(reply):
            return replies
        replies.append(reply)
    raise AssertionError("no sentinel after 1000 replies")


def _unordered(replies) -> tuple:
    """An unsubscribe-all (or multi-pattern) answer, order aside: the multiset of names
    and, separately, of the counts (which depend on the order)."""
    heads, tails = [], []
    for kind, value in replies:
        if kind in "*>" and value:
            heads.append(repr((kind, value[:-1])))
            tails.append(repr(value[-1]))
        else:
            heads.append(repr((kind, value)))
    return sorted(heads), sorted(tails)


class Pairs:
    """N client pairs (ours, redis); run() sends the same thing on pair i to both."""

    def __init__(self, ours_port, redis_port, n):
        self.pairs = [(RawClient(ours_port), RawClient(redis_port)) for _ in range(n)]

    def run(self, i, *args, unordered=False) -> list:
        ours, ref = self.pairs[i]
        mine, theirs = exchange(ours, *args), exchange(ref, *args)
        if unordered:
            mine_cmp, theirs_cmp = _unordered(mine), _unordered(theirs)
        else:
            mine_cmp, theirs_cmp = mine, theirs
        assert mine_cmp == theirs_cmp, "pair %d %r:\n  ours:  %r\n  redis: %r" % (
            i, args, mine, theirs)
        return mine

    def call(self, i, *args):
        """A plain call (one reply), compared."""
        ours, ref = self.pairs[i]
        mine, theirs = ours.call(*args), ref.call(*args)
        assert mine == theirs, "pair %d %r:\n  ours:  %r\n  redis: %r" % (i, args, mine, theirs)
        return mine

    def call_unordered(self, i, *args):
        """A call whose array reply is in hash-table order in Redis: compared sorted."""
        ours, ref = self.pairs[i]
        mine, theirs = ours.call(*args), ref.call(*args)
        assert mine[0] == theirs[0] and sorted(mine[1]) == sorted(theirs[1]), \
            "pair %d %r:\n  ours:  %r\n  redis: %r" % (i, args, mine, theirs)
        return sorted(mine[1])

    def hello3(self, i):
        for client in self.pairs[i]:
            assert client.call("HELLO", "3")[0] == "%"

    def close(self):
        for ours, ref in self.pairs:
            ours.close()
            ref.close()


@pytest.fixture
def pairs(diff_servers):
    ours, ref = diff_servers
    made = []

    def make(n=2):
        p = Pairs(ours.port, ref.port, n)
        made.append(p)
        return p
    yield make
    for p in made:
        p.close()


@pytest.mark.parametrize("resp3", [False, True])
def test_subscribe_unsubscribe_sequences(pairs, resp3):
    p = pairs(1)
    if resp3:
        p.hello3(0)
    p.run(0, "SUBSCRIBE", "a", "b", "a")
    p.run(0, "PSUBSCRIBE", "a*", "b?")
    p.run(0, "SSUBSCRIBE", "{s}1", "{s}2")
    p.run(0, "UNSUBSCRIBE", "a", "zz")
    p.run(0, "PUNSUBSCRIBE", "nope")
    p.run(0, "UNSUBSCRIBE")
    p.run(0, "PUNSUBSCRIBE", unordered=True)
    # Only shard channels are left: still in subscribed mode.
    p.run(0, "GET", "k")
    p.run(0, "SUNSUBSCRIBE", "{s}1")
    p.run(0, "SUNSUBSCRIBE")
    p.run(0, "UNSUBSCRIBE")
    p.run(0, "PUNSUBSCRIBE")
    p.run(0, "SUNSUBSCRIBE")
    p.run(0, "GET", "k")                # out of subscribed mode
    p.run(0, "SUBSCRIBE", "x", "y", "z")
    p.run(0, "UNSUBSCRIBE", unordered=True)


@pytest.mark.parametrize("resp3", [False, True])
def test_message_shapes_and_counts(pairs, resp3):
    p = pairs(3)
    if resp3:
        p.hello3(0)
    p.run(0, "SUBSCRIBE", "news")
    p.run(0, "PSUBSCRIBE", "n*")
    p.run(1, "PSUBSCRIBE", "n*")
    p.run(0, "SSUBSCRIBE", "news")
    assert p.run(2, "PUBLISH", "news", "hello") == [(":", 3)]
    p.run(0)                            # message, then pmessage
    p.run(1)
    assert p.run(2, "SPUBLISH", "news", "shard") == [(":", 1)]
    p.run(0)
    p.run(2, "PUBLISH", "nothing-here", "x")
    p.run(2, "PUBLISH", "n", "")       # a pattern match, an empty message
    p.run(0)
    p.run(1)
    p.run(2, "PUBLISH", "", "empty channel")   # "n*" does not match "" in Redis
    p.run(0)
    p.run(2, "PUBLISH", "news", "x" * 5000)
    p.run(0)
    p.run(1)


def test_several_patterns_match(pairs):
    p = pairs(2)
    p.run(0, "PSUBSCRIBE", "h*", "h?llo", "[gh]ello", "x*")
    assert p.run(1, "PUBLISH", "hello", "m") == [(":", 3)]
    p.run(0, unordered=True)


def test_publisher_subscribed_in_resp3_gets_its_own_message(pairs):
    p = pairs(1)
    p.hello3(0)
    p.run(0, "SUBSCRIBE", "me")
    p.run(0, "PUBLISH", "me", "to myself")     # the push comes before the reply


def test_pubsub_introspection(pairs):
    p = pairs(4)
    p.run(0, "SUBSCRIBE", "c1", "c2", "other")
    p.run(1, "SUBSCRIBE", "c1")
    p.run(1, "PSUBSCRIBE", "c*", "x*")
    p.run(2, "PSUBSCRIBE", "c*")
    p.run(2, "SSUBSCRIBE", "{t}s1", "{t}s2")
    p.run(0, "SSUBSCRIBE", "{t}s1")
    channels = p.call_unordered(3, "PUBSUB", "CHANNELS")
    assert channels == [("$", b"c1"), ("$", b"c2"), ("$", b"other")]
    for pattern in ("c*", "c?", "nomatch*", "*", "", "[co]*"):
        p.call_unordered(3, "PUBSUB", "CHANNELS", pattern)
    p.call(3, "PUBSUB", "NUMSUB", "c1", "c2", "missing", "c1")
    p.call(3, "PUBSUB", "NUMSUB")
    p.call(3, "PUBSUB", "NUMPAT")           # unique patterns: c* once
    assert p.call_unordered(3, "PUBSUB", "SHARDCHANNELS") == [("$", b"{t}s1"),
                                                              ("$", b"{t}s2")]
    p.call(3, "PUBSUB", "SHARDCHANNELS", "*s1")
    p.call(3, "PUBSUB", "SHARDNUMSUB", "{t}s1", "{t}s2", "nope")
    p.call(3, "PUBSUB", "SHARDNUMSUB")
    # Channels leave the lists with their last subscriber.
    p.run(0, "UNSUBSCRIBE", "other")
    p.call(3, "PUBSUB", "NUMSUB", "other")
    p.run(1, "PUNSUBSCRIBE", "x*")
    p.call(3, "PUBSUB", "NUMPAT")
    p.run(0, "RESET")
    p.call(3, "PUBSUB", "SHARDNUMSUB", "{t}s1")
    p.call(3, "PUBSUB", "NUMSUB", "c1", "c2")


def test_pubsub_errors_and_help(diff):
    diff.check("PUBSUB", "HELP")
    diff.check("PUBSUB")
    diff.check("PUBSUB", "FOO")
    diff.check("PUBSUB", "NUMPAT", "x")
    diff.check("PUBSUB", "CHANNELS", "a", "b")
    diff.check("PUBSUB", "shardchannels", "a", "b")
    diff.check("PUBSUB", "HELP", "x")
    for name in ("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "PUBLISH", "SPUBLISH"):
        diff.check(name)
    diff.check("PUBLISH", "a")
    diff.check("SPUBLISH", "a")
    diff.check("PUBLISH", "a", "b", "c")
    diff.check("PUBLISH", "nobody", "listens")
    diff.check("SPUBLISH", "nobody", "listens")
    diff.check("SSUBSCRIBE", "a", "b")          # different slots
    diff.check("SUNSUBSCRIBE", "a", "b")
    diff.check("COMMAND", "INFO", "publish", "subscribe", "spublish", "ssubscribe",
               "sunsubscribe", "unsubscribe", "psubscribe", "punsubscribe")
    # Redis lists subcommands in its dict's (per-process random) order: compare sorted.
    ours, ref = diff.both("COMMAND", "INFO", "pubsub")
    ours[1][0][1][-1][1].sort()
    ref[1][0][1][-1][1].sort()
    assert ours == ref
    diff.check("COMMAND", "GETKEYS", "SSUBSCRIBE", "a", "{a}b")


def test_subscribed_mode_refusals_resp2(pairs):
    p = pairs(1)
    p.run(0, "SUBSCRIBE", "a")
    for args in (("GET", "x"), ("SET", "x", "1"), ("PUBLISH", "a", "m"), ("MULTI",),
                 ("EXEC",), ("HELLO", "3"), ("CLIENT", "LIST"), ("CONFIG", "GET", "x"),
                 ("PUBSUB", "NUMPAT"), ("ECHO", "x"), ("SPUBLISH", "a", "m")):
        p.run(0, *args)
    p.run(0, "PING")
    p.run(0, "PING", "hello")
    p.run(0, "PING", "a", "b")
    p.run(0, "SSUBSCRIBE", "a", "b")            # routing comes first: CROSSSLOT
    p.run(0, "RESET")
    p.run(0, "GET", "x")
    p.run(0, "PING")


def test_resp3_runs_anything_while_subscribed(pairs):
    p = pairs(1)
    p.hello3(0)
    p.run(0, "SUBSCRIBE", "a")
    p.run(0, "SET", "{a}x", "1")
    p.run(0, "GET", "{a}x")
    p.run(0, "PING")
    p.run(0, "PUBSUB", "NUMSUB", "a")
    p.call(0, "MULTI")
    p.call(0, "PUBLISH", "not-a", "in multi")
    p.call(0, "SUBSCRIBE", "b")
    p.run(0, "EXEC")


def test_subscribe_inside_multi(pairs):
    p = pairs(1)
    p.call(0, "MULTI")
    p.call(0, "SUBSCRIBE", "q", "r")
    p.call(0, "SSUBSCRIBE", "q")
    p.call(0, "PING")
    p.call(0, "GET", "q")
    ours, ref = p.pairs[0]
    # EXEC's array holds 4 entries for 5 replies (SUBSCRIBE q r answers twice), as Redis.
    mine = [ours.call("EXEC")] + [ours.read_reply()]
    theirs = [ref.call("EXEC")] + [ref.read_reply()]
    assert mine == theirs
    p.run(0, "GET", "q")                        # subscribed now: refused


def test_quit_while_subscribed(pairs):
    p = pairs(2)
    p.run(0, "SUBSCRIBE", "bye")
    p.call(0, "QUIT")
    p.call(1, "PUBSUB", "NUMSUB", "bye")        # may race the close: retried below
    for client in p.pairs[1]:
        for _ in range(100):
            if client.call("PUBSUB", "NUMSUB", "bye")[1][1] == (":", 0):
                break
        assert client.call("PUBSUB", "NUMSUB", "bye")[1][1] == (":", 0)


def _fields(line: bytes, names) -> dict:
    fields = dict(item.split(b"=", 1) for item in line.split(b" ") if b"=" in item)
    return {name: fields.get(name) for name in names}


def test_client_list_and_info_counts(pairs):
    p = pairs(2)
    p.call(0, "CLIENT", "SETNAME", "sub-counter")
    p.run(0, "SUBSCRIBE", "a", "b")
    p.run(0, "PSUBSCRIBE", "p*")
    p.run(0, "SSUBSCRIBE", "{z}1", "{z}2", "{z}3")
    results = []
    for client in p.pairs[1]:
        text = client.call("CLIENT", "LIST")[1]
        line = next(line for line in text.split(b"\n") if b"name=sub-counter" in line)
        results.append(_fields(line, (b"flags", b"sub", b"psub", b"ssub", b"cmd")))
    assert results[0] == results[1] and results[0][b"ssub"] == b"3"
    infos = []
    for client in p.pairs[1]:
        text = client.call("INFO", "stats")[1].decode()
        infos.append([line for line in text.split("\r\n") if line.startswith("pubsub")])
    assert infos[0] == infos[1] and len(infos[0]) == 3


def test_client_output_buffer_limit_config(diff):
    try:
        diff.check("CONFIG", "GET", "client-output-buffer-limit")
        for value in ("pubsub 1 2", "pubsub 1 2 3", "foo 1 2 3", "master 1 2 3",
                      "pubsub 1k 2mb 3", "pubsub -1 2 3", "pubsub 1 2 x", "pubsub 1 2 -1",
                      "pubsub 1x 2 3", "", "normal 1 2 3 replica 4 5 6",
                      "PUBSUB 1GB 1G 0", "slave 1 2 3 pubsub 4", "pubsub 0 0 0"):
            diff.check("CONFIG", "SET", "client-output-buffer-limit", value)
            diff.check("CONFIG", "GET", "client-output-buffer-limit")
        diff.check("CONFIG", "GET", "client-output-*")
    finally:
        diff.both("CONFIG", "SET", "client-output-buffer-limit", OBUF_DEFAULT)


# ---------------------------------------------------------------- random sequences

CHANNELS = [b"{h}a", b"{h}b", b"{h}c"]
PATTERNS = [b"{h}*", b"{h}[ab]", b"?h}c", b"nomatch"]
_names = st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=3)

operations = st.one_of(
    st.tuples(st.just(0), _names.map(lambda n: (b"SUBSCRIBE", *n))),
    st.tuples(st.just(0), st.lists(st.sampled_from(CHANNELS), max_size=2)
              .map(lambda n: (b"UNSUBSCRIBE", *n))),
    st.tuples(st.just(0), st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2)
              .map(lambda n: (b"PSUBSCRIBE", *n))),
    st.tuples(st.just(0), st.lists(st.sampled_from(PATTERNS), max_size=2)
              .map(lambda n: (b"PUNSUBSCRIBE", *n))),
    st.tuples(st.just(0), _names.map(lambda n: (b"SSUBSCRIBE", *n))),
    st.tuples(st.just(0), st.lists(st.sampled_from(CHANNELS), max_size=2)
              .map(lambda n: (b"SUNSUBSCRIBE", *n))),
    st.tuples(st.just(0), st.sampled_from([(b"PING",), (b"GET", b"{h}a"), (b"RESET",)])),
    st.tuples(st.just(1), st.tuples(st.sampled_from([b"PUBLISH", b"SPUBLISH"]),
                                    st.sampled_from(CHANNELS), st.just(b"m"))),
    st.tuples(st.just(1), st.sampled_from([(b"PUBSUB", b"NUMPAT"),
                                           (b"PUBSUB", b"NUMSUB", *CHANNELS),
                                           (b"PUBSUB", b"SHARDNUMSUB", *CHANNELS)])),
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(resp3=st.booleans(), ops=st.lists(operations, min_size=1, max_size=15))
def test_random_pubsub_sequences(diff_servers, resp3, ops):
    ours, ref = diff_servers
    p = Pairs(ours.port, ref.port, 2)
    try:
        if resp3:
            p.hello3(0)
        for who, args in ops:
            # An argument-less unsubscribe walks a hash table in Redis; a publish may match
            # several patterns: both compared order aside.
            unordered = len(args) == 1 and args[0].endswith(b"UNSUBSCRIBE") or \
                args[0] == b"PUBLISH"
            p.run(who, *args, unordered=unordered)
            if who == 1:
                p.run(0, unordered=True)        # what the subscriber received
        p.run(0, "RESET")
    finally:
        p.close()
