"""The RDB / DUMP codec (commands/rdb) against a real redis-server 7.0.

* files we write are accepted by redis-check-rdb and loaded by redis-server with the
  values, TTLs and OBJECT ENCODINGs we wrote (and Redis's own DUMP of each loaded key
  is byte-for-byte our dump_payload where Redis keeps our layout);
* files redis-server SAVEs decode to the values it holds;
* DUMP payloads go both ways;
* Redis 6 era encodings (ziplist, zipmap, quicklist v1, plain LIST/ZSET) that we build
  are loaded by redis-server 7.0 and read back by our reader.

Each test starts its own redis-server(s) (killed in teardown); no node.py is involved.
"""
import io
import os
import shutil
import subprocess
import time

import pytest
import redis

from commands.rdb import (Aux, BadDataFormat, DumpPayloadError, FunctionLibrary,
                                  KeyEntry, RdbReader, RdbWriter, ResizeDb, dump_payload,
                                  load_payload)
from commands.rdb.rdb_constants import (
    RDB_TYPE_HASH_ZIPLIST, RDB_TYPE_HASH_ZIPMAP, RDB_TYPE_LIST, RDB_TYPE_LIST_QUICKLIST,
    RDB_TYPE_LIST_ZIPLIST, RDB_TYPE_ZSET, RDB_TYPE_ZSET_ZIPLIST)
from tests.helpers import start_redis

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")

LIB_CODE = (b"#!lua name=rdblib\n"
            b"redis.register_function('rdbfunc', function(keys, args) return 42 end)")


@pytest.fixture
def servers():
    started = []

    def start(*extra):
        proc = start_redis(*extra)
        started.append(proc)
        return proc, redis.Redis(port=proc.port)

    yield start
    for proc in started:
        proc.stop()


def check_rdb(path):
    out = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True,
                         timeout=60)
    assert "RDB looks OK" in out.stdout, out.stdout + out.stderr
    return out.stdout


def neutral(r, key):
    """A key's value from redis-py, in our neutral form."""
    kind = r.type(key).decode()
    if kind == "string":
        return kind, r.get(key)
    if kind == "list":
        return kind, r.lrange(key, 0, -1)
    if kind == "set":
        return kind, sorted(r.smembers(key))
    if kind == "hash":
        return kind, sorted(r.hgetall(key).items())
    if kind == "zset":
        return kind, sorted(r.zrange(key, 0, -1, withscores=True))
    raise AssertionError(kind)


def canon(kind, value):
    if kind in ("set", "hash", "zset"):
        return sorted(value)
    return value


def expected_string_encoding(value):
    from commands.rdb.rdb_strings import canonical_int
    if canonical_int(value) is not None:
        return "int"
    return "embstr" if len(value) <= 44 else "raw"


# Values covering every encoding Redis 7.0 writes (with its default thresholds: the
# encodings are the ones Redis gives these values when it loads them).
def sample_keys():
    big = b"abcdefgh" * 2000                                    # LZF-compressible
    return [
        (b"s:small", "string", b"hello", "embstr", None),
        (b"s:int8", "string", b"-12", "int", None),
        (b"s:int32", "string", b"2000000000", "int", None),
        (b"s:int64", "string", b"9223372036854775807", "int", None),
        (b"s:lead0", "string", b"007", "embstr", None),
        (b"s:big", "string", big, "raw", None),
        (b"s:random", "string", os.urandom(300), "raw", None),
        (b"s:ttl", "string", b"expiring", "embstr", int(time.time() * 1000) + 3_600_000),
        (b"12345", "string", b"int key", "embstr", None),
        (b"l:small", "list", [b"a", b"1", b"-4096", b"70000", b"x" * 100], "quicklist", None),
        (b"l:nodes", "list", [b"%d" % i for i in range(5000)], "quicklist", None),
        (b"l:plain", "list", [b"a", b"P" * 300, b"b", b"c"], "quicklist", None),
        (b"l:ttl", "list", [b"z"] * 3, "quicklist", int(time.time() * 1000) + 7_200_000),
        (b"set:int", "set", [b"1", b"-5", b"70000", b"9000000000"], "intset", None),
        (b"set:ht", "set", [b"a", b"b", b"100"], "hashtable", None),
        (b"set:bigint", "set", [b"%d" % i for i in range(600)], "hashtable", None),
        (b"h:lp", "hash", [(b"f1", b"v1"), (b"n", b"12"), (b"neg", b"-9999999")], "listpack", None),
        (b"h:ht", "hash", [(b"f%d" % i, b"v" * (i % 7)) for i in range(600)], "hashtable", None),
        (b"z:lp", "zset", [(b"a", 1.0), (b"b", -2.5), (b"c", float("inf")), (b"d", 0.1),
                           (b"e", -float("inf")), (b"f", 1e300)], "listpack", None),
        (b"z:sl", "zset", [(b"m%d" % i, i / 3) for i in range(300)], "skiplist", None),
    ]


