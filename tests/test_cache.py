"""Client-side caching (issue 15): what is cached, every invalidation form, bounds, config.

All against real servers: the session server for plain behaviour, private
servers where a test pauses the server or changes its configuration.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import asyncpool
from asyncpool import CacheConfig, ConfigError
from asyncpool.testing import RedisServer

from ._util import wait_until


@pytest.fixture
async def cached(redis_url: str) -> AsyncIterator[asyncpool.Redis]:
    """A caching client on the session server."""
    async with asyncpool.Redis.from_url(redis_url, cache=CacheConfig()) as client:
        yield client


@pytest.fixture
async def writer(redis_url: str) -> AsyncIterator[asyncpool.Redis]:
    """Another, non-caching client: its writes reach the cache only through invalidations."""
    async with asyncpool.Redis.from_url(redis_url) as client:
        yield client


def _stats(client: asyncpool.Redis) -> asyncpool.CacheStats:
    assert client.cache is not None
    return client.cache.stats()


def _pause_tracking(client: asyncpool.Redis) -> asyncio.Transport:
    """Stop reading the tracking connection: invalidations pile up unread in the kernel."""
    assert client.cache is not None
    assert client.cache.tracking is not None
    transport = client.cache.tracking.connection.protocol._transport
    assert transport is not None
    transport.pause_reading()
    return transport


async def test_off_by_default(redis_url: str) -> None:
    async with asyncpool.Redis.from_url(redis_url) as client:
        assert client.cache is None


async def test_a_repeated_read_is_a_hit_served_without_the_server(
    private_redis_server: RedisServer,
) -> None:
    async with asyncpool.Redis.from_url(private_redis_server.url, cache=True) as client:
        await client.set("k", "v")
        assert await client.get("k") == b"v"
        private_redis_server.pause()  # nothing answers now: only the cache can
        try:
            assert await asyncio.wait_for(client.get("k"), 2) == b"v"
        finally:
            private_redis_server.resume()
        stats = _stats(client)
        assert (stats.hits, stats.misses, stats.entries) == (1, 1, 1)


@pytest.mark.parametrize("name", ["get", "Get", b"GET"])
async def test_a_read_named_in_any_case_is_cached_and_a_write_in_any_case_invalidates(
    cached: asyncpool.Redis, unique_key: str, name: Any
) -> None:
    await cached.set(unique_key, "v1")
    assert await cached.execute_command(name, unique_key) == b"v1"  # miss, now cached
    assert await cached.execute_command(name, unique_key) == b"v1"  # hit
    assert (_stats(cached).hits, _stats(cached).misses) == (1, 1)
    await cached.execute_command("Set", unique_key, "v2")  # our own write, mixed case
    assert await cached.execute_command(name, unique_key) == b"v2"


@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "str"])
async def test_every_default_read_is_cached_and_returns_the_uncached_shape(
    redis_url: str, writer: asyncpool.Redis, unique_key: str, decode: bool
) -> None:
    k = unique_key
    await writer.set(k + "s", "hello")
    await writer.hset(k + "h", mapping={"a": "1", "b": "2"})
    await writer.sadd(k + "set", "x", "y")
    await writer.rpush(k + "l", "1", "2", "3")
    await writer.zadd(k + "z", {"m": 1.5, "n": 2})
    reads = [
        ("get", (k + "s",)),
        ("mget", ([k + "s", k + "missing"],)),
        ("hget", (k + "h", "a")),
        ("hgetall", (k + "h",)),
        ("hmget", (k + "h", ["a", "b"])),
        ("smembers", (k + "set",)),
        ("sismember", (k + "set", "x")),
        ("lrange", (k + "l", 0, -1)),
        ("zrange", (k + "z", 0, -1)),
        ("zscore", (k + "z", "m")),
        ("strlen", (k + "s",)),
        ("exists", (k + "s", k + "h")),
        ("type", (k + "h",)),
    ]
    async with asyncpool.Redis.from_url(redis_url, decode_responses=decode) as plain:
        expected = [await getattr(plain, name)(*args) for name, args in reads]
    async with asyncpool.Redis.from_url(redis_url, decode_responses=decode, cache=True) as client:
        first = [await getattr(client, name)(*args) for name, args in reads]
        second = [await getattr(client, name)(*args) for name, args in reads]
        stats = _stats(client)
    assert first == expected
    assert second == expected
    assert (stats.misses, stats.hits) == (len(reads), len(reads))
    if decode:
        assert second[0] == "hello"


async def test_a_write_by_another_client_is_seen_once_its_invalidation_arrived(
    cached: asyncpool.Redis, writer: asyncpool.Redis, unique_key: str
) -> None:
    assert cached.cache is not None
    key = unique_key + "k"
    for version in range(200):
        await writer.set(key, version)
        await cached.cache.sync()  # every invalidation sent before now is applied
        assert await cached.get(key) == str(version).encode()
        assert await cached.get(key) == str(version).encode()  # a hit, still current
    stats = _stats(cached)
    assert stats.hits >= 150
    assert stats.invalidations >= 150
    # without sync() the change is seen as soon as the server's push is read
    await writer.set(key, "last")
    await wait_until(lambda: _stats(cached).entries == 0, 5, "the invalidation")
    assert await cached.get(key) == b"last"


async def test_invalidation_with_decoded_responses(
    redis_url: str, writer: asyncpool.Redis, unique_key: str
) -> None:
    key = unique_key + "k"
    url = f"{redis_url}?client_name=app"
    async with asyncpool.Redis.from_url(url, decode_responses=True, cache=True) as client:
        assert client.cache is not None
        await writer.hset(key, "f", "1")
        assert await client.hgetall(key) == {"f": "1"}
        assert await client.hgetall(key) == {"f": "1"}
        await writer.hset(key, "f", "2")
        await client.cache.sync()
        assert await client.hgetall(key) == {"f": "2"}
        assert client.cache.stats().invalidations == 1
        names = await client.execute_command("CLIENT", "LIST")
        assert "name=app:cache-tracking" in names


async def test_flushall_and_flushdb_by_another_client_drop_everything(
    cached: asyncpool.Redis, writer: asyncpool.Redis, unique_key: str
) -> None:
    for flush in ("FLUSHALL", "FLUSHDB"):
        await writer.set(unique_key + "a", "1")
        await writer.hset(unique_key + "h", "f", "v")
        assert await cached.get(unique_key + "a") == b"1"
        assert await cached.hgetall(unique_key + "h") == {b"f": b"v"}
        flushes = _stats(cached).flushes
        await writer.execute_command(flush)
        await cached.cache.sync()  # type: ignore[union-attr]
        assert await cached.get(unique_key + "a") is None
        assert await cached.hgetall(unique_key + "h") == {}
        assert _stats(cached).flushes == flushes + 1


async def test_delete_rename_and_expire_by_another_client_are_seen(
    cached: asyncpool.Redis, writer: asyncpool.Redis, unique_key: str
) -> None:
    a, b = unique_key + "a", unique_key + "b"
    await writer.set(a, "1")
    await writer.set(b, "2")
    assert (await cached.get(a), await cached.get(b)) == (b"1", b"2")
    assert cached.cache is not None
    await writer.rename(a, b)
    await cached.cache.sync()
    assert (await cached.get(a), await cached.get(b)) == (None, b"1")
    await writer.delete(b)
    await cached.cache.sync()
    assert await cached.get(b) is None
    await writer.set(a, "3")
    await cached.cache.sync()
    assert await cached.get(a) == b"3"
    assert await cached.get(a) == b"3"
    await writer.pexpire(a, 1)
    await asyncio.sleep(0.01)  # not a synchronisation: the key's millisecond must pass
    await cached.cache.sync()
    assert await cached.get(a) is None


async def test_the_keys_own_ttl_ends_the_entry_even_when_the_server_never_expires_it(
    redis_binary: str, redis_server_factory: Callable[..., RedisServer]
) -> None:
    # With active expiry off the server deletes (and invalidates) an expired key
    # only when someone touches it: the cache must know the TTL itself.
    extra = ["--enable-debug-command", "yes"] if RedisServer(redis_binary).version >= (7,) else []
    server = redis_server_factory(extra_args=extra)
    async with asyncpool.Redis.from_url(server.url, cache=True) as client:
        await client.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        async with asyncpool.Redis.from_url(server.url) as other:
            await other.set("k", "v", px=1000)
        expired_at = time.monotonic() + 1.0
        assert await client.get("k") == b"v"
        assert await client.get("k") == b"v"
        assert _stats(client).hits == 1
        await wait_until(lambda: time.monotonic() > expired_at + 0.05, 5, "the key's TTL")
        assert await client.get("k") is None
        assert _stats(client).expirations >= 1


async def test_own_writes_are_visible_at_once_even_before_the_server_invalidates(
    cached: asyncpool.Redis, unique_key: str
) -> None:
    key = unique_key + "k"
    await cached.set(key, "old")
    assert await cached.get(key) == b"old"
    assert await cached.get(key) == b"old"
    transport = _pause_tracking(cached)
    try:
        await cached.set(key, "new")  # a known write: its keys are dropped locally
        assert await cached.get(key) == b"new"
        await cached.hset(key + "h", "f", "1")
        assert await cached.hget(key + "h", "f") == b"1"
        assert await cached.hget(key + "h", "f") == b"1"
        async with cached.pipeline() as pipe:  # pipelined writes too
            pipe.hset(key + "h", "f", "2")
            await pipe.execute()
        assert await cached.hget(key + "h", "f") == b"2"
        # A script's keys are unknown: the cache fences until the tracking
        # connection answers a PING, so this read goes to the server.
        await cached.eval("return redis.call('SET', ARGV[1], 'scripted')", 0, key)
        assert not cached.cache.usable  # type: ignore[union-attr]
        assert await cached.get(key) == b"scripted"
    finally:
        transport.resume_reading()
    await wait_until(lambda: cached.cache is not None and cached.cache.usable, 5)


async def test_pipelined_reads_bypass_the_cache(
    cached: asyncpool.Redis, writer: asyncpool.Redis, unique_key: str
) -> None:
    key = unique_key + "k"
    await writer.set(key, "1")
    assert await cached.get(key) == b"1"
    before = _stats(cached)
    async with cached.pipeline() as pipe:
        pipe.get(key).get(key)
        assert await pipe.execute() == [b"1", b"1"]
    after = _stats(cached)
    assert (after.hits, after.misses) == (before.hits, before.misses)


async def test_a_returned_list_or_dict_can_be_changed_without_changing_the_cache(
    cached: asyncpool.Redis, unique_key: str
) -> None:
    key = unique_key + "l"
    await cached.rpush(key, "a", "b")
    first = await cached.lrange(key, 0, -1)
    first.append(b"mutated")
    assert await cached.lrange(key, 0, -1) == [b"a", b"b"]
    await cached.hset(key + "h", "f", "v")
    mapping = await cached.hgetall(key + "h")
    mapping[b"x"] = b"y"
    assert await cached.hgetall(key + "h") == {b"f": b"v"}


async def test_max_bytes_evicts_least_recently_used(redis_url: str, unique_key: str) -> None:
    config = CacheConfig(max_bytes=20_000, max_entry_bytes=4_000)
    async with asyncpool.Redis.from_url(redis_url, cache=config) as client:
        value = "x" * 1000
        for i in range(60):
            await client.set(f"{unique_key}{i}", value)
        for i in range(60):
            assert await client.get(f"{unique_key}{i}") == value.encode()
            stats = _stats(client)
            assert stats.bytes <= 20_000
        assert stats.evictions > 0
        assert stats.entries < 60
        # the newest are kept, the oldest went
        hits = _stats(client).hits
        await client.get(f"{unique_key}59")
        assert _stats(client).hits == hits + 1
        await client.get(f"{unique_key}0")
        assert _stats(client).hits == hits + 1
        # an entry larger than max_entry_bytes is never stored
        await client.set(unique_key + "big", "y" * 10_000)
        await client.get(unique_key + "big")
        await client.get(unique_key + "big")
        assert _stats(client).hits == hits + 1
        assert _stats(client).bytes <= 20_000


async def test_max_entries_bounds_the_count(redis_url: str, unique_key: str) -> None:
    async with asyncpool.Redis.from_url(redis_url, cache=CacheConfig(max_entries=10)) as client:
        for i in range(30):
            await client.get(f"{unique_key}{i}")
        stats = _stats(client)
        assert stats.entries == 10
        assert stats.evictions == 20


async def test_commands_option_limits_what_is_cached(redis_url: str, unique_key: str) -> None:
    config = CacheConfig(commands=["get"])
    async with asyncpool.Redis.from_url(redis_url, cache=config) as client:
        await client.hset(unique_key + "h", "f", "v")
        await client.hget(unique_key + "h", "f")
        await client.hget(unique_key + "h", "f")
        await client.get(unique_key + "s")
        await client.get(unique_key + "s")
        stats = _stats(client)
        assert (stats.hits, stats.misses) == (1, 1)


async def test_prefixes_limit_what_is_cached(redis_url: str, unique_key: str) -> None:
    config = CacheConfig(prefixes=[unique_key + "in:"])
    async with asyncpool.Redis.from_url(redis_url, cache=config) as client:
        for _ in range(2):
            await client.get(unique_key + "in:a")
            await client.get(unique_key + "out:a")
        stats = _stats(client)
        assert (stats.hits, stats.misses, stats.bypasses) == (1, 1, 2)


async def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="max_entries"):
        CacheConfig(max_entries=0)
    with pytest.raises(ConfigError, match="max_bytes"):
        CacheConfig(max_bytes=-1)
    with pytest.raises(ConfigError, match="ttl"):
        CacheConfig(ttl=0)
    with pytest.raises(ConfigError, match="INCR"):
        CacheConfig(commands=["GET", "INCR"])
    with pytest.raises(ConfigError, match="RESP3"):
        asyncpool.Redis(protocol=2, cache=True)
    with pytest.raises(ConfigError, match=r"for .cache."):
        asyncpool.Redis(cache="maybe")  # type: ignore[arg-type]


async def test_url_parameters(redis_url: str) -> None:
    query = "cache_max_entries=5&cache_max_bytes=1mb&cache_ttl=30&cache_commands=GET,HGET"
    url = f"{redis_url}?{query}"
    async with asyncpool.Redis.from_url(url) as client:
        assert client.cache is not None
        config = client.cache.config
        assert (config.max_entries, config.max_bytes, config.ttl) == (5, 1024**2, 30.0)
        assert config.command_names == {"GET", "HGET"}
        assert await client.get("anything") is None
    async with asyncpool.Redis.from_url(f"{redis_url}?cache=true") as client:
        assert client.cache is not None
        assert client.cache.config == CacheConfig()
    async with asyncpool.Redis.from_url(f"{redis_url}?cache=false") as client:
        assert client.cache is None
    override = CacheConfig(max_entries=7)
    async with asyncpool.Redis.from_url(f"{redis_url}?cache=true", cache=override) as client:
        assert client.cache is not None
        assert client.cache.config.max_entries == 7
    with pytest.raises(ConfigError, match="cache_max_entries"):
        asyncpool.Redis.from_url(f"{redis_url}?cache_max_entries=lots")
    with pytest.raises(ConfigError, match="cache=false"):
        asyncpool.Redis.from_url(f"{redis_url}?cache=false&cache_ttl=3")


async def test_a_server_that_refuses_client_tracking_is_a_config_error(
    redis_server_factory: Callable[..., RedisServer],
) -> None:
    server = redis_server_factory(extra_args=["--rename-command", "CLIENT", '""'])
    client = asyncpool.Redis.from_url(server.url, cache=True)
    try:
        with pytest.raises(ConfigError, match="CLIENT TRACKING"):
            await client.__aenter__()
        with pytest.raises(ConfigError, match="CLIENT TRACKING"):
            await client.get("k")  # every cacheable read says so, none is served stale
        assert await client.set("k", "v")  # other commands and the pool are fine
        async with client.connection() as pinned:  # pinned connections never use the cache
            assert await pinned.get("k") == b"v"
    finally:
        await client.aclose()


async def _resp2_only_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A hostile stand-in for Redis 5: no HELLO, so no RESP3 and no tracking."""
    try:
        while True:
            header = await reader.readline()
            if not header:
                return
            args = []
            for _ in range(int(header[1:])):
                length = int((await reader.readline())[1:])
                args.append((await reader.readexactly(length + 2))[:-2].upper())
            if args[0] == b"HELLO":
                writer.write(b"-ERR unknown command 'HELLO'\r\n")
            elif args[0] == b"PING":
                writer.write(b"+PONG\r\n")
            else:
                writer.write(b"+OK\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def test_a_server_without_resp3_is_a_config_error() -> None:
    server = await asyncio.start_server(_resp2_only_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = asyncpool.Redis(port=port, cache=True, set_lib_info=False)
        with pytest.raises(ConfigError, match="RESP3"):
            await client.__aenter__()
        await client.aclose()
    finally:
        server.close()
        await server.wait_closed()
