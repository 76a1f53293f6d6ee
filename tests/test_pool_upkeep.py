"""Background upkeep: min_idle, idle timeout, lifetime, health checks, leaks."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

import asyncpool
from asyncpool.testing import FaultProxy

from ._util import client_ids, make_pool, wait_until


async def test_min_idle_is_prewarmed_and_refilled(redis_server: Any) -> None:
    async with make_pool(redis_server, min_idle=3, max_connections=3) as pool:
        assert pool.stats().idle == 3
        ids = await client_ids(pool, 3)
        victim = min(ids)
        async with asyncpool.Redis(host=redis_server.host, port=redis_server.port) as other:
            await other.execute_command("CLIENT", "KILL", "ID", victim)
        await wait_until(lambda: pool.stats().closed_total >= 1, what="killed connection dropped")
        await wait_until(lambda: pool.stats().idle == 3, what="refill to min_idle")
        assert victim not in await client_ids(pool, 3)


async def test_idle_timeout_closes_unused_connections(redis_server: Any) -> None:
    async with make_pool(redis_server, idle_timeout=0.2, health_check_interval=None) as pool:
        await client_ids(pool, 3)
        assert pool.stats().idle == 3
        await wait_until(lambda: pool.stats().idle == 0, what="idle expiry")
        assert pool.stats().closed_total == 3


async def test_idle_timeout_keeps_min_idle(redis_server: Any) -> None:
    async with make_pool(redis_server, idle_timeout=0.1, min_idle=1) as pool:
        await client_ids(pool, 3)
        await wait_until(lambda: pool.stats().idle == 1, what="shrink to min_idle")
        (kept,) = pool.connections()
        await wait_until(
            lambda: time.monotonic() - kept.last_used_at > 0.1, what="the kept one to pass it"
        )
        for _ in range(3):  # upkeep rounds, run here rather than waited for
            await pool._maintenance.run_once()
        assert pool.stats().idle == 1
        assert pool.stats().closed_total == 2


async def test_max_lifetime_has_jitter_and_retires_connections(redis_server: Any) -> None:
    async with make_pool(redis_server, max_lifetime=100.0) as pool:
        leases = [await pool.acquire() for _ in range(10)]
        ages = [lease.connection.retire_at - lease.connection.created_at for lease in leases]
        for lease in leases:
            await lease.release()
        assert all(90.0 <= age <= 110.0 for age in ages)
        assert len(set(ages)) > 1
    async with make_pool(redis_server, max_lifetime=0.2, idle_timeout=None) as pool:
        first = await client_ids(pool, 1)
        await wait_until(lambda: pool.stats().closed_total >= 1, what="lifetime expiry")
        assert await client_ids(pool, 1) != first


async def test_health_check_replaces_a_dead_connection(fault_proxy: FaultProxy) -> None:
    pool = asyncpool.Pool(
        host=fault_proxy.host,
        port=fault_proxy.port,
        health_check_interval=0.1,
        drain_timeout=0.3,
        borrow_check_after=None,
    )
    async with pool:
        async with pool.acquire() as lease:
            await lease.execute_command("PING")
        fault_proxy.blackhole(True)  # the socket stays open but nothing answers
        await wait_until(lambda: pool.stats().errors_total >= 1, what="failed health check")
        await wait_until(lambda: pool.stats().total == 0, what="dead connection discarded")
        fault_proxy.blackhole(False)
        async with pool.acquire() as lease:
            assert await lease.execute_command("PING") in (b"PONG", "PONG")


async def test_server_closed_idle_connection_is_never_lent(redis_server: Any) -> None:
    async with (
        make_pool(redis_server, max_connections=1) as pool,
        asyncpool.Redis(host=redis_server.host, port=redis_server.port) as other,
    ):
        (victim,) = await client_ids(pool, 1)
        await pool._maintenance.stop()  # no upkeep round to hide it: connection_lost must tell
        await other.execute_command("CLIENT", "KILL", "ID", victim)
        await wait_until(lambda: pool.stats().idle == 0, what="peer close noticed")
        assert pool.stats().total == 0
        async with pool.acquire() as lease:
            assert await lease.execute_command("CLIENT", "ID") != victim


async def test_borrow_check_pings_a_long_idle_connection(fault_proxy: FaultProxy) -> None:
    pool = asyncpool.Pool(
        host=fault_proxy.host,
        port=fault_proxy.port,
        borrow_check_after=0.05,
        health_check_interval=None,
        drain_timeout=0.2,
        socket_timeout=2.0,
    )
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.execute_command("PING")
        (conn,) = pool.connections()
        await wait_until(
            lambda: time.monotonic() - conn.last_used_at > 0.05, what="the borrow-check age"
        )
        fault_proxy.blackhole(True)
        waiter = asyncio.create_task(redis.execute_command("PING"))
        await wait_until(lambda: pool.stats().closed_total >= 1, what="failed borrow check")
        fault_proxy.blackhole(False)
        assert await asyncio.wait_for(waiter, 10) in (b"PONG", "PONG")


async def test_leak_warning_names_the_acquiring_stack(
    redis_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="asyncpool")
    async with make_pool(redis_server, leak_threshold=0.05) as pool, pool.acquire():
        await wait_until(
            lambda: any("held for" in r.getMessage() for r in caplog.records),
            what="leak warning",
        )
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "test_leak_warning_names_the_acquiring_stack" in text


@pytest_asyncio.fixture
async def fixture_pool(redis_server: Any) -> AsyncIterator[asyncpool.Pool]:
    # pytest-asyncio runs setup and teardown in different tasks: the pool must cope.
    pool = make_pool(redis_server, min_idle=2, idle_timeout=0.1)
    await pool.open()
    yield pool
    await pool.close()
    assert pool.stats().total == 0


async def test_pool_opened_and_closed_in_different_tasks(fixture_pool: asyncpool.Pool) -> None:
    assert fixture_pool._maintenance.running
    await client_ids(fixture_pool, 4)
    await wait_until(lambda: fixture_pool.stats().idle == 2, what="upkeep from the fixture's task")


async def test_first_use_opens_the_pool(redis_server: Any) -> None:
    pool = make_pool(redis_server)
    assert not pool._maintenance.running
    async with pool.acquire() as lease:
        await lease.execute_command("PING")
    assert pool._maintenance.running
    await pool.close()
    assert not pool._maintenance.running


async def test_max_idle_closes_the_surplus_on_release(redis_server: Any) -> None:
    async with make_pool(redis_server, max_connections=5, max_idle=2) as pool:
        leases = [await pool.acquire() for _ in range(5)]
        for lease in leases:
            await lease.release()
        stats = pool.stats()
        assert (stats.idle, stats.total, stats.closed_total) == (2, 2, 3)


async def test_lifo_reuses_the_most_recent_and_fifo_the_oldest(redis_server: Any) -> None:
    for lifo in (True, False):
        async with make_pool(redis_server, lifo=lifo) as pool:
            first, second = await pool.acquire(), await pool.acquire()
            first_id = await first.execute_command("CLIENT", "ID")
            second_id = await second.execute_command("CLIENT", "ID")
            await first.release()
            await second.release()  # released last: the most recently used
            async with pool.acquire() as lease:
                got = await lease.execute_command("CLIENT", "ID")
            assert got == (second_id if lifo else first_id)


async def test_health_checks_do_not_keep_idle_connections_alive(redis_server: Any) -> None:
    # a health-check PING is not a use: idle_timeout must still close the connection
    async with make_pool(redis_server, idle_timeout=0.3, health_check_interval=0.05) as pool:
        await client_ids(pool, 2)
        await wait_until(lambda: pool.stats().closed_total == 2, what="idle expiry despite checks")
        assert pool.stats().errors_total == 0
