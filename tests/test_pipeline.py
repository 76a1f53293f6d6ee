"""Pipelines (no MULTI): one write, ordered results, error handling, retries."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import asyncpool
from asyncpool.testing.proxy import FaultProxy


async def test_results_in_order_with_callbacks(r: asyncpool.Redis, unique_key: str) -> None:
    k = unique_key
    async with r.pipeline() as pipe:
        pipe.set(k + "a", "1").get(k + "a").execute_command("INCR", k + "a")
        pipe.execute_command("RPUSH", k + "l", "x", "y").execute_command("LRANGE", k + "l", 0, -1)
        assert len(pipe) == 5
        results = await pipe.execute()
    assert results == [True, b"1", 2, 2, [b"x", b"y"]]
    assert len(pipe) == 0
    assert r.pool.stats().in_use == 0


async def test_chaining_returns_the_pipeline(r: asyncpool.Redis, unique_key: str) -> None:
    async with r.pipeline() as pipe:
        assert pipe.execute_command("INCR", unique_key) is pipe
        assert pipe.execute_command("EXPIRE", unique_key, 60) is pipe
        hits, expired = await pipe.execute()
    assert (hits, expired) == (1, 1)


async def test_one_connection_for_the_whole_batch(r: asyncpool.Redis, unique_key: str) -> None:
    async with r.pipeline() as pipe:
        for _ in range(50):
            pipe.execute_command("CLIENT", "ID")
        ids = await pipe.execute()
    assert len(set(ids)) == 1
    assert r.pool.stats().acquired_total == 1


async def test_empty_pipeline(r: asyncpool.Redis) -> None:
    async with r.pipeline() as pipe:
        assert await pipe.execute() == []
    async with r.pipeline(transaction=True) as pipe:
        assert await pipe.execute() == []
    assert r.pool.stats().acquired_total == 0


async def test_queue_is_reset_after_execute(r: asyncpool.Redis, unique_key: str) -> None:
    async with r.pipeline() as pipe:
        pipe.execute_command("INCR", unique_key)
        assert await pipe.execute() == [1]
        pipe.execute_command("INCR", unique_key)
        assert await pipe.execute() == [2]


async def test_error_in_the_middle_raises_after_all_ran(
    r: asyncpool.Redis, unique_key: str
) -> None:
    k = unique_key
    await r.execute_command("SET", k + "s", "text")
    async with r.pipeline() as pipe:
        pipe.execute_command("INCR", k + "n")
        pipe.execute_command("LPUSH", k + "s", "x")  # WRONGTYPE
        pipe.execute_command("INCR", k + "n")
        pipe.execute_command("INCR", k + "s")  # ERR not an integer
        with pytest.raises(asyncpool.WrongTypeError) as info:
            await pipe.execute()
    # redis-py's wording: the 1-based position and the command's arguments
    assert f"Command # 2 (LPUSH {k}s x) of pipeline caused error: " in str(info.value)
    assert info.value.code == "WRONGTYPE"
    # every command ran: the one after the error too
    assert await r.execute_command("GET", k + "n") == b"2"
    assert r.pool.stats().in_use == 0


async def test_error_in_the_middle_without_raising(r: asyncpool.Redis, unique_key: str) -> None:
    k = unique_key
    await r.execute_command("SET", k + "s", "text")
    async with r.pipeline() as pipe:
        pipe.execute_command("INCR", k + "n")
        pipe.execute_command("LPUSH", k + "s", "x")
        pipe.get(k + "s")
        results = await pipe.execute(raise_on_error=False)
    assert results[0] == 1
    assert isinstance(results[1], asyncpool.WrongTypeError)
    assert results[2] == b"text"


async def test_connection_is_usable_after_an_error(r: asyncpool.Redis, unique_key: str) -> None:
    async with r.pipeline() as pipe:
        pipe.execute_command("NOSUCHCOMMAND")
        with pytest.raises(asyncpool.ResponseError):
            await pipe.execute()
        pipe.execute_command("ECHO", "still here")
        assert await pipe.execute() == [b"still here"]
    assert r.pool.stats().in_use == 0


async def test_in_use_returns_to_zero_when_the_body_raises(
    r: asyncpool.Redis, unique_key: str
) -> None:
    # the body raises while the pipeline holds a connection (pinned by WATCH) and
    # has commands queued: leaving the block must give both up
    async def body() -> None:
        async with r.pipeline(transaction=True) as pipe:
            await pipe.watch(unique_key)
            assert r.pool.stats().in_use == 1
            pipe.multi()
            pipe.execute_command("SET", unique_key, "never")
            raise RuntimeError("user code failed")

    with pytest.raises(RuntimeError):
        await body()
    assert r.pool.stats().in_use == 0
    assert await r.execute_command("EXISTS", unique_key) == 0  # the queued SET never ran


async def test_decode_responses(redis_url: str, unique_key: str) -> None:
    client = asyncpool.Redis.from_url(redis_url, decode_responses=True)
    async with client, client.pipeline() as pipe:
        pipe.set(unique_key, "héllo").get(unique_key)
        assert await pipe.execute() == [True, "héllo"]


# -- retries ---------------------------------------------------------------------------


@pytest.fixture
async def proxied(fault_proxy: FaultProxy) -> AsyncIterator[asyncpool.Redis]:
    async with asyncpool.Redis.from_url(fault_proxy.url) as client:
        yield client


async def test_safe_pipeline_is_retried_after_the_connection_broke(
    proxied: asyncpool.Redis, fault_proxy: FaultProxy, unique_key: str
) -> None:
    await proxied.execute_command("SET", unique_key, "v")
    before = fault_proxy.connections_total
    fault_proxy.cut_after_request(True, once=True)
    async with proxied.pipeline() as pipe:
        pipe.get(unique_key).execute_command("EXISTS", unique_key)
        assert await pipe.execute() == [b"v", 1]
    assert fault_proxy.connections_total > before  # the retry needed a new connection
    assert proxied.pool.stats().in_use == 0


async def test_unsafe_pipeline_raises_outcome_unknown(
    proxied: asyncpool.Redis, fault_proxy: FaultProxy, redis_url: str, unique_key: str
) -> None:
    await proxied.execute_command("PING")
    fault_proxy.cut_after_request(True, once=True)
    async with proxied.pipeline() as pipe:
        pipe.get(unique_key).execute_command("INCR", unique_key)
        with pytest.raises(asyncpool.OutcomeUnknownError):
            await pipe.execute()
    async with asyncpool.Redis.from_url(redis_url) as direct:
        assert await direct.execute_command("GET", unique_key) == b"1"  # applied exactly once
    assert proxied.pool.stats().in_use == 0


async def test_retryable_pipeline_is_repeated(
    fault_proxy: FaultProxy, redis_url: str, unique_key: str
) -> None:
    async with asyncpool.Redis.from_url(fault_proxy.url) as client:
        await client.execute_command("PING")
        fault_proxy.cut_after_request(True, once=True)
        async with client.retryable().pipeline() as pipe:
            pipe.execute_command("SADD", unique_key, "m").execute_command("INCR", unique_key + "n")
            await pipe.execute()
    async with asyncpool.Redis.from_url(redis_url) as direct:
        # the user said repeating was fine: the INCR ran on the cut connection and again
        assert await direct.execute_command("GET", unique_key + "n") == b"2"


async def test_transaction_is_never_retried(
    proxied: asyncpool.Redis, fault_proxy: FaultProxy, unique_key: str
) -> None:
    await proxied.execute_command("PING")
    fault_proxy.cut_after_request(True, once=True)
    async with proxied.pipeline(transaction=True) as pipe:
        pipe.get(unique_key)  # safe on its own, but a transaction is not repeated
        with pytest.raises(asyncpool.OutcomeUnknownError):
            await pipe.execute()
    assert proxied.pool.stats().in_use == 0


async def test_nothing_sent_is_a_plain_connection_error(
    proxied: asyncpool.Redis, fault_proxy: FaultProxy
) -> None:
    fault_proxy.refuse(True)
    async with proxied.pipeline() as pipe:
        pipe.execute_command("INCR", "never-sent")
        with pytest.raises(asyncpool.ConnectionError) as info:
            await pipe.execute()
    assert not isinstance(info.value, asyncpool.OutcomeUnknownError)
    assert proxied.pool.stats().in_use == 0
