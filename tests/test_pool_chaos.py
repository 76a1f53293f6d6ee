"""Everything at once: connection cuts, latency and cancellations against one pool."""

from __future__ import annotations

import asyncio
import random
import time

import asyncpool
from asyncpool.testing import FaultProxy

from ._util import wait_until

EXPECTED_FAILURES = (asyncpool.ConnectionError, asyncpool.TimeoutError, asyncpool.PoolTimeout)


async def test_cuts_delays_and_cancellations_never_cross_replies_or_leak(
    fault_proxy: FaultProxy, unique_key: str
) -> None:
    pool = asyncpool.Pool(
        host=fault_proxy.host,
        port=fault_proxy.port,
        max_connections=8,
        acquire_timeout=5.0,
        dial_backoff_max=0.1,
        breaker_threshold=1000,  # this test wants every caller to keep dialing
    )
    wrong: list[str] = []
    served = 0  # calls that got their reply
    failed = 0  # calls that failed with an expected error
    peak = 0
    stop_at = time.monotonic() + 3.0

    async with pool, asyncpool.Redis(pool=pool) as redis:

        async def worker(n: int) -> None:
            nonlocal served, failed
            key = f"{unique_key}{n}"
            await redis.execute_command("SET", key, f"value-{n}")
            last_count = 0
            while time.monotonic() < stop_at:
                try:
                    if random.random() < 0.5:
                        value = await redis.execute_command("GET", key)
                        if value not in (f"value-{n}".encode(), None):
                            wrong.append(f"task {n} read {value!r}")
                    else:
                        count = await redis.execute_command("INCR", f"{key}:n")
                        if count <= last_count:  # a reply from someone else's INCR
                            wrong.append(f"task {n} counted {count} after {last_count}")
                        last_count = count
                    served += 1
                except EXPECTED_FAILURES:
                    failed += 1

        async def chaos() -> None:
            while time.monotonic() < stop_at:
                fault_proxy.delay(random.choice((0, 0, 0.002, 0.01)))
                if random.random() < 0.3:
                    fault_proxy.cut()
                await asyncio.sleep(0.05)
            fault_proxy.delay(0)

        async def canceller(tasks: list[asyncio.Task[None]]) -> None:
            while time.monotonic() < stop_at:
                await asyncio.sleep(random.uniform(0.01, 0.05))
                victim = random.choice(tasks)
                victim.cancel()
                tasks.remove(victim)
                n = random.randrange(10_000, 20_000)
                tasks.append(asyncio.ensure_future(worker(n)))

        async def monitor() -> None:
            nonlocal peak
            while time.monotonic() < stop_at + 1:
                peak = max(peak, pool.stats().total, fault_proxy.connections_open)
                await asyncio.sleep(0)

        tasks = [asyncio.ensure_future(worker(n)) for n in range(40)]
        watcher = asyncio.ensure_future(monitor())
        await asyncio.gather(chaos(), canceller(tasks))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        watcher.cancel()

        # every worker still running ended by itself (its SET may have failed under a cut)
        for result in results:
            assert result is None or isinstance(result, EXPECTED_FAILURES), repr(result)
        assert wrong == []
        # a pool that failed every call would pass the checks above: most calls are served
        assert served >= 200
        assert served > 5 * failed
        assert peak <= 8
        await wait_until(lambda: pool.stats().in_use == 0, what="every lease returned")
        await wait_until(lambda: not pool._recovering, what="drains and dials finished")
        # and the pool still works, with correct replies
        await redis.execute_command("SET", unique_key, "after")
        assert await redis.execute_command("GET", unique_key) == b"after"
        assert pool.stats().total <= 8
