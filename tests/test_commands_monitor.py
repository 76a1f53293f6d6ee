"""redis.monitor(): MONITOR on a connection of its own, lines parsed as redis-py does."""

from __future__ import annotations

import asyncio

import pytest

import asyncpool
from asyncpool.client.monitor import parse_monitor_line


async def test_monitor_sees_commands(client: asyncpool.Redis, unique_key: str) -> None:
    async with client.monitor() as monitor:
        await client.set(unique_key, 'say "hi"')
        deadline = asyncio.get_running_loop().time() + 5
        while True:
            seen = await asyncio.wait_for(monitor.next_command(), 5)
            if seen["command"].startswith("SET"):
                break
            assert asyncio.get_running_loop().time() < deadline
        assert seen["command"] == f'SET {unique_key} say "hi"'
        assert seen["db"] == 0
        assert seen["client_type"] == "tcp"
        assert seen["client_address"] == "127.0.0.1"
        assert seen["client_port"].isdigit()
        assert isinstance(seen["time"], float)
    assert client.pool.stats().in_use == 0
    with pytest.raises(asyncpool.ConnectionError):
        await monitor.next_command()
    assert await client.ping() is True  # the pool lends fresh connections afterwards


async def test_listen_ends_when_closed(r: asyncpool.Redis, unique_key: str) -> None:
    monitor = r.monitor()
    seen = []
    async with monitor:
        await r.get(unique_key)
        async for command in monitor.listen():
            seen.append(command["command"])
            if command["command"].startswith("GET"):
                await monitor.aclose()
    assert f"GET {unique_key}" in seen


def test_parse_lines() -> None:
    lua = parse_monitor_line('1700000000.123456 [3 lua] "incr" "k"')
    assert lua == {
        "time": 1700000000.123456,
        "db": 3,
        "client_address": "lua",
        "client_port": "",
        "client_type": "lua",
        "command": "incr k",
    }
    unix = parse_monitor_line('1.5 [0 unix:/tmp/redis.sock] "PING"')
    assert (unix["client_type"], unix["client_address"], unix["command"]) == (
        "unix",
        "/tmp/redis.sock",
        "PING",
    )
    ipv6 = parse_monitor_line('2.0 [1 [::1]:6380] "GET" "a\\"b"')
    assert (ipv6["client_address"], ipv6["client_port"]) == ("::1", "6380")
    assert ipv6["command"] == 'GET a"b'
