"""The same data read under RESP2 and RESP3 gives identical Python values and types."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import asyncpool

from ._util import ALL_BYTES


@pytest.fixture(params=[False, True], ids=["bytes", "decoded"])
async def clients(
    request: pytest.FixtureRequest, redis_url: str
) -> AsyncIterator[tuple[asyncpool.Redis, asyncpool.Redis]]:
    decode: bool = request.param
    async with (
        asyncpool.Redis.from_url(redis_url, protocol=2, decode_responses=decode) as r2,
        asyncpool.Redis.from_url(redis_url, protocol=3, decode_responses=decode) as r3,
    ):
        yield r2, r3


def shape(value: Any) -> Any:
    """``value`` with every leaf replaced by its type, containers kept (order-free for sets)."""
    if isinstance(value, dict):
        return ("dict", sorted((repr(shape(k)), repr(shape(v))) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return ("set", sorted(repr(shape(v)) for v in value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [shape(v) for v in value])
    return type(value).__name__


async def test_read_replies_identical_across_protocols(
    clients: tuple[asyncpool.Redis, asyncpool.Redis], unique_key: str
) -> None:
    r2, r3 = clients
    k = unique_key
    text = "ü" if r2.pool.connection_options.decode_responses else ALL_BYTES
    await r2.hset(k + "h", mapping={"f": text, "n": 1})
    await r2.sadd(k + "s", "a", "b", text)
    await r2.sadd(k + "s2", "b")
    await r2.zadd(k + "z", {"a": 1, "b": 2.5, "c": -3})
    await r2.rpush(k + "l", "x", text)
    await r2.xadd(k + "x", {"f": text}, id="1-1")
    await r2.xadd(k + "x", {"g": "2"}, id="1-2")
    await r2.xgroup_create(k + "x", "g", id="0")
    await r2.xreadgroup("g", "c", {k + "x": ">"}, count=1)

    reads: list[Callable[[asyncpool.Redis], Awaitable[Any]]] = [
        lambda c: c.hgetall(k + "h"),
        lambda c: c.hscan(k + "h"),
        lambda c: c.hmget(k + "h", "f", "zz"),
        lambda c: c.smembers(k + "s"),
        lambda c: c.sinter(k + "s", k + "s2"),
        lambda c: c.sunion(k + "s", k + "s2"),
        lambda c: c.sdiff(k + "s", k + "s2"),
        lambda c: c.sscan(k + "s"),
        lambda c: c.smismember(k + "s", "a", "q"),
        lambda c: c.zrange(k + "z", 0, -1, withscores=True),
        lambda c: c.zrange(k + "z", 0, -1, desc=True),
        lambda c: c.zscore(k + "z", "b"),
        lambda c: c.zscan(k + "z"),
        lambda c: c.zrank(k + "z", "a"),
        lambda c: c.lrange(k + "l", 0, -1),
        lambda c: c.xrange(k + "x"),
        lambda c: c.xread({k + "x": 0}),
        lambda c: c.xpending(k + "x", "g"),
        lambda c: c.xpending_range(k + "x", "g", "-", "+", 5),
        lambda c: c.config_get("maxmemory-policy"),
        lambda c: c.exists(k + "h", k + "missing"),
        lambda c: c.type(k + "z"),
        lambda c: c.sismember(k + "s", "a"),
        lambda c: c.hexists(k + "h", "f"),
        lambda c: c.get(k + "missing"),
    ]
    for read in reads:
        v2, v3 = await read(r2), await read(r3)
        assert shape(v2) == shape(v3)
        assert without_idle_times(v2) == without_idle_times(v3)


async def test_write_replies_identical_across_protocols(
    clients: tuple[asyncpool.Redis, asyncpool.Redis], unique_key: str
) -> None:
    results = []
    for c in clients:
        k = f"{unique_key}{c.pool.connection_options.protocol}:"
        decoded = c.pool.connection_options.decode_responses
        await c.zadd(k + "p", {"m": 1, "n": 2, "o": 3})
        results.append(
            (
                await c.zincrby(k + "z", 1, "a"),
                await c.zadd(k + "z", {"a": 1}, incr=True),
                await c.incrbyfloat(k + "f", 1),
                await c.hincrbyfloat(k + "h", "fl", 1),
                await c.zpopmin(k + "p"),
                await c.zpopmax(k + "p", 1),
                await c.bzpopmin([k + "missing", k + "p"], timeout=1),
                await c.spop(k + "missing", 2),
                await c.set(k + "s", "v", get=True),
                await c.set(k + "s", "v", nx=True),
                await c.blpop(k + "missing", timeout=0.01),
            )
        )
        assert results[-1][4] == [("m" if decoded else b"m", 1.0)]
        seconds, micros = await c.time()
        assert type(seconds) is int
        assert type(micros) is int
    first, second = results
    assert shape(first) == shape(second)
    assert first[:4] == (1.0, 2.0, 1.0, 1.0)
    # the keys in the bzpopmin reply name different per-protocol keys: compare the rest
    popped_first, popped_second = first[6], second[6]
    assert popped_first is not None
    assert popped_second is not None
    assert (
        popped_first[1:]
        == popped_second[1:]
        == (("n" if isinstance(popped_first[1], str) else b"n"), 2.0)
    )
    assert first[7:] == second[7:] == (set(), None, None, None)


def without_idle_times(value: Any) -> Any:
    """XPENDING details carry an idle time that moves between two calls."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [{k: v for k, v in d.items() if k != "time_since_delivered"} for d in value]
    return value
