"""String commands: GET SET and friends, with Redis 7 semantics and errors.

A string value is `bytes` as it arrived (Redis's "int"/"embstr" encodings, decided by its
content when asked, see keys.object_encoding) or a `bytearray` once APPEND or SETRANGE
changed it in place (Redis's "raw"). Replies are always `bytes`.

Argument checks happen in the order Redis makes them, because with several bad arguments
the order decides which error the client sees (e.g. SET parses the expire time before it
looks at the key, INCRBY parses its increment before it checks the key's type).
"""
from fractions import Fraction

from commands.data.keyspace import WRONGTYPE, now_ms, slot_of
from commands.data.notifications import notify_keyspace_event
from commands.data.numbers import (INT64_MAX, INT64_MIN, NOT_FLOAT, NOT_INTEGER, add_long_double,
                                   format_long_double, parse_int64, parse_long_double)
from commands.server.args import SYNTAX_ERROR, int_arg
from commands.server.resp import OK, ReplyError
from commands.server.table import command, key_spec

TOO_BIG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"


def get_string(c, key):
    """The string at `key` (bytes/bytearray) or None; WRONGTYPE for another type."""
    value = c.server.keyspace.lookup_read(key)
    if value is not None and type(value) is not bytes and type(value) is not bytearray:
        raise ReplyError(WRONGTYPE)
    return value


def string_for_write(ks, key):
    """lookupKeyWrite + checkType: the string at `key` or None (no hit/miss counting)."""
    value = ks.get(key)
    if value is not None and type(value) is not bytes and type(value) is not bytearray:
        raise ReplyError(WRONGTYPE)
    return value


def check_length(c, size, append) -> None:
    """Redis's checkStringLength: a string may not grow past proto-max-bulk-len."""
    if size + append > c.server.settings.proto_max_bulk_len:
        raise ReplyError(TOO_BIG)


# ---------------------------------------------------------------- GET / SET family

@command("get", 2, "readonly fast", keys=(1, 1, 1), group="string", complexity="O(1)",
         summary="Returns the string value of a key.")
def get(c, argv):
    # get_string inlined: GET is the hottest command, and a call costs more than the check.
    value = c.server.keyspace.lookup_read(argv[1])
    if value is None or type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytes(value)
    raise ReplyError(WRONGTYPE)


# SET / GETEX option flags (Redis's OBJ_SET_* / OBJ_* bits).
NX, XX, GET, KEEPTTL, PERSIST, EX, PX, EXAT, PXAT = (1 << i for i in range(9))
_EXPIRE_FLAGS = EX | PX | EXAT | PXAT
_OPTIONS = {b"nx": NX, b"xx": XX, b"get": GET, b"keepttl": KEEPTTL, b"persist": PERSIST,
            b"ex": EX, b"px": PX, b"exat": EXAT, b"pxat": PXAT}
# For each option: the options it may not follow (Redis's parseExtendedStringArguments).
_CONFLICTS = {NX: XX, XX: NX, GET: 0, KEEPTTL: PERSIST | _EXPIRE_FLAGS,
              PERSIST: KEEPTTL | _EXPIRE_FLAGS,
              EX: KEEPTTL | PERSIST | EXAT | PX | PXAT, PX: KEEPTTL | PERSIST | EX | EXAT | PXAT,
              EXAT: KEEPTTL | PERSIST | EX | PX | PXAT, PXAT: KEEPTTL | PERSIST | EX | EXAT | PX}
_SET_ONLY = NX | XX | GET | KEEPTTL
_GETEX_ONLY = PERSIST


def parse_set_options(argv, start, for_set):
    """(flags, expire argument or None) for SET (for_set) or GETEX; syntax error otherwise.

    The same expire option may be repeated (the last one wins), as in Redis."""
    flags = 0
    expire = None
    allowed = _SET_ONLY if for_set else _GETEX_ONLY
    i, argc = start, len(argv)
    while i < argc:
        flag = _OPTIONS.get(argv[i].lower(), 0)
        if not flag or flags & _CONFLICTS[flag] or \
                (flag & (_SET_ONLY | _GETEX_ONLY) and not flag & allowed):
            raise ReplyError(SYNTAX_ERROR)
        if flag & _EXPIRE_FLAGS:
            if i + 1 >= argc:
                raise ReplyError(SYNTAX_ERROR)
            i += 1
            expire = argv[i]
        flags |= flag
        i += 1
    return flags, expire


