"""Corrupt and truncated RDB files / DUMP payloads raise RdbError and nothing else: no
IndexError, struct.error, MemoryError, UnicodeError... (hypothesis flips bytes, cuts,
and splices garbage into valid data covering every type)."""
import io
import math

from hypothesis import HealthCheck, given, settings, strategies as st

from commands.rdb import RdbError, RdbReader, RdbWriter, dump_payload, load_payload
from commands.rdb.rdb_constants import (
    RDB_TYPE_HASH_ZIPLIST, RDB_TYPE_HASH_ZIPMAP, RDB_TYPE_LIST, RDB_TYPE_LIST_QUICKLIST,
    RDB_TYPE_LIST_ZIPLIST, RDB_TYPE_ZSET, RDB_TYPE_ZSET_ZIPLIST)

VALUES = [
    ("string", b"short", None), ("string", b"-123", None), ("string", b"q" * 200, None),
    ("list", [b"a", b"1", b"-70000", b"x" * 70, b"y" * 5000], "quicklist"),
    ("set", [b"1", b"5", b"-3"], "intset"), ("set", [b"a", b"b"], "hashtable"),
    ("hash", [(b"f", b"1"), (b"g", b"v" * 100)], "listpack"), ("hash", [(b"f", b"v")], "hashtable"),
    ("zset", [(b"a", 1.5), (b"b", -math.inf), (b"c", 7.0)], "listpack"),
    ("zset", [(b"a", 1.5), (b"b", 2.0)], "skiplist"),
]
LEGACY = [
    (RDB_TYPE_LIST, [b"a", b"2"]), (RDB_TYPE_ZSET, [(b"a", 1.5), (b"b", math.inf)]),
    (RDB_TYPE_HASH_ZIPMAP, [(b"f", b"v"), (b"g", b"w")]),
    (RDB_TYPE_LIST_ZIPLIST, [b"a", b"12", b"-300", b"x" * 300]),
    (RDB_TYPE_ZSET_ZIPLIST, [(b"a", 1.0), (b"b", 2.5)]),
    (RDB_TYPE_HASH_ZIPLIST, [(b"a", b"1"), (b"b", b"2")]),
    (RDB_TYPE_LIST_QUICKLIST, [b"1", b"two", b"3"]),
]


def build_file():
    f = io.BytesIO()
    w = RdbWriter(f, packed_threshold=4000, compress=False)
    w.write_header(ctime=0, used_mem=1)
    w.write_function(b"#!lua name=x\n")
    w.select_db(0, len(VALUES) + len(LEGACY), 1)
    for i, (kind, value, enc) in enumerate(VALUES):
        w.write_key(b"k%d" % i, kind, value, enc, expire_ms=5 if i == 0 else None,
                    idle=3 if i == 1 else None, freq=4 if i == 2 else None)
    for i, (rdb_type, value) in enumerate(LEGACY):
        w.write_legacy_key(b"L%d" % i, rdb_type, value)
    w.finish()
    return f.getvalue()


FILE = build_file()
PAYLOADS = [dump_payload(kind, value, enc, compress=False) for kind, value, enc in VALUES]


def mutations(data):
    """Strategies: flip bytes, truncate, splice random bytes in."""
    n = len(data)
    flips = st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, 255)), min_size=1, max_size=4)

    def flip(edits):
        b = bytearray(data)
        for i, x in edits:
            b[i] ^= x
        return bytes(b)

    return st.one_of(
        flips.map(flip),
        st.integers(0, n - 1).map(lambda i: data[:i]),
        st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=12))
          .map(lambda t: data[:t[0]] + t[1] + data[t[0]:]),
    )


def read_all(data, **options):
    for _ in RdbReader(io.BytesIO(data), **options):
        pass


@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutations(FILE), st.sampled_from([3, 64, 1 << 16]))
def test_corrupt_files_raise_rdb_error_only(data, chunk_size):
    try:
        # No checksum check: otherwise nearly every flip would be caught by the CRC and
        # the value decoders would see little of the damage.
        read_all(data, verify_checksum=False, chunk_size=chunk_size)
    except RdbError:
        pass


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.sampled_from(range(len(PAYLOADS))).flatmap(lambda i: mutations(PAYLOADS[i])))
def test_corrupt_payloads_raise_rdb_error_only(payload):
    try:
        load_payload(payload, skip_checksum=True)
    except RdbError:
        pass


def test_valid_inputs_are_accepted():
    read_all(FILE)
    for p in PAYLOADS:
        load_payload(p)
