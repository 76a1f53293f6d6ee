"""Client-side caching never serves a value older than one its reader could have observed.

Writers change keys (SET, DEL, RENAME, SET PX, FLUSHALL) while readers read
through the cache.  Every value carries the global version of the write that
made it.  After a write is acknowledged (and, for another client's write, after
``cache.sync()`` -- see docs/caching.md) it becomes the *floor* of its key:
from then on a reader may see that version or a newer one, never an older one,
and never "missing" while the key must exist.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

import asyncpool
from asyncpool import CacheConfig

from ._util import wait_until


@dataclass
class Floor:
    """What a reader must at least see for one key."""

    version: int = 0
    #: The key may be missing (never written, deleted, flushed, or its TTL may pass).
    may_be_missing: bool = True
    #: Monotonic time after which the key may have expired (inf: no TTL).
    vanishes_after: float = float("inf")


@dataclass
class World:
    keys: list[str]
    floors: dict[str, Floor] = field(default_factory=dict)
    #: Bumped when a write that may remove keys *starts* (a reader overlapping it may see None).
    removals_started: int = 0
    #: Bumped when such a write's new floors are published.
    removals_done: int = 0
    versions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    violations: list[str] = field(default_factory=list)
    reads: int = 0

    def __post_init__(self) -> None:
        self.floors = {k: Floor() for k in self.keys}


def _version(value: bytes | str | None) -> int | None:
    if value is None:
        return None
    raw = value.encode() if isinstance(value, str) else value
    return int(raw.split(b":", 1)[0])


def _check(world: World, key: str, value: bytes | str | None, floor: Floor, removals: int) -> None:
    version = _version(value)
    world.reads += 1
    if version is None:
        if floor.may_be_missing or removals != world.removals_started:
            return  # a removal was in flight or started while this read ran
        if time.monotonic() >= floor.vanishes_after:
            return
        world.violations.append(f"{key}: missing, but version {floor.version} must exist")
    elif version < floor.version:
        world.violations.append(f"{key}: saw version {version} after {floor.version}")


async def _reader(world: World, client: asyncpool.Redis, stop: asyncio.Event) -> None:
    rng = random.Random()
    while not stop.is_set():
        if rng.random() < 0.2:
            keys = rng.sample(world.keys, 3)
            floors = [_copy(world.floors[k]) for k in keys]
            removals = _removals(world)
            values = await client.mget(keys)
            for key, value, floor in zip(keys, values, floors, strict=True):
                _check(world, key, value, floor, removals)
        else:
            key = rng.choice(world.keys[:5] if rng.random() < 0.7 else world.keys)  # skewed
            floor = _copy(world.floors[key])
            removals = _removals(world)
            _check(world, key, await client.get(key), floor, removals)
        await asyncio.sleep(0)


def _removals(world: World) -> int:
    """The removal count a read starts under (-1 while one is in flight: None is fine then)."""
    return world.removals_started if world.removals_done == world.removals_started else -1


def _copy(floor: Floor) -> Floor:
    return Floor(floor.version, floor.may_be_missing, floor.vanishes_after)


async def _writer(
    world: World,
    client: asyncpool.Redis,
    cached: asyncpool.Redis,
    *,
    own: bool,
    stop: asyncio.Event,
    ops: int,
) -> None:
    """``own``: ``client`` is the caching client itself (no sync() before publishing a floor)."""
    rng = random.Random()
    assert cached.cache is not None
    for _ in range(ops):
        key = rng.choice(world.keys[:5] if rng.random() < 0.7 else world.keys)
        version = next(world.versions)
        roll = rng.random()
        padding = "x" * rng.randrange(0, 64)
        if roll < 0.55:
            await client.set(key, f"{version}:{padding}")
            new = Floor(version, False)
        elif roll < 0.7:
            world.removals_started += 1
            await client.delete(key)
            new = Floor(version, True)
        elif roll < 0.82:
            tmp = f"{key}:tmp"
            await client.set(tmp, f"{version}:{padding}")
            await client.rename(tmp, key)
            new = Floor(version, False)
        elif roll < 0.97:
            ttl_ms = rng.randrange(5, 40)
            sent = time.monotonic()
            world.removals_started += 1  # the key may vanish any time from now
            await client.set(key, f"{version}:{padding}", px=ttl_ms)
            new = Floor(version, False, sent + ttl_ms / 1000)
        else:
            world.removals_started += 1
            await client.flushall()
            if not own:
                await cached.cache.sync()
            for k in world.keys:
                world.floors[k] = Floor(version, True)
            world.removals_done = world.removals_started
            continue
        if not own:
            await cached.cache.sync()  # the invalidation reached the cache: now observable
        world.floors[key] = new
        world.removals_done = world.removals_started
        await asyncio.sleep(0)
    stop.set()


@pytest.fixture
async def world_clients(redis_url: str) -> AsyncIterator[tuple[asyncpool.Redis, asyncpool.Redis]]:
    config = CacheConfig(max_entries=500)
    async with (
        asyncpool.Redis.from_url(redis_url, cache=config) as cached,
        asyncpool.Redis.from_url(redis_url) as other,
    ):
        yield cached, other


@pytest.mark.parametrize("own", [False, True], ids=["another-client", "own-writes"])
async def test_readers_never_see_a_value_older_than_the_observable_write(
    world_clients: tuple[asyncpool.Redis, asyncpool.Redis], unique_key: str, own: bool
) -> None:
    cached, other = world_clients
    world = World([f"{unique_key}{i}" for i in range(12)])
    stop = asyncio.Event()
    writer_client = cached if own else other
    readers = [asyncio.create_task(_reader(world, cached, stop)) for _ in range(8)]
    await asyncio.wait_for(
        _writer(world, writer_client, cached, own=own, stop=stop, ops=1500), timeout=90
    )
    await asyncio.gather(*readers)
    stats = cached.cache.stats()  # type: ignore[union-attr]
    assert not world.violations, world.violations[:10]
    assert world.reads > 3000
    assert stats.hits > 500, stats  # the cache was really in use
    assert stats.invalidations > 100, stats
    assert stats.flushes > 0, stats


async def test_a_reply_crossed_by_an_invalidation_is_not_stored(
    redis_url: str, unique_key: str
) -> None:
    """The race, made deterministic: the read's reply is held back until the invalidation is in."""
    key = unique_key + "k"
    async with (
        asyncpool.Redis.from_url(redis_url, cache=True, max_connections=1) as cached,
        asyncpool.Redis.from_url(redis_url) as other,
    ):
        assert cached.cache is not None
        await other.set(key, "old")
        await cached.ping()  # the pool's one connection now exists and is idle
        (conn,) = cached.pool._idle
        transport = conn.protocol._transport
        assert transport is not None
        transport.pause_reading()  # the reply to the next read waits in the kernel
        read = asyncio.create_task(cached.get(key))
        await wait_until(lambda: conn.pending_replies > 0, 5, "the read to be sent")
        await other.set(key, "new")  # the server answered "old"; now it invalidates the key
        await cached.cache.sync()  # ... and the invalidation has been applied
        transport.resume_reading()
        assert await read == b"old"  # that read was right when the server ran it
        assert cached.cache.stats().races == 1
        assert await cached.get(key) == b"new"  # but "old" was not kept
        assert await cached.get(key) == b"new"
        assert cached.cache.stats().hits == 1


async def test_identical_reads_in_flight_share_one_round_trip_unless_the_key_changed(
    redis_url: str, unique_key: str
) -> None:
    key = unique_key + "k"
    async with (
        asyncpool.Redis.from_url(redis_url, cache=True, max_connections=2) as cached,
        asyncpool.Redis.from_url(redis_url) as other,
    ):
        assert cached.cache is not None
        await other.set(key, "old")
        await cached.ping()
        (conn,) = cached.pool._idle
        transport = conn.protocol._transport
        assert transport is not None
        transport.pause_reading()
        first = asyncio.create_task(cached.get(key))
        await wait_until(lambda: conn.pending_replies > 0, 5, "the first read to be sent")
        second = asyncio.create_task(cached.get(key))  # joins the first
        await asyncio.sleep(0)
        await other.set(key, "new")
        await cached.cache.sync()
        third = await cached.get(key)  # the key changed since: must not join, reads itself
        transport.resume_reading()
        assert (await first, await second, third) == (b"old", b"old", b"new")
        stats = cached.cache.stats()
        assert (stats.misses, stats.joins) == (2, 1)
