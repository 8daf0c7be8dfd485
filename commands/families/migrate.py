"""MIGRATE: move keys to another node (Redis's migrateCommand), without blocking this one.

    MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
            [AUTH password | AUTH2 username password] [KEYS key ...]

What goes to the target is what Redis sends: optional AUTH, SELECT when the connection is
not on the wanted db yet, then one `RESTORE-ASKING key ttl payload [REPLACE]` per key
(the node is always in cluster mode, and the command's "asking" flag lets an importing
target serve it), the whole pipeline written in 64 KB chunks. Each key the target
acknowledges is deleted here unless COPY. Replies and errors are Redis's: +NOKEY, +OK,
-IOERR error or timeout writing|reading to target instance, -ERR Target instance replied
with error: <its error>.

Not blocking the node: Redis blocks its whole event loop for the transfer (that is what
makes MIGRATE atomic there). We run it on the calling client's greenlet over a gevent
socket, so other clients keep being served meanwhile -- and may change a key while its
copy is on the wire. Deleting that key after the ack would lose their write, so each
migrated key is watched through the keyspace's WATCH hook (a `_KeyGuard` per key) from
the moment it is serialized. A key that changed in flight is not deleted; it is sent
again in a follow-up round with REPLACE (or, if it was deleted meanwhile, deleted on the
target with ASKING + DEL), until the target's copy is current (at most
MAX_FOLLOW_UP_ROUNDS rounds; a key still changing after that stays here, not lost).
Inside EXEC the transfer must not yield (other clients would run in the middle of the
transaction), so there it uses a plain blocking socket and blocks the node, like Redis.

`timeout` bounds every single socket operation (connect, each 64 KB write, each read),
as in Redis; timeout <= 0 means 1000 ms. Connections are cached per host:port for 10 s
(at most 64), and, as in Redis, a transfer that failed on a cached socket before any
reply was read is retried once on a fresh one. A connection is checked out of the cache
while a MIGRATE uses it, so two clients migrating at once never share a socket.

Differences from Redis, all deliberate: SELECT is sent only when the db differs from the
one the connection is on (a new connection is on db 0, the only db in cluster mode);
duplicate keys in KEYS are sent once; keys changed in flight are re-sent as above.
Replication of the deletes (as DEL) will come with replicas.
"""
import random
import socket
import time

import gevent
import hiredis
from gevent import socket as gsocket
from gevent.monkey import get_original

from commands.data.keyspace import now_ms, slot_of
from commands.data.notifications import notify_keyspace_event
from commands.families.dump import dump_payload
from commands.rdb import string_payload
from commands.server import info
from commands.server.args import SYNTAX_ERROR, int_arg
from commands.server.resp import OK, ReplyError, Status
from commands.server.table import command

CACHE_MAX_ITEMS = 64                  # MIGRATE_SOCKET_CACHE_ITEMS
CACHE_TTL = 10.0                      # MIGRATE_SOCKET_CACHE_TTL, seconds
WRITE_CHUNK = 64 * 1024
MAX_FOLLOW_UP_ROUNDS = 8
SNAPSHOT_YIELD_EVERY = 256            # serialize this many keys between yields
DEFAULT_TIMEOUT_MS = 1000

KEYS_NEED_EMPTY_KEY = ("ERR When using MIGRATE KEYS option, the key argument must be set "
                       "to the empty string")
NOKEY = Status("NOKEY")
REDACTED = b"(redacted)"


# ---------------------------------------------------------------- key positions

_OPTION_ARGS = {b"copy": 0, b"replace": 0, b"auth": 1, b"auth2": 2}


def migrate_key_indexes(argv) -> list:
    """The keys of a MIGRATE call, as Redis 7 finds them (COMMAND GETKEYS, routing).

    Redis first tries its key specs: the KEYS keyword is searched backwards from the
    second-to-last argument, and when it is absent the key is argv[3]. When it is there,
    the spec is "incomplete" and migrateGetKeys parses the options instead: the keys
    follow KEYS -- or there are none (an error) when the key argument is not empty."""
    for i in range(len(argv) - 2, 1, -1):
        arg = argv[i]
        # (Only a 4-byte argument can be KEYS: the keys themselves are not lowered.)
        if len(arg) == 4 and arg.lower() == b"keys":
            break
    else:
        return [3]
    first, count = 3, 1
    i = 6
    while i < len(argv):
        word = argv[i].lower()
        if word == b"keys":
            if argv[3]:
                count = 0
            else:
                first, count = i + 1, len(argv) - i - 1
            break
        i += _OPTION_ARGS.get(word, 0) + 1
    return list(range(first, first + count))


