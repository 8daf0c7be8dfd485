"""DEBUG against redis-server 7.0.15: the digests (the same 40 hex digits for the same data
set), DEBUG OBJECT's line, PROTOCOL in RESP2 and RESP3, ERROR, and the test knobs."""
import random
import re
import time

import pytest

from tests.helpers import RawClient

_OBJECT_VOLATILE = re.compile(r"Value at:0x[0-9a-f]+ | lru:\d+ lru_seconds_idle:\d+")


def _fill_every_type(diff, rng):
    """Small and large values of every type, in each of Redis's encodings."""
    commands = [
        ("SET", "str:int", "12345"), ("SET", "str:embstr", "hello"),
        ("SET", "str:raw", "x" * 100), ("SET", "str:neg", "-7"), ("APPEND", "str:app", "ab"),
        ("SET", "str:empty", ""),
        ("RPUSH", "list:small", "a", "b", "123", "-5", "c" * 70),
        ("HSET", "hash:small", "f1", "v1", "f2", "2", "n", "-3"),
        ("HSET", "hash:big", "long", "v" * 100),
        ("SADD", "set:int", "1", "2", "-3", "99999999999"),
        ("SADD", "set:str", "a", "b", "c"),
        ("ZADD", "zset:small", "1.5", "a", "2", "b", "-3.25e-5", "c", "inf", "d", "-inf", "e",
         "0", "f", "1e300", "g", "0.1", "h"),
        ("ZADD", "zset:big", "1", "m" * 100, "2", "n"),
    ]
    # Lists of several quicklist nodes, big hashes, sets and sorted sets.
    commands.append(("RPUSH", "list:big") + tuple("e%d-%s" % (i, "x" * rng.randrange(50))
                                                   for i in range(600)))
    commands.append(("HSET", "hash:many") + tuple(x for i in range(600)
                                                   for x in ("f%d" % i, str(i))))
    commands.append(("SADD", "set:many") + tuple(str(i * 7) for i in range(600)))
    commands.append(("ZADD", "zset:many") + tuple(x for i in range(200)
                                                   for x in (repr(rng.uniform(-1e6, 1e6)),
                                                             "m%d" % i)))
    for args in commands:
        diff.check(*args)
    diff.check("EXPIRE", "str:embstr", "1000")
    diff.check("PEXPIREAT", "hash:small", "99999999999999")
    diff.check("EXPIRE", "list:big", "5000")
    diff.check("EXPIRE", "zset:small", "100")


def test_digest_matches_redis_for_every_type_and_ttl(diff):
    diff.check("DEBUG", "DIGEST")                          # empty: forty zeros
    _fill_every_type(diff, random.Random(7))
    keys = [k[1] for k in diff.ours.call("KEYS", "*")[1]]
    assert len(keys) == 17
    digest = diff.check("DEBUG", "DIGEST")
    assert digest[1] != "0" * 40
    diff.check("DEBUG", "DIGEST-VALUE", *keys, "missing")
    # A TTL changes the digest, its value does not.
    diff.check("EXPIRE", "str:raw", "100")
    with_ttl = diff.check("DEBUG", "DIGEST")
    diff.check("EXPIRE", "str:raw", "200")
    assert diff.check("DEBUG", "DIGEST") == with_ttl != digest
    diff.check("PERSIST", "str:raw")
    assert diff.check("DEBUG", "DIGEST") == digest
    # The order a list holds matters, the order a set or hash was built in does not.
    diff.check("LPUSH", "list:small", "z")
    diff.check("SADD", "set:str", "d")
    diff.check("HDEL", "hash:many", "f3")
    diff.check("DEBUG", "DIGEST")
    diff.check("DEBUG", "DIGEST-VALUE", "list:small", "set:str", "hash:many")


