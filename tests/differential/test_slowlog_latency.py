"""SLOWLOG and LATENCY against redis-server 7.0.15: help texts, error texts, and the shape
of what they record after DEBUG SLEEP and ordinary commands (ids, times and durations
differ between the two servers; argument lists, client names, event names and the
structure of every reply must not).

The session's node and redis-server are shared with the other differential tests, so
every test puts the settings it changes back (the `observed` fixture).
"""
import re

import pytest

_DEFAULTS = {"slowlog-log-slower-than": "10000", "slowlog-max-len": "128",
             "latency-monitor-threshold": "0", "latency-tracking": "yes"}


@pytest.fixture
def observed(diff):
    yield diff
    for name, value in _DEFAULTS.items():
        diff.both("CONFIG", "SET", name, value)
    diff.both("SLOWLOG", "RESET")
    diff.both("LATENCY", "RESET")


def _entries(reply):
    """SLOWLOG GET's entries as (argv, client name), checking each field's type."""
    kind, entries = reply
    assert kind == "*"
    out = []
    for kind, fields in entries:
        assert kind == "*" and len(fields) == 6
        (k_id, _), (k_time, when), (k_dur, duration), (k_argv, argv), (k_addr, addr), \
            (k_name, name) = fields
        assert (k_id, k_time, k_dur, k_argv, k_addr, k_name) == \
            (":", ":", ":", "*", "$", "$")
        assert re.fullmatch(rb"127\.0\.0\.1:\d+", addr), addr
        assert when > 1e9 and duration >= 0
        out.append(([value for _, value in argv], name))
    return out


def test_help_texts_and_errors_are_redis_s(observed):
    for args in [("SLOWLOG", "HELP"), ("LATENCY", "HELP"),
                 ("SLOWLOG",), ("SLOWLOG", "FOO"), ("SLOWLOG", "GET", "-2"),
                 ("SLOWLOG", "GET", "abc"), ("SLOWLOG", "GET", "1", "2"),
                 ("SLOWLOG", "LEN", "x"), ("SLOWLOG", "RESET", "x"),
                 ("SLOWLOG", "HELP", "x"),
                 ("LATENCY",), ("LATENCY", "FOO"), ("LATENCY", "HISTORY"),
                 ("LATENCY", "GRAPH", "no-such-event"), ("LATENCY", "LATEST", "x"),
                 ("LATENCY", "HISTORY", "no-such-event"), ("LATENCY", "RESET", "nothing"),
                 ("LATENCY", "DOCTOR"),
                 ("CONFIG", "SET", "slowlog-log-slower-than", "-2"),
                 ("CONFIG", "SET", "slowlog-max-len", "-1"),
                 ("CONFIG", "SET", "latency-monitor-threshold", "-1"),
                 ("CONFIG", "SET", "latency-tracking-info-percentiles", "101"),
                 ("CONFIG", "GET", "slowlog-log-slower-than"),
                 ("CONFIG", "GET", "latency-tracking-info-percentiles")]:
        observed.check(*args)


def test_slowlog_entries_are_shaped_and_trimmed_as_redis(observed):
    observed.check("CONFIG", "SET", "slowlog-log-slower-than", "0")
    observed.check("SLOWLOG", "RESET")
    observed.check("CLIENT", "SETNAME", "observer")
    observed.check("SET", "k", "v" * 300)
    observed.check("RPUSH", "list", *[str(i) for i in range(40)])
    observed.check("MULTI")
    observed.check("INCR", "counter")
    observed.check("EXEC")                          # EXEC itself is never logged
    observed.check("SLOWLOG", "LEN")
    ours, ref = observed.both("SLOWLOG", "GET", "-1")
    assert _entries(ours) == _entries(ref)
    entries = _entries(ours)
    assert entries[0][0] == [b"SLOWLOG", b"LEN"]
    assert [b"INCR", b"counter"] in [argv for argv, _ in entries]
    assert entries[-1] == ([b"SLOWLOG", b"RESET"], b"")   # logged after it ran
    setname = [argv for argv, name in entries if argv[:2] == [b"CLIENT", b"SETNAME"]]
    assert setname == [[b"CLIENT", b"SETNAME", b"observer"]]
    rpush = next(argv for argv, _ in entries if argv[0] == b"RPUSH")
    assert len(rpush) == 32 and rpush[-1] == b"... (11 more arguments)"
    set_argv = next(argv for argv, _ in entries if argv[0] == b"SET")
    assert set_argv[2] == b"v" * 128 + b"... (172 more bytes)"
    # ids count up by one, newest first
    ids = [entry[1][0][1] for entry in observed.ours.call("SLOWLOG", "GET", "-1")[1]]
    assert ids == list(range(ids[0], ids[0] - len(ids), -1))
    observed.check("SLOWLOG", "GET", "0")
    observed.check("CONFIG", "SET", "slowlog-max-len", "2")
    observed.check("SLOWLOG", "LEN")
    observed.check("CONFIG", "SET", "slowlog-log-slower-than", "-1")
    observed.check("SLOWLOG", "RESET")
    observed.check("SET", "k", "v")
    observed.check("SLOWLOG", "LEN")


