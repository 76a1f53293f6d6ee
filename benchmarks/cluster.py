"""Cluster benchmark: asyncpool's RedisCluster against redis-py's, in one run.

    python -m benchmarks.cluster [--duration 3] [--warmup 1] [--tasks 50]

Starts a local 3-primary / 3-replica cluster (``asyncpool.testing``), then
times each workload for each client, back to back on the same cluster, and
prints ops/s and the ratio asyncpool / redis-py.  Only ratios from one run
mean anything: the machine's other load moves absolute numbers.

Workloads: GET of 100 B values spread over every slot (50 tasks); SET+GET
pairs; a 100-command pipeline across all nodes; MGET of 10 keys in
different slots (redis-py: ``mget_nonatomic``).  Per-node pool size is the
task count, so neither client waits on its pool.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

KEYS = [f"bench:{i}".encode() for i in range(1000)]
VALUE = b"v" * 100


class _Client:
    name = ""

    async def open(self, url: str, pool: int) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def get(self, key: bytes) -> Any:
        return await self.c.get(key)

    async def set(self, key: bytes, value: bytes) -> Any:
        return await self.c.set(key, value)

    async def pipeline(self, keys: list[bytes]) -> Any:
        raise NotImplementedError

    async def mget(self, keys: list[bytes]) -> Any:
        raise NotImplementedError

    c: Any


class AsyncpoolCluster(_Client):
    name = "asyncpool"

    async def open(self, url: str, pool: int) -> None:
        import asyncpool

        self.c = await asyncpool.RedisCluster.from_url(url, max_connections=pool).initialize()

    async def close(self) -> None:
        await self.c.aclose()

    async def pipeline(self, keys: list[bytes]) -> Any:
        async with self.c.pipeline() as pipe:
            for key in keys:
                pipe.get(key)
            return await pipe.execute()

    async def mget(self, keys: list[bytes]) -> Any:
        return await self.c.mget(keys)


class RedisPyCluster(_Client):
    name = "redis-py"

    async def open(self, url: str, pool: int) -> None:
        from redis.asyncio.cluster import RedisCluster

        self.c = RedisCluster.from_url(url, max_connections=pool)
        await self.c.initialize()

    async def close(self) -> None:
        await self.c.aclose()

    async def pipeline(self, keys: list[bytes]) -> Any:
        async with self.c.pipeline() as pipe:
            for key in keys:
                pipe.get(key)
            return await pipe.execute()

    async def mget(self, keys: list[bytes]) -> Any:
        return await self.c.mget_nonatomic(keys)


CLIENTS: tuple[type[_Client], ...] = (AsyncpoolCluster, RedisPyCluster)


def _workloads(client: _Client) -> dict[str, Callable[[int, int], Awaitable[int]]]:
    """Each workload: ``op(task, n)`` runs one unit and returns how many commands it was."""

    async def get(task: int, n: int) -> int:
        await client.get(KEYS[(task * 7919 + n) % len(KEYS)])
        return 1

    async def set_get(task: int, n: int) -> int:
        key = KEYS[(task * 7919 + n) % len(KEYS)]
        await client.set(key, VALUE)
        await client.get(key)
        return 2

    async def pipeline(task: int, n: int) -> int:
        start = (task * 100 + n) % (len(KEYS) - 100)
        await client.pipeline(KEYS[start : start + 100])
        return 100

    async def mget(task: int, n: int) -> int:
        start = (task * 10 + n) % (len(KEYS) - 10)
        await client.mget(KEYS[start : start + 10])
        return 10

    return {"GET": get, "SET+GET": set_get, "pipeline 100": pipeline, "MGET 10 slots": mget}


async def _drive(
    op: Callable[[int, int], Awaitable[int]], tasks: int, warmup: float, duration: float
) -> float:
    """Commands per second over ``duration`` after ``warmup``, ``tasks`` tasks flat out."""
    counted = 0
    start = time.perf_counter() + warmup
    stop = start + duration

    async def worker(task: int) -> None:
        nonlocal counted
        n = 0
        while True:
            now = time.perf_counter()
            if now >= stop:
                return
            done = await op(task, n)
            n += 1
            if now >= start:
                counted += done

    await asyncio.gather(*(worker(t) for t in range(tasks)))
    return counted / duration


async def run(
    url: str, *, tasks: int = 50, warmup: float = 1.0, duration: float = 3.0
) -> dict[str, dict[str, float]]:
    """``{workload: {client: commands/s}}`` for every client on the cluster at ``url``."""
    results: dict[str, dict[str, float]] = {}
    for cls in CLIENTS:
        client = cls()
        await client.open(url, tasks)
        try:
            for key in KEYS:
                await client.set(key, VALUE)
            for name, op in _workloads(client).items():
                results.setdefault(name, {})[client.name] = await _drive(
                    op, tasks, warmup, duration
                )
        finally:
            await client.close()
    return results


def report(results: dict[str, dict[str, float]]) -> str:
    """A text table with each client's commands/s and the asyncpool / redis-py ratio."""
    lines = [f"{'workload':<16}{'asyncpool':>12}{'redis-py':>12}{'ratio':>8}"]
    for name, row in results.items():
        ours, theirs = row.get("asyncpool", 0.0), row.get("redis-py", 0.0)
        ratio = ours / theirs if theirs else float("nan")
        lines.append(f"{name:<16}{ours:>12,.0f}{theirs:>12,.0f}{ratio:>7.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--url", help="an existing cluster instead of a local one")
    args = parser.parse_args(argv)
    if args.url:
        results = asyncio.run(
            run(args.url, tasks=args.tasks, warmup=args.warmup, duration=args.duration)
        )
    else:
        from asyncpool.testing import LocalCluster

        with LocalCluster() as cluster:
            results = asyncio.run(
                run(cluster.url, tasks=args.tasks, warmup=args.warmup, duration=args.duration)
            )
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
