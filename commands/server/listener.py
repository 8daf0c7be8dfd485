"""The client port: gevent StreamServers (one per `bind` address) with one greenlet per
connection."""
import os
import socket
import time

import gevent.socket

import ssl

from gevent.pool import Pool
from gevent.server import StreamServer
from loguru import logger

from cluster.listen import listen_to_port, parse_bind
from commands.server.connection import Client
from commands.server.settings import PROTECTED_MODE_DENIED, refused_by_protected_mode
from commands.server.resp import RequestParser

MAX_CLIENTS_REPLY = b"-ERR max number of clients reached\r\n"


class ListenFailed(Exception):
    """The client port or unix socket could not be opened: Redis's start-up error line."""


def set_keepalive(sock, interval: int) -> None:
    """tcp-keepalive, as Redis's anetKeepAlive: probes after `interval` idle seconds,
    then every interval/3, and the peer is dead after 3 unanswered ones."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if hasattr(socket, "TCP_KEEPIDLE"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, interval)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, interval // 3))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)


def set_socket_mark(sock, mark: int) -> None:
    """socket-mark-id: SO_MARK on a listening socket (for firewall / routing rules; it
    needs CAP_NET_ADMIN). Like Redis, a failure does not stop the node; it is logged."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_MARK", 36), mark)
    except OSError as exc:
        logger.warning("Failed to set socket-mark-id {}: {}", mark, exc.strerror or exc)


