"""The latency monitor (Redis's latency.c): per event, the worst latency of each second
(the last 160 seconds that had one) and the all-time maximum, for LATENCY LATEST,
HISTORY, RESET, GRAPH and DOCTOR.

Samples come from where the time is spent, through `add_sample_if_needed(event, ms)`:
the executor ("command", "fast-command", from the duration it measures anyway, and only
for calls past latency-monitor-threshold), the server cron ("expire-cycle"), forks
("fork"), the AOF ("aof-write", "aof-fsync-always"). With latency-monitor-threshold 0
(the default) nothing is recorded.
"""
import math
import time

TS_LEN = 160                           # LATENCY_TS_LEN
GRAPH_COLS = 80
_CHARSET_FILL = "_o#"
_LABEL_MARGIN_TOP = 1


class TimeSeries:
    __slots__ = ("samples", "idx", "max")

    def __init__(self):
        self.samples = [(0, 0)] * TS_LEN   # (unix time, ms); time 0 = unused
        self.idx = 0
        self.max = 0

    def ordered(self) -> list:
        """The used samples, oldest first."""
        out = []
        for j in range(TS_LEN):
            sample = self.samples[(self.idx + j) % TS_LEN]
            if sample[0]:
                out.append(sample)
        return out


class LatencyMonitor:
    def __init__(self, settings):
        self.settings = settings
        self.events = {}                   # event name -> TimeSeries, in creation order

    def add_sample_if_needed(self, event: str, ms: int) -> None:
        """latencyAddSampleIfNeeded: only at or past latency-monitor-threshold."""
        threshold = self.settings.latency_monitor_threshold
        if threshold and ms >= threshold:
            self.add_sample(event, ms)

    def add_sample(self, event: str, ms: int) -> None:
        ts = self.events.get(event)
        if ts is None:
            ts = self.events[event] = TimeSeries()
        now = int(time.time())
        if ms > ts.max:
            ts.max = ms
        prev = (ts.idx + TS_LEN - 1) % TS_LEN
        when, worst = ts.samples[prev]
        if when == now:                    # one sample per second: its worst
            if ms > worst:
                ts.samples[prev] = (now, ms)
            return
        ts.samples[ts.idx] = (now, ms)
        ts.idx = (ts.idx + 1) % TS_LEN

    def reset(self, event: str = None) -> int:
        """Forget one event (case-insensitively) or all; the number forgotten."""
        if event is None:
            count = len(self.events)
            self.events.clear()
            return count
        names = [name for name in self.events if name.lower() == event.lower()]
        for name in names:
            del self.events[name]
        return len(names)

    def latest(self) -> list:
        out = []
        for name, ts in self.events.items():
            when, ms = ts.samples[(ts.idx + TS_LEN - 1) % TS_LEN]
            out.append([name.encode(), when, ms, ts.max])
        return out

    def history(self, event: str) -> list:
        ts = self.events.get(event)
        return [] if ts is None else [[when, ms] for when, ms in ts.ordered()]

    # ------------------------------------------------------------ GRAPH

    def graph(self, event: str):
        """LATENCY GRAPH's text, or None when the event has no samples."""
        ts = self.events.get(event)
        if ts is None:
            return None
        now = int(time.time())
        values, labels = [], []
        for when, ms in ts.ordered():
            elapsed = now - when
            if elapsed < 60:
                label = "%ds" % elapsed
            elif elapsed < 3600:
                label = "%dm" % (elapsed // 60)
            elif elapsed < 86400:
                label = "%dh" % (elapsed // 3600)
            else:
                label = "%dd" % (elapsed // 86400)
            values.append(ms)
            labels.append(label)
        high = max(values) if values else 0
        low = min(values) if values else 0
        text = "%s - high %d ms, low %d ms (all time high %d ms)\n" % (event, high, low,
                                                                      ts.max)
        text += "-" * GRAPH_COLS + "\n"
        return text + sparkline(values, labels, GRAPH_COLS, 4)

    # ------------------------------------------------------------ DOCTOR

    def doctor(self, settings, hz: int, fork_rate: float) -> str:
        return doctor_report(self, settings, hz, fork_rate)


def sparkline(values, labels, columns, rows) -> str:
    """sparklineRender with SPARKLINE_FILL: the samples in rows of `columns`, each
    drawn `rows` characters high from "_o#" and '|', with the labels written
    vertically beneath."""
    out = []
    low = min(values) if values else 0
    high = max(values) if values else 0
    for start in range(0, len(values), columns):
        if start:
            out.append("\n")
        out.append(_render_range(values[start:start + columns],
                                 labels[start:start + columns], low, high, rows))
    return "".join(out)


def _render_range(values, labels, low, high, rows) -> str:
    relmax = high - low or 1
    steps = len(_CHARSET_FILL) * rows
    any_labels = any(labels)
    out = []
    row = 0
    while True:
        chars = [" "] * len(values)
        more = False
        for j, value in enumerate(values):
            step = int((value - low) * steps / relmax)
            step = min(max(step, 0), steps - 1)
            if row < rows:
                more = True
                index = step - (rows - row - 1) * len(_CHARSET_FILL)
                if 0 <= index < len(_CHARSET_FILL):
                    chars[j] = _CHARSET_FILL[index]
                elif index >= len(_CHARSET_FILL):
                    chars[j] = "|"
            else:
                if any_labels and row - rows < _LABEL_MARGIN_TOP:
                    more = True
                    break
                label = labels[j]
                position = row - rows - _LABEL_MARGIN_TOP
                if label and len(label) > position:
                    more = True
                    chars[j] = label[position]
        if not more:
            break
        row += 1
        out.append("".join(chars) + "\n")
    return "".join(out)


_DOCTOR_DISABLED = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
    "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in "
    "order to enable it. If we weren't in a deep space mission I'd suggest to take a look "
    "at https://redis.io/topics/latency-monitor.\n")

# Advice texts of createLatencyReport, in the order Redis prints them.
_ADVICE = {
    "better_vm": "- If you are using a virtual machine, consider upgrading it with a "
    "faster one using a hypervisior that provides less latency during fork() calls. Xen "
    "is known to have poor fork() performance. Even in the context of the same VM "
    "provider, certain kinds of instances can execute fork faster than others.\n",
    "slowlog_enabled": "- There are latency issues with potentially slow commands you "
    "are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET "
    "slowlog-log-slower-than %d'. If the Slow log is disabled Redis is not able to log "
    "slow commands execution for you.\n",
    "slowlog_tuning": "- Your current Slow Log configuration only logs events that are "
    "slower than your configured latency monitor threshold. Please use 'CONFIG SET "
    "slowlog-log-slower-than %d'.\n",
    "slowlog_inspect": "- Check your Slow Log to understand what are the commands you are "
    "running which are too slow to execute. Please check https://redis.io/commands/slowlog "
    "for more information.\n",
    "scheduler": "- The system is slow to execute Redis code paths not containing system "
    "calls. This usually means the system does not provide Redis CPU time to run for long "
    "periods. You should try to:\n"
    "  1) Lower the system load.\n"
    "  2) Use a computer / VM just for Redis if you are running other software in the "
    "same system.\n"
    "  3) Check if you have a \"noisy neighbour\" problem.\n"
    "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in "
    "your system.\n"
    "  5) Check if the problem is allocator-related by recompiling Redis with "
    "MALLOC=libc, if you are using Jemalloc. However this may create fragmentation "
    "problems.\n",
    "local_disk": "- It is strongly advised to use local disks for persistence, "
    "especially if you are using AOF. Remote disks provided by platform-as-a-service "
    "providers are known to be slow.\n",
    "ssd": "- SSD disks are able to reduce fsync latency, and total time needed for "
    "snapshotting and AOF log rewriting (resulting in smaller memory usage). With "
    "extremely high write load SSD disks can be a good option. However Redis should "
    "perform reasonably with high load using normal disks. Use this advice as a last "
    "resort.\n",
    "data_writeback": "- Mounting ext3/4 filesystems with data=writeback can provide a "
    "performance boost compared to data=ordered, however this mode of operation provides "
    "less guarantees, and sometimes it can happen that after a hard crash the AOF file "
    "will have a half-written command at the end and will require to be repaired before "
    "Redis restarts.\n",
    "disk_contention": "- Try to lower the disk contention. This is often caused by other "
    "disk intensive processes running in the same computer (including other Redis "
    "instances).\n",
    "no_appendfsync": "- Assuming from the point of view of data safety this is viable in "
    "your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so "
    "that fsync will not be performed while there is a child rewriting the AOF file or "
    "producing an RDB file (the moment where there is high disk contention).\n",
    "relax_fsync_policy": "- Your fsync policy is set to 'always'. It is very hard to get "
    "good performances with such a setup, if possible try to relax the fsync policy to "
    "'onesec'.\n",
    "write_load_info": "- Latency during the AOF atomic rename operation or when the final "
    "difference is flushed to the AOF file at the end of the rewrite, sometimes is caused "
    "by very high write load, causing the AOF buffer to get very large. If possible try to "
    "send less commands to accomplish the same work, or use Lua scripts to group multiple "
    "operations into a single EVALSHA call.\n",
    "hz": "- In order to make the Redis keys expiring process more incremental, try to set "
    "the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n",
    "large_objects": "- Deleting, expiring or evicting (because of maxmemory policy) large "
    "objects is a blocking operation. If you have very large objects that are often "
    "deleted, expired, or evicted, try to fragment those objects into multiple smaller "
    "objects.\n",
    "mass_eviction": "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or "
    "allocation of large objects via sets or sorted sets intersections, STORE option of "
    "SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory "
    "pressure forcing the server to block trying to evict keys. \n",
    "disable_thp": "- I detected a non zero amount of anonymous huge pages used by your "
    "process. This creates very serious latency events in different conditions, especially "
    "when Redis is persisting on disk. To disable THP support use the command 'echo never "
    "> /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into "
    "/etc/rc.local so that the command will be executed again after a reboot. Note that "
    "even if you have already disabled THP, you still need to restart the Redis process to "
    "get rid of the huge pages already created.\n",
}

# event -> the advices it raises (createLatencyReport's per-event rules)
_EVENT_ADVICE = {
    "fast-command": ("scheduler",),
    "aof-write-pending-fsync": ("local_disk", "disk_contention", "ssd", "data_writeback"),
    "aof-write-active-child": ("no_appendfsync", "data_writeback", "ssd"),
    "aof-write-alone": ("local_disk", "data_writeback", "ssd"),
    "aof-fsync-always": ("relax_fsync_policy",),
    "aof-fstat": ("disk_contention", "local_disk"),
    "rdb-unlink-temp-file": ("disk_contention", "local_disk"),
    "aof-rewrite-diff-write": ("write_load_info", "data_writeback", "ssd", "local_disk"),
    "aof-rename": ("write_load_info", "data_writeback", "ssd", "local_disk"),
    "expire-cycle": ("hz", "large_objects"),
    "eviction-del": ("large_objects",),
    "eviction-cycle": ("mass_eviction",),
}


def _analyze(ts):
    """analyzeLatencyForEvent: (samples, avg, mad, period) with C's integer division."""
    samples = ts.ordered()
    if not samples:
        return 0, 0, 0, 0
    total = sum(ms for _, ms in samples)
    avg = total // len(samples)
    period = int(time.time()) - min(when for when, _ in samples) or 1
    mad = sum(abs(avg - ms) for _, ms in samples) // len(samples)
    return len(samples), avg, mad, period


def _anon_huge_pages() -> int:
    """AnonHugePages of /proc/self/smaps, in kB (THP in use by this process)."""
    total = 0
    try:
        with open("/proc/self/smaps") as f:
            for line in f:
                if line.startswith("AnonHugePages:"):
                    total += int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return total


def doctor_report(monitor, settings, hz: int, fork_rate: float) -> str:
    """createLatencyReport: the events, then the advices they call for. fork_rate: GB
    forked per second at the last fork (Redis's stat_fork_rate)."""
    threshold = settings.latency_monitor_threshold
    if not monitor.events and threshold == 0:
        return _DOCTOR_DISABLED
    advice = set()
    advices = 0
    report = []
    for number, (event, ts) in enumerate(monitor.events.items(), 1):
        if number == 1:
            report.append("Dave, I have observed latency spikes in this Redis instance. "
                          "You don't mind talking about it, do you Dave?\n\n")
        samples, avg, mad, period = _analyze(ts)
        line = ("%d. %s: %d latency spikes (average %dms, mean deviation %dms, period "
                "%.2f sec). Worst all time event %dms." % (
                    number, event, samples, avg, mad,
                    period / samples if samples else math.nan, ts.max))
        name = event.lower()
        if name == "fork":
            rate = fork_rate
            if rate < 10:
                quality = "terrible"
            elif rate < 25:
                quality = "poor"
            elif rate < 100:
                quality = "good"
            else:
                quality = "excellent"
            if rate < 25:
                advice.add("better_vm")
                advices += 1
            line += " Fork rate is %.2f GB/sec (%s)." % (rate, quality)
        if name == "command":
            slower_than = settings.slowlog_log_slower_than
            if slower_than < 0:
                advice.add("slowlog_enabled")
                advices += 1
            elif slower_than // 1000 > threshold:
                advice.add("slowlog_tuning")
                advices += 1
            advice.update(("slowlog_inspect", "large_objects"))
            advices += 2
        for key in _EVENT_ADVICE.get(name, ()):
            advice.add(key)
            advices += 1
        report.append(line + "\n")
    if _anon_huge_pages() > 0:
        advice.add("disable_thp")
        advices += 1
    events = len(monitor.events)
    if events == 0 and advices == 0:
        report.append("Dave, no latency spike was observed during the lifetime of this "
                      "Redis instance, not in the slightest bit. I honestly think you "
                      "ought to sit down calmly, take a stress pill, and think things "
                      "over.\n")
    elif events > 0 and advices == 0:
        report.append("\nWhile there are latency events logged, I'm not able to suggest "
                      "any easy fix. Please use the Redis community to get some help, "
                      "providing this report in your help request.\n")
    else:
        report.append("\nI have a few advices for you:\n\n")
        for key in _ADVICE:
            if key not in advice:
                continue
            if key == "relax_fsync_policy" and settings.appendfsync != "always":
                continue
            if key == "hz" and hz >= 100:
                continue
            text = _ADVICE[key]
            if key in ("slowlog_enabled", "slowlog_tuning"):
                text = text % (threshold * 1000)
            report.append(text)
    return "".join(report)

