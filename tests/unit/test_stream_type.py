"""The stream value type on its own: ranges (both directions, across nodes and
tombstones) against a plain sorted model under random appends, deletes and trims; the
neutral form round trip; and that damaged RDB bodies are refused, never crash."""
import random

from commands import load_all_commands
from commands.data.value_codec import from_saved, to_saved
from commands.rdb import encode_value
from commands.rdb.errors import RdbError
from commands.rdb.rdb_decode import decode_value
from commands.streams.stream_type import (MAX_ID, Consumer, ConsumerGroup, Nack, StreamValue,
                                          to_neutral)

load_all_commands()


def _model_check(s, model, rng):
    ids = sorted(model)
    for _ in range(20):
        a, b = sorted(rng.choice(ids + [0, MAX_ID]) for _ in range(2)) if ids else (0, MAX_ID)
        count = rng.choice([0, 1, 3])
        want = [(i, model[i]) for i in ids if a <= i <= b]
        got = s.range(a, b, count)
        assert got == (want[:count] if count else want)
        got = s.range(a, b, count, rev=True)
        want.reverse()
        assert got == (want[:count] if count else want)
    assert s.length == len(model)


def test_ranges_follow_a_plain_model():
    rng = random.Random(7)
    s, model, next_ms = StreamValue(), {}, 1
    for step in range(3000):
        op = rng.random()
        if op < 0.6:
            sid = (next_ms << 64) | rng.randrange(3)
            next_ms += rng.randrange(1, 3)
            flat = (b"f", b"%d" % step) if rng.random() < 0.8 else (b"g", b"x", b"h", b"")
            s.append(sid, flat, 5, 4096)
            model[sid] = flat
        elif op < 0.9 and model:
            sid = rng.choice(list(model))
            assert s.delete(sid)
            del model[sid]
            s.after_deletions(True)
        elif model:
            keep = rng.randrange(len(model) + 1)
            s.trim(maxlen=keep, approx=rng.random() < 0.5)
            for sid in sorted(model)[:len(model) - s.length]:
                del model[sid]
        if step % 100 == 0:
            _model_check(s, model, rng)
    _model_check(s, model, rng)


def _sample_stream():
    s = StreamValue()
    for i in range(1, 300):
        s.append((i << 64) | i, (b"f", b"v%d" % i) if i % 5 else (b"g", b"1", b"h", b"x"),
                 100, 4096)
    s.delete((7 << 64) | 7)
    g = s.groups[b"g"] = ConsumerGroup(5 << 64)
    c = g.consumers[b"c"] = Consumer(b"c")
    for i in (1, 2, 3):
        nack = Nack(c)
        g.pel[(i << 64) | i] = nack
        c.pel[(i << 64) | i] = nack
    return s


def test_neutral_form_round_trips():
    s = _sample_stream()
    kind, neutral, _ = to_saved(s)
    assert to_neutral(from_saved(kind, neutral)) == neutral


def test_damaged_rdb_bodies_are_refused_not_crashed():
    kind, neutral, encoding = to_saved(_sample_stream())
    rdb_type, body = encode_value(kind, neutral, encoding)
    rng = random.Random(5)
    for _ in range(3000):
        damaged = bytearray(body)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        if rng.random() < 0.2:
            damaged = damaged[:rng.randrange(len(damaged))]
        try:
            k, value, _ = decode_value(rdb_type, bytes(damaged))
            from_saved(k, value)
        except (RdbError, ValueError, TypeError, KeyError):
            pass
