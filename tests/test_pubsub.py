"""PubSub on its own connection: channels, patterns, RESP2/RESP3, and healing itself."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import asyncpool
from asyncpool.client import RECONNECTED
from asyncpool.testing.server import RedisServer


@pytest.fixture
def prefix(unique_key: str) -> str:
    """``unique_key`` without glob characters (test ids hold ``[...]``), for patterns."""
    return unique_key.replace("[", "(").replace("]", ")")


async def next_message(ps: asyncpool.PubSub, timeout: float = 5.0) -> asyncpool.PubSubMessage:
    message = await ps.get_message(timeout=timeout)
    assert message is not None, "no message arrived in time"
    return message


async def test_subscribe_publish_unsubscribe(r: asyncpool.Redis, unique_key: str) -> None:
    ch = unique_key + "news"
    async with r.pubsub() as ps:
        await ps.subscribe(ch)
        assert await next_message(ps) == {
            "type": "subscribe",
            "pattern": None,
            "channel": ch.encode(),
            "data": 1,
        }
        assert await r.execute_command("PUBLISH", ch, "hello") == 1
        assert await next_message(ps) == {
            "type": "message",
            "pattern": None,
            "channel": ch.encode(),
            "data": b"hello",
        }
        await ps.unsubscribe()
        message = await next_message(ps)
        assert (message["type"], message["channel"], message["data"]) == (
            "unsubscribe",
            ch.encode(),
            0,
        )
        assert not ps.subscribed
        assert await r.execute_command("PUBLISH", ch, "nobody") == 0
    assert r.pool.stats().in_use == 0  # the subscriber connection is not the pool's


async def test_patterns_and_iteration(r: asyncpool.Redis, prefix: str) -> None:
    async with r.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.psubscribe(prefix + "alerts.*")
        await ps.subscribe(prefix + "plain")
        assert ps.patterns == [prefix + "alerts.*"]
        await r.execute_command("PUBLISH", prefix + "alerts.disk", "full")
        await r.execute_command("PUBLISH", prefix + "plain", "text")
        received: list[asyncpool.PubSubMessage] = []

        async def two() -> None:
            async for message in ps:
                received.append(message)
                if len(received) == 2:
                    break

        await asyncio.wait_for(two(), 5)
    assert received[0] == {
        "type": "pmessage",
        "pattern": (prefix + "alerts.*").encode(),
        "channel": (prefix + "alerts.disk").encode(),
        "data": b"full",
    }
    assert received[1]["type"] == "message"
    assert received[1]["data"] == b"text"


async def test_punsubscribe_stops_delivery(r: asyncpool.Redis, prefix: str) -> None:
    async with r.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.psubscribe(prefix + "a.*", prefix + "b.*")
        await ps.punsubscribe(prefix + "a.*")
        assert ps.patterns == [prefix + "b.*"]
        assert await r.execute_command("PUBLISH", prefix + "a.x", "1") == 0
        assert await r.execute_command("PUBLISH", prefix + "b.x", "2") == 1
        assert (await next_message(ps))["data"] == b"2"


async def test_decode_responses(redis_url: str, protocol: int, unique_key: str) -> None:
    client = asyncpool.Redis.from_url(redis_url, protocol=protocol, decode_responses=True)
    async with client, client.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.subscribe(unique_key)
        await client.execute_command("PUBLISH", unique_key, "héllo")
        message = await next_message(ps)
    assert message["channel"] == unique_key
    assert message["data"] == "héllo"


async def test_get_message_timeout_returns_none(r: asyncpool.Redis, unique_key: str) -> None:
    async with r.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.subscribe(unique_key)
        started = time.monotonic()
        assert await ps.get_message(timeout=0.2) is None
        assert time.monotonic() - started < 3.0  # returned, did not hang
        assert await ps.get_message(timeout=0) is None
        # a subscribe confirmation is skipped, not returned, when ignored
        await ps.subscribe(unique_key + "2")
        assert await ps.get_message(timeout=0.05) is None


async def test_ping_and_close(r: asyncpool.Redis, unique_key: str) -> None:
    ps = r.pubsub()
    assert await ps.ping() is True  # not subscribed yet
    await ps.subscribe(unique_key)
    assert await ps.ping() is True  # in subscriber mode
    assert (await next_message(ps))["type"] == "subscribe"  # the pong is not a message
    await ps.aclose()
    assert not ps.connected
    assert await ps.get_message(timeout=1.0) is None
    with pytest.raises(StopAsyncIteration):
        await ps.__anext__()
    with pytest.raises(asyncpool.ConnectionError):
        await ps.subscribe(unique_key)


async def test_subscribe_to_unreachable_server_fails(unique_key: str) -> None:
    from asyncpool.testing._util import free_port

    client = asyncpool.Redis(port=free_port("127.0.0.1"), connect_timeout=2.0)
    async with client, client.pubsub() as ps:
        with pytest.raises(asyncpool.ConnectionError):
            await ps.subscribe(unique_key)
        assert not ps.subscribed


# -- reconnection -----------------------------------------------------------------------


async def _assert_all_arrive(
    ps: asyncpool.PubSub, publisher: asyncpool.Redis, channel: str, count: int = 50
) -> None:
    for i in range(count):
        await publisher.execute_command("PUBLISH", channel, str(i))
    got = [(await next_message(ps))["data"] for _ in range(count)]
    assert got == [str(i).encode() for i in range(count)]


async def _wait_reconnected(ps: asyncpool.PubSub) -> asyncpool.PubSubMessage:
    deadline = time.monotonic() + 10
    while True:
        message = await ps.get_message(timeout=max(0.0, deadline - time.monotonic()))
        assert message is not None, "no reconnection notice in time"
        if message["type"] == RECONNECTED:
            return message


async def test_resubscribes_after_client_kill(
    private_redis_server: RedisServer, protocol: int, prefix: str
) -> None:
    calls: list[asyncpool.PubSub] = []
    called = asyncio.Event()

    async def on_reconnect(ps: asyncpool.PubSub) -> None:
        calls.append(ps)
        called.set()

    client = asyncpool.Redis.from_url(private_redis_server.url, protocol=protocol)
    async with (
        client,
        client.pubsub(ignore_subscribe_messages=True, on_reconnect=on_reconnect) as ps,
    ):
        await ps.subscribe(prefix + "c")
        await ps.psubscribe(prefix + "p.*")
        killed = await client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        assert killed == 1
        notice = await _wait_reconnected(ps)
        assert isinstance(notice["data"], asyncpool.ConnectionError)
        await asyncio.wait_for(called.wait(), 5)  # runs just after the notice is queued
        assert calls == [ps]
        assert ps.connected
        await _assert_all_arrive(ps, client, prefix + "c")
        await _assert_all_arrive(ps, client, prefix + "p.x", count=10)
        numsub = await client.execute_command("PUBSUB", "NUMSUB", prefix + "c")
        assert numsub[1] == 1


async def test_resubscribes_after_server_restart(
    private_redis_server: RedisServer, unique_key: str
) -> None:
    notices: list[Any] = []
    called = asyncio.Event()

    def on_reconnect(ps: asyncpool.PubSub) -> None:  # a plain function works too
        notices.append(ps)
        called.set()

    client = asyncpool.Redis.from_url(private_redis_server.url)
    async with client, client.pubsub(on_reconnect=on_reconnect) as ps:
        await ps.subscribe(unique_key)
        assert (await next_message(ps))["type"] == "subscribe"
        private_redis_server.kill()
        # restart off the loop, so reconnection attempts fail (and back off) meanwhile
        await asyncio.to_thread(private_redis_server.restart)
        await _wait_reconnected(ps)
        await asyncio.wait_for(called.wait(), 5)
        assert notices == [ps]
        await _assert_all_arrive(ps, client, unique_key)


async def test_subscribe_while_reconnecting_is_included(
    private_redis_server: RedisServer, unique_key: str
) -> None:
    client = asyncpool.Redis.from_url(private_redis_server.url)
    async with client, client.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.subscribe(unique_key + "a")
        private_redis_server.kill()
        started = asyncio.ensure_future(ps.subscribe(unique_key + "b"))
        await asyncio.to_thread(private_redis_server.restart)
        await asyncio.wait_for(started, 10)  # confirmed by the re-subscription
        await _wait_reconnected(ps)
        await _assert_all_arrive(ps, client, unique_key + "b", count=5)
        await _assert_all_arrive(ps, client, unique_key + "a", count=5)


async def test_gives_up_after_max_reconnect_attempts(
    private_redis_server: RedisServer, unique_key: str
) -> None:
    client = asyncpool.Redis.from_url(private_redis_server.url)
    async with client, client.pubsub(max_reconnect_attempts=2, reconnect_backoff=0.01) as ps:
        await ps.subscribe(unique_key)
        await next_message(ps)
        private_redis_server.kill()
        with pytest.raises(asyncpool.ConnectionError):
            await ps.get_message(timeout=10)


async def test_rejected_subscription_raises(
    private_redis_server: RedisServer, protocol: int, unique_key: str
) -> None:
    admin = asyncpool.Redis.from_url(private_redis_server.url)
    async with admin:
        await admin.execute_command(
            "ACL",
            "SETUSER",
            "limited",
            "on",
            ">limited-pw",
            "~*",
            "resetchannels",
            "&allowed*",
            "+@all",
        )
    client = asyncpool.Redis(
        port=private_redis_server.port,
        username="limited",
        password="limited-pw",
        protocol=protocol,
    )
    async with client, client.pubsub(ignore_subscribe_messages=True) as ps:
        with pytest.raises(asyncpool.NoPermissionError):
            await ps.subscribe(unique_key + "forbidden")
        assert not ps.subscribed
        await ps.subscribe("allowed-1")  # the session is still usable
        assert ps.channels == ["allowed-1"]
        await client.execute_command("PUBLISH", "allowed-1", "ok")
        assert (await next_message(ps))["data"] == b"ok"
