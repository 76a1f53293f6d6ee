"""PubSub's message API as redis-py has it: get_message defaults, handlers, listen, run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import asyncpool

from ._commands import enc, need


async def _poll(ps: asyncpool.PubSub, **kwargs: Any) -> Any:
    """get_message until something arrives (a deadline, not a sleep)."""
    deadline = asyncio.get_running_loop().time() + 5
    while asyncio.get_running_loop().time() < deadline:
        message = await ps.get_message(**kwargs, timeout=0.05)
        if message is not None:
            return message
    raise AssertionError("no message in time")


async def test_get_message_defaults_return_at_once(
    client: asyncpool.Redis, unique_key: str
) -> None:
    async with client.pubsub() as ps:
        await ps.subscribe(unique_key)
        loop = asyncio.get_running_loop()
        started = loop.time()
        confirmation = await _poll(ps)
        assert confirmation["type"] == "subscribe"
        started = loop.time()
        assert await ps.get_message() is None  # timeout=0.0: nothing buffered, no wait
        assert loop.time() - started < 0.5
        await client.publish(unique_key, "one")
        message = await _poll(ps, ignore_subscribe_messages=True)
        assert message["data"] in (b"one", "one")


async def test_either_flag_ignores_subscribe_messages(r: asyncpool.Redis, unique_key: str) -> None:
    async with r.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.subscribe(unique_key)
        await r.publish(unique_key, "m")
        assert (await _poll(ps))["type"] == "message"  # the confirmation was skipped
    async with r.pubsub() as ps:
        await ps.subscribe(unique_key)
        await r.publish(unique_key, "m")
        assert (await ps.get_message(True, timeout=5))["type"] == "message"  # type: ignore[index]


async def test_subscribed_is_false_after_aclose(r: asyncpool.Redis, unique_key: str) -> None:
    ps = r.pubsub()
    await ps.subscribe(unique_key)
    assert ps.subscribed
    await ps.aclose()
    assert not ps.subscribed
    assert ps.channels == []


async def test_pubsub_is_closed_with_its_client(redis_url: str, unique_key: str) -> None:
    client = asyncpool.Redis.from_url(redis_url)
    async with client:
        ps = client.pubsub()
        await ps.subscribe(unique_key)
        assert ps.connected
    assert not ps.connected
    assert not ps.subscribed
    async for _message in ps:  # what arrived before closing, then the end
        pass


async def test_channel_and_pattern_handlers(client: asyncpool.Redis, unique_key: str) -> None:
    seen: list[tuple[str, Any]] = []
    alerted = asyncio.Event()

    def on_news(message: asyncpool.PubSubMessage) -> None:
        seen.append(("news", message["data"]))

    async def on_alert(message: asyncpool.PubSubMessage) -> None:
        seen.append(("alert", message["data"]))
        alerted.set()

    pattern = unique_key.replace("[", "(").replace("]", ")") + "alert.*"
    async with client.pubsub(ignore_subscribe_messages=True) as ps:
        await ps.subscribe(unique_key + "plain", **{unique_key + "news": on_news})
        await ps.psubscribe(**{pattern: on_alert})
        await client.publish(unique_key + "news", "n1")
        await client.publish(pattern[:-1] + "x", "a1")
        await client.publish(unique_key + "plain", "p1")
        # the handled messages come back as None; the plain one is returned
        plain = await _poll(ps)
        assert plain["channel"] == enc(client, unique_key + "plain")
        assert plain["data"] == enc(client, "p1")
        assert alerted.is_set()
        assert seen == [("news", enc(client, "n1")), ("alert", enc(client, "a1"))]
        await ps.unsubscribe(unique_key + "news")  # drops its handler too
        await ps.subscribe(unique_key + "news")
        await client.publish(unique_key + "news", "n2")
        assert (await _poll(ps))["data"] == enc(client, "n2")


async def test_listen_yields_until_closed(r: asyncpool.Redis, unique_key: str) -> None:
    ps = r.pubsub()
    await ps.subscribe(unique_key)
    await r.publish(unique_key, "x")
    received = []
    async for message in ps.listen():
        received.append(message["type"])
        if message["type"] == "message":
            await ps.aclose()
    assert received == ["subscribe", "message"]


async def test_run_dispatches_until_closed(r: asyncpool.Redis, unique_key: str) -> None:
    got: list[Any] = []
    done = asyncio.Event()

    def handler(message: asyncpool.PubSubMessage) -> None:
        got.append(message["data"])
        if len(got) == 2:
            done.set()

    ps = r.pubsub()
    await ps.subscribe(**{unique_key: handler})
    runner = asyncio.ensure_future(ps.run(poll_timeout=0.05))
    await r.publish(unique_key, "1")
    await r.publish(unique_key, "2")
    await asyncio.wait_for(done.wait(), 5)
    await ps.aclose()
    await asyncio.wait_for(runner, 5)  # run() returns once the PubSub is closed
    assert got == [b"1", b"2"]


async def test_run_needs_handlers_and_reports_errors(r: asyncpool.Redis, unique_key: str) -> None:
    async with r.pubsub() as ps:
        await ps.subscribe(unique_key)
        with pytest.raises(asyncpool.ConfigError, match="no handler"):
            await ps.run()
    failures: list[BaseException] = []

    def broken(message: asyncpool.PubSubMessage) -> None:
        raise RuntimeError("handler failed")

    async def on_error(exc: BaseException, pubsub: asyncpool.PubSub) -> None:
        failures.append(exc)
        await pubsub.aclose()

    ps = r.pubsub()
    await ps.subscribe(**{unique_key: broken})
    runner = asyncio.ensure_future(ps.run(exception_handler=on_error, poll_timeout=0.05))
    await r.publish(unique_key, "boom")
    await asyncio.wait_for(runner, 5)
    assert [str(e) for e in failures] == ["handler failed"]
    with pytest.raises(asyncpool.ConfigError):
        await r.pubsub().subscribe(**{unique_key: "not callable"})  # type: ignore[arg-type]


async def test_sharded_channels(client: asyncpool.Redis, unique_key: str) -> None:
    await need(client, (7, 0), "sharded pub/sub")
    got: list[Any] = []
    async with client.pubsub() as ps:
        await ps.ssubscribe(unique_key + "a", **{unique_key + "h": got.append})
        confirmation = await _poll(ps)
        assert (confirmation["type"], confirmation["data"]) == ("ssubscribe", 1)
        assert ps.subscribed
        assert await client.spublish(unique_key + "a", "one") == 1
        message = await _poll(ps, ignore_subscribe_messages=True)
        assert message == {
            "type": "smessage",
            "pattern": None,
            "channel": enc(client, unique_key + "a"),
            "data": enc(client, "one"),
        }
        await client.spublish(unique_key + "h", "handled")
        deadline = asyncio.get_running_loop().time() + 5
        while not got:
            assert await ps.get_message(True, timeout=0.05) is None
            assert asyncio.get_running_loop().time() < deadline
        assert got[0]["data"] == enc(client, "handled")
        await ps.sunsubscribe()
        assert not ps.subscribed
        assert await client.spublish(unique_key + "a", "nobody") == 0
