"""Per-command latency histograms (latency-tracking, INFO latencystats, LATENCY HISTOGRAM).

Redis records each command's duration into an HdrHistogram (values in ns from 1 ns to
1 s, 2 significant digits) and prints percentiles from it. Updating an HdrHistogram in
Python costs several times what a GET costs to run, so the recording here is split:

* every command has a list `durations`: how many of its calls took 0, 1, 2, ...
  QUICK_USEC-1 whole microseconds. The executor's hot path does `durations[int(usec)]
  += 1` *instead of* counting the call (a command's `calls` is the sum of its counts):
  the histogram costs the hot path one float-to-int and a list index, no more. Redis's
  input to its histogram is the same integer (its duration in µs, times 1000);
* longer calls (rare, and slow anyway) are counted in a small dict keyed by the same
  integer rounded down to the HdrHistogram bucket it falls in (CommandLatency.slow);
* percentiles and the LATENCY HISTOGRAM buckets are computed when asked, by folding the
  counts into the HdrHistogram's bucket layout with the library's own index arithmetic
  (deps/hdr_histogram/hdr_histogram.c), so the numbers printed are the ones redis-server
  prints for the same durations (p50=1.003 for calls of 1 µs, ...);
* with latency-tracking off the counts go on (they are the call counter) and the calls
  made meanwhile are taken out of the histogram when tracking resumes (CommandLatency
  .pause / .resume), so the histogram holds what Redis's would.
"""

QUICK_USEC = 256                 # calls under this many µs are counted on the hot path

# hdr_init(LATENCY_HISTOGRAM_MIN_VALUE=1, MAX_VALUE=1000000000, PRECISION=2): ns
LOWEST_NS = 1
HIGHEST_NS = 1000000000
_SUB_BUCKET_COUNT = 256           # 2 ** ceil(log2(2 * 10 ** 2))
_SUB_BUCKET_HALF_COUNT = 128
_SUB_BUCKET_HALF_COUNT_MAGNITUDE = 7
_UNIT_MAGNITUDE = 0               # floor(log2(1))
_SUB_BUCKET_MASK = (_SUB_BUCKET_COUNT - 1) << _UNIT_MAGNITUDE


def _buckets_needed() -> int:
    smallest_untrackable = _SUB_BUCKET_COUNT << _UNIT_MAGNITUDE
    buckets = 1
    while smallest_untrackable <= HIGHEST_NS:
        smallest_untrackable <<= 1
        buckets += 1
    return buckets


COUNTS_LEN = (_buckets_needed() + 1) * _SUB_BUCKET_HALF_COUNT


def _bucket_index(value: int) -> int:
    return ((value | _SUB_BUCKET_MASK).bit_length() - _UNIT_MAGNITUDE
            - (_SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1))


