"""One client, several event loops: asyncio.run() twice, another thread's loop, trio.

A pool belongs to one event loop at a time.  Used from a new loop once the old
one is gone (closed, or no longer running), it drops the old loop's connections
and serves from the new one; used from a second loop while the first still runs
(another thread), it raises EventLoopError naming the fix.  Never does it touch
a connection from the wrong loop, and never does it print a traceback.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from typing import Any

import pytest

import asyncpool
from asyncpool.testing import RedisServer

_NOISE = ("Traceback", "never retrieved", "Event loop is closed", "destroyed but it is pending")


def _clients_named(server: RedisServer, name: str) -> int:
    listing = server.command("CLIENT", "LIST")
    text = listing.decode() if isinstance(listing, bytes) else str(listing)
    return sum(1 for line in text.splitlines() if f" name={name} " in line)


def _wait_for_clients(server: RedisServer, name: str, at_most: int) -> None:
    deadline = time.monotonic() + 10
    while _clients_named(server, name) > at_most:
        assert time.monotonic() < deadline, "the old loop's connections stayed open"
        time.sleep(0.02)


@pytest.mark.parametrize("multiplex", [False, True], ids=["exclusive", "shared"])
def test_one_client_serves_asyncio_run_twice_and_a_later_thread(
    multiplex: bool,
    private_redis_server: RedisServer,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = private_redis_server
    caplog.set_level(logging.DEBUG)
    # a module-level client, as a script or a test suite would have it
    redis = asyncpool.Redis(
        host=server.host,
        port=server.port,
        max_connections=4,
        client_name="loops",
        multiplex=multiplex,
    )
    key = f"loops:counter:{multiplex}"

    async def use() -> Any:
        counts = await asyncio.gather(*(redis.incr(key) for _ in range(20)))
        return max(counts), redis.pool.stats()

    first, stats = asyncio.run(use())
    assert first == 20
    assert stats.total <= 4
    second, stats = asyncio.run(use())  # a new loop: the first one's connections are dead
    assert second == 40
    assert stats.in_use == 0
    assert stats.total <= 4
    _wait_for_clients(server, "loops", at_most=4)  # the old loop's sockets were closed

    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(asyncio.run(use())))
    thread.start()
    thread.join(30)
    assert len(results) == 1
    assert results[0][0] == 60  # a thread's loop, once the others are gone
    _wait_for_clients(server, "loops", at_most=4)

    asyncio.run(redis.aclose())
    gc.collect()  # destroyed tasks and transports speak up now, if they would
    out, err = capfd.readouterr()
    for noise in _NOISE:
        assert noise not in out + err
        assert noise not in caplog.text
    assert server.command("GET", key) == b"60"


async def test_a_client_used_from_another_running_loop_says_so(
    redis_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with asyncpool.Redis(host=redis_server.host, port=redis_server.port) as redis:
        assert await redis.ping() is True

        def from_a_thread() -> object:
            return asyncio.run(redis.ping())

        with pytest.raises(asyncpool.EventLoopError, match="one client per event loop") as info:
            await asyncio.to_thread(from_a_thread)
        assert isinstance(info.value, RuntimeError)
        # the pool is not wedged and was never touched from the other thread
        assert await redis.ping() is True
        stats = redis.pool.stats()
        assert (stats.in_use, stats.total) == (0, 1)
    for noise in _NOISE:
        assert noise not in caplog.text
