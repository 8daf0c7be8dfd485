"""Byte-level checks of the RDB codec's building blocks (commands/rdb): RDB
lengths and strings, listpack entries at every size boundary, intset widths, ziplist
and zipmap, quicklist node splitting. The expected bytes are worked out from Redis
7.0's listpack.c / rdb.c / quicklist.c rules (see the module docstrings)."""
import struct

import pytest

from commands.rdb import RdbError, listpack, intset, quicklist, ziplist, zipmap
from commands.rdb.rdb_strings import (canonical_int, encode_length, encode_string,
                                              read_length, read_string)


@pytest.mark.parametrize("text, value", [
    (b"0", 0), (b"-1", -1), (b"123", 123), (b"9223372036854775807", 2 ** 63 - 1),
    (b"-9223372036854775808", -2 ** 63), (b"9223372036854775808", None), (b"007", None),
    (b"-0", None), (b"+1", None), (b" 1", None), (b"1 ", None), (b"", None), (b"-", None),
    (b"1_000", None), (b"\xd9\xa1", None), (b"1.0", None), (b"00", None),
])
def test_canonical_int(text, value):
    assert canonical_int(text) == value


@pytest.mark.parametrize("n, encoded", [
    (0, b"\x00"), (63, b"\x3f"), (64, b"\x40\x40"), (16383, b"\x7f\xff"),
    (16384, b"\x80\x00\x00\x40\x00"), (2 ** 32 - 1, b"\x80\xff\xff\xff\xff"),
    (2 ** 32, b"\x81\x00\x00\x00\x01\x00\x00\x00\x00"),
])
def test_rdb_lengths(n, encoded):
    assert encode_length(n) == encoded
    assert read_length(encoded, 0, len(encoded)) == (n, len(encoded))


@pytest.mark.parametrize("s, encoded", [
    (b"-128", b"\xc0\x80"), (b"127", b"\xc0\x7f"), (b"128", b"\xc1\x80\x00"),
    (b"-32769", b"\xc2\xff\x7f\xff\xff"), (b"2147483647", b"\xc2\xff\xff\xff\x7f"),
    (b"2147483648", b"\x0a2147483648"),            # canonical but needs 64 bits: raw
    (b"-2147483648", b"\xc2\x00\x00\x00\x80"),     # 11 chars, still tried
    (b"01", b"\x0201"), (b"", b"\x00"), (b"abc", b"\x03abc"),
])
def test_rdb_string_forms(s, encoded):
    assert encode_string(s) == encoded
    assert read_string(encoded, 0, len(encoded)) == (s, len(encoded))


def test_rdb_string_lzf_only_when_it_pays():
    s = b"a" * 21
    enc = encode_string(s)
    assert enc[0] == 0xC3
    assert read_string(enc, 0, len(enc)) == (s, len(enc))
    assert encode_string(b"a" * 20) == b"\x14" + b"a" * 20          # <= 20: never
    assert encode_string(s, compress=False) == b"\x15" + s
    rnd = bytes(range(200))                                        # incompressible
    assert encode_string(rnd) == b"\x40\xc8" + rnd


def test_rdb_string_errors():
    with pytest.raises(RdbError, match="Unexpected EOF"):
        read_string(b"\x05abc", 0, 4)
    with pytest.raises(RdbError, match="Unknown RDB string encoding"):
        read_string(b"\xc4", 0, 1)
    with pytest.raises(RdbError, match="LZF"):                     # garbage stream
        read_string(b"\xc3\x03\x0a\xff\xff\xff", 0, 6)
    with pytest.raises(RdbError, match="LZF"):                     # absurd expansion
        read_string(b"\xc3\x01\x80\x00\x10\x00\x00\x00", 0, 8)
    with pytest.raises(RdbError, match="Unknown length encoding"):
        read_length(b"\x82", 0, 1)


def entry(v):
    return listpack.encode_entry(v)


