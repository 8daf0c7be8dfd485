"""The whole Redis 7.0 configuration: the same CONFIG GET / SET requests to node.py and to
redis-server 7.0, reply for reply.

Every test puts back what it changed (the `restore_all` fixture compares CONFIG GET *
before and after on both servers). Parameters of features this node does not have yet
(config_table.py: `missing`) accept only their default here, so they are sampled with
values both servers refuse, and with their default.
"""
import pytest

from commands.server.config_table import ALIASES, SETTINGS
from tests.helpers import RawClient
from tests.differential.test_server_cmds import as_map, plain

# Every name of redis-server 7.0.15 is declared here now (the last ones came with
# notifications, tracking and HyperLogLog).
OTHERS = set()
OURS_ONLY = {"cluster-bus-secret"}
# Values that differ by design: where each server runs, and our defaults that differ
# (README: cluster mode always on, DEBUG enabled, loopback bind, nodes-<port>.conf).
DIFFERENT_BY_DESIGN = {"port", "dir", "bind", "cluster-config-file", "cluster-enabled",
                       "enable-debug-command", "repl-diskless-sync-delay"}


def config_map(client, *patterns):
    reply = client.call("CONFIG", "GET", *patterns)
    return plain(reply) if reply[0] == "%" else as_map(reply)


@pytest.fixture(scope="module")
def baseline(diff_servers):
    """CONFIG GET * of both servers before this module changes anything."""
    ours, ref = diff_servers
    clients = [RawClient(ours.port), RawClient(ref.port)]
    maps = [config_map(c, "*") for c in clients]
    for c in clients:
        c.close()
    return maps


@pytest.fixture
def restore_all(diff, baseline):
    yield
    for client, saved in zip((diff.ours, diff.redis), baseline):
        now = config_map(client, "*")
        changed = [name for name, value in saved.items()
                   if now.get(name) != value and name not in ALIASES]
        for name in changed:
            assert client.call("CONFIG", "SET", name, saved[name]) == ("+", "OK"), name
        if changed:
            assert config_map(client, "*") == saved


def test_config_get_star_lists_the_same_names(diff):
    ours, ref = config_map(diff.ours, "*"), config_map(diff.redis, "*")
    assert set(ours) - OURS_ONLY == set(ref) - OTHERS
    assert len(ours) == len(SETTINGS) + len(ALIASES) - sum(s.hidden for s in SETTINGS.values())


def test_defaults_are_redis_defaults(diff):
    ours, ref = config_map(diff.ours, "*"), config_map(diff.redis, "*")
    different = {name for name in set(ours) & set(ref) if ours[name] != ref[name]}
    assert different <= DIFFERENT_BY_DESIGN, {n: (ours[n], ref[n]) for n in different}


@pytest.mark.parametrize("patterns", [
    ("*ziplist*",), ("slave*",), ("*-listpack-*", "*ziplist*"), ("replicaof", "slaveof"),
    ("SLAVEOF",), ("Slave-Priority", "replica-priority"), ("rdb-key-save-delay",),
    ("key-load-delay", "KEY-LOAD-DELAY"), ("*delay*",), ("lua-time-limit",),
    ("busy-reply-threshold", "lua*"), ("tls-*",), ("*max*", "maxmemory"), ("nosuch", "hz"),
    ("active-defrag-*",), ("*", "PORT"), ("[st]*",), ("?z",), ("list-max-ziplist-size",),
    ("watchdog-period",), ("use-exit-on-panic",), ("loading-process-events-interval-bytes",),
])
def test_config_get_patterns_and_aliases(diff, patterns):
    ours, ref = config_map(diff.ours, *patterns), config_map(diff.redis, *patterns)
    for skip in DIFFERENT_BY_DESIGN | OTHERS | OURS_ONLY:
        for name in list(ours):
            if name.lower() == skip:
                ours.pop(name)
        for name in list(ref):
            if name.lower() == skip:
                ref.pop(name)
    assert ours == ref


