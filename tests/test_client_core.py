"""The client's core: construction, ownership, retries, deadlines, blocking reads."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import asyncpool
from asyncpool.testing import FaultProxy

from ._util import wait_until


async def test_non_idempotent_write_is_not_retried_after_the_request_was_sent(
    fault_proxy: FaultProxy, redis_url: str, unique_key: str
) -> None:
    async with (
        asyncpool.Redis(host=fault_proxy.host, port=fault_proxy.port) as redis,
        asyncpool.Redis.from_url(redis_url) as direct,
    ):
        await redis.execute_command("PING")
        fault_proxy.cut_after_request(True, once=True)
        with pytest.raises(asyncpool.OutcomeUnknownError, match="INCR"):
            await redis.execute_command("INCR", unique_key)
        assert isinstance(asyncpool.OutcomeUnknownError("x"), asyncpool.ConnectionError)
        assert await direct.execute_command("GET", unique_key) == b"1"  # applied exactly once
        assert redis.pool.stats().in_use == 0


async def test_read_is_retried_transparently_after_a_cut(
    fault_proxy: FaultProxy, unique_key: str
) -> None:
    async with asyncpool.Redis(host=fault_proxy.host, port=fault_proxy.port) as redis:
        await redis.execute_command("SET", unique_key, "v")
        fault_proxy.cut_after_request(True, once=True)
        before = fault_proxy.connections_total
        assert await redis.execute_command("GET", unique_key) == b"v"
        assert fault_proxy.connections_total == before + 1  # one reconnect, one retry


async def test_user_can_mark_a_write_retryable(
    fault_proxy: FaultProxy, redis_url: str, unique_key: str
) -> None:
    async with (
        asyncpool.Redis(host=fault_proxy.host, port=fault_proxy.port) as redis,
        asyncpool.Redis.from_url(redis_url) as direct,
    ):
        await redis.execute_command("PING")
        fault_proxy.cut_after_request(True, once=True)
        await redis.execute_command("SET", unique_key + "n", 0)
        fault_proxy.cut_after_request(True, once=True)
        assert await redis.execute_command("INCR", unique_key, retryable=True) >= 1
        fault_proxy.cut_after_request(True, once=True)
        assert await redis.retryable().execute_command("INCR", unique_key) >= 2
        assert int(await direct.execute_command("GET", unique_key)) >= 2


async def test_blocking_command_outlives_socket_timeout(redis_url: str, unique_key: str) -> None:
    async with asyncpool.Redis.from_url(redis_url, socket_timeout=0.3) as redis:
        started = time.monotonic()
        assert await redis.execute_command("BLPOP", unique_key, 0.8) is None
        assert time.monotonic() - started >= 0.7

        async def push_later() -> None:
            await asyncio.sleep(0.6)
            await redis.execute_command("RPUSH", unique_key, "late")

        pusher = asyncio.create_task(push_later())
        reply = await redis.execute_command("BLPOP", unique_key, 0)
        await pusher
        assert reply in ([unique_key.encode(), b"late"], (unique_key.encode(), b"late"))


async def test_overall_deadline_bounds_a_call(fault_proxy: FaultProxy) -> None:
    retry = asyncpool.Retry(deadline=0.5)
    async with asyncpool.Redis(host=fault_proxy.host, port=fault_proxy.port, retry=retry) as redis:
        await redis.execute_command("PING")
        fault_proxy.blackhole(True)
        started = time.monotonic()
        with pytest.raises(asyncpool.TimeoutError, match="deadline"):
            await redis.execute_command("GET", "k")
        assert time.monotonic() - started < 3.0
        fault_proxy.blackhole(False)
        await wait_until(lambda: redis.pool.stats().in_use == 0, what="lease returned")


async def test_shared_pool_is_not_closed_by_the_client(redis_server: Any) -> None:
    pool = asyncpool.Pool(host=redis_server.host, port=redis_server.port)
    async with asyncpool.Redis(pool=pool) as redis:
        await redis.execute_command("PING")
    assert not pool.closed
    await pool.close()
    owned = asyncpool.Redis(host=redis_server.host, port=redis_server.port)
    await owned.execute_command("PING")
    await owned.aclose()
    assert owned.pool.closed
    with pytest.raises(asyncpool.PoolClosed):
        await owned.execute_command("PING")


async def test_same_defaults_however_built(redis_server: Any, redis_url: str) -> None:
    a = asyncpool.Redis.from_url(redis_url)
    b = asyncpool.Redis(host=redis_server.host, port=redis_server.port)
    c = asyncpool.Redis(pool=asyncpool.Pool(host=redis_server.host, port=redis_server.port))
    assert a.retry == b.retry == c.retry
    assert a.pool.options == b.pool.options == c.pool.options
    for client in (a, b, c):
        await client.aclose()
    await c.pool.close()


async def test_decode_responses(redis_url: str, unique_key: str, protocol: int) -> None:
    async with asyncpool.Redis.from_url(
        redis_url, decode_responses=True, protocol=protocol
    ) as redis:
        await redis.execute_command("SET", unique_key, "héllo")
        assert await redis.execute_command("GET", unique_key) == "héllo"
        assert await redis.execute_command("PING") == "PONG"
    async with asyncpool.Redis.from_url(redis_url, protocol=protocol) as redis:
        assert await redis.execute_command("GET", unique_key) == "héllo".encode()


async def test_bad_options_are_config_errors() -> None:
    with pytest.raises(asyncpool.ConfigError, match="max_connections"):
        asyncpool.Redis(max_connections=0)
    with pytest.raises(ValueError, match="unknown"):
        asyncpool.Redis(no_such_option=1)
    with pytest.raises(asyncpool.ConfigError):
        asyncpool.Redis(pool=asyncpool.Pool(), max_connections=3)


async def test_socket_timeout_after_a_long_blocking_command(
    fault_proxy: FaultProxy, redis_url: str, unique_key: str
) -> None:
    # A BLPOP extends its own read deadline (to 10.3 s here) and is answered early;
    # a later command on the same connection must still get the short one.
    pool = asyncpool.Pool(
        host=fault_proxy.host, port=fault_proxy.port, socket_timeout=0.3, max_connections=1
    )
    async with (
        pool,
        asyncpool.Redis(pool=pool) as redis,
        asyncpool.Redis.from_url(redis_url) as direct,
    ):
        blpop = asyncio.ensure_future(redis.execute_command("BLPOP", unique_key, 10))
        await wait_until(
            lambda: any(c.pending_replies == 1 for c in pool.connections()), what="BLPOP sent"
        )
        await direct.execute_command("RPUSH", unique_key, "x")
        assert await blpop == [unique_key.encode(), b"x"]
        fault_proxy.blackhole(True)
        started = time.monotonic()
        with pytest.raises(asyncpool.TimeoutError):
            await redis.execute_command("GET", unique_key)
        assert time.monotonic() - started < 3.0
        fault_proxy.blackhole(False)
        assert await redis.execute_command("PING") == b"PONG"


async def test_undecodable_reply_fails_alone_and_keeps_the_connection(
    redis_url: str, unique_key: str, protocol: int
) -> None:
    async with asyncpool.Redis.from_url(
        redis_url, decode_responses=True, protocol=protocol, max_connections=1
    ) as redis:
        await redis.execute_command("SET", unique_key, b"\xff\xfe not utf-8")
        with pytest.raises(asyncpool.DecodeError):
            await redis.execute_command("GET", unique_key)
        async with redis.pipeline() as pipe:
            pipe.get(unique_key).ping()
            results = await pipe.execute(raise_on_error=False)
        assert isinstance(results[0], asyncpool.DecodeError)
        assert results[1] is True or results[1] == "PONG"
        assert await redis.execute_command("PING") == "PONG"
        assert redis.pool.stats().created_total == 1  # the same connection all along
