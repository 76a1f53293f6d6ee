"""MULTI/EXEC pipelines, EXECABORT, WATCH mode and Redis.transaction()."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import asyncpool
from asyncpool.client.pipeline import Pipeline

from ._util import client_info


@pytest.fixture
async def other(redis_url: str) -> AsyncIterator[asyncpool.Redis]:
    """A second, independent client (its own pool) to interfere with watched keys."""
    async with asyncpool.Redis.from_url(redis_url) as client:
        yield client


async def only_connection_id(r: asyncpool.Redis) -> int:
    """The server-side id of the one connection ``r``'s pool holds."""
    assert r.pool.stats().total == 1
    client_id: int = await r.execute_command("CLIENT", "ID")
    return client_id


async def assert_clean_on_the_server(
    r: asyncpool.Redis, other: asyncpool.Redis, watched: str | None = None
) -> None:
    """The server, asked over another connection, has ``r``'s connection out of MULTI;
    and, if ``watched`` is given, not WATCHing it: a change to it does not abort an EXEC."""
    info = await client_info(other, await only_connection_id(r))
    assert info["multi"] == "-1"  # not inside MULTI
    assert "x" not in info["flags"]
    if watched is not None:
        await other.execute_command("SET", watched, "changed by another client")
        async with r.pipeline(transaction=True) as pipe:
            assert await pipe.execute_command("PING").execute() == [b"PONG"]


async def test_multi_exec_results_with_callbacks(r: asyncpool.Redis, unique_key: str) -> None:
    k = unique_key
    async with r.pipeline(transaction=True) as pipe:
        pipe.set(k, "5").incr(k).get(k).expire(k, 60)
        results = await pipe.execute()
    assert results == [True, 6, b"6", True]
    assert r.pool.stats().in_use == 0


async def test_transaction_is_atomic_on_the_wire(
    r: asyncpool.Redis, other: asyncpool.Redis, unique_key: str
) -> None:
    async with r.pipeline(transaction=True) as pipe:
        pipe.execute_command("CLIENT", "ID").execute_command("CLIENT", "ID")
        first, second = await pipe.execute()
    assert first == second
    assert await only_connection_id(r) == first
    await assert_clean_on_the_server(r, other)  # EXEC ended the MULTI


async def test_execabort_names_the_rejected_command(
    r: asyncpool.Redis, other: asyncpool.Redis, unique_key: str
) -> None:
    async with r.pipeline(transaction=True) as pipe:
        pipe.execute_command("SET", unique_key, "1")
        pipe.execute_command("SET", unique_key)  # wrong arity: rejected while queueing
        pipe.execute_command("INCR", unique_key)
        with pytest.raises(asyncpool.ExecAbortError) as info:
            await pipe.execute()
    assert f"Command # 2 (SET {unique_key})" in str(info.value)
    assert isinstance(info.value.__cause__, asyncpool.ResponseError)
    assert "wrong number of arguments" in str(info.value.__cause__)
    assert await other.execute_command("EXISTS", unique_key) == 0  # nothing was applied
    assert r.pool.stats().in_use == 0
    await assert_clean_on_the_server(r, other)


async def test_runtime_error_inside_exec(r: asyncpool.Redis, unique_key: str) -> None:
    k = unique_key
    await r.execute_command("SET", k, "text")
    async with r.pipeline(transaction=True) as pipe:
        pipe.execute_command("LPUSH", k, "x").execute_command("SET", k + "b", "1")
        with pytest.raises(asyncpool.WrongTypeError, match="Command # 1 "):
            await pipe.execute()
        pipe.execute_command("LPUSH", k, "x").execute_command("GET", k + "b")
        results = await pipe.execute(raise_on_error=False)
    assert isinstance(results[0], asyncpool.WrongTypeError)
    assert results[1] == b"1"  # EXEC applies the rest: Redis has no rollback


async def test_watch_runs_commands_immediately(
    r: asyncpool.Redis, other: asyncpool.Redis, unique_key: str
) -> None:
    k = unique_key
    await r.execute_command("SET", k, "10")
    async with r.pipeline(transaction=True) as pipe:
        await pipe.watch(k)
        assert pipe.watching
        assert r.pool.stats().in_use == 1  # pinned
        value = await pipe.get(k)  # immediate, not queued
        assert value == b"10"
        assert len(pipe) == 0
        pipe.multi()
        assert pipe.set(k, int(value) + 1) is pipe  # queued again
        assert len(pipe) == 1
        assert await pipe.execute() == [True]
        assert not pipe.watching
        assert r.pool.stats().in_use == 0  # execute released the pinned connection
    assert await other.execute_command("GET", k) == b"11"
    await assert_clean_on_the_server(r, other, watched=k)  # EXEC ended the WATCH too


