"""Round trips and the file/payload level of the RDB codec (commands/rdb):
every encoding through encode_value/decode_value and DUMP payloads, the incremental
writer and reader (any chunk size, truncation, checksum, opcodes), and the errors."""
import io
import math
import struct

import pytest
from hypothesis import given, settings, strategies as st

from commands.rdb import (Aux, BadDataFormat, DumpPayloadError, FunctionLibrary,
                                  KeyEntry, RdbError, RdbReader, RdbWriter, ResizeDb,
                                  SelectDb, decode_value, dump_payload, encode_legacy,
                                  encode_value, load_payload, write_rdb)
from commands.rdb.checksum import crc64
from commands.rdb.rdb_constants import (
    RDB_TYPE_HASH_ZIPLIST, RDB_TYPE_HASH_ZIPMAP, RDB_TYPE_LIST, RDB_TYPE_LIST_QUICKLIST,
    RDB_TYPE_LIST_ZIPLIST, RDB_TYPE_ZSET, RDB_TYPE_ZSET_ZIPLIST)

# Strings biased towards the interesting shapes: integers at encoding edges, short,
# long and compressible.
ints = st.sampled_from([0, 12, 13, 127, 128, -1, 4095, 4096, -4097, 32767, 32768,
                        2 ** 23, -2 ** 23 - 1, 2 ** 31, -2 ** 31, 2 ** 63 - 1, -2 ** 63]) | st.integers()
element = st.one_of(
    st.binary(max_size=80),
    ints.map(lambda i: b"%d" % i),
    st.builds(lambda c, n: c * n, st.binary(min_size=1, max_size=3), st.integers(0, 3000)),
)
scores = st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0, 1.0, 2.0 ** 62, 2.0 ** 62 + 2048,
                                                       -2.0 ** 62, 0.1, math.inf, -math.inf])


def canon(kind, value):
    return sorted(value) if kind in ("set", "hash", "zset") else value


def roundtrip(kind, value, encoding, **options):
    rdb_type, body = encode_value(kind, value, encoding, **options)
    k, v, end = decode_value(rdb_type, body)
    assert end == len(body)
    assert (k, canon(k, v)) == (kind, canon(kind, value))
    k, v = load_payload(dump_payload(kind, value, encoding, **options))
    assert (k, canon(k, v)) == (kind, canon(kind, value))
    return rdb_type


@settings(max_examples=150, deadline=None, derandomize=True)
@given(element, st.booleans())
def test_string_round_trip(s, compress):
    assert roundtrip("string", s, None, compress=compress) == 0


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(element, min_size=1, max_size=60), st.sampled_from([-5, -2, -1, 1, 3, 128]),
       st.sampled_from([20, 1 << 30]), st.booleans())
def test_list_round_trip(items, fill, packed_threshold, compress):
    assert roundtrip("list", items, "quicklist", fill=fill, packed_threshold=packed_threshold,
                     compress=compress) == 18


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.sets(ints.filter(lambda i: -2 ** 63 <= i < 2 ** 63), min_size=1, max_size=60))
def test_intset_round_trip(values):
    assert roundtrip("set", [b"%d" % v for v in values], "intset") == 11


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.sets(element, min_size=1, max_size=60), st.sampled_from(["hashtable", None]))
def test_set_round_trip(members, encoding):
    roundtrip("set", list(members), encoding)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.dictionaries(element, element, min_size=1, max_size=40),
       st.sampled_from(["listpack", "hashtable"]))
def test_hash_round_trip(mapping, encoding):
    assert roundtrip("hash", list(mapping.items()), encoding) == (16 if encoding == "listpack" else 4)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.dictionaries(element, scores, min_size=1, max_size=40),
       st.sampled_from(["listpack", "skiplist"]))
def test_zset_round_trip(mapping, encoding):
    value = [(m, s) for m, s in mapping.items()]
    rdb_type, body = encode_value("zset", value, encoding)
    _, decoded, _ = decode_value(rdb_type, body)
    # -0.0 goes into a listpack as the integer 0 (as in Redis); otherwise exact.
    assert sorted((m, s + 0.0) for m, s in decoded) == sorted((m, s + 0.0) for m, s in value)
    ordered = [s for _, s in decoded]
    if encoding == "listpack":
        assert ordered == sorted(ordered)           # listpacks hold members by score


def test_zset_listpack_score_entries():
    _, body = encode_value("zset", [(b"a", 1.5), (b"b", 3.0), (b"c", math.inf), (b"d", 0.1)],
                           "listpack", compress=False)
    # members ascending by score; 3.0 is the integer entry 3; others d2string text
    assert b"\x81d\x02\x930.10000000000000001\x14\x81a\x02\x831.5\x04\x81b\x02\x03\x01" in body
    assert b"\x83inf\x04" in body


