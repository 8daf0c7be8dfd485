"""The sorted set value: a dict member -> score plus a SortedList of (score, member).

Redis keeps a skip list (ordered by score, then member bytes) and a dict. We keep the same
pair with sortedcontainers' SortedList in place of the skip list: tuples (score, member)
order exactly as Redis orders elements (score numerically, ties by memcmp of the member),
rank lookups and `list[i]` are O(log n), and slicing k items is O(log n + k). Nothing here
sorts on a read.

Score ranges and lex ranges are turned into index ranges by bisecting, so every range
command costs O(log n) plus the items it touches.

Redis's "listpack" vs "skiplist" encoding is only reported (OBJECT ENCODING) and used to
decide ZSCAN's shape (a skip list is scanned through the hash-ordered `index` of
commands/families/scanning.py, which the mutators below keep current once it is built); the flag follows Redis 7.0's conversion rules: a set becomes a skip
list once it has more than zset-max-listpack-entries elements or a member longer than
zset-max-listpack-value bytes, and only commands that build a new set (the *STORE ones)
go back to listpack.

Also here: score parsing exactly as Redis's strtod-based helpers, and range specs.
"""
import math

from sortedcontainers import SortedList

from commands.data.memory_model import (BUCKET, DICT, DICT_ENTRY, LISTPACK_HEADER, ROBJ,
                                        ZSET_HEADS, ZSKIPLIST_HEADER, ZSKIPLIST_NODE,
                                        dict_slots, jemalloc_size, listpack_entry_size,
                                        sample, scaled, sds_alloc)
from commands.data.numbers import strtod
from commands.data.value_types import register_type

ZSET_MAX_LISTPACK_ENTRIES = 128
ZSET_MAX_LISTPACK_VALUE = 64
INF = math.inf


def listpack_limits(settings):
    """(entries, value) limits; the settings may not know these names yet."""
    return (getattr(settings, "zset_max_listpack_entries", ZSET_MAX_LISTPACK_ENTRIES),
            getattr(settings, "zset_max_listpack_value", ZSET_MAX_LISTPACK_VALUE))


