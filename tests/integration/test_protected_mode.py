"""Redis 7's safe defaults seen from another host: a network namespace joined to this
one by a veth pair (10.x.y.1 here, 10.x.y.2 there), so a client really comes from a
non-loopback address. Our node and redis-server get the same requests from there and
from loopback, and their replies are compared byte for byte: protected mode's -DENIED,
`enable-debug-command local`, `enable-protected-configs local`."""
import os
import random
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import RawClient, start_node, start_redis

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for ip netns")

# Run inside the namespace: send the commands, print every byte until the server closes
# the connection or goes quiet.
_CLIENT = textwrap.dedent("""
    import socket, sys
    sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    for command in sys.argv[3:]:
        words = command.split()
        sock.sendall(b"*%d\\r\\n" % len(words) + b"".join(
            b"$%d\\r\\n%s\\r\\n" % (len(w), w.encode()) for w in words))
    sock.settimeout(1.0)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                data += b"<closed>"
                break
            data += chunk
    except socket.timeout:
        pass
    except ConnectionResetError:
        data += b"<reset>"
    sys.stdout.write(repr(data))
""")


class Namespace:
    def __init__(self):
        tag = "%d%d" % (os.getpid() % 10000, random.randrange(100))
        self.name = "pmns" + tag
        self.host_if, self.ns_if = "pmh" + tag, "pmn" + tag
        subnet = "10.%d.%d" % (random.randrange(200, 250), random.randrange(256))
        self.host_ip, self.ns_ip = subnet + ".1", subnet + ".2"

    def run(self, *args, inside=False):
        prefix = ["ip", "netns", "exec", self.name] if inside else []
        return subprocess.run([*prefix, *args], check=True, capture_output=True,
                              text=True, timeout=20).stdout

    def up(self):
        self.run("ip", "netns", "add", self.name)
        self.run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        self.run("ip", "link", "set", self.ns_if, "netns", self.name)
        self.run("ip", "addr", "add", self.host_ip + "/30", "dev", self.host_if)
        self.run("ip", "link", "set", self.host_if, "up")
        self.run("ip", "addr", "add", self.ns_ip + "/30", "dev", self.ns_if, inside=True)
        self.run("ip", "link", "set", self.ns_if, "up", inside=True)
        self.run("ip", "link", "set", "lo", "up", inside=True)

    def down(self):
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def request(self, port, *commands) -> bytes:
        """What a client at ns_ip gets for `commands` (raw bytes, '<closed>' at EOF)."""
        out = self.run(sys.executable, "-c", _CLIENT, self.host_ip, str(port), *commands,
                       inside=True)
        return eval(out)                # the repr of bytes printed by _CLIENT


@pytest.fixture(scope="module")
def netns():
    ns = Namespace()
    try:
        ns.up()
    except (subprocess.CalledProcessError, OSError) as exc:
        ns.down()
        pytest.skip("ip netns / veth not permitted here: %s" % exc)
    yield ns
    ns.down()


@pytest.fixture
def pair(netns):
    """(our node, redis-server), both listening on loopback and on the veth address."""
    started = []

    def start(*args):
        bind = ("--bind", "127.0.0.1 " + netns.host_ip)
        ours = start_node(*bind, *args)
        started.append(ours)
        theirs = start_redis(*bind, *args)
        started.append(theirs)
        return ours, theirs
    yield start
    for proc in started:
        proc.stop()


DENIED_START = b"-DENIED Redis is running in protected mode because protected mode is enabled"


def test_protected_mode_then_local_only_actions_as_redis(netns, pair):
    ours, theirs = pair("--enable-debug-command", "local",
                        "--enable-protected-configs", "local")
    # Nothing sent: the text comes at once (a request sent too could make the close a
    # reset, on both servers).
    mine = netns.request(ours.port)
    assert mine.startswith(DENIED_START) and mine.endswith(b"\r\n<closed>")
    assert mine == netns.request(theirs.port)
    # Loopback is served; a password given to the default user through ACL lifts
    # protected mode (Redis checks the default user's nopass flag); then protected-mode
    # no opens the door, as in Redis.
    for proc in (ours, theirs):
        client = RawClient(proc.port)
        assert client.call("PING") == ("+", "PONG")
        assert client.call("ACL", "SETUSER", "default", ">pw") == ("+", "OK")
        assert netns.request(proc.port, "PING").startswith(b"-NOAUTH")
        assert client.call("AUTH", "pw") == ("+", "OK")
        assert client.call("ACL", "SETUSER", "default", "nopass") == ("+", "OK")
        assert client.call("CONFIG", "SET", "protected-mode", "no") == ("+", "OK")
        assert netns.request(proc.port, "PING") == b"+PONG\r\n"
        assert client.call("INFO", "stats")[1].count(b"rejected_connections:1") == 1
    # `local`: DEBUG and protected configs from loopback only, with Redis's errors.
    commands = ("DEBUG SLEEP 0", "CONFIG SET dbfilename other.rdb")
    mine = netns.request(ours.port, *commands)
    assert mine.startswith(b"-ERR DEBUG command not allowed. If the enable-debug-command "
                           b"option is set to \"local\", you can run it from a local "
                           b"connection, otherwise you need to set this option in the "
                           b"configuration file, and then restart the server.\r\n")
    assert b"can't set protected config" in mine
    assert mine == netns.request(theirs.port, *commands)
    for proc in (ours, theirs):
        client = RawClient(proc.port)
        assert client.call("DEBUG", "SLEEP", "0") == ("+", "OK")
        assert client.call("CONFIG", "SET", "dbfilename", "other.rdb") == ("+", "OK")


def test_a_password_lifts_protected_mode(netns, pair):
    # enable-debug-command no: Redis 7's default (start_node turns DEBUG on otherwise).
    ours, theirs = pair("--requirepass", "secret", "--enable-debug-command", "no")
    commands = ("PING", "AUTH secret", "PING", "DEBUG SLEEP 0")
    mine = netns.request(ours.port, *commands)
    assert mine.startswith(b"-NOAUTH Authentication required.\r\n+OK\r\n+PONG\r\n"
                           b"-ERR DEBUG command not allowed.")
    assert mine == netns.request(theirs.port, *commands)
