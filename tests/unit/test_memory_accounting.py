"""The memory model and its bookkeeping, in-process.

The keyspace keeps used_memory as a running total adjusted where keys change; the
test that matters is that it never drifts: after a long random mix of commands of
every type, the total equals a fresh estimate of every key. Also: the model's figures
for strings equal redis-server 7.0.15's MEMORY USAGE exactly, the LFU counter's rules,
and the eviction pool's choices.
"""
import random
import time

from commands import load_all_commands
from commands.data.eviction import LFU_INIT_VAL, Evictor, LfuCells, LfuClock
from commands.data.keyspace import Keyspace
from commands.data.memory_model import (EXPIRE_ENTRY, accounted_size, jemalloc_size,
                                        key_usage)
from commands.server import routing
from commands.server.connection import Client
from commands.server.context import Server
from commands.server.executor import process_command
from commands.server.settings import Settings
from tests.unit.one_node import OneNodeView
from tests.unit.test_exec_loop import _setup

load_all_commands()


def _server():
    server = Server(Settings(), Keyspace())
    server.cluster = OneNodeView()
    server.router = routing.Router(server.cluster, server.keyspace, server.settings)
    return server, Client(server)


def fresh_total(ks) -> int:
    total = len(ks.expires) * EXPIRE_ENTRY
    for key, value in ks.items():
        total += accounted_size(key, value)
    return total


def _random_command(rng):
    k = "{t}%d" % rng.randrange(12)
    d = "{t}%d" % rng.randrange(12)
    m = "m%d" % rng.randrange(30)
    n = str(rng.randrange(1000))
    return rng.choice([
        ("SET", k, "x" * rng.randrange(80)), ("SET", k, n, "EX", "100"), ("APPEND", k, m),
        ("SETRANGE", k, str(rng.randrange(50)), m), ("INCR", k), ("GETDEL", k),
        ("SETBIT", k, str(rng.randrange(500)), "1"), ("PFADD", k, m),
        ("HSET", k, m, n), ("HDEL", k, m), ("HINCRBY", k, m, "3"),
        ("RPUSH", k, m, n), ("LPOP", k), ("LSET", k, "0", m), ("LTRIM", k, "1", "-1"),
        ("SADD", k, m, n), ("SREM", k, m), ("SPOP", k), ("SUNIONSTORE", d, k, d),
        ("ZADD", k, n, m), ("ZREM", k, m), ("ZINCRBY", k, "1.5", m), ("ZPOPMIN", k),
        ("XADD", k, "*", m, n), ("XTRIM", k, "MAXLEN", "2"),
        ("EXPIRE", k, "100"), ("PERSIST", k), ("DEL", k), ("RENAME", k, d),
        ("COPY", k, d, "REPLACE"), ("UNLINK", d),
    ])


def test_the_running_total_never_drifts():
    server, c = _server()
    ks = server.keyspace
    rng = random.Random(15)
    for i in range(6000):
        process_command(c, [a.encode() for a in _random_command(rng)])
        if i % 500 == 499:
            assert ks.settle_memory() == fresh_total(ks), i
    assert ks.settle_memory() == fresh_total(ks)
    process_command(c, [b"FLUSHALL"])
    assert ks.settle_memory() == 0 and not ks.sizes


def test_strings_cost_what_redis_reports():
    # MEMORY USAGE in redis-server 7.0.15 (cluster mode) for key "k".
    assert key_usage(b"k", b"v") == 80
    assert key_usage(b"k", b"12345") == 64
    assert key_usage(b"k", b"x" * 40) == 112
    assert key_usage(b"k", b"x" * 100) == 176
    assert key_usage(b"k", b"x" * 10000) == 10304
    assert [jemalloc_size(n) for n in (1, 9, 17, 129, 161, 257, 4097)] == \
        [8, 16, 32, 160, 192, 320, 5120]


def test_used_memory_follows_writes_and_flush():
    server, c = _server()
    empty = server.memory.used()
    process_command(c, [b"SET", b"a", b"x" * 1000])
    grown = server.memory.used()
    assert 1000 < grown - empty < 1200
    process_command(c, [b"APPEND", b"a", b"y" * 1000])
    assert server.memory.used() - grown > 900            # settled when read
    process_command(c, [b"FLUSHALL"])
    assert server.memory.used() == empty


def test_lfu_counter_rules():
    lfu = LfuClock(random.Random(1))
    lfu.configure(log_factor=0, decay_time=1)
    cells = LfuCells(lfu)
    cells.append(0)                          # a new key: a new key's counter
    assert lfu.frequency(cells[0]) == LFU_INIT_VAL
    for _ in range(10):
        cells[0] = 0                         # factor 0: every access increments
    assert lfu.frequency(cells[0]) == LFU_INIT_VAL + 10
    lfu.minutes = (lfu.minutes + 3) & 0xFFFF        # three decay periods
    assert lfu.frequency(cells[0]) == LFU_INIT_VAL + 7
    lfu.configure(log_factor=10, decay_time=0)     # no decay
    cells.set_counter(0, 255)
    cells[0] = 0
    assert lfu.frequency(cells[0]) == 255    # saturated
    assert lfu.frequency(None) == LFU_INIT_VAL      # no counter yet: a new key's


def test_the_pool_follows_the_policy():
    ks = Keyspace()
    rng = random.Random(3)
    now = int(time.time() * 1000)
    for i in range(50):
        ks.set(b"p%d" % i, b"v")
        ks.set(b"t%d" % i, b"v")
        ks.set_expire(b"t%d" % i, now + 100000 + i * 1000)
    evictor = Evictor(ks, rng)
    for policy in ("volatile-lru", "volatile-lfu", "volatile-random"):
        for _ in range(20):
            assert evictor.best_key(policy, 5).startswith(b"t")
    # Sampling as many keys as there are finds the soonest to expire.
    assert Evictor(ks, rng).best_key("volatile-ttl", 200) == b"t0"
    ks.restore_access(b"p7", idle=1000)          # idle the longest
    lru = Evictor(ks, rng)
    for _ in range(200):                         # the pool keeps the best seen so far
        lru._populate(False, "lru", 5)
    assert lru.best_key("allkeys-lru", 5) == b"p7"
    assert evictor.best_key("noeviction", 5) is None


def test_maxmemory_off_keeps_the_fast_path():
    server, c = _server()
    assert not server.degraded
    server.settings.maxmemory = 1          # as node.py applies the setting
    server.maxmemory_on = True
    assert server.degraded
    process_command(c, [b"SET", b"a", b"b"])
    reply = process_command(c, [b"SET", b"b", b"c"])
    assert reply.args[0].startswith("OOM")   # noeviction: over the limit


def test_evictions_propagate_as_del_or_unlink():
    server, repl, c = _setup(replication=True)
    for lazy, verb in (("no", b"DEL"), ("yes", b"UNLINK")):
        server.settings.set("lazyfree-lazy-eviction", lazy)
        process_command(c, [b"SET", b"gone", b"v"])
        start = repl.backlog.end_offset + 1
        server.keyspace.evict(b"gone")
        assert repl.backlog.read_from(start) == \
            b"*2\r\n$%d\r\n%s\r\n$4\r\ngone\r\n" % (len(verb), verb)
    assert server.keyspace.evicted_keys == 2
