"""The configuration without a server process: the table, the parsers, the command line,
CONFIG SET's all-or-nothing rule, CONFIG REWRITE's file handling, and the effects of the
parameters that act on commands (the differential tests compare the replies and a
rewritten file with redis-server's; tests/integration/test_config_runtime.py the rest)."""
import os
import socket
import time
from types import SimpleNamespace

import gevent
import pytest

from commands.families import server_cmds
from commands.persistence import aof_loading
from commands.replication import replica_link
from commands.server.command_line import UsageError, parse_arguments
from commands.server.config_table import ALIASES, SETTINGS, lookup, readme_table
from commands.server.config_types import memtoull, string2ll
from commands.server import executor
from commands.server.connection import Client
from commands.server.executor import process_command
from commands.server.listener import ClientListener
from commands.server.process_control import parse_cpulist
from commands.server.resp import ReplyError
from commands.server.settings import (REWRITE_SIGNATURE, ConfigSetError, SettingError,
                                      Settings)
from tests.unit.test_exec_loop import _setup as exec_loop_setup


def test_table_has_redis_7_0_parameters_and_aliases():
    # 7.0.15's static_configs has 178 parameters (TLS ones included) and 19 aliases;
    # cluster-bus-secret is ours.
    assert {"list-max-ziplist-size", "slaveof", "lua-time-limit", "slave-priority",
            "cluster-slave-no-failover", "hash-max-ziplist-value"} <= set(ALIASES)
    assert len(ALIASES) == 19 and not set(ALIASES) & set(SETTINGS)
    assert len(SETTINGS) == 178 + 1
    for name, setting in SETTINGS.items():
        assert not (setting.missing and setting.no_effect), name
        # The default always parses back to itself (and is never refused as "missing").
        if setting.default is not None and setting.kind != "replicaof":
            assert setting.parse(setting.format(setting.default)) == setting.default, name


def test_every_parameter_without_effect_is_in_the_readme():
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")) as f:
        readme = f.read()
    for line in readme_table().splitlines()[2:]:
        assert line in readme, line


@pytest.mark.parametrize("text,value", [
    ("0", 0), ("-1", -1), ("9223372036854775807", 2 ** 63 - 1), ("007", None),
    ("+1", None), (" 1", None), ("", None), ("-0", None), ("9223372036854775808", None),
    ("1.0", None), ("١", None),
])
def test_string2ll(text, value):
    assert string2ll(text) == value


@pytest.mark.parametrize("text,value", [
    ("1k", 1000), ("1KB", 1024), ("2gB", 2 * 1024 ** 3), ("", 0), ("kb", 0), ("-1", None),
    ("1.5mb", None), ("1 mb", None), ("99999999999999999999", 2 ** 64 - 1),
    ("99999999999999999999k", (2 ** 64 - 1) * 1000 % 2 ** 64),
])
def test_memtoull(text, value):
    assert memtoull(text) == value


