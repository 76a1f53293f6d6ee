"""Client-side caching when the invalidation stream breaks, and under a skewed workload.

A lost tracking connection (server restart, a cut, a silent network) means
invalidations may have been missed: the cache must be flushed before any
further read is served from it, read from the server meanwhile, and resume
once tracking is back.
"""

from __future__ import annotations

import asyncio
import random

import asyncpool
from asyncpool import CacheConfig
from asyncpool.testing import FaultProxy, RedisServer

from ._util import wait_until


def _cache(client: asyncpool.Redis) -> asyncpool.ClientCache:
    assert client.cache is not None
    return client.cache


async def test_a_killed_and_restarted_server_never_serves_the_old_value(
    private_redis_server: RedisServer,
) -> None:
    url = private_redis_server.url
    async with asyncpool.Redis.from_url(url, cache=True) as client:
        cache = _cache(client)
        await client.set("k", "before")
        assert await client.get("k") == b"before"
        assert await client.get("k") == b"before"
        assert cache.stats().hits == 1
        await asyncio.to_thread(private_redis_server.kill)
        await wait_until(lambda: not cache.stats().tracking, 5, "the loss to be noticed")
        assert cache.stats().entries == 0
        await asyncio.to_thread(private_redis_server.start)
        async with asyncpool.Redis.from_url(url) as other:
            await other.set("k", "after")  # a new server: nobody will invalidate "before"
        assert await client.get("k") == b"after"
        await wait_until(lambda: cache.stats().tracking, 10, "tracking to come back")
        assert await client.get("k") == b"after"
        hits = cache.stats().hits
        assert await client.get("k") == b"after"
        assert cache.stats().hits == hits + 1  # cached again
        assert cache.stats().tracking_connects == 2


async def test_a_cut_tracking_connection_flushes_before_the_next_read(
    redis_server: RedisServer, fault_proxy: FaultProxy, unique_key: str
) -> None:
    key = unique_key + "k"
    config = CacheConfig(health_check_interval=0.2)
    async with (
        asyncpool.Redis.from_url(fault_proxy.url, cache=config) as client,
        asyncpool.Redis.from_url(redis_server.url) as direct,
    ):
        cache = _cache(client)
        await direct.set(key, "v1")
        assert await client.get(key) == b"v1"
        assert await client.get(key) == b"v1"
        flushes = cache.stats().flushes
        assert fault_proxy.cut() >= 2  # the tracking connection and the pool's
        # The cut is news to the client only when its socket reports it: from
        # then on nothing is served from the cache (docs/caching.md).
        await wait_until(lambda: not cache.stats().tracking, 5, "the cut to be noticed")
        assert cache.stats().flushes == flushes + 1
        assert cache.stats().entries == 0
        await direct.set(key, "v2")  # no tracking session hears of it
        assert await client.get(key) == b"v2"
        await wait_until(lambda: cache.stats().tracking, 10, "tracking to come back")
        assert await client.get(key) == b"v2"  # not v1: nothing from before the cut survived
        assert await client.get(key) == b"v2"
        await direct.set(key, "v3")  # invalidations flow on the new tracking connection
        await cache.sync()
        assert await client.get(key) == b"v3"


async def test_cutting_only_the_tracking_connection_leaves_the_pool_serving_uncached(
    redis_server: RedisServer, fault_proxy: FaultProxy, unique_key: str
) -> None:
    key = unique_key + "k"
    async with (
        asyncpool.Redis.from_url(fault_proxy.url, cache=True) as client,
        asyncpool.Redis.from_url(redis_server.url) as direct,
    ):
        cache = _cache(client)
        await direct.set(key, "v1")
        assert await client.get(key) == b"v1"
        assert await client.get(key) == b"v1"
        tracking = cache.tracking
        assert tracking is not None
        transport = tracking.connection.protocol._transport
        assert transport is not None
        local = transport.get_extra_info("sockname")
        (link,) = [  # white box: the proxy's link whose client end is the tracking socket
            link
            for link in fault_proxy._links
            if link.client_writer.get_extra_info("peername") == local
        ]
        pooled_before = client.pool.stats().created_total
        link.close()
        await wait_until(lambda: not cache.stats().tracking, 5, "the cut to be noticed")
        await direct.set(key, "v2")
        assert await client.get(key) == b"v2"  # the pool is fine; the cache is not used
        assert client.pool.stats().created_total == pooled_before  # no pooled connection lost
        await wait_until(lambda: cache.stats().tracking, 10, "tracking to come back")
        assert await client.get(key) == b"v2"
        assert await client.get(key) == b"v2"


