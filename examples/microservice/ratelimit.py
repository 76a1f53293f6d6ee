"""Per-API-key rate limiting with one atomic Lua script (fixed window).

The script increments the caller's counter and sets its expiry in one step
on the server, so every gateway process shares one budget per key and no
two requests can race between "read" and "write".  It is an
:class:`asyncpool.Script`: it runs by EVALSHA, and when Redis answers
NOSCRIPT (a restarted server has an empty script cache) it is loaded again.

While Redis cannot be reached the limiter **fails open**: requests are let
through (and counted as ``ratelimit_fail_open``), because refusing every
caller during a Redis outage would turn a cache outage into a full outage.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import asyncpool

from .settings import Settings

__all__ = ["RATE_LIMIT_LUA", "Decision", "RateLimiter"]

log = logging.getLogger("gateway.ratelimit")

#: KEYS[1] the counter; ARGV[1] the limit; ARGV[2] the window in milliseconds.
#: Returns {allowed (0/1), milliseconds until the window resets, count so far}.
RATE_LIMIT_LUA = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
if count > tonumber(ARGV[1]) then
  return {0, ttl, count}
end
return {1, ttl, count}
"""


@dataclass(frozen=True)
class Decision:
    """The limiter's answer for one request."""

    allowed: bool
    limit: int
    remaining: int
    #: Seconds until the window resets (whole seconds, for ``Retry-After``).
    retry_after: int
    #: True when Redis could not be asked and the request was let through.
    failed_open: bool = False


class RateLimiter:
    """``await limiter.check(api_key)`` -> :class:`Decision`."""

    def __init__(self, redis: asyncpool.Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._script = redis.register_script(RATE_LIMIT_LUA)
        self._window_ms = max(1, int(settings.rate_window * 1000))

    async def check(self, api_key: str) -> Decision:
        """Count one request for ``api_key`` and say whether it may proceed."""
        limit = self._settings.rate_limit
        try:
            reply = await self._script(
                keys=[self._settings.rate_key(api_key)], args=[limit, self._window_ms]
            )
        except (asyncpool.RedisError, TimeoutError) as exc:
            log.debug("rate limiter failing open: %s", exc)
            return Decision(True, limit, limit, 0, failed_open=True)
        allowed, ttl_ms, count = (int(x) for x in reply)
        return Decision(
            allowed=bool(allowed),
            limit=limit,
            remaining=max(0, limit - count),
            retry_after=max(1, math.ceil(ttl_ms / 1000)),
        )