def test_debug_sleep_is_slow_and_a_latency_spike(observed):
    observed.check("CONFIG", "SET", "slowlog-log-slower-than", "50000")
    observed.check("CONFIG", "SET", "latency-monitor-threshold", "40")
    observed.check("SLOWLOG", "RESET")
    observed.check("LATENCY", "RESET")
    observed.check("DEBUG", "SLEEP", "0.1")
    observed.check("SLOWLOG", "LEN")
    for server in (observed.ours, observed.redis):
        entry = server.call("SLOWLOG", "GET")[1][0][1]
        assert [v for _, v in entry[3][1]] == [b"DEBUG", b"SLEEP", b"0.1"]
        assert 100000 <= entry[2][1] < 400000
        kind, latest = server.call("LATENCY", "LATEST")
        assert kind == "*" and len(latest) == 1
        name, when, last, worst = latest[0][1]
        assert name == ("$", b"command") and when[0] == last[0] == worst[0] == ":"
        assert 100 <= last[1] == worst[1] < 400
        history = server.call("LATENCY", "HISTORY", "command")[1]
        assert len(history) == 1 and history[0][1][1] == last
        graph = server.call("LATENCY", "GRAPH", "command")[1].decode()
        assert graph.startswith("command - high %d ms, low %d ms (all time high %d ms)\n"
                                % (last[1], last[1], last[1]))
        assert "-" * 80 + "\n" in graph
        doctor = server.call("LATENCY", "DOCTOR")[1].decode()
        assert re.sub(r"\d+", "N", doctor) == re.sub(
            r"\d+", "N", observed.redis.call("LATENCY", "DOCTOR")[1].decode())
    observed.check("LATENCY", "HISTORY", "fast-command")
    observed.check("LATENCY", "RESET", "COMMAND", "other")
    observed.check("LATENCY", "LATEST")


def test_a_blocked_wait_is_not_the_command_s_duration(observed):
    observed.check("CONFIG", "SET", "slowlog-log-slower-than", "100000")
    observed.check("SLOWLOG", "RESET")
    observed.check("BLPOP", "nothing", "0.3")
    observed.check("SLOWLOG", "LEN")


def test_latency_histogram_and_latencystats(observed):
    observed.check("CONFIG", "RESETSTAT")
    for _ in range(20):
        observed.check("SET", "k", "v")
    observed.check("GET", "k")
    observed.check("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.99 100")
    for server in (observed.ours, observed.redis):
        kind, reply = server.call("LATENCY", "HISTOGRAM", "set", "GET", "nosuch")
        assert kind in ("*", "%")
        pairs = dict(zip(reply[::2], reply[1::2])) if kind == "*" else dict(reply)
        assert set(pairs) == {("$", b"set"), ("$", b"get")}
        calls = pairs[("$", b"set")]
        fields = calls[1] if calls[0] == "*" else [x for kv in calls[1] for x in kv]
        assert fields[0] == ("$", b"calls") and fields[1] == (":", 20)
        assert fields[2] == ("$", b"histogram_usec")
        buckets = [v for _, v in fields[3][1]][1::2]
        assert buckets[-1] == 20 and buckets == sorted(buckets)
        info = server.call("INFO", "latencystats")[1].decode()
        assert re.search(r"latency_percentiles_usec_set:p50=\d+\.\d{3},p99\.99=\d+\.\d{3},"
                         r"p100=\d+\.\d{3}\r\n", info), info
    observed.check("CONFIG", "SET", "latency-tracking", "no")
    observed.check("INFO", "latencystats")
    observed.check("CONFIG", "SET", "latency-tracking", "yes")
