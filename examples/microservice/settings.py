"""Gateway settings, and the names of the Redis keys the gateway shares with other processes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = ["Settings"]


def _env(name: str, default: str) -> str:
    return os.environ.get(f"GATEWAY_{name}", default)


@dataclass(frozen=True)
class Settings:
    """Everything the gateway can be tuned with.

    :meth:`from_env` reads ``GATEWAY_*`` environment variables (``GATEWAY_REDIS_URL``,
    ``GATEWAY_RATE_LIMIT`` ...); tests and the demo build it directly.
    """

    #: Where the shared coordination state lives.
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: Prefix of every key the gateway reads or writes.
    key_prefix: str = "gw:"
    #: Services the gateway routes: ``GET /svc/<service>/<path>``.
    services: tuple[str, ...] = ("quotes",)

    # -- the asyncpool client (one per process) -------------------------------------
    max_connections: int = 20
    #: How long a request waits for a free connection before giving up on Redis.
    acquire_timeout: float = 0.5
    connect_timeout: float = 0.5
    #: Bound on each Redis reply: a hung Redis must not hang requests.
    redis_timeout: float = 0.5
    #: Longest pause between reconnection probes while Redis is down.
    redis_reconnect_max: float = 0.25

    # -- the httpx pool for upstream calls (in process memory) ------------------------
    upstream_timeout: float = 2.0
    upstream_max_connections: int = 100

    # -- features -----------------------------------------------------------------------
    cache_ttl: float = 5.0
    #: Requests allowed per API key in each window.
    rate_limit: int = 100
    rate_window: float = 1.0
    #: Seconds between health probes of every upstream.
    probe_interval: float = 1.0
    #: Seconds a registry copy is used before it is read from Redis again.
    registry_refresh: float = 1.0
    #: Order in which upstream roles are tried; roles not listed follow, sorted.
    role_order: tuple[str, ...] = field(default=("primary", "secondary"))

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``GATEWAY_*`` environment variables, defaults elsewhere."""
        d = cls()
        return cls(
            redis_url=_env("REDIS_URL", d.redis_url),
            key_prefix=_env("KEY_PREFIX", d.key_prefix),
            services=tuple(_env("SERVICES", ",".join(d.services)).split(",")),
            max_connections=int(_env("MAX_CONNECTIONS", str(d.max_connections))),
            cache_ttl=float(_env("CACHE_TTL", str(d.cache_ttl))),
            rate_limit=int(_env("RATE_LIMIT", str(d.rate_limit))),
            rate_window=float(_env("RATE_WINDOW", str(d.rate_window))),
            probe_interval=float(_env("PROBE_INTERVAL", str(d.probe_interval))),
            registry_refresh=float(_env("REGISTRY_REFRESH", str(d.registry_refresh))),
        )

    # -- key names --------------------------------------------------------------------------
    def registry_key(self, service: str) -> str:
        """Hash ``role -> base URL`` of one service (written by whoever deploys upstreams)."""
        return f"{self.key_prefix}registry:{service}"

    def health_key(self, service: str) -> str:
        """Hash ``role -> "up" | "down"`` of one service (written by the probers)."""
        return f"{self.key_prefix}health:{service}"

    def cache_key(self, service: str, path: str) -> str:
        """String holding one cached upstream response."""
        return f"{self.key_prefix}cache:{service}:{path}"

    def rate_key(self, api_key: str) -> str:
        """Counter of one API key's requests in the current window."""
        return f"{self.key_prefix}rate:{api_key}"
