"""Server, connection, scripting, HyperLogLog and PUBLISH command methods on a real server."""

from __future__ import annotations

from typing import Any

import pytest

import asyncpool
from asyncpool.testing import RedisServer

ALL_BYTES = bytes(range(256)) + b"\r\n$3\r\n"


async def test_ping_echo(r: asyncpool.Redis, rd: asyncpool.Redis) -> None:
    assert await r.ping() is True
    assert await rd.ping() is True
    assert await r.echo(ALL_BYTES) == ALL_BYTES
    assert await rd.echo("héllo") == "héllo"


async def test_info_is_parsed(r: asyncpool.Redis, rd: asyncpool.Redis) -> None:
    for client in (r, rd):
        info = await client.info()
        assert isinstance(info["redis_version"], str)
        assert isinstance(info["uptime_in_seconds"], int)
        assert isinstance(info["used_memory"], int)
        assert isinstance(info["run_id"], str)
    server_only = await r.info("server")
    assert "redis_version" in server_only
    assert "used_memory" not in server_only


async def test_info_keyspace_nested(r: asyncpool.Redis, unique_key: str) -> None:
    await r.set(unique_key, 1)
    keyspace = await r.info("keyspace")
    assert isinstance(keyspace["db0"], dict)
    assert keyspace["db0"]["keys"] >= 1


async def test_dbsize_and_time(r: asyncpool.Redis, unique_key: str) -> None:
    await r.set(unique_key, b"x")
    assert await r.dbsize() >= 1
    seconds, micros = await r.time()
    assert isinstance(seconds, int)
    assert isinstance(micros, int)
    assert seconds > 1_600_000_000
    assert 0 <= micros < 1_000_000


async def test_client_name_id_and_list(rd: asyncpool.Redis, unique_key: str) -> None:
    async with rd.connection() as conn:
        assert await conn.client_getname() is None
        assert await conn.client_setname(unique_key) is True
        assert await conn.client_getname() == unique_key
        my_id = await conn.client_id()
        assert isinstance(my_id, int)
        clients = await conn.client_list()
        mine = [c for c in clients if c["id"] == str(my_id)]
        assert len(mine) == 1
        assert mine[0]["name"] == unique_key
        assert all(isinstance(c, dict) and "addr" in c for c in clients)
        assert all(c.get("flags") != "P" for c in await conn.client_list(_type="normal"))


async def test_client_kill_filter_and_addr(r: asyncpool.Redis) -> None:
    async with r.connection() as victim:
        victim_id = await victim.client_id()
        assert await r.client_kill_filter(_id=victim_id) == 1
        with pytest.raises(asyncpool.ConnectionError):
            await victim.ping()
    async with r.connection() as victim:
        victim_id = await victim.client_id()
        entries = await r.client_list()
        addr = next(c["addr"] for c in entries if c["id"] == str(victim_id))
        assert await r.client_kill(addr) is True
        with pytest.raises(asyncpool.ConnectionError):
            await victim.ping()
    assert await r.client_kill_filter(_id=2**40) == 0
    with pytest.raises(asyncpool.ConfigError):
        r.client_kill_filter()


async def test_config_get_is_a_str_dict(r: asyncpool.Redis, rd: asyncpool.Redis) -> None:
    """redis-py's shape: str names and values, whatever decode_responses says."""
    raw = await r.config_get("maxmemory*")
    assert isinstance(raw, dict)
    assert isinstance(raw["maxmemory-policy"], str)
    assert all(isinstance(k, str) and k.startswith("maxmemory") for k in raw)
    assert (await rd.config_get("maxmemory"))["maxmemory"].isdigit()
    assert (await r.config_get("maxmemory")) == (await rd.config_get("maxmemory"))


async def test_config_set_flush_on_private_server(
    private_redis_server: RedisServer, protocol: int
) -> None:
    url = private_redis_server.url
    async with asyncpool.Redis.from_url(url, protocol=protocol, decode_responses=True) as r:
        assert await r.config_set("maxmemory-samples", 7) is True
        assert await r.config_get("maxmemory-samples") == {"maxmemory-samples": "7"}
        await r.mset({"a": 1, "b": 2})
        assert await r.dbsize() == 2
        assert await r.flushdb() is True
        assert await r.dbsize() == 0
        await r.set("a", 1)
        assert await r.flushall(asynchronous=True) is True
        assert await r.dbsize() == 0
        sha = await r.script_load("return 1")
        assert await r.script_flush() is True
        assert await r.script_exists(sha) == [False]
        assert await r.script_flush("ASYNC") is True
        with pytest.raises(asyncpool.ConfigError):
            r.script_flush("LATER")


async def test_eval_evalsha_and_script_cache(
    r: asyncpool.Redis, rd: asyncpool.Redis, unique_key: str
) -> None:
    script = "redis.call('SET', KEYS[1], ARGV[1]); return {redis.call('GET', KEYS[1]), 7}"
    assert await r.eval(script, 1, unique_key, ALL_BYTES) == [ALL_BYTES, 7]
    sha = await r.script_load(script)
    sha_decoded = await rd.script_load(script)
    assert isinstance(sha, str)
    assert sha == sha_decoded
    assert len(sha) == 40
    assert await r.script_exists(sha, "0" * 40) == [True, False]
    assert await rd.evalsha(sha, 1, unique_key, "v") == ["v", 7]
    with pytest.raises(asyncpool.NoScriptError):
        await r.evalsha("f" * 40, 0)
    with pytest.raises(asyncpool.ResponseError):
        await r.eval("return redis.call('NOPE')", 0)


async def test_hyperloglog(r: asyncpool.Redis, unique_key: str) -> None:
    a, b, dest = unique_key + "a", unique_key + "b", unique_key + "dest"
    assert await r.pfadd(a, "x", "y", "z") is True
    assert await r.pfadd(a, "x") is False
    await r.pfadd(b, "z", ALL_BYTES)
    assert await r.pfcount(a) == 3
    assert await r.pfcount(a, b) == 4
    assert await r.pfmerge(dest, a, b) is True
    assert await r.pfcount(dest) == 4


async def test_publish_counts_receivers(r: asyncpool.Redis, unique_key: str) -> None:
    channel = unique_key + "chan"
    assert await r.publish(channel, b"nobody") == 0
    async with r.pubsub() as ps:
        await ps.subscribe(channel)
        assert await r.publish(channel, ALL_BYTES) == 1
        message: Any = await ps.get_message(timeout=5, ignore_subscribe_messages=True)
        assert message is not None
        assert message["data"] == ALL_BYTES
