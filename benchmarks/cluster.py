"""Cluster benchmark: asyncpool's RedisCluster against redis-py's and coredis's, in one run.

    python -m benchmarks.cluster [--duration 3] [--warmup 1] [--tasks 50]

Starts a local 3-primary / 3-replica cluster (``asyncpool.testing``), then
times each workload for each client, back to back on the same cluster, and
prints commands/s and asyncpool's ratio to each.  Only ratios from one run
mean anything: the machine's other load moves absolute numbers.

Workloads: GET of 100 B values spread over every slot (50 tasks); SET+GET
pairs; a 100-command pipeline across all nodes; MGET of 10 keys in
different slots (redis-py: ``mget_nonatomic``; coredis splits MGET itself).
Per-node pool size is the task count, so no client waits on its pool.
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


class CoredisCluster(_Client):
    name = "coredis"

    async def open(self, url: str, pool: int) -> None:
        import coredis

        from asyncpool.url import parse_url

        copts, _, _ = parse_url(url)
        self.c = coredis.RedisCluster(
            copts.host, copts.port, max_connections=pool, max_connections_per_node=True
        )
        await self.c.__aenter__()

    async def close(self) -> None:
        await self.c.__aexit__(None, None, None)

    async def pipeline(self, keys: list[bytes]) -> Any:
        async with self.c.pipeline(transaction=False) as pipe:
            pending = [pipe.get(key) for key in keys]
        return [await p for p in pending]

    async def mget(self, keys: list[bytes]) -> Any:
        return await self.c.mget(keys)  # coredis splits cross-slot MGET itself


CLIENTS: tuple[type[_Client], ...] = (AsyncpoolCluster, RedisPyCluster, CoredisCluster)


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
    url: str, *, tasks: int = 50, warmup: float = 1.0, duration: float = 3.0, rounds: int = 1
) -> dict[str, dict[str, float]]:
    """``{workload: {client: commands/s}}`` for every client on the cluster at ``url``.

    Every client is open at once and the workloads run workload by workload,
    the clients back to back (their order reversed each round), so a change
    in the machine's load hits every client alike; the best round counts.
    """
    clients: list[_Client] = []
    try:
        for cls in CLIENTS:
            if cls is CoredisCluster and not _installed("coredis"):
                continue
            client = cls()
            await client.open(url, tasks)
            clients.append(client)
        for key in KEYS:
            await clients[0].set(key, VALUE)
        results: dict[str, dict[str, float]] = {}
        for name in _workloads(clients[0]):
            row = results.setdefault(name, {})
            for n in range(rounds):
                for client in clients if n % 2 == 0 else clients[::-1]:
                    rate = await _drive(_workloads(client)[name], tasks, warmup, duration)
                    row[client.name] = max(rate, row.get(client.name, 0.0))
        return results
    finally:
        for client in clients:
            await client.close()


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def report(results: dict[str, dict[str, float]]) -> str:
    """A text table: each client's commands/s, and asyncpool's ratio to each other client."""
    others = [c.name for c in CLIENTS if c.name != "asyncpool"]
    others = [o for o in others if any(o in row for row in results.values())]
    head = f"{'workload':<16}{'asyncpool':>12}" + "".join(f"{o:>12}" for o in others)
    head += "".join(f"{'vs ' + o:>14}" for o in others)
    lines = [head]
    for name, row in results.items():
        ours = row.get("asyncpool", 0.0)
        line = f"{name:<16}{ours:>12,.0f}" + "".join(f"{row.get(o, 0.0):>12,.0f}" for o in others)
        for o in others:
            theirs = row.get(o, 0.0)
            line += f"{(ours / theirs if theirs else float('nan')):>13.2f}x"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="best of N, order alternated")
    parser.add_argument("--url", help="an existing cluster instead of a local one")
    args = parser.parse_args(argv)
    if args.url:
        results = asyncio.run(
            run(
                args.url,
                tasks=args.tasks,
                warmup=args.warmup,
                duration=args.duration,
                rounds=args.rounds,
            )
        )
    else:
        from asyncpool.testing import LocalCluster

        with LocalCluster() as cluster:
            results = asyncio.run(
                run(
                    cluster.url,
                    tasks=args.tasks,
                    warmup=args.warmup,
                    duration=args.duration,
                    rounds=args.rounds,
                )
            )
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
