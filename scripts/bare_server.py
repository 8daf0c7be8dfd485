#!/usr/bin/env python3
"""A measuring stick, not a product: the least a Redis server on our stack can do.

    .venv/bin/python scripts/bare_server.py PORT
    .venv/bin/python scripts/bare_server.py PORT --cluster PORT1,PORT2,PORT3

With --cluster, CLUSTER NODES describes the listed servers as masters splitting the
16384 slots evenly (no bus, no routing: redis-benchmark --cluster sends each key to its
owner, and that is all it needs).
gevent's StreamServer, one greenlet per connection, hiredis.Reader, one send per read,
one dict for the keyspace and the same Python containers our node uses for each type
(bytes, collections.deque, set, dict, dict + sortedcontainers.SortedList). It answers
just enough for redis-benchmark's SET, GET, INCR, MSET, LPUSH, LPOP, SADD, HSET, ZADD,
LRANGE_100 and PUBLISH: no checks, no options, no statistics, no cluster, no errors
beyond "unknown command". scripts/bench.py runs it beside our node and redis-server, so
ours / bare is the share of our time spent in our own per-command path rather than in
gevent, hiredis and the containers.
"""
import collections
import sys

import hiredis
from gevent.server import StreamServer
from sortedcontainers import SortedList

db = {}
channels = {}        # PUBLISH counts receivers; nobody subscribes here
cluster_nodes = b""  # --cluster: the CLUSTER NODES text


def bulk(value):
    if value is None:
        return b"$-1\r\n"
    return b"$%d\r\n%s\r\n" % (len(value), value)


def array(items):
    return b"*%d\r\n" % len(items) + b"".join(b"$%d\r\n%s\r\n" % (len(i), i) for i in items)


def cmd_set(argv):
    db[argv[1]] = argv[2]
    return b"+OK\r\n"


def cmd_get(argv):
    return bulk(db.get(argv[1]))


def cmd_incr(argv):
    value = int(db.get(argv[1], b"0")) + 1
    db[argv[1]] = b"%d" % value
    return b":%d\r\n" % value


def cmd_mset(argv):
    for i in range(1, len(argv), 2):
        db[argv[i]] = argv[i + 1]
    return b"+OK\r\n"


def cmd_lpush(argv):
    items = db.get(argv[1])
    if items is None:
        items = db[argv[1]] = collections.deque()
    items.extendleft(argv[2:])
    return b":%d\r\n" % len(items)


def cmd_lpop(argv):
    items = db.get(argv[1])
    if not items:
        return b"$-1\r\n"
    value = items.popleft()
    if not items:
        del db[argv[1]]
    return bulk(value)


def cmd_lrange(argv):
    items = db.get(argv[1], ())
    start, stop = int(argv[2]), int(argv[3])
    n = len(items)
    start = max(start + n if start < 0 else start, 0)
    stop = min(stop + n if stop < 0 else stop, n - 1)
    return array([items[i] for i in range(start, stop + 1)])


def cmd_sadd(argv):
    members = db.get(argv[1])
    if members is None:
        members = db[argv[1]] = set()
    before = len(members)
    members.update(argv[2:])
    return b":%d\r\n" % (len(members) - before)


def cmd_hset(argv):
    fields = db.get(argv[1])
    if fields is None:
        fields = db[argv[1]] = {}
    added = 0
    for i in range(2, len(argv), 2):
        if argv[i] not in fields:
            added += 1
        fields[argv[i]] = argv[i + 1]
    return b":%d\r\n" % added


def cmd_zadd(argv):
    zset = db.get(argv[1])
    if zset is None:
        zset = db[argv[1]] = ({}, SortedList())
    scores, ordered = zset
    added = 0
    for i in range(2, len(argv), 2):
        score, member = float(argv[i]), argv[i + 1]
        old = scores.get(member)
        if old is None:
            added += 1
        elif old == score:
            continue
        else:
            ordered.remove((old, member))
        scores[member] = score
        ordered.add((score, member))
    return b":%d\r\n" % added


def cmd_publish(argv):
    return b":%d\r\n" % len(channels.get(argv[1], ()))


def cmd_ping(argv):
    return b"+PONG\r\n"


def cmd_cluster(argv):
    if not cluster_nodes:
        return b"-ERR This instance has cluster support disabled\r\n"
    return bulk(cluster_nodes)


def describe_cluster(me: int, ports: list) -> bytes:
    lines = []
    for i, port in enumerate(ports):
        first, last = 16384 * i // len(ports), 16384 * (i + 1) // len(ports) - 1
        lines.append("%040x 127.0.0.1:%d@%d %smaster - 0 0 %d connected %d-%d\n"
                     % (i + 1, port, port + 10000, "myself," if port == me else "", i + 1,
                        first, last))
    return "".join(lines).encode()


def cmd_config(argv):
    # redis-benchmark asks CONFIG GET save / appendonly before it starts.
    return b"*0\r\n"


COMMANDS = {}
for _name, _fn in list(globals().items()):
    if _name.startswith("cmd_"):
        COMMANDS[_name[4:].encode()] = _fn
        COMMANDS[_name[4:].upper().encode()] = _fn


def serve(sock, address):
    reader = hiredis.Reader()
    while True:
        data = sock.recv(65536)
        if not data:
            break
        reader.feed(data)
        out = []
        while True:
            argv = reader.gets()
            if argv is False:
                break
            handler = COMMANDS.get(argv[0])
            out.append(handler(argv) if handler else b"-ERR unknown command\r\n")
        sock.sendall(b"".join(out))
    sock.close()


if __name__ == "__main__":
    port = int(sys.argv[1])
    if sys.argv[2:3] == ["--cluster"]:
        cluster_nodes = describe_cluster(port, [int(p) for p in sys.argv[3].split(",")])
    StreamServer(("127.0.0.1", port), serve).serve_forever()
