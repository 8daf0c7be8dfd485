"""From a parsed request to a reply value: Redis's processCommand + call.

`process_command` does the checks Redis makes before running a command, in Redis's order:
lookup (unknown command / subcommand), arity, authentication, MULTI queueing, cluster
routing; `call` runs the handler and keeps the statistics (commandstats, errorstats) and
feeds MONITOR. At the end: when those checks are all no-ops, so that the serve loop
(connection.py) may run a request on its fast path.
"""
import os
import time

from loguru import logger

from commands.metrics.latency_histogram import QUICK_USEC
from commands.server.blocking import handle_clients_blocked_on_keys
from commands.server.resp import QUEUED, Raw, ReplyError, encode
from commands.server.table import COMMANDS

# Commands a client in MULTI runs at once instead of queueing (Redis's processCommand).
_NOT_QUEUED = frozenset(("exec", "discard", "multi", "watch", "quit", "reset"))

NOAUTH_ERROR = ReplyError("NOAUTH Authentication required.")
READONLY_REPLICA = ReplyError("READONLY You can't write against a read only replica.")
# The texts of commands/persistence (rdb_save.MISCONF, loading.LOADING); the server layer
# cannot import that layer, so the executor holds the replies.
MISCONF_ERROR = ReplyError(
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
    "persist to disk. Commands that may modify the data set are disabled, because this "
    "instance is configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about "
    "the RDB error.")
LOADING_ERROR = ReplyError("LOADING Redis is loading the dataset in memory")
NOREPLICAS_ERROR = ReplyError("NOREPLICAS Not enough good replicas to write.")
BUSY_SCRIPT_ERROR = ReplyError("BUSY Redis is busy running a script. You can only call "
                               "SCRIPT KILL or SHUTDOWN NOSAVE.")
MASTERDOWN_ERROR = ReplyError("MASTERDOWN Link with MASTER is down and "
                              "replica-serve-stale-data is set to 'no'.")


# Command names as clients spell them ("GET", "get") -> Command: saves a lower() per call.
_BY_SPELLING: dict = {}


def _args_preview(argv) -> str:
    """The "with args beginning with: 'a' 'b' " part of an unknown-command error."""
    text = ""
    for arg in argv:
        if len(text) >= 128:
            break
        text += "'%s' " % arg.decode("utf-8", "replace")[:128 - len(text)]
    return text


def lookup_command(argv):
    """(Command, error) for argv: resolves subcommands; error is a ReplyError or None."""
    name = argv[0]
    cmd = _BY_SPELLING.get(name)
    if cmd is None:
        cmd = COMMANDS.get(name.lower())
        if cmd is None:
            return None, ReplyError(
                "ERR unknown command '%s', with args beginning with: %s"
                % (name.decode("utf-8", "replace")[:128], _args_preview(argv[1:])))
        if len(_BY_SPELLING) < 4096:
            _BY_SPELLING[name] = cmd
    if cmd.subcommands and (len(argv) > 1 or cmd.handler is None):
        if len(argv) == 1:
            return cmd, ReplyError("ERR wrong number of arguments for '%s' command" % cmd.name)
        sub = cmd.subcommands.get(argv[1].lower())
        if sub is None:
            return cmd, ReplyError("ERR unknown subcommand '%s'. Try %s HELP."
                                   % (argv[1].decode("utf-8", "replace")[:128],
                                      cmd.name.upper()))
        cmd = sub
    if not cmd.arity_ok(len(argv)):
        return cmd, ReplyError("ERR wrong number of arguments for '%s' command"
                               % cmd.full_name)
    return cmd, None


