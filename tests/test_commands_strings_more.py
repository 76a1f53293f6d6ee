"""The string commands added for redis-py parity, in RESP2/RESP3, bytes/str."""

from __future__ import annotations

from datetime import timedelta

import pytest

import asyncpool

from ._commands import enc, need


async def test_setex_psetex(client: asyncpool.Redis, unique_key: str) -> None:
    assert await client.setex(unique_key, 100, "v") is True
    assert 90 <= await client.ttl(unique_key) <= 100
    assert await client.get(unique_key) == enc(client, "v")
    assert await client.setex(unique_key, timedelta(seconds=50), "w") is True
    assert 40 <= await client.ttl(unique_key) <= 50
    assert await client.psetex(unique_key, 80_000, "x") is True
    assert 70_000 <= await client.pttl(unique_key) <= 80_000
    assert await client.psetex(unique_key, timedelta(seconds=3), "y") is True
    assert 2_000 <= await client.pttl(unique_key) <= 3_000
    assert await client.get(unique_key) == enc(client, "y")


async def test_setnx_getset(client: asyncpool.Redis, unique_key: str) -> None:
    assert await client.setnx(unique_key, "a") is True
    assert await client.setnx(unique_key, "b") is False
    assert await client.getset(unique_key, "c") == enc(client, "a")
    assert await client.getset(unique_key + "new", "d") is None
    assert await client.get(unique_key) == enc(client, "c")


async def test_msetnx(client: asyncpool.Redis, unique_key: str) -> None:
    a, b, c = unique_key + "a", unique_key + "b", unique_key + "c"
    assert await client.msetnx({a: 1, b: 2}) is True
    assert await client.msetnx({b: 3, c: 4}) is False  # b exists: nothing is set
    assert await client.mget([a, b, c]) == enc(client, ["1", "2", None])


async def test_mget_of_no_keys_is_empty(client: asyncpool.Redis) -> None:
    assert await client.mget([]) == []
    async with client.pipeline() as pipe:
        pipe.mget([]).echo("after")
        assert await pipe.execute() == [[], enc(client, "after")]


async def test_substr(client: asyncpool.Redis, unique_key: str) -> None:
    await client.set(unique_key, "Hello World")
    assert await client.substr(unique_key, 0, 4) == enc(client, "Hello")
    assert await client.substr(unique_key, 6) == enc(client, "World")


async def test_lcs(client: asyncpool.Redis, unique_key: str) -> None:
    await need(client, (7, 0), "LCS")
    a, b = unique_key + "a", unique_key + "b"
    await client.mset({a: "ohmytext", b: "mynewtext"})
    assert await client.lcs(a, b) == enc(client, "mytext")
    assert await client.lcs(a, b, len=True) == 6
    found = await client.lcs(a, b, idx=True, minmatchlen=4, withmatchlen=True)
    assert found["len"] == 6
    assert found["matches"] == [[[4, 7], [5, 8], 4]]


def test_set_family_bad_input(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.msetnx({})
