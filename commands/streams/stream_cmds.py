"""The stream commands on entries: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID.

What they propagate (Redis's rewrites in xaddCommand/xtrimCommand): XADD with `*` or
`ms-*` goes to replicas and the AOF with the ID it chose; approximate trimming
(`MAXLEN ~ n`, `MINID ~ id`) goes as exact trimming to what was reached (`= <length>`
or `= <first id>`), so a replica with other node boundaries ends with the same entries.
A command from our master (or the AOF) ignores LIMIT, as Redis's mustObeyClient does.
"""
from commands.data.keyspace import now_ms
from commands.data.notifications import notify_keyspace_event
from commands.families.typed_lookup import typed_lookups
from commands.server.args import SYNTAX_ERROR, int_arg
from commands.server.resp import NULL_ARRAY, OK, ReplyError
from commands.server.table import command, key_spec
from commands.streams.stream_ids import (next_id, parse_id, parse_interval,
                                         parse_strict_id)
from commands.streams.stream_type import (MAX_ID, SEQ_MASK, StreamValue, format_id,
                                          make_id)



read_stream, write_stream = typed_lookups(StreamValue)


def peek_stream(c, key):
    """lookupKeyRead without touching the hit/miss counters (XREAD's second pass)."""
    return write_stream(c.server.keyspace, key)


XADD_ZERO_ID = "ERR The ID specified in XADD must be greater than 0-0"
XADD_EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items"
XADD_TOO_SMALL = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
TOO_LARGE = "ERR Elements are too large to be stored"
BOTH_STRATEGIES = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
LISTPACK_MAX = 1 << 30


def entry_reply(sid: int, flat) -> list:
    return [format_id(sid), list(flat)]


def node_limits(c):
    settings = c.server.settings
    return settings.stream_node_max_entries, settings.stream_node_max_bytes


class TrimArgs:
    """What streamParseAddOrTrimArgsOrReply reads."""
    __slots__ = ("strategy", "arg_index", "approx", "limit", "maxlen", "minid",
                 "nomkstream", "id", "id_given", "seq_given", "id_index")

    def __init__(self):
        self.strategy = None       # "maxlen" | "minid" | None
        self.arg_index = 0
        self.approx = False
        self.limit = 0
        self.maxlen = 0
        self.minid = 0
        self.nomkstream = False
        self.id = 0
        self.id_given = False
        self.seq_given = True
        self.id_index = 0         # XADD: where the ID argument is


def parse_add_or_trim(c, argv, xadd: bool) -> TrimArgs:
    args = TrimArgs()
    limit_given = False
    i = 2
    argc = len(argv)
    while i < argc:
        more = argc - 1 - i
        opt = argv[i]
        low = opt.lower()
        if xadd and opt == b"*":
            break
        if low in (b"maxlen", b"minid") and more:
            if args.strategy is not None:
                raise ReplyError(BOTH_STRATEGIES)
            args.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                args.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            if low == b"maxlen":
                args.maxlen = int_arg(argv[i + 1])
                if args.maxlen < 0:
                    raise ReplyError("ERR The MAXLEN argument must be >= 0.")
            else:
                args.minid = parse_strict_id(argv[i + 1])
            i += 1
            args.strategy = low.decode()
            args.arg_index = i
        elif low == b"limit" and more:
            args.limit = int_arg(argv[i + 1])
            if args.limit < 0:
                raise ReplyError("ERR The LIMIT argument must be >= 0.")
            limit_given = True
            i += 1
        elif xadd and low == b"nomkstream":
            args.nomkstream = True
        elif xadd:
            parsed = parse_id(opt, 0, strict=True, allow_seq_star=True)
            if type(parsed) is tuple:
                args.id, args.seq_given = make_id(parsed[0], 0), False
            else:
                args.id = parsed
            args.id_given = True
            break
        else:
            raise ReplyError(SYNTAX_ERROR)
        i += 1
    args.id_index = i
    if args.limit and args.strategy is None:
        raise ReplyError("ERR syntax error, LIMIT cannot be used without specifying a "
                         "trimming strategy")
    if not xadd and args.strategy is None:
        raise ReplyError("ERR syntax error, XTRIM must be called with a trimming strategy")
    if c.is_master_link:
        args.limit = 0
    elif limit_given:
        if not args.approx:
            raise ReplyError("ERR syntax error, LIMIT cannot be used without the special "
                             "~ option")
    elif args.approx:
        limit = 100 * c.server.settings.stream_node_max_entries
        if limit <= 0:
            limit = 10000
        args.limit = min(limit, 1000000)
    else:
        args.limit = 0
    return args


