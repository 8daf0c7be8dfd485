"""Hypothesis-generated command sequences over strings, keys and expiry, sent to our node
and to redis-server; every reply must match.

The generator keeps to a few keys in one hash slot (so multi-key commands are legal in
cluster mode) and a few values chosen to hit the interesting paths (integers at the
int64 edges, floats, empty and binary strings). Expiry times are either long (so nothing
expires during a run and replies are deterministic) or not positive (the key is deleted
at once, also deterministic). Only clock-dependent replies are compared loosely:
TTL/PTTL within a tolerance, KEYS as a set.
"""
from hypothesis import given
from hypothesis import strategies as st

from tests.differential.sequences import check_sequence, sequence_settings

KEYS = [b"{r}a", b"{r}b", b"{r}c", b"{r}\x00\xff"]
VALUES = [b"", b"0", b"1", b"-1", b"10", b"007", b"abc", b"x\x00y", b"1.5", b"-0.25",
          b"9223372036854775807", b"-9223372036854775808", b"1e3", b"inf", b"z" * 50]
INTS = [b"0", b"1", b"-1", b"3", b"100", b"9223372036854775807", b"-9223372036854775808",
        b"+1", b"1.0", b"x"]
FLOATS = [b"0.1", b"-0.1", b"1", b"1e3", b"2.5e-1", b"-7", b"abc", b"inf", b"0x10"]
LONG_SECONDS = [b"1000", b"2000", b"5000"]
LONG_MS = [b"1000000", b"3000000"]
DEAD = [b"0", b"-1", b"-1000"]          # expire times that delete the key at once

key = st.sampled_from(KEYS)
value = st.sampled_from(VALUES)
integer = st.sampled_from(INTS)


def _expire_options():
    return st.sampled_from([(), (b"NX",), (b"XX",), (b"GT",), (b"LT",), (b"NX", b"GT")])


def _set_options():
    ttl = st.one_of(st.tuples(st.just(b"EX"), st.sampled_from(LONG_SECONDS + [b"0"])),
                    st.tuples(st.just(b"PX"), st.sampled_from(LONG_MS)),
                    st.tuples(st.just(b"EXAT"), st.sampled_from([b"1", b"99999999999"])),
                    st.just((b"KEEPTTL",)), st.just(()))
    cond = st.sampled_from([(), (b"NX",), (b"XX",)])
    get = st.sampled_from([(), (b"GET",)])
    return st.tuples(cond, ttl, get).map(lambda parts: sum(parts, ()))


commands = st.one_of(
    st.tuples(st.just(b"SET"), key, value).map(tuple),
    st.tuples(key, value, _set_options()).map(lambda t: (b"SET", t[0], t[1]) + t[2]),
    st.tuples(st.just(b"GET"), key),
    st.tuples(st.just(b"SETNX"), key, value),
    st.tuples(st.just(b"SETEX"), key, st.sampled_from(LONG_SECONDS + [b"0"]), value),
    st.tuples(st.just(b"GETSET"), key, value),
    st.tuples(st.just(b"GETDEL"), key),
    st.tuples(key, st.sampled_from([(), (b"PERSIST",), (b"EX", b"1000"), (b"PXAT", b"1"),
                                    (b"EX", b"0")]))
      .map(lambda t: (b"GETEX", t[0]) + t[1]),
    st.lists(key, min_size=1, max_size=4).map(lambda ks: (b"MGET", *ks)),
    st.lists(st.tuples(key, value), min_size=1, max_size=3)
      .map(lambda kv: (b"MSET",) + sum(kv, ())),
    st.lists(st.tuples(key, value), min_size=1, max_size=3)
      .map(lambda kv: (b"MSETNX",) + sum(kv, ())),
    st.tuples(st.sampled_from([b"INCR", b"DECR"]), key),
    st.tuples(st.sampled_from([b"INCRBY", b"DECRBY"]), key, integer),
    st.tuples(st.just(b"INCRBYFLOAT"), key, st.sampled_from(FLOATS)),
    st.tuples(st.just(b"APPEND"), key, value),
    st.tuples(st.just(b"STRLEN"), key),
    st.tuples(st.just(b"GETRANGE"), key, integer, integer),
    st.tuples(st.just(b"SETRANGE"), key, st.sampled_from([b"0", b"2", b"10", b"-1"]), value),
    st.lists(key, min_size=1, max_size=3).map(lambda ks: (b"DEL", *ks)),
    st.lists(key, min_size=1, max_size=3).map(lambda ks: (b"EXISTS", *ks)),
    st.lists(key, min_size=1, max_size=3).map(lambda ks: (b"TOUCH", *ks)),
    st.tuples(st.just(b"TYPE"), key),
    st.tuples(st.sampled_from([b"EXPIRE", b"EXPIREAT"]), key,
              st.sampled_from(LONG_SECONDS + DEAD), _expire_options())
      .map(lambda t: t[:3] + t[3]),
    st.tuples(st.just(b"PEXPIRE"), key, st.sampled_from(LONG_MS + DEAD), _expire_options())
      .map(lambda t: t[:3] + t[3]),
    st.tuples(st.just(b"PERSIST"), key),
    st.tuples(st.sampled_from([b"TTL", b"PTTL", b"EXPIRETIME"]), key),
    st.tuples(st.sampled_from([b"RENAME", b"RENAMENX"]), key, key),
    st.tuples(key, key, st.sampled_from([(), (b"REPLACE",)]))
      .map(lambda t: (b"COPY", t[0], t[1]) + t[2]),
    st.tuples(st.just(b"OBJECT"), st.just(b"ENCODING"), key),
    st.tuples(key, key, st.sampled_from([(), (b"LEN",), (b"IDX", b"WITHMATCHLEN")]))
      .map(lambda t: (b"LCS", t[0], t[1]) + t[2]),
    st.tuples(st.just(b"KEYS"), st.sampled_from([b"*", b"{r}[ab]", b"*\\x00*", b"?r?*"])),
    st.just((b"DBSIZE",)),
)


def _same(cmd, ours, ref) -> bool:
    name = cmd[0].upper()
    if ours == ref:
        return True
    if name in (b"TTL", b"PTTL") and ours[0] == ref[0] == ":":
        tolerance = 1 if name == b"TTL" else 1500
        return abs(ours[1] - ref[1]) <= tolerance
    if name == b"EXPIRETIME" and ours[0] == ref[0] == ":":
        return abs(ours[1] - ref[1]) <= 2
    if name == b"KEYS" and ours[0] == ref[0] == "*":
        return sorted(ours[1]) == sorted(ref[1])
    if name == b"OBJECT" and ours == ("$", b"int") and ref == ("$", b"embstr"):
        # Known difference: an integer-looking INCRBYFLOAT result is "embstr" in Redis;
        # we decide encodings from the bytes alone and call it "int".
        return True
    return False


@sequence_settings(60)
@given(st.lists(commands, min_size=1, max_size=25))
def test_random_sequences(diff, sequence):
    check_sequence(diff, sequence, same=_same)