def process_command(client, argv):
    """Run one client request and return its reply value."""
    cmd, error = lookup_command(argv)
    client.last_command = cmd     # CLIENT LIST's cmd= (Redis sets it right after lookup)
    if error is not None:
        return reject(client, error, cmd)

    server = client.server
    if client.acl_gate:
        # Not authenticated, or a user with restrictions: NOAUTH, then the ACL check
        # (commands/security/acl_users.py). The default user with every permission
        # never gets here.
        error = server.acl.gate(client, cmd, argv) if server.acl is not None else \
            _noauth(client, cmd)
        if error is not None:
            return reject(client, error, cmd)

    # The replication link from our master obeys: no redirects, no read-only refusal.
    obey = client.is_master_link
    router = server.router
    if router is not None and (cmd.has_keys or cmd.name == "exec") and not obey:
        error = router(client, cmd, argv)
        if error is not None:
            if cmd.name == "exec":
                # Redis discards the transaction with the redirection (processCommand):
                # the client is out of MULTI, as after any EXEC.
                client.discard_transaction()
            return reject(client, error, cmd)

    # A failed background save stops writes (stop-writes-on-bgsave-error), and PING on
    # a master, as Redis's processCommand does, so monitoring notices.
    # So does an AOF that cannot be written (server.aof_misconf holds that reply).
    if server.degraded:
        # maxmemory: evict first; what could grow memory gets -OOM when nothing can be
        # evicted (not while a long script lets us in: Redis's isInsideYieldingLongCommand).
        if server.maxmemory_on and server.yielding_script is None:
            error = server.maxmemory.check(client, cmd, argv)
            if error is not None:
                return reject(client, error, cmd)
        if server.misconf or server.aof_misconf is not None:
            if obey:
                if cmd.is_write:
                    replica_disk_error(server)
            elif cmd.is_write or (cmd.name == "ping" and server.replication.is_master):
                return reject(client, MISCONF_ERROR if server.misconf
                              else server.aof_misconf, cmd)
        # min-replicas-to-write: too few replicas acked within min-replicas-max-lag.
        if server.noreplicas and cmd.is_write and not obey:
            return reject(client, NOREPLICAS_ERROR, cmd)

    # Keyed writes were redirected to the master above; what is left is keyless.
    if server.read_only_replica and cmd.is_write and not obey:
        return reject(client, READONLY_REPLICA, cmd)

    if client.pubsub_mode and not client.resp3 and "pubsub-ok" not in cmd.flags:
        text = ("Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT "
                "/ RESET are allowed in this context" % cmd.full_name)
        # A refused EXEC answers as Redis's execCommandAbort does.
        prefix = "EXECABORT Transaction discarded because of: " if cmd.name == "exec" \
            else "ERR "
        return reject(client, ReplyError(prefix + text), cmd)

    if server.degraded:
        # replica-serve-stale-data no: a replica whose master link is down serves only
        # the commands flagged stale (an EXEC only if everything it queued is).
        if server.masterdown and not obey and (
                "stale" not in cmd.flags or cmd.name == "exec" and client.multi and any(
                    "stale" not in queued[0].flags for queued in client.multi)):
            return reject(client, MASTERDOWN_ERROR, cmd)
        if server.loading is not None and "loading" not in cmd.flags:
            return reject(client, LOADING_ERROR, cmd)
        # A long script gives the loop a turn now and then (the cluster bus must run):
        # other clients' commands wait for it, as they would behind Redis's single
        # thread, and once it is past busy-reply-threshold get -BUSY (except the few
        # flagged allow-busy: SCRIPT KILL, SHUTDOWN, ...). Our master's stream waits.
        script = server.yielding_script
        if script is not None and script.client is not client:
            if not script.busy or obey:
                script.wait_busy_or_done(until_done=obey)
                return process_command(client, argv)
            if "allow-busy" not in cmd.flags:
                return reject(client, script.busy_error, cmd)
        # CLIENT PAUSE: the command waits, then is processed again from the start, as
        # Redis re-runs a postponed client (commands/server/client_pause.py).
        pause = server.client_pause
        if server.paused and pause.holds(client, cmd):
            pause.wait(client)
            if client.closed:
                return None           # killed while held: Redis frees it, command unrun
            return process_command(client, argv)

    if client.multi is not None and (cmd.container or cmd).name not in _NOT_QUEUED:
        if "no-multi" in cmd.flags:       # SHUTDOWN and friends
            return reject(client, ReplyError("ERR Command not allowed inside a transaction"),
                          cmd)
        client.multi.append((cmd, argv))
        return QUEUED

    if cmd.is_write:
        view = server.cluster
        if view is not None and view.writes_held and hold_while_writes_paused(view):
            # Redis processes a paused command again from the start: the failover that
            # paused it has usually made us a replica, so it gets -MOVED to the new master
            # (run here, it would be acknowledged and then lost with our data).
            return process_command(client, argv)
    return call(client, cmd, argv)


def _noauth(client, cmd):
    """Without ACL users (a Server built without them: unit tests), requirepass alone."""
    if not client.authenticated and client.server.settings.requirepass \
            and "no-auth" not in cmd.flags:
        return NOAUTH_ERROR
    return None


