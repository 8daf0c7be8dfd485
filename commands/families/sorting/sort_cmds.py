"""SORT and SORT_RO, as Redis 7.0's sortCommandGeneric (sort.c).

    SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
             [STORE destination]

The steps, in Redis's order (it decides which error a client sees):

1. The options, left to right. In cluster mode (always, for this node) a BY pattern with
   a '*' and every GET are refused at once: they would read keys of other slots. A BY
   without '*' (the usual `BY nosort`) means "do not sort".
2. The key: a list, set or sorted set (WRONGTYPE otherwise; a missing key is an empty
   list).
3. The elements: a list in its order, a sorted set in score order, a set in its own order
   (numeric for an intset). With "do not sort", a list or sorted set is cut to the LIMIT
   range directly (backwards for DESC), and a set being STOREd is sorted ALPHA anyway so
   that replicas store the same list.
4. The weights: each element's own value (or its BY key's) read as strtod reads it; a
   value that is not a whole double makes the reply "One or more scores can't be
   converted into double" -- after the work, as in Redis. ALPHA compares bytes.
5. The sort (numeric ties are broken by comparing the elements' bytes), the LIMIT range,
   the GET patterns, and the reply or the STOREd list.

ALPHA compares as strcoll does in the C locale, which is byte order; a redis-server
started under another LC_COLLATE could order non-ASCII text differently.
"""
import functools
import sys

from commands.data.hash_type import Hash
from commands.data.keyspace import WRONGTYPE
from commands.data.list_type import ListValue
from commands.data.numbers import NOT_INTEGER, parse_int64
from commands.data.partial_sort import partial_sort
from commands.data.set_type import RSet, members_in_order
from commands.data.numbers import strtod
from commands.data.zset_type import ZSet
from commands.server.args import SYNTAX_ERROR
from commands.server.resp import ReplyError
from commands.server.table import command, key_spec

NOT_DOUBLE = "ERR One or more scores can't be converted into double"
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1
_DBL_MIN = sys.float_info.min            # below it (and not 0) strtod sets ERANGE


class _Options:
    __slots__ = ("desc", "alpha", "limit_start", "limit_count", "by", "dontsort", "gets",
                 "store")

    def __init__(self):
        self.desc = self.alpha = self.dontsort = False
        self.limit_start, self.limit_count = 0, -1
        self.by = None
        self.gets = []
        self.store = None


def _long_arg(arg: bytes) -> int:
    value = parse_int64(arg)
    if value is None:
        raise ReplyError(NOT_INTEGER)
    return value


def _parse(c, argv, readonly: bool) -> _Options:
    """Step 1."""
    o = _Options()
    cluster = c.server.settings.cluster_enabled
    j = 2
    while j < len(argv):
        word = argv[j].lower()
        left = len(argv) - j - 1
        if word == b"asc":
            o.desc = False
        elif word == b"desc":
            o.desc = True
        elif word == b"alpha":
            o.alpha = True
        elif word == b"limit" and left >= 2:
            o.limit_start = _long_arg(argv[j + 1])
            o.limit_count = _long_arg(argv[j + 2])
            j += 2
        elif word == b"store" and left >= 1 and not readonly:
            o.store = argv[j + 1]
            j += 1
        elif word == b"by" and left >= 1:
            o.by = argv[j + 1]
            if b"*" not in o.by:
                o.dontsort = True            # a constant: nothing to sort by
            elif cluster:
                raise ReplyError("ERR BY option of SORT denied in Cluster mode.")
            j += 1
        elif word == b"get" and left >= 1:
            if cluster:
                raise ReplyError("ERR GET option of SORT denied in Cluster mode.")
            o.gets.append(argv[j + 1])
            j += 1
        else:
            raise ReplyError(SYNTAX_ERROR)
        j += 1
    return o


