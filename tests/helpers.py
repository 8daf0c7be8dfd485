"""Test helpers: free ports, real node.py / redis-server processes, a raw RESP client.

Processes are started on loopback, tracked by pid and killed in teardown. Every wait
polls with a deadline.
"""
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable

# A log line as redis-server writes it: pid:role date time.ms level-char message.
REDIS_LOG_LINE = re.compile(r"^(\d+):([MSCX]) (\d\d [A-Z][a-z]{2} \d{4} "
                            r"\d\d:\d\d:\d\d\.\d{3}) ([.\-*#]) (.+)$")


def _port_range():
    """Ports to pick from: below the kernel's ephemeral range, bus port included.

    A port the kernel hands out (bind to port 0) is an ephemeral port, and so is its
    port+10000: between our check and the server's bind, an outgoing connection of any
    process could take the bus port ("Address already in use"). Ports under the range
    are only ever taken by a listener that asks for them."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral_low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    high = min(ephemeral_low, 65536) - 10000
    return (10000, high) if high > 12000 else (1024, 55535)


_PORT_RANDOM = random.Random()


def _bindable(port) -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False


def free_port(used=None) -> int:
    """A free loopback port whose port+10000 (the cluster bus) is free too; with a set
    `used`, also one not in it, and it is added (for many nodes started together)."""
    low, high = _port_range()
    for _ in range(2000):
        port = _PORT_RANDOM.randrange(low, high)
        if used is not None and port in used:
            continue
        if not (_bindable(port) and _bindable(port + 10000)):
            continue
        if used is not None:
            used.add(port)
        return port
    raise RuntimeError("no free port pair found")


def wait_until(predicate, timeout=10.0, interval=0.02, message="condition"):
    """Poll `predicate` until it returns a truthy value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_exc = exc
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last error: %r)"
                         % (timeout, message, last_exc))