def counts_index(value: int) -> int:
    """The slot of a value (ns) in the HdrHistogram's counts array."""
    bucket = _bucket_index(value)
    sub_bucket = value >> (bucket + _UNIT_MAGNITUDE)
    return ((bucket + 1) << _SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub_bucket \
        - _SUB_BUCKET_HALF_COUNT


def value_at_index(index: int) -> int:
    bucket = (index >> _SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1
    sub_bucket = (index & (_SUB_BUCKET_HALF_COUNT - 1)) + _SUB_BUCKET_HALF_COUNT
    if bucket < 0:
        sub_bucket -= _SUB_BUCKET_HALF_COUNT
        bucket = 0
    return sub_bucket << (bucket + _UNIT_MAGNITUDE)


def lowest_equivalent(value: int) -> int:
    bucket = _bucket_index(value)
    sub_bucket = value >> (bucket + _UNIT_MAGNITUDE)
    return sub_bucket << (bucket + _UNIT_MAGNITUDE)


def _range_size(value: int) -> int:
    bucket = _bucket_index(value)
    sub_bucket = value >> (bucket + _UNIT_MAGNITUDE)
    if sub_bucket >= _SUB_BUCKET_COUNT:
        bucket += 1
    return 1 << (_UNIT_MAGNITUDE + bucket)


def highest_equivalent(value: int) -> int:
    return lowest_equivalent(value) + _range_size(value) - 1


def _ns(usec: int) -> int:
    """What Redis records for a call of `usec` µs: ns, clamped to the tracked range."""
    return min(max(usec * 1000, LOWEST_NS), HIGHEST_NS)


def new_durations() -> list:
    """A command's per-µs call counts (see the module's docstring)."""
    return [0] * QUICK_USEC


class CommandLatency:
    """What a command's histogram holds besides its `durations` list: the long calls,
    and the calls to leave out (made while latency-tracking was off)."""

    __slots__ = ("slow", "excluded", "paused_at")

    def __init__(self):
        self.slow = {}            # bucket's lowest µs -> calls, for calls >= QUICK_USEC
        self.excluded = None      # per-µs counts of calls made while tracking was off
        self.paused_at = None     # the durations when tracking went off, while it is off

    def record_slow(self, usec: int) -> None:
        """A call of QUICK_USEC µs or more (the executor's slow path)."""
        key = lowest_equivalent(_ns(usec)) // 1000
        self.slow[key] = self.slow.get(key, 0) + 1

    def pause(self, durations) -> None:
        if self.paused_at is None:
            self.paused_at = list(durations)

    def resume(self, durations) -> None:
        paused_at, self.paused_at = self.paused_at, None
        if paused_at is None:
            return
        excluded = self.excluded or [0] * QUICK_USEC
        self.excluded = [e + now - then for e, now, then in zip(excluded, durations,
                                                                 paused_at)]

    def tracked(self, durations) -> list:
        """The per-µs counts of the calls the histogram holds."""
        current = self.paused_at if self.paused_at is not None else durations
        if self.excluded is None:
            return current
        return [n - e for n, e in zip(current, self.excluded)]

    def dense_counts(self, durations) -> list:
        """The HdrHistogram's counts array for what was recorded."""
        counts = [0] * COUNTS_LEN
        for usec, n in enumerate(self.tracked(durations)):
            if n:
                counts[counts_index(_ns(usec))] += n
        for usec, n in self.slow.items():
            counts[counts_index(_ns(usec))] += n
        return counts

    def percentiles(self, durations, wanted) -> list:
        """ns at each percentile of `wanted` (hdr_value_at_percentile)."""
        counts = self.dense_counts(durations)
        total = sum(counts)
        return [value_at_percentile(counts, total, p) for p in wanted]

    def cumulative_buckets(self, durations) -> tuple:
        """(calls, LATENCY HISTOGRAM's [(µs, cumulative calls)])."""
        counts = self.dense_counts(durations)
        total = sum(counts)
        return total, cumulative_log_buckets(counts, total)


def has_histogram(durations, latency) -> bool:
    """Whether a command has a histogram to show (Redis: one call was recorded)."""
    if latency is None:
        return any(durations)
    return bool(latency.slow) or any(latency.tracked(durations))


def value_at_percentile(counts: list, total: int, percentile: float) -> int:
    """hdr_value_at_percentile, in ns."""
    requested = percentile if percentile < 100.0 else 100.0
    wanted = max(int((requested / 100) * total + 0.5), 1)
    seen = 0
    value = 0
    for index, n in enumerate(counts):
        seen += n
        if seen >= wanted:
            value = value_at_index(index)
            break
    if percentile == 0.0:
        return lowest_equivalent(value)
    return highest_equivalent(value)


def cumulative_log_buckets(counts: list, total: int) -> list:
    """LATENCY HISTOGRAM's buckets: [(µs, cumulative calls)] as Redis's fillCommandCDF
    walks the histogram with hdr_iter_log_init(first bucket 1024 ns, base 2) and keeps a
    bucket only when the cumulative count grew. A transcription of the library's
    log_iter_next / move_next, whose state the loop variables are."""
    out = []
    index = -1                   # iter->counts_index
    cumulative = 0               # iter->cumulative_count
    value = 0                    # iter->value
    highest = 0                  # iter->highest_equivalent_value
    level = 1024                 # next_value_reporting_level
    level_lowest = lowest_equivalent(level)
    previous = 0
    while cumulative < total or (index < COUNTS_LEN
                                 and value_at_index(index + 1) > level_lowest):
        while value < level_lowest:
            index += 1
            if index >= COUNTS_LEN:
                break
            cumulative += counts[index]
            value = value_at_index(index)
            highest = lowest_equivalent(value) + _range_size(value) - 1
        else:
            level *= 2
            level_lowest = lowest_equivalent(level)
        if cumulative > previous:
            out.append((highest // 1000, cumulative))
        previous = cumulative
        if index >= COUNTS_LEN:
            break
    return out


def format_percentile(value: float) -> str:
    """'%f' with trailing zeros (and a bare point) trimmed, as Redis's trimDoubleString."""
    text = "%f" % value
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