def lookup_by_pattern(ks, pattern: bytes, element: bytes):
    """lookupKeyByPattern: '#' is the element itself; otherwise the first '*' becomes the
    element and the key's string value is read, or with "->field" after the '*' a field
    of the key's hash. None for a missing key or field, a key of another type, or a
    pattern without '*'."""
    if pattern == b"#":
        return element
    star = pattern.find(b"*")
    if star < 0:
        return None
    arrow = pattern.find(b"->", star + 1)
    field = None
    if arrow >= 0 and arrow + 2 < len(pattern):
        field = pattern[arrow + 2:]
        key = pattern[:star] + element + pattern[star + 1:arrow]
    else:
        key = pattern[:star] + element + pattern[star + 1:]
    value = ks.lookup_read(key)
    if value is None:
        return None
    if field is not None:
        return value.get(field) if type(value) is Hash else None
    return bytes(value) if type(value) in (bytes, bytearray) else None


def _weight(data: bytes):
    """The weight strtod gives a value, or None where Redis reports a conversion error
    (trailing garbage, NaN, overflow or underflow). C stops reading at a NUL byte."""
    data = data.split(b"\x00", 1)[0]
    value, used, underflow = strtod(data)
    if used != len(data) or value != value or underflow or \
            (value != 0 and abs(value) < _DBL_MIN):
        return None
    if value in (float("inf"), float("-inf")) and \
            not data.strip().lower().lstrip(b"+-").startswith(b"inf"):
        return None                                   # ERANGE: overflow
    return value


def _limits(o, length: int):
    """Redis's clamping of LIMIT: the ranks start..end (end < start: nothing)."""
    start = min(max(o.limit_start, 0), length)
    count = min(max(o.limit_count, -1), length)
    end = length - 1 if count < 0 else start + count - 1
    if start >= length:
        start, end = length - 1, length - 2
    if end >= length:
        end = length - 1
    return start, end


def _elements(value, o) -> list:
    """Step 3: the elements to sort -- or, with nothing to sort, in their final order: a
    list or sorted set in its own order (reversed for DESC), a set in its own."""
    if type(value) is ListValue:
        if o.dontsort and o.desc:
            return list(reversed(value))
        return list(value)
    if type(value) is ZSet:
        if o.dontsort:
            ordered = [member for _, member in value.ordered]
            return ordered[::-1] if o.desc else ordered
        return list(value.scores)
    return members_in_order(value)


def _numeric_key(pair):
    return pair[1], pair[0]


def _alpha_key(pair):
    return pair[0]


def _compare_numeric(desc):
    def cmp(a, b):
        if a[1] > b[1]:
            result = 1
        elif a[1] < b[1]:
            result = -1
        else:                       # equal weights: the elements' bytes decide
            result = (a[0] > b[0]) - (a[0] < b[0])
        return -result if desc else result
    return cmp


def _compare_alpha(desc, by_pattern):
    def cmp(a, b):
        x, y = (a[1], b[1]) if by_pattern else (a[0], b[0])
        if x is None or y is None:  # a missing BY value sorts first
            result = 0 if x is y else (-1 if x is None else 1)
        else:
            result = (x > y) - (x < y)
        return -result if desc else result
    return cmp


