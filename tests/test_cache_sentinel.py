"""Client-side caching across a real Sentinel failover."""

from __future__ import annotations

import asyncio

import asyncpool
from asyncpool import CacheConfig
from asyncpool.testing import SentinelGroup

from ._util import wait_until


async def test_a_failover_flushes_the_cache_and_tracking_follows_the_new_primary(
    sentinel_group: SentinelGroup, unique_key: str
) -> None:
    key = unique_key + "k"
    sentinel = asyncpool.Sentinel(sentinel_group.sentinel_addresses)
    async with sentinel:
        primary = sentinel.master_for(
            sentinel_group.service_name, cache=CacheConfig(health_check_interval=0.2)
        )
        async with primary:
            cache = primary.cache
            assert cache is not None
            await primary.set(key, "before")
            assert await primary.get(key) == b"before"
            assert await primary.get(key) == b"before"
            assert cache.stats().hits == 1
            _, new = await asyncio.to_thread(sentinel_group.failover)
            await wait_until(lambda: bool(primary.service.failovers), 30, "the client to see it")
            async with asyncpool.Redis.from_url(new.url) as direct:
                await direct.set(key, "after")  # on the new primary
            assert await primary.get(key) == b"after"
            await wait_until(lambda: cache.stats().tracking, 30, "tracking on the new primary")
            assert cache.tracking is not None
            assert cache.tracking.connection.options.port == new.port
            assert await primary.get(key) == b"after"
            assert await primary.get(key) == b"after"
            async with asyncpool.Redis.from_url(new.url) as direct:
                await direct.set(key, "later")
            await cache.sync()
            assert await primary.get(key) == b"later"