# (name, value): each is CONFIG SET on both servers, the replies compared, then CONFIG
# GET of the name compared.
SAMPLES = [
    # yes/no
    ("rdbcompression", "no"), ("rdbcompression", "YES"), ("rdbcompression", "maybe"),
    ("rdbcompression", ""), ("cluster-slave-no-failover", "yes"),
    ("cluster-replica-no-failover", "no"), ("activedefrag", "yes"), ("activedefrag", "no"),
    ("lazyfree-lazy-user-del", "yes"), ("replica-read-only", "no"),
    ("slave-read-only", "yes"), ("aof-disable-auto-gc", "yes"), ("dynamic-hz", "no"),
    ("jemalloc-bg-thread", "no"), ("crash-memcheck-enabled", "no"),
    # integers: signed, unsigned (size_t / uint), bounds, Redis's strict string2ll
    ("cluster-migration-barrier", "5"), ("cluster-migration-barrier", "-1"),
    ("cluster-migration-barrier", "2147483648"), ("cluster-migration-barrier", "007"),
    ("cluster-migration-barrier", "+5"), ("cluster-migration-barrier", " 5"),
    ("cluster-migration-barrier", ""), ("cluster-migration-barrier", "1e3"),
    ("set-max-intset-entries", "-1"), ("set-max-intset-entries", "100"),
    ("set-max-intset-entries", "9223372036854775808"), ("maxclients", "-1"),
    ("maxclients", "4294967296"), ("maxclients", "1000"), ("list-max-ziplist-size", "-5"),
    ("list-max-ziplist-size", "-2147483649"), ("list-max-listpack-size", "8"),
    ("list-compress-depth", "2"), ("list-compress-depth", "-1"),
    ("zset-max-ziplist-entries", "16"), ("hash-max-ziplist-entries", "32"),
    ("cluster-slave-validity-factor", "0"), ("repl-ping-slave-period", "0"),
    ("repl-ping-slave-period", "5"), ("hz", "0"), ("hz", "501"), ("hz", "1000"),
    ("hz", "-1"), ("timeout", "-1"), ("timeout", "300"), ("tcp-keepalive", "60"),
    ("slowlog-max-len", "-1"), ("acllog-max-len", "x"), ("active-expire-effort", "11"),
    ("active-defrag-cycle-min", "0"), ("active-defrag-cycle-max", "50"),
    ("maxmemory-eviction-tenacity", "101"), ("maxmemory-samples", "0"),
    ("slowlog-log-slower-than", "-2"), ("cluster-node-timeout", "-1"),
    ("stream-node-max-entries", "-1"), ("replica-priority", "7"), ("slave-priority", "-1"),
    ("min-slaves-max-lag", "-1"), ("tls-port", "65536"), ("port", "abc"),
    ("port", "65536"), ("cluster-announce-port", "70000"),
    # memory values: units, case, the overflow Redis does not check, percentages
    ("hash-max-listpack-value", "1k"), ("hash-max-listpack-value", "1kb"),
    ("hash-max-listpack-value", "1KB"), ("hash-max-listpack-value", "2gb"),
    ("hash-max-listpack-value", "-1"), ("hash-max-listpack-value", "1.5mb"),
    ("hash-max-listpack-value", "10 mb"), ("hash-max-listpack-value", "kb"),
    ("hash-max-listpack-value", ""), ("hash-max-listpack-value", "12b"),
    ("hash-max-listpack-value", "99999999999999999999"),
    ("zset-max-ziplist-value", "100"), ("proto-max-bulk-len", "1000"),
    ("proto-max-bulk-len", "99999999999999999999"), ("proto-max-bulk-len", "2mb"),
    ("client-query-buffer-limit", "1000"), ("client-query-buffer-limit", "2gb"),
    ("maxmemory", "-1"), ("maxmemory", "abc"), ("maxmemory", "0"),
    ("maxmemory-clients", "101%"), ("maxmemory-clients", "abc"), ("maxmemory-clients", "-5%"),
    ("maxmemory-clients", "5%%"), ("maxmemory-clients", "%"), ("maxmemory-clients", "0"),
    ("auto-aof-rewrite-min-size", "128mb"), ("repl-backlog-size", "0"),
    ("repl-backlog-size", "2mb"), ("active-defrag-ignore-bytes", "0"),
    ("active-defrag-ignore-bytes", "200mb"), ("cluster-link-sendbuf-limit", "-1"),
    ("stream-node-max-bytes", "x"),
    # enums, and the flag set of shutdown-on-*
    ("appendfsync", "ALWAYS"), ("appendfsync", "sometimes"), ("appendfsync", ""),
    ("loglevel", "verbose"), ("loglevel", "loud"), ("maxmemory-policy", "allkeys-lfu"),
    ("maxmemory-policy", "lru"), ("oom-score-adj", "absolute"), ("oom-score-adj", "x"),
    ("sanitize-dump-payload", "clients"), ("sanitize-dump-payload", "sometimes"),
    ("repl-diskless-load", "swapdb"), ("repl-diskless-load", "x"),
    ("cluster-preferred-endpoint-type", "hostname"), ("cluster-preferred-endpoint-type", ""),
    ("acl-pubsub-default", "x"), ("tls-auth-clients", "maybe"),
    ("propagation-error-behavior", "crash"), ("shutdown-on-sigint", "save nosave"),
    ("shutdown-on-sigint", "bogus"), ("shutdown-on-sigterm", "default"),
    ("shutdown-on-sigterm", "now bogus"), ("supervised", "systemd"),
    ("shutdown-on-sigint", "nosave now"), ("shutdown-on-sigterm", "SAVE force"),
    ("shutdown-on-sigint", ""), ("client-output-buffer-limit", ""),
    ("oom-score-adj-values", ""), ("min-slaves-to-write", "-1"),
    ("repl-backlog-ttl", "0"), ("replica-announce-port", "7000"),
    ("slave-announce-ip", "10.1.1.1"), ("replica-serve-stale-data", "no"),
    ("active-expire-effort", "10"), ("repl-disable-tcp-nodelay", "yes"),
    # multi-argument values
    ("save", ""), ("save", "10 1"), ("save", "10 1 20 2"), ("save", "10"), ("save", "0 1"),
    ("save", "10 -1"), ("save", "10  1"), ("save", "a b"), ("save", " 10 1"),
    ("client-output-buffer-limit", "normal 1mb 2mb 3"),
    ("client-output-buffer-limit", "replica 1 2 3"),
    ("client-output-buffer-limit", "slave 1kb 2kb 3 pubsub 4 5 6"),
    ("client-output-buffer-limit", "master 0 0 0"),
    ("client-output-buffer-limit", "normal 1 2"),
    ("client-output-buffer-limit", "normal x 0 0"),
    ("client-output-buffer-limit", "normal 0 0 -1"),
    ("client-output-buffer-limit", "pubsub 1k 1k 1k"),
    ("oom-score-adj-values", "1 2 3"), ("oom-score-adj-values", "1 2"),
    ("oom-score-adj-values", "1 2 x"), ("oom-score-adj-values", "-2001 0 0"),
    ("latency-tracking-info-percentiles", "50 abc"),
    ("latency-tracking-info-percentiles", "101"),
    ("latency-tracking-info-percentiles", "50 99 99.9"),
    ("bind", " ".join(["127.0.0.1"] * 17)),
    # strings and their checks
    ("cluster-announce-hostname", "bad_host"), ("cluster-announce-hostname", "h" * 256),
    ("cluster-announce-hostname", "node-1.example"), ("cluster-announce-ip", "10.0.0.9"),
    ("proc-title-template", "{title}"), ("proc-title-template", "{x}"),
    ("proc-title-template", "{{"), ("proc-title-template", "{title"),
    ("proc-title-template", ""), ("proc-title-template", "redis {port} {server-mode}"),
    ("proc-title-template", "a}b"), ("proc-title-template", "{a{title}"),
    ("proc-title-template", "x{"), ("proc-title-template", "{}"),
    ("ignore-warnings", "ARM64-COW-BUG"),
    ("masteruser", "someone"), ("tls-cert-file", ""),
    # immutable, protected, unknown
    ("dir", "/tmp"), ("dbfilename", "x.rdb"), ("appendfilename", "x"), ("daemonize", "no"),
    ("databases", "16"), ("replicaof", "no one"), ("slaveof", "127.0.0.1 1"),
    ("enable-protected-configs", "yes"), ("rdbchecksum", "no"), ("tcp-backlog", "10"),
    ("cluster-enabled", "no"), ("io-threads", "2"), ("unixsocket", "/tmp/x.sock"),
    ("nosuch-parameter", "1"), ("list-max-ziplist-entries", "1"),
    ("rdb-key-save-delay", "x"), ("key-load-delay", "-1"), ("watchdog-period", "-1"),
]


