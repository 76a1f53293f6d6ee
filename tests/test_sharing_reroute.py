"""Shared mode, head-of-line: commands written behind a large reply do not wait for all of it.

When a reply still incomplete after ``CONGESTED_REPLY_BYTES`` congests a shared
connection, every caller waiting behind it is rerouted (``Connection.reroute_riders``):
a read-only command that may be repeated is sent again on another connection
(its first reply is read and dropped), any other command waits on for its own
reply.  The congested connection takes no new riders until the large reply is in.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

import asyncpool
from asyncpool.transport import CONGESTED_REPLY_BYTES, Rerouted

from ._sharing import make_pool, sharing
from ._util import wait_until

LARGE = 16 * CONGESTED_REPLY_BYTES  # 2 MiB: many socket reads, congested after the first


async def _behind_a_large_get(
    redis: asyncpool.Redis, key: str, others: list[Any]
) -> tuple[bytes, list[Any]]:
    """GET the large value, then (same loop tick) the coroutines in ``others``, behind it."""
    large = asyncio.ensure_future(redis.get(f"{key}large"))
    rest = [asyncio.ensure_future(coro) for coro in others]
    return await large, await asyncio.gather(*rest)


@contextlib.asynccontextmanager
async def _client(
    server: Any, key: str, connections: int, size: int = LARGE
) -> AsyncIterator[asyncpool.Redis]:
    """A shared-mode client on up to ``connections``, with ``size`` bytes at ``<key>large``."""
    pool = make_pool(server, multiplex=True, max_connections=connections)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.set(f"{key}large", b"L" * size)
        yield redis


@pytest.fixture
async def shared(redis_server: Any, unique_key: str) -> AsyncIterator[asyncpool.Redis]:
    """A shared-mode client on up to four connections, the large value set."""
    async with _client(redis_server, unique_key, 4) as redis:
        yield redis


async def test_reads_behind_a_large_reply_are_sent_again_elsewhere(
    shared: asyncpool.Redis, unique_key: str
) -> None:
    redis, pool = shared, shared.pool
    for n in range(20):
        await redis.set(f"{unique_key}{n}", f"value {n}")
    policy = sharing(redis)
    large, small = await _behind_a_large_get(
        redis, unique_key, [redis.get(f"{unique_key}{n}") for n in range(20)]
    )
    assert large == b"L" * LARGE
    assert small == [f"value {n}".encode() for n in range(20)]  # each its own reply
    assert policy.stats().rerouted_total == 20
    assert pool.stats().total >= 2  # sent again on another connection, not behind it
    # the congested connection's dropped replies were read: everything comes back
    await wait_until(lambda: pool.stats().in_use == 0, what="every connection back")
    assert await redis.get(f"{unique_key}3") == b"value 3"  # the stream is in step


async def _soon(predicate: Any, what: str) -> None:
    """Wait for ``predicate`` at every loop tick (a window a 10 ms poll could miss)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0)


async def test_writes_behind_a_large_reply_wait_for_their_own_reply(
    shared: asyncpool.Redis, unique_key: str
) -> None:
    """A write is never sent twice: it waits where it was written."""
    redis = shared
    others = [redis.incr(f"{unique_key}counter") for _ in range(5)]
    others.append(redis.get(f"{unique_key}missing"))
    large, replies = await _behind_a_large_get(redis, unique_key, others)
    assert large == b"L" * LARGE
    assert replies == [1, 2, 3, 4, 5, None]
    assert await redis.get(f"{unique_key}counter") == b"5"  # each INCR ran once
    assert sharing(redis).stats().rerouted_total == 1  # the read only


