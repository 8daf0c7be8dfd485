"""The client port: gevent StreamServers (one per `bind` address) with one greenlet per
connection."""
import socket

from gevent.pool import Pool
from gevent.server import StreamServer
from loguru import logger

from cluster.listen import listen_to_port, parse_bind
from commands.server.connection import Client
from commands.server.resp import RequestParser

MAX_CLIENTS_REPLY = b"-ERR max number of clients reached\r\n"


class ClientListener:
    def __init__(self, server, bind: str, port: int):
        self.server = server
        self.addresses = parse_bind(bind)
        self.requested_port = port
        # A Pool with no size limit lets stop() kill the handlers still running.
        self.pool = Pool(None)
        self.streams: list[StreamServer] = []

    def listening_fds(self) -> list:
        """The client port's listening sockets (a forked child closes its copies)."""
        return [stream.socket.fileno() for stream in self.streams
                if stream.socket is not None]

    def start(self) -> None:
        """Listen on every `bind` address (cluster/listen.py says which may be skipped);
        OSError if a required one cannot be bound."""
        sockets = listen_to_port(self.addresses, self.requested_port, logger.warning)
        self.streams = [StreamServer(sock, self._handle, spawn=self.pool) for sock in sockets]
        for stream in self.streams:
            stream.start()

    @property
    def port(self) -> int:
        return self.streams[0].server_port if self.streams else self.requested_port

    def stop(self, timeout: float = 1.0) -> None:
        """Stop accepting, close every client, wait up to `timeout` for their greenlets."""
        for stream in self.streams:
            stream.close()
        for client in list(self.server.clients.values()):
            client.kill()
        self.pool.join(timeout=timeout)
        self.pool.kill(block=True, timeout=timeout)

    def _handle(self, sock, address) -> None:
        server = self.server
        settings = server.settings
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if len(server.clients) >= settings.maxclients:
            server.rejected_connections += 1
            try:
                sock.sendall(MAX_CLIENTS_REPLY)
            except OSError:
                pass
            return
        parser = RequestParser(settings.proto_max_bulk_len, settings.client_query_buffer_limit)
        client = Client(server, sock, address, parser)
        server.clients[client.id] = client
        server.total_connections += 1
        logger.debug("accepted client {} (id {})", client.addr_text, client.id)
        client.serve()
