"""Encode + decode 1M mixed small keys with commands/rdb (an RDB in memory and
on disk), and optionally time redis-server SAVE / load of the same file.

    python scripts/bench_rdb.py [N] [--redis]
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from commands.rdb import RdbReader, RdbWriter  # noqa: E402


def make_keys(n, seed=1):
    rnd = random.Random(seed)
    keys = []
    for i in range(n):
        r = i % 10
        key = b"key:%d" % i
        if r < 5:
            keys.append((key, "string", b"value-%d-%s" % (i, b"x" * rnd.randrange(20)), None))
        elif r == 5:
            keys.append((key, "string", b"%d" % rnd.randrange(10 ** 6), None))
        elif r == 6:
            keys.append((key, "list", [b"item%d" % j for j in range(rnd.randrange(1, 10))], "quicklist"))
        elif r == 7:
            keys.append((key, "hash", [(b"f%d" % j, b"v%d" % j) for j in range(rnd.randrange(1, 8))], "listpack"))
        elif r == 8:
            keys.append((key, "set", [b"%d" % j for j in range(rnd.randrange(1, 8))], "intset"))
        else:
            keys.append((key, "zset", [(b"m%d" % j, j * 1.5) for j in range(rnd.randrange(1, 8))], "listpack"))
    return keys


def redis_times(tmp, n):
    """redis-server loading the file we wrote (its log's "DB loaded from disk"), then
    SAVE of the same data (wall time of the command)."""
    port = 17000 + os.getpid() % 1000
    log = os.path.join(tmp, "redis.log")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", tmp, "--dbfilename", "dump.rdb", "--save", "",
                             "--appendonly", "no", "--logfile", log])
    try:
        deadline = time.time() + 300
        loaded = None
        while time.time() < deadline and loaded is None:
            time.sleep(0.05)
            if os.path.exists(log):
                m = re.search(r"DB loaded from disk: ([0-9.]+) seconds", open(log).read())
                loaded = m and float(m.group(1))
        dbsize = subprocess.run(["redis-cli", "-p", str(port), "dbsize"],
                                capture_output=True, text=True).stdout.strip()
        t0 = time.perf_counter()
        subprocess.run(["redis-cli", "-p", str(port), "save"], capture_output=True)
        t1 = time.perf_counter()
        print("redis-server: dbsize %s, load %.2f s, SAVE %.2f s" % (dbsize, loaded or -1, t1 - t0))
    finally:
        proc.kill()
        proc.wait()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1_000_000
    keys = make_keys(n)
    tmp = tempfile.mkdtemp(prefix="bench-rdb-")
    path = os.path.join(tmp, "dump.rdb")
    t0 = time.perf_counter()
    with open(path, "wb") as f:
        w = RdbWriter(f)
        w.write_header(ctime=0)
        w.select_db(0, n, 0)
        write_key = w.write_key
        for key, kind, value, enc in keys:
            write_key(key, kind, value, enc)
        w.finish()
    t1 = time.perf_counter()
    count = 0
    with open(path, "rb") as f:
        for ev in RdbReader(f):
            count += 1
    t2 = time.perf_counter()
    assert count == n + 7, count
    size = os.path.getsize(path)
    print("keys %d, file %.1f MB" % (n, size / 1e6))
    print("encode (write file): %.2f s  (%.2f us/key)" % (t1 - t0, (t1 - t0) / n * 1e6))
    print("decode (read file):  %.2f s  (%.2f us/key)" % (t2 - t1, (t2 - t1) / n * 1e6))
    if "--redis" in sys.argv and shutil.which("redis-server"):
        redis_times(tmp, n)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
