"""Sorted-set command methods on a real server: scores are floats in both protocols."""

from __future__ import annotations

import asyncio

import pytest

import asyncpool

from ._util import ALL_BYTES


async def test_zadd_options(r: asyncpool.Redis, unique_key: str) -> None:
    assert await r.zadd(unique_key, {"a": 1, "b": 2}) == 2
    assert await r.zadd(unique_key, {"a": 5}, nx=True) == 0
    assert await r.zadd(unique_key, {"a": 5, "c": 3}, xx=True, ch=True) == 1
    assert await r.zadd(unique_key, {"a": 4}, gt=True, ch=True) == 0
    assert await r.zadd(unique_key, {"a": 4}, lt=True, ch=True) == 1
    new = await r.zadd(unique_key, {"b": 0.5}, incr=True)
    assert isinstance(new, float)
    assert new == 2.5
    assert await r.zadd(unique_key, {"b": 1}, incr=True, nx=True) is None
    assert await r.zscore(unique_key, "a") == 4.0
    assert await r.zscore(unique_key, "nope") is None


@pytest.mark.parametrize(
    "options",
    [
        {"nx": True, "xx": True},
        {"nx": True, "gt": True},
        {"gt": True, "lt": True},
    ],
)
def test_zadd_bad_combinations(r: asyncpool.Redis, options: dict[str, bool]) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.zadd("k", {"a": 1}, **options)


def test_zadd_incr_needs_one_member_and_mapping(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.zadd("k", {"a": 1, "b": 2}, incr=True)
    with pytest.raises(asyncpool.ConfigError):
        r.zadd("k", {})


async def test_zrange_variants(r: asyncpool.Redis, unique_key: str) -> None:
    await r.zadd(unique_key, {"a": 1, "b": 2.5, "c": 3, ALL_BYTES: 4})
    assert await r.zrange(unique_key, 0, -1) == [b"a", b"b", b"c", ALL_BYTES]
    pairs = await r.zrange(unique_key, 0, 1, withscores=True)
    assert pairs == [(b"a", 1.0), (b"b", 2.5)]
    assert all(type(pair[1]) is float for pair in pairs)
    assert await r.zrange(unique_key, 0, 0, desc=True, withscores=True) == [(ALL_BYTES, 4.0)]
    assert await r.zrange(unique_key, 2, "(4", byscore=True) == [b"b", b"c"]
    assert await r.zrange(unique_key, "+inf", 2, byscore=True, desc=True, offset=1, num=2) == [
        b"c",
        b"b",
    ]
    assert await r.zrange(unique_key, "-inf", "+inf", byscore=True, offset=0, num=1) == [b"a"]


async def test_zrange_bylex(rd: asyncpool.Redis, unique_key: str) -> None:
    await rd.zadd(unique_key, dict.fromkeys(("a", "b", "c", "d"), 0))
    assert await rd.zrange(unique_key, "[b", "(d", bylex=True) == ["b", "c"]
    assert await rd.zrange(unique_key, "+", "-", bylex=True, desc=True, offset=0, num=2) == [
        "d",
        "c",
    ]


@pytest.mark.parametrize(
    "options",
    [
        {"byscore": True, "bylex": True},
        {"offset": 1},
        {"offset": 1, "num": 2},
        {"bylex": True, "withscores": True},
    ],
)
def test_zrange_bad_combinations(r: asyncpool.Redis, options: dict[str, object]) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.zrange("k", 0, 1, **options)  # type: ignore[arg-type]


async def test_zset_reads(rd: asyncpool.Redis, unique_key: str) -> None:
    await rd.zadd(unique_key, {"a": 1, "b": 2, "c": 3})
    assert await rd.zcard(unique_key) == 3
    assert await rd.zcount(unique_key, 2, "+inf") == 2
    assert await rd.zcount(unique_key, "(1", 2) == 1
    assert await rd.zrank(unique_key, "c") == 2
    assert await rd.zrevrank(unique_key, "c") == 0
    assert await rd.zrank(unique_key, "nope") is None
    score = await rd.zincrby(unique_key, 1.5, "a")
    assert isinstance(score, float)
    assert score == 2.5
    assert await rd.zrem(unique_key, "a", "nope") == 1


async def test_pops(rd: asyncpool.Redis, unique_key: str) -> None:
    await rd.zadd(unique_key, {"a": 1, "b": 2, "c": 3, "d": 4})
    assert await rd.zpopmin(unique_key) == [("a", 1.0)]
    assert await rd.zpopmax(unique_key) == [("d", 4.0)]
    assert await rd.zpopmin(unique_key, 1) == [("b", 2.0)]
    assert await rd.zpopmax(unique_key, 5) == [("c", 3.0)]
    assert await rd.zpopmin(unique_key) == []
    assert await rd.zpopmax(unique_key, 2) == []


async def test_blocking_pops(r: asyncpool.Redis, unique_key: str) -> None:
    a, b = unique_key + "a", unique_key + "b"
    assert await r.bzpopmin([a, b], timeout=0.05) is None
    assert await r.bzpopmax(a, timeout=0.05) is None
    await r.zadd(b, {"x": 1, ALL_BYTES: 2})
    assert await r.bzpopmin([a, b], timeout=1) == (b.encode(), b"x", 1.0)
    assert await r.bzpopmax([a, b], timeout=1) == (b.encode(), ALL_BYTES, 2.0)
    waiter = asyncio.ensure_future(r.bzpopmin(a, timeout=10))
    await r.zadd(a, {"late": 7})
    assert await asyncio.wait_for(waiter, 10) == (a.encode(), b"late", 7.0)
    with pytest.raises(asyncpool.ConfigError):
        r.bzpopmax(a, timeout=-1)


async def test_zscan(r: asyncpool.Redis, unique_key: str) -> None:
    mapping = {f"m{i}".encode(): float(i) / 2 for i in range(300)}
    await r.zadd(unique_key, mapping)
    cursor, batch = await r.zscan(unique_key, count=10)
    assert isinstance(cursor, int)
    assert all(isinstance(score, float) for _, score in batch)
    seen = dict([pair async for pair in r.zscan_iter(unique_key, count=50)])
    assert seen == mapping


async def test_wrongtype(r: asyncpool.Redis, unique_key: str) -> None:
    await r.set(unique_key, "s")
    with pytest.raises(asyncpool.WrongTypeError):
        await r.zadd(unique_key, {"a": 1})
    with pytest.raises(asyncpool.WrongTypeError):
        await r.zrange(unique_key, 0, -1, withscores=True)