def test_digest_of_random_data_sets(diff):
    rng = random.Random(13)
    for _ in range(5):
        diff.check("FLUSHALL")
        for i in range(40):
            key = "k%d" % rng.randrange(30)
            kind = rng.choice(["set", "list", "hash", "sadd", "zadd"])
            diff.check("DEL", key)
            member = lambda: rng.choice(["a", "b", "17", "-2", "x" * rng.randrange(80),
                                         str(rng.randrange(10 ** 6))])
            if kind == "set":
                diff.check("SET", key, member())
            elif kind == "list":
                diff.check("RPUSH", key, *[member() for _ in range(rng.randrange(1, 9))])
            elif kind == "hash":
                diff.check("HSET", key, *[member() for _ in range(2 * rng.randrange(1, 6))])
            elif kind == "sadd":
                diff.check("SADD", key, *[member() for _ in range(rng.randrange(1, 9))])
            else:
                args = []
                for _ in range(rng.randrange(1, 6)):
                    args += [repr(rng.choice([rng.random(), rng.randrange(-50, 50), 1e-7])),
                             member()]
                diff.check("ZADD", key, *args)
            if rng.random() < 0.3:
                diff.check("EXPIRE", key, "1000")
        diff.check("DEBUG", "DIGEST")


def _object_line(reply):
    assert reply[0] == "+", reply
    return _OBJECT_VOLATILE.sub(" ", reply[1])


def test_debug_object_matches_redis(diff):
    _fill_every_type(diff, random.Random(3))
    diff.check("SET", "str:app2", "x")
    diff.check("APPEND", "str:app2", "y")
    diff.check("HSET", "hash:grown", "a", "1")
    diff.check("HSET", "hash:grown", *[x for i in range(600) for x in ("g%d" % i, "v")])
    for _, key in diff.ours.call("KEYS", "*")[1]:
        ours, ref = diff.both("DEBUG", "OBJECT", key)
        assert _object_line(ours) == _object_line(ref), key
        diff.check("OBJECT", "ENCODING", key)
    diff.check("DEBUG", "OBJECT", "missing")


def test_debug_object_follows_the_packed_threshold(diff):
    diff.check("RPUSH", "l", "a", "b" * 300, "c", "d" * 500, "e")
    try:
        diff.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "200")
        ours, ref = diff.both("DEBUG", "OBJECT", "l")
        # Redis's in-memory quicklist already exists; a list pushed afterwards compares.
        diff.check("RPUSH", "l2", "a", "b" * 300, "c", "d" * 500, "e")
        ours, ref = diff.both("DEBUG", "OBJECT", "l2")
        assert _object_line(ours) == _object_line(ref)
        assert "ql_nodes:5" in ours[1]
    finally:
        diff.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
    for bad in ("-1", "5gb", "abc", "1x"):
        diff.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", bad)


@pytest.mark.parametrize("resp", ["2", "3"])
def test_debug_protocol_every_type(diff_servers, resp):
    ours, ref = (RawClient(server.port) for server in diff_servers)
    try:
        for client in (ours, ref):
            client.call("HELLO", resp)
        for name in ("string", "integer", "double", "bignum", "null", "array", "set",
                     "map", "attrib", "push", "verbatim", "true", "false", "bogus", "MAP"):
            replies = []
            for client in (ours, ref):
                reply = client.call("DEBUG", "PROTOCOL", name)
                # An attribute or a push is followed by the real reply.
                if reply[0] in "|>":
                    reply = (reply, client.read_reply())
                replies.append(reply)
            assert replies[0] == replies[1], (resp, name, replies)
    finally:
        ours.close()
        ref.close()


def test_debug_error_and_arity(diff):
    diff.check("DEBUG", "ERROR", "MYERR custom text")
    diff.check("DEBUG", "ERROR", "no prefix\r\nsecond line")
    diff.check("DEBUG", "ERROR", "")
    diff.check("DEBUG", "ERROR")
    diff.check("DEBUG", "ERROR", "a", "b")
    diff.check("DEBUG", "NO-SUCH-SUBCOMMAND")
    diff.check("DEBUG", "OBJECT")
    diff.check("DEBUG", "DIGEST", "extra")
    diff.check("DEBUG", "PROTOCOL")


