"""Hash, list and set command methods on a real server."""

from __future__ import annotations

import asyncio

import pytest

import asyncpool

from ._util import ALL_BYTES


# -- hashes ---------------------------------------------------------------------------------
async def test_hset_forms_and_hgetall(r: asyncpool.Redis, unique_key: str) -> None:
    assert await r.hset(unique_key, "a", ALL_BYTES) == 1
    assert await r.hset(unique_key, mapping={"b": 2, ALL_BYTES: "c"}) == 2
    assert await r.hset(unique_key, items=["d", 4, "a", "again"]) == 1
    assert await r.hgetall(unique_key) == {
        b"a": b"again",
        b"b": b"2",
        ALL_BYTES: b"c",
        b"d": b"4",
    }
    assert await r.hgetall(unique_key + "missing") == {}
    with pytest.raises(asyncpool.ConfigError):
        r.hset(unique_key)
    with pytest.raises(asyncpool.ConfigError):
        r.hset(unique_key, items=["odd"])


async def test_hash_reads(rd: asyncpool.Redis, unique_key: str) -> None:
    await rd.hset(unique_key, mapping={"f1": "v1", "f2": "v2"})
    assert await rd.hget(unique_key, "f1") == "v1"
    assert await rd.hget(unique_key, "nope") is None
    assert await rd.hmget(unique_key, ["f1", "nope"], "f2") == ["v1", None, "v2"]
    assert await rd.hexists(unique_key, "f1") is True
    assert await rd.hexists(unique_key, "nope") is False
    assert sorted(await rd.hkeys(unique_key)) == ["f1", "f2"]
    assert sorted(await rd.hvals(unique_key)) == ["v1", "v2"]
    assert await rd.hlen(unique_key) == 2
    assert await rd.hdel(unique_key, "f1", "nope") == 1
    assert await rd.hgetall(unique_key) == {"f2": "v2"}


async def test_hincr(r: asyncpool.Redis, unique_key: str) -> None:
    assert await r.hincrby(unique_key, "n") == 1
    assert await r.hincrby(unique_key, "n", 9) == 10
    result = await r.hincrbyfloat(unique_key, "x", 0.5)
    assert isinstance(result, float)
    assert result == 0.5


async def test_hscan(r: asyncpool.Redis, unique_key: str) -> None:
    fields = {f"f{i}".encode(): str(i).encode() for i in range(40)}
    fields[ALL_BYTES] = ALL_BYTES
    await r.hset(unique_key, mapping=fields)
    cursor, batch = await r.hscan(unique_key, count=5)
    assert isinstance(cursor, int)
    assert isinstance(batch, dict)
    seen = dict([pair async for pair in r.hscan_iter(unique_key, count=5)])
    assert seen == fields
    only = [pair async for pair in r.hscan_iter(unique_key, match="f1?")]
    assert sorted(only) == sorted((f"f{i}".encode(), str(i).encode()) for i in range(10, 20))


# -- lists ----------------------------------------------------------------------------------
async def test_push_pop_range(r: asyncpool.Redis, unique_key: str) -> None:
    assert await r.rpush(unique_key, "b", ALL_BYTES) == 2
    assert await r.lpush(unique_key, "a") == 3
    assert await r.lrange(unique_key, 0, -1) == [b"a", b"b", ALL_BYTES]
    assert await r.llen(unique_key) == 3
    assert await r.lindex(unique_key, -1) == ALL_BYTES
    assert await r.lindex(unique_key, 10) is None
    assert await r.rpop(unique_key) == ALL_BYTES
    assert await r.lpop(unique_key) == b"a"
    await r.rpush(unique_key, "c", "d")
    assert await r.lpop(unique_key, 2) == [b"b", b"c"]
    assert await r.rpop(unique_key, 5) == [b"d"]
    assert await r.lpop(unique_key) is None
    assert await r.lpop(unique_key, 2) is None


async def test_lrem_ltrim(rd: asyncpool.Redis, unique_key: str) -> None:
    await rd.rpush(unique_key, "x", "y", "x", "z", "x")
    assert await rd.lrem(unique_key, 2, "x") == 2
    assert await rd.lrange(unique_key, 0, -1) == ["y", "z", "x"]
    assert await rd.ltrim(unique_key, 0, 1) is True
    assert await rd.lrange(unique_key, 0, -1) == ["y", "z"]


