"""commands/metrics: the latency histogram's arithmetic against numbers redis-server 7.0.15
printed, the slow log's trimming, the latency monitor's one-sample-per-second series."""
from commands.metrics.latency_histogram import (QUICK_USEC, CommandLatency, format_percentile,
                                                has_histogram, new_durations)
from commands.metrics.latency_monitor import LatencyMonitor, sparkline
from commands.metrics.slowlog import SlowLog, trimmed_argv


class FakeSettings:
    slowlog_log_slower_than = 0
    slowlog_max_len = 3
    latency_monitor_threshold = 10


class FakeClient:
    addr_text = "127.0.0.1:5555"
    name = b"me"


def test_percentiles_and_buckets_are_redis_s():
    # Three PINGs of 1, 1 and 2 µs: redis-server printed p50=1.003,p99=2.007,p99.9=2.007
    # and LATENCY HISTOGRAM {1: 2, 2: 3}.
    h, durations = CommandLatency(), new_durations()
    durations[1] += 2
    durations[2] += 1
    assert [ns / 1000 for ns in h.percentiles(durations, [50, 99, 99.9])] == \
        [1.003, 2.007, 2.007]
    assert h.cumulative_buckets(durations) == (3, [(1, 2), (2, 3)])
    # The distribution of Redis's LATENCY HISTOGRAM documentation example.
    durations = new_durations()
    for usec, n in [(0, 5), (1, 99578), (2, 269), (3, 62), (5, 26), (12, 28), (20, 32)]:
        durations[usec] += n
    assert h.cumulative_buckets(durations)[1] == [
        (1, 99583), (2, 99852), (4, 99914), (8, 99940), (16, 99968), (33, 100000)]


def test_long_calls_keep_a_small_table_and_clamp_at_one_second():
    h, durations = CommandLatency(), new_durations()
    for usec in range(QUICK_USEC, 200000, 7):
        h.record_slow(usec)
    assert len(h.slow) < 1500
    h.record_slow(5 * 10 ** 6)
    assert 990 <= h.percentiles(durations, [100])[0] // 10 ** 6 <= 1000   # clamped to 1 s
    assert h.cumulative_buckets(durations)[0] == len(range(QUICK_USEC, 200000, 7)) + 1


def test_calls_made_while_tracking_was_off_are_left_out():
    h, durations = CommandLatency(), new_durations()
    durations[3] += 2
    h.pause(durations)
    durations[3] += 5                 # counted as calls, not in the histogram
    assert h.cumulative_buckets(durations)[0] == 2
    h.resume(durations)
    durations[4] += 1
    assert h.cumulative_buckets(durations)[0] == 3
    assert has_histogram(durations, h)
    assert not has_histogram(new_durations(), None)


def test_percentile_names_are_trimmed_like_redis():
    assert [format_percentile(p) for p in (50.0, 99.9, 100.0, 99.99)] == \
        ["50", "99.9", "100", "99.99"]


def test_slowlog_trims_arguments_and_length():
    assert trimmed_argv([b"x" * 130]) == [b"x" * 128 + b"... (2 more bytes)"]
    argv = [b"%d" % i for i in range(33)]
    trimmed = trimmed_argv(argv)
    assert len(trimmed) == 32 and trimmed[-1] == b"... (2 more arguments)"
    log = SlowLog(FakeSettings())
    for i in range(5):
        log.push_if_needed(FakeClient(), [b"cmd%d" % i], 7)
    assert [e[0] for e in log.latest(10)] == [4, 3, 2]
    assert log.latest(1)[0][3:] == [[b"cmd4"], b"127.0.0.1:5555", b"me"]


def test_latency_monitor_keeps_the_worst_sample_of_each_second():
    monitor = LatencyMonitor(FakeSettings())
    monitor.add_sample_if_needed("command", 9)          # under the threshold
    assert monitor.latest() == []
    monitor.add_sample_if_needed("command", 12)
    monitor.add_sample_if_needed("command", 30)
    monitor.add_sample_if_needed("command", 11)
    [(name, _, last, worst)] = monitor.latest()
    assert (name, last, worst) == (b"command", 30, 30)
    assert len(monitor.history("command")) == 1
    assert monitor.reset("COMMAND") == 1 and monitor.latest() == []


def test_sparkline_draws_like_redis():
    # Two samples, 10 and 20 ms, labelled 2s and 1s: Redis's SPARKLINE_FILL rendering.
    text = sparkline([10, 20], ["2s", "1s"], 80, 4)
    assert text == " #\n |\n |\n_|\n  \n21\nss\n"
