"""TLS for the client port, the replica link and the cluster bus (Redis's tls.c).

Built on Python's ssl through gevent's cooperative SSLSocket, with the `tls-*` settings
read as Redis reads them:

- one configuration, from `tls-cert-file`/`tls-key-file` (+ `-pass`), `tls-ca-cert-file`
  / `-dir`, `tls-protocols` (default TLSv1.2 and TLSv1.3), `tls-ciphers`,
  `tls-ciphersuites`, `tls-prefer-server-ciphers`, `tls-dh-params-file` and the
  `tls-session-*` cache settings, is made into contexts all at once: if any part
  fails, the old contexts stay (Redis's tlsConfigure is atomic the same way);
- accepted connections verify the client's certificate as `tls-auth-clients` says
  (yes: required, optional: checked if sent, no: not asked). Python sets verification
  per context, not per connection as Redis does, so there is one server context per
  mode, made when first needed;
- outgoing connections (replica link, bus links, MIGRATE) verify the peer against the
  CA without a host name check, as Redis, and present `tls-client-cert-file`/
  `-key-file` when both are set, else the server certificate.

Sockets are TlsSocket (below): gevent's SSLSocket with the two things a server loop
needs, a write that never waits and a shutdown that lets the reading greenlet see EOF.
"""
from __future__ import annotations

import ssl
from dataclasses import dataclass

import gevent
import gevent.socket
import gevent.ssl

from cluster.tls_native import NativeTlsError, set_ciphersuites, set_session_cache

HANDSHAKE_TIMEOUT = 10.0     # seconds a peer may take to finish its TLS handshake

PROTOCOLS = {"tlsv1": ssl.TLSVersion.TLSv1, "tlsv1.1": ssl.TLSVersion.TLSv1_1,
             "tlsv1.2": ssl.TLSVersion.TLSv1_2, "tlsv1.3": ssl.TLSVersion.TLSv1_3}
DEFAULT_PROTOCOLS = "TLSv1.2 TLSv1.3"
AUTH_MODES = {"yes": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "no": ssl.CERT_NONE}

# The settings a TLS context is made from (CONFIG SET of one remakes the contexts).
CONTEXT_SETTINGS = (
    "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file",
    "tls-client-key-file", "tls-client-key-file-pass", "tls-dh-params-file",
    "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols", "tls-ciphers",
    "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching",
    "tls-session-cache-size", "tls-session-cache-timeout", "tls-cluster",
    "tls-replication")


class TlsConfigError(Exception):
    """Why the contexts could not be made (logged; the caller answers Redis's error)."""


class TlsSocket(gevent.ssl.SSLSocket):
    """gevent's SSLSocket, for one reader greenlet and writers that must not wait."""

    def send_nowait(self, data) -> int:
        """What the plain client path does with the raw socket's send(): write now or
        not at all (0). OpenSSL then wants the same bytes again, first: the caller queues
        all of `data` for its writer greenlet, whose send() retries them."""
        sslobj = self._sslobj
        if sslobj is None:
            raise OSError(9, "TLS connection closed")
        try:
            return sslobj.write(data)
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
            return 0

    def wait_readable(self, event) -> None:
        """Wait for the socket to be readable, unless OpenSSL already holds decrypted
        bytes (then a recv() returns at once and waiting could wait forever)."""
        sslobj = self._sslobj
        if sslobj is not None and sslobj.pending():
            return
        self._wait(event)

    def shutdown(self, how) -> None:
        # gevent's SSLSocket.shutdown also drops the SSL object, so the reading
        # greenlet's next recv() raises ValueError("Read on closed or unwrapped SSL
        # socket") instead of the OSError / EOF a plain socket gives (which every
        # reader here handles). Shut down the TCP socket only; close() drops the rest.
        gevent.socket.socket.shutdown(self, how)


class _Context(gevent.ssl.SSLContext):
    __slots__ = ()
    sslsocket_class = TlsSocket


@dataclass
class TlsContexts:
    """The contexts of one configuration: server side per tls-auth-clients, client side."""
    settings: dict
    client: ssl.SSLContext
    _servers: dict

    def server(self, auth_mode: str) -> ssl.SSLContext:
        context = self._servers.get(auth_mode)
        if context is None:
            context = self._servers[auth_mode] = _server_context(self.settings, auth_mode)
        return context

    def blocking_client(self) -> ssl.SSLContext:
        """The client context as a plain stdlib one, for a socket that must block the
        whole process (MIGRATE inside EXEC)."""
        context = self._servers.get("blocking-client")
        if context is None:
            context = self._servers["blocking-client"] = \
                _client_context(self.settings, ssl.SSLContext)
        return context

    def accept(self, sock, auth_mode: str, timeout: float = HANDSHAKE_TIMEOUT) -> TlsSocket:
        """The server side of the handshake on an accepted socket; ssl.SSLError or
        OSError (the timeout included) if it fails."""
        tls = self.server(auth_mode).wrap_socket(sock, server_side=True,
                                                 do_handshake_on_connect=False)
        return _handshake(tls, timeout, None)

    def connect(self, sock, timeout: float = HANDSHAKE_TIMEOUT) -> TlsSocket:
        """The client side of the handshake on a connected socket."""
        tls = self.client.wrap_socket(sock, server_side=False, do_handshake_on_connect=False)
        return _handshake(tls, timeout, tls.gettimeout())


def _handshake(tls, timeout: float, timeout_after):
    """The handshake within `timeout`, then `timeout_after` on the socket; a failed one
    closes the socket and raises."""
    try:
        tls.settimeout(timeout)
        tls.do_handshake()
        tls.settimeout(timeout_after)
    except BaseException:
        tls.close()
        raise
    return tls