# ---------------------------------------------------------------- target connections

class _TransferError(Exception):
    """The socket failed: IOERR. `writing` picks Redis's wording; a timeout is never
    retried."""

    def __init__(self, writing: bool, timed_out: bool):
        super().__init__()
        self.writing = writing
        self.timed_out = timed_out

    @classmethod
    def of(cls, exc: OSError, writing: bool):
        return cls(writing, isinstance(exc, TimeoutError))


class _ConnectError(Exception):
    """The address could not even be resolved or used."""


class _TargetConnection:
    __slots__ = ("sock", "reader", "db", "last_use", "cooperative", "tls")

    def __init__(self, sock, cooperative=True, tls=False):
        self.sock = sock
        self.tls = tls                # over TLS (cached apart from plain connections)
        self.reader = hiredis.Reader()
        self.db = 0                   # a new connection is on db 0
        self.last_use = time.monotonic()
        self.cooperative = cooperative    # a gevent socket (else a blocking one)

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            for start in range(0, len(view), WRITE_CHUNK):
                if start and self.cooperative:
                    # Loopback rarely blocks, so a big transfer would never let the
                    # other clients in: yield between chunks. (After the last one,
                    # waiting for the replies yields anyway.)
                    gevent.sleep(0)
                chunk = view[start:start + WRITE_CHUNK]
                # One send() takes the whole chunk unless the socket buffer is full;
                # sendall() only for a rest (gevent's sendall costs a getsockopt and
                # a clock read per call even when nothing has to wait).
                sent = self.sock.send(chunk)
                if sent < len(chunk):
                    self.sock.sendall(chunk[sent:])
        except OSError as exc:
            raise _TransferError.of(exc, writing=True) from None

    def read_reply(self):
        """One reply; an error reply is a hiredis.ReplyError value, not raised."""
        reply = self.reader.gets()
        while reply is False:
            try:
                data = self.sock.recv(65536)
            except OSError as exc:
                raise _TransferError.of(exc, writing=False) from None
            if not data:
                raise _TransferError(writing=False, timed_out=False)
            self.reader.feed(data)
            reply = self.reader.gets()
        return reply

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


_cache: dict = {}                     # (host, port, tls) -> idle _TargetConnection
_reaper = None


def _checkout(host: bytes, port: bytes, timeout: float, tls=None) -> _TargetConnection:
    conn = _cache.pop((host, port, tls is not None), None)
    if conn is not None:
        conn.sock.settimeout(timeout)
        return conn
    try:
        address = (host.decode(), _atoi(port))
        sock = gsocket.create_connection(address, timeout=timeout)
    except (socket.gaierror, UnicodeError, ValueError, OverflowError):
        raise _ConnectError() from None
    except OSError as exc:
        # Redis connects without blocking and only notices a refused or unreachable
        # target when it writes, hence "writing" (and a retry unless it timed out).
        raise _TransferError.of(exc, writing=True) from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls is not None:
        try:
            sock = tls.connect(sock, timeout)
        except OSError as exc:          # ssl.SSLError included
            raise _TransferError.of(exc, writing=True) from None
    return _TargetConnection(sock, tls=tls is not None)


def _connect_blocking(host: bytes, port: bytes, timeout: float, tls=None) -> _TargetConnection:
    """A plain blocking socket, for a MIGRATE inside EXEC: there it must block the whole
    node, as Redis does, or other clients would run in the middle of the transaction."""
    real_socket = get_original("socket", "socket")
    real_getaddrinfo = get_original("socket", "getaddrinfo")
    try:
        infos = real_getaddrinfo(host.decode(), _atoi(port), 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError, OverflowError):
        raise _ConnectError() from None
    family, kind, proto, _, address = infos[0]
    sock = real_socket(family, kind, proto)
    sock.settimeout(timeout)
    try:
        sock.connect(address)
    except OSError as exc:
        sock.close()
        raise _TransferError.of(exc, writing=True) from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls is not None:
        try:
            sock = tls.blocking_client().wrap_socket(sock)     # stdlib ssl: blocks
        except OSError as exc:
            sock.close()
            raise _TransferError.of(exc, writing=True) from None
    return _TargetConnection(sock, cooperative=False, tls=tls is not None)


