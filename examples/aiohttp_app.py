"""asyncpool in an aiohttp app: one client per process, opened and closed by ``cleanup_ctx``.

    python examples/aiohttp_app.py --redis-url redis://127.0.0.1:6379/0 --port 8080
    curl http://127.0.0.1:8080/hits      # counts visits in Redis
    curl http://127.0.0.1:8080/pool      # the pool's statistics

The client lives in the application under a typed :class:`aiohttp.web.AppKey`,
so handlers get a ``Redis`` back, not ``Any``.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import AsyncIterator

from aiohttp import web

import asyncpool

REDIS = web.AppKey("redis", asyncpool.Redis)
REDIS_URL = web.AppKey("redis_url", str)
HITS_KEY = "example:aiohttp:hits"


async def redis_client(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: open the pool before the first request, close it at shutdown."""
    async with asyncpool.Redis.from_url(app[REDIS_URL], decode_responses=True) as redis:
        app[REDIS] = redis
        yield


async def hits(request: web.Request) -> web.Response:
    """Count this visit; the INCR and its EXPIRE go in one round trip."""
    redis = request.app[REDIS]
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(HITS_KEY).expire(HITS_KEY, 3600)
        count, _ = await pipe.execute()
    return web.json_response({"hits": count})


async def pool(request: web.Request) -> web.Response:
    """The pool's statistics (in use, idle, waiting ...)."""
    return web.json_response(dataclasses.asdict(request.app[REDIS].pool.stats()))


async def healthz(request: web.Request) -> web.Response:
    """200 when Redis answers PING, 503 otherwise."""
    try:
        await request.app[REDIS].ping()
    except asyncpool.RedisError as exc:
        return web.json_response({"redis": "down", "error": type(exc).__name__}, status=503)
    return web.json_response({"redis": "up"})


def create_app(redis_url: str) -> web.Application:
    """The application, with the Redis client tied to its lifetime."""
    app = web.Application()
    app[REDIS_URL] = redis_url
    app.cleanup_ctx.append(redis_client)
    app.router.add_get("/hits", hits)
    app.router.add_get("/pool", pool)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    web.run_app(create_app(args.redis_url), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
