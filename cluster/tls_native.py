"""The few OpenSSL calls Python's ssl module does not offer, made with ctypes on the
SSL_CTX of a Python SSLContext (Redis's tls.c makes them all; without them
`tls-ciphersuites` and the `tls-session-*` settings would be accepted and ignored):

- SSL_CTX_set_ciphersuites: the TLS 1.3 suites (`set_ciphers` covers TLS 1.2 and
  older only);
- the server session cache: on/off, its size and timeout, and a session id context.

The SSL_CTX pointer is the first field after the object header of CPython's
PySSLContext. Before using it we check that it really is this context's SSL_CTX
(SSL_CTX_get_options must answer the context's own options); if the check or the
library fails, NativeTlsError says so and the caller refuses the setting.
"""
import ctypes
import ctypes.util
import ssl

SSL_CTRL_SET_SESS_CACHE_SIZE = 42
SSL_CTRL_SET_SESS_CACHE_MODE = 44
SSL_SESS_CACHE_OFF = 0x0000
SSL_SESS_CACHE_SERVER = 0x0002


class NativeTlsError(Exception):
    pass


_libssl = None


def _library():
    """libssl as the _ssl module loaded it (the soname of the linked OpenSSL 3)."""
    global _libssl
    if _libssl is None:
        name = "libssl.so.3" if ssl.OPENSSL_VERSION_INFO[0] >= 3 else \
            ctypes.util.find_library("ssl")
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            raise NativeTlsError("cannot load %s: %s" % (name, exc))
        lib.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_get_options.restype = ctypes.c_uint64
        lib.SSL_CTX_set_ciphersuites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.SSL_CTX_set_ciphersuites.restype = ctypes.c_int
        lib.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long,
                                     ctypes.c_void_p]
        lib.SSL_CTX_ctrl.restype = ctypes.c_long
        lib.SSL_CTX_set_timeout.argtypes = [ctypes.c_void_p, ctypes.c_long]
        lib.SSL_CTX_set_timeout.restype = ctypes.c_long
        lib.SSL_CTX_set_session_id_context.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                                       ctypes.c_uint]
        lib.SSL_CTX_set_session_id_context.restype = ctypes.c_int
        _libssl = lib
    return _libssl


def _ssl_ctx(context: ssl.SSLContext):
    lib = _library()
    pointer = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not pointer or lib.SSL_CTX_get_options(pointer) != int(context.options):
        raise NativeTlsError("cannot reach the SSL_CTX of this Python build's SSLContext")
    return lib, pointer


def set_ciphersuites(context: ssl.SSLContext, suites: str) -> None:
    lib, ctx = _ssl_ctx(context)
    if lib.SSL_CTX_set_ciphersuites(ctx, suites.encode()) != 1:
        raise NativeTlsError("Failed to configure ciphersuites: %s" % suites)


def set_session_cache(context: ssl.SSLContext, enabled: bool, size: int,
                      timeout: int) -> None:
    """Redis's tlsConfigure: a server-side cache of `size` sessions kept `timeout`
    seconds, under the session id context "redis"; or no cache at all."""
    lib, ctx = _ssl_ctx(context)
    if not enabled:
        lib.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, SSL_SESS_CACHE_OFF, None)
        return
    lib.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, SSL_SESS_CACHE_SERVER, None)
    lib.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_SIZE, size, None)
    lib.SSL_CTX_set_timeout(ctx, timeout)
    lib.SSL_CTX_set_session_id_context(ctx, b"redis", 5)
