"""The slow log (Redis's slowlog.c): the latest slowlog-max-len commands that took at
least slowlog-log-slower-than microseconds, newest first.

The executor decides whether a call is slow from the duration it already measures for
commandstats (executor.call: a call under `server.slow_call_ns` never gets here), so
the slow log adds no clock read and no work to a fast command.
"""
import collections
import time

MAX_ARGC = 32          # SLOWLOG_ENTRY_MAX_ARGC: the last kept argument says how many more
MAX_STRING = 128       # SLOWLOG_ENTRY_MAX_STRING: longer arguments are cut here


class SlowLogEntry:
    __slots__ = ("id", "time", "duration", "argv", "peer", "name")

    def __init__(self, entry_id, when, duration, argv, peer, name):
        self.id = entry_id
        self.time = when
        self.duration = duration
        self.argv = argv
        self.peer = peer
        self.name = name

    def reply(self) -> list:
        """SLOWLOG GET's six fields."""
        return [self.id, self.time, self.duration, list(self.argv), self.peer, self.name]


def trimmed_argv(argv) -> list:
    """At most MAX_ARGC arguments (the last one then reads "... (N more arguments)"),
    each at most MAX_STRING bytes ("... (N more bytes)" appended), as slowlogCreateEntry."""
    kept = argv if len(argv) <= MAX_ARGC else argv[:MAX_ARGC - 1]
    out = []
    for arg in kept:
        if len(arg) > MAX_STRING:
            arg = arg[:MAX_STRING] + b"... (%d more bytes)" % (len(arg) - MAX_STRING)
        out.append(bytes(arg))
    if len(argv) > MAX_ARGC:
        out.append(b"... (%d more arguments)" % (len(argv) - MAX_ARGC + 1))
    return out


class SlowLog:
    def __init__(self, settings):
        self.settings = settings
        self.entries = collections.deque()     # newest first
        self.next_id = 0

    def push_if_needed(self, client, argv, duration: int) -> None:
        """slowlogPushEntryIfNeeded: log the call if it was slow enough, then trim."""
        threshold = self.settings.slowlog_log_slower_than
        if threshold < 0:
            return
        if duration >= threshold:
            self.entries.appendleft(SlowLogEntry(
                self.next_id, int(time.time()), duration, trimmed_argv(argv),
                client.addr_text.encode(), (client.name or b"")))
            self.next_id += 1
        self.trim()

    def trim(self) -> None:
        """slowlog-max-len. Redis trims after every command while the slow log is on
        (threshold >= 0), fast or not; here only slow commands come this way, so a
        CONFIG SET of either setting trims too (node.py), as its own call would."""
        if self.settings.slowlog_log_slower_than < 0:
            return
        entries = self.entries
        while len(entries) > self.settings.slowlog_max_len:
            entries.pop()

    def reset(self) -> None:
        self.entries.clear()

    def latest(self, count: int) -> list:
        return [entry.reply() for entry in list(self.entries)[:count]]