@pytest.mark.parametrize("name,value", SAMPLES)
def test_config_set_then_get(diff, restore_all, name, value):
    diff.check("CONFIG", "SET", name, value)
    if name.lower() not in DIFFERENT_BY_DESIGN:
        assert config_map(diff.ours, name) == config_map(diff.redis, name)


@pytest.mark.parametrize("args", [
    # all or nothing: a bad value, an unknown name, a duplicate, later or earlier
    ("hash-max-listpack-entries", "1", "hz", "x"),
    ("hz", "x", "nosuch", "1"),
    ("nosuch", "1", "hz", "x"),
    ("hz", "5", "databases", "3", "nosuch", "1"),
    ("nosuch", "1", "databases", "3"),
    ("hz", "5", "hz", "6"),
    ("hz", "5", "HZ", "x"),
    ("Hz", "x", "hz", "6"),
    ("list-max-ziplist-size", "1", "list-max-listpack-size", "2"),
    ("list-max-listpack-size", "3", "list-max-ziplist-size", "x"),
    ("cluster-slave-no-failover", "maybe", "cluster-replica-no-failover", "yes"),
    ("save", "10 1", "appendfsync", "never"),
    ("timeout", "10", "tcp-keepalive", "20", "hz", "30"),
    ("dir", "/tmp", "nosuch", "1"),
    ("slaveof", "a 1", "dir", "/tmp"),
    ("maxmemory-clients", "x", "nosuch", "1"),
    ("hz",), ("hz", "1", "timeout"),
])
def test_config_set_several(diff, restore_all, args):
    diff.check("CONFIG", "SET", *args)
    names = [n for n in dict.fromkeys(args[::2]) if n not in DIFFERENT_BY_DESIGN]
    assert config_map(diff.ours, "hz", "timeout", "tcp-keepalive", "save", *names) == \
        config_map(diff.redis, "hz", "timeout", "tcp-keepalive", "save", *names)


