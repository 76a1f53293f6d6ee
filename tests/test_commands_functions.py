"""Redis Functions (Redis 7), EVAL_RO/EVALSHA_RO, SCRIPT KILL, PUBSUB introspection."""

from __future__ import annotations

import asyncio

import pytest

import asyncpool
from asyncpool.testing import RedisServer

from ._commands import enc, need

LIBRARY = """#!lua name=mylib
redis.register_function('echo_key', function(keys, args) return redis.call('GET', keys[1]) end)
redis.register_function{function_name='ro_len', callback=function(keys, args)
  return #args end, flags={'no-writes'}}
"""


async def test_functions(private_redis_server: RedisServer, protocol: int) -> None:
    async with asyncpool.Redis.from_url(private_redis_server.url, protocol=protocol) as r:
        await need(r, (7, 0), "FUNCTION")
        assert await r.function_load(LIBRARY) == b"mylib"
        with pytest.raises(asyncpool.ResponseError):
            await r.function_load(LIBRARY)
        assert await r.function_load(LIBRARY, replace=True) == b"mylib"
        await r.set("k", "v")
        assert await r.fcall("echo_key", 1, "k") == b"v"
        assert await r.fcall_ro("ro_len", 0, "a", "b") == 2
        (lib,) = await r.function_list()
        assert lib["library_name"] == b"mylib"
        assert {f["name"] for f in lib["functions"]} == {b"echo_key", b"ro_len"}
        (with_code,) = await r.function_list(library="my*", withcode=True)
        assert b"register_function" in with_code["library_code"]
        stats = await r.function_stats()
        assert stats["running_script"] is None
        assert stats["engines"]["LUA"]["libraries_count"] == 1
        payload = await r.function_dump()
        assert await r.function_delete("mylib") is True
        assert await r.function_list() == []
        assert await r.function_restore(payload) is True
        assert await r.function_flush("async") is True
        assert await r.function_restore(payload, "REPLACE") is True
        assert len(await r.function_list()) == 1
        with pytest.raises(asyncpool.ResponseError, match="NOTBUSY"):
            await r.function_kill()


async def test_read_only_scripts(client: asyncpool.Redis, unique_key: str) -> None:
    await need(client, (7, 0), "EVAL_RO")
    await client.set(unique_key, "v")
    script = "return redis.call('GET', KEYS[1])"
    assert await client.eval_ro(script, 1, unique_key) == enc(client, "v")
    sha = await client.script_load(script)
    assert await client.evalsha_ro(sha, 1, unique_key) == enc(client, "v")
    with pytest.raises(asyncpool.ResponseError):
        await client.eval_ro("return redis.call('SET', KEYS[1], 'x')", 1, unique_key)


async def test_script_kill(private_redis_server: RedisServer, protocol: int) -> None:
    async with asyncpool.Redis.from_url(private_redis_server.url, protocol=protocol) as r:
        with pytest.raises(asyncpool.ResponseError, match="NOTBUSY"):
            await r.script_kill()
        await r.config_set("lua-time-limit", 50)  # the server answers BUSY after 50 ms
        busy = asyncio.ensure_future(r.eval("while true do end", 0))
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            try:
                assert await r.script_kill() is True
                break
            except asyncpool.ResponseError as exc:
                if "NOTBUSY" not in str(exc):
                    raise
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.01)
        with pytest.raises(asyncpool.ResponseError):
            await busy


async def test_pubsub_introspection(client: asyncpool.Redis, unique_key: str) -> None:
    channel = unique_key + "chan"
    async with client.pubsub() as ps:
        await ps.subscribe(channel)
        await ps.psubscribe(unique_key + "p*")
        assert enc(client, channel) in await client.pubsub_channels(unique_key + "*")
        assert await client.pubsub_numsub(channel, unique_key + "none") == [
            (enc(client, channel), 1),
            (enc(client, unique_key + "none"), 0),
        ]
        assert await client.pubsub_numpat() >= 1
        assert await client.publish(channel, "hi") == 1
    await need(client, (7, 0), "sharded pub/sub")
    assert await client.spublish(channel, "nobody") == 0
    assert await client.pubsub_shardchannels(unique_key + "*") == []
    assert await client.pubsub_shardnumsub(channel) == [(enc(client, channel), 0)]
