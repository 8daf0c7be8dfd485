"""maxmemory and eviction on a real node: the keys each policy evicts follow the policy
(volatile-* never take a key without a TTL, volatile-ttl the soonest to expire, LRU
keeps recently read keys, LFU frequently read ones), noeviction answers -OOM to denyoom
commands only, evictions are counted, notified and reach a replica as DEL, scripts obey
their allow-oom flag, and FLUSHALL brings used_memory back to the empty figure.

The LRU/LFU assertions are statistical (Redis's eviction is sampled too): each keeps a
wide margin over what sampling 5 keys into a pool of 16 gives.
"""
import re
import subprocess
import time

import pytest
import redis

from tests.helpers import start_node
from tests.integration.test_replication import attach, wait_converged, wait_link_up

VALUE = b"v" * 100
OOM = "command not allowed when used memory > 'maxmemory'."


@pytest.fixture(scope="module")
def node():
    proc = start_node("--save", "")
    yield proc
    proc.stop()


@pytest.fixture
def r(node):
    client = redis.Redis(port=node.port, socket_timeout=10)
    client.config_set("maxmemory", 0)
    client.config_set("maxmemory-policy", "noeviction")
    client.flushall()
    yield client
    client.config_set("maxmemory", 0)
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("lfu-log-factor", 10)
    client.flushall()
    client.close()


def fill(r, keys, ttl_ms=None, prefix="k"):
    pipe = r.pipeline(transaction=False)
    for i in keys:
        if ttl_ms is None:
            pipe.set("%s%d" % (prefix, i), VALUE)
        else:
            pipe.set("%s%d" % (prefix, i), VALUE, px=ttl_ms(i))
    pipe.execute()


def used(r) -> int:
    return r.info("memory")["used_memory"]


def limit_to_now(r, policy):
    """maxmemory = what is used now: the next keys added make room by evicting."""
    r.config_set("maxmemory-policy", policy)
    r.config_set("maxmemory", used(r))


def survivors(r, names):
    pipe = r.pipeline(transaction=False)
    for name in names:
        pipe.exists(name)
    return {name for name, there in zip(names, pipe.execute()) if there}


def test_noeviction_refuses_denyoom_commands_only(r):
    fill(r, range(200))
    r.config_set("maxmemory", 1)
    with pytest.raises(redis.ResponseError) as exc:
        r.set("more", "x")
    assert str(exc.value) == OOM
    assert r.get("k1") == VALUE                 # reads run
    assert r.delete("k1") == 1                  # DEL frees memory: not denyoom
    with pytest.raises(redis.ResponseError, match="not allowed when used memory"):
        r.rpush("list", "x")
    # In MULTI everything but EXEC/DISCARD/... is refused: queuing itself uses memory.
    raw = r.connection_pool.get_connection()
    try:
        raw.send_command("MULTI")
        assert raw.read_response() == b"OK"
        raw.send_command("GET", "k2")
        with pytest.raises(redis.ResponseError, match="not allowed when used memory"):
            raw.read_response()
        raw.send_command("EXEC")
        with pytest.raises(redis.ResponseError, match="discarded because of previous"):
            raw.read_response()
    finally:
        r.connection_pool.release(raw)
    assert r.info("stats")["evicted_keys"] == 0
    r.config_set("maxmemory", 0)
    assert r.set("more", "x")


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random",
                                    "volatile-ttl"])
def test_volatile_policies_never_evict_keys_without_ttl(r, policy):
    fill(r, range(300), prefix="p")                         # persistent
    fill(r, range(300), ttl_ms=lambda i: 600000, prefix="t")
    limit_to_now(r, policy)
    fill(r, range(200), prefix="n")                         # needs ~200 evictions
    assert r.info("stats")["evicted_keys"] >= 150
    assert survivors(r, ["p%d" % i for i in range(300)]) == {"p%d" % i for i in range(300)}
    assert len(survivors(r, ["t%d" % i for i in range(300)])) < 150
    # No volatile key left: nothing to evict, so writes fail.
    pipe = r.pipeline(transaction=False)
    for i in range(300):
        pipe.delete("t%d" % i)
    pipe.execute()
    r.config_set("maxmemory", used(r))
    with pytest.raises(redis.ResponseError, match="not allowed when used memory"):
        fill(r, range(50), prefix="m")


