"""One bus frame must not break failover (issue 10, item 4).

A frame announcing currentEpoch 2^64-1 in a real node's name: every node adopted it, the
next election made the replica's epoch 2^64, which the encoder cannot write (thousands of
OverflowError tracebacks, links dropped, never promoted). Now the frame is refused at
decode time (cluster/epochs.py has the rule) and the failover happens as usual.
"""
import dataclasses
import signal
import socket
import time

import pytest

from cluster import messages as m
from tests.helpers import wait_until
from tests.integration.cluster_helpers import my_id
from tests.integration.replica_helpers import cluster_info, promoted, topology
from tests.integration.test_failover import NODE_TIMEOUT, build, slots_of

pytestmark = pytest.mark.timeout(120)


def real_header(port) -> m.Header:
    """The header node `port` sends on its bus: what it answers to a stranger's PING."""
    stranger = m.Header(sender="ab" * 20, current_epoch=0, config_epoch=0, repl_offset=0,
                        flags=1, master_id=None, ip="127.0.0.1", port=1, cport=2,
                        cluster_ok=True, mflags=0, shard_id="cd" * 20, slots=[])
    with socket.create_connection(("127.0.0.1", port + 10000), timeout=5) as sock:
        sock.sendall(m.encode(m.Ping(stranger, [])))
        reader, replies = m.FrameReader(), []
        wait_until(lambda: replies.extend(reader.feed(sock.recv(65536))) or replies,
                   timeout=5, message="a PONG from %d" % port)
    return replies[0].header


def send_frame(port, frame: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port + 10000), timeout=5) as sock:
        sock.sendall(frame)
        time.sleep(0.2)          # let the node read it before the link closes


def test_a_frame_announcing_epoch_2_64_minus_1_does_not_break_failover():
    cl, layout = build()
    try:
        victim, (replica,) = sorted(layout.items())[0]
        survivors = [p for p in cl.ports if p != victim]
        victim_slots = slots_of(cl.ports[0], victim)
        header = real_header(victim)
        assert header.sender == my_id(victim)
        hostile = m.encode(m.Ping(dataclasses.replace(header, current_epoch=2 ** 64 - 1), []))
        for port in survivors:
            send_frame(port, hostile)

        cl.by_port(victim).signal(signal.SIGKILL)
        cl.by_port(victim).proc.wait(5)
        wait_until(lambda: promoted(survivors, replica, victim_slots),
                   timeout=4 * NODE_TIMEOUT / 1000 + 5, interval=0.05,
                   message="replica %d promoted" % replica)
        for port in survivors:
            assert int(cluster_info(port)["cluster_current_epoch"]) < 2 ** 63
            assert topology(port)  # still answers
        for proc in cl.procs:
            if proc.port != victim:
                assert "Traceback" not in proc.output() and "OverflowError" not in proc.output()
    finally:
        cl.stop()