async def test_a_rerouted_caller_that_is_cancelled_leaves_nothing_behind(
    redis_server: Any, unique_key: str
) -> None:
    async with _client(redis_server, unique_key, 1, 8 * LARGE) as redis:
        pool = redis.pool
        await redis.set(f"{unique_key}small", b"s")
        policy = sharing(redis)
        large = asyncio.ensure_future(redis.get(f"{unique_key}large"))
        # one connection only: rerouted reads board, waiting for it to drain
        small = [asyncio.ensure_future(redis.get(f"{unique_key}small")) for _ in range(5)]
        await _soon(lambda: policy.stats().rerouted_total == 5, "the reads rerouted")
        assert not any(task.done() for task in small)
        for task in small[:3]:
            task.cancel()
        assert await large == b"L" * (8 * LARGE)
        results = await asyncio.gather(*small, return_exceptions=True)
        assert [type(r) for r in results[:3]] == [asyncio.CancelledError] * 3
        assert results[3:] == [b"s", b"s"]
        await wait_until(lambda: pool.stats().in_use == 0, what="the connection back")
        assert await redis.get(f"{unique_key}small") == b"s"


async def test_reroute_moves_each_reply_and_its_read_deadline(
    redis_server: Any, unique_key: str
) -> None:
    """On the connection itself: each caller behind the head gets the future of its reply."""
    conn = asyncpool.Connection(
        asyncpool.ConnectionOptions(
            host=redis_server.host, port=redis_server.port, socket_timeout=30
        )
    )
    await conn.connect()
    try:
        await conn.execute_command("SET", f"{unique_key}large", b"L" * LARGE)
        await conn.execute_command("SET", f"{unique_key}small", b"s")
        head = conn.submit(("GET", f"{unique_key}large"))
        behind = [conn.submit(("GET", f"{unique_key}small")), conn.submit(("PING",))]
        assert conn.reroute_riders() == 2
        moved = []
        for fut in behind:
            with pytest.raises(Rerouted) as caught:
                await fut
            moved.append(caught.value.future)
        deadlines = conn.deadlines.futures()
        assert set(moved) <= deadlines
        assert not set(behind) & deadlines
        assert await head == b"L" * LARGE
        assert [await fut for fut in moved] == [b"s", b"PONG"]
        assert conn.reroute_riders() == 0  # nothing owed behind anything now
    finally:
        conn.close()


async def test_a_congested_connection_takes_no_new_riders(
    redis_server: Any, unique_key: str
) -> None:
    async with _client(redis_server, unique_key, 4, 8 * LARGE) as redis:
        policy = sharing(redis)
        large = asyncio.ensure_future(redis.get(f"{unique_key}large"))
        await _soon(lambda: policy.alone is not None, "the large GET sent")
        assert policy.alone is not None
        conn = policy.alone[0]  # a lone caller's connection
        await _soon(lambda: conn.congested, "the large reply congesting its connection")
        args = ("GET", f"{unique_key}small")
        ride = policy.ride(args) or await policy.board(args)  # as the executor does
        assert ride[0] is not conn  # another connection
        assert await ride[1] is None
        assert await large == b"L" * (8 * LARGE)
        assert not conn.congested


async def test_a_large_reply_reroutes_even_while_writes_are_paused(
    redis_server: Any, unique_key: str
) -> None:
    """Paused writes congest a connection too; a large reply then still reroutes, once."""
    conn = asyncpool.Connection(
        asyncpool.ConnectionOptions(host=redis_server.host, port=redis_server.port)
    )
    await conn.connect()
    try:
        await conn.execute_command("SET", f"{unique_key}large", b"L" * LARGE)
        protocol = conn.protocol_or_none
        assert protocol is not None
        calls: list[int] = []
        protocol.on_congested = lambda: calls.append(conn.reroute_riders())
        protocol.pause_writing()  # as the transport does above its high-water mark
        assert conn.congested
        head = conn.submit(("GET", f"{unique_key}large"))
        behind = conn.submit(("PING",))
        assert await head == b"L" * LARGE
        assert calls == [1]  # the large reply still rerouted the PING behind it
        with pytest.raises(Rerouted) as caught:
            await behind
        assert await caught.value.future == b"PONG"
        assert conn.congested  # writes are still paused
        protocol.resume_writing()
        assert not conn.congested
    finally:
        conn.close()