@pytest.mark.parametrize("args,message", [
    (["--port", "1", "2"], "wrong number of arguments"),
    (["--port"], "wrong number of arguments"),
    (["--maxmemory-clients", "10%"], "client eviction (maxmemory-clients) yet"),
    (["--tls-port", "70000"], "argument must be between 0 and 65535 inclusive"),
    (["--cluster-enabled", "no"], "always runs in cluster mode"),
    (["--save", "0", "1"], "Invalid save parameters"),
    (["--nosuch", "1"], "Bad directive or wrong number of arguments"),
    (["--slaveof", "127.0.0.1", "x"], "Invalid master port"),
    (["--dbfilename", "a/b"], "dbfilename can't be a path, just a filename"),
    (["--bind", ""], "No bind address is configured"),
])
def test_command_line_refusals(args, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_arguments(args)


def test_command_line_words_and_file(tmp_path):
    conf = tmp_path / "n.conf"
    conf.write_text('# c\nsave 900 1\nsave 300 10\nslave-priority 5\n'
                    'client-output-buffer-limit "pubsub 1mb 2mb 3"\n'
                    'list-max-ziplist-entries 128\nbind 127.0.0.1 -::1\n')
    settings = parse_arguments([str(conf), "--save", "--hash-max-ziplist-entries", "9",
                                "--dir", str(tmp_path)])
    assert settings.save == ""
    assert settings.replica_priority == 5 and settings.hash_max_listpack_entries == 9
    assert settings.client_output_buffer_limit["pubsub"] == (1024 ** 2, 2 * 1024 ** 2, 3)
    assert settings.bind == "127.0.0.1 -::1"
    assert settings.dir == str(tmp_path) and settings.cluster_config_file == "nodes-6379.conf"
    # Save lines in a file replace the default schedule and add up.
    assert parse_arguments([str(conf)]).save == "900 1 300 10"


def test_config_set_restores_everything_when_an_apply_fails():
    settings = Settings()
    applied = []

    def listener(name, value):
        applied.append((name, value))
        if name == "appendonly" and value:
            raise SettingError("Unable to turn on AOF. Check server logs.")
    settings.listeners.append(listener)
    with pytest.raises(ConfigSetError, match=r"'appendonly'\) - Unable to turn on AOF"):
        settings.set_many([("hz", "20"), ("appendonly", "yes"), ("timeout", "5")])
    assert (settings.hz, settings.appendonly, settings.timeout) == (10, False, 0)
    # hz and appendonly were applied with their new values, then again with the old.
    assert applied == [("hz", 20), ("appendonly", True), ("hz", 10), ("appendonly", False)]


def test_config_set_unchanged_values_are_not_applied():
    settings = Settings()
    applied = []
    settings.listeners.append(lambda name, value: applied.append(name))
    settings.set_many([("hz", "10"), ("timeout", "3")])
    assert applied == ["timeout"]


def test_loading_refuses_deny_loading_parameters():
    with pytest.raises(ConfigSetError, match="^LOADING"):
        Settings().set_many([("appendonly", "yes")], loading=True)


def test_lookup_names_and_aliases_any_case():
    assert lookup("SLAVEOF") == ("slaveof", SETTINGS["replicaof"])
    assert lookup("Port") == ("port", SETTINGS["port"])
    assert lookup("nosuch") == (None, None)


def test_rewrite_keeps_comments_and_order(tmp_path):
    conf = tmp_path / "n.conf"
    conf.write_text("# head\n\nhash-max-ziplist-entries 100\nsave 900 1\nsave 300 10\n"
                    "\n\n# tail comment\nslave-priority 50\nsome-unknown-directive 1\n"
                    'unbalanced "quote\n')
    settings = Settings()
    settings.config_file = str(conf)
    settings.set_many([("hash-max-listpack-entries", "200"), ("save", "60 5"),
                       ("timeout", "30")])
    settings.values["replica-priority"] = 50
    settings.rewrite()
    lines = conf.read_text().splitlines()
    assert lines[:8] == ["# head", "", "hash-max-listpack-entries 200", "save 60 5", "",
                         "# tail comment", "replica-priority 50",
                         "# ??? some-unknown-directive 1"]
    assert lines[8:11] == ['# ??? unbalanced "quote', "", REWRITE_SIGNATURE]
    assert "timeout 30" in lines[11:]
    # Rewriting again adds no second signature and keeps every line (like Redis, the
    # file's final newline reads as one empty line, kept once).
    settings.rewrite()
    before = conf.read_text()
    settings.rewrite()
    assert conf.read_text() == before and before.count(REWRITE_SIGNATURE) == 1


def test_rewrite_without_a_file():
    with pytest.raises(SettingError, match="running without a config file"):
        Settings().rewrite()


# ---------------------------------------------------------------- effects on commands

class _FakeLink:
    link_up = False


def _reply(client, *argv):
    return process_command(client, [a.encode() for a in argv])


def test_replica_serve_stale_data_no_gives_masterdown():
    server, repl, client = exec_loop_setup()
    server.settings.set_many([("replica-serve-stale-data", "no")])
    repl.link = _FakeLink()
    repl.update_activity()
    assert server.degraded and server.masterdown
    error = str(_reply(client, "GET", "k"))
    assert "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to " \
           "'no'." in error
    assert "MASTERDOWN" not in str(_reply(client, "INFO", "server"))     # a stale command
    repl.link = None
    repl.update_activity()
    assert not server.degraded


def test_min_replicas_to_write_gives_noreplicas():
    server, repl, client = exec_loop_setup()
    server.settings.set_many([("min-replicas-to-write", "1")])
    repl.refresh_good_replicas()
    assert "NOREPLICAS Not enough good replicas to write." in str(_reply(client, "SET", "k", "v"))
    assert "NOREPLICAS" not in str(_reply(client, "GET", "k"))
    server.settings.set_many([("min-replicas-max-lag", "0")])     # 0 turns it off
    repl.refresh_good_replicas()
    assert not server.degraded


@pytest.mark.parametrize("text,cpus", [
    ("0", {0}), ("0,2", {0, 2}), ("1-3", {1, 2, 3}), ("0-7:2", {0, 2, 4, 6}),
    ("0-3,8-11:3", {0, 1, 2, 3, 8, 11}), ("3-1", None), ("0-4:0", None), ("a", None),
    ("1,", None), ("", None), (" 1", None),
])
def test_cpulist(text, cpus):
    assert parse_cpulist(text) == cpus


def test_propagation_error_behavior_panic_stops_an_aof_load():
    server, _, _ = exec_loop_setup()
    replay = aof_loading._Replay(server, "appendonly.aof.1.incr.aof", None)
    replay._execute([b"SET", b"k", b"v"])
    replay._execute([b"INCR", b"k"])                 # ignored by default, as in Redis
    server.settings.set_many([("propagation-error-behavior", "panic")])
    with pytest.raises(aof_loading.AofLoadError, match="panicked .* 'incr'"):
        replay._execute([b"INCR", b"k"])


def test_propagation_error_behavior_on_a_replica(monkeypatch):
    server, _, _ = exec_loop_setup()
    exits = []
    monkeypatch.setattr(replica_link.os, "_exit", exits.append)
    error = ReplyError("ERR value is not an integer or out of range")
    replica_link.error_from_master_stream(server, [b"INCR", b"k"], error)
    assert exits == [] and server.unexpected_errors == 1
    server.settings.set_many([("propagation-error-behavior", "panic-on-replicas")])
    replica_link.error_from_master_stream(server, [b"INCR", b"k"], error)
    assert exits == [1]
    server.settings.set_many([("replica-read-only", "no")])     # a writable replica goes on
    replica_link.error_from_master_stream(server, [b"INCR", b"k"], error)
    assert exits == [1]


def test_replica_ignore_disk_write_errors(monkeypatch):
    server, _, client = exec_loop_setup()
    exits = []
    monkeypatch.setattr(executor.os, "_exit", exits.append)
    client.is_master_link = True                 # commands from our master
    server.misconf = True                        # a failed BGSAVE
    _reply(client, "SET", "k", "v")
    assert exits == [1]                          # Redis 7.0 panics by default
    server.settings.set_many([("replica-ignore-disk-write-errors", "yes")])
    _reply(client, "SET", "k", "w")
    assert exits == [1] and server.keyspace.get(b"k") is not None


def test_socket_mark_id_marks_the_listening_sockets():
    server, _, _ = exec_loop_setup()
    server.settings.values["socket-mark-id"] = 7
    client_listener = ClientListener(server, "127.0.0.1", 0)
    streams = client_listener._listen(["127.0.0.1"], 0)
    try:
        mark = streams[0].socket.getsockopt(socket.SOL_SOCKET, getattr(socket, "SO_MARK", 36))
    finally:
        for stream in streams:
            stream.close()
    if mark == 0:
        pytest.skip("no CAP_NET_ADMIN here: SO_MARK cannot be set")
    assert mark == 7


def _lagging_replica():
    client = SimpleNamespace(push_raw=lambda data: None)
    return SimpleNamespace(ack_offset=0, phase="online", rdb_only=False, client=client,
                           name="127.0.0.1:7000", ack_time=time.monotonic(),
                           state="online")


def test_shutdown_timeout_waits_for_lagging_replicas_then_goes_on():
    server, repl, _ = exec_loop_setup()
    server.settings.set_many([("shutdown-timeout", "1")])
    repl.replicas.append(_lagging_replica())
    repl.feed(b"*1\r\n$4\r\nPING\r\n")
    started = time.monotonic()
    assert server_cmds.wait_for_replicas(server, now=False)
    assert 0.9 < time.monotonic() - started < 3
    started = time.monotonic()
    assert server_cmds.wait_for_replicas(server, now=True)      # SHUTDOWN NOW
    assert time.monotonic() - started < 0.5


def test_shutdown_abort_ends_the_wait():
    server, repl, client = exec_loop_setup()
    repl.replicas.append(_lagging_replica())
    repl.feed(b"*1\r\n$4\r\nPING\r\n")
    assert "No shutdown in progress" in str(_reply(client, "SHUTDOWN", "ABORT"))
    gevent.spawn_later(0.1, _reply, Client(server), "SHUTDOWN", "ABORT")
    started = time.monotonic()
    assert not server_cmds.wait_for_replicas(server, now=False)
    assert time.monotonic() - started < 5
