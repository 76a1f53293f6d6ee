"""``Pool(dialer=...)``: where new connections go, vetting them, PubSub dialing via the pool."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

import asyncpool
from asyncpool.testing import RedisServer, free_port


class Rejected(asyncpool.ConnectionError):
    """What the test hook raises to reject a connection."""


async def test_dialer_chooses_each_new_connections_address(
    redis_server_factory: Callable[..., RedisServer],
) -> None:
    a, b = redis_server_factory(), redis_server_factory()
    targets = [("127.0.0.1", a.port), ("127.0.0.1", b.port)]
    asked = 0

    async def dialer() -> tuple[str, int]:
        nonlocal asked
        asked += 1
        return targets[(asked - 1) % 2]

    dead = free_port()  # the pool's own address is never dialed while a dialer is set
    async with asyncpool.Pool(port=dead, dialer=dialer, dial_attempts=1) as pool:
        leases = [await pool.acquire() for _ in range(4)]
        ports = [lease.connection.options.port for lease in leases]
        for lease in leases:
            await lease.release()
        assert ports == [a.port, b.port, a.port, b.port]
        assert asked == 4
        # the connection really is where the dialer said
        async with pool.acquire() as conn:
            await conn.execute_command("SET", "dialer-key", "x")
    assert a.command("GET", "dialer-key") == b"x" or b.command("GET", "dialer-key") == b"x"


async def test_dialer_may_return_whole_connection_options(redis_server: RedisServer) -> None:
    options = asyncpool.ConnectionOptions(host=redis_server.host, port=redis_server.port, db=3)

    async def dialer() -> asyncpool.ConnectionOptions:
        return options

    async with asyncpool.Pool(port=free_port(), dialer=dialer) as pool, pool.acquire() as conn:
        info = await conn.execute_command("CLIENT", "INFO")
    assert b"db=3" in info


async def test_on_connect_rejection_is_retried_with_a_fresh_dialer_answer(
    redis_server: RedisServer,
) -> None:
    """A vetoed connection is a failed dial: closed, retried, the dialer asked again."""
    seen: list[int] = []

    async def dialer() -> tuple[str, int]:
        return redis_server.host, redis_server.port

    async def vet(conn: asyncpool.Connection) -> None:
        seen.append(conn.id)
        if len(seen) == 1:
            raise Rejected("not the server we want")

    async with asyncpool.Pool(dialer=dialer, on_connect=vet, dial_backoff=0.001) as pool:
        async with pool.acquire() as conn:
            assert await conn.execute_command("PING") in (b"PONG", "PONG")
        stats = pool.stats()
        assert len(seen) == 2
        assert (stats.errors_total, stats.total, stats.in_use) == (1, 1, 0)


async def test_rejected_dials_raise_the_hooks_error_and_leave_the_pool_healthy(
    redis_server: RedisServer,
) -> None:
    refuse = True

    async def vet(conn: asyncpool.Connection) -> None:
        if refuse:
            raise Rejected(f"{conn.options.address} is not acceptable")

    async with asyncpool.Pool(
        port=redis_server.port, on_connect=vet, dial_attempts=2, dial_backoff=0.001
    ) as pool:
        with pytest.raises(Rejected, match="is not acceptable"):
            await pool.acquire()
        stats = pool.stats()
        assert (stats.total, stats.in_use, stats.dialing) == (0, 0, 0)
        refuse = False
        async with pool.acquire() as conn:
            await conn.execute_command("PING")


async def test_dial_target_changed_closes_an_open_breaker(redis_server: RedisServer) -> None:
    target = ("127.0.0.1", free_port())

    async def dialer() -> tuple[str, int]:
        return target

    async with asyncpool.Pool(
        dialer=dialer,
        dial_attempts=1,
        breaker_threshold=2,
        dial_backoff=1.0,
        dial_backoff_max=2.0,
        acquire_timeout=0.5,
    ) as pool:
        for _ in range(2):
            with pytest.raises(asyncpool.ConnectionError):
                await pool.acquire()
        assert pool.stats().breaker_open
        target = (redis_server.host, redis_server.port)
        with pytest.raises(asyncpool.ConnectionError, match="failing fast"):
            await pool.acquire()  # the breaker still holds: nobody said the target moved
        pool.dial_target_changed()
        assert not pool.stats().breaker_open
        async with pool.acquire() as conn:
            await conn.execute_command("PING")


async def test_pubsub_dials_through_the_pool(redis_server: RedisServer) -> None:
    """The subscriber connection uses the dialer and hooks, holds a slot, and is not reused."""
    hooked: list[str] = []

    async def dialer() -> tuple[str, int]:
        return redis_server.host, redis_server.port

    async def on_connect(conn: asyncpool.Connection) -> None:
        hooked.append(conn.options.address)

    pool = asyncpool.Pool(port=free_port(), dialer=dialer, on_connect=on_connect, max_connections=2)
    async with asyncpool.Redis(pool=pool) as redis, pool:
        ps = redis.pubsub(ignore_subscribe_messages=True)
        await ps.subscribe("dialer-news")
        assert hooked == [f"127.0.0.1:{redis_server.port}/0"]
        assert pool.stats().in_use == 1  # the subscriber holds one of the two slots
        assert await redis.publish("dialer-news", "hello") == 1
        message = await ps.get_message(timeout=5)
        assert message is not None
        assert message["data"] == b"hello"
        await ps.aclose()
        stats = pool.stats()
        assert (stats.in_use, stats.idle) == (0, 1)  # the subscriber connection was closed
        assert all(c.state == "clean" for c in pool.connections())


async def test_pubsub_counts_against_max_connections(redis_server: RedisServer) -> None:
    pool = asyncpool.Pool(port=redis_server.port, max_connections=1, acquire_timeout=0.2)
    async with asyncpool.Redis(pool=pool, retry=asyncpool.Retry(attempts=1)) as redis, pool:
        async with redis.pubsub() as ps:
            await ps.subscribe("limit-news")
            with pytest.raises(asyncpool.PoolTimeout):
                await redis.ping()
        assert await redis.ping()


async def test_closing_the_pool_ends_its_pubsubs_at_once(redis_server: RedisServer) -> None:
    pool = asyncpool.Pool(port=redis_server.port)
    redis = asyncpool.Redis(pool=pool)  # does not own the pool: the pool is closed under it
    ps = redis.pubsub()
    await ps.subscribe("closing-news")
    started = time.monotonic()
    await pool.close()  # does not wait out the close timeout for the subscriber
    assert time.monotonic() - started < 5
    assert pool.stats().total == 0

    async def read_until_error() -> None:
        while True:  # the subscription's own confirmation may come first
            await ps.get_message(timeout=5)

    with pytest.raises(asyncpool.PoolClosed):
        await read_until_error()
    await ps.aclose()
