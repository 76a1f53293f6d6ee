"""The service registry: upstream base URLs and health, read from Redis hashes.

Redis holds the *shared* view: ``<prefix>registry:<service>`` maps a role
(``primary``, ``secondary`` ...) to a base URL and is written by whoever
deploys the upstreams; ``<prefix>health:<service>`` maps a role to ``up`` or
``down`` and is written by every gateway's prober.

Each gateway process keeps the last good copy in memory and reads Redis
again at most every ``registry_refresh`` seconds.  While Redis is down (or
after a restart wiped the hash) routing keeps using that copy, so requests
still find their upstreams; the copy is refreshed as soon as Redis answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import asyncpool

from .settings import Settings

__all__ = ["Registry", "ServiceEntry", "publish_registry"]

log = logging.getLogger("gateway.registry")


@dataclass
class ServiceEntry:
    """What one process knows about one service's upstreams."""

    urls: dict[str, str] = field(default_factory=dict)
    #: role -> healthy?  A role missing here has not been probed: it is tried.
    health: dict[str, bool] = field(default_factory=dict)


def _as_str(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Registry:
    """The process-local copy of the registry, refreshed from Redis."""

    def __init__(self, redis: asyncpool.Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._entries: dict[str, ServiceEntry] = {s: ServiceEntry() for s in settings.services}
        self._next_refresh = 0.0
        self._lock = asyncio.Lock()
        #: False while the copy in memory could not be refreshed from Redis.
        self.fresh = False

    @property
    def services(self) -> tuple[str, ...]:
        """The services this gateway routes."""
        return self._settings.services

    async def entry(self, service: str) -> ServiceEntry | None:
        """The current entry of ``service`` (refreshed first if due), or None if unknown."""
        if service not in self._entries:
            return None
        if time.monotonic() >= self._next_refresh:
            await self.refresh()
        return self._entries[service]

    async def refresh(self) -> bool:
        """Read every service's hashes from Redis; keep the old copy on failure.

        One task refreshes while concurrent callers use the current copy.
        """
        if self._lock.locked():
            return self.fresh
        async with self._lock:
            self._next_refresh = time.monotonic() + self._settings.registry_refresh
            try:
                fetched = [await self._fetch(service) for service in self._settings.services]
            except (asyncpool.RedisError, TimeoutError) as exc:
                if self.fresh:
                    log.warning("registry: Redis unavailable, serving the last good copy (%s)", exc)
                self.fresh = False
                return False
            for service, (urls, health) in zip(self._settings.services, fetched, strict=True):
                entry = self._entries[service]
                if urls:
                    entry.urls = urls
                elif entry.urls:
                    log.warning(
                        "registry: %s missing in Redis, keeping the last good copy", service
                    )
                if health:
                    entry.health.update(health)
            self.fresh = True
            return True

    async def _fetch(self, service: str) -> tuple[dict[str, str], dict[str, bool]]:
        s = self._settings
        async with self._redis.pipeline() as pipe:  # both hashes in one round trip
            pipe.hgetall(s.registry_key(service)).hgetall(s.health_key(service))
            urls, health = await pipe.execute()
        return (
            {_as_str(k): _as_str(v) for k, v in urls.items()},
            {_as_str(k): _as_str(v) == "up" for k, v in health.items()},
        )

    def candidates(self, service: str) -> list[tuple[str, str]]:
        """``(role, base_url)`` in the order to try: healthy by preference, then the rest."""
        entry = self._entries.get(service)
        if entry is None:
            return []
        ordered = self.ordered_roles(entry.urls)
        healthy = [r for r in ordered if entry.health.get(r, True)]
        down = [r for r in ordered if not entry.health.get(r, True)]
        return [(r, entry.urls[r]) for r in healthy + down]

    def preferred_role(self, service: str) -> str | None:
        """The role requests should go to when everything is healthy."""
        entry = self._entries.get(service)
        roles = self.ordered_roles(entry.urls) if entry else []
        return roles[0] if roles else None

    def ordered_roles(self, urls: dict[str, str]) -> list[str]:
        """Roles in ``role_order`` first, then any others sorted by name."""
        order = self._settings.role_order
        known = [r for r in order if r in urls]
        return known + sorted(r for r in urls if r not in order)

    def mark(self, service: str, role: str, up: bool) -> None:
        """Record a health observation in this process (takes effect at once)."""
        entry = self._entries.get(service)
        if entry is not None:
            entry.health[role] = up

    def snapshot(self) -> dict[str, dict[str, object]]:
        """A JSON-friendly view of the copy in memory."""
        return {
            service: {"urls": dict(e.urls), "health": dict(e.health)}
            for service, e in self._entries.items()
        }


async def publish_registry(
    redis: asyncpool.Redis, settings: Settings, service: str, urls: dict[str, str]
) -> None:
    """Write ``role -> base URL`` for ``service`` (what a deploy tool would do)."""
    await redis.hset(settings.registry_key(service), mapping=dict(urls))
