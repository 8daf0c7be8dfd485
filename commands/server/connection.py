"""One greenlet per client: recv -> parse -> execute -> one send per read.

All complete commands of one read are executed and their replies sent with one send()
(the biggest single win for pipelined clients). Before that send, the append-only file
writes what the batch propagated (and with appendfsync always, fsyncs it), so no reply
acknowledges a write that is not in the AOF. A client that keeps pipelining never
blocks in recv(), and gevent only switches greenlets when one blocks, so the loop yields
every YIELD_EVERY commands to let other clients and the cluster cron run.

Out-of-band messages (MONITOR lines, pub/sub) written by *other* greenlets go through
`push_raw`: they are queued and written by a short-lived writer greenlet, so a slow
client never blocks the greenlet that produced the message, and the bytes queued for a
client are capped (the client is closed past the cap, like Redis's
client-output-buffer-limit).

A TLS client (tls-port) runs this same loop on a cluster/tls.TlsSocket: the two
socket calls that bypass gevent for speed (the send that must not wait, the wait for
readability) are bound per connection in __init__/serve, so a plain client pays
nothing for TLS existing.

Clients whose requests arrive in the same turn of the event loop are served in the order
their sockets became readable, as Redis serves epoll's ready list. libev wakes the
waiting greenlets last-in first-out, so the latest arrival would be served first: a
PUBLISH sent just after another client's PUNSUBSCRIBE could still count that subscriber.
A woken greenlet that sees other watchers still pending in this turn (they became ready
before it) steps aside (ArrivalOrder). Stepping aside costs two greenlet switches, and
under load (50 clients at -P1) nearly every wake has others pending: done for every
request it cost ~10% CPU per request (scripts/bench_vs_rev.py). Among clients that sent
without waiting for each other either order is linearizable, so the order is restored only
where it is observable in practice and Redis's order is expected: while the node has
Pub/Sub subscribers (who counts as a receiver of a PUBLISH). Otherwise the cost is one
look at the loop's pending count and at server.pubsub.
"""
import socket
import time
from binascii import crc_hqx
from time import perf_counter_ns

import gevent
import gevent.event
from loguru import logger

from cluster.tls import TlsSocket
from commands.data.keyspace import slot_of
from commands.server.executor import (KEYS, ONE_KEY, internal_error, open_fast_path,
                                      process_command, record_slow_call)
from commands.server.resp import ProtocolError, QueryBufferLimit, Raw, ReplyError, encode

RECV_SIZE = 64 * 1024
ALL_SLOTS_MINE = (True,) * 16384    # _fast_path_state's owner table without a cluster
YIELD_EVERY = 64
PUSH_BUFFER_LIMIT = 32 * 1024 * 1024   # cap for normal clients (MONITOR) with no limit set
# Replies waiting for a client that does not read: past this, stop reading its requests
# until they drain (backpressure). Redis keeps reading and buffers without a limit for
# normal clients; we buffer as much as any sane pipeline needs, then push back.
REPLY_BACKLOG_LIMIT = 64 * 1024 * 1024
CLOSE_FLUSH_SECONDS = 5.0              # how long the last replies may take before a close


class ArrivalOrder:
    """Puts the greenlets woken in one loop turn back in arrival order.

    libev invokes the pending watchers of a turn last-in first-out, and each read
    watcher switches straight into its client's greenlet. A greenlet woken while other
    watchers are still pending (loop.pendingcnt) was not the first to become readable:
    it steps aside here and switches back to the hub, which goes on invoking the
    earlier ones. The one woken last (nothing pending: the earliest arrival) just runs;
    then one loop callback resumes those that stepped aside in reverse order of
    stepping aside, which is the order they arrived in."""

    def __init__(self, hub):
        self._hub = hub
        self._loop = hub.loop
        self._waiting = []

    def step_aside(self) -> None:
        """Called by a woken client greenlet when loop.pendingcnt is not 0."""
        waiting = self._waiting
        waiting.append(gevent.getcurrent())
        if len(waiting) == 1:
            self._loop.run_callback(self._resume)
        self._hub.switch()

    def _resume(self) -> None:
        waiting = self._waiting
        self._waiting = []
        for greenlet in reversed(waiting):
            if not greenlet.dead:
                greenlet.switch()


_arrival_orders = {}                  # hub -> its ArrivalOrder


