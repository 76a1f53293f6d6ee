"""Set commands added for redis-py parity: SMOVE, S*STORE, SINTERCARD."""

from __future__ import annotations

import asyncpool

from ._commands import enc, need


async def test_smove(client: asyncpool.Redis, unique_key: str) -> None:
    a, b = unique_key + "a", unique_key + "b"
    await client.sadd(a, "x", "y")
    assert await client.smove(a, b, "x") is True
    assert await client.smove(a, b, "x") is False
    assert await client.smembers(b) == enc(client, {"x"})


async def test_store_forms(client: asyncpool.Redis, unique_key: str) -> None:
    a, b, out = unique_key + "a", unique_key + "b", unique_key + "out"
    await client.sadd(a, "1", "2", "3")
    await client.sadd(b, "2", "3", "4")
    assert await client.sinterstore(out, [a, b]) == 2
    assert await client.smembers(out) == enc(client, {"2", "3"})
    assert await client.sunionstore(out, a, b) == 4
    assert await client.sdiffstore(out, [a], b) == 1
    assert await client.smembers(out) == enc(client, {"1"})


async def test_sintercard(client: asyncpool.Redis, unique_key: str) -> None:
    await need(client, (7, 0), "SINTERCARD")
    a, b = unique_key + "a", unique_key + "b"
    await client.sadd(a, "1", "2", "3")
    await client.sadd(b, "2", "3", "4")
    assert await client.sintercard(2, [a, b]) == 2
    assert await client.sintercard(2, [a, b], limit=1) == 1
