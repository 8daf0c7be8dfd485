"""Keyspace notifications on replicas: a replica publishes the events of the commands it
applies from its master, as Redis does (the master's commands reach it rewritten: SET
... PXAT for SET EX, SET KEEPTTL for INCRBYFLOAT, SREM for SPOP, DEL for an expired
key...). Our master + replica and redis-server's master + replica get the same commands;
the two replicas' event streams must be equal, event by event.
"""
import time

import pytest

from tests.differential.notify_streams import EventStream
from tests.helpers import own_all_slots, start_node, start_redis
from tests.integration.test_replication import attach, wait_converged, wait_link_up

COMMANDS = [
    ("SET", "{a}s", "1", "EX", "100"), ("INCRBYFLOAT", "{a}n", "1.5"), ("APPEND", "{a}s", "x"),
    ("GETEX", "{a}s", "PERSIST"), ("GETDEL", "{a}s"), ("SET", "{a}t", "1"),
    ("EXPIRE", "{a}t", "-1"), ("SADD", "{a}set", "1", "2", "3"), ("SPOP", "{a}set", "5"),
    ("HSET", "{a}h", "f", "1"), ("HINCRBYFLOAT", "{a}h", "f", "2.5"), ("HDEL", "{a}h", "f"),
    ("RPUSH", "{a}l", "a", "b"), ("LMOVE", "{a}l", "{a}m", "LEFT", "RIGHT"),
    ("BLPOP", "{a}l", "0.01"), ("ZADD", "{a}z", "1", "a"), ("ZINCRBY", "{a}z", "1", "a"),
    ("ZPOPMIN", "{a}z"), ("SET", "{a}r", "1"), ("RENAME", "{a}r", "{a}r2"),
    ("COPY", "{a}r2", "{a}r3"), ("SET", "{a}x", "1", "PX", "20"),
]


@pytest.fixture(scope="module")
def replicas():
    procs = []
    try:
        ours_master = start_node()
        procs.append(ours_master)
        ours_replica = start_node(slots=False)
        procs.append(ours_replica)
        redis_master = start_redis("--repl-diskless-sync-delay", "0", cluster=True)
        procs.append(redis_master)
        own_all_slots(redis_master.port)
        redis_replica = start_redis(cluster=True)
        procs.append(redis_replica)
        pairs = []
        for master, replica in ((ours_master, ours_replica), (redis_master, redis_replica)):
            mc, rc = attach(master.port, replica.port)
            wait_link_up(rc)
            pairs.append((mc, rc))
        yield pairs
        for mc, rc in pairs:
            mc.close()
            rc.close()
    finally:
        for proc in procs:
            proc.stop()


def test_replicas_publish_the_events_of_what_they_apply(replicas):
    streams = []
    for mc, rc in replicas:
        rc.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        streams.append(EventStream(rc.sock.getpeername()[1]))
    try:
        for mc, _ in replicas:
            for args in COMMANDS:
                reply = mc.call(*args)
                assert reply[0] != "-", (args, reply)
        for mc, rc in replicas:
            wait_converged(mc, rc)
        time.sleep(0.05)
        for _, rc in replicas:
            # A replica keeps an expired key until its master's DEL: no event here.
            rc.call("READONLY")
            assert rc.call("GET", "{a}x") == ("$", None)
            assert rc.call("EXISTS", "{a}x") == (":", 0)
        for mc, _ in replicas:
            assert mc.call("GET", "{a}x") == ("$", None)      # expired on the master: DEL
        for mc, rc in replicas:
            wait_converged(mc, rc)
        ours, ref = (stream.drain() for stream in streams)
        assert ours == ref
        assert (b"__keyevent@0__:del", b"{a}x") in ours
    finally:
        for stream in streams:
            stream.close()