def arrival_order(hub) -> ArrivalOrder:
    order = _arrival_orders.get(hub)
    if order is None:
        order = _arrival_orders[hub] = ArrivalOrder(hub)
    return order


class Client:
    """A connected client and everything Redis keeps per client."""

    def __init__(self, server, sock=None, address=None, parser=None):
        """With no socket this is Redis's "fake client" (fd -1): it runs commands for
        the node itself (loading an AOF, tests) and never reads or writes."""
        self.server = server
        self.sock = sock
        self.id = server.new_client_id()
        self.addr_text = "%s:%d" % address[:2] if address else ""
        self.laddr_text = ""
        self.unix_socket = False      # connected through `unixsocket` (flag U)
        self.tls = False              # connected through tls-port (cluster/tls.py)
        self.fd = -1
        self.send_nowait = None       # fn(bytes) -> bytes sent now, never waiting
        if sock is not None:
            # The raw socket's send() for a plain client; a TLS one must go through
            # OpenSSL (the raw socket would carry the bytes unencrypted).
            self.send_nowait = sock.send_nowait if isinstance(sock, TlsSocket) else \
                sock._sock.send
            try:
                laddr = sock.getsockname()
                # A unix socket's name is its path (Redis shows "<path>:0").
                self.laddr_text = "%s:0" % laddr if isinstance(laddr, str) else \
                    "%s:%d" % laddr[:2]
            except OSError:
                self.laddr_text = "?:0"
            self.fd = sock.fileno()
        self.parser = parser
        self.name = None
        self.resp3 = False
        # ACL (commands/security/acl_users.py sets these through server.acl): the user,
        # and acl_gate, true while the executor must check (not authenticated, or a
        # user with restrictions). No user is the superuser (fake clients, our master).
        self.user = None
        self.authenticated = not server.settings.requirepass
        self.acl_gate = not self.authenticated
        if server.acl is not None and sock is not None:
            server.acl.init_client(self)
        self.created = time.time()
        self.last_interaction = time.monotonic()
        self.last_command = None      # the Command last looked up (CLIENT LIST cmd=)
        self.multi = None             # list of queued (cmd, argv) while in MULTI
        self.multi_error = False      # a queued command was rejected: EXEC aborts
        self.watched = {}             # WATCHed key -> it existed when watched
        self.dirty_cas = False        # a WATCHed key changed
        self.deny_blocking = False    # BLPOP & co answer at once (the master link; scripts)
        self.script_run = None        # the Lua script this client runs (commands/scripting)
        self.blocked_waiter = None    # set while blocked in BLPOP & co (blocking.py)
        self.blocked_wait = None      # (call number, ns) the last blocked call waited
        self.held_by_pause = False    # waiting for a CLIENT PAUSE to end (client_pause.py)
        self.asking = False
        # Work after each command this client runs (executor._after_call): ASKING's
        # reset, tracking's remembered reads. One flag for call() to test.
        self.after_call = False
        self.readonly = False
        self.no_evict = False         # CLIENT NO-EVICT (shown in CLIENT LIST; never evicted)
        self.pubsub_mode = False
        self.subscriptions = None     # pub/sub channels & patterns (commands/pubsub/channels.py)
        self.monitor = False
        self.close_after_reply = False
        self.closed = False
        self.killed = False
        self.query_buffer_peak = 0
        self._outbox = []             # queued out-of-band bytes
        self._outbox_bytes = 0
        self._writer = None           # greenlet flushing _outbox
        self._drained = gevent.event.Event()   # set when the writer empties the outbox
        self._soft_limit_since = None  # when _outbox_bytes went over the soft limit
        self._held = False            # hold_output(): the outbox fills but is not written
        self.own_monitor_lines = []   # MONITOR lines of this monitor's own commands
        # Work after a command's reply, on the few connections that need it (a monitor's
        # own lines, CLIENT REPLY OFF/SKIP, tracking): one flag for the loop to test.
        self.after_reply = False
        self.reply_mode = None        # CLIENT REPLY: None (on), "off", "skip-next", "skip"
        self._reply_mark = None       # (reply list, length) before the running command
        self._batch = []              # the replies of the read being served (flush_batch)
        self.greenlet = None          # the greenlet running this client's commands
        # Client-side caching (commands/server/tracking.py)
        self.tracking = None          # ClientTracking while CLIENT TRACKING is on
        self.remembers_reads = False  # tracking in the default mode: reads are remembered
        self.tracking_pending = []    # invalidations sent after the running command's reply
        # Replication (commands/replication/master.py, replica_link.py, propagation.py)
        self.is_master_link = False   # the connection our master streams commands on
        self.replica = None           # on a master: the ReplicaState of a replica's link
        self.propagate_as = None      # set by a handler: propagate these argvs instead
        self.woff = 0                 # stream offset after this client's last write (WAIT)
        self.prop_depth = 0           # nesting of call() (EXEC) for the propagation unit
        self.prop_unit = None         # argvs this client's running command propagates
        self.argv = None              # the running command's argv, while propagating

    # ------------------------------------------------------------ transaction state

    def discard_transaction(self) -> None:
        """Out of MULTI, nothing queued, nothing watched (Redis's discardTransaction)."""
        self.multi = None
        self.multi_error = False
        self.unwatch_all()

    def unwatch_all(self) -> None:
        self.server.keyspace.unwatch_all(self)
        self.dirty_cas = False

    # ------------------------------------------------------------ the loop

    def serve(self):
        sock = self.sock
        parser = self.parser
        server = self.server
        since_yield = 0
        aof = server.aof              # commands/persistence/aof.py, when built
        # After a read that drained the socket (less than a full buffer), the next recv()
        # would almost surely fail with EAGAIN and then wait: gevent raises and catches
        # that in Python for every request of a request/response client. Waiting for
        # readability first skips the failing syscall and the exception.
        # (TLS: unless OpenSSL already holds decrypted bytes.)
        wait_readable = sock.wait_readable if isinstance(sock, TlsSocket) else sock._wait
        read_event = sock._read_event
        # Once readable, the plain socket's own recv() (gevent's wrapper would only add a
        # Python frame); a wake-up for nothing raises BlockingIOError and waits again.
        recv = sock.recv if isinstance(sock, TlsSocket) else sock._sock.recv
        hub = gevent.get_hub()
        loop = hub.loop
        step_aside = arrival_order(hub).step_aside
        # libev's loop counts the watchers still pending in this turn; gevent's libuv
        # loop (GEVENT_LOOP=libuv) has no such count, and then arrival order is libuv's.
        ordered = hasattr(loop, "pendingcnt")
        drained = False
        self.greenlet = gevent.getcurrent()
        try:
            while not self.close_after_reply:
                if drained:
                    wait_readable(read_event)
                    if ordered and loop.pendingcnt and server.pubsub is not None \
                            and any(server.pubsub.tables):
                        step_aside()          # someone became readable before us
                try:
                    data = recv(RECV_SIZE)
                except BlockingIOError:
                    drained = True
                    continue
                if not data:
                    break
                drained = len(data) < RECV_SIZE
                server.net_input_bytes += len(data)
                server.total_reads += 1
                self.last_interaction = time.monotonic()
                self._batch = []
                try:
                    parser.feed(data)
                    since_yield = self._run(parser.take(), since_yield)
                    if self.closed:
                        return
                except ProtocolError as exc:
                    self._batch.append(b"-ERR Protocol error: %s\r\n" % str(exc).encode())
                    self.close_after_reply = True
                    logger.log("VERBOSE", "Protocol error ({}) from client: addr={}", exc,
                               self.addr_text)
                except QueryBufferLimit:
                    logger.warning("Closing client that reached max query buffer length: "
                                   "addr={}", self.addr_text)
                    self.close_after_reply = True
                out = self._batch
                if out:
                    if aof is not None:
                        # The AOF first: with appendfsync always the replies wait for
                        # the fsync, one fsync for the whole batch (group commit).
                        aof.before_reply()
                    self.write(b"".join(out))
                if self._outbox_bytes > REPLY_BACKLOG_LIMIT:
                    self._wait_for_drain()
            self._flush_before_close()
        except OSError:
            pass  # the peer reset the connection: normal
        finally:
            self.close()

    def _run(self, requests: list, since_yield: int) -> int:
        """Run the requests of one read, their replies encoded into self._batch.

        A request takes the fast path (executor.py: open_fast_path) when the connection
        and the node are plain, the command is one of the fast ones and its key's slot
        is served here: the handler runs with its statistics kept here, from one clock
        read per request (the time since the previous request ended, which includes
        encoding its reply, as Redis's handlers write their replies too). Anything else
        takes process_command, which makes every check and answers every error as Redis
        does; after it, and after yielding, the fast path is asked again.

        Returns the requests run since the loop last yielded."""
        server = self.server
        parser = self.parser
        keyspace = server.keyspace
        fast_table = server.fast_commands
        router = server.router
        view = server.cluster
        out = self._batch
        done = ran = 0
        yield_at = YIELD_EVERY - since_yield
        # Names the loop reads per request, as locals (a global costs a dict lookup).
        one_key, keys, raw, reply_error = ONE_KEY, KEYS, Raw, ReplyError
        clock, crc16 = perf_counter_ns, crc_hqx
        fast = False                # set by _fast_path_state below
        try:
            fast, owners, myself, resp3, slow_ns = self._fast_path_state(view)
            then = clock()
            for argv in requests:
                done += 1
                cmd = fast_table.get(argv[0]) if fast else None
                if cmd is not None and cmd.argc_min <= len(argv) <= cmd.argc_max:
                    route = cmd.fast_route
                    if route == one_key:
                        key = argv[1]
                        # key_hash_slot inlined for keys without "{" (byte 123); the
                        # keyspace is told, so that it does not hash the key again.
                        slot = crc16(key, 0) & 0x3FFF if 123 not in key else slot_of(key)
                        if owners[slot] is not myself:
                            cmd = None
                        keyspace.hint_key = key
                        keyspace.hint_slot = slot
                    elif route == keys and router(self, cmd, argv) is not None:
                        cmd = None
                else:
                    cmd = None
                if cmd is not None:
                    # What executor.call and account_call do for this case, written out
                    # here: a call per request is what the fast path saves.
                    self.last_command = cmd
                    try:
                        reply = cmd.handler(self, argv)
                    except reply_error as exc:
                        reply = exc
                    except Exception:
                        reply = internal_error(server, cmd)
                    kind = type(reply)
                    if kind is raw:
                        out.append(reply)
                    elif kind is bytes:
                        out.append(b"$%d\r\n%s\r\n" % (len(reply), reply))
                    elif kind is int:
                        out.append(b":%d\r\n" % reply)
                    else:
                        if isinstance(reply, ReplyError):
                            cmd.failed_calls += 1
                            server.count_error(reply.code)
                        encode(reply, out, resp3)
                    ran += 1
                    now = clock()
                    ns = now - then
                    then = now
                    if ns < slow_ns:
                        cmd.nsec += ns
                        cmd.durations[ns // 1000] += 1
                    else:
                        record_slow_call(self, cmd, argv, ns)
                else:
                    server.total_commands += ran
                    ran = 0
                    parser.mark(done)       # CLIENT LIST's qbuf: what is left of the read
                    encode(process_command(self, argv), out, self.resp3)
                    if self.after_reply:
                        self._after_reply(out)
                    if self.close_after_reply:
                        break
                    if done < len(requests):
                        # More of this read to run: the command may have closed the fast
                        # path (or opened it). A read of one request, the usual one of a
                        # request/response client, has nothing more to ask it for.
                        fast, owners, myself, resp3, slow_ns = self._fast_path_state(view)
                        then = clock()
                if done == yield_at:
                    yield_at += YIELD_EVERY
                    server.total_commands += ran
                    ran = 0
                    if out:
                        if server.aof is not None:
                            server.aof.before_reply()
                        self.write(b"".join(out))
                        out = self._batch = []     # a new list: see _after_reply
                    gevent.sleep(0)
                    if self.closed:
                        break
                    fast, owners, myself, resp3, slow_ns = self._fast_path_state(view)
                    then = clock()
        finally:
            server.total_commands += ran
            parser.finished()
        if parser.failure is not None:
            raise parser.failure            # after the requests that came before it
        return YIELD_EVERY - (yield_at - done)

    def _fast_path_state(self, view) -> tuple:
        """What _run's fast path needs, read again whenever it may have changed: whether
        it is open, the slot owner table and this node (a table owning nothing while
        the cluster is down or a slot migrates: every keyed request then goes the
        generic way), the protocol, the slow-call threshold."""
        fast = open_fast_path(self)
        if view is None:                    # no cluster (unit tests): every slot is ours
            owners, myself = ALL_SLOTS_MINE, True
        elif view.cluster_ok and not view.migrating_slots_to:
            owners, myself = view.slots, view.myself
        else:
            owners, myself = ALL_SLOTS_MINE, False
        return fast, owners, myself, self.resp3, self.server.slow_call_ns

    # ------------------------------------------------------------ after a reply

    def _after_reply(self, out: list) -> None:
        """What follows a command's reply on this connection, in Redis's order: CLIENT
        REPLY OFF/SKIP drop the reply (and a monitor's own lines), then the tracking
        invalidations the command caused for this client (pushes are never dropped)."""
        mode = self.reply_mode
        if mode is not None:
            mark = self._reply_mark
            if mark is not None:
                # The reply just encoded: from the mark, or the whole list when the
                # batch was sent and a new list begun since.
                del out[mark[1] if mark[0] is out else 0:]
            self.own_monitor_lines.clear()
            if mode == "skip-next":       # CLIENT REPLY SKIP ran: skip the next reply
                self.reply_mode = "skip"
            elif mode == "skip":
                self.reply_mode = None
        elif self.own_monitor_lines:
            out.extend(self.own_monitor_lines)    # a monitor sees its own commands after
            self.own_monitor_lines.clear()
        if self.tracking_pending:
            pending = self.tracking_pending
            self.tracking_pending = []
            for payload in pending:
                self.server.tracking.send(self, payload, out)
        state = self.tracking
        if state is not None and state.caching and self.multi is None:
            # CLIENT CACHING yes|no holds for the next command (or transaction) only.
            last = self.last_command
            if last is None or (last.container or last).name != "client":
                state.caching = False
        self._reply_mark = (out, len(out))
        self.after_reply = self.reply_mode is not None or state is not None

    def defer_push(self, payload: bytes) -> None:
        """An invalidation caused by this client's running command: sent after its
        reply (Redis's tracking_pending_keys)."""
        self.tracking_pending.append(payload)
        self.after_reply = True

    def set_reply_mode(self, mode) -> None:
        """CLIENT REPLY: the command's own (empty) reply is not a reply to drop."""
        self.reply_mode = mode
        self._reply_mark = None
        self.after_reply = True

    def flush_batch(self) -> None:
        """Send the replies of this read encoded so far (before a CLIENT PAUSE wait)."""
        batch = self._batch
        if not batch or self.sock is None:
            return
        if self.server.aof is not None:
            self.server.aof.before_reply()
        self.write(b"".join(batch))
        batch.clear()
        if self._reply_mark is not None:
            self._reply_mark = (None, 0)  # what follows is the held command's alone

    # ------------------------------------------------------------ writing

    def write(self, data: bytes) -> None:
        """Write replies from this client's own greenlet, never waiting for the client.

        What the socket takes now is sent; the rest goes to the writer greenlet and this
        greenlet goes back to reading. Waiting in send() instead would deadlock a client
        that sends its whole pipeline before reading any reply (its writes block on our
        full receive buffer while we block on its full one); Redis never waits either.
        """
        if self._writer is not None or self._outbox or self._held:
            self._queue(data, reply=True)
            return
        server = self.server
        server.net_output_bytes += len(data)
        server.total_writes += 1
        try:
            # The gevent socket would wait on EAGAIN; its non-blocking socket does not.
            sent = self.send_nowait(data)
        except BlockingIOError:
            sent = 0
        if sent < len(data):
            server.net_output_bytes -= len(data) - sent   # counted when really sent
            self._queue(data[sent:], reply=True)

    def _wait_for_drain(self) -> None:
        """Backpressure: stop reading until the queued replies drop under the limit."""
        while self._outbox_bytes > REPLY_BACKLOG_LIMIT and not self.closed:
            self._drained.clear()
            self._drained.wait(1.0)

    def _flush_before_close(self) -> None:
        """QUIT or a protocol error: the last replies go out before the socket closes."""
        if not self._outbox or self.closed or self._held:
            return
        with gevent.Timeout(CLOSE_FLUSH_SECONDS, False):
            while self._outbox and not self.closed:
                self._drained.clear()
                self._drained.wait(0.5)

    @property
    def pending_push_bytes(self) -> int:
        """Bytes queued by push_raw and not yet handed to the socket (backpressure)."""
        return self._outbox_bytes

    # A replica's full sync (commands/replication/full_sync.py) is Redis's dance with a
    # slave's output buffer: from the fork on, the stream accumulates in the buffer (and
    # counts against client-output-buffer-limit slave) while the RDB goes out on the
    # socket directly; once the RDB is through, the buffer is released.

    def hold_output(self) -> None:
        """Queue everything from now on; send nothing until release_output()."""
        self._held = True

    def release_output(self) -> None:
        self._held = False
        if self._outbox and self._writer is None and not self.closed:
            self._writer = gevent.spawn(self._drain_outbox)

    def copy_held_output(self, other) -> None:
        """Start with what `other` holds (a replica joining a running disk sync)."""
        self._outbox.extend(other._outbox)
        self._outbox_bytes += other._outbox_bytes

    def send_direct(self, data) -> None:
        """Write past the held outbox, waiting as long as the socket needs (the RDB of a
        full sync). Only while output is held: nothing else writes to the socket then."""
        self.server.net_output_bytes += len(data)
        self.server.net_repl_output_bytes += len(data)   # only a replica's RDB comes here
        self.sock.sendall(data)

    def push_raw(self, data: bytes) -> None:
        """Queue bytes from another greenlet (MONITOR, pub/sub); never blocks the caller."""
        if self.closed:
            return
        self._queue(data)

    def _queue(self, data: bytes, reply: bool = False) -> None:
        self._outbox.append(data)
        self._outbox_bytes += len(data)
        # The output limits are for pushes (pub/sub, MONITOR); replies to the client's
        # own requests are bounded by backpressure in serve() instead.
        if not reply and self._over_output_limit():
            logger.warning("Client addr={} scheduled to be closed ASAP for overcoming of "
                           "output buffer limits.", self.addr_text)
            self.close()
            return
        if self._writer is None and not self._held:
            self._writer = gevent.spawn(self._drain_outbox)

    def _drain_outbox(self) -> None:
        try:
            while self._outbox and not self.closed:
                data = b"".join(self._outbox)
                self._outbox.clear()
                self._send_all(data)
                # Counted until written: bytes stuck in a send to a client that does not
                # read are memory the output buffer limit must see.
                self._outbox_bytes -= len(data)
                self._drained.set()
        except OSError:
            self.close()
        finally:
            self._writer = None
            self._drained.set()

    def output_buffer_class(self) -> str:
        """Which client-output-buffer-limit class applies (Redis's getClientType; a
        MONITOR counts as normal)."""
        if self.replica is not None:
            return "slave"
        return "pubsub" if self.pubsub_mode else "normal"

    def _over_output_limit(self) -> bool:
        """client-output-buffer-limit on the bytes queued by push_raw (Redis's
        checkClientOutputBufferLimits): over the hard limit closes at once; over the soft
        limit closes once it has lasted more than soft_seconds, counted from the first
        push seen over it and reset by a push seen under it."""
        # Runs for every message to every subscriber: plain lookups, no helper calls for
        # the common pub/sub case (a replica link is never subscribed).
        klass = "pubsub" if self.pubsub_mode else self.output_buffer_class()
        hard, soft, soft_seconds = \
            self.server.settings.values["client-output-buffer-limit"][klass]
        used = self._outbox_bytes
        if hard:
            if used >= hard:
                return True
        elif klass == "normal" and used >= PUSH_BUFFER_LIMIT:
            return True                # "normal 0 0 0" (no limit) would let MONITOR grow
        if soft and used >= soft:
            now = time.monotonic()
            if self._soft_limit_since is None:
                self._soft_limit_since = now
                return False
            return now - self._soft_limit_since > soft_seconds
        self._soft_limit_since = None
        return False

    def _send_all(self, data: bytes) -> None:
        # send() in a loop: sendall() on gevent sockets costs an extra syscall per call.
        server = self.server
        server.net_output_bytes += len(data)
        server.total_writes += 1
        if self.replica is not None:
            server.net_repl_output_bytes += len(data)
        view = memoryview(data)
        sent = self.sock.send(view)
        while sent < len(view):
            view = view[sent:]
            sent = self.sock.send(view)

    # ------------------------------------------------------------ closing

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        # A greenlet still inside a command (blocked, or held by CLIENT PAUSE) when the
        # client is killed must run none of its pipelined commands after it.
        self.close_after_reply = True
        server = self.server
        server.clients.pop(self.id, None)
        server.monitors.discard(self)
        server.keyspace.unwatch_all(self)
        if self.tracking is not None:
            server.tracking.disable(self)
        for hook in server.close_hooks:
            hook(self)
        try:
            self.sock.close()
        except OSError:
            pass
        writer = self._writer
        if writer is not None and writer is not gevent.getcurrent():
            writer.kill(block=False)

    def kill(self) -> None:
        """CLIENT KILL: close the socket so the client's greenlet leaves recv()."""
        self.killed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close()
