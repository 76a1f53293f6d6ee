"""Invariant 4 and the bound: dead servers, blackholes, exhaustion, fairness."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

import asyncpool
from asyncpool.testing import FaultProxy, RedisServer

from ._util import make_pool, wait_until


async def test_kill_9_fails_fast_then_recovers_without_user_action(
    private_redis_server: RedisServer,
) -> None:
    server = private_redis_server
    pool = make_pool(server, max_connections=8, min_idle=4, dial_backoff_max=0.2)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await asyncio.gather(*(redis.execute_command("PING") for _ in range(8)))
        assert pool.stats().total >= 4
        server.kill()
        for _ in range(5):
            started = time.monotonic()
            with pytest.raises(asyncpool.ConnectionError):
                await redis.execute_command("GET", "k")
            assert time.monotonic() - started < 3.0
        await wait_until(lambda: pool.stats().idle == 0, what="dead idle connections dropped")
        server.restart()
        deadline = time.monotonic() + 15
        while True:
            try:
                await redis.execute_command("PING")
                break
            except asyncpool.ConnectionError:
                assert time.monotonic() < deadline, "pool did not recover after restart"
                await asyncio.sleep(0.05)
        # once it answers, no stale connection surfaces as an error
        results = await asyncio.gather(*(redis.execute_command("PING") for _ in range(50)))
        assert all(r in (b"PONG", "PONG") for r in results)
        assert not pool.stats().breaker_open
        assert pool.stats().in_use == 0


@pytest.mark.parametrize("multiplex", [False, True], ids=["exclusive", "shared"])
async def test_blackhole_times_out_and_discards_the_connection(
    fault_proxy: FaultProxy, multiplex: bool
) -> None:
    pool = asyncpool.Pool(
        host=fault_proxy.host, port=fault_proxy.port, socket_timeout=1.0, multiplex=multiplex
    )
    async with asyncpool.Redis(pool=pool) as redis:
        await redis.execute_command("PING")
        assert pool.stats().total == 1
        fault_proxy.blackhole(True)
        started = time.monotonic()
        with pytest.raises(asyncpool.TimeoutError) as info:
            await redis.execute_command("GET", "some-key")
        assert isinstance(info.value, TimeoutError)  # also the builtin
        assert 0.5 < time.monotonic() - started < 5.0
        assert pool.stats().total == 0
        assert pool.stats().in_use == 0
        fault_proxy.blackhole(False)
        assert await redis.execute_command("PING") in (b"PONG", "PONG")


async def test_exhausted_pool_raises_pool_timeout_naming_the_pool(redis_server: Any) -> None:
    async with make_pool(redis_server, max_connections=2, acquire_timeout=0.2) as pool:
        first = await pool.acquire()
        second = await pool.acquire()
        started = time.monotonic()
        with pytest.raises(asyncpool.PoolTimeout) as info:
            await pool.acquire()
        assert 0.15 < time.monotonic() - started < 3.0
        assert isinstance(info.value, TimeoutError)
        assert pool.name in str(info.value)
        assert "in_use=2" in str(info.value)
        assert pool.stats().acquire_timeouts_total == 1
        assert pool.stats().waiting == 0
        await first.release()
        await second.release()
        assert pool.stats().in_use == 0


async def test_waiters_are_served_first_come_first_served(redis_server: Any) -> None:
    async with make_pool(redis_server, max_connections=1, acquire_timeout=None) as pool:
        order: list[int] = []
        holder = await pool.acquire()

        async def waiter(n: int) -> None:
            async with pool.acquire():
                order.append(n)
                await asyncio.sleep(0)

        tasks = []
        for n in range(20):
            tasks.append(asyncio.create_task(waiter(n)))
            await wait_until(lambda n=n: pool.stats().waiting == n + 1, what=f"waiter {n}")
        # a late arrival must queue behind them even when a connection frees up
        await holder.release()
        late = asyncio.create_task(waiter(99))
        await asyncio.gather(*tasks, late)
        assert order == [*range(20), 99]


@pytest.mark.parametrize("multiplex", [False, True], ids=["exclusive", "shared"])
async def test_bound_holds_while_dialing_under_load(
    fault_proxy: FaultProxy, multiplex: bool
) -> None:
    fault_proxy.delay(0.01)  # slow dials, so many callers race to dial at once
    pool = asyncpool.Pool(
        host=fault_proxy.host, port=fault_proxy.port, max_connections=5, multiplex=multiplex
    )
    peak_total = 0
    peak_sockets = 0

    async def monitor() -> None:
        nonlocal peak_total, peak_sockets
        while True:
            peak_total = max(peak_total, pool.stats().total)
            peak_sockets = max(peak_sockets, fault_proxy.connections_open)
            await asyncio.sleep(0)

    watcher = asyncio.create_task(monitor())
    async with asyncpool.Redis(pool=pool) as redis:
        await asyncio.gather(*(redis.execute_command("PING") for _ in range(100)))
    watcher.cancel()
    assert peak_total <= 5
    assert peak_sockets <= 5
    assert fault_proxy.connections_total <= 5


async def test_breaker_opens_fails_fast_and_closes_when_server_returns(
    private_redis_server: RedisServer,
) -> None:
    server = private_redis_server
    pool = make_pool(server, breaker_threshold=2, dial_attempts=1, dial_backoff_max=0.1)
    async with asyncpool.Redis(pool=pool, retry=asyncpool.Retry(attempts=1)) as redis:
        await redis.execute_command("PING")
        server.kill()
        await wait_until(lambda: pool.stats().total == 0, what="connection dropped")
        for _ in range(2):
            with pytest.raises(asyncpool.ConnectionError):
                await redis.execute_command("PING")
        assert pool.stats().breaker_open
        started = time.monotonic()
        with pytest.raises(asyncpool.ConnectionError, match="failing fast"):
            await redis.execute_command("PING")
        assert time.monotonic() - started < 0.5
        server.restart()
        await wait_until(lambda: not pool.stats().breaker_open, what="probe closes the breaker")
        assert await redis.execute_command("PING") in (b"PONG", "PONG")


async def test_server_refusal_at_maxclients_reaches_the_caller(
    redis_server_factory: Callable[..., RedisServer],
) -> None:
    # At maxclients the server answers "-ERR max number of clients reached" and closes:
    # the caller must see that error, not "server closed the connection".
    server = redis_server_factory(extra_args=["--maxclients", "2"])
    holder = make_pool(server, max_connections=2)
    pool = make_pool(server, dial_attempts=1, breaker_threshold=2, dial_backoff_max=0.05)
    async with holder, pool, asyncpool.Redis(pool=pool, retry=asyncpool.Retry(attempts=1)) as redis:
        leases = [await holder.acquire() for _ in range(2)]  # every client slot taken
        with pytest.raises(asyncpool.ConnectionError, match="max number of clients reached"):
            await redis.execute_command("PING")
        with pytest.raises(asyncpool.ConnectionError, match="max number of clients reached"):
            await redis.execute_command("PING")  # the breaker opens, still naming the cause
        await wait_until(lambda: pool.stats().breaker_open, what="breaker open")
        with pytest.raises(asyncpool.ConnectionError, match=r"failing fast.*max number of clients"):
            await redis.execute_command("PING")
        for lease in leases:
            await lease.release()
        holder.expire_all()  # close them: slots free on the server
        await wait_until(lambda: not pool.stats().breaker_open, what="probe closes the breaker")
        assert await redis.execute_command("PING") in (b"PONG", "PONG")


async def test_failed_dials_give_their_slot_back(fault_proxy: FaultProxy) -> None:
    # one slot: if a failed dial kept it, nothing could ever be dialed again
    pool = make_pool(
        fault_proxy, max_connections=1, dial_attempts=1, breaker_threshold=100, acquire_timeout=5
    )
    async with pool, asyncpool.Redis(pool=pool, retry=asyncpool.Retry(attempts=1)) as redis:
        fault_proxy.refuse(True)
        for _ in range(3):
            with pytest.raises(asyncpool.ConnectionError):
                await redis.execute_command("PING")
        assert pool.stats().total == 0
        fault_proxy.refuse(False)
        assert await redis.execute_command("PING") in (b"PONG", "PONG")
