"""SLOWLOG and LATENCY: what the slow log, the latency monitor and the per-command
latency histograms (commands/metrics/) hold, with redis-server 7.0.15's replies and
error texts.
"""
from commands.data.numbers import parse_int64
from commands.metrics.latency_histogram import CommandLatency, has_histogram
from commands.server.memory import rss_bytes
from commands.server.resp import OK, ReplyError, Status, Verbatim
from commands.server.table import COMMANDS, container, subcommand

_FLAGS = "admin loading stale"
_NODES = ("request_policy:all_nodes",)
_NODES_SPECIAL = ("nondeterministic_output", "request_policy:all_nodes",
                  "response_policy:special")

# ---------------------------------------------------------------- SLOWLOG

SLOWLOG = container("slowlog", -2, group="server", since="2.2.12",
                    summary="A container for slow log commands")

_SLOWLOG_HELP = [
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
]


@subcommand(SLOWLOG, "get", -2, _FLAGS, since="2.2.12",
            tips=_NODES + ("nondeterministic_output",),
            summary="Get the slow log's entries",
            complexity="O(N) where N is the number of entries returned")
def slowlog_get(c, argv):
    if len(argv) > 3:
        raise ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. "
                         "Try SLOWLOG HELP." % argv[1].decode("utf-8", "replace"))
    slowlog = c.server.slowlog
    count = 10
    if len(argv) == 3:
        count = parse_int64(argv[2])
        if count is None or count < -1:
            raise ReplyError("ERR count should be greater than or equal to -1")
        if count == -1:
            count = len(slowlog.entries)
    return slowlog.latest(count)


@subcommand(SLOWLOG, "len", 2, _FLAGS, since="2.2.12",
            tips=_NODES + ("response_policy:agg_sum", "nondeterministic_output"),
            summary="Get the slow log's length", complexity="O(1)")
def slowlog_len(c, argv):
    return len(c.server.slowlog.entries)


@subcommand(SLOWLOG, "reset", 2, _FLAGS, since="2.2.12",
            tips=_NODES + ("response_policy:all_succeeded",),
            summary="Clear all entries from the slow log",
            complexity="O(N) where N is the number of entries in the slowlog")
def slowlog_reset(c, argv):
    c.server.slowlog.reset()
    return OK


@subcommand(SLOWLOG, "help", 2, "loading stale", since="6.2.0", complexity="O(1)",
            summary="Show helpful text about the different subcommands")
def slowlog_help(c, argv):
    return [Status(line) for line in _SLOWLOG_HELP]


# ---------------------------------------------------------------- LATENCY

LATENCY = container("latency", -2, group="server", since="2.8.13",
                    summary="A container for latency diagnostics commands")

_LATENCY_FLAGS = "admin noscript loading stale"

_LATENCY_HELP = [
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for "
    "the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
]


def _text(data: str, c):
    raw = data.encode()
    return Verbatim(raw) if c.resp3 else raw


@subcommand(LATENCY, "doctor", 2, _LATENCY_FLAGS, since="2.8.13", tips=_NODES_SPECIAL,
            summary="Return a human readable latency analysis report.", complexity="O(1)")
def latency_doctor(c, argv):
    server = c.server
    children = server.children
    fork_usec = children.last_fork_usec if children is not None else 0
    # Redis's stat_fork_rate: GB of memory forked per second at the last fork.
    fork_rate = rss_bytes() * 1e6 / fork_usec / (1024 ** 3) if fork_usec else 0.0
    return _text(server.latency.doctor(server.settings, server.hz, fork_rate), c)


@subcommand(LATENCY, "graph", 3, _LATENCY_FLAGS, since="2.8.13", tips=_NODES_SPECIAL,
            summary="Return a latency graph for the event.", complexity="O(1)")
def latency_graph(c, argv):
    event = argv[2].decode("utf-8", "replace")
    graph = c.server.latency.graph(event)
    if graph is None:
        raise ReplyError("ERR No samples available for event '%s'" % event)
    return _text(graph, c)


@subcommand(LATENCY, "history", 3, _LATENCY_FLAGS, since="2.8.13", tips=_NODES_SPECIAL,
            summary="Return timestamp-latency samples for the event.", complexity="O(1)")
def latency_history(c, argv):
    return c.server.latency.history(argv[2].decode("utf-8", "replace"))


@subcommand(LATENCY, "latest", 2, _LATENCY_FLAGS, since="2.8.13", tips=_NODES_SPECIAL,
            summary="Return the latest latency samples for all events.",
            complexity="O(1)")
def latency_latest(c, argv):
    return c.server.latency.latest()


@subcommand(LATENCY, "reset", -2, _LATENCY_FLAGS, since="2.8.13",
            tips=_NODES + ("response_policy:all_succeeded",),
            summary="Reset latency data for one or more events.", complexity="O(1)")
def latency_reset(c, argv):
    monitor = c.server.latency
    if len(argv) == 2:
        return monitor.reset()
    return sum(monitor.reset(arg.decode("utf-8", "replace")) for arg in argv[2:])


@subcommand(LATENCY, "histogram", -2, _LATENCY_FLAGS, since="7.0.0", tips=_NODES_SPECIAL,
            summary="Return the cumulative distribution of latencies of a subset of "
                    "commands or all.",
            complexity="O(N) where N is the number of commands with latency information "
                       "being retrieved.")
def latency_histogram(c, argv):
    """Every tracked command's (or the named ones' and their subcommands')
    {calls, histogram_usec: {µs: cumulative calls}}."""
    if len(argv) == 2:
        chosen = []
        for top in COMMANDS.values():
            chosen += [top, *top.subcommands.values()]
    else:
        chosen = []
        for arg in argv[2:]:
            cmd = _lookup(arg)
            if cmd is not None:
                chosen += [cmd, *cmd.subcommands.values()]
    reply = {}
    for cmd in chosen:
        if has_histogram(cmd.durations, cmd.latency):
            total, buckets = (cmd.latency or CommandLatency()).cumulative_buckets(
                cmd.durations)
            reply[cmd.full_name.encode()] = {b"calls": total,
                                             b"histogram_usec": dict(buckets)}
    return reply


def _lookup(name: bytes):
    """lookupCommandBySds: 'get', or 'config|get' for a subcommand."""
    parts = name.lower().split(b"|")
    cmd = COMMANDS.get(parts[0])
    if cmd is None or len(parts) == 1:
        return cmd
    if len(parts) > 2:
        return None
    return cmd.subcommands.get(parts[1])


@subcommand(LATENCY, "help", 2, "loading stale", since="2.8.13", complexity="O(1)",
            summary="Show helpful text about the different subcommands.")
def latency_help(c, argv):
    return [Status(line) for line in _LATENCY_HELP]
