"""Cursor scans and random picks inside one collection (HSCAN SSCAN, SPOP SRANDMEMBER
HRANDFIELD), shared by the hash and set families (and usable by sorted sets).

Why an auxiliary index: a Python dict or set has no stable positions to resume from.
Deleting an item before a positional cursor shifts everything after it, so a cursor
that counts items would skip some. Redis avoids this with reverse-binary bucket order;
we get the same guarantee from a simpler order: members sorted by a 64-bit hash of
their bytes. The cursor is a position in that hash space ("every member whose hash is
below the cursor was returned already"), so members added or removed elsewhere cannot
shift it: a member present for the whole scan is returned exactly once.

That order is a pure function of the members (Python's bytes hash is fixed for the life
of the process), so the index is only a cache: it is built when a big collection is
first scanned or sampled, kept up to date by the collection's mutators in O(log n), and
may be dropped and rebuilt at any time without invalidating cursors handed out. A
SortedList also gives positional access in O(log n), which is what random sampling
needs and what a set or dict cannot offer (list(s) would cost O(n) per SPOP).

Small collections need no index: Redis returns a compact (listpack/intset) collection
whole with cursor 0, and a collection no bigger than COUNT can be returned whole too.
"""
import random

from sortedcontainers import SortedList

from commands.data.glob import matcher
from commands.server.args import SYNTAX_ERROR, int_arg
from commands.server.resp import ReplyError

INVALID_CURSOR = "ERR invalid cursor"

_MASK = (1 << 64) - 1

# Below this size a random pick copies the members (cheap) instead of building an index,
# and a collection that shrinks below it drops the index it had.
INDEX_MIN_SIZE = 256

rng = random.Random()


class MemberIndex:
    """The members of one collection sorted by (64-bit hash, bytes)."""

    __slots__ = ("items",)

    def __init__(self, members):
        self.items = SortedList((hash(m) & _MASK, m) for m in members)

    def __len__(self):
        return len(self.items)

    def add(self, member) -> None:
        self.items.add((hash(member) & _MASK, member))

    def discard(self, member) -> None:
        self.items.discard((hash(member) & _MASK, member))

    def at(self, position):
        return self.items[position][1]

    def page(self, cursor: int, count: int):
        """(next cursor, members) from hash position `cursor`; 0 when the scan is done.

        Members with equal hashes are never split across pages, so the next cursor (one
        past the last hash returned) cannot skip any of them."""
        items = self.items
        size = len(items)
        start = items.bisect_left((cursor,))
        end = min(start + count, size)
        if start < end < size:
            last = items[end - 1][0]
            while end < size and items[end][0] == last:
                end += 1
        members = [member for _, member in items.islice(start, end)]
        if end >= size:
            return 0, members
        return items[end - 1][0] + 1, members


def drop_index_if_small(collection) -> None:
    """After removals: a collection small again needs no index (sampling copies, scans
    return it whole), so its memory goes back."""
    if collection.index is not None and len(collection) < INDEX_MIN_SIZE // 2:
        collection.index = None


def ensure_index(collection) -> MemberIndex:
    """The collection's index, built on first use (the class has an `index` slot)."""
    if collection.index is None:
        collection.index = MemberIndex(collection)
    return collection.index


# ---------------------------------------------------------------- random picks

def _positional(collection):
    """Something indexable by position: a copy when small, else the hash index."""
    if len(collection) < INDEX_MIN_SIZE:
        members = list(collection)
        return members.__getitem__
    return ensure_index(collection).at


def random_member(collection):
    """One member chosen uniformly at random (the collection is not empty)."""
    return _positional(collection)(rng.randrange(len(collection)))


def random_members(collection, count: int, distinct: bool) -> list:
    """`count` random members; distinct ones (count < len) or with repetitions."""
    at = _positional(collection)
    size = len(collection)
    if distinct:
        return [at(i) for i in rng.sample(range(size), count)]
    return [at(rng.randrange(size)) for _ in range(count)]


def random_positions(size: int, count: int) -> list:
    """`count` distinct positions in range(size), in increasing order (Redis's listpack
    sampling keeps the collection's order)."""
    return sorted(rng.sample(range(size), count))


# ---------------------------------------------------------------- SCAN HSCAN SSCAN ZSCAN

def parse_cursor(arg) -> int:
    """A SCAN cursor as strtoul reads it: a leading space is refused, '+'/'-' are
    accepted (-1 wraps around), an empty string is 0, and it must fit in 64 bits."""
    if arg[:1].isspace():
        raise ReplyError(INVALID_CURSOR)
    text = whole = arg.split(b"\x00", 1)[0]
    sign = 1
    if text[:1] in (b"+", b"-"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    if text and not text.isdigit():
        raise ReplyError(INVALID_CURSOR)
    if not text:
        if whole:                        # just a sign: strtoul stops before it
            raise ReplyError(INVALID_CURSOR)
        return 0
    value = int(text)
    if value >= 1 << 64:
        raise ReplyError(INVALID_CURSOR)
    return (sign * value) % (1 << 64)


def parse_scan_options(argv, start, allow_type=False):
    """(count, match function or None, TYPE name or None) from the options at
    argv[start:], as Redis's scanGenericCommand parses them (TYPE only when allowed:
    SCAN takes it, the collection scans do not)."""
    count = 10
    accept = None
    type_name = None
    i = start
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"count" and i + 1 < len(argv):
            count = int_arg(argv[i + 1])
            if count < 1:
                raise ReplyError(SYNTAX_ERROR)
        elif opt == b"match" and i + 1 < len(argv):
            # Exactly "*" disables matching, so "*" also returns empty members (an
            # empty string matches no other pattern in Redis).
            accept = None if argv[i + 1] == b"*" else matcher(argv[i + 1])
        elif allow_type and opt == b"type" and i + 1 < len(argv):
            type_name = argv[i + 1].decode("latin-1").lower()
        else:
            raise ReplyError(SYNTAX_ERROR)
        i += 2
    return count, accept, type_name


def scan_collection(collection, cursor: int, count: int, compact: bool):
    """(next cursor, members) for one HSCAN/SSCAN call, before MATCH filtering.

    `compact`: the collection is listpack/intset in Redis, which returns it whole
    (cursor 0) whatever the cursor and COUNT; the caller passes members in Redis's
    order for that encoding."""
    if compact or len(collection) <= count:
        return 0, None                       # None: the caller returns everything
    index = ensure_index(collection)
    return index.page(cursor, count)