def tls_needed(values: dict) -> bool:
    """Redis makes the contexts when any of these is on."""
    return bool(values["tls-port"] or values["tls-replication"] or values["tls-cluster"])


def configure(values: dict) -> TlsContexts:
    """Make every context from the settings `values` (name -> value); TlsConfigError
    with Redis's log text if something is missing or wrong."""
    settings = {name: values[name] for name in CONTEXT_SETTINGS}
    settings["tls-auth-clients"] = values["tls-auth-clients"]
    if not settings["tls-cert-file"]:
        raise TlsConfigError("No tls-cert-file configured!")
    if not settings["tls-key-file"]:
        raise TlsConfigError("No tls-key-file configured!")
    if (values["tls-auth-clients"] != "no" or settings["tls-cluster"]
            or settings["tls-replication"]) and not settings["tls-ca-cert-file"] \
            and not settings["tls-ca-cert-dir"]:
        raise TlsConfigError("Either tls-ca-cert-file or tls-ca-cert-dir must be specified "
                             "when tls-cluster, tls-replication or tls-auth-clients are "
                             "enabled!")
    parse_protocols(settings["tls-protocols"])
    # The server context for the current mode is made now, so a bad file fails here.
    servers = {values["tls-auth-clients"]: _server_context(settings,
                                                           values["tls-auth-clients"])}
    return TlsContexts(settings, _client_context(settings), servers)


def parse_protocols(text: str):
    """`tls-protocols` -> (lowest, highest) TLS version. Python sets a range, where
    OpenSSL's options could leave a hole (TLSv1 TLSv1.3): the range from the lowest to
    the highest named is used."""
    names = (text or DEFAULT_PROTOCOLS).lower().split()
    versions = []
    for name in names:
        if name not in PROTOCOLS:
            raise TlsConfigError("Invalid tls-protocols specified. Use a combination of "
                                 "'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
        versions.append(PROTOCOLS[name])
    if not versions:
        raise TlsConfigError("No valid protocols specified.")
    return min(versions), max(versions)


def _base_context(settings: dict, purpose, client: bool, cls=None) -> ssl.SSLContext:
    """createSSLContext: what both sides share."""
    context = (cls or _Context)(purpose)
    lowest, highest = parse_protocols(settings["tls-protocols"])
    context.minimum_version, context.maximum_version = lowest, highest
    context.options |= ssl.OP_NO_COMPRESSION
    cert = settings["tls-client-cert-file"] if client else settings["tls-cert-file"]
    key = settings["tls-client-key-file"] if client else settings["tls-key-file"]
    password = settings["tls-client-key-file-pass"] if client else settings["tls-key-file-pass"]
    try:
        context.load_cert_chain(cert, key, password=password or None)
    except (OSError, ssl.SSLError) as exc:
        raise TlsConfigError("Failed to load certificate or private key: %s, %s: %s"
                             % (cert, key, exc))
    ca_file, ca_dir = settings["tls-ca-cert-file"], settings["tls-ca-cert-dir"]
    if ca_file or ca_dir:
        try:
            context.load_verify_locations(cafile=ca_file or None, capath=ca_dir or None)
        except (OSError, ssl.SSLError) as exc:
            raise TlsConfigError("Failed to configure CA certificate(s) file/directory: %s"
                                 % exc)
    if settings["tls-ciphers"]:
        try:
            context.set_ciphers(settings["tls-ciphers"])
        except ssl.SSLError:
            raise TlsConfigError("Failed to configure ciphers: %s" % settings["tls-ciphers"])
    try:
        if settings["tls-ciphersuites"]:
            set_ciphersuites(context, settings["tls-ciphersuites"])
    except NativeTlsError as exc:
        raise TlsConfigError(str(exc))
    return context


def _server_context(settings: dict, auth_mode: str) -> ssl.SSLContext:
    context = _base_context(settings, ssl.PROTOCOL_TLS_SERVER, client=False)
    context.verify_mode = AUTH_MODES[auth_mode]
    if settings["tls-prefer-server-ciphers"]:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    if hasattr(ssl, "OP_NO_RENEGOTIATION"):
        context.options |= ssl.OP_NO_RENEGOTIATION
    if settings["tls-dh-params-file"]:
        try:
            context.load_dh_params(settings["tls-dh-params-file"])
        except (OSError, ssl.SSLError) as exc:
            raise TlsConfigError("Failed to load DH params file: %s: %s"
                                 % (settings["tls-dh-params-file"], exc))
    try:
        set_session_cache(context, settings["tls-session-caching"],
                          settings["tls-session-cache-size"],
                          settings["tls-session-cache-timeout"])
    except NativeTlsError as exc:
        raise TlsConfigError(str(exc))
    return context


def _client_context(settings: dict, cls=None) -> ssl.SSLContext:
    # The client certificate when both files are set, else the server's (tlsConfigure).
    own = settings["tls-client-cert-file"] and settings["tls-client-key-file"]
    context = _base_context(settings, ssl.PROTOCOL_TLS_CLIENT, client=bool(own), cls=cls)
    context.check_hostname = False          # Redis verifies the chain, not the name
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def connect(address, contexts: TlsContexts | None, timeout: float,
            source_address=None):
    """A gevent socket connected to `address`, over TLS when `contexts` is given."""
    sock = gevent.socket.create_connection(address, timeout=timeout,
                                           source_address=source_address)
    if contexts is None:
        return sock
    return contexts.connect(sock, timeout)
