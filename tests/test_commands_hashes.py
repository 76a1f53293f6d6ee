"""Hash commands added for redis-py parity: HSETNX, HMSET, HSTRLEN, HRANDFIELD, HSCAN NOVALUES."""

from __future__ import annotations

import pytest

import asyncpool

from ._commands import enc, need


async def test_hsetnx_hmset_hstrlen(client: asyncpool.Redis, unique_key: str) -> None:
    assert await client.hsetnx(unique_key, "f", "v") == 1
    assert await client.hsetnx(unique_key, "f", "w") == 0
    assert await client.hmset(unique_key, {"g": "hello", "h": 1}) is True
    assert await client.hstrlen(unique_key, "g") == 5
    assert await client.hstrlen(unique_key, "none") == 0
    assert await client.hgetall(unique_key) == enc(client, {"f": "v", "g": "hello", "h": "1"})


async def test_hrandfield(client: asyncpool.Redis, unique_key: str) -> None:
    assert await client.hrandfield(unique_key) is None
    await client.hset(unique_key, mapping={"a": "1", "b": "2"})
    assert await client.hrandfield(unique_key) in enc(client, ["a", "b"])
    assert sorted(await client.hrandfield(unique_key, 5)) == enc(client, ["a", "b"])
    assert len(await client.hrandfield(unique_key, -5)) == 5
    flat = await client.hrandfield(unique_key, 2, withvalues=True)
    assert dict(zip(flat[::2], flat[1::2], strict=True)) == enc(client, {"a": "1", "b": "2"})


async def test_hscan_no_values(client: asyncpool.Redis, unique_key: str) -> None:
    await need(client, (7, 4), "HSCAN NOVALUES")
    await client.hset(unique_key, mapping={"a": "1", "b": "2"})
    cursor, fields = await client.hscan(unique_key, no_values=True)
    assert cursor == 0
    assert sorted(fields) == enc(client, ["a", "b"])
    assert sorted([f async for f in client.hscan_iter(unique_key, no_values=True)]) == enc(
        client, ["a", "b"]
    )


def test_hash_bad_input(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.hrandfield("k", withvalues=True)
    with pytest.raises(asyncpool.ConfigError):
        r.hmset("k", {})