def trim(s: StreamValue, args: TrimArgs) -> int:
    if args.strategy == "maxlen":
        return s.trim(maxlen=args.maxlen, approx=args.approx, limit=args.limit)
    return s.trim(minid=args.minid, approx=args.approx, limit=args.limit)


def rewrite_trim(argv: list, s: StreamValue, args: TrimArgs) -> None:
    """Approximate trimming propagates as exact trimming to where it got."""
    argv[args.arg_index - 1] = b"="
    if args.strategy == "maxlen":
        argv[args.arg_index] = b"%d" % s.length
    else:
        first = s.nodes[0].id_at(0) if s.nodes else MAX_ID
        argv[args.arg_index] = format_id(first)


# ---------------------------------------------------------------- XADD

@command("xadd", -5, "write denyoom fast", keys=(1, 1, 1), group="stream",
         key_specs=[key_spec(["RW", "update"], 1, notes="UPDATE instead of INSERT because "
                             "of the optional trimming feature")],
         summary="Appends a new entry to a stream", since="5.0.0",
         complexity="O(1) when adding a new entry, O(N) when trimming where N being the "
                    "number of entries evicted.", tips=("nondeterministic_output",))
def xadd(c, argv):
    args = parse_add_or_trim(c, argv, xadd=True)
    field_pos = args.id_index + 1
    nfields = len(argv) - field_pos
    if nfields < 2 or nfields % 2:
        raise ReplyError("ERR wrong number of arguments for 'xadd' command")
    if args.id_given and args.seq_given and args.id == 0:
        raise ReplyError(XADD_ZERO_ID)
    ks = c.server.keyspace
    key = argv[1]
    s = write_stream(ks, key)
    created = False
    if s is None:
        if args.nomkstream:
            return None
        s = StreamValue()
        created = True
    if s.last_id == MAX_ID:
        raise ReplyError(XADD_EXHAUSTED)
    # the ID
    if not args.id_given:
        sid = next_id(s.last_id, now_ms())
    elif not args.seq_given:
        ms = args.id >> 64
        if s.last_id >> 64 == ms:
            if s.last_id & SEQ_MASK == SEQ_MASK:
                # Redis fails here without setting errno, so it reports the other error
                raise ReplyError(TOO_LARGE)
            sid = s.last_id + 1
        else:
            sid = args.id
    else:
        sid = args.id
    if sid <= s.last_id:
        raise ReplyError(XADD_TOO_SMALL)
    flat = tuple(argv[field_pos:])
    if sum(len(x) for x in flat) > LISTPACK_MAX:
        raise ReplyError(TOO_LARGE)
    if created:
        ks.set(key, s)
    max_entries, max_bytes = node_limits(c)
    s.append(sid, flat, max_entries, max_bytes)
    if not created:
        ks.modified(key)
    reply = format_id(sid)
    notify_keyspace_event(ks, "t", b"xadd", key)
    rewritten = None
    if args.strategy is not None:
        if trim(s, args):
            notify_keyspace_event(ks, "t", b"xtrim", key)
        if args.approx:
            rewritten = list(argv)
            rewrite_trim(rewritten, s, args)
    if not args.id_given or not args.seq_given:
        if rewritten is None:
            rewritten = list(argv)
        rewritten[args.id_index] = reply
    if rewritten is not None:
        c.propagate_as = [rewritten]
    return reply


# ---------------------------------------------------------------- reading

@command("xlen", 2, "readonly fast", keys=(1, 1, 1), group="stream",
         key_specs=[key_spec(["RO"], 1)],
         summary="Return the number of entries in a stream", since="5.0.0",
         complexity="O(1)")
def xlen(c, argv):
    s = read_stream(c, argv[1])
    return 0 if s is None else s.length


def _xrange(c, argv, rev: bool):
    start_arg, end_arg = (argv[3], argv[2]) if rev else (argv[2], argv[3])
    start = parse_interval(start_arg, 0, start=True)
    end = parse_interval(end_arg, SEQ_MASK, start=False)
    count = -1
    j = 4
    while j < len(argv):
        if argv[j].lower() == b"count" and len(argv) - j - 1 >= 1:
            count = max(int_arg(argv[j + 1]), 0)
            j += 2
        else:
            raise ReplyError(SYNTAX_ERROR)
    s = read_stream(c, argv[1])
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    entries = s.range(start, end, max(count, 0), rev)
    return [entry_reply(sid, flat) for sid, flat in entries]


@command("xrange", -4, "readonly", keys=(1, 1, 1), group="stream",
         summary="Return a range of elements in a stream, with IDs matching the specified "
                 "IDs interval", since="5.0.0",
         complexity="O(N) with N being the number of elements being returned. If N is "
                    "constant (e.g. always asking for the first 10 elements with COUNT), "
                    "you can consider it O(1).")
