"""Blocked clients: BLPOP and friends waiting for a key, served in arrival order.

How Redis does it, and how we map it:

* A blocking command that finds nothing to pop registers its client on each of its keys
  (Redis's db->blocking_keys) and stops processing that client's input. Here the command
  handler waits in the client's own greenlet (`block`), so the node keeps serving others,
  and the client's later pipelined commands wait behind it exactly as in Redis.
* When a command writes a key that has waiters, the keyspace puts the key in
  `ready_keys` (Redis's signalKeyAsReady; see Keyspace.set/modified). After that command
  returns, `call()` runs `handle_clients_blocked_on_keys` in the *writer's* context:
  for each ready key, its waiters in FIFO order try to take their element. The pop (or
  move) happens right there, atomically with the write, like Redis's
  handleClientsBlockedOnKeys; the waiter gets its finished reply and is woken.
* A waiter that cannot be served from a key (key gone, other type) stays blocked, as in
  Redis 7.0.
* Inside MULTI/EXEC (and wherever blocking is denied) a blocking command answers as if
  its timeout had expired.

While waiting, the client's socket is watched: a client that disconnects is removed from
the queues at once, and pipelined input that arrives is buffered in its parser (capped by
client-query-buffer-limit) to run after the blocking command, as Redis keeps reading a
blocked client's query buffer.

Cluster hooks: `unblock_clients_on_slot` and `redirect_blocked_clients` end waits with an
error (-MOVED when a slot moves away, -CLUSTERDOWN when the cluster fails), which Redis
does from clusterRedirectBlockedClientIfNeeded.
"""
import collections
import math
import time

import gevent
from gevent.event import Event

from commands.data.keyspace import slot_of
from commands.data.numbers import parse_long_double, round_long_double
from commands.server.resp import NULL_ARRAY, ReplyError

RECV_SIZE = 64 * 1024
FOREVER = 1e9           # longer timeouts (decades) are waited for as "forever"

TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
UNBLOCKED_ERROR = "UNBLOCKED client unblocked via CLIENT UNBLOCK"


class Waiter:
    """One blocked client: its keys, how to serve it from a ready key, and its reply."""

    __slots__ = ("client", "keys", "serve", "timeout_reply", "event", "reply", "done",
                 "input_ready", "watcher", "has_timeout")

    def __init__(self, client, keys, serve, timeout_reply):
        self.client = client
        self.keys = keys                # distinct keys, in the command's order
        self.serve = serve              # fn(key) -> reply, or None to keep waiting
        self.timeout_reply = timeout_reply
        self.event = Event()
        self.reply = None
        self.done = False
        self.input_ready = False
        self.watcher = None
        self.has_timeout = False        # INFO clients_in_timeout_table


def parse_timeout(arg: bytes) -> float:
    """Seconds to wait (0 = forever), as getTimeoutFromObjectOrReply(UNIT_SECONDS) reads
    them: a long double, rounded UP to whole milliseconds (ceill), so 0.0001 waits 1 ms
    rather than becoming 0, "forever"."""
    value = parse_long_double(arg)
    if value is None:
        raise ReplyError(TIMEOUT_NOT_FLOAT)
    if type(value) is tuple:
        # inf: the C cast to long long gives LLONG_MIN on x86, which is "negative".
        raise ReplyError(TIMEOUT_NEGATIVE)
    # The product is rounded to a long double first (so "-0.001" gives -0.99999... ms,
    # which ceill makes -0: accepted, as in Redis).
    ms = round_long_double(value * 1000)
    if type(ms) is tuple or ms <= -1 or ms >= 2 ** 63:   # casts to a negative long long
        raise ReplyError(TIMEOUT_NEGATIVE)
    seconds = math.ceil(ms) / 1000.0
    return seconds if seconds < FOREVER else 0.0


def can_block(c) -> bool:
    """Blocking is denied inside MULTI/EXEC (c.multi is a list while EXEC runs)."""
    return c.multi is None and not c.deny_blocking


# ---------------------------------------------------------------- blocking

def block(c, keys, timeout: float, serve, timeout_reply):
    """Wait until `serve(key)` gives a reply for one of `keys`, or `timeout` seconds pass
    (0 = forever). Returns the reply (or `timeout_reply`). Runs in the client's greenlet."""
    ks = c.server.keyspace
    _install_close_hook(c.server)
    # The replies of the commands before this one in the same read go out now, as Redis
    # writes them while the client is blocked (a pipelined PING, BLPOP gets its PONG).
    c.flush_batch()
    waiter = Waiter(c, list(dict.fromkeys(keys)), serve, timeout_reply)
    waiter.has_timeout = timeout > 0
    for key in waiter.keys:
        ks.blocking_keys.setdefault(key, collections.deque()).append(waiter)
    c.blocked_waiter = waiter
    c.blocked_input_bytes = 0
    c.server.blocked_clients += 1
    began = time.perf_counter_ns()
    try:
        _watch_input(c, waiter)
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while not waiter.done:
            remaining = None
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
            waiter.event.wait(remaining)
            waiter.event.clear()
            if not waiter.done and waiter.input_ready:
                waiter.input_ready = False
                _read_input(c, waiter)
    finally:
        _stop_watching(waiter)
        c.blocked_waiter = None
        c.server.blocked_clients -= 1
        # The wait is not the command's duration (commandstats, slow log): the
        # executor takes it off this call's (executor.record_slow_call).
        c.blocked_wait = (c.server.total_commands, time.perf_counter_ns() - began)
        if not waiter.done:
            _unregister(ks, waiter)           # timed out
    return waiter.reply if waiter.done else waiter.timeout_reply