@pytest.mark.parametrize("rdb_type, kind, value", [
    (RDB_TYPE_LIST, "list", [b"a", b"1", b"x" * 100]),
    (RDB_TYPE_ZSET, "zset", [(b"a", 1.5), (b"b", math.inf), (b"c", -math.inf), (b"d", 3.0)]),
    (RDB_TYPE_HASH_ZIPMAP, "hash", [(b"f", b"v"), (b"g" * 300, b"")]),
    (RDB_TYPE_LIST_ZIPLIST, "list", [b"a", b"7", b"-70000", b"x" * 20000]),
    (RDB_TYPE_ZSET_ZIPLIST, "zset", [(b"a", 1.0), (b"b", 2.5)]),
    (RDB_TYPE_HASH_ZIPLIST, "hash", [(b"a", b"1"), (b"b", b"2")]),
    (RDB_TYPE_LIST_QUICKLIST, "list", [b"%d" % i for i in range(500)]),
])
def test_legacy_types_decode(rdb_type, kind, value):
    body = encode_legacy(rdb_type, value)
    k, v, end = decode_value(rdb_type, body)
    assert (k, canon(k, v), end) == (kind, canon(kind, value), len(body))


@pytest.mark.parametrize("rdb_type, body, why", [
    (2, b"\x02\x01a\x01a", "Duplicate set members"),
    (4, b"\x02\x01a\x01x\x01a\x01y", "Duplicate hash fields"),
    (5, b"\x01\x01a" + struct.pack("<d", math.nan), "NAN"),
    (3, b"\x01\x01a\xfd", "NAN"),
    (3, b"\x01\x01a\x03abc", "Invalid sorted set score"),
    (16, b"\x0c\x0c\x00", "Unexpected EOF"),
    (16, b"\x09\x09\x00\x00\x00\x01\x00\x01\x01\xff", "odd number"),
    (18, b"\x01\x03\x00", "Quicklist integrity"),
    (18, b"\x01\x02\x00", "zero bytes"),
    (15, b"\x01\x05short", "not the size of a stream ID"),
    (19, b"\x00\x00\x00", "Unexpected EOF"),
    (7, b"\x00", "module"),
    (21, b"\x00", "RDB type 21"),
    (8, b"\x00", "Unknown RDB type 8"),
    (2, b"\x80\xff\xff\xff\xff", "Unexpected EOF"),              # 4G members in 0 bytes
    (0, b"\x81\xff\xff\xff\xff\xff\xff\xff\xff", "Unexpected EOF"),
])
def test_decode_errors(rdb_type, body, why):
    with pytest.raises(RdbError, match=why):
        decode_value(rdb_type, body)


def test_hash_listpack_duplicate_field():
    from commands.rdb import listpack
    from commands.rdb.rdb_strings import encode_string
    body = encode_string(listpack.encode([b"f", b"1", b"f", b"2"]))
    with pytest.raises(RdbError, match="Duplicate hash fields"):
        decode_value(16, body)


def test_encoder_refuses_bad_arguments():
    with pytest.raises(ValueError):
        encode_value("set", [b"a"], "intset")
    with pytest.raises(ValueError):
        encode_value("list", [b"a"], "ziplist")
    with pytest.raises(ValueError):
        encode_value("hash", [], "listpack")
    with pytest.raises(ValueError):
        encode_value("zset", [(b"a", math.nan)], "skiplist")
    with pytest.raises(ValueError):
        encode_value("stream", [], None)


# --------------------------------------------------------------------------- payloads

def test_payload_footer():
    p = dump_payload("string", b"hello")
    assert p[:7] == b"\x00\x05hello" and p[7:9] == b"\x0a\x00"
    assert struct.unpack("<Q", p[9:])[0] == crc64(p[:9])
    for bad in (p[:9], p[:-1] + bytes([p[-1] ^ 1]), p[:7] + b"\x0b\x00" + p[9:]):
        with pytest.raises(DumpPayloadError, match="version or checksum"):
            load_payload(bad)
    # skip_checksum skips only the CRC, never the version check
    assert load_payload(p[:-1] + bytes([p[-1] ^ 1]), skip_checksum=True) == ("string", b"hello")
    newer = p[:7] + b"\x0b\x00" + p[9:]
    with pytest.raises(DumpPayloadError):
        load_payload(newer, skip_checksum=True)
    # an older version is fine (RDB 9 payloads from Redis 6)
    old = p[:7] + b"\x09\x00"
    assert load_payload(old + struct.pack("<Q", crc64(old))) == ("string", b"hello")


def with_footer(body):
    body += b"\x0a\x00"
    return body + struct.pack("<Q", crc64(body))


@pytest.mark.parametrize("body", [b"", b"\x08\x00", b"\x02\x00", b"\x00\x05ab",
                                  b"\x0f\x00", b"\x02\x02\x01a\x01a"])
