"""XREAD and XREADGROUP, and serving their blocked readers.

A reader with nothing to read and a BLOCK waits through commands/server/blocking.py
like BLPOP (FIFO per key, moved away with its slot -> -MOVED, -CLUSTERDOWN when the
cluster fails, CLIENT UNBLOCK). When a writer makes one of its keys ready, `serve`
runs in the writer's context, as Redis's serveClientsBlockedOnStreamKey does:

* XREAD waits for an ID above the one it asked for (`$`: the last ID when it blocked);
* XREADGROUP `>` waits for an ID above its group's last delivered ID, read again at
  serve time (other readers of the group may have moved it); a group destroyed meanwhile
  ends the wait with -NOGROUP, a key deleted or overwritten with -UNBLOCKED.

Propagation (Redis's streamPropagateXCLAIM / streamPropagateGroupID): XREADGROUP never
reaches replicas as itself. Each entry it adds to a PEL goes as `XCLAIM key group
consumer 0 id TIME <ms> RETRYCOUNT <n> FORCE JUSTID LASTID <last id>`, a NOACK read as
`XGROUP SETID key group <last id> ENTRIESREAD <n>` (and XGROUP CREATECONSUMER for the
consumer it created). When a blocked reader is served, these join the unit of the
writer that served it.
"""
from commands.data.keyspace import now_ms
from commands.data.notifications import notify_keyspace_event
from commands.data.numbers import parse_int64
from commands.replication.propagation import propagate
from commands.server.args import SYNTAX_ERROR
from commands.server.blocking import block, can_block
from commands.server.resp import NULL_ARRAY, Raw, ReplyError, encode_one
from commands.server.table import command
from commands.streams.stream_cmds import entry_reply, peek_stream, read_stream
from commands.streams.stream_ids import parse_strict_id
from commands.streams.stream_type import MAX_ID, Nack, StreamValue, format_id

BLOCKED_DEFAULT_COUNT = 1000       # XREAD_BLOCKED_DEFAULT_COUNT
DOLLAR_IN_GROUP = ("ERR The $ ID is meaningless in the context of XREADGROUP: you want "
                   "to read the history of this consumer by specifying a proper ID, or "
                   "use the > ID to get new messages. The $ ID would just return an "
                   "empty result set.")
GT_OUTSIDE_GROUP = ("ERR The > ID can be specified only when calling XREADGROUP using the "
                    "GROUP <group> <consumer> option.")
UNBALANCED = ("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' "
              "must be specified.")
GROUP_GONE = "NOGROUP the consumer group this client was blocked on no longer exists"
KEY_GONE = "UNBLOCKED the stream key no longer exists"


