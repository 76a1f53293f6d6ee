"""The background health prober: GET ``<base>/health`` of every upstream, publish the result.

Results take effect in this process at once (:meth:`Registry.mark`) and are
written to the service's health hash in Redis so other gateway processes see
them too.  When Redis is down the write is skipped and retried next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

import asyncpool

from .registry import Registry
from .settings import Settings

__all__ = ["HealthProber", "publish_health"]

log = logging.getLogger("gateway.prober")


async def publish_health(
    redis: asyncpool.Redis, settings: Settings, service: str, role: str, up: bool
) -> bool:
    """Write one role's health to Redis; False when Redis could not be reached."""
    key = settings.health_key(service)
    # Health nobody refreshes goes stale: let it vanish after a few rounds.
    ttl_ms = max(1000, int(settings.probe_interval * 5000))
    try:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, role, "up" if up else "down").pexpire(key, ttl_ms)
            await pipe.execute()
    except (asyncpool.RedisError, TimeoutError) as exc:
        log.debug("health of %s/%s not published: %s", service, role, exc)
        return False
    return True


class HealthProber:
    """Runs one probing round every ``probe_interval`` seconds until stopped."""

    def __init__(
        self,
        redis: asyncpool.Redis,
        http: httpx.AsyncClient,
        registry: Registry,
        settings: Settings,
    ) -> None:
        self._redis = redis
        self._http = http
        self._registry = registry
        self._settings = settings
        self._task: asyncio.Task[None] | None = None
        #: Set once the first round has finished (well or not).
        self.first_round = asyncio.Event()

    def start(self) -> None:
        """Start the background task."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="gateway-prober")

    async def stop(self) -> None:
        """Cancel the task and wait for it."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self.probe_all()
            except Exception:  # a bad round must not end probing
                log.exception("health probe round failed")
            self.first_round.set()
            await asyncio.sleep(self._settings.probe_interval)

    async def probe_all(self) -> None:
        """Probe every known upstream once, concurrently."""
        await self._registry.refresh()
        jobs = [
            self._probe(service, role, url)
            for service in self._registry.services
            for role, url in self._registry.candidates(service)
        ]
        await asyncio.gather(*jobs)

    async def _probe(self, service: str, role: str, base_url: str) -> None:
        try:
            response = await self._http.get(
                f"{base_url}/health", timeout=min(1.0, self._settings.upstream_timeout)
            )
            up = response.status_code == 200
        except httpx.HTTPError:
            up = False
        self._registry.mark(service, role, up)
        await publish_health(self._redis, self._settings, service, role, up)