def expire_time_ms(arg, flags, name) -> int:
    """Absolute unix ms for an EX/PX/EXAT/PXAT argument (getExpireMillisecondsOrReply)."""
    value = int_arg(arg)
    error = "ERR invalid expire time in '%s' command" % name
    seconds = flags & (EX | EXAT)
    if value <= 0 or (seconds and value > INT64_MAX // 1000):
        raise ReplyError(error)
    if seconds:
        value *= 1000
    if flags & (EX | PX):
        value += now_ms()
        if value > INT64_MAX:          # C's signed overflow turns this negative: refused
            raise ReplyError(error)
    return value


def _set_key_flags(argv) -> list:
    """Redis's setGetKeys: the key is read too only with GET (ACL %W~ may SET)."""
    for arg in argv[3:]:
        if arg.lower() == b"get":
            return _SET_GET_KEY
    return _SET_KEY


_SET_GET_KEY = ((1, ("RW", "access", "update")),)
_SET_KEY = ((1, ("OW", "update")),)


@command("set", -3, "write denyoom", keys=(1, 1, 1), group="string", complexity="O(1)",
         summary="Sets the string value of a key, ignoring its type. The key is created "
                 "if it doesn't exist.",
         key_specs=[key_spec(["RW", "access", "update", "variable_flags"], 1,
                             notes="RW and ACCESS due to the optional `GET` argument")],
         key_flags_finder=_set_key_flags)
def set_(c, argv):
    ks = c.server.keyspace
    if len(argv) == 3:
        ks.set_string(argv[1], argv[2])
        if ks.notify_flags:
            notify_keyspace_event(ks, "$", b"set", argv[1])
        return OK
    flags, expire = parse_set_options(argv, 3, True)
    return set_generic(c, argv[1], argv[2], flags, expire, "set")


def set_generic(c, key, value, flags, expire, name, ok_reply=OK, abort_reply=None):
    """Redis's setGenericCommand: SET with options, SETNX, SETEX, PSETEX."""
    ks = c.server.keyspace
    when = expire_time_ms(expire, flags, name) if expire is not None else None
    old = None
    if flags & GET:
        old = get_string(c, key)
        if old is not None:
            old = bytes(old)
    found = ks.get(key) is not None
    if (flags & NX and found) or (flags & XX and not found):
        return old if flags & GET else abort_reply
    ks.set(key, value, keep_ttl=bool(flags & KEEPTTL))
    notify_keyspace_event(ks, "$", b"set", key)
    if when is not None:
        # Redis 7.0 keeps a key SET with a time already past until it is looked at
        # (then it expires, with its 'expired' event).
        ks.set_expire(key, when)
        notify_keyspace_event(ks, "g", b"expire", key)
    return old if flags & GET else ok_reply


@command("setnx", 3, "write denyoom fast", keys=(1, 1, 1), group="string",
         complexity="O(1)", summary="Set the string value of a key only when the key doesn't "
                                    "exist.",
         key_specs=[key_spec(["OW", "insert"], 1)])
def setnx(c, argv):
    return set_generic(c, argv[1], argv[2], NX, None, "setnx", ok_reply=1, abort_reply=0)


@command("setex", 4, "write denyoom", keys=(1, 1, 1), group="string", since="2.0.0",
         complexity="O(1)", summary="Sets the string value and expiration time of a key. "
                                    "Creates the key if it doesn't exist.",
         key_specs=[key_spec(["OW", "update"], 1)])
def setex(c, argv):
    return set_generic(c, argv[1], argv[3], EX, argv[2], "setex")


@command("psetex", 4, "write denyoom", keys=(1, 1, 1), group="string", since="2.6.0",
         complexity="O(1)", summary="Sets both string value and expiration time in "
                                    "milliseconds of a key. The key is created if it "
                                    "doesn't exist.",
         key_specs=[key_spec(["OW", "update"], 1)])
def psetex(c, argv):
    return set_generic(c, argv[1], argv[3], PX, argv[2], "psetex")


@command("getset", 3, "write denyoom fast", keys=(1, 1, 1), group="string",
         complexity="O(1)", summary="Returns the previous string value of a key after "
                                    "setting it to a new value.")
def getset(c, argv):
    old = get_string(c, argv[1])
    ks = c.server.keyspace
    ks.set(argv[1], argv[2])
    notify_keyspace_event(ks, "$", b"set", argv[1])
    return bytes(old) if type(old) is bytearray else old


@command("getdel", 2, "write fast", keys=(1, 1, 1), group="string", since="6.2.0",
         complexity="O(1)", summary="Returns the string value of a key after deleting the "
                                    "key.")
def getdel(c, argv):
    value = get_string(c, argv[1])
    if value is None:
        return None
    ks = c.server.keyspace
    if ks.delete(argv[1]):
        notify_keyspace_event(ks, "g", b"del", argv[1])
    return bytes(value)


@command("getex", -2, "write fast", keys=(1, 1, 1), group="string", since="6.2.0",
         complexity="O(1)", summary="Returns the string value of a key after setting its "
                                    "expiration time.")
def getex(c, argv):
    flags, expire = parse_set_options(argv, 2, False)
    value = get_string(c, argv[1])
    if value is None:
        return None                     # a bad expire time is not even looked at
    when = expire_time_ms(expire, flags, "getex") if expire is not None else None
    ks = c.server.keyspace
    if when is not None:
        ks.expire_at(argv[1], when)     # a time already past deletes the key
        notify_keyspace_event(ks, "g", b"expire" if ks.peek(argv[1]) is not None else b"del",
                              argv[1])
    elif flags & PERSIST:
        if ks.persist(argv[1]):
            notify_keyspace_event(ks, "g", b"persist", argv[1])
    return bytes(value)


@command("mget", -2, "readonly fast", tips=("request_policy:multi_shard",),
         keys=(1, -1, 1), group="string", since="1.0.0",
         complexity="O(N) where N is the number of keys to retrieve.",
         summary="Atomically returns the string values of one or more keys.")
def mget(c, argv):
    lookup = c.server.keyspace.lookup_read
    out = []
    for key in argv[1:]:
        value = lookup(key)
        t = type(value)
        if t is bytes:
            out.append(value)
        elif t is bytearray:
            out.append(bytes(value))
        else:
            out.append(None)            # missing or another type: nil, never an error
    return out


def _mset_generic(c, argv, nx):
    if len(argv) % 2 == 0:
        raise ReplyError("ERR wrong number of arguments for '%s' command"
                         % ("msetnx" if nx else "mset"))
    ks = c.server.keyspace
    if nx:
        for i in range(1, len(argv), 2):
            if ks.get(argv[i]) is not None:
                return 0
    if ks.notify_flags:       # each key's 'new' (if created), then its 'set', in turn
        for i in range(1, len(argv), 2):
            ks.set(argv[i], argv[i + 1])
            notify_keyspace_event(ks, "$", b"set", argv[i])
    else:
        ks.set_strings(argv)
    return 1 if nx else OK


@command("mset", -3, "write denyoom",
         tips=("request_policy:multi_shard", "response_policy:all_succeeded"),
         keys=(1, -1, 2), group="string", since="1.0.1",
         complexity="O(N) where N is the number of keys to set.",
         summary="Atomically creates or modifies the string values of one or more keys.",
         key_specs=[{"flags": ["OW", "update"],
                     "begin_search": {"index": 1}, "find_keys": {"range": (-1, 2, 0)}}])
def mset(c, argv):
    return _mset_generic(c, argv, False)


@command("msetnx", -3, "write denyoom",
         tips=("request_policy:multi_shard", "response_policy:agg_min"),
         keys=(1, -1, 2), group="string", since="1.0.1",
         complexity="O(N) where N is the number of keys to set.",
         summary="Atomically modifies the string values of one or more keys only when all "
                 "keys don't exist.",
         key_specs=[{"flags": ["OW", "insert"],
                     "begin_search": {"index": 1}, "find_keys": {"range": (-1, 2, 0)}}])
def msetnx(c, argv):
    return _mset_generic(c, argv, True)


# ---------------------------------------------------------------- counters

def incr_by(c, key, delta):
    """Redis's incrDecrCommand. The TTL is kept; the result is stored canonically."""
    ks = c.server.keyspace
    slot = ks.hint_slot if key is ks.hint_key else slot_of(key)   # for the read and write
    value = ks.get(key, slot)
    if value is None:
        current = 0
    else:
        t = type(value)
        if t is bytes:
            current = parse_int64(value)
        elif t is bytearray:
            current = parse_int64(bytes(value))
        else:
            raise ReplyError(WRONGTYPE)
        if current is None:
            raise ReplyError(NOT_INTEGER)
    result = current + delta
    if result > INT64_MAX or result < INT64_MIN:
        raise ReplyError("ERR increment or decrement would overflow")
    if type(value) is bytes:
        ks.replace_string(key, b"%d" % result, slot)
    else:
        ks.set(key, b"%d" % result, keep_ttl=True, slot=slot)
    if ks.notify_flags:
        notify_keyspace_event(ks, "$", b"incrby", key)     # INCR and DECR* too
    return result


@command("incr", 2, "write denyoom fast", keys=(1, 1, 1), group="string", complexity="O(1)",
         summary="Increments the integer value of a key by one. Uses 0 as initial value if "
                 "the key doesn't exist.")
def incr(c, argv):
    return incr_by(c, argv[1], 1)


@command("decr", 2, "write denyoom fast", keys=(1, 1, 1), group="string", complexity="O(1)",
         summary="Decrements the integer value of a key by one. Uses 0 as initial value if "
                 "the key doesn't exist.")
def decr(c, argv):
    return incr_by(c, argv[1], -1)


@command("incrby", 3, "write denyoom fast", keys=(1, 1, 1), group="string",
         complexity="O(1)", summary="Increments the integer value of a key by a number. "
                                    "Uses 0 as initial value if the key doesn't exist.")
def incrby(c, argv):
    return incr_by(c, argv[1], int_arg(argv[2]))


@command("decrby", 3, "write denyoom fast", keys=(1, 1, 1), group="string",
         complexity="O(1)", summary="Decrements a number from the integer value of a key. "
                                    "Uses 0 as initial value if the key doesn't exist.")
def decrby(c, argv):
    delta = int_arg(argv[2])
    if delta == INT64_MIN:              # -delta does not fit in 64 bits
        raise ReplyError("ERR decrement would overflow")
    return incr_by(c, argv[1], -delta)


@command("incrbyfloat", 3, "write denyoom fast", keys=(1, 1, 1), group="string",
         since="2.6.0", complexity="O(1)",
         summary="Increment the floating point value of a key by a number. Uses 0 as "
                 "initial value if the key doesn't exist.")
def incrbyfloat(c, argv):
    ks = c.server.keyspace
    value = string_for_write(ks, argv[1])
    current = Fraction(0) if value is None else parse_long_double(bytes(value))
    increment = parse_long_double(argv[2])
    if current is None or increment is None:
        raise ReplyError(NOT_FLOAT)
    result = add_long_double(current, increment)
    if type(result) is tuple:
        raise ReplyError("ERR increment would produce NaN or Infinity")
    text = format_long_double(result)
    ks.set(argv[1], text, keep_ttl=True)
    notify_keyspace_event(ks, "$", b"incrbyfloat", argv[1])
    return text


# ---------------------------------------------------------------- byte ranges

@command("append", 3, "write denyoom fast", keys=(1, 1, 1), group="string", since="2.0.0",
         complexity="O(1)", summary="Appends a string to the value of a key. Creates the "
                                    "key if it doesn't exist.",
         key_specs=[key_spec(["RW", "insert"], 1)])
def append(c, argv):
    ks = c.server.keyspace
    key, suffix = argv[1], argv[2]
    value = string_for_write(ks, key)
    if value is None:
        ks.set(key, suffix)
        notify_keyspace_event(ks, "$", b"append", key)
        return len(suffix)
    check_length(c, len(value), len(suffix))
    if type(value) is bytes:
        # First in-place change: becomes a mutable ("raw") string.
        value = bytearray(value)
        value += suffix
        ks.set(key, value, keep_ttl=True)
    else:
        value += suffix
        ks.modified(key)
    notify_keyspace_event(ks, "$", b"append", key)
    return len(value)


@command("strlen", 2, "readonly fast", keys=(1, 1, 1), group="string", since="2.2.0",
         complexity="O(1)", summary="Returns the length of a string value.",
         key_specs=[key_spec(["RO"], 1)])
def strlen(c, argv):
    value = get_string(c, argv[1])
    return 0 if value is None else len(value)


def _getrange(c, argv):
    start = int_arg(argv[2])
    end = int_arg(argv[3])
    value = get_string(c, argv[1])
    if value is None:
        return b""
    size = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start = max(size + start, 0)
    if end < 0:
        end = max(size + end, 0)
    if end >= size:
        end = size - 1
    if start > end or size == 0:
        return b""
    return bytes(value[start:end + 1])


@command("getrange", 4, "readonly", keys=(1, 1, 1), group="string", since="2.4.0",
         complexity="O(N) where N is the length of the returned string.",
         summary="Returns a substring of the string stored at a key.")
def getrange(c, argv):
    return _getrange(c, argv)


@command("substr", 4, "readonly", keys=(1, 1, 1), group="string", since="1.0.0",
         complexity="O(N) where N is the length of the returned string.",
         summary="Returns a substring from a string value.")
def substr(c, argv):
    return _getrange(c, argv)


@command("setrange", 4, "write denyoom", keys=(1, 1, 1), group="string", since="2.2.0",
         complexity="O(1), not counting the time taken to copy the new string in place.",
         summary="Overwrites a part of a string value with another by an offset. Creates "
                 "the key if it doesn't exist.",
         key_specs=[key_spec(["RW", "update"], 1)])
def setrange(c, argv):
    ks = c.server.keyspace
    key, patch = argv[1], argv[3]
    offset = int_arg(argv[2])
    if offset < 0:
        raise ReplyError("ERR offset is out of range")
    value = string_for_write(ks, key)
    if value is None:
        if not patch:
            return 0                    # nothing to write: the key is not created
        check_length(c, offset, len(patch))
        value = bytearray(offset)
        value += patch
        ks.set(key, value)
        notify_keyspace_event(ks, "$", b"setrange", key)
        return len(value)
    if not patch:
        return len(value)
    check_length(c, offset, len(patch))
    if type(value) is bytes:
        value = bytearray(value)
        ks.set(key, value, keep_ttl=True)
    else:
        ks.modified(key)
    end = offset + len(patch)
    if end > len(value):
        value.extend(bytes(end - len(value)))   # the gap is zero-padded
    value[offset:end] = patch
    notify_keyspace_event(ks, "$", b"setrange", key)
    return len(value)


# ---------------------------------------------------------------- LCS

def lcs_rows(a: bytes, b: bytes) -> list:
    """Bit-parallel LCS (Hyyro): rows[i] encodes the DP row for a[:i] against b.

    Bit j of rows[i] is 0 exactly where LCS(i, j+1) = LCS(i, j) + 1, so LCS(i, j) is the
    number of zero bits among the low j bits. One big-int step per byte of `a` instead of
    len(b) Python steps: the table Redis fills cell by cell, at a 64th of the work."""
    width = len(b)
    full = (1 << width) - 1
    positions = {}
    for j, ch in enumerate(b):
        positions[ch] = positions.get(ch, 0) | (1 << j)
    row = full
    rows = [row]
    for ch in a:
        match = row & positions.get(ch, 0)
        row = ((row + match) | (row - match)) & full
        rows.append(row)
    return rows


def _lcs_at(rows, i, j) -> int:
    """LCS length of a[:i] and b[:j]."""
    return j - (rows[i] & ((1 << j) - 1)).bit_count()


@command("lcs", -3, "readonly", keys=(1, 2, 1), group="string", since="7.0.0",
         complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
         summary="Finds the longest common substring.")
def lcs(c, argv):
    ks = c.server.keyspace
    a = ks.lookup_read(argv[1])
    b = ks.lookup_read(argv[2])
    for value in (a, b):
        if value is not None and type(value) is not bytes and type(value) is not bytearray:
            raise ReplyError("ERR The specified keys must contain string values")
    a = b"" if a is None else bytes(a)
    b = b"" if b is None else bytes(b)
    get_len = get_idx = with_match_len = False
    min_match_len = 0
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"idx":
            get_idx = True
        elif opt == b"len":
            get_len = True
        elif opt == b"withmatchlen":
            with_match_len = True
        elif opt == b"minmatchlen" and i + 1 < len(argv):
            min_match_len = max(int_arg(argv[i + 1]), 0)
            i += 1
        else:
            raise ReplyError(SYNTAX_ERROR)
        i += 1
    if get_idx and get_len:
        raise ReplyError("ERR If you want both the length and indexes, please just use IDX.")
    rows = lcs_rows(a, b)
    total = _lcs_at(rows, len(a), len(b))
    if get_len:
        return total
    return _lcs_walk(a, b, rows, total, get_idx, with_match_len, min_match_len)


def _lcs_walk(a, b, rows, total, get_idx, with_match_len, min_match_len):
    """Walk the table back from the end as Redis does, collecting the LCS string and the
    matched ranges (same tie-breaks, so the same ranges in the same order)."""
    alen = len(a)
    result = bytearray(total)
    k = total
    matches = []
    a_start = alen                      # alen: no range in progress
    a_end = b_start = b_end = 0
    i, j = alen, len(b)
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[k - 1] = a[i - 1]
            if a_start == alen:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1            # extend the range backwards: still contiguous
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            k -= 1
            i -= 1
            j -= 1
        else:
            if _lcs_at(rows, i - 1, j) > _lcs_at(rows, i, j - 1):
                i -= 1
            else:
                j -= 1
            if a_start != alen:
                emit = True
        if emit:
            length = a_end - a_start + 1
            if get_idx and (min_match_len == 0 or length >= min_match_len):
                entry = [[a_start, a_end], [b_start, b_end]]
                if with_match_len:
                    entry.append(length)
                matches.append(entry)
            a_start = alen
    if get_idx:
        return {b"matches": matches, b"len": total}
    return bytes(result)
