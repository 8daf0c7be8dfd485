"""Certificates made at test time with the openssl command: a CA, a server certificate
and a client certificate signed by it (EC P-256 keys: quick to make and to handshake).

    certs = make_certs(folder)      # certs.ca, certs.server_cert, certs.client_key, ...
    start_node(*certs.node_args(tls_port))
"""
import os
import subprocess
from dataclasses import dataclass


@dataclass
class Certs:
    folder: str
    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str

    def node_args(self, tls_port: int = 0) -> list:
        """The flags of a node (ours or redis-server) serving TLS with these files."""
        args = ["--tls-cert-file", self.server_cert, "--tls-key-file", self.server_key,
                "--tls-ca-cert-file", self.ca]
        if tls_port:
            args[:0] = ["--tls-port", str(tls_port)]
        return args

    def cli_args(self, with_client_cert: bool = True) -> list:
        """redis-cli / redis-benchmark flags for a TLS connection."""
        args = ["--tls", "--cacert", self.ca]
        if with_client_cert:
            args += ["--cert", self.client_cert, "--key", self.client_key]
        return args

    def redis_py(self, with_client_cert: bool = True) -> dict:
        """redis-py keyword arguments for a TLS connection (no host name check, as
        Redis's own clients: the certificates name no host)."""
        kwargs = {"ssl": True, "ssl_ca_certs": self.ca, "ssl_check_hostname": False}
        if with_client_cert:
            kwargs.update(ssl_certfile=self.client_cert, ssl_keyfile=self.client_key)
        return kwargs


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(folder: str) -> Certs:
    os.makedirs(folder, exist_ok=True)
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=Test CA", cwd=folder)
    for name in ("server", "client"):
        _openssl("req", *key, "-keyout", name + ".key", "-out", name + ".csr",
                 "-subj", "/CN=" + name, cwd=folder)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", name + ".crt", "-days", "2", cwd=folder)
    path = lambda name: os.path.join(folder, name)      # noqa: E731
    return Certs(folder, path("ca.crt"), path("server.crt"), path("server.key"),
                 path("client.crt"), path("client.key"))