def _checkin(host: bytes, port: bytes, conn: _TargetConnection) -> None:
    global _reaper
    if not conn.cooperative:
        conn.close()
        return
    conn.last_use = time.monotonic()
    old = _cache.pop((host, port, conn.tls), None)
    if old is not None:               # another MIGRATE cached one meanwhile: keep one
        old.close()
    if len(_cache) >= CACHE_MAX_ITEMS:
        victim = random.choice(list(_cache))
        _cache.pop(victim).close()
    _cache[(host, port, conn.tls)] = conn
    if _reaper is None:
        _reaper = gevent.spawn(_close_idle_connections)


def _close_idle_connections() -> None:
    """Close cached connections unused for CACHE_TTL (migrateCloseTimedoutSockets);
    runs while the cache holds something."""
    global _reaper
    try:
        while _cache:
            gevent.sleep(1.0)
            now = time.monotonic()
            for key, conn in list(_cache.items()):
                if now - conn.last_use > CACHE_TTL:
                    del _cache[key]
                    conn.close()
    finally:
        _reaper = None


def cached_connection_count() -> int:
    return len(_cache)


info.register_stat("migrate_cached_sockets", cached_connection_count)


def _atoi(raw: bytes) -> int:
    """C atoi, as Redis reads the port: the leading digits, 0 when there are none."""
    text = raw.strip()
    end = 1 if text[:1] in (b"-", b"+") else 0
    while end < len(text) and text[end:end + 1].isdigit():
        end += 1
    try:
        return int(text[:end])
    except ValueError:
        return 0


