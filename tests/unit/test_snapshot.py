"""The full-sync snapshot chunks: round trip of every value type with TTLs, whole slots per
chunk within a budget, and a chunk's slot range replacing what the replica held there."""
import pytest

from cluster.slots import CLUSTER_SLOTS
from commands.data import value_codec
from commands.data.keyspace import Keyspace, now_ms, slot_of
from commands.replication.snapshot import SnapshotError, encode_end, encode_slots, load_chunk
from tests.unit.test_dump_payload import SAMPLES, _client, _run, lookup_command


def _payload(chunk: bytes) -> bytes:
    """The bulk string's body (what the replica's RESP reader hands to load_chunk)."""
    header, rest = chunk.split(b"\r\n", 1)
    assert header[:1] == b"$" and rest.endswith(b"\r\n")
    body = rest[:-2]
    assert int(header[1:]) == len(body)
    return body


def _sync(src: Keyspace, dst: Keyspace, budget=64 * 1024) -> int:
    slot, chunks = 0, 0
    while slot < CLUSTER_SLOTS:
        chunk, nxt = encode_slots(src, slot, budget)
        assert nxt > slot
        kind, _ = load_chunk(dst, _payload(chunk))
        assert kind == "slots"
        slot, chunks = nxt, chunks + 1
    return chunks


def _plain(ks, key):
    kind, neutral, _ = value_codec.to_saved(ks.peek(key))
    return kind, neutral


def _populated():
    c = _client()
    built = []
    for type_name, cases in SAMPLES.items():
        if type_name not in value_codec.registered_types():
            continue
        for case_id, commands in cases:
            if lookup_command([commands[0][0].encode()])[0] is None:
                continue
            key = "%s-%s" % (type_name, case_id)
            for args in commands:
                _run(c, *[key if a == "k" else a for a in args])
            built.append(key.encode())
    return c, built


def test_round_trip_of_every_registered_type_with_ttls():
    c, keys = _populated()
    src = c.server.keyspace
    when = now_ms() + 100000
    src.expire_at(keys[0], when)
    for i in range(3000):
        src.set(b"k%d" % i, b"v%d" % i)
    dst = Keyspace()
    chunks = _sync(src, dst, budget=8 * 1024)
    assert chunks > 3                 # the budget splits the keyspace
    assert dst.size == src.size
    for key in keys + [b"k0", b"k2999"]:
        a, b = _plain(src, key), _plain(dst, key)
        if value_codec.registered_types()[a[0]].unordered:
            a, b = (a[0], sorted(a[1])), (b[0], sorted(b[1]))
        assert a == b, key
    assert dst.expires == {keys[0]: when}


def test_expired_keys_are_not_sent():
    src, dst = Keyspace(), Keyspace()
    src.set(b"live", b"1")
    src.set(b"gone", b"2")
    src.expires[b"gone"] = now_ms() - 10   # expired but not yet deleted
    _sync(src, dst)
    assert dst.peek(b"live") == b"1" and dst.peek(b"gone") is None


def test_a_chunk_replaces_its_slot_range_on_the_replica():
    src, dst = Keyspace(), Keyspace()
    src.set(b"a", b"new")
    dst.set(b"a", b"old")
    dst.set(b"stale", b"x")           # not on the master any more
    chunk, end = encode_slots(src, 0, budget=1 << 30)
    assert end == CLUSTER_SLOTS
    load_chunk(dst, _payload(chunk))
    assert dst.peek(b"a") == b"new" and dst.peek(b"stale") is None
    assert dst.size == 1


def test_slots_outside_the_chunk_are_untouched():
    src, dst = Keyspace(), Keyspace()
    key = b"x"
    slot = slot_of(key)
    dst.set(key, b"keep")
    src.set(b"y", b"1")
    chunk, end = encode_slots(src, slot + 1, budget=1 << 30)
    load_chunk(dst, _payload(chunk))
    assert dst.peek(key) == b"keep"


def test_whole_slots_even_past_the_budget():
    src = Keyspace()
    for i in range(200):
        src.set(b"{tag}%d" % i, b"v" * 100)
    slot = slot_of(b"{tag}")
    chunk, end = encode_slots(src, 0, budget=10)
    assert end == slot + 1            # the big slot is not split
    dst = Keyspace()
    load_chunk(dst, _payload(chunk))
    assert dst.size == 200


def test_end_marker_and_malformed_chunks():
    assert load_chunk(Keyspace(), _payload(encode_end(12345))) == ("end", 12345)
    for bad in (b"", b"Z", b"S\xc1", b"E\x91\xa1x", b"S\x92\x00\xcd\x50\x00"):
        with pytest.raises(SnapshotError):
            load_chunk(Keyspace(), bad)