class ClientListener:
    def __init__(self, server, bind: str, port: int, tls_port: int = 0):
        self.server = server
        self.addresses = parse_bind(bind)
        self.requested_port = port
        # tls-port: the same clients over TLS (cluster/tls.py), on every bind address.
        self.requested_tls_port = tls_port
        self.tls_streams: list[StreamServer] = []
        # A Pool with no size limit lets stop() kill the handlers still running.
        self.pool = Pool(None)
        self.streams: list[StreamServer] = []
        self.unix_stream = None         # the `unixsocket` listener, if any

    def listening_fds(self) -> list:
        """The client port's listening sockets (a forked child closes its copies)."""
        streams = self.streams + self.tls_streams + \
            ([self.unix_stream] if self.unix_stream else [])
        return [stream.socket.fileno() for stream in streams if stream.socket is not None]

    def start(self) -> None:
        """Listen on every `bind` address (cluster/listen.py says which may be skipped)
        and on `unixsocket`, as Redis's initServer: port 0 means no TCP port at all (a
        tls-port alone serves TLS clients only). ListenFailed (with Redis's line) if a
        required one cannot be opened, or if nothing at all listens."""
        port = self.requested_port
        try:
            self.streams = self._listen(self.addresses, port) if port else []
        except OSError:
            raise ListenFailed("Failed listening on port %d (TCP), aborting." % port)
        tls_port = self.requested_tls_port
        if tls_port:
            try:
                self.tls_streams = self._listen(self.addresses, tls_port, self._handle_tls)
            except OSError:
                for stream in self.streams:
                    stream.close()
                raise ListenFailed("Failed listening on port %d (TLS), aborting." % tls_port)
        path = self.server.settings.unixsocket
        if path:
            try:
                sock = self._listen_unix(path)
            except OSError as exc:
                self.stop()
                raise ListenFailed("Failed opening Unix socket: bind: %s"
                                   % (exc.strerror or exc))
            self.unix_stream = StreamServer(sock, self._handle_unix, spawn=self.pool)
            self.unix_stream.start()
        if not self.streams and not self.tls_streams and self.unix_stream is None:
            raise ListenFailed("Configured to not listen anywhere, exiting.")

    def _listen_unix(self, path: str):
        """Redis's anetUnixServer: a stale socket file is replaced; unixsocketperm, when
        set, is the file's mode."""
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        sock = gevent.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            sock.listen(self.server.settings.tcp_backlog)
            if self.server.settings.unixsocketperm:
                os.chmod(path, self.server.settings.unixsocketperm)
        except OSError:
            sock.close()
            raise
        return sock

    def _listen(self, addresses: list, port: int, handle=None) -> list:
        sockets = listen_to_port(addresses, port, logger.warning,
                                 backlog=self.server.settings.tcp_backlog)
        mark = self.server.settings.socket_mark_id
        if mark:
            for sock in sockets:
                set_socket_mark(sock, mark)
        streams = [StreamServer(sock, handle or self._handle, spawn=self.pool)
                   for sock in sockets]
        for stream in streams:
            stream.start()
        return streams

    def relisten(self, bind: str, port: int, tls_port: int = None) -> None:
        """CONFIG SET port / tls-port / bind, as Redis's changeListenPort /
        changeBindAddr: close the listening sockets, listen on the new addresses and
        ports; connected clients stay. If a required address cannot be bound, listen as
        before again and raise OSError (Redis restores the old listeners the same way).
        Port 0 closes that port."""
        addresses = bind.split()
        if tls_port is None:
            tls_port = self.requested_tls_port
        old = (self.addresses, self.requested_port, self.requested_tls_port)
        if (addresses, port, tls_port) == old:
            return
        for stream in self.streams + self.tls_streams:
            stream.close()
        self.streams, self.tls_streams = [], []
        try:
            self._listen_both(addresses, port, tls_port)
        except OSError:
            for stream in self.streams + self.tls_streams:
                stream.close()
            self._listen_both(*old)
            raise
        self.addresses, self.requested_port, self.requested_tls_port = \
            addresses, port, tls_port
        logger.info("Listening for clients on {}:{}{}", " ".join(addresses), port,
                    " (TLS: %d)" % tls_port if tls_port else "")

    def _listen_both(self, addresses: list, port: int, tls_port: int) -> None:
        if port:
            self.streams = self._listen(addresses, port)
        if tls_port:
            self.tls_streams = self._listen(addresses, tls_port, self._handle_tls)

    @property
    def port(self) -> int:
        return self.streams[0].server_port if self.streams else self.requested_port

    def stop(self, timeout: float = 1.0) -> None:
        """Stop accepting, close every client, wait up to `timeout` for their greenlets."""
        for stream in self.streams + self.tls_streams:
            stream.close()
        if self.unix_stream is not None:
            self.unix_stream.close()
            self.unix_stream = None
            logger.info("Removing the unix socket file.")     # as Redis at shutdown
            try:
                os.unlink(self.server.settings.unixsocket)
            except OSError as exc:
                logger.warning("Error removing the unix socket file: {}",
                               exc.strerror or exc)
        for client in list(self.server.clients.values()):
            client.kill()
        self.pool.join(timeout=timeout)
        self.pool.kill(block=True, timeout=timeout)

    def _handle_unix(self, sock, address) -> None:
        # Redis shows a unix socket peer as the socket's path, port 0 (flag U).
        self._handle(sock, (self.server.settings.unixsocket, 0), unix=True)

    @property
    def tls_port(self) -> int:
        return self.tls_streams[0].server_port if self.tls_streams else \
            self.requested_tls_port

    def _handle_tls(self, sock, address) -> None:
        """A connection to tls-port: the handshake first (in this connection's own
        greenlet), then the same client as on the plain port."""
        tls = self.server.tls
        if tls is None:
            sock.close()
            return
        try:
            sock = tls.accept(sock, self.server.settings.tls_auth_clients)
        except (OSError, ssl.SSLError, ValueError) as exc:
            # Redis logs a failed accept at verbose level too.
            logger.log("VERBOSE", "Error accepting a client connection: {}", exc)
            return
        self._handle(sock, address, tls=True)

    def _handle(self, sock, address, unix: bool = False, tls: bool = False) -> None:
        server = self.server
        settings = server.settings
        if not unix:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if settings.tcp_keepalive:
                    set_keepalive(sock, settings.tcp_keepalive)
            except OSError:
                pass
        if len(server.clients) >= settings.maxclients:
            server.rejected_connections += 1
            try:
                sock.sendall(MAX_CLIENTS_REPLY)
            except OSError:
                pass
            sock.close()
            return
        if settings.protected_mode and refused_by_protected_mode(server, address[0], unix):
            server.rejected_connections += 1
            try:
                sock.sendall(PROTECTED_MODE_DENIED)
            except OSError:
                pass
            sock.close()
            return
        parser = RequestParser(settings.proto_max_bulk_len, settings.client_query_buffer_limit)
        client = Client(server, sock, address, parser)
        client.unix_socket = unix
        client.tls = tls
        server.clients[client.id] = client
        server.total_connections += 1
        if unix:
            logger.log("VERBOSE", "Accepted connection to {}", address[0])
        else:
            logger.log("VERBOSE", "Accepted {}", client.addr_text)
        client.serve()


def close_idle_clients(server, timeout: int) -> None:
    """`timeout`: close clients idle longer, except replicas, our master's link, blocked
    clients (their own timeout applies), Pub/Sub subscribers and monitors, as Redis's
    clientsCronHandleTimeout."""
    limit = time.monotonic() - timeout
    for client in list(server.clients.values()):
        if client.last_interaction < limit and client.replica is None \
                and not client.is_master_link and not client.pubsub_mode \
                and not client.monitor and getattr(client, "blocked_waiter", None) is None:
            logger.log("VERBOSE", "Closing idle client")
            client.kill()
