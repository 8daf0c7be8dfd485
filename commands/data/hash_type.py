"""The hash value type.

A hash value is a `Hash`: a dict subclass (field -> value, both bytes) with two slots.

* `listpack` mirrors the encoding Redis 7.0 would use. Redis keeps a small hash in a
  listpack and converts it to a hashtable once it has more than hash-max-listpack-entries
  fields or a field/value longer than hash-max-listpack-value bytes, and never converts
  back; so this is a one-way flag, not something computable from the contents. It
  decides OBJECT ENCODING and the orders Redis makes visible: a listpack hash is
  returned in insertion order (which a Python dict keeps too: a rewritten field stays
  in place, a deleted and re-added one goes to the end, exactly as in a listpack), and
  HSCAN returns it whole with cursor 0.
* `index` is the optional hash-ordered index (commands/families/scanning.py) used to scan and
  sample big hashes; the mutators in commands/families/hashes.py keep it current.

A subclass rather than a plain dict because the type must be told apart from every other
value type in O(1) (`type(v) is Hash`), and the flag has to live on the value so RENAME
and COPY carry it along (RESTORE recomputes it, as Redis does when it loads a hash).
"""
from commands.data.memory_model import (BUCKET, DICT, DICT_ENTRY, LISTPACK_HEADER, ROBJ,
                                        dict_slots, jemalloc_size, listpack_entry_size,
                                        sample, scaled, sds_alloc)
from commands.data.value_types import register_type

# Redis 7.0's built-in defaults (config.c), also the defaults in settings.py. redis.conf
# ships 128 entries, but a server started without one -- like our tests' reference --
# uses 512. RESTORE uses these: a payload carries no CONFIG.
HASH_MAX_LISTPACK_ENTRIES = 512
HASH_MAX_LISTPACK_VALUE = 64


class Hash(dict):
    __slots__ = ("listpack", "index")

    def __init__(self, *args):
        super().__init__(*args)
        self.listpack = True
        self.index = None


def _copy_hash(value):
    """COPY: an independent hash in the same encoding (Redis's hashTypeDup)."""
    copy = Hash(value)
    copy.listpack = value.listpack
    return copy


def new_hash(pairs, max_entries, max_value) -> Hash:
    """A hash built whole (RESTORE, tests): listpack iff Redis would load it as one."""
    h = Hash(pairs)
    h.listpack = len(h) <= max_entries and \
        all(len(f) <= max_value and len(v) <= max_value for f, v in h.items())
    return h


def _hash_to_neutral(h) -> list:
    """(field, value) pairs in the hash's order: a listpack hash is saved in its own
    order, as Redis writes its listpack."""
    return list(h.items())


def _hash_from_neutral(pairs) -> Hash:
    """Loading (RDB, RESTORE): like Redis, the encoding follows the contents (with the
    default limits: a payload carries no CONFIG); a repeated field is corrupt data."""
    h = new_hash(pairs, HASH_MAX_LISTPACK_ENTRIES, HASH_MAX_LISTPACK_VALUE)
    if len(h) != len(pairs):
        raise ValueError("duplicate hash fields")
    for field, value in h.items():
        if type(field) is not bytes or type(value) is not bytes:
            raise TypeError("hash fields and values are bytes")
    return h


def hash_memory(h, samples: int) -> int:
    """objectComputeSize of a hash: one listpack of fields and values, or a dict whose
    entries hold two sds strings."""
    pairs = sample(h.items(), samples)
    if h.listpack:
        each = sum(listpack_entry_size(f) + listpack_entry_size(v) for f, v in pairs)
        return ROBJ + jemalloc_size(LISTPACK_HEADER + scaled(each, len(pairs), len(h)))
    each = sum(sds_alloc(len(f)) + sds_alloc(len(v)) + DICT_ENTRY for f, v in pairs)
    return ROBJ + DICT + BUCKET * dict_slots(len(h)) + scaled(each, len(pairs), len(h))


register_type(Hash, "hash", lambda h: "listpack" if h.listpack else "hashtable", _copy_hash,
              _hash_to_neutral, _hash_from_neutral, unordered=True, memory=hash_memory)