def xread_keys(argv) -> list:
    """xreadGetKeys: the keys after STREAMS (half of what follows it)."""
    i = 1
    while i < len(argv):
        word = argv[i].lower()
        if word in (b"block", b"count"):
            i += 2
        elif word == b"group":
            i += 3
        elif word == b"noack":
            i += 1
        elif word == b"streams":
            rest = len(argv) - i - 1
            if rest == 0 or rest % 2:
                return []
            return list(range(i + 1, i + 1 + rest // 2))
        else:
            return []
    return []


def _timeout_ms(arg: bytes) -> int:
    value = parse_int64(arg)
    if value is None:
        raise ReplyError("ERR timeout is not an integer or out of range")
    if value < 0:
        raise ReplyError("ERR timeout is negative")
    return value


def xclaim_form(key, groupname, group, sid, nack) -> list:
    """The XCLAIM that recreates one PEL entry on a replica (streamPropagateXCLAIM)."""
    return [b"XCLAIM", key, groupname, nack.consumer.name, b"0", format_id(sid), b"TIME",
            b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count,
            b"FORCE", b"JUSTID", b"LASTID", format_id(group.last_id)]


def setid_form(key, groupname, group) -> list:
    return [b"XGROUP", b"SETID", key, groupname, format_id(group.last_id), b"ENTRIESREAD",
            b"%d" % group.entries_read]


def _propagating(server) -> bool:
    """Is anyone taking the stream (replicas, the AOF)? The records are built only then."""
    propagator = server.propagator
    return propagator is not None and propagator.active


def propagate_claim(server, key, groupname, group, sid, nack) -> None:
    if _propagating(server):
        propagate(server, xclaim_form(key, groupname, group, sid, nack))


def propagate_setid(server, key, groupname, group) -> None:
    if _propagating(server):
        propagate(server, setid_form(key, groupname, group))


def deliver(server, s, key, groupname, group, consumer, start, count, noack) -> list:
    """streamReplyWithRange for a group read of new entries: moves the group's last ID,
    fills the PELs, propagates their XCLAIMs. Returns the entries' replies."""
    out = []
    moved = False
    now = now_ms()
    for sid, flat in s.range(start, MAX_ID, count):
        if sid > group.last_id:
            s.group_delivered(group, sid)
            if noack:
                moved = True
        out.append(entry_reply(sid, flat))
        if not noack:
            nack = group.pel.get(sid)
            if nack is None:
                nack = Nack(consumer, now)
                group.pel[sid] = nack
                consumer.pel[sid] = nack
            else:
                group.assign(sid, nack, consumer)
                nack.delivery_time = now
                nack.delivery_count = 1
            propagate_claim(server, key, groupname, group, sid, nack)
    if moved:
        propagate_setid(server, key, groupname, group)
    return out


def history(s, consumer, start, count) -> list:
    """A consumer's own pending entries from `start` (streamReplyWithRangeFromConsumerPEL):
    delivering one again counts it; an entry deleted since shows as (id, nil)."""
    out = []
    now = now_ms()
    for sid in consumer.pel.irange(minimum=start):
        if count and len(out) >= count:
            break
        flat = s.get(sid)
        if flat is None:
            out.append([format_id(sid), NULL_ARRAY])
        else:
            nack = consumer.pel[sid]
            nack.delivery_time = now
            nack.delivery_count += 1
            out.append(entry_reply(sid, flat))
    return out


def _consumer_for(c, key, groupname, group, consumer_name, noack):
    """The named consumer of the group, created (with its event) when missing; a NOACK
    read propagates the creation, as no XCLAIM will create it on replicas."""
    consumer = group.lookup_consumer(consumer_name)
    if consumer is None:
        consumer = group.create_consumer(consumer_name)
        ks = c.server.keyspace
        ks.dirty += 1
        notify_keyspace_event(ks, "t", b"xgroup-createconsumer", key)
        if noack:
            propagate(c.server, [b"XGROUP", b"CREATECONSUMER", key, groupname,
                                 consumer_name])
    return consumer


def _reply(c, served: list):
    """[[key, entries], ...] in RESP2, {key: entries} in RESP3."""
    if c.resp3:
        if len({key for key, _ in served}) < len(served):
            # the same key named twice: Redis's map repeats it, which a dict cannot
            return Raw(b"%%%d\r\n" % len(served) + b"".join(
                encode_one(key, True) + encode_one(entries, True) for key, entries in served))
        return {key: entries for key, entries in served}
    return [[key, entries] for key, entries in served]


def _xread(c, argv, xreadgroup: bool):
    timeout = None
    count = 0
    streams_at = 0
    noack = False
    groupname = consumer_name = None
    argc = len(argv)
    i = 1
    while i < argc:
        more = argc - i - 1
        word = argv[i].lower()
        if word == b"block" and more:
            i += 1
            timeout = _timeout_ms(argv[i])
        elif word == b"count" and more:
            i += 1
            count = parse_int64(argv[i])
            if count is None:
                raise ReplyError("ERR value is not an integer or out of range")
            count = max(count, 0)
        elif word == b"streams" and more:
            streams_at = i + 1
            if (argc - streams_at) % 2:
                raise ReplyError(UNBALANCED)
            break
        elif word == b"group" and more >= 2:
            if not xreadgroup:
                raise ReplyError("ERR The GROUP option is only supported by XREADGROUP. "
                                 "You called XREAD instead.")
            groupname, consumer_name = argv[i + 1], argv[i + 2]
            i += 2
        elif word == b"noack":
            if not xreadgroup:
                raise ReplyError("ERR The NOACK option is only supported by XREADGROUP. "
                                 "You called XREAD instead.")
            noack = True
        else:
            raise ReplyError(SYNTAX_ERROR)
        i += 1
    if streams_at == 0:
        raise ReplyError(SYNTAX_ERROR)
    if xreadgroup and groupname is None:
        raise ReplyError("ERR Missing GROUP option for XREADGROUP")
    c.propagate_as = []            # XREADGROUP propagates its effects, never itself
    nstreams = (argc - streams_at) // 2
    keys = argv[streams_at:streams_at + nstreams]
    ids = []
    groups = []
    ks = c.server.keyspace
    for key, id_arg in zip(keys, argv[streams_at + nstreams:]):
        s = read_stream(c, key)
        group = None
        if groupname is not None:
            group = s.groups.get(groupname) if s is not None else None
            if group is None:
                raise ReplyError("NOGROUP No such key '%s' or consumer group '%s' in "
                                 "XREADGROUP with GROUP option"
                                 % (key.decode("utf-8", "replace"),
                                    groupname.decode("utf-8", "replace")))
        groups.append(group)
        if id_arg == b"$":
            if xreadgroup:
                raise ReplyError(DOLLAR_IN_GROUP)
            ids.append(s.last_id if s is not None else 0)
        elif id_arg == b">":
            if not xreadgroup:
                raise ReplyError(GT_OUTSIDE_GROUP)
            ids.append(MAX_ID)
        else:
            ids.append(parse_strict_id(id_arg))
    served = []
    for key, gt, group in zip(keys, ids, groups):
        s = peek_stream(c, key)
        if s is None:
            continue
        if group is not None:
            if gt != MAX_ID:
                consumer = _consumer_for(c, key, groupname, group, consumer_name, noack)
                served.append((key, history(s, consumer, gt + 1, count)))
                ks.dirty += 1
                continue
            if not s.length or s.last_valid_id() <= group.last_id:
                continue
            consumer = _consumer_for(c, key, groupname, group, consumer_name, noack)
            served.append((key, deliver(c.server, s, key, groupname, group, consumer,
                                        group.last_id + 1, count, noack)))
            ks.dirty += 1
        else:
            if s.length and s.last_valid_id() > gt:
                served.append((key, [entry_reply(sid, flat)
                                     for sid, flat in s.range(gt + 1, MAX_ID, count)]))
    if served:
        return _reply(c, served)
    if timeout is None or not can_block(c):
        return NULL_ARRAY
    wait_count = count or BLOCKED_DEFAULT_COUNT
    wanted = {}
    for key, gt in zip(keys, ids):
        wanted.setdefault(key, gt)       # a key named twice waits for its first ID

    def serve(key):
        value = ks.get(key)
        if groupname is not None and type(value) is not StreamValue:
            return ReplyError(KEY_GONE)
        if type(value) is not StreamValue:
            return None
        gt = wanted[key]
        group = None
        if groupname is not None:
            group = value.groups.get(groupname)
            if group is None:
                return ReplyError(GROUP_GONE)
            gt = group.last_id
        if value.last_id <= gt:
            return None
        if group is None:
            entries = [entry_reply(sid, flat)
                       for sid, flat in value.range(gt + 1, MAX_ID, wait_count)]
        else:
            consumer = _consumer_for(c, key, groupname, group, consumer_name,
                                     noack)
            entries = deliver(c.server, value, key, groupname, group, consumer, gt + 1,
                              wait_count, noack)
        return _reply(c, [(key, entries)])

    reply = block(c, keys, timeout / 1000.0, serve, NULL_ARRAY)
    c.propagate_as = []
    return reply


def _streams_spec(startfrom: int) -> list:
    """The keys follow STREAMS, half of what is left (Redis's keyword key spec)."""
    return [{"flags": ["RO", "access"], "begin_search": {"keyword": ("STREAMS", startfrom)},
             "find_keys": {"range": (-1, 1, 2)}}]


@command("xread", -4, "readonly blocking", key_finder=xread_keys, group="stream",
         key_specs=_streams_spec(1),
         summary="Return never seen elements in multiple streams, with IDs greater than "
                 "the ones reported by the caller for each stream. Can block.",
         since="5.0.0",
         complexity="For each stream mentioned: O(N) with N being the number of elements "
                    "being returned, it means that XREAD-ing with a fixed COUNT is O(1). "
                    "Note that when the BLOCK option is used, XADD will pay O(M) time in "
                    "order to serve the M clients blocked on the stream getting new data.")
def xread(c, argv):
    return _xread(c, argv, xreadgroup=False)


@command("xreadgroup", -7, "write blocking", key_finder=xread_keys, group="stream",
         key_specs=_streams_spec(4),
         summary="Return new entries from a stream using a consumer group, or access the "
                 "history of the pending entries for a given consumer. Can block.",
         since="5.0.0",
         complexity="For each stream mentioned: O(M) with M being the number of elements "
                    "returned. If M is constant (e.g. always asking for the first 10 "
                    "elements with COUNT), you can consider it O(1). On the other side "
                    "when XREADGROUP blocks, XADD will pay the O(N) time in order to "
                    "serve the N clients blocked on the stream getting new data.")
def xreadgroup(c, argv):
    return _xread(c, argv, xreadgroup=True)
