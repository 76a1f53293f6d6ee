"""Stream command methods on a real server: one shape for entries in both protocols."""

from __future__ import annotations

import asyncio

import pytest

import asyncpool
from asyncpool.testing.pytest_plugin import AnyRedisServer

from ._util import ALL_BYTES


async def test_xadd_xrange_binary(r: asyncpool.Redis, unique_key: str) -> None:
    first = await r.xadd(unique_key, {"f": ALL_BYTES, ALL_BYTES: "v"})
    assert isinstance(first, bytes)
    second = await r.xadd(unique_key, {"n": 2}, id="9999999999999-0")
    assert second == b"9999999999999-0"
    assert await r.xrange(unique_key) == [
        (first, {b"f": ALL_BYTES, ALL_BYTES: b"v"}),
        (second, {b"n": b"2"}),
    ]
    assert await r.xrevrange(unique_key, count=1) == [(second, {b"n": b"2"})]
    assert await r.xrange(unique_key, min=second) == [(second, {b"n": b"2"})]
    assert await r.xlen(unique_key) == 2
    assert await r.xrange(unique_key + "missing") == []


async def test_xadd_trimming(rd: asyncpool.Redis, unique_key: str) -> None:
    for i in range(10):
        await rd.xadd(unique_key, {"i": i}, id=f"{i + 1}-0", maxlen=5, approximate=False)
    assert await rd.xlen(unique_key) == 5
    await rd.xadd(unique_key, {"i": 10}, id="11-0", minid="9-0", approximate=False)
    assert [entry_id for entry_id, _ in await rd.xrange(unique_key)] == ["9-0", "10-0", "11-0"]
    await rd.xadd(unique_key, {"i": 11}, maxlen=1, approximate=True, limit=10)
    assert await rd.xadd(unique_key + "missing", {"a": 1}, nomkstream=True) is None
    assert await rd.exists(unique_key + "missing") == 0


@pytest.mark.parametrize(
    "options",
    [
        {"maxlen": 1, "minid": "1-0"},
        {"limit": 5},
        {"maxlen": 5, "approximate": False, "limit": 5},
    ],
)
def test_xadd_bad_trim_options(r: asyncpool.Redis, options: dict[str, object]) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.xadd("k", {"f": "v"}, **options)  # type: ignore[call-overload]
    with pytest.raises(asyncpool.ConfigError):
        r.xadd("k", {})


async def test_xtrim_xdel(rd: asyncpool.Redis, unique_key: str) -> None:
    ids = [await rd.xadd(unique_key, {"i": i}) for i in range(6)]
    assert await rd.xdel(unique_key, ids[0], "1-999") == 1
    assert await rd.xtrim(unique_key, maxlen=3, approximate=False) == 2
    assert await rd.xtrim(unique_key, minid=ids[5], approximate=False) == 2
    assert await rd.xlen(unique_key) == 1
    with pytest.raises(asyncpool.ConfigError):
        rd.xtrim(unique_key)


async def test_xread(r: asyncpool.Redis, unique_key: str) -> None:
    a, b = unique_key + "a", unique_key + "b"
    id_a = await r.xadd(a, {"k": ALL_BYTES})
    id_b = await r.xadd(b, {"k": "b"})
    result = await r.xread({a: 0, b: "0-0"})
    assert result == {
        a.encode(): [(id_a, {b"k": ALL_BYTES})],
        b.encode(): [(id_b, {b"k": b"b"})],
    }
    assert await r.xread({a: id_a}, count=5) == {}
    assert await r.xread({a: "$"}, block=50) == {}
    with pytest.raises(asyncpool.ConfigError):
        r.xread({})


async def test_xread_block_wakes_on_xadd(rd: asyncpool.Redis, unique_key: str) -> None:
    old_id = await rd.xadd(unique_key, {"old": 1})
    # Reading after old_id (not "$") gives the same answer whether the XADD lands
    # before or while XREAD blocks.
    reader = asyncio.ensure_future(rd.xread({unique_key: old_id}, block=10_000))
    new_id = await rd.xadd(unique_key, {"new": 2})
    assert await asyncio.wait_for(reader, 10) == {unique_key: [(new_id, {"new": "2"})]}


async def test_consumer_group_flow(rd: asyncpool.Redis, unique_key: str) -> None:
    assert await rd.xgroup_create(unique_key, "g", id="0", mkstream=True) is True
    with pytest.raises(asyncpool.ResponseError, match="BUSYGROUP"):
        await rd.xgroup_create(unique_key, "g")
    ids = [await rd.xadd(unique_key, {"n": i}) for i in range(3)]
    got = await rd.xreadgroup("g", "alice", {unique_key: ">"}, count=2)
    assert got == {unique_key: [(ids[0], {"n": "0"}), (ids[1], {"n": "1"})]}
    assert await rd.xreadgroup("g", "bob", {unique_key: ">"}, noack=True) == {
        unique_key: [(ids[2], {"n": "2"})]
    }
    assert await rd.xreadgroup("g", "bob", {unique_key: ">"}, block=20) == {}
    summary = await rd.xpending(unique_key, "g")
    assert summary == {
        "pending": 2,
        "min": ids[0],
        "max": ids[1],
        "consumers": [{"name": "alice", "pending": 2}],
    }
    detail = await rd.xpending_range(unique_key, "g", "-", "+", 10, consumername="alice")
    assert [d["message_id"] for d in detail] == ids[:2]
    assert all(d["consumer"] == "alice" and d["times_delivered"] == 1 for d in detail)
    assert await rd.xpending_range(unique_key, "g", "-", "+", 10, idle=3_600_000) == []
    # re-reading alice's history gives her pending entries again
    history = await rd.xreadgroup("g", "alice", {unique_key: "0"})
    assert [entry_id for entry_id, _ in history[unique_key]] == ids[:2]
    assert await rd.xack(unique_key, "g", ids[0], "0-1") == 1
    assert (await rd.xpending(unique_key, "g"))["pending"] == 1


async def test_xautoclaim(
    rd: asyncpool.Redis, unique_key: str, redis_server: AnyRedisServer
) -> None:
    await rd.xgroup_create(unique_key, "g", id="0", mkstream=True)
    ids = [await rd.xadd(unique_key, {"n": i}) for i in range(3)]
    await rd.xreadgroup("g", "alice", {unique_key: ">"})
    next_id, claimed, deleted = await rd.xautoclaim(unique_key, "g", "bob", 0, count=2)
    assert claimed == [(ids[0], {"n": "0"}), (ids[1], {"n": "1"})]
    assert deleted == []
    assert next_id == ids[2]
    next_id, claimed_ids, _ = await rd.xautoclaim(
        unique_key, "g", "carol", 0, start_id=next_id, justid=True
    )
    assert claimed_ids == [ids[2]]
    assert next_id == "0-0"
    version = redis_server.version
    if version is None or version >= (7, 0, 0):
        assert ids[0] is not None
        await rd.xdel(unique_key, ids[0])
        _, claimed, deleted = await rd.xautoclaim(unique_key, "g", "dave", 0)
        assert deleted == [ids[0]]
        assert [entry_id for entry_id, _ in claimed] == ids[1:]


async def test_wrongtype(r: asyncpool.Redis, unique_key: str) -> None:
    await r.set(unique_key, "s")
    with pytest.raises(asyncpool.WrongTypeError):
        await r.xadd(unique_key, {"f": "v"})
    with pytest.raises(asyncpool.WrongTypeError):
        await r.xread({unique_key: 0})
