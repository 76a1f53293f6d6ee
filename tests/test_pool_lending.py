"""Lending rules: dirty state never leaks, release, close, expire_all, hooks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import asyncpool
from asyncpool.connection import Connection
from asyncpool.testing import FaultProxy

from ._util import client_ids, make_pool, wait_until


async def test_connection_released_inside_multi_is_reset(
    redis_server: Any, unique_key: str, protocol: int
) -> None:
    async with make_pool(redis_server, max_connections=1, protocol=protocol) as pool:
        async with pool.acquire() as lease:
            await lease.execute_command("MULTI")
            assert await lease.execute_command("SET", unique_key, "1") in (b"QUEUED", "QUEUED")
            assert lease.info().state == "multi"
        async with pool.acquire() as lease:  # the same (only) connection, reset
            assert await lease.execute_command("GET", unique_key) is None
            assert lease.info().state == "clean"
            assert lease.connection.protocol_version == protocol


async def test_connection_released_while_watching_is_reset(
    redis_server: Any, unique_key: str
) -> None:
    async with make_pool(redis_server, max_connections=1) as pool:
        async with pool.acquire() as lease:
            await lease.execute_command("WATCH", unique_key)
        async with asyncpool.Redis(host=redis_server.host, port=redis_server.port) as other:
            await other.execute_command("SET", unique_key, "changed")
        async with pool.acquire() as lease:
            # a leaked WATCH would make this EXEC return nil
            await lease.execute_command("MULTI")
            await lease.execute_command("GET", unique_key)
            assert await lease.execute_command("EXEC") == [b"changed"]


async def test_connection_released_on_another_db_is_reset(
    redis_server: Any, unique_key: str
) -> None:
    async with make_pool(redis_server, max_connections=1) as pool:
        async with pool.acquire() as lease:
            await lease.execute_command("SELECT", 3)
            await lease.execute_command("SET", unique_key, "in-db-3")
        async with pool.acquire() as lease:
            assert await lease.execute_command("GET", unique_key) is None
            info = await lease.execute_command("CLIENT", "INFO")
            assert b" db=0 " in info
            await lease.execute_command("SELECT", 3)
            await lease.execute_command("DEL", unique_key)


async def test_subscribed_connection_is_never_lent_again(
    redis_server: Any, unique_key: str, protocol: int
) -> None:
    async with make_pool(redis_server, max_connections=1, protocol=protocol) as pool:
        async with pool.acquire() as lease:
            first_id = await lease.execute_command("CLIENT", "ID")
            await lease.execute_command("SUBSCRIBE", unique_key)
            assert lease.info().state == "subscribed"
        async with pool.acquire() as lease:
            assert await lease.execute_command("CLIENT", "ID") != first_id
            assert await lease.execute_command("PING") in (b"PONG", "PONG")
        assert pool.stats().closed_total == 1


async def test_use_after_release_raises(redis_server: Any) -> None:
    async with make_pool(redis_server) as pool:
        async with pool.acquire() as lease:
            pass
        assert lease.released
        with pytest.raises(asyncpool.ConnectionError, match="released"):
            await lease.execute_command("PING")


async def test_user_exception_inside_acquire_returns_the_connection(redis_server: Any) -> None:
    async with make_pool(redis_server, max_connections=1) as pool:
        with pytest.raises(KeyError):
            async with pool.acquire():
                raise KeyError("boom")
        stats = pool.stats()
        assert (stats.in_use, stats.idle, stats.total) == (0, 1, 1)


async def test_close_waits_for_lent_connections_then_forces(redis_server: Any) -> None:
    pool = make_pool(redis_server)
    lease = await pool.acquire()
    closing = asyncio.create_task(pool.close(timeout=0.2))
    await wait_until(lambda: pool.closed, what="close started")
    with pytest.raises(asyncpool.PoolClosed):
        await pool.acquire()
    await closing
    with pytest.raises(asyncpool.ConnectionError):
        await lease.execute_command("PING")
    await lease.release()
    assert pool.stats().total == 0


async def test_close_returns_once_the_last_lease_comes_back(redis_server: Any) -> None:
    pool = make_pool(redis_server)
    lease = await pool.acquire()
    closing = asyncio.create_task(pool.close(timeout=30))
    await wait_until(lambda: pool.closed, what="close started")
    assert not closing.done()
    await lease.execute_command("PING")  # still usable while close waits
    await lease.release()
    await asyncio.wait_for(closing, 5)
    assert pool.stats().total == 0


async def test_close_fails_waiters_with_pool_closed(redis_server: Any) -> None:
    pool = make_pool(redis_server, max_connections=1, acquire_timeout=None)
    lease = await pool.acquire()
    waiter = asyncio.create_task(pool._checkout())
    await wait_until(lambda: pool.stats().waiting == 1, what="queued waiter")
    closing = asyncio.create_task(pool.close(timeout=0.1))
    with pytest.raises(asyncpool.PoolClosed):
        await waiter
    await closing
    await lease.release()


async def test_expire_all_closes_idle_now_and_lent_on_return(redis_server: Any) -> None:
    async with make_pool(redis_server) as pool:
        idle = await pool.acquire()
        lent = await pool.acquire()
        lent_id = await lent.execute_command("CLIENT", "ID")
        await idle.release()
        assert pool.stats().idle == 1
        pool.expire_all()
        assert pool.stats().idle == 0
        await lent.release()
        assert pool.stats().total == 0
        async with pool.acquire() as fresh:
            assert await fresh.execute_command("CLIENT", "ID") != lent_id


async def test_hooks_run_in_order(redis_server: Any) -> None:
    events: list[str] = []

    async def on_connect(conn: asyncpool.Connection) -> None:
        events.append("connect")

    async def on_acquire(conn: asyncpool.Connection) -> None:
        events.append("acquire")

    async def on_release(conn: asyncpool.Connection) -> None:
        events.append("release")

    pool = make_pool(redis_server, max_connections=1)
    pool = asyncpool.Pool(
        pool.connection_options,
        pool.options,
        on_connect=on_connect,
        on_acquire=on_acquire,
        on_release=on_release,
    )
    async with pool:
        for _ in range(2):
            async with pool.acquire() as lease:
                events.append("use")
                await lease.execute_command("PING")
    assert events == ["connect", "acquire", "use", "release", "acquire", "use", "release"]


async def test_failing_on_connect_discards_and_reaches_the_caller(redis_server: Any) -> None:
    async def on_connect(conn: asyncpool.Connection) -> None:
        raise RuntimeError("setup failed")

    pool = asyncpool.Pool(
        host=redis_server.host, port=redis_server.port, max_connections=1, on_connect=on_connect
    )
    async with pool:
        for _ in range(3):
            with pytest.raises(RuntimeError, match="setup failed"):
                await pool.acquire()
        stats = pool.stats()
        assert (stats.total, stats.in_use, stats.dialing) == (0, 0, 0)


async def test_connection_with_replies_switched_off_is_closed(redis_server: Any) -> None:
    async with make_pool(redis_server, max_connections=1) as pool:
        async with pool.acquire() as lease:
            first_id = await lease.execute_command("CLIENT", "ID")
            assert await lease.execute_command("CLIENT", "REPLY", "OFF") is None
            assert lease.connection.replies_suppressed
        async with pool.acquire() as lease:
            assert await lease.execute_command("CLIENT", "ID") != first_id
            assert await lease.execute_command("PING") == b"PONG"


async def test_acquiring_an_idle_connection_does_not_yield(redis_server: Any) -> None:
    async with make_pool(redis_server) as pool:
        async with pool.acquire():
            pass
        coro = pool._checkout()
        with pytest.raises(StopIteration) as done:
            coro.send(None)  # a coroutine that never suspends finishes on the first send
        conn = done.value.value
        assert isinstance(conn, asyncpool.Connection)
        pool._checkin(conn)
        assert pool.stats().in_use == 0


async def test_connection_metadata_is_inspectable(redis_server: Any) -> None:
    async with make_pool(redis_server) as pool, pool.acquire() as lease:
        await lease.execute_command("PING")
        infos = pool.connections()
        assert len(infos) == 1
        info = infos[0]
        assert info.uses >= 1
        assert info.errors == 0
        assert info.created_at <= info.last_used_at
        assert info.state == "clean"
        assert info.address == pool.name


async def test_published_message_is_never_a_callers_reply(
    redis_server: Any, unique_key: str
) -> None:
    # RESP3 delivers messages as pushes on the same socket as replies.
    async with (
        make_pool(redis_server, max_connections=1, protocol=3) as pool,
        asyncpool.Redis(host=redis_server.host, port=redis_server.port) as other,
        pool.acquire() as lease,
    ):
        await lease.execute_command("SUBSCRIBE", unique_key)
        queue = unique_key + ":q"
        # a reply is owed (BLPOP waits) when the message arrives
        pending = asyncio.ensure_future(lease.execute_command("BLPOP", queue, 5))
        await wait_until(lambda: lease.connection.pending_replies == 1, what="BLPOP sent")
        assert await other.execute_command("PUBLISH", unique_key, "not-a-reply") == 1
        await other.execute_command("RPUSH", queue, "the-reply")
        assert await pending == [queue.encode(), b"the-reply"]


async def test_cancelled_multi_is_reset_before_reuse(
    fault_proxy: FaultProxy, unique_key: str
) -> None:
    # MULTI reaches the server, but its caller is cancelled before the reply arrives.
    fault_proxy.delay(0.05)
    pool = asyncpool.Pool(host=fault_proxy.host, port=fault_proxy.port, max_connections=1)
    async with pool:
        async with pool.acquire() as lease:
            await lease.execute_command("PING")
            multi = asyncio.ensure_future(lease.execute_command("MULTI"))
            await wait_until(lambda: lease.connection.pending_replies == 1, what="MULTI sent")
            multi.cancel()
            with pytest.raises(asyncio.CancelledError):
                await multi
        async with pool.acquire() as lease:  # the same connection, drained and reset
            assert await lease.execute_command("SET", unique_key, "v") in (b"OK", "OK")
            assert await lease.execute_command("GET", unique_key) == b"v"


async def test_second_subscribe_confirmation_is_not_the_next_reply(
    redis_server: Any, unique_key: str
) -> None:
    # SUBSCRIBE a b is answered by two RESP3 confirmations; the second one must not
    # be taken for the reply of the PING written right behind it.
    async with (
        make_pool(redis_server, max_connections=1, protocol=3) as pool,
        pool.acquire() as lease,
    ):
        first, pong = await asyncio.gather(
            lease.execute_command("SUBSCRIBE", f"{unique_key}a", f"{unique_key}b"),
            lease.execute_command("PING"),
        )
        assert first == [b"subscribe", f"{unique_key}a".encode(), 1]
        assert pong == b"PONG"


async def test_aclose_during_dials_fails_callers_with_pool_closed(fault_proxy: FaultProxy) -> None:
    # Callers that were never cancelled must not see CancelledError when the pool is
    # closed under them, also those whose connection was still being dialed.
    fault_proxy.delay(0.2)  # every dial (its handshake) takes at least 0.2 s
    redis = asyncpool.Redis(
        host=fault_proxy.host,
        port=fault_proxy.port,
        max_connections=20,
        retry=asyncpool.Retry(attempts=1),
    )
    pool = redis.pool
    tasks = [asyncio.ensure_future(redis.execute_command("PING")) for _ in range(200)]
    await wait_until(lambda: pool.stats().dialing == 20, what="20 dials in flight")
    assert pool.stats().waiting == 180
    await redis.aclose()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    kinds = {type(result).__name__ for result in results}
    assert kinds == {"PoolClosed"}, kinds  # 20 waited on a dial, 180 in the queue
    stats = pool.stats()
    assert (stats.total, stats.in_use, stats.waiting, stats.dialing) == (0, 0, 0, 0)


async def test_a_permit_granted_just_before_close_opens_no_connection(redis_server: Any) -> None:
    async with make_pool(redis_server, max_connections=1) as pool:
        lease = await pool.acquire()
        waiter = asyncio.ensure_future(pool.acquire())
        await wait_until(lambda: pool.stats().waiting == 1, what="a queued caller")
        lease.connection.close()  # broken: its release frees the slot, a permit to dial
        await lease.release()
        await pool.close()  # before the waiter wakes up with its permit
        with pytest.raises(asyncpool.PoolClosed):
            await waiter
        assert pool.stats().created_total == 1
        assert pool.stats().total == 0


async def test_a_connection_whose_close_raises_still_frees_its_slot(
    redis_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # closing can fail (a transport of a dead event loop raised "Event loop is
    # closed"): the slot must come back all the same, or the pool wedges for good
    async with make_pool(redis_server, max_connections=2) as pool:
        await client_ids(pool, 2)
        assert pool.stats().total == 2
        stuck = [c for c in (*pool._idle,)]

        def refuse(self: Connection, reason: BaseException | None = None) -> None:
            raise RuntimeError("Event loop is closed")

        with monkeypatch.context() as patch:
            patch.setattr(Connection, "close", refuse)
            pool.expire_all()  # discards both idle connections
        for conn in stuck:
            conn.close()  # for real this time
        assert pool.stats().total == 0
        assert len(await client_ids(pool, 2)) == 2  # both slots usable again


async def test_close_right_after_a_dirty_release_frees_the_slot(redis_server: Any) -> None:
    # The release starts a reset task; close() cancels it before its first step,
    # when none of its own cleanup can run: the slot must be freed all the same.
    pool = make_pool(redis_server, max_connections=1)
    async with pool:
        async with pool.acquire() as lease:
            await lease.execute_command("SELECT", 3)  # dirty: reset before reuse
        assert len(pool._recovering) == 1
    stats = pool.stats()
    assert (stats.total, stats.in_use, stats.closed_total) == (0, 0, 1)
