"""End to end: the example gateway under uvicorn, real Redis, real fake upstreams.

Every server runs on 127.0.0.1 on a free port inside the test's event loop
(Redis is a separate process from the harness) and is stopped by the test.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

import asyncpool
from asyncpool.testing import RedisServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from microservice import (
    BackgroundServer,
    Gateway,
    Settings,
    create_app,
    create_upstream,
    open_redis,
    publish_registry,
)

pytestmark = pytest.mark.timeout(60)

SERVICE = "quotes"


@dataclass
class Stack:
    """A running gateway with its upstreams and Redis."""

    redis_server: RedisServer
    settings: Settings
    gateway_server: BackgroundServer
    primary: BackgroundServer
    secondary: BackgroundServer
    client: httpx.AsyncClient
    admin: asyncpool.Redis

    @property
    def gateway(self) -> Gateway:
        """The gateway's in-process state (its pool, registry copy, prober)."""
        gateway: Gateway = self.gateway_server.app.state.gateway
        return gateway

    def served_by_primary(self) -> int:
        """How many quotes the primary upstream served."""
        served: int = self.primary.app.state.upstream["served"]
        return served

    async def get(self, path: str, api_key: str = "tester") -> httpx.Response:
        return await self.client.get(f"/svc/{SERVICE}/{path}", headers={"X-API-Key": api_key})

    async def counters(self) -> dict[str, int]:
        stats = (await self.client.get("/stats")).json()
        counters: dict[str, int] = stats["counters"]
        return counters


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Poll state outside the test's control (a reconnecting pool) until ``check`` holds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running_stack(server: RedisServer, **overrides: Any) -> AsyncIterator[Stack]:
    """Start two upstreams and the gateway; publish the registry; stop all afterwards."""
    base = Settings(redis_url=server.url, probe_interval=0.2, registry_refresh=0.1)
    settings = replace(base, **overrides)
    async with AsyncExitStack() as stack:
        primary = await stack.enter_async_context(
            BackgroundServer(create_upstream("primary"), name="primary")
        )
        secondary = await stack.enter_async_context(
            BackgroundServer(create_upstream("secondary"), name="secondary")
        )
        admin = await stack.enter_async_context(open_redis(settings))
        await publish_registry(
            admin, settings, SERVICE, {"primary": primary.url, "secondary": secondary.url}
        )
        app = create_app(settings)
        gateway_server = await stack.enter_async_context(BackgroundServer(app, name="gateway"))
        client = await stack.enter_async_context(
            httpx.AsyncClient(base_url=gateway_server.url, timeout=10)
        )
        yield Stack(server, settings, gateway_server, primary, secondary, client, admin)


async def test_responses_are_cached_in_redis_with_a_ttl(private_redis_server: RedisServer) -> None:
    async with running_stack(private_redis_server, cache_ttl=30) as s:
        first = await s.get("quotes/7")
        second = await s.get("quotes/7")
        assert first.status_code == second.status_code == 200
        assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
        assert first.json() == second.json()
        assert s.served_by_primary() == 1  # the hit never reached the upstream
        ttl = await s.admin.pttl(s.settings.cache_key(SERVICE, "quotes/7"))
        assert 0 < ttl <= 30_000
        counters = await s.counters()
        assert (counters["cache_hits"], counters["cache_misses"]) == (1, 1)


