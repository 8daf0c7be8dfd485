"""Consumer groups: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.

XCLAIM and XAUTOCLAIM propagate, as Redis does, one idempotent XCLAIM ... FORCE JUSTID
LASTID per entry they claimed or dropped (stream_read.xclaim_form), and an XGROUP SETID
when only the group's last ID moved; never themselves.
"""
from itertools import islice

from commands.data.keyspace import now_ms
from commands.data.notifications import notify_keyspace_event
from commands.data.numbers import parse_int64
from commands.server.args import SYNTAX_ERROR, int_arg
from commands.server.resp import NULL_ARRAY, OK, ReplyError, Status
from commands.server.table import command, container, key_spec, subcommand
from commands.streams.stream_cmds import entry_reply, read_stream, write_stream
from commands.streams.stream_ids import (parse_id, parse_interval,
                                         parse_strict_id, try_strict_id)
from commands.streams.stream_read import propagate_claim, propagate_setid
from commands.streams.stream_type import (INVALID_ENTRIES_READ, SEQ_MASK,
                                          ConsumerGroup, Nack, StreamValue, format_id)


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def _no_group(key, groupname) -> ReplyError:
    return ReplyError("NOGROUP No such key '%s' or consumer group '%s'"
                      % (_text(key), _text(groupname)))


# ---------------------------------------------------------------- XGROUP

XGROUP = container("xgroup", -2, group="stream", since="5.0.0",
                   summary="A container for consumer groups commands")

_XGROUP_HELP = [
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
]


def _subcommand_syntax(argv) -> ReplyError:
    return ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. "
                      "Try XGROUP HELP." % _text(argv[1]))


def _xgroup(c, argv):
    """xgroupCommand: the checks every subcommand shares, then the subcommand."""
    opt = argv[1].lower()
    ks = c.server.keyspace
    key = argv[2]
    groupname = argv[3]
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    i = 5
    while i < len(argv):
        word = argv[i].lower()
        if opt == b"create" and word == b"mkstream":
            mkstream = True
            i += 1
        elif opt in (b"create", b"setid") and word == b"entriesread" and i + 1 < len(argv):
            entries_read = int_arg(argv[i + 1])
            if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                raise ReplyError("ERR value for ENTRIESREAD must be positive or -1")
            i += 2
        else:
            raise _subcommand_syntax(argv)
    s = write_stream(ks, key)
    group = None
    if not mkstream:
        if s is None:
            raise ReplyError("ERR The XGROUP subcommand requires the key to exist. Note "
                             "that for CREATE you may want to use the MKSTREAM option to "
                             "create an empty stream automatically.")
        group = s.groups.get(groupname)
        if group is None and opt in (b"setid", b"createconsumer", b"delconsumer"):
            raise ReplyError("NOGROUP No such consumer group '%s' for key name '%s'"
                             % (_text(groupname), _text(key)))
    if opt == b"create" and 5 <= len(argv) <= 8:
        if argv[4] == b"$":
            sid = s.last_id if s is not None else 0
        else:
            sid = parse_strict_id(argv[4])
        if s is None:
            s = StreamValue()
            ks.set(key, s)
        if groupname in s.groups:
            raise ReplyError("BUSYGROUP Consumer Group name already exists")
        s.groups[groupname] = ConsumerGroup(sid, entries_read)
        ks.dirty += 1
        notify_keyspace_event(ks, "t", b"xgroup-create", key)
        return OK
    if opt == b"setid" and len(argv) in (5, 7):
        if argv[4] == b"$":
            sid = s.last_id
        else:
            sid = parse_id(argv[4])
        group.last_id = sid
        group.entries_read = entries_read
        ks.dirty += 1
        notify_keyspace_event(ks, "t", b"xgroup-setid", key)
        return OK
    if opt == b"destroy" and len(argv) == 4:
        if group is None:
            return 0
        del s.groups[groupname]
        ks.dirty += 1
        notify_keyspace_event(ks, "t", b"xgroup-destroy", key)
        if ks.blocking_keys and key in ks.blocking_keys:
            ks.ready_keys[key] = None    # signalKeyAsReady: its readers get -NOGROUP
        return 1
    if opt == b"createconsumer" and len(argv) == 5:
        if group.create_consumer(argv[4]) is None:
            return 0
        ks.dirty += 1
        notify_keyspace_event(ks, "t", b"xgroup-createconsumer", key)
        return 1
    if opt == b"delconsumer" and len(argv) == 5:
        consumer = group.lookup_consumer(argv[4], refresh=False)
        if consumer is None:
            return 0
        pending = group.delete_consumer(consumer)
        ks.dirty += 1
        notify_keyspace_event(ks, "t", b"xgroup-delconsumer", key)
        return pending
    raise _subcommand_syntax(argv)


