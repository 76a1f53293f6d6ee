"""String and bitmap command methods on a real server."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

import asyncpool
from asyncpool.testing.pytest_plugin import AnyRedisServer

ALL_BYTES = bytes(range(256)) + b"\r\n*1\r\n"


async def test_binary_values_round_trip(r: asyncpool.Redis, unique_key: str) -> None:
    assert await r.set(unique_key, ALL_BYTES) is True
    assert await r.get(unique_key) == ALL_BYTES
    assert await r.strlen(unique_key) == len(ALL_BYTES)
    assert await r.getrange(unique_key, 0, 255) == bytes(range(256))
    assert await r.append(unique_key, b"\x00") == len(ALL_BYTES) + 1
    assert await r.getdel(unique_key) == ALL_BYTES + b"\x00"
    assert await r.get(unique_key) is None


async def test_decoded_values(rd: asyncpool.Redis, unique_key: str) -> None:
    assert await rd.set(unique_key, "grüße\r\n") is True
    assert await rd.get(unique_key) == "grüße\r\n"
    assert await rd.mget([unique_key, unique_key + "missing"]) == ["grüße\r\n", None]


async def test_set_nx_xx_get(r: asyncpool.Redis, unique_key: str) -> None:
    assert await r.set(unique_key, "a", xx=True) is None
    assert await r.set(unique_key, "a", nx=True) is True
    assert await r.set(unique_key, "b", nx=True) is None
    assert await r.set(unique_key, "c", xx=True) is True
    assert await r.set(unique_key, "d", get=True) == b"c"
    assert await r.set(unique_key + "new", "x", get=True) is None
    assert await r.get(unique_key) == b"d"


async def test_set_get_with_nx_redis7(
    r: asyncpool.Redis, unique_key: str, redis_server: AnyRedisServer
) -> None:
    version = redis_server.version
    if version is not None and version < (7, 0, 0):
        pytest.skip("SET NX GET needs Redis 7")
    await r.set(unique_key, "old")
    assert await r.set(unique_key, "new", nx=True, get=True) == b"old"
    assert await r.get(unique_key) == b"old"


async def test_set_expiry_forms(r: asyncpool.Redis, unique_key: str) -> None:
    await r.set(unique_key, "v", ex=100)
    assert 90 <= await r.ttl(unique_key) <= 100
    await r.set(unique_key, "v", px=timedelta(seconds=50))
    assert 40_000 <= await r.pttl(unique_key) <= 50_000
    await r.set(unique_key, "v", ex=timedelta(seconds=2, milliseconds=500))
    assert 1_500 <= await r.pttl(unique_key) <= 2_500
    await r.set(unique_key, "v", exat=datetime.now(timezone.utc) + timedelta(seconds=300))
    assert 290 <= await r.ttl(unique_key) <= 300
    await r.set(unique_key, "v", pxat=int(time.time() * 1000) + 400_000)
    assert 390 <= await r.ttl(unique_key) <= 400
    await r.set(unique_key, "w", keepttl=True)
    assert 390 <= await r.ttl(unique_key) <= 400
    await r.set(unique_key, "x")
    assert await r.ttl(unique_key) == -1


@pytest.mark.parametrize(
    "options",
    [
        {"ex": 1, "px": 1000},
        {"ex": 1, "exat": 2_000_000_000},
        {"px": 1, "keepttl": True},
        {"nx": True, "xx": True},
    ],
)
def test_set_bad_combinations(r: asyncpool.Redis, options: dict[str, object]) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.set("k", "v", **options)  # type: ignore[arg-type]


async def test_mget_mset(r: asyncpool.Redis, unique_key: str) -> None:
    a, b = unique_key + "a", unique_key + "b"
    assert await r.mset({a: ALL_BYTES, b: 2}) is True
    assert await r.mget(a, b, unique_key + "c") == [ALL_BYTES, b"2", None]
    assert await r.mget([a], b) == [ALL_BYTES, b"2"]
    with pytest.raises(asyncpool.ConfigError):
        r.mset({})


async def test_counters(r: asyncpool.Redis, unique_key: str) -> None:
    assert await r.incr(unique_key) == 1
    assert await r.incr(unique_key, 5) == 6
    assert await r.incrby(unique_key, 4) == 10
    assert await r.decr(unique_key) == 9
    assert await r.decr(unique_key, 3) == 6
    assert await r.decrby(unique_key, 6) == 0
    value = await r.incrbyfloat(unique_key, 1.5)
    assert isinstance(value, float)
    assert value == 1.5
    assert await r.incrbyfloat(unique_key, -0.25) == 1.25
    await r.set(unique_key, "x")
    with pytest.raises(asyncpool.ResponseError, match="not an integer"):
        await r.incr(unique_key)


async def test_getex(r: asyncpool.Redis, unique_key: str) -> None:
    await r.set(unique_key, ALL_BYTES)
    assert await r.getex(unique_key, ex=100) == ALL_BYTES
    assert 90 <= await r.ttl(unique_key) <= 100
    assert await r.getex(unique_key, px=timedelta(seconds=20)) == ALL_BYTES
    assert 10 <= await r.ttl(unique_key) <= 20
    assert await r.getex(unique_key, persist=True) == ALL_BYTES
    assert await r.ttl(unique_key) == -1
    assert await r.getex(unique_key + "missing") is None
    with pytest.raises(asyncpool.ConfigError):
        r.getex(unique_key, ex=1, persist=True)


async def test_ranges(r: asyncpool.Redis, unique_key: str) -> None:
    await r.set(unique_key, "Hello World")
    assert await r.setrange(unique_key, 6, b"Redis") == 11
    assert await r.getrange(unique_key, 6, -1) == b"Redis"
    assert await r.setrange(unique_key + "new", 2, "x") == 3
    assert await r.get(unique_key + "new") == b"\x00\x00x"


async def test_bits(r: asyncpool.Redis, unique_key: str) -> None:
    assert await r.setbit(unique_key, 7, 1) == 0
    assert await r.setbit(unique_key, 7, 1) == 1
    assert await r.getbit(unique_key, 7) == 1
    assert await r.getbit(unique_key, 100) == 0
    await r.setbit(unique_key, 15, 1)
    assert await r.get(unique_key) == b"\x01\x01"
    assert await r.bitcount(unique_key) == 2
    assert await r.bitcount(unique_key, 1, 1) == 1
    with pytest.raises(asyncpool.ConfigError):
        r.bitcount(unique_key, 1)


async def test_wrongtype(r: asyncpool.Redis, unique_key: str) -> None:
    await r.hset(unique_key, "f", "v")
    with pytest.raises(asyncpool.WrongTypeError):
        await r.append(unique_key, "x")
    with pytest.raises(asyncpool.WrongTypeError):
        await r.getex(unique_key, ex=5)