def test_min_replicas_to_write_refuses_writes(diff, restore_all):
    diff.check("CONFIG", "SET", "min-replicas-to-write", "1")
    diff.check("SET", "k", "v")
    diff.check("GET", "k")
    for client in (diff.ours, diff.redis):
        info = client.call("INFO", "replication")[1].decode()
        assert "min_slaves_good_slaves:0" in info
    diff.check("CONFIG", "SET", "min-slaves-max-lag", "0")
    diff.check("SET", "k", "v")


def test_config_set_in_resp3_and_get_as_a_map(diff, restore_all):
    for client in (diff.ours, diff.redis):
        client.call("HELLO", "3")
    diff.check("CONFIG", "SET", "zset-max-ziplist-entries", "7", "hash-max-ziplist-value", "9")
    ours, ref = diff.both("CONFIG", "GET", "zset-max-*", "hash-max-ziplist-value")
    assert ours[0] == ref[0] == "%"
    assert plain(ours) == plain(ref)
    for client in (diff.ours, diff.redis):
        client.call("HELLO", "2")


@pytest.mark.parametrize("settings,commands", [
    (("zset-max-ziplist-entries", "2"), [("ZADD", "z", "1", "a", "2", "b", "3", "c")]),
    (("zset-max-listpack-value", "3"), [("ZADD", "z", "1", "abcd")]),
    (("hash-max-ziplist-entries", "1"), [("HSET", "h", "a", "1", "b", "2")]),
    (("hash-max-listpack-value", "2"), [("HSET", "h", "a", "123")]),
    (("set-max-intset-entries", "2"), [("SADD", "s", "1", "2", "3")]),
    (("list-max-ziplist-size", "1"), [("RPUSH", "l", "a", "b", "c")]),
])
def test_encodings_follow_the_thresholds(diff, restore_all, settings, commands):
    diff.check("CONFIG", "SET", *settings)
    for command in commands:
        diff.check(*command)
        diff.check("OBJECT", "ENCODING", command[1])
