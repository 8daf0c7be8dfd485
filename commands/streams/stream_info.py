"""XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, as Redis 7.0 reports them.

`radix-tree-keys` is our node count, which is Redis's listpack count (the nodes follow
the same rules). `radix-tree-nodes` is what Redis's rax of the nodes' 16-byte master
IDs would count (_rax_nodes), computed when asked.
"""
from commands.data.keyspace import now_ms
from commands.server.args import int_arg
from commands.server.resp import ReplyError, Status
from commands.server.table import container, subcommand
from commands.streams.stream_cmds import entry_reply, read_stream
from commands.streams.stream_type import INVALID_ENTRIES_READ, MAX_ID, format_id

XINFO = container("xinfo", -2, group="stream", since="5.0.0",
                  summary="A container for stream introspection commands")

_XINFO_HELP = [
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
]


def _syntax(argv) -> ReplyError:
    return ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. "
                      "Try XINFO HELP." % argv[1].decode("utf-8", "replace"))


def _stream(c, key):
    s = read_stream(c, key)
    if s is None:
        raise ReplyError("ERR no such key")
    return s


def _rax_nodes(keys) -> int:
    """How many nodes Redis's rax has for these sorted, distinct 16-byte keys: the
    canonical compressed trie raxInsert builds. A run of characters every key below a
    point shares is one (compressed) node, a point where keys diverge is one branching
    node, and every key ends in a leaf node; an empty rax is its head node alone."""
    if not keys:
        return 1
    return _subtree_nodes(keys, 0, len(keys), 0)


def _subtree_nodes(keys, lo: int, hi: int, depth: int) -> int:
    width = len(keys[lo])
    if depth == width:
        return 1                                   # the leaf holding the key
    first, last = keys[lo], keys[hi - 1]          # sorted: the extremes bound the prefix
    shared = depth
    while shared < width and first[shared] == last[shared]:
        shared += 1
    if shared > depth:
        return 1 + _subtree_nodes(keys, lo, hi, shared)   # a compressed run
    total = 1                                      # a branching node
    start = lo
    while start < hi:
        byte = keys[start][depth]
        end = start + 1
        while end < hi and keys[end][depth] == byte:
            end += 1
        total += _subtree_nodes(keys, start, end, depth + 1)
        start = end
    return total


def _info_stream(c, argv):
    s = _stream(c, argv[2])
    options = argv[3:]
    full = bool(options)
    count = 10
    if options:
        if len(options) not in (1, 3) or options[0].lower() != b"full":
            raise _syntax(argv)
        if len(options) == 3:
            if options[1].lower() != b"count":
                raise _syntax(argv)
            count = int_arg(options[2])
            if count < 0:
                count = 10
    reply = {
        "length": s.length,
        "radix-tree-keys": len(s.nodes),
        "radix-tree-nodes": _rax_nodes([n.master.to_bytes(16, "big") for n in s.nodes]),
        "last-generated-id": format_id(s.last_id),
        "max-deleted-entry-id": format_id(s.max_deleted_id),
        "entries-added": s.entries_added,
        "recorded-first-entry-id": format_id(s.first_id),
    }
    if not full:
        reply["groups"] = len(s.groups)
        first = s.range(0, MAX_ID, 1)
        last = s.range(0, MAX_ID, 1, rev=True)
        reply["first-entry"] = entry_reply(*first[0]) if first else None
        reply["last-entry"] = entry_reply(*last[0]) if last else None
        return reply
    reply["entries"] = [entry_reply(sid, flat) for sid, flat in s.range(0, MAX_ID, count)]
    groups = []
    for name, g in s.sorted_groups():
        pending = []
        for sid, nack in g.pel.items():
            if count and len(pending) >= count:
                break
            pending.append([format_id(sid), nack.consumer.name, nack.delivery_time,
                            nack.delivery_count])
        consumers = []
        for consumer in g.sorted_consumers():
            cpending = []
            for sid, nack in consumer.pel.items():
                if count and len(cpending) >= count:
                    break
                cpending.append([format_id(sid), nack.delivery_time, nack.delivery_count])
            consumers.append({"name": consumer.name, "seen-time": consumer.seen_time,
                              "pel-count": len(consumer.pel), "pending": cpending})
        groups.append({
            "name": name, "last-delivered-id": format_id(g.last_id),
            "entries-read": None if g.entries_read == INVALID_ENTRIES_READ else g.entries_read,
            "lag": s.group_lag(g), "pel-count": len(g.pel), "pending": pending,
            "consumers": consumers})
    reply["groups"] = groups
    return reply


@subcommand(XINFO, "stream", -3, "readonly", keys=(2, 2, 1), since="5.0.0",
            complexity="O(1)", summary="Get information about a stream")
def xinfo_stream(c, argv):
    return _info_stream(c, argv)


@subcommand(XINFO, "groups", 3, "readonly", keys=(2, 2, 1), since="5.0.0",
            complexity="O(1)", summary="List the consumer groups of a stream")
def xinfo_groups(c, argv):
    s = _stream(c, argv[2])
    out = []
    for name, g in s.sorted_groups():
        out.append({"name": name, "consumers": len(g.consumers), "pending": len(g.pel),
                    "last-delivered-id": format_id(g.last_id),
                    "entries-read": (None if g.entries_read == INVALID_ENTRIES_READ
                                     else g.entries_read),
                    "lag": s.group_lag(g)})
    return out


@subcommand(XINFO, "consumers", 4, "readonly", keys=(2, 2, 1), since="5.0.0",
            complexity="O(1)", summary="List the consumers in a consumer group",
            tips=("nondeterministic_output",))
def xinfo_consumers(c, argv):
    s = _stream(c, argv[2])
    g = s.groups.get(argv[3])
    if g is None:
        raise ReplyError("NOGROUP No such consumer group '%s' for key name '%s'"
                         % (argv[3].decode("utf-8", "replace"),
                            argv[2].decode("utf-8", "replace")))
    now = now_ms()
    return [{"name": consumer.name, "pending": len(consumer.pel),
             "idle": max(now - consumer.seen_time, 0)}
            for consumer in g.sorted_consumers()]


@subcommand(XINFO, "help", 2, "loading stale", since="5.0.0", complexity="O(1)",
            summary="Show helpful text about the different subcommands")
def xinfo_help(c, argv):
    return [Status(line) for line in _XINFO_HELP]
