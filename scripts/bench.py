#!/usr/bin/env python3
"""Single-node benchmark: our node.py beside a bare gevent server and redis-server, one run.

    .venv/bin/python scripts/bench.py            # full run (-n 200000), then 1M keys' memory
    .venv/bin/python scripts/bench.py --quick    # -n 20000, 100k keys for memory
    .venv/bin/python scripts/bench.py --rounds 3 # medians of 3 rounds (a noisy machine)
    .venv/bin/python scripts/bench.py --tests set,get --no-memory
    .venv/bin/python scripts/bench.py --memory-only   # only the 1M keys' memory
    .venv/bin/python scripts/bench.py --types    # geoadd,geosearch, setbit,getbit,
                                                 # bitcount, pfadd,pfcount (ours vs redis)
    .venv/bin/python scripts/bench.py --acl      # SET/GET as a non-default ACL user with
                                                 # a key pattern, on both servers

Runs redis-benchmark -c 50 at -P 1 and -P 16, one test at a time, against three servers
in turn: ours, scripts/bare_server.py (gevent, hiredis and one dict: the least a server on
our stack can do; a measuring stick) and redis-server. For each test it prints ops/s,
ours / bare and ours / redis, and the server processes' CPU time per request (utime +
stime from /proc, which a busy machine disturbs far less than ops/s). Then it loads N
keys with 10-byte values into ours and redis-server and compares our process's RSS with
redis's used_memory_rss.
"""
import argparse
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.helpers import (PYTHON, Process, RawClient, free_port, start_node,  # noqa: E402
                           start_redis)

# redis-benchmark -t names, then PUBLISH (a command given in full).
TESTS = "set,get,incr,mset,lpush,lpop,sadd,hset,zadd,lrange_100"
PUBLISH = ["PUBLISH", "channel:__rand_int__", "message"]
# --acl: redis-benchmark's SET/GET keys are key:__rand_int__.
ACL_USER = ("bench", "benchpw", "~key:*", "+@all")

# --types also runs these commands (redis-benchmark takes a command after its options).
# GEOSEARCH looks around Sicily in GEO_POINTS points spread over the globe (~15 found).
# __rand_int__ is zero-padded, so it names keys and elements, never a bit offset; the one
# HLL turns dense after ~2000 elements.
GEO_POINTS = 10000
CUSTOM_TESTS = [
    ("geoadd", ["GEOADD", "geo:add", "13.361389", "38.115556", "m:__rand_int__"]),
    ("geosearch", ["GEOSEARCH", "geo:pts", "FROMLONLAT", "13.36", "38.11", "BYRADIUS", "500",
                   "km", "WITHDIST", "ASC"]),
    ("setbit", ["SETBIT", "bits:__rand_int__", "1000", "1"]),
    ("getbit", ["GETBIT", "bits:__rand_int__", "1000"]),
    ("bitcount", ["BITCOUNT", "bits:__rand_int__"]),
    ("pfadd", ["PFADD", "hll", "element:__rand_int__"]),
    ("pfcount", ["PFCOUNT", "hll"]),
]


def run_benchmark(port, pipeline, requests, clients=50, tests=TESTS, extra=()):
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", tests, "-c", str(clients),
         "-n", str(requests), "-P", str(pipeline), "-q", *extra],
        capture_output=True, text=True, timeout=600).stdout
    results = {}
    for line in out.replace("\r", "\n").splitlines():
        m = re.match(r"^(\S+)(?: \(.*\))?: ([\d.]+) requests per second", line.strip())
        if m:
            results[m.group(1).split()[0].lower()] = float(m.group(2))
    return results


def run_custom(port, pipeline, requests, command, clients=50):
    """ops/s of one command given in full (__rand_int__ drawn from 100000 values)."""
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-c", str(clients), "-n", str(requests),
         "-P", str(pipeline), "-r", "100000", "-q", *command],
        capture_output=True, text=True, timeout=600).stdout
    rates = re.findall(r"([\d.]+) requests per second", out.replace("\r", "\n"))
    return float(rates[-1]) if rates else 0.0


def load_geo_points(port, count=GEO_POINTS):
    """The same pseudo-random points (uniform on the sphere) into geo:pts of a server."""
    rng = random.Random(1)
    args = ["GEOADD", "geo:pts"]
    for i in range(count):
        lat = math.degrees(math.asin(rng.uniform(-1, 1)))
        args += [repr(rng.uniform(-180, 180)), repr(max(-85.05, min(85.05, lat))), "p%d" % i]
    c = RawClient(port)
    assert c.call(*args) == (":", count)
    c.close()


def rss_bytes(pid) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def info_field(port, field) -> int:
    c = RawClient(port)
    text = c.call("INFO", "memory")[1].decode()
    c.close()
    return int(re.search(r"^%s:(\d+)" % field, text, re.M).group(1))


def load_keys(port, count, batch=10000):
    c = RawClient(port)
    value = b"v" * 10
    for start in range(0, count, batch):
        cmds = [("SET", b"key:%08d" % i, value) for i in range(start, min(count, start + batch))]
        replies = c.pipeline(cmds)
        assert all(r == ("+", "OK") for r in replies), replies[:3]
    c.close()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(server, pipeline, requests, test, extra=()):
    """(ops/s, server CPU µs per request) of one test against one server."""
    before = cpu_seconds(server.pid)
    if test == "publish":
        rate = run_custom(server.port, pipeline, requests, PUBLISH)
    else:
        rate = run_benchmark(server.port, pipeline, requests, tests=test,
                             extra=extra).get(test, 0.0)
    used = cpu_seconds(server.pid) - before
    if test == "lrange_100":
        used /= 2          # redis-benchmark first LPUSHes as many elements as it reads
    return rate, 1e6 * used / requests