def test_payload_bad_data(body):
    with pytest.raises(BadDataFormat):
        load_payload(with_footer(body))


# --------------------------------------------------------------------------- files

KEYS = [
    (b"s", "string", b"plain", None, None),
    (b"n", "string", b"-12345", None, 1_900_000_000_000),
    (b"big", "string", b"z" * 50_000, None, None),
    (b"l", "list", [b"%d" % i for i in range(3000)], "quicklist", None),
    (b"i", "set", [b"3", b"1", b"2"], "intset", None),
    (b"h", "hash", [(b"a", b"1")], "listpack", 1_800_000_000_000),
    (b"z", "zset", [(b"m", 2.0)], "skiplist", None),
]


def make_file(checksum=True, **header):
    f = io.BytesIO()
    w = RdbWriter(f, checksum=checksum, chunk_size=64)
    w.write_header(ctime=1_700_000_000, used_mem=1234, **header)
    w.write_function(b"#!lua name=lib\nredis.register_function('f', function() return 1 end)")
    w.select_db(0, len(KEYS), 2)
    for key, kind, value, enc, expire in KEYS:
        w.write_key(key, kind, value, enc, expire)
    w.write_key(b"lru", "string", b"x", idle=1000, freq=None)
    w.write_key(b"lfu", "string", b"x", freq=200)
    w.finish()
    return f.getvalue()


def test_file_layout_and_events():
    data = make_file(repl_id="a" * 40, repl_offset=99, repl_stream_db=0)
    assert data[:9] == b"REDIS0010"
    assert struct.unpack("<Q", data[-8:])[0] == crc64(data[:-8])
    events = list(RdbReader(io.BytesIO(data)))
    aux = [e for e in events if isinstance(e, Aux)]
    assert [a.name for a in aux] == [b"redis-ver", b"redis-bits", b"ctime", b"used-mem",
                                     b"repl-stream-db", b"repl-id", b"repl-offset", b"aof-base"]
    assert aux[0].value == b"7.0.15" and aux[1].value == b"64" and aux[5].value == b"a" * 40
    assert b"\xfa\x0aredis-bits\xc0\x40" in data          # integers as int-encoded strings
    assert isinstance(events[8], FunctionLibrary)
    assert events[9:11] == [SelectDb(0), ResizeDb(len(KEYS), 2)]
    entries = [e for e in events if isinstance(e, KeyEntry)]
    for e, (key, kind, value, enc, expire) in zip(entries, KEYS):
        assert (e.key, e.kind, canon(kind, e.value), e.expire_ms) == (key, kind, canon(kind, value), expire)
    assert (entries[-2].idle, entries[-2].freq) == (1000, None)
    assert (entries[-1].idle, entries[-1].freq) == (None, 200)


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 100, 4096, 1 << 20])
def test_reader_any_chunk_size(chunk_size):
    data = make_file()
    expected = list(RdbReader(io.BytesIO(data)))

    class Trickle(io.RawIOBase):        # a socket-like stream: short reads
        def __init__(self):
            self.pos = 0

        def read(self, n=-1):
            n = min(n, 3) if n > 0 else 3
            chunk = data[self.pos:self.pos + n]
            self.pos += len(chunk)
            return chunk

    assert list(RdbReader(io.BytesIO(data), chunk_size=chunk_size)) == expected
    assert list(RdbReader(Trickle(), chunk_size=chunk_size)) == expected


def test_reader_truncation_everywhere():
    data = make_file()
    for cut in list(range(0, 300)) + list(range(300, len(data), 997)) + [len(data) - 1]:
        with pytest.raises(RdbError) as info:
            list(RdbReader(io.BytesIO(data[:cut]), chunk_size=50))
        assert type(info.value) is RdbError


def test_reader_does_not_chase_impossible_lengths(tmp_path):
    """A declared length past the end of a file (or of a stated size) fails without
    reading the rest of the stream."""
    data = b"REDIS0010\x00\x01k\x81" + (1 << 60).to_bytes(8, "big") + b"x" * 100_000

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, n=-1):
            chunk = super().read(n)
            Counting.read_bytes += len(chunk)
            return chunk

    with pytest.raises(RdbError, match="Unexpected EOF"):
        list(RdbReader(Counting(data), chunk_size=64, size=len(data)))
    assert Counting.read_bytes < 1000
    path = tmp_path / "big.rdb"
    path.write_bytes(data)
    with open(path, "rb") as f:
        reader = RdbReader(f, chunk_size=64)
        assert reader._limit == len(data)
        with pytest.raises(RdbError, match="Unexpected EOF"):
            list(reader)
        assert f.tell() < 1000