async def test_watch_conflict_raises_watch_error(
    r: asyncpool.Redis, other: asyncpool.Redis, unique_key: str
) -> None:
    k = unique_key
    async with r.pipeline(transaction=True) as pipe:
        await pipe.watch(k)
        await other.execute_command("SET", k, "changed")
        pipe.multi()
        pipe.execute_command("SET", k, "mine")
        with pytest.raises(asyncpool.WatchError):
            await pipe.execute()
    assert await r.execute_command("GET", k) == b"changed"
    assert r.pool.stats().in_use == 0


async def test_exception_while_watching_releases_and_resets(
    r: asyncpool.Redis, other: asyncpool.Redis, unique_key: str
) -> None:
    async def body() -> None:
        async with r.pipeline(transaction=True) as pipe:
            await pipe.watch(unique_key)
            raise RuntimeError("user code failed")

    with pytest.raises(RuntimeError):
        await body()
    assert r.pool.stats().in_use == 0
    # the pool cleans the connection that came back WATCHing before lending it again
    await asyncio.gather(*r.pool._recovering)
    assert r.pool.stats().idle == r.pool.stats().total == 1
    await assert_clean_on_the_server(r, other, watched=unique_key)


async def test_unwatch_and_reset_release(
    r: asyncpool.Redis, other: asyncpool.Redis, unique_key: str
) -> None:
    pipe = r.pipeline(transaction=True)
    await pipe.watch(unique_key)
    assert r.pool.stats().in_use == 1
    await pipe.unwatch()
    assert r.pool.stats().in_use == 0
    await pipe.watch(unique_key)
    assert r.pool.stats().in_use == 1
    await pipe.reset()
    assert r.pool.stats().in_use == 0
    assert not pipe.watching
    await asyncio.gather(*r.pool._recovering)  # released while WATCHing: the pool resets it
    await assert_clean_on_the_server(r, other, watched=unique_key)


async def test_multi_rules(r: asyncpool.Redis, unique_key: str) -> None:
    async with r.pipeline() as pipe:
        pipe.multi()
        with pytest.raises(asyncpool.RedisError):
            pipe.multi()
        with pytest.raises(asyncpool.RedisError):
            await pipe.watch(unique_key)
        pipe.execute_command("INCR", unique_key)
        assert await pipe.execute() == [1]  # multi() on a plain pipeline wraps MULTI/EXEC
    async with r.pipeline() as pipe:
        pipe.execute_command("PING")
        with pytest.raises(asyncpool.RedisError):
            pipe.multi()


async def test_transaction_retries_on_watch_error(
    r: asyncpool.Redis, other: asyncpool.Redis, unique_key: str
) -> None:
    k = unique_key
    await r.execute_command("SET", k, "1")
    attempts = 0

    async def double(pipe: Pipeline) -> int:
        nonlocal attempts
        attempts += 1
        value = int(await pipe.get(k))
        if attempts == 1:
            await other.execute_command("SET", k, "100")  # a concurrent writer, first time only
        pipe.multi()
        pipe.set(k, value * 2)
        return value * 2

    results = await r.transaction(double, k)
    assert attempts == 2
    assert results == [True]
    assert await r.execute_command("GET", k) == b"200"
    assert r.pool.stats().in_use == 0


async def test_transaction_value_from_callable_and_max_attempts(
    r: asyncpool.Redis, other: asyncpool.Redis, unique_key: str
) -> None:
    k = unique_key

    def queue_only(pipe: Pipeline) -> str:
        pipe.multi()
        pipe.execute_command("INCR", k)
        return "done"

    assert await r.transaction(queue_only, k, value_from_callable=True) == "done"
    assert await r.execute_command("GET", k) == b"1"

    calls = 0

    async def always_conflicts(pipe: Pipeline) -> Any:
        nonlocal calls
        calls += 1
        await other.execute_command("INCR", k)
        pipe.multi()
        pipe.execute_command("SET", k, "never")

    with pytest.raises(asyncpool.WatchError):
        await r.transaction(always_conflicts, k, max_attempts=3, watch_delay=0.001)
    assert calls == 3
    assert await r.execute_command("GET", k) == b"4"
    assert r.pool.stats().in_use == 0
