"""Invariants 1 and 2 under cancellation: no reply to the wrong caller, no leaks."""

from __future__ import annotations

import asyncio
import random

import pytest

import asyncpool
from asyncpool._compat import TIMEOUT_ERRORS, timeout
from asyncpool.testing import FaultProxy

from ._util import blocked_clients, make_pool, wait_until, wait_until_async


async def _seed(redis: asyncpool.Redis, keys: list[str]) -> None:
    for i, key in enumerate(keys):
        await redis.execute_command("SET", key, f"value-{i}")


async def _storm(
    redis: asyncpool.Redis,
    keys: list[str],
    waves: int,
    cancel: str,
    bound: int,
) -> tuple[int, int]:
    """Run waves of GETs, cancelling about half; return (cancellations, wrong replies)."""
    pool = redis.pool
    wrong = 0
    cancelled = 0
    peak = 0

    async def reader(i: int) -> None:
        nonlocal wrong
        value = await redis.execute_command("GET", keys[i])
        if value != f"value-{i}".encode():
            wrong += 1

    async def monitor() -> None:
        nonlocal peak
        while True:
            peak = max(peak, pool.stats().total)
            await asyncio.sleep(0)

    watcher = asyncio.create_task(monitor())
    try:
        for _ in range(waves):
            picks = [random.randrange(len(keys)) for _ in range(16)]
            if cancel == "cancel":
                tasks = [asyncio.create_task(reader(i)) for i in picks]
                await asyncio.sleep(random.uniform(0, 0.015))  # a random moment, not a sync
                for task in random.sample(tasks, 8):
                    task.cancel()
            else:
                tasks = [
                    asyncio.create_task(
                        asyncio.wait_for(reader(i), timeout=random.uniform(0.001, 0.02))
                    )
                    if cancel == "wait_for" and n % 2
                    else asyncio.create_task(_with_timeout(reader(i), n % 2 == 1))
                    for n, i in enumerate(picks)
                ]
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for result in results:
                if isinstance(result, (asyncio.CancelledError, *TIMEOUT_ERRORS)):
                    cancelled += 1
                elif isinstance(result, BaseException):
                    raise result
    finally:
        watcher.cancel()
    assert peak <= bound
    return cancelled, wrong


async def _with_timeout(coro: object, short: bool) -> None:
    async with timeout(random.uniform(0.001, 0.02) if short else 30):
        await coro  # type: ignore[misc]


@pytest.mark.parametrize("cancel", ["cancel", "wait_for", "timeout"])
async def test_cancellation_storm_never_crosses_replies(
    fault_proxy: FaultProxy, unique_key: str, cancel: str
) -> None:
    fault_proxy.delay(0.004)
    pool = asyncpool.Pool(host=fault_proxy.host, port=fault_proxy.port, max_connections=16)
    async with asyncpool.Redis(pool=pool) as redis:
        keys = [f"{unique_key}{i}" for i in range(48)]
        await _seed(redis, keys)
        before = fault_proxy.connections_total
        cancelled, wrong = await _storm(redis, keys, waves=15, cancel=cancel, bound=16)
        assert wrong == 0
        assert cancelled > 20
        await wait_until(lambda: pool.stats().in_use == 0, what="in_use == 0")
        await wait_until(lambda: not pool._recovering, what="drains to finish")
        stats = pool.stats()
        assert stats.total <= 16
        # cancelled callers' replies were drained, not paid for with new connections
        assert fault_proxy.connections_total - before <= 16 + cancelled // 4
        # and the pool still serves every key correctly
        for i, key in enumerate(keys):
            assert await redis.execute_command("GET", key) == f"value-{i}".encode()
    await pool.close()