def write_sample(path, keys, packed_threshold):
    with open(path, "wb") as f:
        w = RdbWriter(f, packed_threshold=packed_threshold)
        w.write_header(ctime=int(time.time()), used_mem=1 << 20, repl_stream_db=0,
                       repl_id="8b2f1d5c3e4a6b7c8d9e0f1a2b3c4d5e6f7a8b9c", repl_offset=0)
        w.write_function(LIB_CODE)
        w.select_db(0, len(keys), sum(1 for k in keys if k[4] is not None))
        for key, kind, value, enc, expire in keys:
            w.write_key(key, kind, value, None if kind == "string" else enc, expire)
        w.finish()


def test_our_file_loads_in_redis(servers, tmp_path):
    keys = sample_keys()
    path = tmp_path / "ours.rdb"
    write_sample(str(path), keys, packed_threshold=200)
    report = check_rdb(str(path))
    assert "%d keys read" % len(keys) in report
    proc, r = servers("--dir", str(tmp_path), "--dbfilename", "ours.rdb")
    assert r.dbsize() == len(keys)
    assert r.fcall("rdbfunc", 0) == 42
    for key, kind, value, enc, expire in keys:
        assert neutral(r, key) == (kind, canon(kind, value)), key
        want_enc = expected_string_encoding(value) if kind == "string" else enc
        assert r.object("encoding", key).decode() == want_enc, key
        if expire is None:
            assert r.pttl(key) == -1, key
        else:
            assert 0 <= expire - int(time.time() * 1000) - r.pttl(key) < 60_000, key
        if enc not in ("hashtable",):
            # Redis kept our layout (listpacks, nodes, intset): its DUMP is ours.
            ours = dump_payload(kind, value, None if kind == "string" else enc,
                                packed_threshold=200)
            assert r.dump(key) == ours, key


def test_redis_save_decodes(servers, tmp_path):
    proc, r = servers("--list-max-listpack-size", "4", "--hash-max-listpack-entries", "4",
                      "--zset-max-listpack-entries", "4", "--set-max-intset-entries", "4")
    expected = {}
    r.set("str", "value")
    r.set("int", 123456)
    r.set("big", b"q" * 5000)
    r.setex("ttl", 1000, "x")
    r.rpush("list", *[b"e%d" % i for i in range(11)], b"77", b"-3")
    r.rpush("biglist", b"L" * 20000, b"tail")
    r.sadd("iset", 1, 2, 3)
    r.sadd("hset", 1, 2, 3, 4, 5)
    r.sadd("sset", "a", "b")
    r.hset("hlp", mapping={"a": "1", "b": "2"})
    r.hset("hht", mapping={"f%d" % i: "v%d" % i for i in range(10)})
    r.zadd("zlp", {"a": 1, "b": 2.5})
    r.zadd("zsl", {"m%d" % i: i * 1.25 for i in range(10)})
    for key in r.keys():
        expected[key] = neutral(r, key)
    encodings = {k: r.object("encoding", k).decode() for k in expected}
    assert set(encodings.values()) >= {"embstr", "int", "raw", "quicklist", "intset",
                                       "hashtable", "listpack", "skiplist"}
    r.function_load(LIB_CODE.decode())
    assert r.save()
    events = list(RdbReader(open(os.path.join(proc.cwd, "dump.rdb"), "rb"), chunk_size=512))
    entries = {e.key: e for e in events if isinstance(e, KeyEntry)}
    assert set(entries) == set(expected)
    for key, (kind, value) in expected.items():
        e = entries[key]
        assert (e.kind, canon(e.kind, e.value)) == (kind, value), key
    assert entries[b"ttl"].expire_ms > time.time() * 1000
    assert [e.code for e in events if isinstance(e, FunctionLibrary)] == [LIB_CODE]
    aux = {e.name: e.value for e in events if isinstance(e, Aux)}
    assert aux[b"redis-ver"] == b"7.0.15" and aux[b"redis-bits"] == b"64"

    # Writing the same events back with the encodings Redis used gives Redis's file,
    # byte for byte (same aux values, same key order, list nodes cut with its fill).
    encoding_of = {0: None, 18: "quicklist", 11: "intset", 2: "hashtable", 16: "listpack",
                   4: "hashtable", 17: "listpack", 5: "skiplist"}
    out = io.BytesIO()
    w = RdbWriter(out, fill=4)
    for e in events:
        if isinstance(e, Aux):
            w.write_aux(e.name, e.value)
        elif isinstance(e, FunctionLibrary):
            w.write_function(e.code)
        elif isinstance(e, ResizeDb):
            w.select_db(0, e.db_size, e.expires_size)
        elif isinstance(e, KeyEntry):
            w.write_key(e.key, e.kind, e.value, encoding_of[e.rdb_type], e.expire_ms)
    w.finish()
    assert out.getvalue() == open(os.path.join(proc.cwd, "dump.rdb"), "rb").read()