@subcommand(XGROUP, "create", -5, "write denyoom", keys=(2, 2, 1),
            key_specs=[key_spec(["RW", "insert"], 2)], since="5.0.0",
            complexity="O(1)", summary="Create a consumer group.")
def xgroup_create(c, argv):
    return _xgroup(c, argv)


@subcommand(XGROUP, "setid", -5, "write", keys=(2, 2, 1),
            key_specs=[key_spec(["RW", "update"], 2)], since="5.0.0",
            complexity="O(1)", summary="Set a consumer group to an arbitrary last delivered "
                                       "ID value.")
def xgroup_setid(c, argv):
    return _xgroup(c, argv)


@subcommand(XGROUP, "destroy", 4, "write", keys=(2, 2, 1),
            key_specs=[key_spec(["RW", "delete"], 2)], since="5.0.0",
            complexity="O(N) where N is the number of entries in the group's pending "
                       "entries list (PEL).", summary="Destroy a consumer group.")
def xgroup_destroy(c, argv):
    return _xgroup(c, argv)


@subcommand(XGROUP, "createconsumer", 5, "write denyoom", keys=(2, 2, 1),
            key_specs=[key_spec(["RW", "insert"], 2)], since="6.2.0",
            complexity="O(1)", summary="Create a consumer in a consumer group.")
def xgroup_createconsumer(c, argv):
    return _xgroup(c, argv)


@subcommand(XGROUP, "delconsumer", 5, "write", keys=(2, 2, 1),
            key_specs=[key_spec(["RW", "delete"], 2)], since="5.0.0",
            complexity="O(1)", summary="Delete a consumer from a consumer group.")
def xgroup_delconsumer(c, argv):
    return _xgroup(c, argv)


@subcommand(XGROUP, "help", 2, "loading stale", since="5.0.0", complexity="O(1)",
            summary="Show helpful text about the different subcommands")
def xgroup_help(c, argv):
    return [Status(line) for line in _XGROUP_HELP]


# ---------------------------------------------------------------- XACK

@command("xack", -4, "write fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         key_specs=[key_spec(["RW", "update"], 1)],
         complexity="O(1) for each message ID processed.",
         summary="Marks a pending message as correctly processed, effectively removing it "
                 "from the pending entries list of the consumer group. Return value of "
                 "the command is the number of messages successfully acknowledged, that "
                 "is, the IDs we were actually able to resolve in the PEL.")
def xack(c, argv):
    s = read_stream(c, argv[1])
    group = s.groups.get(argv[2]) if s is not None else None
    if group is None:
        return 0
    ids = [parse_strict_id(a) for a in argv[3:]]
    acked = 0
    for sid in ids:
        if group.ack(sid):
            acked += 1
    c.server.keyspace.dirty += acked
    return acked


# ---------------------------------------------------------------- XPENDING

@command("xpending", -3, "readonly", keys=(1, 1, 1), group="stream", since="5.0.0",
         tips=("nondeterministic_output",),
         complexity="O(N) with N being the number of elements returned, so asking for a "
                    "small fixed number of entries per call is O(1). O(M), where M is the "
                    "total number of entries scanned when used with the IDLE filter. When "
                    "the command returns just the summary and the list of consumers is "
                    "small, it runs in O(1) time; otherwise, an additional O(N) time for "
                    "iterating every consumer.",
         summary="Return information and entries from a stream consumer group pending "
                 "entries list, that are messages fetched but never acknowledged.")
