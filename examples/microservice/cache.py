"""A response cache in Redis, shared by every gateway process, with a TTL.

Only successful upstream responses are cached.  While Redis cannot be
reached the cache is **bypassed**: lookups report a miss-by-bypass and
stores are skipped, so requests go to the upstream instead of failing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import asyncpool

from .settings import Settings

__all__ = ["CachedResponse", "ResponseCache"]

log = logging.getLogger("gateway.cache")


@dataclass(frozen=True)
class CachedResponse:
    """An upstream response as kept in the cache."""

    body: str
    media_type: str
    upstream: str

    def dumps(self) -> str:
        """Serialise for storage in Redis."""
        return json.dumps(
            {"body": self.body, "media_type": self.media_type, "upstream": self.upstream}
        )

    @classmethod
    def loads(cls, raw: str | bytes) -> CachedResponse:
        """Parse what :meth:`dumps` wrote."""
        data: dict[str, Any] = json.loads(raw)
        return cls(str(data["body"]), str(data["media_type"]), str(data["upstream"]))


class ResponseCache:
    """``get`` returns ``(response_or_None, reachable)``; ``put`` never raises on Redis errors."""

    def __init__(self, redis: asyncpool.Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._ttl_ms = max(1, int(settings.cache_ttl * 1000))

    async def get(self, service: str, path: str) -> tuple[CachedResponse | None, bool]:
        """Look ``service``/``path`` up; the flag is False when Redis could not be asked."""
        key = self._settings.cache_key(service, path)
        try:
            raw = await self._redis.get(key)
        except (asyncpool.RedisError, TimeoutError) as exc:
            log.debug("cache bypassed: %s", exc)
            return None, False
        if raw is None:
            return None, True
        try:
            return CachedResponse.loads(raw), True
        except (ValueError, KeyError, TypeError):
            log.warning("dropping a malformed cache entry %s", key)
            return None, True

    async def put(self, service: str, path: str, response: CachedResponse) -> bool:
        """Store a response with the TTL; False when Redis could not be reached."""
        key = self._settings.cache_key(service, path)
        try:
            await self._redis.set(key, response.dumps(), px=self._ttl_ms)
        except (asyncpool.RedisError, TimeoutError) as exc:
            log.debug("cache store skipped: %s", exc)
            return False
        return True