def sort_generic(c, argv, readonly: bool):
    o = _parse(c, argv, readonly)
    ks = c.server.keyspace
    value = ks.lookup_read(argv[1])
    if value is None:
        value = ListValue()
    elif type(value) not in (ListValue, RSet, ZSet):
        raise ReplyError(WRONGTYPE)

    if type(value) is ZSet:
        value.skiplist = True       # Redis converts the set for good (zsetConvert): SORT
                                    # makes a small sorted set's OBJECT ENCODING "skiplist"
    if o.dontsort and type(value) is RSet and o.store is not None:
        o.dontsort, o.alpha, o.by = False, True, None     # the same list on every replica

    elements = _elements(value, o)
    start, end = _limits(o, len(elements))
    conversion_error = False
    if not o.dontsort:
        # (element, weight) pairs; the weight is a float, or the BY value for ALPHA.
        vector = []
        for element in elements:
            by_value = lookup_by_pattern(ks, o.by, element) if o.by is not None else element
            if o.alpha:
                vector.append((element, by_value if o.by is not None else None))
                continue
            weight = 0.0
            if by_value is not None:
                weight = _weight(by_value)
                if weight is None:
                    conversion_error = True
                    weight = 0.0
            vector.append((element, weight))
        cmp = _compare_alpha(o.desc, o.by is not None) if o.alpha else \
            _compare_numeric(o.desc)
        if o.by is not None and (start != 0 or end != len(vector) - 1):
            partial_sort(vector, cmp, start, end)
        elif o.by is None or not o.alpha:
            # A total order (weight, then bytes; or bytes alone): any sort gives Redis's
            # result, and a key sort is much cheaper than calling cmp.
            vector.sort(key=_alpha_key if o.alpha else _numeric_key, reverse=o.desc)
        else:
            vector.sort(key=functools.cmp_to_key(cmp))
        elements = [element for element, _ in vector]

    if conversion_error:
        raise ReplyError(NOT_DOUBLE)
    chosen = elements[start:end + 1] if end >= start else []
    if o.store is None:
        if not o.gets:
            return chosen
        return [lookup_by_pattern(ks, pattern, element)
                for element in chosen for pattern in o.gets]
    if o.gets:
        result = ListValue(lookup_by_pattern(ks, pattern, element) or b""
                           for element in chosen for pattern in o.gets)
    else:
        result = ListValue(chosen)
    ks.store_result(o.store, result if result else None, "l", b"sortstore")
    return len(result)


# ---------------------------------------------------------------- the commands

def sort_key_indexes(argv) -> list:
    """sortGetKeys: the key, and the key after the last STORE (LIMIT, GET and BY skip
    their arguments)."""
    keys = [1]
    store = None
    skips = {b"limit": 2, b"get": 1, b"by": 1}
    i = 2
    while i < len(argv):
        word = argv[i].lower()
        if word in skips:
            i += skips[word]
        elif word == b"store" and i + 1 < len(argv):
            store = i + 1
        i += 1
    return keys if store is None else keys + [store]


def _sort_ro_keys(argv) -> list:
    return [1]


_KEY = key_spec(["RO", "access"], 1)
_BY_GET = {"notes": "For the optional BY/GET keyword. It is marked 'unknown' because the "
           "key names derive from the content of the key we sort",
           "flags": ["RO", "access"], "begin_search": {"unknown": None},
           "find_keys": {"unknown": None}}
_STORE = {"notes": "For the optional STORE keyword. It is marked 'unknown' because the "
          "keyword can appear anywhere in the argument array",
          "flags": ["OW", "update"], "begin_search": {"unknown": None},
          "find_keys": {"unknown": None}}
_DOC = dict(group="generic", group_category=False,
            categories=("@set", "@sortedset", "@list", "@dangerous"),
            complexity="O(N+M*log(M)) where N is the number of elements in the list or set "
                       "to sort, and M the number of returned elements. When the elements "
                       "are not sorted, complexity is O(N).")


@command("sort", -2, "write denyoom", keys=(1, 1, 1), key_finder=sort_key_indexes,
         key_specs=[_KEY, _BY_GET, _STORE], since="1.0.0",
         summary="Sort the elements in a list, set or sorted set", **_DOC)
def sort(c, argv):
    return sort_generic(c, argv, readonly=False)


@command("sort_ro", -2, "readonly", keys=(1, 1, 1), key_finder=_sort_ro_keys,
         key_specs=[_KEY, _BY_GET], since="7.0.0",
         summary="Sort the elements in a list, set or sorted set. Read-only variant of "
                 "SORT.", **_DOC)
def sort_ro(c, argv):
    return sort_generic(c, argv, readonly=True)