def xpending(c, argv):
    argc = len(argv)
    if argc != 3 and not 6 <= argc <= 9:
        raise ReplyError(SYNTAX_ERROR)
    consumer_name = None
    if argc >= 6:
        at = 3
        min_idle = 0
        if argv[3].lower() == b"idle":
            min_idle = int_arg(argv[4])
            if argc < 8:
                raise ReplyError(SYNTAX_ERROR)
            at += 2
        count = max(int_arg(argv[at + 2]), 0)
        start = parse_interval(argv[at], 0, start=True)
        end = parse_interval(argv[at + 1], SEQ_MASK, start=False)
        if at + 3 < argc:
            consumer_name = argv[at + 3]
    s = read_stream(c, argv[1])
    group = s.groups.get(argv[2]) if s is not None else None
    if group is None:
        raise _no_group(argv[1], argv[2])
    if argc == 3:
        if not group.pel:
            return [0, None, None, NULL_ARRAY]
        first = group.pel.keys()[0]
        last = group.pel.keys()[-1]
        owners = [[cons.name, b"%d" % len(cons.pel)] for cons in group.sorted_consumers()
                  if cons.pel]
        return [len(group.pel), format_id(first), format_id(last), owners]
    if consumer_name is not None:
        consumer = group.lookup_consumer(consumer_name, refresh=False)
        if consumer is None:
            return []
        pel = consumer.pel
    else:
        pel = group.pel
    now = now_ms()
    out = []
    if count == 0 or start > end:
        return out
    for sid in pel.irange(start, end):
        nack = pel[sid]
        if min_idle and now - nack.delivery_time < min_idle:
            continue
        out.append([format_id(sid), nack.consumer.name, max(now - nack.delivery_time, 0),
                    nack.delivery_count])
        if len(out) >= count:
            break
    return out


# ---------------------------------------------------------------- XCLAIM / XAUTOCLAIM

def _claim(group, sid, nack, consumer, delivery_time, retrycount, justid):
    group.assign(sid, nack, consumer)
    nack.delivery_time = delivery_time
    if retrycount >= 0:
        nack.delivery_count = retrycount
    elif not justid:
        nack.delivery_count += 1


def _option_int(arg: bytes, message: str) -> int:
    value = parse_int64(arg)
    if value is None:
        raise ReplyError("ERR " + message)
    return value


@command("xclaim", -6, "write fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         key_specs=[key_spec(["RW", "update"], 1)], tips=("nondeterministic_output",),
         complexity="O(log N) with N being the number of messages in the PEL of the "
                    "consumer group.",
         summary="Changes (or acquires) ownership of a message in a consumer group, as if "
                 "the message was delivered to the specified consumer.")
