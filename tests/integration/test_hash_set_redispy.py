"""redis-py against node.py: hashes and sets as a Python application uses them.

These check what redis-py's response callbacks make of our replies (dicts for HGETALL,
Python sets for SMEMBERS, floats for HINCRBYFLOAT, pairs for HRANDFIELD WITHVALUES), in
RESP2 and RESP3, and that RedisCluster routes the multi-key set commands (SINTERCARD's
keys are found through COMMAND GETKEYS, as its key positions move).
"""
import pytest
import redis

# ---------------------------------------------------------------- hashes

def test_hash_basics(r):
    assert r.hset("h", "a", "1") == 1
    assert r.hset("h", mapping={"b": "2", "c": "3"}) == 2
    assert not r.hsetnx("h", "a", "x")
    assert r.hsetnx("h", "d", "4")
    assert r.hget("h", "a") == b"1"
    assert r.hget("h", "zz") is None
    assert r.hmget("h", ["a", "zz", "c"]) == [b"1", None, b"3"]
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4"}
    assert r.hgetall("missing") == {}
    assert r.hkeys("h") == [b"a", b"b", b"c", b"d"]
    assert r.hvals("h") == [b"1", b"2", b"3", b"4"]
    assert r.hlen("h") == 4
    assert r.hexists("h", "a") and not r.hexists("h", "zz")
    assert r.hstrlen("h", "a") == 1
    assert r.hdel("h", "a", "zz") == 1
    assert r.type("h") == b"hash"
    assert r.object("encoding", "h") == b"listpack"
    assert r.hdel("h", "b", "c", "d") == 3
    assert r.exists("h") == 0


