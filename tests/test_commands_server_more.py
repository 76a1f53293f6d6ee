"""Administration and introspection commands added for redis-py parity.

Read-only ones run on the session server; those that change server-wide
state (pause, save, swapdb, replication, ...) on a private server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

import asyncpool
from asyncpool.testing import RedisServer
from asyncpool.testing.discovery import find_redis_binary, redis_version

from ._commands import decodes, enc, need


@pytest.fixture(scope="module")
def admin_server() -> Iterator[RedisServer]:
    binary = find_redis_binary()
    if binary is None:
        pytest.skip("no redis-server binary")
    # DEBUG is off by default from Redis 7 on (and the option unknown before it)
    debug = ["--enable-debug-command", "yes"] if redis_version(binary) >= (7, 0, 0) else []
    server = RedisServer(binary, extra_args=debug).start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
async def admin(admin_server: RedisServer, protocol: int) -> asyncpool.Redis:
    async with asyncpool.Redis.from_url(admin_server.url, protocol=protocol) as c:
        yield c


async def test_client_introspection(client: asyncpool.Redis) -> None:
    info = await client.client_info()
    assert isinstance(info["id"], int)
    assert info["id"] > 0
    assert isinstance(info["addr"], str)
    assert await client.client_getredir() == -1
    tracking = await client.client_trackinginfo()
    assert enc(client, "off") in tracking["flags"]
    assert await client.client_unblock(info["id"] + 10_000) is False
    listed = await client.client_list(client_id=[info["id"]])
    assert [c["id"] for c in listed] in ([str(info["id"])], [])  # its connection, if still open


async def test_client_per_connection_modes(client: asyncpool.Redis) -> None:
    await need(client, (7, 0), "CLIENT NO-EVICT")
    async with client.connection() as conn:
        assert await conn.client_no_evict("on") == enc(client, "OK")
        await need(client, (7, 2), "CLIENT NO-TOUCH / SETINFO")
        assert await conn.client_no_touch("on") == enc(client, "OK")
        assert await conn.client_setinfo("lib-name", "asyncpool-test") is True
        assert (await conn.client_info())["lib-name"] == "asyncpool-test"


async def test_command_introspection(client: asyncpool.Redis) -> None:
    count = await client.command_count()
    assert count > 150
    table = await client.command()
    assert len(table) == count
    assert table["get"]["arity"] == 2
    assert "readonly" in table["get"]["flags"]
    assert await client.command_getkeys("MSET", "a", "1", "b", "2") == ["a", "b"]  # str
    await need(client, (7, 0), "COMMAND LIST/DOCS/GETKEYSANDFLAGS")
    names = await client.command_list()
    assert enc(client, "get") in names
    matching = await client.command_list(pattern="xinfo*")
    assert enc(client, "xinfo") in matching
    assert all(name.startswith(enc(client, "xinfo")) for name in matching)
    assert enc(client, "get") in await client.command_list(category="string")
    docs = await client.command_docs("get", "xinfo")
    assert set(docs) == {"get", "xinfo"}
    assert docs["get"]["group"] == enc(client, "string")
    assert docs["get"]["arguments"][0]["name"] == enc(client, "key")
    assert "xinfo|stream" in docs["xinfo"]["subcommands"]
    keys_flags = await client.command_getkeysandflags("LMOVE", "a", "b", "LEFT", "RIGHT")
    assert keys_flags == [
        (enc(client, "a"), {"RW", "access", "delete"}),
        (enc(client, "b"), {"RW", "insert"}),
    ]


async def test_memory_and_slowlog(client: asyncpool.Redis, unique_key: str) -> None:
    await client.set(unique_key, "x" * 100)
    usage = await client.memory_usage(unique_key, samples=0)
    assert usage is not None
    assert usage > 100
    assert await client.memory_usage(unique_key + "none") is None
    stats = await client.memory_stats()
    assert stats["peak.allocated"] > 0
    assert isinstance(await client.memory_doctor(), (bytes, str))
    assert any("USAGE" in str(line) for line in await client.memory_help())
    assert len(await client.memory_malloc_stats()) > 0
    assert await client.memory_purge() is True
    assert isinstance(await client.slowlog_len(), int)
    assert isinstance(await client.slowlog_get(1), list)
    assert isinstance(await client.latency_latest(), list)
    assert await client.latency_history("command") == []
    assert isinstance(await client.latency_doctor(), (bytes, str))
    art = await client.lolwut()
    assert isinstance(art, str if decodes(client) else bytes)
    assert len(art) > 10


async def test_slowlog_entries(admin: asyncpool.Redis) -> None:
    await admin.config_set("slowlog-log-slower-than", 0)
    try:
        await admin.slowlog_reset()
        await admin.set("slow", "v")
        entries = await admin.slowlog_get()
        command = next(e for e in entries if e["command"].startswith(b"SET"))
        assert command["command"] == b"SET slow v"
        assert isinstance(command["duration"], int)
        assert isinstance(command["client_address"], bytes)
    finally:
        await admin.config_set("slowlog-log-slower-than", 10000)
    assert await admin.slowlog_reset() is True


async def test_latency(admin: asyncpool.Redis) -> None:
    assert await admin.latency_reset() >= 0
    await admin.config_set("latency-monitor-threshold", 1)
    try:
        await admin.execute_command("DEBUG", "SLEEP", "0.01")  # a 10 ms "command" event
        graph = await admin.latency_graph("command")
        assert b"command" in graph
        assert (await admin.latency_history("command"))[0][1] >= 10
        assert await admin.latency_reset("command") == 1
    finally:
        await admin.config_set("latency-monitor-threshold", 0)
    await need(admin, (7, 0), "LATENCY HISTOGRAM")
    await admin.set("k", "v")
    histograms = await admin.latency_histogram("set")
    assert histograms["set"]["calls"] >= 1


async def _no_background_work(admin: asyncpool.Redis) -> None:
    deadline = time.monotonic() + 20
    while True:
        info = await admin.info("persistence")
        if not info["rdb_bgsave_in_progress"] and not info["aof_rewrite_in_progress"]:
            return
        assert time.monotonic() < deadline, "background save did not finish"
        await asyncio.sleep(0.02)


async def test_persistence(admin: asyncpool.Redis) -> None:
    assert isinstance(await admin.lastsave(), datetime)
    await _no_background_work(admin)
    assert await admin.save() is True
    assert await admin.bgsave() is True
    await _no_background_work(admin)
    assert await admin.bgrewriteaof() is True
    await _no_background_work(admin)
    assert await admin.config_resetstat() is True
    assert await admin.config_rewrite() is True


async def test_swapdb_and_debug_object(admin: asyncpool.Redis, admin_server: RedisServer) -> None:
    await admin.flushall()
    await admin.set("k", "in0")
    assert await admin.swapdb(0, 1) is True
    assert await admin.get("k") is None
    assert await admin.swapdb(0, 1) is True
    assert await admin.get("k") == b"in0"
    await admin.rpush("l", "a")
    info = await admin.debug_object("l")
    assert info["type"] == "Value"
    assert info["refcount"] >= 1
    assert isinstance(info["serializedlength"], int)


async def test_client_pause(admin: asyncpool.Redis) -> None:
    assert await admin.client_pause(100, all=False) is True
    assert await admin.client_unpause() is True
    assert await admin.client_pause(1) is True
    with pytest.raises(asyncpool.ConfigError):
        admin.client_pause(1.5)  # type: ignore[arg-type]


async def test_replication_commands(admin: asyncpool.Redis) -> None:
    role = await admin.role()
    assert role[0] in (b"master", "master")
    assert await admin.wait(0, 10) == 0
    await need(admin, (7, 2), "WAITAOF")
    with pytest.raises(asyncpool.ResponseError, match="appendonly"):
        await admin.waitaof(1, 0, 10)


async def test_replicaof_no_one(admin: asyncpool.Redis) -> None:
    assert await admin.replicaof("NO", "ONE") is True
    assert await admin.slaveof() is True
    with pytest.raises(asyncpool.ConfigError):
        admin.replicaof("host")


async def test_migrate(admin: asyncpool.Redis, redis_server_factory: object, protocol: int) -> None:
    target = redis_server_factory()  # type: ignore[operator]
    await admin.set("moving", "v")
    assert await admin.migrate("127.0.0.1", target.port, "moving", 0, 1000, copy=True) == b"OK"
    assert await admin.migrate("127.0.0.1", target.port, ["nothing"], 0, 1000) == b"NOKEY"
    async with asyncpool.Redis.from_url(target.url, protocol=protocol) as other:
        assert await other.get("moving") == b"v"
    assert await admin.migrate("127.0.0.1", target.port, ["moving"], 0, 1000, replace=True) == b"OK"
    assert await admin.exists("moving") == 0


async def test_modules(admin: asyncpool.Redis) -> None:
    assert isinstance(await admin.module_list(), list)
    with pytest.raises(asyncpool.ResponseError):
        await admin.module_load("/nonexistent/module.so")
    with pytest.raises(asyncpool.ResponseError):
        await admin.module_unload("nonexistent")
    await need(admin, (7, 0), "MODULE LOADEX")
    with pytest.raises(asyncpool.ResponseError):
        await admin.module_loadex("/nonexistent/module.so", options=["a 1"], args=["x"])


async def test_config_set_several(admin: asyncpool.Redis) -> None:
    await need(admin, (7, 0), "CONFIG SET of several parameters")
    assert await admin.config_set("maxmemory-samples", 6, "hz", 11) is True
    assert await admin.config_get("maxmemory-samples", "hz") == {
        "maxmemory-samples": "6",
        "hz": "11",
    }
    with pytest.raises(asyncpool.ConfigError):
        admin.config_set("a", 1, "b")