async def test_cancel_during_acquire_never_strands_a_permit(redis_server: object) -> None:
    pool = make_pool(redis_server, max_connections=1)
    done = 0

    async def borrower() -> None:
        nonlocal done
        async with pool.acquire() as conn:
            await conn.execute_command("PING")
            done += 1

    async with pool:
        # First, deterministically: a waiter cancelled right after it was handed a
        # connection (then a permit to dial) must pass it on to the next waiter.
        for broken in (False, True):
            holder = await pool.acquire()
            first = asyncio.ensure_future(pool.acquire())
            second = asyncio.ensure_future(pool.acquire())
            await wait_until(lambda: pool.stats().waiting == 2, what="two waiters")
            if broken:
                holder.connection.close()  # its release frees the slot: a permit to dial
            await holder.release()  # hands the connection (or the permit) to `first` ...
            first.cancel()  # ... which leaves before it could wake up and take it
            with pytest.raises(asyncio.CancelledError):
                await first
            async with timeout(5):
                lease = await second
            assert await lease.execute_command("PING") in (b"PONG", "PONG")
            await lease.release()
            stats = pool.stats()
            assert (stats.in_use, stats.waiting, stats.total) == (0, 0, 1)

        # Then a storm: 1000 queued borrowers, 500 of them cancelled at random moments.
        holder = await pool.acquire()
        tasks = [asyncio.create_task(borrower()) for _ in range(1000)]
        await wait_until(lambda: pool.stats().waiting == 1000, what="1000 waiters")
        victims = random.sample(tasks, 500)
        for task in victims[:250]:
            task.cancel()  # cancelled while queued
        await holder.release()

        async def canceller() -> None:  # cancel more while connections are being handed over
            for task in victims[250:]:
                task.cancel()
                await asyncio.sleep(0)

        results = await asyncio.gather(canceller(), *tasks, return_exceptions=True)
        for task, result in zip(tasks, results[1:], strict=True):
            if task in victims:
                assert result is None or isinstance(result, asyncio.CancelledError)
            else:
                assert result is None  # never cancelled: must have been served
        stats = pool.stats()
        assert stats.in_use == 0
        assert stats.waiting == 0
        assert stats.total <= 1
        assert done >= 500
        async with timeout(2), pool.acquire() as conn:
            assert await conn.execute_command("PING") in (b"PONG", "PONG")


async def test_cancelled_blpop_does_not_swallow_a_later_push(
    redis_server: object, unique_key: str
) -> None:
    host, port = redis_server.host, redis_server.port  # type: ignore[attr-defined]
    queue = f"{unique_key}q"
    # a drain_timeout far beyond the waits below: only closing the cancelled BLPOP's
    # connection at once can end the BLPOP on the server in time
    async with (
        asyncpool.Redis(host=host, port=port, max_connections=2, drain_timeout=60) as redis,
        asyncpool.Redis(host=host, port=port, max_connections=1) as other,
    ):
        await redis.execute_command("PING")
        before = await blocked_clients(other)
        blpop = asyncio.create_task(redis.execute_command("BLPOP", queue, 0))

        async def blocked(n: int) -> bool:
            return await blocked_clients(other) == n

        await wait_until_async(lambda: blocked(before + 1), what="BLPOP blocked on the server")
        blpop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await blpop
        await wait_until_async(lambda: blocked(before), timeout=5, what="the BLPOP to end")
        await other.execute_command("LPUSH", queue, "x")
        assert await other.execute_command("LLEN", queue) == 1
        async with timeout(5):
            assert await redis.execute_command("LLEN", queue) == 1
        assert redis.pool.stats().in_use == 0


async def test_a_connection_owing_a_reply_is_lent_only_once_drained(
    fault_proxy: FaultProxy, unique_key: str
) -> None:
    # A GET cancelled in flight leaves its reply owed. The next borrower must get the
    # connection only after that reply was read and dropped, not queued behind it.  The
    # pool's own drain, so exclusive mode (shared mode's: tests/test_sharing_alone.py).
    fault_proxy.delay(0.2)
    async with (
        make_pool(fault_proxy, max_connections=1, multiplex=False) as pool,
        asyncpool.Redis(pool=pool) as redis,
    ):
        await redis.execute_command("SET", unique_key, "v")
        (conn,) = pool.connections()
        get = asyncio.ensure_future(redis.execute_command("GET", unique_key))
        await wait_until(lambda: pool.connections()[0].pending_replies == 1, what="GET sent")
        get.cancel()
        with pytest.raises(asyncio.CancelledError):
            await get
        async with pool.acquire() as lease:
            assert lease.connection.pending_replies == 0  # drained before it was lent
            assert lease.connection.id == conn.id  # drained, not replaced
            assert await lease.execute_command("GET", unique_key) == b"v"