def test_volatile_ttl_evicts_the_soonest_to_expire(r):
    fill(r, range(400), ttl_ms=lambda i: 100000 + i * 1000, prefix="t")
    limit_to_now(r, "volatile-ttl")
    fill(r, range(100), prefix="n")
    gone = [i for i in range(400) if not r.exists("t%d" % i)]
    assert len(gone) >= 80
    # Sampled, like Redis: not exactly the first ones, but from the short end.
    assert sum(gone) / len(gone) < 120, gone


def test_allkeys_random_takes_any_key(r):
    fill(r, range(300), prefix="p")
    fill(r, range(300), ttl_ms=lambda i: 600000, prefix="t")
    limit_to_now(r, "allkeys-random")
    fill(r, range(200), prefix="n")
    assert len(survivors(r, ["p%d" % i for i in range(300)])) < 300
    assert len(survivors(r, ["t%d" % i for i in range(300)])) < 300


def test_allkeys_lru_keeps_recently_read_keys(r):
    fill(r, range(600))
    time.sleep(2.2)                  # the LRU clock counts seconds
    pipe = r.pipeline(transaction=False)
    for i in range(300):
        pipe.get("k%d" % i)
    pipe.execute()
    limit_to_now(r, "allkeys-lru")
    fill(r, range(200), prefix="n")
    touched = survivors(r, ["k%d" % i for i in range(300)])
    idle = survivors(r, ["k%d" % i for i in range(300, 600)])
    evicted_touched, evicted_idle = 300 - len(touched), 300 - len(idle)
    assert evicted_idle >= 150
    assert evicted_touched <= evicted_idle // 10, (evicted_touched, evicted_idle)


def test_allkeys_lfu_keeps_frequently_read_keys(r):
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.config_set("lfu-log-factor", 0)          # every access counts: a clear ranking
    fill(r, range(600))
    pipe = r.pipeline(transaction=False)
    for _ in range(5):
        for i in range(300):
            pipe.get("k%d" % i)
    pipe.execute()
    assert r.object("freq", "k1") == 10 and r.object("freq", "k500") == 5
    limit_to_now(r, "allkeys-lfu")
    fill(r, range(200), prefix="n")
    frequent = survivors(r, ["k%d" % i for i in range(300)])
    rare = survivors(r, ["k%d" % i for i in range(300, 600)])
    evicted_frequent, evicted_rare = 300 - len(frequent), 300 - len(rare)
    assert evicted_rare >= 100
    assert evicted_frequent <= evicted_rare // 10, (evicted_frequent, evicted_rare)


def test_evictions_are_notified_and_counted(r):
    r.config_resetstat()
    r.config_set("notify-keyspace-events", "Ke")
    pubsub = r.pubsub()
    try:
        pubsub.psubscribe("__keyspace@0__:*")
        assert pubsub.get_message(timeout=5)["type"] == "psubscribe"
        fill(r, range(100))
        limit_to_now(r, "allkeys-random")
        r.set("extra", VALUE * 100)
        evicted = r.info("stats")["evicted_keys"]
        assert evicted >= 1
        events = []
        while len(events) < evicted:
            message = pubsub.get_message(timeout=5)
            assert message is not None, events
            events.append(message["data"])
        assert set(events) == {b"evicted"}
    finally:
        pubsub.close()
        r.config_set("notify-keyspace-events", "")


def test_scripts_and_allow_oom(r):
    fill(r, range(50))
    r.config_set("maxmemory", 1)
    with pytest.raises(redis.ResponseError) as exc:
        r.eval("#!lua\nreturn redis.call('set', 'a', 'b')", 0)
    assert str(exc.value) == OOM
    # allow-oom: the script runs and writes anyway; no-writes implies it.
    assert r.eval("#!lua flags=allow-oom\nreturn redis.call('set', 'a', 'b')", 0) == b"OK"
    assert r.eval("#!lua flags=no-writes\nreturn redis.call('get', 'a')", 0) == b"b"
    # No shebang: the script runs, its first denyoom write fails.
    with pytest.raises(redis.ResponseError, match="not allowed when used memory"):
        r.eval("return redis.call('set', 'c', 'd')", 0)
    assert r.eval("return redis.call('del', 'a')", 0) == 1


def test_flushall_returns_to_the_empty_figure(r):
    empty = used(r)
    pipe = r.pipeline(transaction=False)
    for i in range(20000):
        pipe.set("key:%d" % i, "x" * 20)
    pipe.hset("hash", mapping={"f%d" % i: "v" for i in range(1000)})
    pipe.execute()
    full = used(r)
    assert full - empty > 20000 * 80
    r.flushall()
    assert used(r) - empty < 2000


