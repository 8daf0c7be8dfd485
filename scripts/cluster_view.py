#!/usr/bin/env python3
"""A live view of a Redis Cluster in the browser, or the replay of a simulator run.

    python scripts/cluster_view.py --node 127.0.0.1:7001 [--port 8080]
    python scripts/simulate.py --nodes 200 --replicas 1 --kill-masters 1 --record run.jsonl.gz
    python scripts/cluster_view.py --replay run.jsonl.gz [--port 8080]

then open http://127.0.0.1:8080/. Live: every node reachable from --node (node.py or
redis-server alike) is polled every --interval seconds for CLUSTER NODES, CLUSTER INFO,
CLUSTER LINKS and INFO replication; the page shows the slot owners, every node, and a
timeline of what changed. Replay: the same page plays the recording (play/pause, speed,
seek). See clusterview/__init__.py for how it is built.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gevent  # noqa: E402

from clusterview.live import LiveCluster  # noqa: E402
from clusterview.replay import Replay  # noqa: E402
from clusterview.server import serve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--node", metavar="HOST:PORT", help="a node of the live cluster")
    source.add_argument("--replay", metavar="FILE", help="a recording of scripts/simulate.py --record")
    parser.add_argument("--port", type=int, default=8080, help="the web page's port")
    parser.add_argument("--bind", default="127.0.0.1", help="the web page's address")
    parser.add_argument("--interval", type=float, default=0.25, help="live: seconds between polls")
    args = parser.parse_args()
    if args.node:
        if ":" not in args.node:
            parser.error("--node wants HOST:PORT")
        cluster = LiveCluster(args.node, interval=args.interval)
        cluster.start()
    else:
        cluster = Replay(args.replay)
    server = serve(cluster, args.bind, args.port)
    print(f"cluster view on http://{args.bind}:{server.server_port}/", flush=True)
    try:
        gevent.wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