def xrange(c, argv):
    return _xrange(c, argv, rev=False)


@command("xrevrange", -4, "readonly", keys=(1, 1, 1), group="stream",
         summary="Return a range of elements in a stream, with IDs matching the specified "
                 "IDs interval, in reverse order (from greater to smaller IDs) compared "
                 "to XRANGE", since="5.0.0",
         complexity="O(N) with N being the number of elements returned. If N is constant "
                    "(e.g. always asking for the first 10 elements with COUNT), you can "
                    "consider it O(1).")
def xrevrange(c, argv):
    return _xrange(c, argv, rev=True)


# ---------------------------------------------------------------- deleting

@command("xdel", -3, "write fast", keys=(1, 1, 1), group="stream",
         key_specs=[key_spec(["RW", "delete"], 1)],
         summary="Removes the specified entries from the stream. Returns the number of "
                 "items actually deleted, that may be different from the number of IDs "
                 "passed in case certain IDs do not exist.", since="5.0.0",
         complexity="O(1) for each single item to delete in the stream, regardless of "
                    "the stream size.")
def xdel(c, argv):
    ks = c.server.keyspace
    key = argv[1]
    s = write_stream(ks, key)
    if s is None:
        return 0
    ids = [parse_strict_id(a) for a in argv[2:]]
    deleted = 0
    first_went = False
    for sid in ids:
        if s.delete(sid):
            if sid == s.first_id:
                first_went = True
            if sid > s.max_deleted_id:
                s.max_deleted_id = sid
            deleted += 1
    if deleted:
        s.after_deletions(first_went)
        ks.modified(key)
        ks.dirty += deleted - 1
        notify_keyspace_event(ks, "t", b"xdel", key)
    return deleted


@command("xtrim", -4, "write", keys=(1, 1, 1), group="stream",
         key_specs=[key_spec(["RW", "delete"], 1)],
         summary="Trims the stream to (approximately if '~' is passed) a certain size",
         since="5.0.0",
         complexity="O(N), with N being the number of evicted entries. Constant times "
                    "are very small however, since entries are organized in macro nodes "
                    "containing multiple entries that can be released with a single "
                    "deallocation.", tips=("nondeterministic_output",))
def xtrim(c, argv):
    args = parse_add_or_trim(c, argv, xadd=False)
    ks = c.server.keyspace
    key = argv[1]
    s = write_stream(ks, key)
    if s is None:
        return 0
    deleted = trim(s, args)
    if deleted:
        notify_keyspace_event(ks, "t", b"xtrim", key)
        if args.approx:
            rewritten = list(argv)
            rewrite_trim(rewritten, s, args)
            c.propagate_as = [rewritten]
        ks.modified(key)
        ks.dirty += deleted - 1
    return deleted


@command("xsetid", -3, "write denyoom fast", keys=(1, 1, 1), group="stream",
         key_specs=[key_spec(["RW", "update"], 1)],
         summary="An internal command for replicating stream values", since="5.0.0",
         complexity="O(1)")
def xsetid(c, argv):
    sid = parse_strict_id(argv[2])
    entries_added = -1
    max_xdel = 0
    i = 3
    while i < len(argv):
        more = len(argv) - 1 - i
        opt = argv[i].lower()
        if opt == b"entriesadded" and more:
            entries_added = int_arg(argv[i + 1])
            if entries_added < 0:
                raise ReplyError("ERR entries_added must be positive")
            i += 2
        elif opt == b"maxdeletedid" and more:
            max_xdel = parse_strict_id(argv[i + 1])
            if sid < max_xdel:
                raise ReplyError("ERR The ID specified in XSETID is smaller than the "
                                 "provided max_deleted_entry_id")
            i += 2
        else:
            raise ReplyError(SYNTAX_ERROR)
    ks = c.server.keyspace
    key = argv[1]
    s = write_stream(ks, key)
    if s is None:
        raise ReplyError("ERR no such key")
    if s.length > 0:
        if sid < s.last_valid_id():
            raise ReplyError("ERR The ID specified in XSETID is smaller than the target "
                             "stream top item")
        if entries_added != -1 and s.length > entries_added:
            raise ReplyError("ERR The entries_added specified in XSETID is smaller than "
                             "the target stream length")
    s.last_id = sid
    if entries_added != -1:
        s.entries_added = entries_added
    if max_xdel:
        s.max_deleted_id = max_xdel
    ks.dirty += 1                  # Redis's XSETID signals no modified key
    notify_keyspace_event(ks, "t", b"xsetid", key)
    return OK
