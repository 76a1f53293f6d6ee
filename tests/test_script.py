"""Script: EVALSHA by a locally computed SHA1, loading on NOSCRIPT, and in pipelines."""

from __future__ import annotations

import hashlib

import pytest

import asyncpool

INCR_BY = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


async def test_sha_is_computed_locally(r: asyncpool.Redis) -> None:
    script = r.register_script(INCR_BY)
    assert script.sha == hashlib.sha1(INCR_BY.encode()).hexdigest()
    assert r.register_script(INCR_BY.encode()).sha == script.sha
    assert await r.execute_command("SCRIPT", "LOAD", INCR_BY) == script.sha.encode()


async def test_runs_and_reloads_after_script_flush(r: asyncpool.Redis, unique_key: str) -> None:
    script = r.register_script(INCR_BY)
    assert await script(keys=[unique_key], args=[5]) == 5
    await r.execute_command("SCRIPT", "FLUSH")
    assert await r.execute_command("SCRIPT", "EXISTS", script.sha) == [0]
    assert await script(keys=[unique_key], args=[2]) == 7  # NOSCRIPT -> SCRIPT LOAD -> EVALSHA
    assert await r.execute_command("SCRIPT", "EXISTS", script.sha) == [1]
    assert r.pool.stats().in_use == 0


async def test_script_errors_are_raised(r: asyncpool.Redis, unique_key: str) -> None:
    await r.execute_command("SET", unique_key, "text")
    script = r.register_script(INCR_BY)
    with pytest.raises(asyncpool.ResponseError):
        await script(keys=[unique_key], args=[1])
    broken = r.register_script("this is not lua")
    with pytest.raises(asyncpool.ResponseError):
        await broken()


async def test_other_client_and_pinned_connection(
    r: asyncpool.Redis, redis_url: str, unique_key: str
) -> None:
    script = asyncpool.Script(None, INCR_BY)
    with pytest.raises(TypeError):
        await script(keys=[unique_key], args=[1])
    await r.execute_command("SCRIPT", "FLUSH")
    async with r.connection() as conn:
        assert await script(keys=[unique_key], args=[1], client=conn) == 1
    async with asyncpool.Redis.from_url(redis_url, decode_responses=True) as text_client:
        await text_client.execute_command("SCRIPT", "FLUSH")
        assert await script(keys=[unique_key], args=[1], client=text_client) == 2


async def test_in_a_pipeline_after_script_flush(r: asyncpool.Redis, unique_key: str) -> None:
    script = r.register_script(INCR_BY)
    echo = r.register_script("return ARGV[1]")
    await r.execute_command("SCRIPT", "FLUSH")
    async with r.pipeline() as pipe:
        assert await script(keys=[unique_key], args=[3], client=pipe) is pipe
        pipe.execute_command("GET", unique_key)
        await echo(args=["hi"], client=pipe)
        await script(keys=[unique_key], args=[1], client=pipe)
        assert len(pipe) == 4
        assert await pipe.execute() == [3, b"3", b"hi", 4]
    await r.execute_command("SCRIPT", "FLUSH")
    async with r.pipeline(transaction=True) as pipe:
        await script(keys=[unique_key], args=[10], client=pipe)
        assert await pipe.execute() == [14]
    assert r.pool.stats().in_use == 0


async def test_in_watch_mode_runs_immediately(r: asyncpool.Redis, unique_key: str) -> None:
    script = r.register_script(INCR_BY)
    await r.execute_command("SCRIPT", "FLUSH")
    async with r.pipeline(transaction=True) as pipe:
        await pipe.watch(unique_key)
        assert await script(keys=[unique_key], args=[2], client=pipe) == 2
        pipe.multi()
        await script(keys=[unique_key], args=[1], client=pipe)
        with pytest.raises(asyncpool.WatchError):  # our own immediate write touched the key
            await pipe.execute()
    assert await r.execute_command("GET", unique_key) == b"2"
