"""DEBUG DIGEST and DEBUG DIGEST-VALUE exactly as Redis 7.0 computes them (debug.c), so a
data set can be compared across our nodes and redis-server with one command.

Two SHA1 building blocks, both on a 20-byte digest:

    xor(d, data)  d ^= SHA1(data)              order-free: sets, hash fields, keys
    mix(d, data)  d  = SHA1(d ^ SHA1(data))    ordered: list elements, a key then its value

A value's digest starts from zeros and mixes in its type number (4 bytes, big-endian),
then its contents: a string is mixed whole; list elements are mixed in order; set
members are xor-ed; each sorted-set member and each hash field gets its own zeroed
digest (member then score as "%.17g", field then value), which is xor-ed in; a stream
mixes in each live entry's "ms.seq" then its fields and values, in order. A key with
a TTL xors in "!!expire!!" (the time itself does not count). The data set digest is
xor(result, per-key digest) over the keys, the per-key digest being mix(key) followed by
the value's digest, after mixing in the DB number (0 here) once; an empty data set is
forty zeros.
"""
import hashlib
import struct

from commands.data.value_codec import to_saved

DIGEST_SIZE = 20
ZERO = bytes(DIGEST_SIZE)

# Redis's object type numbers (server.h OBJ_*).
_TYPE_NUMBERS = {"string": 0, "list": 1, "set": 2, "zset": 3, "hash": 4, "stream": 6}

_sha1 = hashlib.sha1


def _xor_bytes(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(DIGEST_SIZE, "big")


def xor_digest(digest: bytes, data: bytes) -> bytes:
    return _xor_bytes(digest, _sha1(data).digest())


def mix_digest(digest: bytes, data: bytes) -> bytes:
    return _sha1(xor_digest(digest, data)).digest()


def format_score(score: float) -> bytes:
    """C's "%.17g" (Python's %-formatting is C's, inf included)."""
    return b"%.17g" % score


def object_digest(value, has_expire: bool, digest: bytes = ZERO) -> bytes:
    """xorObjectDigest: mix the value (type and contents) into `digest`."""
    kind, neutral, _ = to_saved(value)
    digest = mix_digest(digest, struct.pack(">I", _TYPE_NUMBERS[kind]))
    if kind == "string":
        digest = mix_digest(digest, bytes(neutral))
    elif kind == "list":
        for element in neutral:
            digest = mix_digest(digest, element)
    elif kind == "set":
        acc = int.from_bytes(digest, "big")
        for member in neutral:
            acc ^= int.from_bytes(_sha1(member).digest(), "big")
        digest = acc.to_bytes(DIGEST_SIZE, "big")
    elif kind == "zset":
        for member, score in neutral:
            element = mix_digest(mix_digest(ZERO, member), format_score(score))
            digest = xor_digest(digest, element)
    elif kind == "hash":
        for field, field_value in neutral:
            element = mix_digest(mix_digest(ZERO, field), field_value)
            digest = xor_digest(digest, element)
    elif kind == "stream":
        # the live entries only: "ms.seq", then each field and value, in ID order
        for _, _, entries in neutral["nodes"]:
            for sid, deleted, flat in entries:
                if deleted:
                    continue
                digest = mix_digest(digest, b"%d.%d" % (sid >> 64, sid & 0xFFFFFFFFFFFFFFFF))
                for item in flat:
                    digest = mix_digest(digest, item)
    else:
        raise TypeError("no digest for values of type %r" % kind)
    if has_expire:
        digest = xor_digest(digest, b"!!expire!!")
    return digest


def dataset_digest(items) -> bytes:
    """computeDatasetDigest over (key, value, has_expire) triples of DB 0."""
    total = 0
    any_key = False
    for key, value, has_expire in items:
        any_key = True
        key_digest = object_digest(value, has_expire, mix_digest(ZERO, key))
        # xorDigest: what is xor-ed in is the SHA1 of the key's digest, not the digest.
        total ^= int.from_bytes(_sha1(key_digest).digest(), "big")
    if not any_key:
        return ZERO
    # Redis mixes the DB number into the running result before the first key; as mixing
    # is SHA1(ZERO ^ SHA1(db)) on a zero start and the keys are xor-ed in afterwards,
    # the order of the two does not change the result.
    db_digest = mix_digest(ZERO, struct.pack(">I", 0))
    return (total ^ int.from_bytes(db_digest, "big")).to_bytes(DIGEST_SIZE, "big")
