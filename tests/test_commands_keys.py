"""Generic key command methods (DEL, EXISTS, EXPIRE*, TTL, TYPE, RENAME, KEYS, SCAN)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

import asyncpool
from asyncpool.testing.pytest_plugin import AnyRedisServer

from ._util import ALL_BYTES


def glob(prefix: str) -> str:
    """A MATCH pattern for keys starting with ``prefix`` (its glob characters escaped)."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"


def needs_redis7(server: AnyRedisServer) -> None:
    version = server.version
    if version is not None and version < (7, 0, 0):
        pytest.skip(f"needs Redis 7 (server is {'.'.join(map(str, version))})")


async def test_delete_unlink_exists_count(r: asyncpool.Redis, unique_key: str) -> None:
    a, b, missing = unique_key + "a", unique_key + "b", unique_key + "missing"
    await r.mset({a: 1, b: 2})
    assert await r.exists(a, b, missing) == 2
    assert await r.exists(a, a) == 2
    assert await r.delete(a, missing) == 1
    assert await r.unlink(b) == 1
    assert await r.exists(a, b) == 0


async def test_binary_key_names(r: asyncpool.Redis, unique_key: str) -> None:
    key = unique_key.encode() + ALL_BYTES
    assert await r.set(key, ALL_BYTES) is True
    assert await r.get(key) == ALL_BYTES
    assert await r.exists(key) == 1
    assert key in await r.keys(glob(unique_key).encode())
    assert await r.delete(key) == 1


async def test_expire_ttl_persist(r: asyncpool.Redis, unique_key: str) -> None:
    key = unique_key + "k"
    assert await r.expire(key, 10) is False  # no such key
    await r.set(key, "v")
    assert await r.ttl(key) == -1
    assert await r.expire(key, timedelta(seconds=100)) is True
    assert 90 <= await r.ttl(key) <= 100
    assert await r.pexpire(key, 50_000) is True
    assert 40_000 <= await r.pttl(key) <= 50_000
    assert await r.persist(key) is True
    assert await r.persist(key) is False
    assert await r.ttl(key) == -1
    assert await r.ttl(unique_key + "missing") == -2
    assert await r.pttl(unique_key + "missing") == -2


async def test_expireat_accepts_datetime_and_int(r: asyncpool.Redis, unique_key: str) -> None:
    key = unique_key + "k"
    await r.set(key, "v")
    when = datetime.now(timezone.utc) + timedelta(seconds=100)
    assert await r.expireat(key, when) is True
    assert 90 <= await r.ttl(key) <= 100
    assert await r.expireat(key, int(time.time()) + 200) is True
    assert 190 <= await r.ttl(key) <= 200
    assert await r.pexpireat(key, when) is True
    assert 90_000 <= await r.pttl(key) <= 100_000


async def test_expire_conditions_redis7(
    r: asyncpool.Redis, unique_key: str, redis_server: AnyRedisServer
) -> None:
    needs_redis7(redis_server)
    key = unique_key + "k"
    await r.set(key, "v")
    assert await r.expire(key, 100, xx=True) is False  # has no timeout yet
    assert await r.expire(key, 100, nx=True) is True
    assert await r.expire(key, 50, gt=True) is False
    assert await r.expire(key, 200, gt=True) is True
    assert await r.pexpire(key, 10_000, lt=True) is True
    assert await r.expire(key, 300, xx=True, gt=True) is True


@pytest.mark.parametrize(
    "flags",
    [{"nx": True, "xx": True}, {"nx": True, "gt": True}, {"gt": True, "lt": True}],
)
def test_expire_bad_combinations(r: asyncpool.Redis, flags: dict[str, bool]) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.expire("k", 1, **flags)
    with pytest.raises(ValueError):
        r.pexpireat("k", 1, **flags)


async def test_type_is_str_and_rename(
    r: asyncpool.Redis, rd: asyncpool.Redis, unique_key: str
) -> None:
    src, dst = unique_key + "src", unique_key + "dst"
    await r.rpush(src, "x")
    assert await r.type(src) == "list"
    assert await rd.type(src) == "list"
    assert await r.type(unique_key + "missing") == "none"
    assert await r.rename(src, dst) is True
    assert await r.exists(src) == 0
    assert await rd.lrange(dst, 0, -1) == ["x"]
    with pytest.raises(asyncpool.ResponseError):
        await r.rename(unique_key + "missing", dst)


async def test_keys_and_scan(r: asyncpool.Redis, rd: asyncpool.Redis, unique_key: str) -> None:
    names = {f"{unique_key}{i}" for i in range(30)}
    await r.mset(dict.fromkeys(names, "v"))
    await r.sadd(unique_key + "set", "m")
    assert set(await rd.keys(glob(unique_key))) == names | {unique_key + "set"}
    cursor, batch = await r.scan(0, match=glob(unique_key), count=10)
    assert isinstance(cursor, int)
    assert isinstance(batch, list)
    seen = {k async for k in rd.scan_iter(match=glob(unique_key), count=7)}
    assert seen == names | {unique_key + "set"}
    only_sets = [k async for k in r.scan_iter(match=glob(unique_key), _type="set")]
    assert only_sets == [(unique_key + "set").encode()]


async def test_scan_iter_on_pinned_connection(r: asyncpool.Redis, unique_key: str) -> None:
    await r.mset({unique_key + "a": 1, unique_key + "b": 2})
    async with r.connection() as conn:
        found = sorted([k async for k in conn.scan_iter(match=glob(unique_key))])
    assert found == [(unique_key + "a").encode(), (unique_key + "b").encode()]


async def test_scan_iter_refused_on_pipeline(r: asyncpool.Redis) -> None:
    pipe = r.pipeline()
    with pytest.raises(TypeError, match="scan_iter"):
        pipe.scan_iter()


async def test_wrongtype_maps_to_wrongtypeerror(r: asyncpool.Redis, unique_key: str) -> None:
    await r.rpush(unique_key, "x")
    with pytest.raises(asyncpool.WrongTypeError):
        await r.get(unique_key)
    with pytest.raises(asyncpool.WrongTypeError):
        await r.hgetall(unique_key)
    assert await r.llen(unique_key) == 1  # the pool is fine afterwards