def xclaim(c, argv):
    key, groupname, name = argv[1], argv[2], argv[3]
    s = read_stream(c, key)
    group = s.groups.get(groupname) if s is not None else None
    if group is None:
        raise _no_group(key, groupname)
    min_idle = max(_option_int(argv[4], "Invalid min-idle-time argument for XCLAIM"), 0)
    ids = []
    j = 5
    while j < len(argv):
        sid = try_strict_id(argv[j])
        if sid is None:
            break
        ids.append((sid, argv[j]))
        j += 1
    now = now_ms()
    retrycount = -1
    delivery_time = -1
    force = justid = False
    last_id = 0
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = argv[j].lower()
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            j += 1
            delivery_time = now - _option_int(argv[j], "Invalid IDLE option argument for "
                                                       "XCLAIM")
        elif opt == b"time" and more:
            j += 1
            delivery_time = _option_int(argv[j], "Invalid TIME option argument for XCLAIM")
        elif opt == b"retrycount" and more:
            j += 1
            retrycount = _option_int(argv[j], "Invalid RETRYCOUNT option argument for "
                                              "XCLAIM")
        elif opt == b"lastid" and more:
            j += 1
            last_id = parse_strict_id(argv[j])
        else:
            raise ReplyError("ERR Unrecognized XCLAIM option '%s'" % _text(argv[j]))
        j += 1
    ks = c.server.keyspace
    c.propagate_as = []
    propagate_last_id = False
    if last_id > group.last_id:
        group.last_id = last_id
        propagate_last_id = True
    if delivery_time == -1 or delivery_time < 0 or delivery_time > now:
        delivery_time = now
    consumer = None
    out = []
    for sid, id_arg in ids:
        nack = group.pel.get(sid)
        flat = s.get(sid)
        if flat is None:
            if nack is not None:
                propagate_claim(c.server, key, groupname, group, sid, nack)
                propagate_last_id = False
                ks.dirty += 1
                group.ack(sid)
            continue
        if force and nack is None:
            nack = Nack(None)
            group.pel[sid] = nack
        if nack is None:
            continue
        if nack.consumer is not None and min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = group.lookup_consumer(name)
            if consumer is None:
                consumer = group.create_consumer(name)
                ks.dirty += 1
                notify_keyspace_event(ks, "t", b"xgroup-createconsumer", key)
        _claim(group, sid, nack, consumer, delivery_time, retrycount, justid)
        out.append(format_id(sid) if justid else entry_reply(sid, flat))
        propagate_claim(c.server, key, groupname, group, sid, nack)
        propagate_last_id = False
        ks.dirty += 1
    if propagate_last_id:
        propagate_setid(c.server, key, groupname, group)
        ks.dirty += 1
    return out


@command("xautoclaim", -6, "write fast", keys=(1, 1, 1), group="stream", since="6.2.0",
         key_specs=[key_spec(["RW", "delete"], 1)], tips=("nondeterministic_output",),
         complexity="O(1) if COUNT is small.",
         summary="Changes (or acquires) ownership of messages in a consumer group, as if "
                 "the messages were delivered to the specified consumer.")
def xautoclaim(c, argv):
    key, groupname, name = argv[1], argv[2], argv[3]
    min_idle = max(_option_int(argv[4], "Invalid min-idle-time argument for XAUTOCLAIM"), 0)
    start = parse_interval(argv[5], 0, start=True)
    count = 100
    justid = False
    j = 6
    max_count = (2 ** 63 - 1) // 16
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = argv[j].lower()
        if opt == b"count" and more:
            value = parse_int64(argv[j + 1])
            if value is None or not 1 <= value <= max_count:
                raise ReplyError("ERR COUNT must be > 0")
            count = value
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            raise ReplyError(SYNTAX_ERROR)
        j += 1
    s = read_stream(c, key)
    group = s.groups.get(groupname) if s is not None else None
    if group is None:
        raise _no_group(key, groupname)
    ks = c.server.keyspace
    c.propagate_as = []
    attempts = count * 10
    now = now_ms()
    consumer = None
    claimed = []
    deleted = []
    pel = group.pel
    # at most `attempts` entries are looked at, plus one: the cursor of the next call
    keys = list(islice(pel.irange(minimum=start), attempts + 1))
    pos = 0
    while attempts and count and pos < len(keys):
        attempts -= 1
        sid = keys[pos]
        pos += 1
        nack = pel[sid]
        flat = s.get(sid)
        if flat is None:
            propagate_claim(c.server, key, groupname, group, sid, nack)
            ks.dirty += 1
            group.ack(sid)
            deleted.append(format_id(sid))
            count -= 1
            continue
        if min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = group.lookup_consumer(name)
            if consumer is None:
                consumer = group.create_consumer(name)
                ks.dirty += 1
                notify_keyspace_event(ks, "t", b"xgroup-createconsumer", key)
        _claim(group, sid, nack, consumer, now, -1, justid)
        claimed.append(format_id(sid) if justid else entry_reply(sid, flat))
        count -= 1
        propagate_claim(c.server, key, groupname, group, sid, nack)
        ks.dirty += 1
    next_start = format_id(keys[pos]) if pos < len(keys) else b"0-0"
    return [next_start, claimed, deleted]


