"""The executor seam: the one retry loop, its redirect hook, and the pool's lending API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import asyncpool
from asyncpool.client.executing import Lender, Operation, Redirect
from asyncpool.client.executor import PoolExecutor
from asyncpool.command import Command
from asyncpool.errors import RedisError, ResponseError

from ._util import wait_until


def _pool(server: Any, **options: Any) -> asyncpool.Pool:
    return asyncpool.Pool(host=server.host, port=server.port, **options)


class RedirectingExecutor(PoolExecutor):
    """Sends a command that fails with WRONGTYPE on ``home`` again on ``away``, after a prelude.

    Stands in for a cluster executor following ``ASK``: another node's pool,
    and a command written on the same connection first.
    """

    def __init__(self, home: asyncpool.Pool, away: asyncpool.Pool, prelude: Command) -> None:
        super().__init__(home, asyncpool.Retry())
        self.away = away
        self.prelude = prelude
        self.redirects = 0

    async def _redirect(self, op: Operation, error: RedisError) -> Redirect | None:
        if isinstance(error, ResponseError) and error.code == "WRONGTYPE":
            self.redirects += 1
            return Redirect(self.away, self.prelude)
        return None


@pytest.fixture
async def two_dbs(redis_server: Any) -> AsyncIterator[tuple[asyncpool.Pool, asyncpool.Pool]]:
    async with _pool(redis_server, db=0) as home, _pool(redis_server, db=1) as away:
        yield home, away


async def test_a_redirect_runs_the_prelude_then_the_command_elsewhere(
    two_dbs: tuple[asyncpool.Pool, asyncpool.Pool], unique_key: str
) -> None:
    home, away = two_dbs
    async with home.acquire() as lease:
        await lease.execute_command("DEL", unique_key)
        await lease.execute_command("LPUSH", unique_key, "x")  # GET on it: WRONGTYPE
    async with away.acquire() as lease:
        await lease.execute_command("SET", unique_key, "in-db-1")
        await lease.execute_command("SELECT", 2)
        await lease.execute_command("SET", unique_key, "in-db-2")
    # the prelude must run on the very connection that then runs the command
    executor = RedirectingExecutor(home, away, Command(("SELECT", 2)))
    redis = asyncpool.Redis(executor=executor)
    assert await redis.get(unique_key) == b"in-db-2"
    assert executor.redirects == 1
    assert home.stats().in_use == away.stats().in_use == 0
    async with away.acquire() as lease:  # and the pool put that connection back on db 1
        assert await lease.execute_command("GET", unique_key) == b"in-db-1"


async def test_redirects_are_bounded(
    two_dbs: tuple[asyncpool.Pool, asyncpool.Pool], unique_key: str
) -> None:
    home, _ = two_dbs
    await asyncpool.Redis(pool=home).lpush(unique_key, "x")
    executor = RedirectingExecutor(home, home, Command(("PING",)))  # redirects to itself
    with pytest.raises(asyncpool.ResponseError, match="WRONGTYPE"):
        await asyncpool.Redis(executor=executor).get(unique_key)
    assert executor.redirects == executor.max_redirects + 1
    assert home.stats().in_use == 0


async def test_the_client_holds_an_executor(redis_server: Any) -> None:
    pool = _pool(redis_server)
    redis = asyncpool.Redis(pool=pool)
    assert isinstance(redis.executor, PoolExecutor)
    assert redis.pool is pool
    assert redis.retry is redis.executor.retry
    other = asyncpool.Redis(executor=RedirectingExecutor(pool, pool, Command(("PING",))))
    with pytest.raises(asyncpool.ConfigError):
        asyncpool.Redis(executor=redis.executor, pool=pool)
    assert await other.ping() is True
    await pool.close()


# -- the pool's lending API -------------------------------------------------------------
async def test_try_lend_lend_give_back(redis_server: Any) -> None:
    async with _pool(redis_server, max_connections=1) as pool:
        lender: Lender = pool
        assert lender.try_lend() is None  # nothing idle yet: lending needs a dial
        conn = await pool.lend()
        assert pool.stats().in_use == 1
        assert pool.try_lend() is None  # the only one is lent
        assert await conn.execute_command("PING") == b"PONG"
        pool.give_back(conn)
        pool.give_back(conn)  # twice: no effect
        assert (pool.stats().in_use, pool.stats().idle) == (0, 1)
        again = pool.try_lend()
        assert again is conn
        pool.give_back(again)
        held = await pool.lend()
        with pytest.raises(asyncpool.PoolTimeout):
            await pool.lend(timeout=0.05)
        pool.give_back(held)
        assert pool.stats().in_use == 0


async def test_every_lending_runs_the_hooks(redis_server: Any) -> None:
    events: list[str] = []

    async def on_acquire(conn: asyncpool.Connection) -> None:
        events.append("acquire")

    async def on_release(conn: asyncpool.Connection) -> None:
        events.append("release")

    pool = asyncpool.Pool(
        host=redis_server.host,
        port=redis_server.port,
        max_connections=1,
        on_acquire=on_acquire,
        on_release=on_release,
    )
    async with asyncpool.Redis(pool=pool) as redis:
        assert pool.try_lend() is None  # hooks must run: no synchronous lending
        assert await redis.ping() is True
        await wait_until(lambda: pool.stats().in_use == 0, what="the release hook")
        async with redis.pipeline() as pipe:
            pipe.ping()
            assert await pipe.execute() == [True]
        await wait_until(lambda: pool.stats().in_use == 0, what="the release hook")
    assert events == ["acquire", "release", "acquire", "release"]


# -- one "not given": timeout=None means no timeout ------------------------------------
async def test_timeout_none_means_no_timeout(fault_proxy: Any) -> None:
    async with asyncpool.Redis(
        host=fault_proxy.host, port=fault_proxy.port, socket_timeout=0.2, max_connections=2
    ) as redis:
        assert await redis.ping() is True
        fault_proxy.delay(0.3)  # each direction: a round trip takes >= 0.6 s
        with pytest.raises(asyncpool.TimeoutError):
            await redis.execute_command("PING")  # left out: socket_timeout applies
        assert await redis.execute_command("PING", timeout=None) == b"PONG"
        assert await redis.execute_command("PING", timeout=5) == b"PONG"
        async with redis.connection() as pinned:
            assert await pinned.execute_command("PING", timeout=None) == b"PONG"
            with pytest.raises(asyncpool.TimeoutError):
                await pinned.execute_command("PING")
        fault_proxy.delay(0)


async def test_a_release_hook_cut_short_by_close_still_gives_the_connection_back(
    redis_server: Any,
) -> None:
    started, never = asyncio.Event(), asyncio.Event()

    async def on_release(conn: asyncpool.Connection) -> None:
        started.set()
        await never.wait()  # a hook that never finishes

    pool = asyncpool.Pool(host=redis_server.host, port=redis_server.port, on_release=on_release)
    assert await asyncpool.Redis(pool=pool).ping() is True
    await asyncio.wait_for(started.wait(), 10)  # give_back ran the hook in a task
    assert pool.stats().in_use == 1
    await pool.close(timeout=0.1)  # cancels the hook's task
    assert (pool.stats().in_use, pool.stats().total) == (0, 0)
    pool.check_invariants(settled=True)