async def test_lmove_and_bad_direction(rd: asyncpool.Redis, unique_key: str) -> None:
    src, dst = unique_key + "src", unique_key + "dst"
    await rd.rpush(src, "1", "2", "3")
    assert await rd.lmove(src, dst) == "1"
    assert await rd.lmove(src, dst, "right", "left") == "3"
    assert await rd.lrange(dst, 0, -1) == ["3", "1"]
    assert await rd.lmove(unique_key + "empty", dst) is None
    with pytest.raises(asyncpool.ConfigError):
        rd.lmove(src, dst, "UP")


async def test_blocking_pops(r: asyncpool.Redis, unique_key: str) -> None:
    a, b = unique_key + "a", unique_key + "b"
    assert await r.blpop([a, b], timeout=0.05) is None
    assert await r.brpop(a, timeout=0.05) is None
    assert await r.blmove(a, b, timeout=0.05) is None
    await r.rpush(b, "x", ALL_BYTES)
    assert await r.blpop([a, b], timeout=1) == (b.encode(), b"x")
    assert await r.brpop([a, b], timeout=1) == (b.encode(), ALL_BYTES)
    await r.rpush(a, "m")
    assert await r.blmove(a, b, 1, "LEFT", "LEFT") == b"m"
    with pytest.raises(asyncpool.ConfigError):
        r.blpop(a, timeout=-1)


async def test_blpop_waits_for_a_push(r: asyncpool.Redis, unique_key: str) -> None:
    waiter = asyncio.ensure_future(r.blpop(unique_key, timeout=10))
    # The push may land before or after BLPOP starts waiting: both must give the value.
    await r.rpush(unique_key, "late")
    assert await asyncio.wait_for(waiter, 10) == (unique_key.encode(), b"late")


# -- sets -----------------------------------------------------------------------------------
async def test_set_basics(r: asyncpool.Redis, unique_key: str) -> None:
    assert await r.sadd(unique_key, "a", "b", ALL_BYTES, "a") == 3
    members = await r.smembers(unique_key)
    assert isinstance(members, set)
    assert members == {b"a", b"b", ALL_BYTES}
    assert await r.smembers(unique_key + "missing") == set()
    assert await r.sismember(unique_key, ALL_BYTES) is True
    assert await r.sismember(unique_key, "zz") is False
    assert await r.smismember(unique_key, ["a", "zz"], "b") == [True, False, True]
    assert await r.scard(unique_key) == 3
    assert await r.srem(unique_key, "a", "zz") == 1


async def test_set_algebra(rd: asyncpool.Redis, unique_key: str) -> None:
    a, b = unique_key + "a", unique_key + "b"
    await rd.sadd(a, "1", "2", "3")
    await rd.sadd(b, "3", "4")
    assert await rd.sinter(a, b) == {"3"}
    assert await rd.sunion([a, b]) == {"1", "2", "3", "4"}
    assert await rd.sdiff(a, b) == {"1", "2"}
    assert await rd.sinter([a, unique_key + "missing"]) == set()


async def test_spop_srandmember(rd: asyncpool.Redis, unique_key: str) -> None:
    await rd.sadd(unique_key, "x", "y", "z")
    one = await rd.srandmember(unique_key)
    assert one in {"x", "y", "z"}
    many = await rd.srandmember(unique_key, -5)
    assert isinstance(many, list)
    assert len(many) == 5
    popped = await rd.spop(unique_key)
    assert popped in {"x", "y", "z"}
    rest = await rd.spop(unique_key, 5)
    assert isinstance(rest, set)
    assert rest | {popped} == {"x", "y", "z"}
    assert await rd.spop(unique_key) is None
    assert await rd.spop(unique_key, 2) == set()


async def test_sscan(r: asyncpool.Redis, unique_key: str) -> None:
    members = {f"m{i}".encode() for i in range(200)} | {ALL_BYTES}
    await r.sadd(unique_key, *members)
    cursor, batch = await r.sscan(unique_key, count=10)
    assert isinstance(cursor, int)
    assert isinstance(batch, set)
    assert {m async for m in r.sscan_iter(unique_key, count=20)} == members


async def test_wrongtype(r: asyncpool.Redis, unique_key: str) -> None:
    await r.set(unique_key, "s")
    for call in (
        lambda: r.hget(unique_key, "f"),
        lambda: r.lpush(unique_key, "x"),
        lambda: r.smembers(unique_key),
        lambda: r.blpop(unique_key, timeout=0.01),
    ):
        with pytest.raises(asyncpool.WrongTypeError):
            await call()