def test_debug_listpack_and_quicklist(diff):
    diff.check("HSET", "h", "a", "1")
    diff.check("ZADD", "z", "1", "a")
    diff.check("RPUSH", "l", "a")
    diff.check("SET", "s", "v")
    diff.check("SADD", "st", "1")
    for key in ("h", "z", "l", "s", "st", "missing"):
        diff.check("DEBUG", "LISTPACK", key)
        diff.check("DEBUG", "QUICKLIST", key)
    diff.check("DEBUG", "QUICKLIST", "l", "1")


def test_debug_knobs(diff):
    diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    # redis-server's fuzz test takes seconds: its reply is known.
    assert diff.ours.call("DEBUG", "STRINGMATCH-TEST") == \
        ("+", "Apparently Redis did not crash: test passed")
    diff.check("DEBUG", "LOG", "hello from a test")
    diff.check("DEBUG", "RELOAD", "BOGUS")


def test_debug_reload_keeps_the_data_set(diff):
    _fill_every_type(diff, random.Random(5))
    before = diff.check("DEBUG", "DIGEST")
    diff.check("DEBUG", "RELOAD")
    assert diff.check("DEBUG", "DIGEST") == before
    diff.check("TTL", "list:big")
    # NOSAVE reloads the file as saved: later changes are gone.
    diff.check("SET", "after", "1")
    diff.check("DEBUG", "RELOAD", "NOSAVE")
    assert diff.check("DEBUG", "DIGEST") == before
    diff.check("EXISTS", "after")
    # NOFLUSH MERGE keeps keys the file does not have; the file's keys win.
    diff.check("SET", "extra", "1")
    diff.check("SET", "str:int", "changed")
    diff.check("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE")
    diff.check("GET", "extra")
    diff.check("GET", "str:int")
    diff.check("DEBUG", "DIGEST")


def test_debug_change_repl_id(diff):
    def replid(client):
        info = client.call("INFO", "replication")[1].decode()
        return dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)

    before = replid(diff.ours)
    diff.check("DEBUG", "CHANGE-REPL-ID")
    after = replid(diff.ours)
    assert after["master_replid"] != before["master_replid"]
    assert after["master_replid2"] == "0" * 40


def test_debug_sleep_times_redis_does_not_sleep(diff):
    """Redis casts the time to a long long of microseconds: inf, nan and too-large values
    become negative and sleep not at all; a non-number is 0. Each answers at once (a
    long non-number too: no quadratic prefix search)."""
    for value in ("inf", "-inf", "nan", "1e300", "9.3e12", "-1", "abc", "0", "1e-300",
                  "x" * 200000):
        start = time.monotonic()
        diff.check("DEBUG", "SLEEP", value)
        assert time.monotonic() - start < 1.0, value


def test_debug_populate(diff):
    """The keys, values (cut or zero-padded to a size) and errors of DEBUG POPULATE; an
    existing key is left alone; the data sets end with the same digest."""
    diff.check("FLUSHALL")
    diff.check("SET", "key:3", "mine")
    diff.check("DEBUG", "POPULATE", "10")
    diff.check("DEBUG", "POPULATE", "5", "p")
    diff.check("DEBUG", "POPULATE", "4", "short", "3")
    diff.check("DEBUG", "POPULATE", "4", "long", "20")
    diff.check("DEBUG", "POPULATE", "2", "x" * 200)
    for key in ("key:3", "key:9", "p:4", "short:1", "long:2", "key:10"):
        diff.check("GET", key)
    diff.check("DBSIZE")
    diff.check("DEBUG", "DIGEST")
    for bad in (["-1"], ["abc"], ["1", "p", "-5"], ["1", "p", "1", "extra"]):
        diff.check("DEBUG", "POPULATE", *bad)