async def test_a_silent_network_is_noticed_by_the_heartbeat(
    redis_server: RedisServer, fault_proxy: FaultProxy, unique_key: str
) -> None:
    key = unique_key + "k"
    config = CacheConfig(health_check_interval=0.2)
    async with (
        asyncpool.Redis.from_url(fault_proxy.url, cache=config, connect_timeout=1.0) as client,
        asyncpool.Redis.from_url(redis_server.url) as direct,
    ):
        cache = _cache(client)
        await direct.set(key, "v1")
        assert await client.get(key) == b"v1"
        assert await client.get(key) == b"v1"
        fault_proxy.blackhole()  # connections stay open, nothing moves
        await direct.set(key, "v2")  # its invalidation is held in the proxy
        await wait_until(lambda: not cache.stats().tracking, 5, "the heartbeat to give up")
        assert cache.stats().entries == 0
        fault_proxy.blackhole(False)  # the held invalidation arrives late, on a dead session
        assert await client.get(key) == b"v2"
        await wait_until(lambda: cache.stats().tracking, 10, "tracking to come back")
        assert await client.get(key) == b"v2"


async def test_reads_while_tracking_is_down_go_to_the_server_and_are_not_stored(
    redis_server: RedisServer, fault_proxy: FaultProxy, unique_key: str
) -> None:
    key = unique_key + "k"
    async with (
        asyncpool.Redis.from_url(fault_proxy.url, cache=True) as client,
        asyncpool.Redis.from_url(redis_server.url) as direct,
    ):
        cache = _cache(client)
        fault_proxy.refuse()  # the tracking connection cannot come back
        fault_proxy.cut()
        await wait_until(lambda: not cache.stats().tracking, 5, "the loss to be noticed")
        reconnect = cache._reconnect  # white box: keep tracking down while the pool is up
        assert reconnect is not None
        reconnect.cancel()
        await asyncio.gather(reconnect, return_exceptions=True)
        fault_proxy.refuse(False)
        await direct.set(key, "1")
        assert await client.get(key) == b"1"
        await direct.set(key, "2")
        assert await client.get(key) == b"2"
        stats = cache.stats()
        assert stats.entries == 0
        assert stats.bypasses == 2


async def test_hit_rate_above_90_percent_on_a_skewed_workload(
    redis_url: str, unique_key: str
) -> None:
    rng = random.Random(15)
    keys = [f"{unique_key}{i}" for i in range(2000)]
    weights = [1 / (rank + 1) ** 1.2 for rank in range(len(keys))]  # Zipf-like
    async with (
        asyncpool.Redis.from_url(redis_url, cache=CacheConfig(max_entries=1000)) as client,
        asyncpool.Redis.from_url(redis_url) as writer,
    ):
        async with writer.pipeline() as pipe:
            for i, key in enumerate(keys):
                pipe.set(key, i)
            await pipe.execute()
        sample = rng.choices(keys, weights, k=50_000)
        expected = {key: str(i).encode() for i, key in enumerate(keys)}

        async def read(chunk: list[str]) -> None:
            for key in chunk:
                assert await client.get(key) == expected[key]

        await asyncio.gather(*(read(sample[i::20]) for i in range(20)))
        # a few writes to hot keys along the way must not spoil it
        for key in keys[:5]:
            await writer.set(key, "changed")
        await _cache(client).sync()
        for key in keys[:5]:
            assert await client.get(key) == b"changed"
        stats = _cache(client).stats()
    assert stats.hit_rate > 0.90, stats
    assert stats.entries <= 1000


async def test_a_failover_signal_from_the_pool_flushes_and_retracks(
    redis_url: str, unique_key: str
) -> None:
    # Sentinel reacts to a switch of primary with pool.expire_all(): the cache
    # must not trust a tracking session opened to the old server.
    key = unique_key + "k"
    async with asyncpool.Redis.from_url(redis_url, cache=True) as client:
        cache = _cache(client)
        await client.set(key, "v")
        assert await client.get(key) == b"v"
        assert await client.get(key) == b"v"
        old = cache.tracking
        client.pool.expire_all()
        assert await client.get(key) == b"v"  # read from the server, not the cache
        stats = cache.stats()
        assert (stats.hits, stats.bypasses, stats.flushes) == (1, 1, 1)
        assert old is not None
        assert old.lost
        await wait_until(lambda: cache.stats().tracking, 10, "tracking to come back")
        assert cache.stats().tracking_connects == 2
        assert await client.get(key) == b"v"
        assert await client.get(key) == b"v"
        assert cache.stats().hits == 2
