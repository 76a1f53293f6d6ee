"""Client-side caching benchmark: hot-key reads with and without the cache, and redis-py.

``python -m benchmarks.cache [--quick] [--url redis://...] [--tasks 50]``

Workloads (each client in turn, on the same server, in one run):

* ``hot-read``: ``--tasks`` tasks each ``GET`` a key drawn from 100 hot keys
  (Zipf-like), as fast as they can;
* ``read-mostly``: the same with 5 % ``SET`` of those keys through the same
  client (each write drops its key locally and invalidates on the server).

Clients: ``asyncpool`` (no cache), ``asyncpool+cache``
(``cache=CacheConfig()``), ``redis-py`` (``redis.asyncio``, which has no
client-side cache: redis-py's cache is for its synchronous client only).
Reported: operations per second, the ratio to redis-py and the cache's hit
rate.  Ratios, never absolute numbers, are what compare across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

HOT_KEYS = [f"bench:cache:{i}".encode() for i in range(100)]
VALUE = b"v" * 100
WORKLOADS = ("hot-read", "read-mostly")
CLIENTS = ("asyncpool", "asyncpool+cache", "redis-py")


def _sample(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(HOT_KEYS))]
    return rng.choices(HOT_KEYS, weights, k=n)


@contextlib.asynccontextmanager
async def _client(name: str, url: str, max_connections: int) -> AsyncIterator[Any]:
    if name == "redis-py":
        import redis.asyncio as redis_py

        pool = redis_py.BlockingConnectionPool.from_url(url, max_connections=max_connections)
        client = redis_py.Redis(connection_pool=pool)
        try:
            yield client
        finally:
            await client.aclose()
            await pool.aclose()
        return
    import asyncpool

    cache = asyncpool.CacheConfig() if name == "asyncpool+cache" else None
    async with asyncpool.Redis.from_url(url, max_connections=max_connections, cache=cache) as c:
        yield c


async def _drive(
    calls: Callable[[int], Callable[[int], Awaitable[Any]]], tasks: int, duration: float
) -> int:
    stop = False
    counts = [0] * tasks

    async def worker(index: int) -> None:
        step = calls(index)
        i = 0
        while not stop:
            await step(i)
            i += 1
            if i % 64 == 0:
                await asyncio.sleep(0)  # a cache hit never yields: let the clock task run
        counts[index] = i

    workers = [asyncio.create_task(worker(i)) for i in range(tasks)]
    await asyncio.sleep(duration)
    stop = True
    await asyncio.gather(*workers)
    return sum(counts)


async def run_one(
    name: str, workload: str, url: str, tasks: int, duration: float, warmup: float
) -> dict[str, Any]:
    """ops/s (and hit rate) of one client on one workload."""
    async with _client(name, url, tasks) as client:
        for key in HOT_KEYS:
            await client.set(key, VALUE)
        samples = [_sample(4096, seed) for seed in range(tasks)]

        def calls(index: int) -> Callable[[int], Awaitable[Any]]:
            keys = samples[index]
            get, set_ = client.get, client.set
            if workload == "hot-read":
                return lambda i: get(keys[i & 4095])

            def step(i: int) -> Awaitable[Any]:
                key = keys[i & 4095]
                return set_(key, VALUE) if i % 20 == 0 else get(key)

            return step

        await _drive(calls, tasks, warmup)
        cache = getattr(client, "cache", None)
        before = cache.stats() if cache is not None else None
        started = time.perf_counter()
        ops = await _drive(calls, tasks, duration)
        elapsed = time.perf_counter() - started
        result: dict[str, Any] = {"client": name, "workload": workload, "ops_s": ops / elapsed}
        if cache is not None and before is not None:
            after = cache.stats()
            served = (after.hits + after.joins) - (before.hits + before.joins)
            reads = served + (after.misses + after.bypasses) - (before.misses + before.bypasses)
            result["hit_rate"] = served / reads if reads else 0.0
            result["stats"] = after
        return result


def _available(name: str) -> bool:
    if name != "redis-py":
        return True
    try:
        import redis.asyncio  # noqa: F401
    except ImportError:
        return False
    return True


async def run_all(url: str, tasks: int, duration: float, warmup: float) -> list[dict[str, Any]]:
    """Every workload for every available client, one after another."""
    results = []
    for workload in WORKLOADS:
        for name in CLIENTS:
            if _available(name):
                results.append(await run_one(name, workload, url, tasks, duration, warmup))
    return results


def report(results: list[dict[str, Any]]) -> str:
    """A markdown table: ops/s, ratio to redis-py and to uncached asyncpool, hit rate."""
    lines = [
        "| workload | client | ops/s | vs redis-py | vs asyncpool | hit rate |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for workload in WORKLOADS:
        rows = [r for r in results if r["workload"] == workload]
        base = {r["client"]: r["ops_s"] for r in rows}
        for r in rows:
            vs_py = f"{r['ops_s'] / base['redis-py']:.2f}x" if "redis-py" in base else "-"
            vs_ap = f"{r['ops_s'] / base['asyncpool']:.2f}x" if "asyncpool" in base else "-"
            hit = f"{r['hit_rate']:.1%}" if "hit_rate" in r else "-"
            lines.append(
                f"| {workload} | {r['client']} | {r['ops_s']:,.0f} | {vs_py} | {vs_ap} | {hit} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cache", description=__doc__)
    parser.add_argument("--url", help="an existing server (default: start one)")
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true", help="1 s per run")
    args = parser.parse_args(argv)
    duration = 1.0 if args.quick else args.duration
    warmup = min(0.5, duration / 3)
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            from asyncpool.testing import RedisServer

            url = stack.enter_context(RedisServer()).url
        results = asyncio.run(run_all(url, args.tasks, duration, warmup))
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
