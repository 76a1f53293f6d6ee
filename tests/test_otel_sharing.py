"""asyncpool.otel in shared mode: the ``asyncpool.sharing.*`` metrics follow ``Sharing.stats()``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint, Sum

import asyncpool
from asyncpool.otel import instrument
from asyncpool.otel._sharing import SHARING_METRICS
from asyncpool.transport import CONGESTED_REPLY_BYTES

from ._sharing import make_pool, sharing

POOL = "db.client.connection.pool.name"


def _collect(reader: InMemoryMetricReader) -> dict[str, tuple[Sum, list[NumberDataPoint]]]:
    data = reader.get_metrics_data()
    found: dict[str, tuple[Sum, list[NumberDataPoint]]] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name.startswith("asyncpool.sharing."):
                    assert isinstance(metric.data, Sum)
                    points = [p for p in metric.data.data_points if isinstance(p, NumberDataPoint)]
                    found[metric.name] = (metric.data, points)
    return found


async def test_sharing_metrics_are_the_policys_counters(redis_server: Any, unique_key: str) -> None:
    reader = InMemoryMetricReader()
    pool = make_pool(redis_server, multiplex=True, max_connections=4)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        handle = instrument(redis, MeterProvider(metric_readers=[reader]))
        await redis.set(f"{unique_key}large", b"L" * (16 * CONGESTED_REPLY_BYTES))
        large = asyncio.ensure_future(redis.get(f"{unique_key}large"))
        small = [asyncio.ensure_future(redis.get(f"{unique_key}small")) for _ in range(30)]
        await asyncio.gather(large, *small)
        stats = sharing(redis).stats()
        assert stats.rerouted_total == 30  # the reads behind the large reply
        metrics = _collect(reader)
        assert set(metrics) == set(SHARING_METRICS)
        expected = {
            "asyncpool.sharing.rides": stats.rides_total,
            "asyncpool.sharing.busy_rides": stats.busy_rides_total,
            "asyncpool.sharing.queued": stats.queued_total,
            "asyncpool.sharing.rerouted": 30,
            "asyncpool.sharing.replies_owed": sum(stats.replies_owed),
        }
        for name, value in expected.items():
            data, points = metrics[name]
            assert data.is_monotonic is SHARING_METRICS[name][2], name
            (point,) = points
            assert point.value == value, name
            assert dict(point.attributes or {})[POOL] == handle.pool_name, name
        assert stats.rides_total >= 31
        assert stats.busy_rides_total > 0
        handle.uninstrument()


async def test_no_sharing_metrics_when_sharing_is_off(redis_server: Any) -> None:
    reader = InMemoryMetricReader()
    pool = make_pool(redis_server, multiplex=False)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        handle = instrument(redis, MeterProvider(metric_readers=[reader]))
        assert await redis.ping()
        assert _collect(reader) == {}
        handle.uninstrument()