# (element, exact entry bytes: encoding + data + backlen)
LISTPACK_BOUNDARIES = [
    (b"0", b"\x00\x01"), (b"127", b"\x7f\x01"),                                    # 7-bit uint
    (b"128", b"\xc0\x80\x02"), (b"-1", b"\xdf\xff\x02"), (b"4095", b"\xcf\xff\x02"),
    (b"-4096", b"\xd0\x00\x02"),                                                   # 13-bit
    (b"4096", b"\xf1\x00\x10\x03"), (b"-4097", b"\xf1\xff\xef\x03"),
    (b"32767", b"\xf1\xff\x7f\x03"), (b"-32768", b"\xf1\x00\x80\x03"),             # 16-bit
    (b"32768", b"\xf2\x00\x80\x00\x04"), (b"8388607", b"\xf2\xff\xff\x7f\x04"),
    (b"-8388608", b"\xf2\x00\x00\x80\x04"),                                        # 24-bit
    (b"8388608", b"\xf3\x00\x00\x80\x00\x05"), (b"-2147483648", b"\xf3\x00\x00\x00\x80\x05"),
    (b"2147483648", b"\xf4" + struct.pack("<q", 2 ** 31) + b"\x09"),               # 64-bit
    (b"-9223372036854775808", b"\xf4" + struct.pack("<q", -2 ** 63) + b"\x09"),
    (b"9223372036854775808", b"\x93" + b"9223372036854775808" + b"\x14"),          # too big: str
    (b"", b"\x80\x01"), (b"a" * 63, b"\xbf" + b"a" * 63 + b"\x40"),                # 6-bit str
    (b"a" * 64, b"\xe0\x40" + b"a" * 64 + b"\x42"),                                # 12-bit str
    (b"a" * 125, b"\xe0\x7d" + b"a" * 125 + b"\x7f"),                              # backlen 127
    (b"a" * 126, b"\xe0\x7e" + b"a" * 126 + b"\x01\x80"),                          # 128: 2 bytes
    (b"a" * 4095, b"\xef\xff" + b"a" * 4095 + bytes((4097 >> 7, (4097 & 127) | 128))),
    (b"a" * 4096, b"\xf0\x00\x10\x00\x00" + b"a" * 4096
     + bytes((4101 >> 7, (4101 & 127) | 128))),                                    # 32-bit str
    (b"a" * 16377, b"\xf0" + struct.pack("<I", 16377) + b"a" * 16377 + b"\x7f\xfe"),   # 16382: 2 bytes
    (b"a" * 16378, b"\xf0" + struct.pack("<I", 16378) + b"a" * 16378 + b"\x00\xff\xff"),  # 16383: 3
]


@pytest.mark.parametrize("element, encoded", LISTPACK_BOUNDARIES,
                         ids=[repr(e[:12]) + "/%d" % len(e) for e, _ in LISTPACK_BOUNDARIES])
def test_listpack_entry_boundaries(element, encoded):
    assert entry(element) == encoded
    lp = listpack.encode([element, b"x"])
    assert lp[:6] == struct.pack("<IH", len(lp), 2) and lp[-1] == 0xFF
    assert listpack.decode(lp) == [element, b"x"]


def test_listpack_header_count_saturates():
    lp = listpack.encode([b"1"] * 70000)
    assert struct.unpack_from("<H", lp, 4)[0] == 65535
    assert len(listpack.decode(lp)) == 70000


@pytest.mark.parametrize("blob, why", [
    (b"\x07\x00\x00\x00\x00\x00", "shorter"),
    (b"\x08\x00\x00\x00\x00\x00\xff", "header size"),
    (b"\x07\x00\x00\x00\x00\x00\x00", "terminator"),
    (b"\x09\x00\x00\x00\x01\x00\x05\x02\xff", "backlen"),
    (b"\x09\x00\x00\x00\x02\x00\x05\x01\xff", "count"),
    (b"\x09\x00\x00\x00\x01\x00\x85\x01\xff", "past the end"),
    (b"\x09\x00\x00\x00\x01\x00\xf5\x01\xff", "invalid entry"),
    (b"\x0c\x00\x00\x00\x01\x00\xf4\x01\x01\x01\x01\xff", "past the end"),
])
def test_listpack_corruption(blob, why):
    with pytest.raises(RdbError, match=why):
        listpack.decode(blob)


@pytest.mark.parametrize("values, width", [
    ([1, -32768, 32767], 2), ([32768], 4), ([-32769, 5], 4),
    ([2 ** 31 - 1, -2 ** 31], 4), ([2 ** 31], 8), ([-2 ** 63, 2 ** 63 - 1], 8),
])
def test_intset_width(values, width):
    blob = intset.encode([b"%d" % v for v in values])
    assert struct.unpack_from("<II", blob) == (width, len(values))
    assert intset.decode(blob) == [b"%d" % v for v in sorted(values)]


@pytest.mark.parametrize("blob", [
    b"\x02\x00\x00\x00\x00\x00\x00\x00",                         # empty
    b"\x03\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00",             # bad width
    b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00",                 # short
    b"\x02\x00\x00\x00\x02\x00\x00\x00\x02\x00\x01\x00",         # descending
    b"\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x01\x00",         # duplicate
])
def test_intset_corruption(blob):
    with pytest.raises(RdbError, match="Intset"):
        intset.decode(blob)