class ZSet:
    __slots__ = ("scores", "ordered", "skiplist", "index")

    def __init__(self, skiplist=False):
        self.scores = {}               # member -> score
        self.ordered = SortedList()    # (score, member)
        self.skiplist = skiplist       # Redis's encoding, for OBJECT ENCODING and ZSCAN
        self.index = None              # scanning.MemberIndex, built by the first ZSCAN

    def __len__(self):
        return len(self.scores)

    def __iter__(self):
        """The members, in no particular order (what scanning.py indexes)."""
        return iter(self.scores)

    # ------------------------------------------------------------ updates

    def add(self, member: bytes, score: float) -> None:
        """Insert or move `member` to `score`."""
        score += 0.0                   # -0.0 -> 0.0: Redis's listpack stores it as "0"
        old = self.scores.get(member)
        if old is not None:
            if old == score:
                return
            self.ordered.remove((old, member))
        elif self.index is not None:
            self.index.add(member)
        self.scores[member] = score
        self.ordered.add((score, member))

    def remove(self, member: bytes) -> bool:
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self.ordered.remove((score, member))
        if self.index is not None:
            self.index.discard(member)
        return True

    def pop_range(self, start: int, stop: int) -> list:
        """Remove and return the (score, member) items with ranks in [start, stop)."""
        items = self.ordered[start:stop]
        del self.ordered[start:stop]
        index = self.index
        for _, member in items:
            del self.scores[member]
            if index is not None:
                index.discard(member)
        return items

    def note_member_size(self, member: bytes, settings) -> None:
        """After adding: switch to the skip-list encoding as Redis would."""
        if not self.skiplist:
            entries, value = listpack_limits(settings)
            if len(self.scores) > entries or len(member) > value:
                self.skiplist = True

    def fit_encoding(self, settings) -> None:
        """zsetConvertToListpackIfNeeded: a freshly built set may go back to listpack."""
        entries, value = listpack_limits(settings)
        self.skiplist = len(self.scores) > entries or \
            any(len(m) > value for m in self.scores)

    def to_neutral(self) -> list:
        """The saved form (commands/rdb): (member, score) pairs in rank order. The
        encoding is given apart; loading picks it from the size, as Redis does."""
        return [(member, score) for score, member in self.ordered]

    @classmethod
    def from_neutral(cls, pairs):
        """Loading (RDB, RESTORE): validate and rebuild; ValueError/TypeError on anything
        malformed."""
        zs = cls()
        scores = zs.scores
        longest = 0
        for member, score in pairs:
            if type(member) is not bytes or type(score) not in (float, int) \
                    or score != score or member in scores:
                raise ValueError("bad sorted set member")
            scores[member] = score + 0.0          # -0.0 -> 0.0, as add() does
            if len(member) > longest:
                longest = len(member)
        # One sort for the whole set instead of an insertion per member.
        zs.ordered = SortedList((score, member) for member, score in scores.items())
        zs.skiplist = len(zs) > ZSET_MAX_LISTPACK_ENTRIES or longest > ZSET_MAX_LISTPACK_VALUE
        return zs

    def copy(self):
        other = ZSet(self.skiplist)
        other.scores = dict(self.scores)
        other.ordered = SortedList(self.ordered)
        return other

    # ------------------------------------------------------------ reads

    def items(self, start: int, stop: int, reverse: bool = False) -> list:
        """The (score, member) items with ranks in [start, stop), descending if reverse:
        O(log n + k), never a scan from the head."""
        if start >= stop:
            return []
        return list(self.ordered.islice(start, stop, reverse=reverse))

    def rank(self, member: bytes):
        score = self.scores.get(member)
        if score is None:
            return None
        return self.ordered.index((score, member))

    def score_range(self, spec) -> tuple:
        """[start, stop) ranks of the elements whose scores are inside `spec`."""
        lo, lo_ex, hi, hi_ex = spec
        ordered = self.ordered
        start = _first_above(ordered, lo) if lo_ex else bisect_left_score(ordered, lo)
        stop = bisect_left_score(ordered, hi) if hi_ex else _first_above(ordered, hi)
        return start, max(start, stop)

    def lex_range(self, spec) -> tuple:
        """[start, stop) ranks of the members inside the lex range `spec`.

        Meaningful when all scores are equal (as Redis documents); otherwise, like Redis's
        skip-list search, it bisects on members assuming they are ordered."""
        lo, hi = spec
        n = len(self.ordered)
        start = _bisect_members(self.ordered, n, lambda m: lex_gte_min(m, lo))
        stop = _bisect_members(self.ordered, n, lambda m: not lex_lte_max(m, hi))
        return start, max(start, stop)


def bisect_left_score(ordered, score: float) -> int:
    """Rank of the first element with a score >= `score`."""
    return ordered.bisect_left((score,))


def _first_above(ordered, score: float) -> int:
    """Rank of the first element with a score > `score`."""
    if score == INF:
        return len(ordered)
    return ordered.bisect_left((math.nextafter(score, INF),))


