"""The examples run: script.py and demo.py as users run them, aiohttp_app.py in-process.

Servers bind 127.0.0.1 only and stop with the test: the demo starts and ends
its own redis-server, upstreams and gateway.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

import asyncpool

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

import aiohttp_app  # noqa: E402
from microservice.metrics import Metrics  # noqa: E402

pytestmark = pytest.mark.timeout(90)


async def run_example(*args: str, timeout: float) -> tuple[int, str]:
    """Run ``python examples/<args>``; return (exit status, stdout + stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=EXAMPLES.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "120"},
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


async def test_script_example(redis_url: str) -> None:
    code, out = await run_example(str(EXAMPLES / "script.py"), redis_url, timeout=60)
    assert code == 0, out
    assert "200 concurrent INCRs -> 200" in out
    assert "received: {'type': 'message'" in out
    assert out.rstrip().endswith("OK")


async def test_aiohttp_example(redis_url: str) -> None:
    app = aiohttp_app.create_app(redis_url)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        redis = app[aiohttp_app.REDIS]  # opened by cleanup_ctx at startup
        await redis.delete(aiohttp_app.HITS_KEY)
        first = await (await client.get("/hits")).json()
        second = await (await client.get("/hits")).json()
        assert (first["hits"], second["hits"]) == (1, 2)
        assert 0 < await redis.ttl(aiohttp_app.HITS_KEY) <= 3600
        assert (await (await client.get("/healthz")).json()) == {"redis": "up"}
        stats = await (await client.get("/pool")).json()
        assert stats["in_use"] == 0
        assert stats["acquired_total"] >= 3
        await redis.delete(aiohttp_app.HITS_KEY)
    assert redis.pool.closed  # cleanup_ctx closed it at shutdown


async def test_demo_runs_and_recovers() -> None:
    code, out = await run_example(str(EXAMPLES / "demo.py"), "--duration", "4", timeout=80)
    assert code == 0, out
    assert "kill -9 redis-server" in out
    assert "primary upstream killed" in out
    assert "rps=" in out  # not a TTY: plain periodic lines instead of the live display
    for row in ("requests served", "cache hits", "fallbacks taken", "time to recover"):
        assert row in out
    assert "OK: served through the Redis outage" in out


async def test_gateway_metrics_without_asyncpool_otel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpool.otel", None)  # import raises ImportError
    redis = asyncpool.Redis(host="127.0.0.1", port=1)  # never connects
    metrics = Metrics(redis)
    try:
        assert metrics.pool_metrics == "gateway fallback gauges"
        metrics.incr("requests")
        text = metrics.render().decode()
        assert "gateway_pool_in_use" in text
        assert 'gateway_events_total{event="requests"' in text
    finally:
        metrics.shutdown()
        await redis.aclose()