def _resp(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


_RESTORE_ASKING = b"$14\r\nRESTORE-ASKING\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"


def _restore_request(key: bytes, ttl: int, payload: bytes, replace: bool) -> bytes:
    """_resp(b"RESTORE-ASKING", key, ttl, payload[, b"REPLACE"]) in one formatting, as
    this is built once per migrated key."""
    ttl_text = b"%d" % ttl
    body = _RESTORE_ASKING % (len(key), key, len(ttl_text), ttl_text, len(payload), payload)
    if replace:
        return b"*5\r\n" + body + b"$7\r\nREPLACE\r\n"
    return b"*4\r\n" + body


# ---------------------------------------------------------------- the command

class _KeyGuard:
    """Stands in for a WATCHing client: the keyspace sets dirty_cas when the key changes
    (written, deleted, expired, flushed). It also keeps the key's slot, hashed once for
    every keyspace call of the migration."""
    __slots__ = ("dirty_cas", "slot")

    def __init__(self, slot: int):
        self.dirty_cas = False
        self.slot = slot


class _Options:
    __slots__ = ("copy", "replace", "username", "password", "keys")


def _parse_options(argv) -> _Options:
    """Options in Redis's order; secrets are redacted in argv so MONITOR does not show
    them (the executor feeds MONITOR with argv after the call)."""
    opts = _Options()
    opts.copy = opts.replace = False
    opts.username = opts.password = None
    opts.keys = [argv[3]]
    i = 6
    while i < len(argv):
        option = argv[i].lower()
        more = len(argv) - 1 - i
        if option == b"copy":
            opts.copy = True
        elif option == b"replace":
            opts.replace = True
        elif option == b"auth":
            if not more:
                raise ReplyError(SYNTAX_ERROR)
            i += 1
            opts.password, argv[i] = argv[i], REDACTED
        elif option == b"auth2":
            if more < 2:
                raise ReplyError(SYNTAX_ERROR)
            opts.username, argv[i + 1] = argv[i + 1], REDACTED
            opts.password, argv[i + 2] = argv[i + 2], REDACTED
            i += 2
        elif option == b"keys":
            if argv[3]:
                raise ReplyError(KEYS_NEED_EMPTY_KEY)
            opts.keys = list(dict.fromkeys(argv[i + 1:]))   # all the rest, deduplicated
            break
        else:
            raise ReplyError(SYNTAX_ERROR)
        i += 1
    return opts


@command("migrate", -6, "write", keys=(3, 3, 1), key_finder=migrate_key_indexes,
         categories=("@dangerous",), tips=("nondeterministic_output",), since="2.6.0",
         summary="Atomically transfers a key from one Redis instance to another.",
         complexity="This command actually executes a DUMP+DEL in the source instance, "
                    "and a RESTORE in the target instance. See the pages of these "
                    "commands for time complexity. Also an O(N) data transfer between "
                    "the two instances is performed.")
def migrate(c, argv):
    opts = _parse_options(argv)
    timeout = int_arg(argv[5])
    db = int_arg(argv[4])
    if timeout <= 0:
        timeout = DEFAULT_TIMEOUT_MS
    ks = c.server.keyspace
    # The Router found every key in one slot (keyspace.py: hint_argv), or nothing did.
    routed_slot = ks.hint_argv_slot if argv is ks.hint_argv else -1
    keys = []                         # (key, slot, value) of the keys there are
    for key in opts.keys:
        slot = routed_slot if routed_slot >= 0 else slot_of(key)
        ks.hint_key, ks.hint_slot = key, slot       # lookup_read: not hashed again
        value = ks.lookup_read(key)
        if value is not None:
            keys.append((key, slot, value))
    if not keys:
        # Not an error: the keys often just expired meanwhile.
        return NOKEY
    # Run by EXEC (the client is still "in MULTI" then): yielding would let other
    # clients into the transaction, so this one blocks the node like Redis's MIGRATE.
    atomic = c.multi is not None
    # tls-cluster: the target is a cluster node, reached over TLS (migrateGetSocket).
    tls = c.server.tls if c.server.settings.tls_cluster else None
    return _Migration(ks, argv[1], argv[2], db, timeout / 1000.0, opts, atomic,
                      tls).run(keys)


class _Migration:
    """One MIGRATE call: snapshot the keys, send them, apply the acknowledgements."""

    def __init__(self, ks, host, port, db, timeout, opts, atomic=False, tls=None):
        self.ks = ks
        self.tls = tls                # cluster/tls.TlsContexts with tls-cluster
        self.atomic = atomic          # inside EXEC: blocking socket, no yields
        self.host = host
        self.port = port
        self.db = db
        self.timeout = timeout
        self.opts = opts
        self.guards = {}
        self.error = None             # the first error the target replied
        self.in_flight_changes = []   # acknowledged keys that changed while on the wire
        self.processed = 0            # keys the target answered for in this attempt

    def run(self, keys):
        """keys: (key, slot, value) of each key, as migrate() just looked it up."""
        guards = self.guards
        try:
            for key, slot, _ in keys:
                guards[key] = _KeyGuard(slot)
            self.ks.guard_keys(guards)
            items = self._first_round(keys)
            self._round(items, may_retry=True)
            rounds = 0
            while self.in_flight_changes and rounds < MAX_FOLLOW_UP_ROUNDS:
                changed, self.in_flight_changes = self.in_flight_changes, []
                self._round(self._follow_up(changed), may_retry=False)
                rounds += 1
        except _ConnectError:
            raise ReplyError("IOERR error or timeout connecting to the client") from None
        except _TransferError as exc:
            raise ReplyError("IOERR error or timeout %s to target instance"
                             % ("writing" if exc.writing else "reading")) from None
        finally:
            self.ks.unguard_keys(self.guards)
        if self.error is not None:
            raise ReplyError("ERR Target instance replied with error: %s" % self.error)
        return OK

    # ------------------------------------------------------------ building rounds

    def _snapshot(self, key):
        """(ttl, payload) of the key as it is now, or None if it is gone. The guard is
        reset first, so it reports changes made after this copy was taken."""
        guard = self.guards[key]
        guard.dirty_cas = False
        value = self.ks.get(key, guard.slot)
        if value is None:
            return None
        ttl = 0
        when = self.ks.expires.get(key)
        if when is not None:
            ttl = max(1, when - now_ms())     # 0 would mean "no TTL" to RESTORE
        return ttl, dump_payload(value)

    def _first_round(self, keys):
        """[(key, request bytes, number of replies)] for RESTORE-ASKING of each key of
        `keys` ((key, slot, value) as migrate() looked them up): _snapshot() written out
        in the loop, as it runs for every key of a reshard. Until the loop first yields,
        nothing else has run since that lookup, so the value found then is the key's
        value now (and, as in Redis, a key is serialized as it was looked up); after a
        yield each key is read again."""
        items = []
        replace = self.opts.replace
        get, expires, guards = self.ks.get, self.ks.expires, self.guards
        yielded = False
        for n, (key, slot, value) in enumerate(keys, 1):
            guards[key].dirty_cas = False
            if yielded:
                value = get(key, slot)
            if value is not None:     # expired since the lookup: skipped, as in Redis
                ttl = 0
                when = expires.get(key) if expires else None
                if when is not None:
                    ttl = max(1, when - now_ms())     # 0 would mean "no TTL" to RESTORE
                # A string, the usual key, without dump_payload's type dispatch.
                payload = string_payload(value) if type(value) is bytes \
                    else dump_payload(value)
                items.append((key, _restore_request(key, ttl, payload, replace), 1))
            if n % SNAPSHOT_YIELD_EVERY == 0 and not self.atomic:
                gevent.sleep(0)       # a big batch must not starve the other clients
                yielded = True
        return items

    def _follow_up(self, keys):
        """Bring the target's copy of keys that changed in flight up to date."""
        items = []
        for key in keys:
            snap = self._snapshot(key)
            if snap is None:
                items.append((key, _resp(b"ASKING") + _resp(b"DEL", key), 2))
            else:
                ttl, payload = snap
                items.append((key, _restore_request(key, ttl, payload, True), 1))
        return items

    # ------------------------------------------------------------ one exchange

    def _round(self, items, may_retry: bool) -> None:
        while True:
            if self.atomic:
                conn = _connect_blocking(self.host, self.port, self.timeout, self.tls)
            else:
                conn = _checkout(self.host, self.port, self.timeout, self.tls)
            self.processed = 0
            try:
                self._exchange(conn, items)
            except _TransferError as exc:
                conn.close()
                # Redis retries once, on a fresh socket, when a cached one failed before
                # anything was processed and the failure was not a timeout.
                if may_retry and not self.processed and not exc.timed_out:
                    may_retry = False
                    continue
                raise
            except BaseException:     # e.g. CLIENT KILL ended this greenlet mid-transfer
                conn.close()
                raise
            _checkin(self.host, self.port, conn)
            return

    def _exchange(self, conn, items) -> None:
        opts = self.opts
        head = []
        if opts.password is not None:
            if opts.username is not None:
                head.append(_resp(b"AUTH", opts.username, opts.password))
            else:
                head.append(_resp(b"AUTH", opts.password))
        select = conn.db != self.db
        if select:
            head.append(_resp(b"SELECT", b"%d" % self.db))
        conn.send(b"".join(head + [request for _, request, _ in items]))

        preamble_error = None
        if opts.password is not None:
            reply = conn.read_reply()
            if isinstance(reply, hiredis.ReplyError):
                preamble_error = str(reply)
        if select:
            reply = conn.read_reply()
            if isinstance(reply, hiredis.ReplyError):
                preamble_error = preamble_error or str(reply)
            else:
                conn.db = self.db
        gets = conn.reader.gets
        reply_error = hiredis.ReplyError
        ks, guards, keep = self.ks, self.guards, opts.copy
        for key, _, count in items:
            error = preamble_error
            for _ in range(count):
                reply = gets()        # the replies mostly come in one read
                if reply is False:
                    reply = conn.read_reply()
                if error is None and isinstance(reply, reply_error):
                    error = str(reply)
            self.processed += 1
            # The target answered for `key`: keep its first error, or delete the key
            # here (written out in the loop: this runs for every key of a reshard).
            if error is not None:
                if self.error is None:
                    self.error = error
            elif not keep:
                guard = guards[key]
                if guard.dirty_cas:
                    self.in_flight_changes.append(key)
                elif ks.delete(key, guard.slot) and ks.notify_flags:
                    notify_keyspace_event(ks, "g", b"del", key)
