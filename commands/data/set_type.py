"""The set value type.

A set value is an `RSet`: a Python set of bytes members with two slots.

* `intset` mirrors Redis 7.0's encoding. A set is created as an intset when its first
  member is a canonical 64-bit integer and becomes a hashtable for good once a
  non-integer member arrives or it grows past set-max-intset-entries. A set built whole
  (the STORE commands, SPOP's rebuild, RESTORE) is an intset iff all its members are
  integers and it is small enough -- which is what Redis's createIntsetObject + adds
  amount to. The encoding is visible beyond OBJECT ENCODING: an intset is kept sorted,
  so Redis lists its members in numeric order, and we do the same (members_in_order).
* `index` is the optional hash-ordered index (commands/families/scanning.py) used to scan and
  sample big sets; the mutators in commands/families/sets.py keep it current.

A subclass rather than a plain set so the type is told apart from other values in O(1)
and the flag travels with the value through RENAME and COPY (RESTORE recomputes it,
as Redis does when it loads a set).
"""
from commands.data.memory_model import (BUCKET, DICT, DICT_ENTRY, ROBJ, dict_slots,
                                        jemalloc_size, sample, scaled, sds_alloc)
from commands.data.numbers import parse_int64
from commands.data.value_types import register_type

SET_MAX_INTSET_ENTRIES = 512          # Redis 7.0's default (CONFIG; RESTORE uses it)


class RSet(set):
    __slots__ = ("intset", "index")

    def __init__(self, *args):
        super().__init__(*args)
        self.intset = False
        self.index = None


def _copy_set(value):
    """COPY: an independent set in the same encoding (Redis's setTypeDup)."""
    copy = RSet(value)
    copy.intset = value.intset
    return copy


def is_integer(member) -> bool:
    """Redis's isSdsRepresentableAsLongLong: canonical 64-bit decimal only."""
    return parse_int64(member) is not None


def new_set(members, max_entries) -> RSet:
    """A set built whole, in the encoding Redis would give it (see the module doc)."""
    s = RSet(members)
    s.intset = len(s) <= max_entries and all(parse_int64(m) is not None for m in s)
    return s


def members_in_order(s) -> list:
    """The members in the order Redis lists them: numeric for an intset."""
    if s.intset:
        return sorted(s, key=int)
    return list(s)


def _set_to_neutral(s) -> list:
    """The members; an intset in numeric order, as Redis's intset blob holds them."""
    return members_in_order(s)


def _set_from_neutral(members) -> RSet:
    """Loading (RDB, RESTORE): like Redis, an intset iff the members allow it (with the
    default limit: a payload carries no CONFIG); duplicates mean corrupt data."""
    if not all(type(m) is bytes for m in members):
        raise TypeError("a set holds bytes members")
    s = new_set(members, SET_MAX_INTSET_ENTRIES)
    if len(s) != len(members):
        raise ValueError("duplicate set members")
    return s


def set_memory(s, samples: int) -> int:
    """objectComputeSize of a set: an intset (8-byte header, 2/4/8 bytes a member, the
    width the largest sampled member needs) or a dict of sds members."""
    members = sample(s, samples)
    if s.intset:
        widest = max((abs(int(m)) for m in members), default=0)
        width = 2 if widest < 1 << 15 else 4 if widest < 1 << 31 else 8
        return ROBJ + jemalloc_size(8 + width * len(s))
    each = sum(sds_alloc(len(m)) + DICT_ENTRY for m in members)
    return ROBJ + DICT + BUCKET * dict_slots(len(s)) + scaled(each, len(members), len(s))


register_type(RSet, "set", lambda s: "intset" if s.intset else "hashtable", _copy_set,
              _set_to_neutral, _set_from_neutral, unordered=True, memory=set_memory)