def test_intset_refuses_non_integers():
    with pytest.raises(ValueError):
        intset.encode([b"1", b"01"])


ZIPLIST_VALUES = [b"", b"a", b"0", b"12", b"13", b"-1", b"127", b"-129", b"40000",
                  b"-8388608", b"8388608", b"2147483648", b"9223372036854775807",
                  b"a" * 63, b"a" * 64, b"a" * 16383, b"a" * 16384, b"x" * 300]


def test_ziplist_round_trip_and_layout():
    zl = ziplist.encode(ZIPLIST_VALUES)
    zlbytes, zltail, zllen = struct.unpack_from("<IIH", zl)
    assert (zlbytes, zllen) == (len(zl), len(ZIPLIST_VALUES))
    assert ziplist.decode(zl) == ZIPLIST_VALUES
    # immediate ints 0..12 are one byte after a one-byte prevlen
    small = ziplist.encode([b"0", b"12"])
    assert small[10:14] == b"\x00\xf1\x02\xfd"
    # an entry after a >= 254-byte entry has a 5-byte prevlen
    two = ziplist.encode([b"x" * 300, b"y"])
    assert two[10 + 303:10 + 303 + 5] == b"\xfe" + struct.pack("<I", 303)
    assert ziplist.decode(two) == [b"x" * 300, b"y"]


@pytest.mark.parametrize("mutate", [
    lambda zl: zl[:-1] + b"\x00",                                 # no terminator
    lambda zl: zl[:4] + b"\x00\x00\x00\x00" + zl[8:],             # bad tail
    lambda zl: zl[:8] + b"\x07\x00" + zl[10:],                    # bad count
    lambda zl: zl[:10] + b"\x05" + zl[11:],                       # bad first prevlen
    lambda zl: zl[:11] + b"\x3f" + zl[12:],                       # string past the end
    lambda zl: zl[:11] + b"\xf0" + zl[12:],                       # int past the end / bad
])
def test_ziplist_corruption(mutate):
    zl = ziplist.encode([b"ab", b"c"])
    with pytest.raises(RdbError):
        ziplist.decode(mutate(zl))


def test_zipmap_round_trip():
    pairs = [(b"f", b"v"), (b"n" * 300, b"w" * 254), (b"", b"")]
    assert zipmap.decode(zipmap.encode(pairs)) == pairs
    assert zipmap.decode(zipmap.encode(pairs, free=3)) == pairs
    for bad in (b"\xff", b"\x01\x01a\x01\x00b", b"\x02\x01a\x01\x00b\xff",
                b"\x01\x05a\x01\x00b\xff", b"\x01\x01a\xff\xff"):
        with pytest.raises(RdbError, match="Zipmap"):
            zipmap.decode(bad)


def node_sizes(nodes):
    return [(c, len(listpack.decode(b)) if c == quicklist.PACKED else len(b)) for c, b in nodes]


def test_quicklist_split_by_size():
    # 100-byte strings: entry 103 bytes; a node takes another while
    # bytes + 100 + 8 <= 8192 (fill -2): 7 + 78*103 + 108 = 8149 -> 79 fit, the 80th does not.
    nodes = quicklist.split([b"x" * 100] * 200)
    assert node_sizes(nodes) == [(2, 79), (2, 79), (2, 42)]
    # fill -1: 4 KB nodes
    assert node_sizes(quicklist.split([b"x" * 100] * 100, fill=-1))[0] == (2, 39)
    # fill below -5 is clamped to -5 (64 KB)
    assert quicklist.split([b"x" * 100] * 1000, fill=-9) == quicklist.split([b"x" * 100] * 1000, fill=-5)


def test_quicklist_split_by_count():
    assert node_sizes(quicklist.split([b"a"] * 10, fill=4)) == [(2, 4), (2, 4), (2, 2)]
    # a count limit still stops at 8 KB
    assert node_sizes(quicklist.split([b"x" * 1000] * 10, fill=100)) == [(2, 8), (2, 2)]
    assert node_sizes(quicklist.split([b"a"] * 3, fill=0)) == [(2, 1)] * 3


def test_quicklist_plain_nodes():
    nodes = quicklist.split([b"a", b"b", b"P" * 50, b"c", b"P" * 60], packed_threshold=50)
    assert node_sizes(nodes) == [(2, 2), (1, 50), (2, 1), (1, 60)]
    assert nodes[1][1] == b"P" * 50