def hold_while_writes_paused(view) -> bool:
    """A manual failover pauses writes on this master (Redis's CLIENT PAUSE WRITE): the
    writing client waits in its own greenlet until the bus says the pause ended (at most
    ~10 s, the failover's timeout). Returns whether it waited."""
    held = False
    while view.writes_paused():
        held = True
        view.wait_writes_resumed(timeout=1.0)
    return held


_last_disk_error_log = [0.0]


def replica_disk_error(server) -> None:
    """Our master's stream brings a write while our disk cannot take it (a failed
    BGSAVE or AOF write): Redis 7.0 panics rather than let the replica's files fall
    behind its data, unless replica-ignore-disk-write-errors says to go on (then it
    logs once a minute)."""
    if not server.settings.replica_ignore_disk_write_errors:
        logger.critical("Replica was unable to write command to disk.")
        os._exit(1)
    now = time.monotonic()
    if now - _last_disk_error_log[0] > 60:
        _last_disk_error_log[0] = now
        logger.warning("Replica is applying a command even though it is unable to write "
                       "to disk.")


def reject(client, error, cmd=None):
    """A command refused before it ran (Redis's rejectCommand): inside MULTI it also
    dooms the transaction."""
    if cmd is not None:
        cmd.rejected_calls += 1
    if client.multi is not None:
        client.multi_error = True
    client.server.count_error(error.code)
    return error