def next_pubsub_message(pubsub, timeout=5.0):
    """The next non-subscription message of a redis-py PubSub, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if msg is not None:
            return msg
    raise AssertionError("no message within %.1fs" % timeout)


def port_open(port, host="127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class Process:
    """A server process on loopback, killed by pid on stop()."""

    def __init__(self, args, port, cwd, log_path):
        self.port = port
        self.cwd = cwd
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(args, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.pid = self.proc.pid

    def wait_ready(self, timeout=10.0):
        """Until the port accepts and PING is not refused with -LOADING (a server that
        loads its dataset already listens)."""
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("process exited with %s:\n%s"
                                     % (self.proc.returncode, self.output()))
            if not port_open(self.port):
                return False
            client = RawClient(self.port, timeout=5)
            try:
                reply = client.call("PING")
            finally:
                client.close()
            return not (reply[0] == "-" and reply[1].startswith("LOADING"))
        wait_until(ready, timeout, message="port %d to accept and load" % self.port)
        return self

    def output(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def signal(self, sig):
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout=5.0):
        if self.proc.poll() is None:
            self.signal(signal.SIGKILL)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.log.close()


QUICK_SYNC = ("--repl-diskless-sync-delay", "0")


def start_node(*extra, port=None, cwd=None, wait=True, timeout=10.0, slots=True, root=ROOT):
    """Start `python node.py -p PORT` in its own temporary folder (node.py of the checkout
    at `root`: scripts/bench_vs_rev.py runs an older revision's beside this one).

    With slots=True (the default) the node claims all 16384 slots, a one-node cluster, and
    this waits for cluster_state:ok, so keyed commands are served at once; tests of
    cluster formation pass slots=False.

    DEBUG is turned on (`--enable-debug-command yes`; Redis 7's default, and ours, is
    no): many tests use DEBUG SLEEP / RELOAD / SET-ACTIVE-EXPIRE. A test of the default
    passes `--enable-debug-command no` (later flags win)."""
    port = port or free_port()
    cwd = cwd or tempfile.mkdtemp(prefix="node-%d-" % port)
    # A config file, like redis-server's, must come first; flags after it win over it.
    conf = [extra[0]] if extra and not extra[0].startswith("-") else []
    # Redis's 5 s repl-diskless-sync-delay would make every full sync in the tests wait;
    # a test that wants it passes its own value (later flags win).
    args = [PYTHON, os.path.join(root, "node.py"), *conf, "-p", str(port), "--dir", cwd,
            *QUICK_SYNC, "--enable-debug-command", "yes", *extra[len(conf):]]
    proc = Process(args, port, cwd, os.path.join(cwd, "node.log"))
    if not wait:
        return proc
    try:
        proc.wait_ready(timeout)
    except BaseException:
        proc.stop()             # the caller never got it: it would outlive the test
        raise
    if slots:
        password = None
        if "--requirepass" in extra:
            password = extra[list(extra).index("--requirepass") + 1]
        own_all_slots(port, password)
    return proc


def own_all_slots(port, password=None, timeout=10.0):
    """CLUSTER ADDSLOTSRANGE 0 16383 and wait until the node reports cluster_state:ok."""
    client = RawClient(port)
    try:
        if password:
            client.call("AUTH", password)
        reply = client.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        if reply != ("+", "OK") and "busy" not in str(reply[1]):
            raise AssertionError("ADDSLOTSRANGE on %d failed: %r" % (port, reply))
        wait_until(lambda: b"cluster_state:ok" in client.call("CLUSTER", "INFO")[1],
                   timeout=timeout, interval=0.05, message="cluster_state:ok on %d" % port)
    finally:
        client.close()


def start_redis(*extra, port=None, cluster=False):
    """Start a real redis-server (Redis's default save points, no AOF) on a free loopback
    port, in a temporary folder."""
    port = port or free_port()
    cwd = tempfile.mkdtemp(prefix="redis-%d-" % port)
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
            "--appendonly", "no", "--dir", cwd, "--enable-debug-command", "yes"]
    if cluster:
        args += ["--cluster-enabled", "yes", "--cluster-config-file",
                 os.path.join(cwd, "nodes.conf")]
    args += list(extra)
    proc = Process(args, port, cwd, os.path.join(cwd, "redis.log"))
    try:
        return proc.wait_ready()
    except BaseException:
        proc.stop()
        raise


# ---------------------------------------------------------------- a raw RESP client

class RespError(Exception):
    pass


class RawClient:
    """Sends commands and returns replies as typed trees, so tests compare exact types.

    A reply is (type char, value): ('+', 'OK'), ('-', 'ERR ...'), (':', 5),
    ('$', b'bytes' or None), ('*', [..] or None), ('%', [(k, v), ...]), ('~', [..]),
    (',', '1.5'), ('#', True), ('_', None), ('=', b'txt:...'), ('>', [...]).
    """

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        self.sock.close()

    @staticmethod
    def encode(args) -> bytes:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, (int, float)):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def call(self, *args):
        self.sock.sendall(self.encode(args))
        return self.read_reply()

    def pipeline(self, commands):
        self.sock.sendall(b"".join(self.encode(c) for c in commands))
        return [self.read_reply() for _ in commands]

    def _line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            self._fill()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by server")
        self.buf += data

    def _exact(self, n) -> bytes:
        while len(self.buf) < n + 2:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n + 2]
        return data

    def read_reply(self):
        line = self._line()
        kind, rest = chr(line[0]), line[1:]
        if kind in "+-":
            return (kind, rest.decode(errors="replace"))
        if kind == ":":
            return (kind, int(rest))
        if kind in ",(":
            return (kind, rest.decode())
        if kind == "#":
            return (kind, rest == b"t")
        if kind == "_":
            return (kind, None)
        if kind in "$=!":
            n = int(rest)
            return (kind, None if n < 0 else self._exact(n))
        if kind in "*~>":
            n = int(rest)
            return (kind, None if n < 0 else [self.read_reply() for _ in range(n)])
        if kind == "%" or kind == "|":
            n = int(rest)
            return (kind, [(self.read_reply(), self.read_reply()) for _ in range(n)])
        raise RespError("bad reply line %r" % line)
