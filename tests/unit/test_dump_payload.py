"""DUMP payloads in Redis's format: round trips for every registered value type, and
rejection of corrupt, truncated or newer payloads with Redis's two error texts.

The round-trip tests are driven by the codec registry: every type registered with
commands.data.value_codec.register_value_codec is covered, built by real commands from SAMPLES. A
registered type without a sample fails (add one); a sample whose command does not exist
yet is skipped.
"""

import struct

import pytest

from commands import load_all_commands
from commands.data import value_codec
from commands.data.digest import object_digest
from commands.data.hash_type import Hash
from commands.data.keyspace import TYPE_NAMES, Keyspace
from commands.families import dump
from commands.rdb.checksum import crc64
from commands.server.connection import Client
from commands.server.context import Server
from commands.server.executor import call, lookup_command
from commands.server.resp import ReplyError
from commands.server.settings import Settings

load_all_commands()                   # the type modules register their codecs on import

# type name -> list of (case id, commands building key "k")
SAMPLES = {
    "string": [
        ("plain", [["SET", "k", "hello"]]),
        ("empty", [["SET", "k", ""]]),
        ("integer", [["SET", "k", "-9223372036854775808"]]),
        ("binary", [["SET", "k", bytes(range(256))]]),
        ("appended", [["SET", "k", "abc"], ["APPEND", "k", "def"]]),    # a bytearray
        ("large", [["SET", "k", b"x" * (1 << 20)]]),
    ],
    "hash": [("fields", [["HSET", "k", "f1", "v1", "f2", b"\x00\xff", "", "empty"]])],
    "list": [("items", [["RPUSH", "k", "a", "b", "a", ""]])],
    "set": [("members", [["SADD", "k", "x", "y", "z", b"\x00"]]),
            ("integers", [["SADD", "k", "1", "2", "-3"]])],
    "zset": [("scores", [["ZADD", "k", "1.5", "a", "-inf", "b", "inf", "c", "0", "d"]])],
    "stream": [("entries", [["XADD", "k", "1-1", "f", "v"], ["XADD", "k", "2-0", "g", "w"]])],
}


def _client():
    server = Server(Settings(), Keyspace())
    return Client(server)


def _run(c, *args):
    argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    cmd, error = lookup_command(argv)
    if error is not None:
        raise error
    reply = call(c, cmd, argv)
    if isinstance(reply, ReplyError):
        raise reply
    return reply


def _cases():
    for type_name in sorted(value_codec.registered_types()):
        for case_id, commands in SAMPLES.get(type_name, [("no-sample", None)]):
            yield pytest.param(type_name, commands, id="%s-%s" % (type_name, case_id))


@pytest.mark.parametrize("type_name,commands", list(_cases()))
def test_round_trip_every_registered_type(type_name, commands):
    if commands is None:
        pytest.fail("type %r has a DUMP codec but no sample in SAMPLES" % type_name)
    c = _client()
    for args in commands:
        if lookup_command([args[0].encode()])[0] is None:
            pytest.skip("%s does not exist yet" % args[0])
        _run(c, *args)
    ks = c.server.keyspace
    original = ks.get(b"k")
    assert TYPE_NAMES[type(original)] == type_name

    payload = _run(c, "DUMP", "k")
    assert isinstance(payload, bytes)
    _run(c, "RESTORE", "copy", "0", payload)
    restored = ks.get(b"copy")
    if type(original) is not bytes:   # immutable bytes may well be shared
        assert restored is not original
    assert TYPE_NAMES[type(restored)] == type_name
    assert object_digest(restored, False) == object_digest(original, False)
    if not value_codec.registered_types()[type_name].unordered:
        assert dump.dump_payload(restored) == payload
    # The restored value is independent of the original.
    _run(c, "DEL", "k")
    assert object_digest(ks.get(b"copy"), False) == object_digest(restored, False)


def test_every_value_type_has_a_codec():
    """A type without a codec cannot be DUMPed or MIGRATEd (resharding would fail on
    its keys): its module must call commands.data.value_codec.register_value_codec."""
    missing = sorted({name for cls, name in TYPE_NAMES.items()
                      if cls not in value_codec._BY_CLASS})
    assert not missing, "no DUMP codec registered for: %s" % ", ".join(missing)