def call(client, cmd, argv):
    """Run a command's handler: statistics, errors, MONITOR, propagation to replicas
    (Redis's call(); commands/replication/propagation.py has the propagation rule)."""
    server = client.server
    prop = server.propagator
    if prop is not None and (prop.active or client.prop_depth):
        prop.begin(client, argv)
        dirty = server.keyspace.dirty
    else:
        prop = None
    start = time.perf_counter_ns()
    try:
        reply = cmd.handler(client, argv)
    except ReplyError as exc:
        reply = exc
    except Exception:
        reply = internal_error(server, cmd)
    # The one duration feeds commandstats, the latency histogram, the slow log and the
    # latency monitor. A call under slow_call_ns (the usual case) is counted in its
    # command's per-µs counts, which are both its call count and its latency histogram
    # (commands/metrics/latency_histogram.py). Integer ns: no float arithmetic here.
    ns = time.perf_counter_ns() - start
    if ns < server.slow_call_ns:
        cmd.nsec += ns
        cmd.durations[ns // 1000] += 1
    else:
        record_slow_call(client, cmd, argv, ns)
    server.total_commands += 1
    if isinstance(reply, ReplyError):
        cmd.failed_calls += 1
        server.count_error(reply.code)
    # After the handler, as Redis does: AUTH/HELLO have redacted their secrets in argv by
    # now, and a client that just ran MONITOR does not see its own MONITOR line.
    if server.monitors and "admin" not in cmd.flags and "skip-monitor" not in cmd.flags:
        feed_monitors(client, argv)
    if client.after_call:
        _after_call(client, cmd, argv)
    if prop is None:
        _serve_blocked_clients(client, server)
        return reply
    try:
        prop.after_command(client, cmd, argv, reply, dirty, server.keyspace.dirty)
        _serve_blocked_clients(client, server)
    finally:
        prop.end(client)
    return reply


def account_call(client, cmd, argv, ns: int) -> None:
    """call()'s timing of a command, for the other places that run handlers (EXEC's
    loop, scripts): it counts the call, its duration, its latency; the slow log and the
    latency monitor see it."""
    if ns < client.server.slow_call_ns:
        cmd.nsec += ns
        cmd.durations[ns // 1000] += 1
    else:
        record_slow_call(client, cmd, argv, ns)


def record_slow_call(client, cmd, argv, ns: int) -> None:
    """A call that took server.slow_call_ns or more: it may belong in the slow log
    (slowlog-log-slower-than), the latency monitor (latency-monitor-threshold) and the
    long end of its command's histogram. A blocking command (BLPOP...) does not count
    the time it waited, as in Redis (blocking.block notes the wait)."""
    server = client.server
    waited = client.blocked_wait
    if waited is not None:
        client.blocked_wait = None
        if waited[0] == server.total_commands:      # this very call waited
            ns = max(ns - waited[1], 0)
    cmd.nsec += ns
    duration = ns // 1000                   # µs, as Redis measures
    if duration < QUICK_USEC:
        cmd.durations[duration] += 1        # slow for the slow log, not for the counts
    else:
        cmd.slow_calls += 1
        if server.latency_tracking:
            server.command_latency(cmd).record_slow(duration)
    server.latency.add_sample_if_needed(
        "fast-command" if "fast" in cmd.flags else "command", duration // 1000)
    if "skip-slowlog" not in cmd.flags:
        server.slowlog.push_if_needed(client, argv, duration)


def _after_call(client, cmd, argv) -> None:
    """What a few clients need after each command they run, behind one flag: ASKING
    holds for one command only (outside MULTI), and a tracking client's reads are
    remembered for client-side caching (Redis's trackingRememberKeys in call())."""
    if client.asking and cmd.name != "asking" and client.multi is None:
        client.asking = False
    if client.remembers_reads and "readonly" in cmd.flags:
        client.server.tracking.remember_keys(client, cmd, argv)
    client.after_call = client.asking or client.remembers_reads


def internal_error(server, cmd) -> ReplyError:
    """A handler raised something other than a reply error: a bug. Logged with its
    traceback, counted (INFO unexpected_error_replies), and the client gets an error
    instead of losing its connection."""
    logger.exception("command {} raised", cmd.full_name)
    server.unexpected_errors += 1
    return ReplyError("ERR internal error while running '%s'" % cmd.full_name)


def call_queued(client, queued) -> Raw:
    """EXEC's loop: run a transaction's queued commands back to back and return their
    replies, already encoded as one RESP array.

    EXEC must not yield (no other client's command may run in the middle of it), so
    every other client waits for the whole loop: a million commands cost a million
    times what this loop does per command. It is call() for each command, minus what
    does not change or does not apply between the commands of one transaction:

    * propagation: the unit is EXEC's own, opened by the call() running EXEC; the loop
      holds one more level of it for all the commands instead of opening and closing
      one per command, and each command still goes through after_command, so the
      stream gets the same MULTI ... EXEC;
    * timing: one clock read per command (the time since the previous one's, which
      includes encoding its reply: Redis's handlers write their replies too), accounted
      as call() does (account_call);
    * no ASKING reset and no serving of blocked clients: call() skips both inside MULTI
      (they happen after EXEC);
    * each reply is encoded when its command returns, straight into one buffer, instead
      of a list of values encoded afterwards; in the protocol in force at that moment,
      as Redis's addReply does (HELLO inside the transaction changes the replies after it).

    commandstats, errorstats, total_commands and MONITOR lines are kept per command,
    so INFO run inside the transaction sees what it would see in Redis.
    """
    server = client.server
    keyspace = server.keyspace
    monitors = server.monitors
    prop = server.propagator if client.prop_depth else None
    if prop is not None:
        client.prop_depth += 1
        after_command = prop.after_command
    out = bytearray(b"*%d\r\n" % len(queued))
    clock = time.perf_counter_ns
    then = clock()
    acl_gate = client.acl_gate and server.acl is not None
    try:
        for cmd, argv in queued:
            if prop is not None:
                client.propagate_as = None
                client.argv = argv
                dirty = keyspace.dirty
            try:
                # ACL rules may have changed since the command was queued (Redis
                # checks again at EXEC): only for a client with a restricted user.
                denied = acl_gate and server.acl.check_exec(client, cmd, argv)
                if denied:
                    out += b"-%s\r\n" % denied.args[0].encode()
                    server.count_error(denied.code)
                    continue
                reply = cmd.handler(client, argv)
            except ReplyError as exc:
                reply = exc
            except Exception:
                reply = internal_error(server, cmd)
            server.total_commands += 1
            kind = type(reply)
            if kind is int:
                out += b":%d\r\n" % reply
            elif kind is Raw:
                out += reply
            elif kind is bytes:
                out += b"$%d\r\n%s\r\n" % (len(reply), reply)
            else:
                if isinstance(reply, ReplyError):
                    cmd.failed_calls += 1
                    server.count_error(reply.code)
                parts = []
                encode(reply, parts, client.resp3)
                out += b"".join(parts)
            if monitors and "admin" not in cmd.flags and "skip-monitor" not in cmd.flags:
                feed_monitors(client, argv)
            if client.remembers_reads and "readonly" in cmd.flags:
                server.tracking.remember_keys(client, cmd, argv)
            if prop is not None:
                after_command(client, cmd, argv, reply, dirty, keyspace.dirty)
            now = clock()
            account_call(client, cmd, argv, now - then)
            then = now
    finally:
        if prop is not None:
            client.prop_depth -= 1
    return Raw(out)


def _serve_blocked_clients(client, server) -> None:
    """Serve clients blocked on keys this command wrote, right after it, in this client's
    context (Redis's handleClientsBlockedOnKeys). Not between the commands of an EXEC:
    after the whole transaction."""
    if server.keyspace.ready_keys and client.multi is None:
        handle_clients_blocked_on_keys(server.keyspace)


def feed_monitors(client, argv) -> None:
    """Send one MONITOR line: +<time> [0 <addr>] "arg" ... to every monitoring client,
    the caller included when it is a monitor itself (Redis does the same)."""
    args = " ".join('"%s"' % _repr_arg(a) for a in argv)
    source = "unix:%s" % client.server.settings.unixsocket if client.unix_socket \
        else client.addr_text
    line = ("+%.6f [0 %s] %s\r\n" % (time.time(), source, args)).encode()
    for monitor in list(client.server.monitors):
        if monitor is client:
            client.own_monitor_lines.append(line)   # written after this command's reply
            client.after_reply = True
        else:
            monitor.push_raw(line)


def _repr_arg(arg: bytes) -> str:
    """An argument as Redis's sdscatrepr prints it (escapes, \\xHH for non-printables)."""
    out = []
    for b in arg:
        ch = chr(b)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


# ---------------------------------------------------------------- the fast path
# The fast path: requests for which every generic check is provably a no-op.
#
# process_command (above) makes Redis's processCommand checks for every request, in
# Redis's order: lookup, arity, authentication and ACL, routing, stop-writes states, the
# read-only replica, Pub/Sub context, stale data, loading, a busy script, CLIENT PAUSE,
# MULTI queueing, a paused failover; then call() times the handler, feeds MONITOR, serves
# blocked clients and propagates. On most connections of most nodes all but four of those
# are settled by the same few facts, and settled once for a whole read:
#
# * the connection: authenticated as a user with every permission (no `acl_gate`), not in
#   MULTI, not in Pub/Sub mode, with no per-command afterwork (`after_call`: ASKING,
#   tracking reads; `after_reply`: CLIENT REPLY, a monitor's own lines, invalidations);
# * the node: nothing `degraded` (loading, -MISCONF, min-replicas, stale master link,
#   CLIENT PAUSE, a yielding script, maxmemory), not a read-only replica, no MONITOR, no
#   propagation (no replica, no AOF), no client blocked on a key, no failover write pause.
#
# `open_fast_path(client)` is that test. It holds until the connection runs a request on the
# generic path or the serve loop yields (other greenlets change the node only then), and
# the serve loop asks again after both. Every command in FAST_COMMAND_NAMES only reads or writes
# keys and returns a reply: none can change any of the facts above, so running one never
# closes the fast path behind it. (LPUSH could wake a blocked client, but with none
# blocked there is no one to wake; SET could push memory over maxmemory, but maxmemory set
# at all is `degraded`.)
#
# What stays per request, in the serve loop (connection.py): the lookup by the exact bytes
# the client sent, the arity, the key's slot served here (routing: anything else, and
# every error, takes the generic path, which answers as Redis), the handler, the statistics
# (commandstats, latency histogram, slow log) from one clock read per request, and the
# reply's encoding.

# Keyspace commands as redis-benchmark, redis-py and the usual application send them.
# Adding one is safe when its handler only reads and writes keys (no client state, no
# server state, no blocking, no script) -- see above.
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
    # What MIGRATE sends to the importing node of a reshard, ten keys to a request.
    "restore", "restore-asking",
)


# How the serve loop routes a fast command (Command.fast_route).
NO_KEYS, ONE_KEY, KEYS = 0, 1, 2


def build_fast_table() -> dict:
    """Spelling as clients send it (GET, get) -> Command, for the commands above, each
    told how its keys are routed: none, one at argv[1] (the loop checks its slot
    inline), or several (the Router decides)."""
    table = {}
    for name in FAST_COMMAND_NAMES:
        cmd = COMMANDS.get(name.encode())
        if cmd is None or cmd.subcommands or cmd.handler is None:
            continue                 # a command module not loaded (unit tests)
        if not cmd.has_keys:
            cmd.fast_route = NO_KEYS
        elif "asking" in cmd.flags:
            # RESTORE-ASKING is served in a slot this node imports (not in the owner
            # table the inline check reads): the Router decides.
            cmd.fast_route = KEYS
        elif cmd.first_key == cmd.last_key == 1 and cmd.key_finder is None:
            cmd.fast_route = ONE_KEY
        else:
            cmd.fast_route = KEYS
        table[name.encode()] = table[name.upper().encode()] = cmd
    return table


def open_fast_path(client) -> bool:
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
