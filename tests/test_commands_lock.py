"""redis.lock(): redis-py's Lock interface, token-checked, safe under cancellation."""

from __future__ import annotations

import asyncio

import pytest

import asyncpool
from asyncpool.testing import FaultProxy


async def test_acquire_release_and_state(client: asyncpool.Redis, unique_key: str) -> None:
    lock = client.lock(unique_key, timeout=10)
    assert await lock.locked() is False
    assert await lock.owned() is False
    assert await lock.acquire() is True
    assert await lock.locked() is True
    assert await lock.owned() is True
    assert 9_000 < await client.pttl(unique_key) <= 10_000
    other = client.lock(unique_key)
    assert await other.acquire(blocking=False) is False
    assert await other.owned() is False
    await lock.release()
    assert await lock.locked() is False
    assert await other.acquire(blocking=False) is True
    await other.release()


async def test_async_with_and_blocking_timeout(r: asyncpool.Redis, unique_key: str) -> None:
    async with r.lock(unique_key, timeout=5) as held:
        assert await held.owned()
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await r.lock(unique_key, sleep=0.01).acquire(blocking_timeout=0.2) is False
        assert loop.time() - started >= 0.2
        with pytest.raises(asyncpool.LockError, match="could not acquire"):
            async with r.lock(unique_key, blocking_timeout=0.05, sleep=0.01):
                pass
    assert await r.exists(unique_key) == 0


async def test_waiter_gets_the_lock_when_released(r: asyncpool.Redis, unique_key: str) -> None:
    first = r.lock(unique_key, timeout=10)
    await first.acquire()
    second = r.lock(unique_key, timeout=10, sleep=0.01)
    waiting = asyncio.ensure_future(second.acquire(blocking_timeout=5))
    await asyncio.sleep(0)  # let it make its first (failing) attempt
    await first.release()
    assert await asyncio.wait_for(waiting, 5) is True
    assert await second.owned()
    await second.release()


async def test_release_is_token_checked(r: asyncpool.Redis, unique_key: str) -> None:
    lock = r.lock(unique_key, timeout=10)
    await lock.acquire()
    await r.set(unique_key, "someone-else")  # as if our lease had expired and another took it
    assert await lock.owned() is False
    with pytest.raises(asyncpool.LockNotOwnedError):
        await lock.release()
    assert await r.get(unique_key) == b"someone-else"  # not deleted
    with pytest.raises(asyncpool.LockError, match="not held"):
        await lock.release()
    quiet = r.lock(unique_key + "q", timeout=10, raise_on_release_error=False)
    async with quiet:
        await r.delete(unique_key + "q")  # the lease is gone before the block ends


async def test_expiry_frees_the_lock(r: asyncpool.Redis, unique_key: str) -> None:
    lock = r.lock(unique_key, timeout=0.05)
    await lock.acquire()
    assert await r.lock(unique_key, sleep=0.01).acquire(blocking_timeout=5) is True


async def test_extend_and_reacquire(client: asyncpool.Redis, unique_key: str) -> None:
    lock = client.lock(unique_key, timeout=10)
    await lock.acquire()
    assert await lock.extend(20) is True
    assert 25_000 < await client.pttl(unique_key) <= 30_000
    assert await lock.extend(3, replace_ttl=True) is True
    assert 2_000 < await client.pttl(unique_key) <= 3_000
    assert await lock.reacquire() is True
    assert 9_000 < await client.pttl(unique_key) <= 10_000
    await client.set(unique_key, "stolen")
    with pytest.raises(asyncpool.LockNotOwnedError):
        await lock.extend(5)
    with pytest.raises(asyncpool.LockNotOwnedError):
        await lock.reacquire()
    no_lease = client.lock(unique_key + "n")
    await no_lease.acquire()
    assert await client.ttl(unique_key + "n") == -1
    with pytest.raises(asyncpool.LockError, match="without a timeout"):
        await no_lease.extend(5)
    await no_lease.release()
    with pytest.raises(asyncpool.LockError, match="not held"):
        await no_lease.extend(5)


async def test_own_token_and_idempotent_attempts(r: asyncpool.Redis, unique_key: str) -> None:
    lock = r.lock(unique_key, timeout=10)
    assert await lock.acquire(token="mine") is True
    assert await r.get(unique_key) == b"mine"
    assert await lock.do_acquire("mine") is True  # a repeated attempt of the holder succeeds
    assert await lock.do_acquire("theirs") is False
    await lock.release()


def test_bad_arguments(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.LockError):
        r.lock("k", timeout=0)
    with pytest.raises(asyncpool.LockError):
        r.lock("k", sleep=-1)


async def _evalsha_calls(redis: asyncpool.Redis) -> int:
    stats = await redis.info("commandstats")
    entry = stats.get("cmdstat_evalsha")
    return int(entry["calls"]) if entry else 0


@pytest.mark.parametrize("lease", [None, 30.0])
async def test_cancelled_acquire_never_leaves_the_lock_held(
    r: asyncpool.Redis, fault_proxy: FaultProxy, unique_key: str, lease: float | None
) -> None:
    """The acquire's command reaches the server after the caller was cancelled."""
    async with asyncpool.Redis.from_url(fault_proxy.url) as slow:
        lock = slow.lock(unique_key, timeout=lease)
        await lock.acquire(blocking=False)  # loads the script, opens the connection
        await lock.release()
        before = await _evalsha_calls(r)
        fault_proxy.delay(0.3)
        attempt = asyncio.ensure_future(lock.acquire())
        sent = fault_proxy.bytes_upstream
        await fault_proxy.wait_for(lambda p: p.bytes_upstream > sent)
        attempt.cancel()
        with pytest.raises(asyncio.CancelledError):
            await attempt
        # the server did run the acquire script ...
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while await _evalsha_calls(r) < before + 1:
            assert loop.time() < deadline, "the acquire never reached the server"
            await asyncio.sleep(0.01)
        # ... and the lock is free again: nobody holds a lock nobody knows about
        assert await r.exists(unique_key) == 0
        assert lock.token is None
        fault_proxy.delay(0)
        assert slow.pool.stats().in_use == 0
