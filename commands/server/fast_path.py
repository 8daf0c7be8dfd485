"""The fast path: requests for which every generic check is provably a no-op.

process_command (executor.py) makes Redis's processCommand checks for every request, in
Redis's order: lookup, arity, authentication and ACL, routing, stop-writes states, the
read-only replica, Pub/Sub context, stale data, loading, a busy script, CLIENT PAUSE,
MULTI queueing, a paused failover; then call() times the handler, feeds MONITOR, serves
blocked clients and propagates. On most connections of most nodes all but four of those
are settled by the same few facts, and settled once for a whole read:

* the connection: authenticated as a user with every permission (no `acl_gate`), not in
  MULTI, not in Pub/Sub mode, with no per-command afterwork (`after_call`: ASKING,
  tracking reads; `after_reply`: CLIENT REPLY, a monitor's own lines, invalidations);
* the node: nothing `degraded` (loading, -MISCONF, min-replicas, stale master link,
  CLIENT PAUSE, a yielding script, maxmemory), not a read-only replica, no MONITOR, no
  propagation (no replica, no AOF), no client blocked on a key, no failover write pause.

`open_for(client)` is that test. It holds until the connection runs a request on the
generic path or the serve loop yields (other greenlets change the node only then), and
the serve loop asks again after both. Every command in FAST_COMMANDS only reads or writes
keys and returns a reply: none can change any of the facts above, so running one never
closes the fast path behind it. (LPUSH could wake a blocked client, but with none
blocked there is no one to wake; SET could push memory over maxmemory, but maxmemory set
at all is `degraded`.)

What stays per request, in the serve loop (connection.py): the lookup by the exact bytes
the client sent, the arity, the key's slot served here (routing: anything else, and
every error, takes the generic path, which answers as Redis), the handler, the statistics
(commandstats, latency histogram, slow log) from one clock read per request, and the
reply's encoding.
"""
from commands.server.table import COMMANDS

# Keyspace commands as redis-benchmark, redis-py and the usual application send them.
# Adding one is safe when its handler only reads and writes keys (no client state, no
# server state, no blocking, no script) -- see the module docstring.
FAST_COMMAND_NAMES = (
    "get", "set", "setnx", "setex", "psetex", "getset", "getdel", "incr", "decr",
    "incrby", "decrby", "incrbyfloat", "append", "strlen", "mget", "mset", "msetnx",
    "exists", "del", "unlink", "expire", "pexpire", "ttl", "pttl", "persist", "type",
    "lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange", "lindex",
    "lset", "lrem", "ltrim",
    "sadd", "srem", "scard", "sismember", "smismember", "smembers", "spop",
    "hset", "hsetnx", "hget", "hmset", "hmget", "hdel", "hlen", "hexists", "hgetall",
    "hincrby", "hincrbyfloat",
    "zadd", "zincrby", "zrem", "zscore", "zcard", "zrank", "zrevrank", "zrange",
    "zrangebyscore", "zcount",
    "publish", "ping", "echo",
)


def build_fast_table() -> dict:
    """Spelling as clients send it (GET, get) -> Command, for the commands above."""
    table = {}
    for name in FAST_COMMAND_NAMES:
        cmd = COMMANDS.get(name.encode())
        if cmd is None or cmd.subcommands or cmd.handler is None:
            continue                 # a command module not loaded (unit tests)
        table[name.encode()] = table[name.upper().encode()] = cmd
    return table


def open_for(client) -> bool:
    """Are all the generic checks no-ops for this client's requests, for now?"""
    server = client.server
    if client.acl_gate or client.multi is not None or client.pubsub_mode or \
            client.after_call or client.after_reply or client.prop_depth:
        return False
    if server.degraded or server.read_only_replica or server.monitors or \
            server.keyspace.blocking_keys:
        return False
    propagator = server.propagator
    if propagator is not None and propagator.active:
        return False
    view = server.cluster
    return view is None or not view.writes_held
