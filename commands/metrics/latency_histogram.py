"""Per-command latency histograms (latency-tracking, INFO latencystats, LATENCY HISTOGRAM).

Redis records each command's duration into an HdrHistogram (values in ns from 1 ns to
1 s, 2 significant digits) and prints percentiles from it. Updating an HdrHistogram in
Python costs several times what a GET costs to run, so the recording here is split:

* the hot path (executor.call) only counts the integer microseconds of a call that took
  less than QUICK_USEC: `counts[int(usec)] += 1` on a plain list. Redis's input to the
  histogram is the same integer (its duration in µs, times 1000), so nothing is lost;
* longer calls (rare, and slow anyway) land in a dict keyed by the same integer,
  rounded down to the HdrHistogram bucket it falls in, so the dict stays small;
* percentiles and the LATENCY HISTOGRAM buckets are computed when asked, by folding the
  counts into the HdrHistogram's bucket layout with the library's own index arithmetic
  (deps/hdr_histogram/hdr_histogram.c), so the numbers printed are the ones redis-server
  prints for the same durations (p50=1.003 for calls of 1 µs, ...).
"""

QUICK_USEC = 1024                # calls under this many µs are counted on the hot path

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


class CommandLatency:
    """One command's recorded durations (integer µs -> calls)."""

    __slots__ = ("quick", "slow")

    def __init__(self):
        self.quick = [0] * QUICK_USEC     # executor.call increments these directly
        self.slow = {}                    # bucket's lowest µs -> calls, for longer calls

    def record_slow(self, usec: int) -> None:
        """A call of QUICK_USEC µs or more (the executor's slow path)."""
        if usec < QUICK_USEC:
            self.quick[usec] += 1
            return
        key = lowest_equivalent(_ns(usec)) // 1000
        self.slow[key] = self.slow.get(key, 0) + 1

    def dense_counts(self) -> list:
        """The HdrHistogram's counts array for what was recorded."""
        counts = [0] * COUNTS_LEN
        for usec, n in enumerate(self.quick):
            if n:
                counts[counts_index(_ns(usec))] += n
        for usec, n in self.slow.items():
            counts[counts_index(_ns(usec))] += n
        return counts

    def total(self) -> int:
        return sum(self.quick) + sum(self.slow.values())

    def percentiles(self, wanted) -> list:
        """ns at each percentile of `wanted` (hdr_value_at_percentile)."""
        counts = self.dense_counts()
        total = sum(counts)
        return [value_at_percentile(counts, total, p) for p in wanted]

    def cumulative_buckets(self) -> tuple:
        """(calls, LATENCY HISTOGRAM's [(µs, cumulative calls)])."""
        counts = self.dense_counts()
        total = sum(counts)
        return total, cumulative_log_buckets(counts, total)


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