def test_dump_missing_key_is_nil():
    assert _run(_client(), "DUMP", "nope") is None


def test_strings_restore_as_bytes_and_digest_ignores_representation():
    value = dump.load_payload(dump.dump_payload(bytearray(b"abc")))
    assert type(value) is bytes and value == b"abc"
    assert object_digest(bytearray(b"abc"), False) == object_digest(b"abc", False)
    assert object_digest(b"abc", True) != object_digest(b"abc", False)


# ---------------------------------------------------------------- the footer

def _payload(body: bytes, version: int = 10) -> bytes:
    """A DUMP payload with a right CRC-64 around any body (Redis's footer)."""
    signed = body + struct.pack("<H", version)
    return signed + struct.pack("<Q", crc64(signed))


def test_payload_layout_is_redis_s():
    payload = dump.dump_payload(b"hello")
    assert payload == _payload(b"\x00\x05hello")       # type 0 (string), length 5
    assert int.from_bytes(payload[-10:-8], "little") == 10   # RDB version of Redis 7.0


def _bad_payload(payload):
    with pytest.raises(ReplyError) as info:
        dump.load_payload(payload)
    return info.value.args[0]


def test_a_redis_7_0_payload_restores():
    redis_7_0_dump_of_v = b"\x00\x01v\n\x00\x91\x08\xce\xb2\x198\x8a\xce"
    assert dump.load_payload(redis_7_0_dump_of_v) == b"v"


def test_every_flipped_byte_is_refused():
    payload = dump.dump_payload(b"some value")
    for i in range(len(payload)):
        for bit in (0x01, 0x80):
            corrupt = bytearray(payload)
            corrupt[i] ^= bit
            assert _bad_payload(bytes(corrupt)) in (dump.BAD_PAYLOAD, dump.BAD_FORMAT), \
                (i, bit)


def test_every_truncation_is_refused():
    payload = dump.dump_payload(b"some value")
    for n in range(len(payload)):
        assert _bad_payload(payload[:n]) in (dump.BAD_PAYLOAD, dump.BAD_FORMAT), n


def test_versions_newer_than_ours_are_refused_older_ones_accepted():
    body = b"\x00\x01v"
    for version in range(1, 11):
        assert dump.load_payload(_payload(body, version)) == b"v", version
    for version in (11, 12, 257, 0xFFFF):
        assert _bad_payload(_payload(body, version)) == dump.BAD_PAYLOAD, version


def test_foreign_payloads_are_refused():
    assert _bad_payload(b"garbage") == dump.BAD_PAYLOAD
    assert _bad_payload(b"") == dump.BAD_PAYLOAD
    assert _bad_payload(b"\x01" * 64) == dump.BAD_PAYLOAD


@pytest.mark.parametrize("body", [
    b"",                                  # no type byte
    b"\x63\x01v",                         # unknown type 99
    b"\x00\x05v",                         # length past the end
    b"\x02\x02\x01a\x01a",                # a set with a duplicate member
    b"\x02\x00",                          # an empty set
    b"\x0b\x00",                          # an intset blob that is no intset
], ids=["no-type", "unknown-type", "short-string", "duplicate-member", "empty-set",
        "bad-intset"])
def test_right_checksum_wrong_body_is_bad_data_format(body):
    assert _bad_payload(_payload(body)) == dump.BAD_FORMAT


def test_hashes_and_sets_digest_independently_of_order():
    a = Hash({b"f": b"1", b"g": b"2"})
    b = Hash({b"g": b"2", b"f": b"1"})
    assert object_digest(a, False) == object_digest(b, False)
    assert object_digest(a, False) != object_digest(Hash({b"f": b"1"}), False)


def test_a_type_without_codec_cannot_be_dumped():
    class Unregistered:
        pass

    with pytest.raises(ReplyError) as info:
        dump.dump_payload(Unregistered())
    assert info.value.args[0].startswith("ERR DUMP is not supported")
