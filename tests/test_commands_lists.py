"""List commands added for redis-py parity: LSET, LINSERT, LPOS, *PUSHX, RPOPLPUSH, LMPOP."""

from __future__ import annotations

import pytest

import asyncpool

from ._commands import enc, need


async def test_lset_linsert(client: asyncpool.Redis, unique_key: str) -> None:
    await client.rpush(unique_key, "a", "b", "c")
    assert await client.lset(unique_key, 1, "B") is True
    with pytest.raises(asyncpool.ResponseError):
        await client.lset(unique_key, 10, "x")
    assert await client.linsert(unique_key, "before", "B", "a2") == 4
    assert await client.linsert(unique_key, "AFTER", "c", "d") == 5
    assert await client.linsert(unique_key, "AFTER", "zz", "d") == -1
    assert await client.lrange(unique_key, 0, -1) == enc(client, ["a", "a2", "B", "c", "d"])


async def test_lpos(client: asyncpool.Redis, unique_key: str) -> None:
    await client.rpush(unique_key, "a", "b", "c", "b", "b")
    assert await client.lpos(unique_key, "b") == 1
    assert await client.lpos(unique_key, "b", rank=2) == 3
    assert await client.lpos(unique_key, "b", rank=-1) == 4
    assert await client.lpos(unique_key, "b", count=0) == [1, 3, 4]
    assert await client.lpos(unique_key, "b", count=2, maxlen=3) == [1]
    assert await client.lpos(unique_key, "z") is None


async def test_pushx_and_rpoplpush(client: asyncpool.Redis, unique_key: str) -> None:
    src, dst = unique_key + "s", unique_key + "d"
    assert await client.lpushx(src, "x") == 0
    assert await client.rpushx(src, "x") == 0
    await client.rpush(src, "m")
    assert await client.lpushx(src, "l") == 2
    assert await client.rpushx(src, "r", "s") == 4
    assert await client.rpoplpush(src, dst) == enc(client, "s")
    assert await client.brpoplpush(src, dst, timeout=1) == enc(client, "r")
    assert await client.lrange(dst, 0, -1) == enc(client, ["r", "s"])
    assert await client.rpoplpush(unique_key + "none", dst) is None
    assert await client.brpoplpush(unique_key + "none", dst, timeout=0.05) is None


async def test_lmove_keywords_of_redis_py(client: asyncpool.Redis, unique_key: str) -> None:
    a, b = unique_key + "a", unique_key + "b"
    await client.rpush(a, "1", "2")
    moved = await client.lmove(first_list=a, second_list=b, src="RIGHT", dest="LEFT")
    assert moved == enc(client, "2")
    moved = await client.blmove(first_list=a, second_list=b, timeout=1, src="LEFT", dest="LEFT")
    assert moved == enc(client, "1")
    assert await client.lrange(b, 0, -1) == enc(client, ["1", "2"])


async def test_lmpop_blmpop(client: asyncpool.Redis, unique_key: str) -> None:
    await need(client, (7, 0), "LMPOP")
    a, b = unique_key + "a", unique_key + "b"
    await client.rpush(b, "1", "2", "3")
    assert await client.lmpop(2, a, b, direction="LEFT") == [enc(client, b), [enc(client, "1")]]
    assert await client.lmpop(2, a, b, direction="RIGHT", count=5) == [
        enc(client, b),
        enc(client, ["3", "2"]),
    ]
    assert await client.lmpop(2, a, b, direction="LEFT") is None
    await client.rpush(a, "x")
    assert await client.blmpop(1, 2, a, b, direction="LEFT") == [enc(client, a), [enc(client, "x")]]
    assert await client.blmpop(0.05, 2, a, b, direction="LEFT") is None


def test_list_bad_input(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.linsert("k", "beside", "a", "b")
    with pytest.raises(asyncpool.ConfigError):
        r.lmpop(1, "k", direction="UP")
