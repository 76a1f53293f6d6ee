"""Forward a request to a service's upstreams, falling back when one is down or fails.

The HTTP connection pool (an ``httpx.AsyncClient``) lives in this process's
memory: sockets cannot be shared through Redis.  What *is* shared through
Redis is where the upstreams are and whether they are healthy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

import asyncpool

from .prober import publish_health
from .registry import Registry
from .settings import Settings

__all__ = ["Forwarder", "UpstreamReply"]

log = logging.getLogger("gateway.forward")


@dataclass(frozen=True)
class UpstreamReply:
    """What an upstream answered, and which one."""

    role: str
    status: int
    body: bytes
    media_type: str
    #: True when it came from a role other than the preferred one.
    fallback: bool
    #: Upstreams that failed before this one answered.
    failures: int


class Forwarder:
    """Tries a service's upstreams in registry order until one answers below 500."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        redis: asyncpool.Redis,
        registry: Registry,
        settings: Settings,
    ) -> None:
        self._http = http
        self._redis = redis
        self._registry = registry
        self._settings = settings

    async def fetch(self, service: str, path: str) -> UpstreamReply | None:
        """GET ``path`` from the first upstream that answers; None when all failed."""
        preferred = self._registry.preferred_role(service)
        for failures, (role, base_url) in enumerate(self._registry.candidates(service)):
            try:
                response = await self._http.get(f"{base_url}/{path}")
            except httpx.HTTPError as exc:
                log.info("upstream %s/%s failed: %r", service, role, exc)
            else:
                if response.status_code < 500:
                    return UpstreamReply(
                        role=role,
                        status=response.status_code,
                        body=response.content,
                        media_type=response.headers.get("content-type", "application/octet-stream"),
                        fallback=role != preferred,
                        failures=failures,
                    )
                log.info("upstream %s/%s answered %d", service, role, response.status_code)
            await self._mark_down(service, role)
        return None

    async def _mark_down(self, service: str, role: str) -> None:
        """Stop routing to ``role`` here at once; tell other processes through Redis."""
        self._registry.mark(service, role, False)
        await publish_health(self._redis, self._settings, service, role, False)