def _bisect_members(ordered, n, pred) -> int:
    """First rank whose member satisfies `pred` (assumed monotonic), by binary search."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(ordered[mid][1]):
            hi = mid
        else:
            lo = mid + 1
    return lo


# ---------------------------------------------------------------- parsing scores

def parse_score(data: bytes):
    """A score argument as getDoubleFromObject reads it: the whole string, no leading
    space, no nan, no overflow or underflow. None when invalid."""
    if data.isdigit() and len(data) < 16:
        return float(int(data))     # the usual score, exact: strtod's result too
    if not data or data[:1].isspace() or b"\x00" in data:
        return None
    value, used, underflow = strtod(data)
    if used != len(data) or value != value:
        return None
    if math.isinf(value) and not data.lower().lstrip(b"+-").startswith(b"inf"):
        return None                                   # ERANGE overflow
    if underflow:
        return None                                   # ERANGE to zero
    return value


def _parse_range_bound(data: bytes):
    """One bound of a score range (zslParseRange): strtod over the C string, so leading
    space is fine, overflow gives inf and an empty string is 0. (value, exclusive)."""
    exclusive = data[:1] == b"("
    if exclusive:
        data = data[1:]
    data = data.split(b"\x00", 1)[0]     # C stops at the first NUL
    value, used, _ = strtod(data)
    if used != len(data) or value != value:
        return None
    return value, exclusive


def parse_score_range(min_arg: bytes, max_arg: bytes):
    """(min, min_exclusive, max, max_exclusive) or None ("min or max is not a float")."""
    lo = _parse_range_bound(min_arg)
    hi = _parse_range_bound(max_arg)
    if lo is None or hi is None:
        return None
    return lo[0], lo[1], hi[0], hi[1]


# Lex bounds: (member, exclusive) or one of the two infinities.
LEX_MIN = "-"
LEX_MAX = "+"


def _parse_lex_item(data: bytes):
    if data == b"+":
        return LEX_MAX
    if data == b"-":
        return LEX_MIN
    if data[:1] == b"(":
        return (data[1:], True)
    if data[:1] == b"[":
        return (data[1:], False)
    return None


def parse_lex_range(min_arg: bytes, max_arg: bytes):
    """(min item, max item) or None ("min or max not valid string range item")."""
    lo, hi = _parse_lex_item(min_arg), _parse_lex_item(max_arg)
    if lo is None or hi is None:
        return None
    return lo, hi


def lex_gte_min(member: bytes, lo) -> bool:
    if lo == LEX_MIN:
        return True
    if lo == LEX_MAX:
        return False
    value, exclusive = lo
    return member > value if exclusive else member >= value


def lex_lte_max(member: bytes, hi) -> bool:
    if hi == LEX_MAX:
        return True
    if hi == LEX_MIN:
        return False
    value, exclusive = hi
    return member < value if exclusive else member <= value


def lex_range_empty(spec) -> bool:
    """zslLexValueGteMin/LteMax on an empty range: Redis answers empty at once."""
    lo, hi = spec
    if lo == LEX_MAX or hi == LEX_MIN:
        return True
    if lo == LEX_MIN or hi == LEX_MAX:
        return False
    (a, a_ex), (b, b_ex) = lo, hi
    return a > b or (a == b and (a_ex or b_ex))


def score_range_empty(spec) -> bool:
    lo, lo_ex, hi, hi_ex = spec
    return lo > hi or (lo == hi and (lo_ex or hi_ex))


def _score_entry_size(score: float) -> int:
    """A score in a listpack: an integer entry when it is integral, else its %.17g text."""
    if score.is_integer() and abs(score) < 1 << 63:
        return listpack_entry_size(b"%d" % score)
    return len(b"%.17g" % score) + 2


def zset_memory(zs, samples: int) -> int:
    """objectComputeSize of a sorted set: one listpack of member/score pairs, or the
    skip list (a header node, one node per member) plus the member -> score dict."""
    pairs = sample(zs.scores.items(), samples)
    n = len(zs.scores)
    if not zs.skiplist:
        each = sum(listpack_entry_size(m) + _score_entry_size(s) for m, s in pairs)
        return ROBJ + jemalloc_size(LISTPACK_HEADER + scaled(each, len(pairs), n))
    each = sum(sds_alloc(len(m)) + DICT_ENTRY + ZSKIPLIST_NODE for m, _ in pairs)
    return (ROBJ + ZSET_HEADS + DICT + BUCKET * dict_slots(n) + ZSKIPLIST_HEADER
            + scaled(each, len(pairs), n))


register_type(ZSet, "zset", lambda z: "skiplist" if z.skiplist else "listpack", ZSet.copy,
              ZSet.to_neutral, ZSet.from_neutral, memory=zset_memory)