async def test_rate_limit_answers_429_with_retry_after(private_redis_server: RedisServer) -> None:
    async with running_stack(private_redis_server, rate_limit=3, rate_window=30) as s:
        codes = [(await s.get("quotes/1", api_key="greedy")).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        refused = await s.get("quotes/1", api_key="greedy")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 30
        assert refused.headers["x-ratelimit-remaining"] == "0"
        # Budgets are per API key.
        assert (await s.get("quotes/1", api_key="polite")).status_code == 200
        assert (await s.counters())["rate_limited"] == 1


async def test_falls_back_when_primary_is_marked_down(private_redis_server: RedisServer) -> None:
    # The prober runs once at startup only, so the mark set below stays.
    async with running_stack(private_redis_server, probe_interval=3600, registry_refresh=0) as s:
        assert (await s.get("quotes/1")).headers["x-upstream"] == "primary"
        await s.admin.hset(s.settings.health_key(SERVICE), "primary", "down")
        reply = await s.get("quotes/2")
        assert reply.status_code == 200
        assert reply.headers["x-upstream"] == "secondary"
        assert reply.json()["served_by"] == "secondary"
        assert (await s.counters())["fallbacks"] == 1


async def test_falls_back_when_primary_fails_and_returns_after(
    private_redis_server: RedisServer,
) -> None:
    # No background probing after startup: the test runs each probe round itself.
    async with running_stack(private_redis_server, probe_interval=3600) as s:
        # the startup round must not see the failure below (it would mark primary down first)
        await asyncio.wait_for(s.gateway.prober.first_round.wait(), 30)
        await s.client.post(f"{s.primary.url}/admin/fail")
        reply = await s.get("quotes/3")
        assert reply.status_code == 200
        assert reply.headers["x-upstream"] == "secondary"
        # The gateway told every other process through Redis.
        health = await s.admin.hget(s.settings.health_key(SERVICE), "primary")
        assert health == "down"
        counters = await s.counters()
        assert (counters["fallbacks"], counters["upstream_failures"]) == (1, 1)
        health_here = s.gateway.registry.snapshot()[SERVICE]["health"]
        assert health_here == {"primary": False, "secondary": True}
        # Marked down: the next request goes straight to the secondary.
        assert (await s.get("quotes/4")).headers["x-upstream"] == "secondary"
        assert (await s.counters())["upstream_failures"] == 1

        await s.client.post(f"{s.primary.url}/admin/recover")
        await s.gateway.prober.probe_all()
        assert await s.admin.hget(s.settings.health_key(SERVICE), "primary") == "up"
        assert (await s.get("quotes/5")).headers["x-upstream"] == "primary"

        await s.primary.kill()  # a crash: connections refused from now on
        reply = await s.get("quotes/6")
        assert (reply.status_code, reply.headers["x-upstream"]) == (200, "secondary")


async def test_all_upstreams_down_is_a_502(private_redis_server: RedisServer) -> None:
    async with running_stack(private_redis_server) as s:
        await s.primary.kill()
        await s.secondary.kill()
        reply = await s.get("quotes/1")
        assert reply.status_code == 502
        assert (await s.counters())["bad_gateway"] == 1


async def test_registry_updates_take_effect_without_restart(
    private_redis_server: RedisServer,
) -> None:
    async with running_stack(private_redis_server, registry_refresh=0) as s:
        assert (await s.get("quotes/1")).json()["served_by"] == "primary"
        async with BackgroundServer(create_upstream("replacement"), name="replacement") as new:
            await publish_registry(s.admin, s.settings, SERVICE, {"primary": new.url})
            reply = await s.get("quotes/2")
            assert reply.json()["served_by"] == "replacement"
            assert reply.headers["x-upstream"] == "primary"
            stats = (await s.client.get("/stats")).json()
            assert stats["registry"][SERVICE]["urls"]["primary"] == new.url


async def test_redis_outage_degrades_then_recovers_without_restart(
    private_redis_server: RedisServer,
) -> None:
    async with running_stack(private_redis_server, rate_limit=4, rate_window=60) as s:
        assert (await s.get("quotes/1")).headers["x-cache"] == "MISS"
        assert (await s.client.get("/healthz")).json()["redis"] == "up"

        private_redis_server.kill()  # kill -9

        # Documented degradation: every request is still answered, from the upstream.
        outage = [await s.get("quotes/1") for _ in range(8)]  # twice the rate limit
        assert [r.status_code for r in outage] == [200] * 8
        assert {r.headers["x-cache"] for r in outage} == {"BYPASS"}
        assert {r.headers["x-ratelimit"] for r in outage} == {"fail-open"}
        health = (await s.client.get("/healthz")).json()
        assert (health["status"], health["redis"]) == ("degraded", "down")
        assert health["registry"] == "last good copy"
        counters = await s.counters()
        assert counters["cache_bypassed"] >= 8
        assert counters["ratelimit_fail_open"] >= 8
        pool = (await s.client.get("/pool")).json()
        assert pool["in_use"] == 0  # nothing stuck while Redis was gone

        private_redis_server.restart()  # same port, empty dataset, empty script cache

        async def redis_back() -> bool:
            return bool((await s.client.get("/healthz")).json()["redis"] == "up")

        await eventually(redis_back, what="the gateway to reach Redis again")
        # The registry was wiped by the restart: the last good copy still routes.
        assert (await s.get("quotes/2")).json()["served_by"] == "primary"
        # Caching works again (the second request is served from Redis) ...
        assert (await s.get("quotes/9", api_key="after")).headers["x-cache"] == "MISS"
        assert (await s.get("quotes/9", api_key="after")).headers["x-cache"] == "HIT"
        # ... and so does the rate limiter (the Lua script is loaded again).
        codes = [(await s.get("quotes/9", api_key="after")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert (await s.client.get("/healthz")).json()["status"] == "ok"


async def test_metrics_endpoint_speaks_prometheus(private_redis_server: RedisServer) -> None:
    async with running_stack(private_redis_server) as s:
        await s.get("quotes/1")
        reply = await s.client.get("/metrics")
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/plain")
        assert 'gateway_events_total{event="requests"' in reply.text
        pool = (await s.client.get("/pool")).json()
        assert pool["max_connections"] == s.settings.max_connections
        assert pool["total"] >= 1