def compare(servers, tests, requests, rounds, extra=()):
    """The table: each test at -P1 and -P16 against each server in turn, medians of
    `rounds` rounds."""
    names = list(servers)
    print("redis-benchmark -c 50 -n %d, median of %d round(s); CPU = server µs per request"
          % (requests, rounds))
    header = "%-10s %-3s" % ("test", "-P") + "".join(" %10s" % n for n in names)
    if "bare" in servers:
        header += " %10s" % "ours/bare"
    header += " %11s" % "ours/redis" + "".join(" %9s" % ("CPU " + n) for n in names)
    print(header)
    for pipeline in (1, 16):
        for test in tests:
            rates = {n: [] for n in names}
            cpus = {n: [] for n in names}
            for _ in range(rounds):
                for name in names:
                    rate, cpu = measure(servers[name], pipeline, requests, test, extra)
                    rates[name].append(rate)
                    cpus[name].append(cpu)
            rate = {n: statistics.median(rates[n]) for n in names}
            cpu = {n: statistics.median(cpus[n]) for n in names}
            line = "%-10s %-3d" % (test, pipeline) + "".join(" %10.0f" % rate[n] for n in names)
            if "bare" in servers:
                line += " %9.2fx" % (rate["ours"] / rate["bare"] if rate["bare"] else 0)
            line += " %10.2fx" % (rate["ours"] / rate["redis"] if rate["redis"] else 0)
            line += "".join(" %9.2f" % cpu[n] for n in names)
            print(line, flush=True)


def start_bare():
    port = free_port()
    cwd = tempfile.mkdtemp(prefix="bare-%d-" % port)
    return Process([PYTHON, os.path.join(ROOT, "scripts", "bare_server.py"), str(port)],
                   port, cwd, os.path.join(cwd, "bare.log")).wait_ready()


def compare_memory(ours, ref, keys):
    for server in (ours, ref):
        RawClient(server.port).call("FLUSHALL")
    time.sleep(0.2)
    base_ours = rss_bytes(ours.pid)
    base_ref = info_field(ref.port, "used_memory_rss")
    t0 = time.monotonic()
    load_keys(ours.port, keys)
    t_ours = time.monotonic() - t0
    t0 = time.monotonic()
    load_keys(ref.port, keys)
    t_ref = time.monotonic() - t0
    ours_rss = rss_bytes(ours.pid)
    redis_rss = info_field(ref.port, "used_memory_rss")
    print()
    print("memory after %d keys with 10-byte values:" % keys)
    print("  ours  RSS %7.1f MB (%.1f MB before loading, %.1f bytes a key; load took %.1fs)"
          % (ours_rss / 1e6, base_ours / 1e6, (ours_rss - base_ours) / keys, t_ours))
    print("  redis used_memory_rss %7.1f MB (%.1f MB before loading, %.1f bytes a key; "
          "load took %.1fs)" % (redis_rss / 1e6, base_ref / 1e6, (redis_rss - base_ref) / keys,
                                t_ref))
    print("  ratio ours / redis: %.2fx" % (ours_rss / redis_rss))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="smaller run")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=1, help="median of this many rounds")
    parser.add_argument("--tests", default=TESTS + ",publish",
                        help="comma list (default: %(default)s)")
    parser.add_argument("--keys", type=int, default=None, help="keys for the memory test")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory test")
    parser.add_argument("--memory-only", action="store_true",
                        help="only the memory test (no redis-benchmark runs before it)")
    parser.add_argument("--types", action="store_true",
                        help="the geo, bitmap and HyperLogLog commands instead, ours vs "
                             "redis, no memory test")
    parser.add_argument("--acl", action="store_true",
                        help="set,get as the ACL user %r (%s) on ours and redis, no memory "
                             "test" % (ACL_USER[0], " ".join(ACL_USER[2:])))
    args = parser.parse_args()
    requests = args.requests or (20000 if args.quick else 200000)
    keys = args.keys or (100000 if args.quick else 1000000)

    ours = start_node("--loglevel", "warning")
    ref = start_redis()
    bare = None
    try:
        if args.types:
            for server in (ours, ref):
                load_geo_points(server.port)
            print("%-10s %-4s %12s %12s %7s" % ("test", "-P", "ours ops/s", "redis ops/s",
                                                "ratio"))
            for pipeline in (1, 16):
                for name, command in CUSTOM_TESTS:
                    a = run_custom(ours.port, pipeline, requests, command)
                    b = run_custom(ref.port, pipeline, requests, command)
                    print("%-10s %-4d %12.0f %12.0f %6.2fx" % (name, pipeline, a, b,
                                                               a / b if b else 0))
            return
        if args.acl:
            name, password, rules = ACL_USER[0], ACL_USER[1], ACL_USER[2:]
            for server in (ours, ref):
                client = RawClient(server.port)
                assert client.call("ACL", "SETUSER", name, "on", ">" + password,
                                   *rules) == ("+", "OK")
                client.close()
            print("as ACL user %s: %s" % (name, " ".join(rules)))
            compare({"ours": ours, "redis": ref}, ["set", "get"], requests, args.rounds,
                    extra=("--user", name, "-a", password))
            return
        if not args.memory_only:
            bare = start_bare()
            compare({"ours": ours, "bare": bare, "redis": ref}, args.tests.split(","),
                    requests, args.rounds)
        if not args.no_memory:
            compare_memory(ours, ref, keys)
    finally:
        for server in (ours, ref, bare):
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
