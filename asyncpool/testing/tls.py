"""Throwaway TLS certificates for test servers, made with ``trustme``."""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["TLSMaterial"]

SERVER_NAMES = ("127.0.0.1", "localhost", "::1")


class TLSMaterial:
    """A private CA plus a server certificate for 127.0.0.1 / localhost / ::1.

    Files are written to a temporary directory removed by :meth:`cleanup`
    (or at garbage collection):

    * :attr:`ca_path` -- the CA certificate (PEM), for clients to trust;
    * :attr:`cert_path` / :attr:`key_path` -- the server's chain and key;
    * :attr:`client_cert_path` / :attr:`client_key_path` -- a client
      certificate signed by the same CA, for tests of mutual TLS.

    ``trustme`` is imported here, so it is only needed by TLS tests.
    """

    def __init__(self) -> None:
        import trustme

        self._tmp = tempfile.TemporaryDirectory(prefix="asyncpool-tls-")
        root = Path(self._tmp.name)
        ca = trustme.CA()
        server = ca.issue_cert(*SERVER_NAMES)
        client = ca.issue_cert("asyncpool-test-client")

        self.ca_path = str(root / "ca.pem")
        self.cert_path = str(root / "server.pem")
        self.key_path = str(root / "server.key")
        self.client_cert_path = str(root / "client.pem")
        self.client_key_path = str(root / "client.key")

        ca.cert_pem.write_to_path(self.ca_path)
        _write_chain(server.cert_chain_pems, self.cert_path)
        server.private_key_pem.write_to_path(self.key_path)
        _write_chain(client.cert_chain_pems, self.client_cert_path)
        client.private_key_pem.write_to_path(self.client_key_path)

    def client_context(self, *, with_client_cert: bool = False) -> ssl.SSLContext:
        """Return a client :class:`ssl.SSLContext` that trusts the CA and checks hostnames."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca_path)
        if with_client_cert:
            context.load_cert_chain(self.client_cert_path, self.client_key_path)
        return context

    def cleanup(self) -> None:
        """Delete the certificate files."""
        self._tmp.cleanup()

    def __enter__(self) -> TLSMaterial:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        return f"TLSMaterial(dir={self._tmp.name!r})"


def _write_chain(pems: Sequence[Any], path: str) -> None:
    data = b"".join(bytes(pem.bytes()) for pem in pems)
    Path(path).write_bytes(data)