def pop_first_or_block(c, keys, lookup, cls, take, timeout):
    """The shape BLPOP, LMPOP, BZPOPMIN, ZMPOP... share: `take(key, value)` from the first
    of `keys` holding a non-empty value (`lookup` is the family's typed write lookup, so
    another type is WRONGTYPE); when all are empty, NULL_ARRAY at once if `timeout` is
    None (the non-blocking forms) or blocking is denied, else wait for a writer to fill
    one (a key that then holds another type than `cls` keeps the client waiting)."""
    ks = c.server.keyspace
    for key in keys:
        value = lookup(ks, key)
        if value:
            return take(key, value)
    if timeout is None or not can_block(c):
        return NULL_ARRAY

    def serve(key):
        value = ks.get(key)
        if type(value) is not cls or not value:
            return None
        return take(key, value)
    return block(c, keys, timeout, serve, NULL_ARRAY)


def finish(ks, waiter, reply) -> None:
    """End a wait with `reply` and wake the waiting greenlet."""
    if waiter.done:
        return
    waiter.done = True
    waiter.reply = reply
    _unregister(ks, waiter)
    waiter.event.set()


def _unregister(ks, waiter) -> None:
    for key in waiter.keys:
        queue = ks.blocking_keys.get(key)
        if queue is None:
            continue
        try:
            queue.remove(waiter)
        except ValueError:
            pass
        if not queue:
            del ks.blocking_keys[key]
            ks.ready_keys.pop(key, None)


# ---------------------------------------------------------------- serving ready keys

def handle_clients_blocked_on_keys(ks) -> None:
    """Serve the waiters of every ready key, FIFO per key, until no key is ready.

    Serving can make more keys ready (BLMOVE pushes to its destination): loop."""
    while ks.ready_keys:
        ready = list(ks.ready_keys)
        ks.ready_keys.clear()
        for key in ready:
            queue = ks.blocking_keys.get(key)
            if not queue:
                continue
            for waiter in list(queue):
                if waiter.done:
                    continue
                reply = waiter.serve(key)
                if reply is not None:
                    if not isinstance(reply, ReplyError):
                        # The pop reaches replicas now, after the write that served it.
                        propagator = waiter.client.server.propagator
                        if propagator is not None:
                            propagator.served(waiter.client, reply)
                    finish(ks, waiter, reply)
                    # The served command may have emptied (or retyped) the key; the next
                    # waiter's serve() finds out and returns None.


# ---------------------------------------------------------------- unblocking from outside

def redirect_blocked_clients(ks, decide) -> int:
    """End every wait for which `decide(key)` returns an error reply for one of its keys
    (Redis's clusterRedirectBlockedClientIfNeeded). Returns the number unblocked."""
    count = 0
    for key in list(ks.blocking_keys):
        queue = ks.blocking_keys.get(key)
        if not queue:
            continue
        reply = decide(key)
        if reply is None:
            continue
        for waiter in list(queue):
            if not waiter.done:
                finish(ks, waiter, reply)
                count += 1
    return count


def unblock_clients_on_slot(ks, slot: int, error_reply) -> int:
    """The routing layer calls this when `slot` moves away (error_reply = -MOVED ...) or
    with every slot when the cluster goes down (-CLUSTERDOWN ...)."""
    return redirect_blocked_clients(
        ks, lambda key: error_reply if slot_of(key) == slot else None)


def unblock_all(ks, error_reply) -> int:
    """End every wait with `error_reply` (e.g. CLUSTERDOWN)."""
    return redirect_blocked_clients(ks, lambda key: error_reply)


def unblock_client(client, error: bool) -> bool:
    """CLIENT UNBLOCK: end a client's wait as a timeout, or with -UNBLOCKED."""
    waiter = getattr(client, "blocked_waiter", None)
    if waiter is None or waiter.done:
        return False
    reply = ReplyError(UNBLOCKED_ERROR) if error else waiter.timeout_reply
    finish(client.server.keyspace, waiter, reply)
    return True


# ---------------------------------------------------------------- the client's socket

def _watch_input(c, waiter) -> None:
    """Wake the waiter when the client sends something (or hangs up)."""
    sock = getattr(c, "sock", None)
    if sock is None:
        return
    try:
        fd = sock.fileno()
    except OSError:
        return
    if fd < 0:
        return

    def readable():
        # Runs in the hub: just flag it; the waiting greenlet does the reading.
        waiter.input_ready = True
        waiter.event.set()
    watcher = gevent.get_hub().loop.io(fd, 1)
    watcher.start(readable)
    waiter.watcher = watcher


def _stop_watching(waiter) -> None:
    watcher = waiter.watcher
    if watcher is not None:
        waiter.watcher = None
        watcher.stop()
        watcher.close()


def _read_input(c, waiter) -> None:
    """Buffer what a blocked client sent; a hang-up ends the wait and the client."""
    try:
        data = c.sock.recv(RECV_SIZE)
    except OSError:
        data = b""
    if not data:
        finish(c.server.keyspace, waiter, waiter.timeout_reply)
        c.close()
        return
    c.server.net_input_bytes += len(data)
    c.blocked_input_bytes += len(data)
    c.parser.feed(data)
    limit = c.server.settings.client_query_buffer_limit
    if c.blocked_input_bytes > limit:
        finish(c.server.keyspace, waiter, waiter.timeout_reply)
        c.close()


def _on_client_close(client) -> None:
    waiter = getattr(client, "blocked_waiter", None)
    if waiter is not None:
        _stop_watching(waiter)                # before the socket's fd is closed
        finish(client.server.keyspace, waiter, waiter.timeout_reply)


def _install_close_hook(server) -> None:
    if _on_client_close not in server.close_hooks:
        server.close_hooks.append(_on_client_close)
