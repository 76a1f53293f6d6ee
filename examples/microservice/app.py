"""The gateway's FastAPI app: lifespan, dependencies and routes.

One :class:`asyncpool.Redis` client (and so one connection pool) per
process, opened in the lifespan and handed to handlers through
``Annotated[..., Depends(...)]``; one ``httpx.AsyncClient`` for upstream
calls, also per process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

import httpx
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response

import asyncpool

from .cache import CachedResponse, ResponseCache
from .forward import Forwarder
from .metrics import CONTENT_TYPE_LATEST, Metrics
from .prober import HealthProber
from .ratelimit import Decision, RateLimiter
from .registry import Registry
from .settings import Settings

__all__ = ["Gateway", "GatewayDep", "RedisDep", "create_app", "open_redis"]


def open_redis(settings: Settings, name: str | None = None) -> asyncpool.Redis:
    """The process's Redis client, tuned to fail fast while Redis is down.

    ``name`` names its pool in logs and metrics (default: the server's address).
    """
    return asyncpool.Redis.from_url(
        settings.redis_url,
        name=name,
        decode_responses=True,
        max_connections=settings.max_connections,
        acquire_timeout=settings.acquire_timeout,
        connect_timeout=settings.connect_timeout,
        socket_timeout=settings.redis_timeout,
        dial_backoff_max=settings.redis_reconnect_max,
        retry=asyncpool.Retry(attempts=2, deadline=settings.redis_timeout * 2),
    )


@dataclass
class Gateway:
    """Everything one gateway process holds (built once, in the lifespan)."""

    settings: Settings
    redis: asyncpool.Redis
    http: httpx.AsyncClient
    registry: Registry
    cache: ResponseCache
    limiter: RateLimiter
    forwarder: Forwarder
    prober: HealthProber
    metrics: Metrics

    @classmethod
    def build(cls, settings: Settings, redis: asyncpool.Redis, http: httpx.AsyncClient) -> Gateway:
        """Wire the parts together around one Redis client and one HTTP client."""
        registry = Registry(redis, settings)
        return cls(
            settings=settings,
            redis=redis,
            http=http,
            registry=registry,
            cache=ResponseCache(redis, settings),
            limiter=RateLimiter(redis, settings),
            forwarder=Forwarder(http, redis, registry, settings),
            prober=HealthProber(redis, http, registry, settings),
            metrics=Metrics(redis),
        )


class State(TypedDict):
    """Lifespan state, copied into every request's ``request.state``."""

    gateway: Gateway


def get_gateway(request: Request) -> Gateway:
    """Dependency: this process's :class:`Gateway`."""
    gateway: Gateway = request.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def get_redis(gateway: GatewayDep) -> asyncpool.Redis:
    """Dependency: this process's Redis client (shared by every request)."""
    return gateway.redis


RedisDep = Annotated[asyncpool.Redis, Depends(get_redis)]


def _rate_headers(decision: Decision) -> dict[str, str]:
    if decision.failed_open:
        return {"X-RateLimit": "fail-open"}
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
    }


def create_app(settings: Settings | None = None) -> FastAPI:
    """The gateway app; ``settings`` default to :meth:`Settings.from_env`."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        limits = httpx.Limits(max_connections=settings.upstream_max_connections)
        async with (
            open_redis(settings) as redis,
            httpx.AsyncClient(limits=limits, timeout=settings.upstream_timeout) as http,
        ):
            gateway = Gateway.build(settings, redis, http)
            app.state.gateway = gateway  # for code outside requests (demo, tests)
            await gateway.registry.refresh()
            gateway.prober.start()
            try:
                yield {"gateway": gateway}
            finally:
                await gateway.prober.stop()
                gateway.metrics.shutdown()

    app = FastAPI(title="asyncpool gateway example", lifespan=lifespan)

    @app.get("/svc/{service}/{path:path}")
    async def proxy(
        service: str,
        path: str,
        request: Request,
        gateway: GatewayDep,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Route ``GET /svc/<service>/<path>`` to the service's upstreams."""
        metrics = gateway.metrics
        metrics.incr("requests")
        decision = await gateway.limiter.check(x_api_key or "anonymous")
        headers = _rate_headers(decision)
        if decision.failed_open:
            metrics.incr("ratelimit_fail_open")
        elif not decision.allowed:
            metrics.incr("rate_limited")
            headers["Retry-After"] = str(decision.retry_after)
            return JSONResponse({"error": "rate limited"}, status_code=429, headers=headers)
        if await gateway.registry.entry(service) is None:
            raise HTTPException(404, f"unknown service {service!r}")
        if not gateway.registry.fresh:
            metrics.incr("registry_stale")
        if request.url.query:
            path = f"{path}?{request.url.query}"

        cached, reachable = await gateway.cache.get(service, path)
        if cached is not None:
            metrics.incr("cache_hits")
            headers.update({"X-Cache": "HIT", "X-Upstream": cached.upstream})
            return Response(cached.body, media_type=cached.media_type, headers=headers)
        metrics.incr("cache_misses" if reachable else "cache_bypassed")

        reply = await gateway.forwarder.fetch(service, path)
        if reply is None:
            metrics.incr("bad_gateway")
            return JSONResponse(
                {"error": f"no upstream of {service!r} answered"}, status_code=502, headers=headers
            )
        if reply.failures:
            metrics.incr("upstream_failures", reply.failures)
        if reply.fallback:
            metrics.incr("fallbacks")
        if reply.status == 200 and reachable:
            entry = CachedResponse(reply.body.decode(), reply.media_type, reply.role)
            await gateway.cache.put(service, path, entry)
        headers.update({"X-Cache": "MISS" if reachable else "BYPASS", "X-Upstream": reply.role})
        return Response(
            reply.body, status_code=reply.status, media_type=reply.media_type, headers=headers
        )

    @app.get("/healthz")
    async def healthz(gateway: GatewayDep, redis: RedisDep) -> dict[str, Any]:
        """Liveness: always 200 while the process serves; says whether Redis answers."""
        try:
            await redis.ping()
            redis_state = "up"
        except (asyncpool.RedisError, TimeoutError):
            redis_state = "down"
        return {
            "status": "ok" if redis_state == "up" else "degraded",
            "redis": redis_state,
            "registry": "fresh" if gateway.registry.fresh else "last good copy",
        }

    @app.get("/pool")
    async def pool(redis: RedisDep) -> dict[str, Any]:
        """The Redis connection pool's statistics."""
        return dataclasses.asdict(redis.pool.stats())

    @app.get("/stats")
    async def stats(gateway: GatewayDep) -> dict[str, Any]:
        """What this process did, and its copy of the registry."""
        return {
            "counters": gateway.metrics.counters.as_dict(),
            "registry": gateway.registry.snapshot(),
            "registry_fresh": gateway.registry.fresh,
            "pool_metrics": gateway.metrics.pool_metrics,
        }

    @app.get("/metrics")
    async def metrics(gateway: GatewayDep) -> Response:
        """Prometheus exposition of the gateway's OpenTelemetry metrics."""
        return Response(gateway.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app