def test_reader_checksum():
    data = bytearray(make_file())
    data[data.index(b"plain")] ^= 0x01      # inside a value: still well formed
    with pytest.raises(RdbError, match="CRC"):
        list(RdbReader(io.BytesIO(bytes(data))))
    assert list(RdbReader(io.BytesIO(bytes(data)), verify_checksum=False))
    nocrc = make_file(checksum=False)
    assert nocrc[-8:] == b"\x00" * 8
    reader = RdbReader(io.BytesIO(nocrc))
    assert len(list(reader)) == len(list(RdbReader(io.BytesIO(make_file()))))
    assert reader.checksum == 0


def test_reader_unconsumed_and_unknown_aux():
    f = io.BytesIO()
    w = RdbWriter(f)
    w.write_aux("x-unknown-field", "whatever")
    w.finish()
    data = f.getvalue()
    reader = RdbReader(io.BytesIO(data + b"TRAILER"))
    assert list(reader) == [Aux(b"x-unknown-field", b"whatever")]
    assert reader.unconsumed == b"TRAILER"


def test_reader_refusals():
    def rdb(body):
        data = b"REDIS0010" + body + b"\xff"
        return io.BytesIO(data + struct.pack("<Q", crc64(data)))
    with pytest.raises(RdbError, match="AUX module data"):
        list(RdbReader(rdb(b"\xf7\x01\x02\x00")))
    with pytest.raises(RdbError, match="stream ID"):
        list(RdbReader(rdb(b"\x13\x01k\x01\x01x")))
    with pytest.raises(RdbError, match="signature"):
        list(RdbReader(io.BytesIO(b"RADIS0010\xff")))
    with pytest.raises(RdbError, match="version"):
        list(RdbReader(io.BytesIO(b"REDIS0011\xff" + b"\x00" * 8)))
    # empty collections are skipped, as Redis does when loading a file
    reader = RdbReader(rdb(b"\x02\x01k\x00\x00\x01s\x01v"))
    assert [e.key for e in reader] == [b"s"] and reader.empty_keys_skipped == 1


def test_old_versions_and_opcodes():
    # RDB 3 (no checksum), EXPIRETIME in seconds, a 7.0-rc FUNCTION record
    body = (b"REDIS0003\xfd" + struct.pack("<i", 1_000_000) + b"\x00\x01k\x01v"
            + b"\xf6\x03lib\x03lua\x00\x04code" + b"\xff")
    events = list(RdbReader(io.BytesIO(body)))
    assert events[0] == KeyEntry(0, b"k", "string", b"v", 1_000_000_000, None, None, 0)
    assert events[1] == FunctionLibrary(b"#!lua name=lib\ncode")


def test_writer_streams_in_chunks():
    class Sink:
        def __init__(self):
            self.writes = []

        def write(self, b):
            self.writes.append(len(b))

    sink = Sink()
    w = RdbWriter(sink, chunk_size=1 << 16)
    w.select_db(0, 50_000, 0)
    for i in range(50_000):
        w.write_key(b"key:%d" % i, "string", b"value-%d" % i)
    w.finish()
    assert len(sink.writes) > 10 and max(sink.writes) < 1 << 18


def test_long_keys_are_compressed_like_values():
    """rdbSaveStringObject(key) goes through rdbSaveRawString: a key over 20 bytes is
    LZF-compressed when that pays, like any string."""
    f = io.BytesIO()
    w = RdbWriter(f)
    w.write_key(b"k" * 40, "string", b"v")
    w.write_key(b"12345", "string", b"v")
    w.finish()
    data = f.getvalue()
    assert b"\x00\xc3" in data and b"k" * 40 not in data
    assert b"\x00\xc1\x39\x30\x01v" in data                 # key 12345 as an int16
    assert [e.key for e in RdbReader(io.BytesIO(data))] == [b"k" * 40, b"12345"]


def test_payload_from_bytearray_gives_bytes():
    kind, value = load_payload(bytearray(dump_payload("list", [b"a", b"b"])))
    assert value == [b"a", b"b"] and all(type(v) is bytes for v in value)


def test_refused_key_leaves_no_trace():
    f = io.BytesIO()
    w = RdbWriter(f)
    for bad in [(b"k", "set", [b"x"], "intset", 5), (b"k", "string", "text", None, 5),
                (b"k", "hash", [], "listpack", None), (b"k", "list", [b"a"], "ziplist", 5)]:
        with pytest.raises((ValueError, TypeError)):
            w.write_key(*bad)
    w.write_key(b"ok", "string", b"v")
    w.finish()
    assert list(RdbReader(io.BytesIO(f.getvalue()))) == [
        KeyEntry(0, b"ok", "string", b"v", None, None, None, 0)]


def test_write_rdb_helper():
    f = io.BytesIO()
    write_rdb(f, [(b"k", "string", b"v", None, None)], header={"ctime": 0})
    f.seek(0)
    assert [e.key for e in RdbReader(f) if isinstance(e, KeyEntry)] == [b"k"]
