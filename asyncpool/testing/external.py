"""An existing Redis server named by a URL (``REDIS_URL``)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from asyncpool.testing._util import format_url
from asyncpool.testing.tls import TLSMaterial

__all__ = ["ExternalRedisServer"]


class ExternalRedisServer:
    """An existing server named by a URL (``REDIS_URL``); it cannot be stopped or faulted.

    :attr:`url` is the URL as given (it may carry credentials the tests need);
    ``repr`` hides the password.
    """

    binary: str | None = None
    version: tuple[int, int, int] | None = None
    users: dict[str, str] = {}
    tls: TLSMaterial | None = None
    unix_path: str | None = None

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError("REDIS_URL must be a redis:// or rediss:// URL with a host")
        self.url = url
        self.host: str = parts.hostname
        self.port: int = parts.port or 6379
        self.password: str | None = unquote(parts.password) if parts.password else None
        self.tls_port = self.port if parts.scheme == "rediss" else None

    def __repr__(self) -> str:
        return f"<ExternalRedisServer {format_url('redis', self.host, self.port)}>"
