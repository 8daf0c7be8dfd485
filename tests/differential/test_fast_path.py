"""The serve loop's fast path (commands/server/executor.py: open_fast_path) against
redis-server: requests sent in one write, so that they arrive in one read and the fast
path runs some and the generic path others, with state changing between them."""
import re

from tests.helpers import RawClient


def pipelined(port, commands, replies=None):
    """Send `commands` in one write; read `replies` replies (default one each)."""
    client = RawClient(port)
    try:
        client.send_raw(b"".join(client.encode(c) for c in commands))
        return [client.read_reply() for _ in range(len(commands) if replies is None
                                                   else replies)]
    finally:
        client.close()


def both(diff_servers, commands, replies=None):
    ours, ref = diff_servers
    mine, theirs = pipelined(ours.port, commands, replies), pipelined(ref.port, commands,
                                                                      replies)
    assert mine == theirs, "\n  ours:  %r\n  redis: %r" % (mine, theirs)
    return mine


def flush(diff_servers):
    for server in diff_servers:
        RawClient(server.port).call("FLUSHALL")


def test_a_transaction_begun_mid_read_queues_what_follows(diff_servers):
    flush(diff_servers)
    both(diff_servers, [("SET", "a", "1"), ("MULTI",), ("SET", "a", "2"), ("INCR", "a"),
                        ("GET", "a"), ("EXEC",), ("GET", "a"), ("INCR", "a")])


def test_client_reply_skip_mid_read(diff_servers):
    flush(diff_servers)
    replies = both(diff_servers, [("SET", "a", "1"), ("CLIENT", "REPLY", "SKIP"),
                                  ("SET", "a", "2"), ("GET", "a")], replies=2)
    assert replies == [("+", "OK"), ("$", b"2")]


def test_subscribing_mid_read_refuses_what_follows(diff_servers):
    flush(diff_servers)
    both(diff_servers, [("SET", "k", "v"), ("SUBSCRIBE", "ch"), ("GET", "k"),
                        ("SET", "k", "w"), ("PING",)])


def test_resp3_chosen_mid_read_encodes_what_follows(diff_servers):
    flush(diff_servers)
    ours, ref = diff_servers
    commands = [("GET", "missing"), ("HELLO", "3"), ("GET", "missing"), ("INCR", "n"),
                ("LPOP", "nolist"), ("LRANGE", "nolist", "0", "-1")]
    mine, theirs = (pipelined(s.port, commands) for s in (ours, ref))
    # HELLO's map names the server and its version: compare the rest.
    assert mine[:1] + mine[2:] == theirs[:1] + theirs[2:]


def test_errors_on_the_fast_path_are_redis_errors_and_counted(diff_servers):
    flush(diff_servers)
    for server in diff_servers:
        RawClient(server.port).call("CONFIG", "RESETSTAT")
    both(diff_servers, [("SET", "s", "x"), ("LPUSH", "s", "y"), ("SET", "a"),
                        ("GET", "a", "b"), ("INCR", "s"), ("ZADD", "z", "nan", "m"),
                        ("ZADD", "z", "1", "m", "2"), ("HSET", "h", "f"), ("MSET", "a"),
                        ("LPOP", "s", "-1"), ("SADD", "s", "m")])

    def stats(port):
        client = RawClient(port)
        text = client.call("INFO", "errorstats")[1].decode() + \
            client.call("INFO", "commandstats")[1].decode()
        client.close()
        counts = {}
        for line in text.splitlines():
            m = re.match(r"(errorstat_\w+|cmdstat_\w+):(?:count=(\d+)|calls=(\d+),.*"
                         r"rejected_calls=(\d+),failed_calls=(\d+))", line)
            if m and not m.group(1).startswith("cmdstat_info"):
                counts[m.group(1)] = m.group(2) or m.group(3, 4, 5)
        return counts
    assert stats(diff_servers[0].port) == stats(diff_servers[1].port)


def test_keyspace_hits_and_misses_and_commandstats_after_a_pipeline(diff_servers):
    flush(diff_servers)
    for server in diff_servers:
        RawClient(server.port).call("CONFIG", "RESETSTAT")
    commands = [("SET", "k%d" % (i % 7), "v") for i in range(40)] + \
        [("GET", "k%d" % i) for i in range(10)] + [("MSET", "{t}a", "1", "{t}b", "2")] + \
        [("MGET", "{t}a", "{t}b", "{t}c"), ("EXISTS", "k1", "k2"), ("DEL", "k1")] * 30
    both(diff_servers, commands)

    def fields(port):
        client = RawClient(port)
        stats = client.call("INFO", "stats")[1].decode()
        commandstats = client.call("INFO", "commandstats")[1].decode()
        client.close()
        hits = re.findall(r"^(keyspace_\w+):(\d+)", stats, re.M)
        calls = re.findall(r"^cmdstat_(\w+):calls=(\d+)", commandstats, re.M)
        return sorted(hits), sorted(c for c in calls if c[0] not in ("info", "config"))
    assert fields(diff_servers[0].port) == fields(diff_servers[1].port)
