"""asyncpool on uvloop: the same guarantees on the other common event loop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import asyncpool

from ._util import wait_until

uvloop = pytest.importorskip("uvloop")


def _run(coro: Any) -> Any:
    """Run ``coro`` on a new uvloop loop, then end it as ``asyncio.run()`` / ``uvloop.run()`` do."""
    loop = uvloop.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        # what is still pending (the pool's maintenance task) is cancelled before
        # the loop closes, or asyncio reports it destroyed while pending
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()


def test_commands_pipeline_and_pool_on_uvloop(redis_server: Any) -> None:
    async def main() -> None:
        async with asyncpool.Redis(
            host=redis_server.host, port=redis_server.port, max_connections=4
        ) as redis:
            await redis.set("uvloop:k", "v")
            assert await redis.get("uvloop:k") == b"v"
            results = await asyncio.gather(*(redis.incr("uvloop:n") for _ in range(50)))
            assert sorted(results)[-1] - sorted(results)[0] == 49
            async with redis.pipeline() as pipe:
                assert await pipe.set("uvloop:p", 1).get("uvloop:p").execute() == [True, b"1"]
            assert redis.pool.stats().total <= 4

    _run(main())


def test_cancelled_reply_is_drained_on_uvloop(redis_server: Any) -> None:
    async def main() -> None:
        pool = asyncpool.Pool(host=redis_server.host, port=redis_server.port, max_connections=1)
        async with asyncpool.Redis(pool=pool) as redis:
            await redis.set("uvloop:c", "mine")
            busy = "local i = 0 while i < 2000000 do i = i + 1 end return 'late'"
            task = asyncio.ensure_future(redis.execute_command("EVAL", busy, 0))
            await wait_until(  # sent, its reply owed: cancel it now
                lambda: [c.pending_replies for c in pool.connections()] == [1], what="EVAL sent"
            )
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await redis.get("uvloop:c") == b"mine"  # not the cancelled reply
            assert pool.stats().created_total == 1
        await pool.close()  # a pool given to Redis(pool=...) is its creator's to close

    _run(main())


def test_unix_socket_on_uvloop(unix_redis_server: Any) -> None:
    async def main() -> None:
        async with asyncpool.Redis(path=unix_redis_server.unix_path) as redis:
            assert await redis.ping() is True

    _run(main())


def test_one_client_on_two_uvloop_loops_in_turn(redis_server: Any) -> None:
    # each _run() makes and closes its own loop: the second finds the first one's
    # connections dead and must serve from its own
    redis = asyncpool.Redis(host=redis_server.host, port=redis_server.port, max_connections=2)

    async def use() -> int:
        counts = await asyncio.gather(*(redis.incr("uvloop:turns") for _ in range(10)))
        assert redis.pool.stats().total <= 2
        return max(counts)

    first = _run(use())
    assert _run(use()) == first + 10
    _run(redis.aclose())


def test_reads_behind_a_large_reply_are_rerouted_on_uvloop(redis_server: Any) -> None:
    """uvloop reads in chunks of its own: a large reply still congests, and reads move."""

    async def main() -> None:
        async with asyncpool.Redis(
            host=redis_server.host, port=redis_server.port, max_connections=4, multiplex=True
        ) as redis:
            await redis.set("uvloop:large", b"L" * (2 << 20))
            await redis.set("uvloop:small", "s")
            large = asyncio.ensure_future(redis.get("uvloop:large"))
            small = [asyncio.ensure_future(redis.get("uvloop:small")) for _ in range(10)]
            assert await large == b"L" * (2 << 20)
            assert await asyncio.gather(*small) == [b"s"] * 10
            policy = redis.pool.sharing
            assert policy is not None
            assert policy.stats().rerouted_total == 10

    _run(main())
