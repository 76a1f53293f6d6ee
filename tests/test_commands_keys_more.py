"""DUMP/RESTORE, COPY, MOVE, RENAMENX, TOUCH, RANDOMKEY, OBJECT, EXPIRETIME, SORT."""

from __future__ import annotations

import time

import pytest

import asyncpool
from asyncpool.testing import RedisServer

from ._commands import enc, need


async def test_dump_restore(r: asyncpool.Redis, unique_key: str) -> None:
    await r.rpush(unique_key, "a", "b")
    payload = await r.dump(unique_key)
    assert isinstance(payload, bytes)
    assert await r.dump(unique_key + "missing") is None
    copy = unique_key + "copy"
    assert await r.restore(copy, 0, payload) is True
    assert await r.lrange(copy, 0, -1) == [b"a", b"b"]
    with pytest.raises(asyncpool.ResponseError, match="BUSYKEY"):
        await r.restore(copy, 0, payload)
    assert await r.restore(copy, 50_000, payload, replace=True, idletime=10) is True
    assert 40_000 < await r.pttl(copy) <= 50_000
    at = int(time.time() * 1000) + 60_000
    assert await r.restore(copy, at, payload, replace=True, absttl=True) is True
    assert 50_000 < await r.pttl(copy) <= 60_000


async def test_copy_renamenx_touch(client: asyncpool.Redis, unique_key: str) -> None:
    src, dst = unique_key + "src", unique_key + "dst"
    await client.set(src, "v")
    assert await client.copy(src, dst) is True
    assert await client.copy(src, dst) is False
    await client.set(src, "w")
    assert await client.copy(src, dst, replace=True) is True
    assert await client.get(dst) == enc(client, "w")
    assert await client.renamenx(src, dst) is False
    assert await client.renamenx(src, unique_key + "new") is True
    assert await client.touch(dst, unique_key + "new", unique_key + "none") == 2


async def test_object_and_randomkey(client: asyncpool.Redis, unique_key: str) -> None:
    await client.set(unique_key, 12345)
    assert await client.object("encoding", unique_key) == enc(client, "int")
    assert await client.object("refcount", unique_key) >= 1
    assert isinstance(await client.object("idletime", unique_key), int)
    assert await client.randomkey() is not None


async def test_expiretime(client: asyncpool.Redis, unique_key: str) -> None:
    await need(client, (7, 0), "EXPIRETIME")
    at = int(time.time()) + 500
    await client.set(unique_key, "v")
    await client.expireat(unique_key, at)
    assert await client.expiretime(unique_key) == at
    assert await client.pexpiretime(unique_key) == at * 1000
    assert await client.expiretime(unique_key + "none") == -2


async def test_sort(client: asyncpool.Redis, unique_key: str) -> None:
    key = unique_key + "l"
    await client.rpush(key, 3, 1, 2)
    assert await client.sort(key) == enc(client, ["1", "2", "3"])
    assert await client.sort(key, desc=True, start=0, num=2) == enc(client, ["3", "2"])
    await client.mset({unique_key + "w1": 30, unique_key + "w2": 10, unique_key + "w3": 20})
    await client.mset({unique_key + "n1": "one", unique_key + "n2": "two", unique_key + "n3": "3"})
    by_weight = await client.sort(key, by=unique_key + "w*")
    assert by_weight == enc(client, ["2", "3", "1"])
    assert await client.sort(key, get=unique_key + "n*") == enc(client, ["one", "two", "3"])
    grouped = await client.sort(key, get=["#", unique_key + "n*"], groups=True)
    assert grouped == enc(client, [("1", "one"), ("2", "two"), ("3", "3")])
    words = unique_key + "words"
    await client.rpush(words, "b", "c", "a")
    assert await client.sort(words, alpha=True) == enc(client, ["a", "b", "c"])
    assert await client.sort(words, alpha=True, store=unique_key + "out") == 3
    assert await client.lrange(unique_key + "out", 0, -1) == enc(client, ["a", "b", "c"])


async def test_sort_ro(client: asyncpool.Redis, unique_key: str) -> None:
    await need(client, (7, 0), "SORT_RO")
    await client.rpush(unique_key, 2, 1)
    assert await client.sort_ro(unique_key) == enc(client, ["1", "2"])


async def test_move(private_redis_server: RedisServer, protocol: int) -> None:
    async with asyncpool.Redis.from_url(private_redis_server.url, protocol=protocol) as r:
        await r.set("k", "v")
        assert await r.move("k", 1) is True
        assert await r.move("k", 1) is False
        assert await r.exists("k") == 0
        assert await r.copy("missing", "x", destination_db=1) is False
    db1 = private_redis_server.url.rsplit("/", 1)[0] + "/1"
    async with asyncpool.Redis.from_url(db1) as r1:
        assert await r1.get("k") == b"v"


def test_sort_bad_input(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.sort("k", start=1)
    with pytest.raises(asyncpool.ConfigError):
        r.sort("k", get="one", groups=True)
