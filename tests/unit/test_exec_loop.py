"""EXEC's loop (executor.call_queued): what it does per queued command and what it does
once per transaction. A huge EXEC keeps every other client waiting for as long as the
loop runs (it must not yield), so the per-command work it skipped must stay skipped;
and what it must keep (stats, errors, MONITOR, propagation) must stay right."""
import hiredis

from commands import load_all_commands
from commands.replication.master import Replication
from commands.replication.propagation import Propagator
from commands.server import executor, routing
from commands.server.connection import Client
from commands.server.executor import process_command
from commands.server.resp import Raw
from commands.server.table import COMMANDS
from tests.unit.one_node import one_node_server

load_all_commands()

N = 1000


def _setup(replication=True):
    server = one_node_server()
    repl = None
    if replication:
        repl = Replication(server)
        server.replication = repl
        server.propagator = repl.propagator
        server.keyspace.propagate_deletion = repl.propagate_deletion
        repl.create_backlog()
    return server, repl, Client(server)


def _queue(c, commands):
    assert process_command(c, [b"MULTI"]) is not None
    for argv in commands:
        assert process_command(c, list(argv)) == Raw(b"+QUEUED\r\n")


def _replies(raw):
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def _counting(monkeypatch, owner, name):
    calls = [0]
    real = getattr(owner, name)

    def counted(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_per_command_work_is_one_clock_read_and_no_propagation_begin(monkeypatch):
    server, repl, c = _setup()
    _queue(c, [[b"INCR", b"{k}"]] * N)
    clock = _counting(monkeypatch, executor.time, "perf_counter_ns")
    begins = _counting(monkeypatch, Propagator, "begin")
    slots = _counting(monkeypatch, routing, "slot_of")
    reply = process_command(c, [b"EXEC"])
    # call() for EXEC reads the clock twice, the loop once plus once per command.
    assert clock[0] == N + 3
    assert begins[0] == 1             # EXEC's own unit; none per queued command
    assert slots[0] == 1              # the routing check: one key, hashed once
    assert type(reply) is Raw         # encoded as it ran, no list of values
    assert _replies(reply) == list(range(1, N + 1))
    # The stream still has the transaction, as MULTI ... EXEC (after the SELECT 0 a new
    # stream starts with, as Redis's).
    reader = hiredis.Reader()
    reader.feed(repl.backlog.read_from(1))
    stream = []
    while (item := reader.gets()) is not False:
        stream.append(item)
    assert stream == [[b"SELECT", b"0"], [b"MULTI"]] + [[b"INCR", b"{k}"]] * N + [[b"EXEC"]]


def test_stats_errors_and_replies_kept_per_command():
    server, repl, c = _setup()
    incr, get, exec_cmd = COMMANDS[b"incr"], COMMANDS[b"get"], COMMANDS[b"exec"]
    before = (incr.calls, incr.failed_calls, get.calls, exec_cmd.calls, incr.nsec)
    total = server.total_commands
    _queue(c, [[b"SET", b"{t}s", b"abc"], [b"INCR", b"{t}s"], [b"GET", b"{t}s"],
               [b"INCR", b"{t}n"], [b"GET", b"{t}none"], [b"HSET", b"{t}h", b"f", b"v"],
               [b"INCR", b"{t}h"]])
    reply = process_command(c, [b"EXEC"])
    replies = _replies(reply)
    assert replies[0] == b"OK" and replies[2] == b"abc" and replies[3] == 1
    assert replies[4] is None and replies[5] == 1
    assert isinstance(replies[1], hiredis.ReplyError)
    assert str(replies[1]) == "ERR value is not an integer or out of range"
    assert str(replies[6]).startswith("WRONGTYPE")
    assert (incr.calls - before[0], incr.failed_calls - before[1]) == (3, 2)
    assert (get.calls - before[2], exec_cmd.calls - before[3]) == (2, 1)
    assert incr.nsec > before[4]
    assert server.total_commands - total == 9        # MULTI, the 7 commands, EXEC
    assert server.errorstats["ERR"] >= 1 and server.errorstats["WRONGTYPE"] >= 1
    assert c.multi is None and c.prop_depth == 0


def test_monitor_sees_every_queued_command():
    server, repl, c = _setup(replication=False)
    monitor = Client(server)
    lines = []
    monitor.push_raw = lines.append
    server.monitors.add(monitor)
    _queue(c, [[b"INCR", b"{k}"]] * 3)
    process_command(c, [b"EXEC"])
    assert [line.split(b"] ", 1)[1] for line in lines] == \
        [b'"MULTI"\r\n'] + [b'"INCR" "{k}"\r\n'] * 3 + [b'"EXEC"\r\n']


def test_hello_inside_the_transaction_changes_the_replies_after_it():
    # Redis writes each reply when its command runs, in the protocol in force then.
    server, repl, c = _setup(replication=False)
    _queue(c, [[b"GET", b"{t}none"], [b"HELLO", b"3"], [b"GET", b"{t}none"]])
    reply = process_command(c, [b"EXEC"])
    assert reply.startswith(b"*3\r\n$-1\r\n") and reply.endswith(b"_\r\n")