def test_evicted_keys_reach_a_replica_as_del():
    master = start_node("--save", "")
    replica = start_node("--save", "", slots=False)
    try:
        mc, rc = attach(master.port, replica.port)
        wait_link_up(rc)
        m = redis.Redis(port=master.port, socket_timeout=10)
        fill(m, range(300))
        wait_converged(mc, rc)
        limit_to_now(m, "allkeys-random")
        fill(m, range(100), prefix="n")
        evicted = m.info("stats")["evicted_keys"]
        assert evicted > 0
        wait_converged(mc, rc)
        rr = redis.Redis(port=replica.port, socket_timeout=10)
        # The replica ignores maxmemory itself (replica-ignore-maxmemory): its keys go
        # only because the master's DELs say so, so both hold the same keys.
        assert rr.info("stats")["evicted_keys"] == 0
        assert rr.dbsize() == m.dbsize() == 400 - evicted
        m.close()
        rr.close()
        mc.close()
        rc.close()
    finally:
        master.stop()
        replica.stop()


def test_redis_cli_memkeys_bigkeys_and_stat(node, r):
    r.set("s1", "x" * 100)
    r.rpush("l1", *range(50))
    r.hset("h1", mapping={"a": 1, "b": 2})
    r.xadd("x1", {"f": "v"})
    cli = ["redis-cli", "-p", str(node.port)]
    memkeys = subprocess.run(cli + ["--memkeys"], capture_output=True, text=True,
                             timeout=30).stdout
    sizes = dict(re.findall(r"Biggest +(\w+) found '\"\w+\"' has (\d+) bytes", memkeys))
    assert set(sizes) == {"string", "list", "hash", "stream"}, memkeys
    assert all(50 <= int(n) < 10000 for n in sizes.values()), sizes
    bigkeys = subprocess.run(cli + ["--bigkeys"], capture_output=True, text=True,
                             timeout=30).stdout
    assert "Biggest   list found '\"l1\"' has 50 items" in bigkeys, bigkeys
    # --stat prints a line per interval for ever: read three, then stop it.
    stat = subprocess.Popen(["stdbuf", "-oL", *cli, "--stat", "-i", "0.1"],
                            stdout=subprocess.PIPE, text=True)
    try:
        lines = [stat.stdout.readline() for _ in range(3)]
    finally:
        stat.kill()
        stat.wait()
    keys, mem = lines[2].split()[:2]
    assert keys == "4" and mem.endswith(("K", "M")) and float(mem[:-1]) > 0, lines


def test_memory_doctor_malloc_stats_and_info(r):
    assert r.execute_command("MEMORY", "DOCTOR").startswith(b"Hi Sam, this instance is empty")
    assert b"arenas" in r.execute_command("MEMORY", "MALLOC-STATS")
    r.set("k", "v" * 1000)
    info = r.info("memory")
    assert info["used_memory"] == info["used_memory_overhead"] + info["used_memory_dataset"]
    assert info["used_memory_dataset"] > 1000
    assert info["used_memory_peak"] >= info["used_memory"] > info["used_memory_startup"]
    assert info["mem_fragmentation_ratio"] == round(info["used_memory_rss"] / info["used_memory"], 2)
    assert info["maxmemory_policy"] == "noeviction"



def test_functions_follow_allow_oom(r):
    """FCALL of a function that may write is refused over maxmemory unless the function
    is flagged allow-oom (no-writes implies it), as scriptFlagsToCmdFlags makes it denyoom."""
    r.function_load(
        "#!lua name=oomlib\n"
        "redis.register_function('w', function(keys) return redis.call('set', keys[1], 'x') end)\n"
        "redis.register_function{function_name='w_oom', callback=function(keys) "
        "return redis.call('set', keys[1], 'x') end, flags={'allow-oom'}}\n"
        "redis.register_function{function_name='r', callback=function(keys) "
        "return redis.call('get', keys[1]) end, flags={'no-writes'}}\n", replace=True)
    try:
        fill(r, range(50))
        r.config_set("maxmemory", 1)
        with pytest.raises(redis.ResponseError) as exc:
            r.fcall("w", 1, "a")
        assert str(exc.value) == OOM
        assert r.fcall("w_oom", 1, "a") == b"OK"
        assert r.fcall_ro("r", 1, "a") == b"x"
    finally:
        r.config_set("maxmemory", 0)
        r.function_flush()