def test_dump_payloads_both_ways(servers):
    proc, r = servers()
    r.set("s", "hello world " * 10)
    r.set("n", "-42")
    r.rpush("l", *[b"%d" % i for i in range(300)], b"x" * 5000)
    r.sadd("si", 5, 6, -70000)
    r.sadd("sh", "x", "y")
    r.hset("h", mapping={"a": "1", "bb": "hello"})
    r.zadd("z", {"a": 1.5, "b": -1, "c": 3})
    r.zadd("zs", {"m%d" % i: i + 0.5 for i in range(200)})
    for key in ("s", "n", "l", "si", "sh", "h", "z", "zs"):
        payload = r.dump(key)
        kind, value = load_payload(payload)
        assert (kind, canon(kind, value)) == neutral(r, key), key
        enc = r.object("encoding", key).decode()
        ours = dump_payload(kind, value, None if kind == "string" else enc)
        if enc != "hashtable":
            assert ours == payload, key             # byte for byte
        r.restore(key + "-copy", 0, ours)
        assert neutral(r, key + "-copy") == neutral(r, key)
        assert r.object("encoding", key + "-copy").decode() == enc
    # A wrong checksum / newer version / broken body, as RESTORE reports them.
    payload = bytearray(r.dump("s"))
    payload[-1] ^= 1
    with pytest.raises(DumpPayloadError):
        load_payload(bytes(payload))
    with pytest.raises(redis.ResponseError, match="version or checksum"):
        r.restore("bad", 0, bytes(payload))
    assert load_payload(bytes(payload), skip_checksum=True)[1] == b"hello world " * 10
    bad_body = b"\x02\x02\x01a\x01a\x0a\x00"         # a set with a duplicate member
    from commands.rdb.checksum import crc64
    bad_body += crc64(bad_body).to_bytes(8, "little")
    with pytest.raises(BadDataFormat):
        load_payload(bad_body)
    with pytest.raises(redis.ResponseError, match="Bad data format"):
        r.restore("bad", 0, bad_body)


def test_redis6_encodings_load_in_redis7(servers, tmp_path):
    legacy = [
        (b"zl:list", RDB_TYPE_LIST_ZIPLIST, "list",
         [b"a", b"12", b"-1", b"300", b"70000", b"5000000000", b"x" * 300, b"7"]),
        (b"zl:hash", RDB_TYPE_HASH_ZIPLIST, "hash", [(b"f", b"1"), (b"g", b"value")]),
        (b"zl:zset", RDB_TYPE_ZSET_ZIPLIST, "zset", [(b"a", 1.0), (b"b", 2.5), (b"c", -3.0)]),
        (b"zm:hash", RDB_TYPE_HASH_ZIPMAP, "hash", [(b"field", b"v"), (b"n" * 300, b"big")]),
        (b"ql:list", RDB_TYPE_LIST_QUICKLIST, "list", [b"%d" % i for i in range(300)]),
        (b"old:list", RDB_TYPE_LIST, "list", [b"a", b"b", b"1000"]),
        (b"old:zset", RDB_TYPE_ZSET, "zset", [(b"a", 0.5), (b"b", float("inf")), (b"c", 7.0)]),
    ]
    path = str(tmp_path / "legacy.rdb")
    with open(path, "wb") as f:
        w = RdbWriter(f)
        w.write_header(ctime=int(time.time()))
        w.select_db(0, len(legacy), 0)
        for key, rdb_type, kind, value in legacy:
            w.write_legacy_key(key, rdb_type, value)
        w.finish()
    check_rdb(path)
    proc, r = servers("--dir", str(tmp_path), "--dbfilename", "legacy.rdb")
    decoded = {e.key: e for e in RdbReader(open(path, "rb")) if isinstance(e, KeyEntry)}
    for key, rdb_type, kind, value in legacy:
        assert neutral(r, key) == (kind, canon(kind, value)), key
        assert decoded[key].rdb_type == rdb_type
        assert (decoded[key].kind, canon(kind, decoded[key].value)) == (kind, canon(kind, value))


def test_rdbchecksum_no_and_truncation_vs_redis(servers, tmp_path):
    """A file without checksum loads in Redis and in our reader; a truncated one fails
    in both."""
    keys = [(b"k%d" % i, "string", b"v%d" % i, None, None) for i in range(100)]
    path = str(tmp_path / "nocrc.rdb")
    with open(path, "wb") as f:
        w = RdbWriter(f, checksum=False)
        w.write_header(ctime=0)
        w.select_db(0, len(keys), 0)
        for k in keys:
            w.write_key(*k)
        w.finish()
    data = open(path, "rb").read()
    assert data.endswith(b"\x00" * 8)
    check_rdb(path)
    assert sum(isinstance(e, KeyEntry) for e in RdbReader(io.BytesIO(data))) == 100
    proc, r = servers("--dir", str(tmp_path), "--dbfilename", "nocrc.rdb")
    assert r.dbsize() == 100
    cut = str(tmp_path / "cut.rdb")
    open(cut, "wb").write(data[:len(data) // 2])
    out = subprocess.run(["redis-check-rdb", cut], capture_output=True, text=True, timeout=60)
    assert "RDB looks OK" not in out.stdout