def test_hash_counters(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    assert r.hincrbyfloat("h", "f", 1.5) == 1.5
    assert r.hincrbyfloat("h", "f", "0.25") == 1.75
    r.hset("h", "s", "abc")
    with pytest.raises(redis.ResponseError, match="hash value is not an integer"):
        r.hincrby("h", "s", 1)
    with pytest.raises(redis.ResponseError, match="hash value is not a float"):
        r.hincrbyfloat("h", "s", 1)
    r.hset("h", "max", 2 ** 63 - 1)
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.hincrby("h", "max", 1)


def test_hrandfield(r):
    fields = {b"f%d" % i: b"v%d" % i for i in range(20)}
    r.hset("h", mapping=fields)
    assert r.hrandfield("h") in fields
    picked = r.hrandfield("h", 5)
    assert len(picked) == 5 == len(set(picked)) and set(picked) <= set(fields)
    with_values = r.hrandfield("h", 3, withvalues=True)
    # redis-py gives a flat list in RESP2 and a list of pairs in RESP3.
    if with_values and isinstance(with_values[0], list):
        pairs = with_values
    else:
        pairs = list(zip(with_values[::2], with_values[1::2]))
    assert len(pairs) == 3 and all(fields[f] == v for f, v in pairs)
    assert len(r.hrandfield("h", -50)) == 50
    assert r.hrandfield("missing") is None
    assert r.hrandfield("missing", 3) == []


def test_hscan_iter_covers_a_big_hash(r):
    fields = {("f%d" % i).encode(): b"x" for i in range(3000)}
    r.hset("h", mapping=fields)
    assert r.object("encoding", "h") == b"hashtable"
    seen = dict(r.hscan_iter("h", count=100))
    assert seen == fields
    assert dict(r.hscan_iter("h", match="f29*", count=50)) == \
        {f: b"x" for f in fields if f.startswith(b"f29")}
    cursor, page = r.hscan("h", 0, count=10)
    assert cursor != 0 and 10 <= len(page) < 3000


def test_hash_wrong_type(r):
    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.hset("s", "a", "1")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.hgetall("s")


# ---------------------------------------------------------------- sets

def test_set_basics(r):
    assert r.sadd("s", "3", "1", "2", "1") == 3
    assert r.smembers("s") == {b"1", b"2", b"3"}
    assert r.scard("s") == 3
    assert r.sismember("s", "1") and not r.sismember("s", "9")
    assert [bool(x) for x in r.smismember("s", ["1", "9"])] == [True, False]
    assert r.object("encoding", "s") == b"intset"
    assert r.sadd("s", "x") == 1
    assert r.object("encoding", "s") == b"hashtable"
    assert r.srem("s", "x", "zz") == 1
    assert r.type("s") == b"set"
    assert r.smembers("missing") == set()


def test_spop_srandmember(r):
    members = {b"m%d" % i for i in range(50)}
    r.sadd("s", *members)
    assert r.srandmember("s") in members
    assert set(r.srandmember("s", 10)) <= members
    assert len(r.srandmember("s", -80)) == 80
    one = r.spop("s")
    assert one in members
    some = r.spop("s", 10)
    assert len(some) == 10 and set(some) <= members - {one}
    rest = r.spop("s", 100)
    assert set(rest) | set(some) | {one} == members
    assert r.exists("s") == 0
    assert r.spop("s") is None


def test_smove_and_algebra(r):
    r.sadd("{a}x", "1", "2", "3")
    r.sadd("{a}y", "2", "3", "4")
    assert r.smove("{a}x", "{a}z", "1")
    assert not r.smove("{a}x", "{a}z", "1")
    assert r.sinter("{a}x", "{a}y") == {b"2", b"3"}
    assert r.sunion("{a}x", "{a}y", "{a}z") == {b"1", b"2", b"3", b"4"}
    assert r.sdiff("{a}y", "{a}x") == {b"4"}
    assert r.sintercard(2, ["{a}x", "{a}y"]) == 2
    assert r.sintercard(2, ["{a}x", "{a}y"], limit=1) == 1
    assert r.sinterstore("{a}d", ["{a}x", "{a}y"]) == 2
    assert r.sunionstore("{a}d", ["{a}x", "{a}y"]) == 3
    assert r.sdiffstore("{a}d", ["{a}y", "{a}x"]) == 1
    assert r.smembers("{a}d") == {b"4"}


def test_sscan_iter_covers_a_big_set(r):
    members = {("m%d" % i).encode() for i in range(3000)}
    r.sadd("s", *members)
    assert set(r.sscan_iter("s", count=77)) == members
    assert list(r.sscan_iter("small-missing")) == []


def test_pipeline_and_watch(r):
    r.sadd("{w}s", "a")
    with r.pipeline() as pipe:
        pipe.watch("{w}s")
        pipe.multi()
        pipe.sadd("{w}s", "b").hset("{w}h", "f", "v").scard("{w}s")
        assert pipe.execute() == [1, 1, 2]
    other = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
    try:
        with r.pipeline() as pipe:
            pipe.watch("{w}h")
            other.hset("{w}h", "f", "changed")
            pipe.multi()
            pipe.hget("{w}h", "f")
            with pytest.raises(redis.WatchError):
                pipe.execute()
    finally:
        other.close()


# ---------------------------------------------------------------- RedisCluster

def test_redis_cluster_routes_hash_and_set_commands(node):
    rc = redis.RedisCluster(host="127.0.0.1", port=node.port)
    try:
        rc.flushall()
        assert rc.hset("user:1", mapping={"name": "x", "n": "1"}) == 2
        assert rc.hincrby("user:1", "n", 2) == 3
        assert rc.hgetall("user:1") == {b"name": b"x", b"n": b"3"}
        assert rc.sadd("{t}a", "1", "2") == 2 and rc.sadd("{t}b", "2") == 1
        # SINTERCARD has movable keys: RedisCluster asks COMMAND GETKEYS for them.
        assert rc.sintercard(2, ["{t}a", "{t}b"]) == 1
        assert rc.smove("{t}a", "{t}b", "1")
        assert rc.sinterstore("{t}c", ["{t}a", "{t}b"]) == 1
        assert rc.smembers("{t}b") == {b"1", b"2"}
        assert set(rc.sscan_iter("{t}b")) == {b"1", b"2"}
    finally:
        rc.close()
