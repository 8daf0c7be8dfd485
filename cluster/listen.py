"""Listening sockets for the `bind` addresses, as Redis's listenToPort does it.

Both the client port (commands/server/listener.py) and the bus port (cluster/bus.py)
listen on every address `bind` names (`bind 127.0.0.1 ::1`, as redis.conf writes it).
Redis's rules for an address that cannot be bound:

- the address family or protocol is not supported here (no IPv6 on this host):
  logged and skipped;
- an address prefixed with '-' is optional: if it does not exist on this host
  (EADDRNOTAVAIL) it is logged and skipped;
- `*` and `::*` are every IPv4 and every IPv6 address (`bind * -::*`);
- anything else (the port is taken, a mandatory address is missing) fails start-up,
  after closing what was already bound.

Failing with no socket at all is failure too: a node that listens nowhere is useless.
"""

from __future__ import annotations

import errno
import socket
from typing import Callable

import gevent.socket

# Errors that mean "this kind of socket does not exist here", skipped whatever the prefix.
_UNSUPPORTED = {errno.ENOPROTOOPT, errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT,
                errno.EPFNOSUPPORT, errno.EAFNOSUPPORT}
BINDADDR_MAX = 16  # CONFIG_BINDADDR_MAX


def parse_bind(text: str) -> list[str]:
    """`bind` -> its addresses (space separated, at most 16, as Redis allows)."""
    addresses = text.split()
    if not addresses:
        raise ValueError("at least one address is needed")
    if len(addresses) > BINDADDR_MAX:
        raise ValueError("Too many bind addresses specified.")
    return addresses


def listen_to_port(addresses: list[str], port: int,
                   log: Callable[[str], None], backlog: int = 511) -> list[socket.socket]:
    """One listening socket per usable address (see the module docstring); OSError when
    a mandatory address cannot be bound or none could."""
    sockets: list[socket.socket] = []
    try:
        for entry in addresses:
            optional = entry.startswith("-")
            addr = entry[1:] if optional else entry
            try:
                sockets.append(_listen(addr, port, backlog))
            except OSError as exc:
                log(f"Warning: Could not create server TCP listening socket {addr}:{port}: "
                    f"{exc.strerror or exc}")
                if exc.errno in _UNSUPPORTED or (optional and exc.errno == errno.EADDRNOTAVAIL):
                    continue
                raise
        if not sockets:
            raise OSError(errno.EADDRNOTAVAIL, "no bind address could be used")
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _listen(addr: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    # redis.conf's wildcards (`bind * -::*`): every IPv4 / every IPv6 address.
    addr = {"*": "0.0.0.0", "::*": "::"}.get(addr, addr)
    sock = gevent.socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            # As Redis (anetV6Only): '::' must not also take the IPv4 port `0.0.0.0` wants.
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((addr, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock
