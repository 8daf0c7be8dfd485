"""Streams in Redis 7.0's formats, checked against redis-server: DUMP payloads both ways
(byte for byte where no time is inside), an RDB file we SAVE is accepted by
redis-check-rdb and loaded by redis-server with the same stream, an RDB redis-server
SAVEs is loaded by node.py, and the AOF rewrite's commands rebuild the stream."""
import os
import shutil
import subprocess

from commands.rdb import load_payload
from commands.persistence.aof_rewrite import stream_commands
from tests.helpers import RawClient, start_node, start_redis, own_all_slots

# Built alike on both servers: several nodes, tombstones, other field sets, groups,
# pending entries and an idle consumer.
BUILD = ([("XADD", "s", "%d-%d" % (i, i), "f", "v%d" % i, *(["g", "12"] if i % 7 == 0 else []))
          for i in range(1, 260)]
         + [("XDEL", "s", "5-5", "150-150"), ("XGROUP", "CREATE", "s", "g", "0"),
            ("XGROUP", "CREATE", "s", "h", "100-0", "ENTRIESREAD", 7),
            ("XREADGROUP", "GROUP", "g", "alice", "COUNT", 3, "STREAMS", "s", ">"),
            ("XGROUP", "CREATECONSUMER", "s", "g", "bob"),
            ("XADD", "e", "1-1", "a", "b"), ("XDEL", "e", "1-1"),
            ("XADD", "plain", "1-1", "x", "1"), ("XADD", "plain", "2-1", "y", "-7"),
            ("XSETID", "plain", "9-9", "ENTRIESADDED", 40, "MAXDELETEDID", "3-0")])


def build(client):
    for command in BUILD:
        reply = client.call(*command)
        assert reply[0] != "-", (command, reply)


def full_info(client, key):
    """XINFO STREAM FULL without the times (seen and delivery times)."""
    reply = client.call("XINFO", "STREAM", key, "FULL")
    return _untimed(reply)


def _untimed(reply):
    kind, value = reply
    if kind == ":" and value > 10 ** 12:
        return ":", 0
    if kind == "*" and value is not None:
        return kind, [_untimed(item) for item in value]
    return reply


def test_dump_payloads_both_ways(diff):
    build(diff.ours)
    build(diff.redis)
    for key in ("s", "e", "plain"):
        ours = diff.ours.call("DUMP", key)[1]
        ref = diff.redis.call("DUMP", key)[1]
        if key != "s":                       # no times inside: the same bytes
            assert ours == ref, key
        assert diff.redis.call("RESTORE", key + "-ours", 0, ours) == ("+", "OK")
        assert diff.ours.call("RESTORE", key + "-redis", 0, ref) == ("+", "OK")
        assert full_info(diff.redis, key + "-ours") == full_info(diff.redis, key)
        assert full_info(diff.ours, key + "-redis") == full_info(diff.redis, key)
        assert diff.ours.call("XINFO", "STREAM", key + "-redis") == \
            diff.redis.call("XINFO", "STREAM", key)


def test_aof_rewrite_commands_rebuild_the_stream(diff):
    """The commands the AOF rewrite writes (without the RDB preamble) recreate the
    stream on redis-server, counters, groups and PELs included."""
    build(diff.ours)
    build(diff.redis)
    for key in ("s", "e", "plain"):
        kind, neutral = load_payload(diff.ours.call("DUMP", key)[1])
        assert kind == "stream"
        for argv in stream_commands(b"{x}" + key.encode(), neutral):
            assert diff.redis.call(*argv)[0] != "-", argv
        rebuilt = full_info(diff.redis, "{x}" + key)
        original = full_info(diff.redis, key)
        # the rebuilt stream has fresh nodes (no tombstones), so compare what XADDs keep
        assert rebuilt[1][1] == original[1][1]                  # length
        assert rebuilt[1][6:] == original[1][6:]               # ids, counters, entries, groups


def test_our_rdb_loads_in_redis_and_redis_rdb_loads_in_ours(tmp_path):
    ours = start_node()
    try:
        client = RawClient(ours.port)
        build(client)
        expected = {key: full_info(client, key) for key in ("s", "e", "plain")}
        assert client.call("SAVE") == ("+", "OK")
        path = os.path.join(ours.cwd, "dump.rdb")
        check = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True,
                               timeout=60)
        assert "RDB looks OK" in check.stdout, check.stdout + check.stderr
        folder = tmp_path / "redis"
        folder.mkdir()
        shutil.copy(path, folder / "dump.rdb")
    finally:
        ours.stop()
    ref = start_redis("--dir", str(folder), "--dbfilename", "dump.rdb")
    try:
        rclient = RawClient(ref.port)
        for key, info in expected.items():
            assert full_info(rclient, key) == info, key
        # and back: redis-server's own file, loaded by a node
        assert rclient.call("SAVE") == ("+", "OK")
        back = tmp_path / "back"
        back.mkdir()
        shutil.copy(folder / "dump.rdb", back / "dump.rdb")
    finally:
        ref.stop()
    node = start_node(cwd=str(back), slots=False)
    try:
        own_all_slots(node.port)
        client = RawClient(node.port)
        for key, info in expected.items():
            assert full_info(client, key) == info, key
    finally:
        node.stop()


def test_migrate_carries_streams_both_ways(diff):
    build(diff.ours)
    expected = full_info(diff.ours, "s")
    assert diff.ours.call("MIGRATE", "127.0.0.1", diff.redis.sock.getpeername()[1], "s", 0,
                          5000) == ("+", "OK")
    assert diff.ours.call("EXISTS", "s") == (":", 0)
    assert full_info(diff.redis, "s") == expected
    assert diff.redis.call("MIGRATE", "127.0.0.1", diff.ours.sock.getpeername()[1], "s", 0,
                           5000, "COPY") == ("+", "OK")
    assert full_info(diff.ours, "s") == expected
