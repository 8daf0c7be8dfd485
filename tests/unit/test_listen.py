"""cluster/listen.py: the `bind` rules of Redis's listenToPort, on real loopback sockets."""
import errno
import socket

import pytest

from cluster.listen import listen_to_port


def test_wildcards_are_every_address():
    logged = []
    sockets = listen_to_port(["*", "-::*"], 0, logged.append)
    try:
        assert sockets[0].family == socket.AF_INET and sockets[0].getsockname()[0] == "0.0.0.0"
        if len(sockets) == 2:                   # a host with IPv6
            assert sockets[1].family == socket.AF_INET6
            assert sockets[1].getsockname()[0] == "::"
    finally:
        for sock in sockets:
            sock.close()


def test_optional_missing_address_is_skipped_and_a_mandatory_one_fails():
    logged = []
    sockets = listen_to_port(["127.0.0.1", "-192.0.2.1"], 0, logged.append)
    try:
        assert len(sockets) == 1
        assert logged[0].startswith("Warning: Could not create server TCP listening socket "
                                    "192.0.2.1:0: ")
    finally:
        for sock in sockets:
            sock.close()
    with pytest.raises(OSError) as failure:
        listen_to_port(["127.0.0.1", "192.0.2.1"], 0, logged.append)
    assert failure.value.errno == errno.EADDRNOTAVAIL
