"""The client-side cache's OpenTelemetry metrics (asyncpool.cache.*)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, Sum

import asyncpool
from asyncpool.otel import instrument
from asyncpool.otel._cache import CACHE_METRICS

POOL = "db.client.connection.pool.name"


def _collect(reader: InMemoryMetricReader) -> dict[str, Any]:
    data = reader.get_metrics_data()
    found: dict[str, Any] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found[metric.name] = metric
    return found


def _value(metric: Any, **attrs: str) -> int:
    want = {k.replace("__", "."): v for k, v in attrs.items()}
    (point,) = [
        p
        for p in metric.data.data_points
        if all(dict(p.attributes or {}).get(k) == v for k, v in want.items())
    ]
    return int(point.value)


async def test_cache_metrics_report_the_cache_stats(redis_url: str, unique_key: str) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    config = asyncpool.CacheConfig(max_entries=2)
    async with (
        asyncpool.Redis.from_url(redis_url, cache=config) as client,
        asyncpool.Redis.from_url(redis_url) as writer,
    ):
        handle = instrument(client, provider, pool_name="cached")
        await writer.set(unique_key + "a", "1")
        for key in ("a", "a", "a", "b", "c"):  # 2 hits, 3 misses, 1 eviction
            await client.get(unique_key + key)
        await writer.set(unique_key + "c", "2")
        await client.cache.sync()  # type: ignore[union-attr]
        metrics = _collect(reader)
        for name, (unit, _, monotonic) in CACHE_METRICS.items():
            assert metrics[name].unit == unit, name
            assert isinstance(metrics[name].data, Sum)
            assert metrics[name].data.is_monotonic is monotonic, name
        reads = metrics["asyncpool.cache.reads"]
        assert _value(reads, asyncpool__cache__result="hit") == 2
        assert _value(reads, asyncpool__cache__result="miss") == 3
        assert _value(reads, asyncpool__cache__result="bypass") == 0
        removals = metrics["asyncpool.cache.removals"]
        assert _value(removals, asyncpool__cache__reason="eviction") == 1
        assert _value(removals, asyncpool__cache__reason="invalidation") == 1
        assert (
            _value(metrics["asyncpool.cache.entries"], **{POOL.replace(".", "__"): "cached"}) == 1
        )
        assert _value(metrics["asyncpool.cache.size"]) == client.cache.stats().bytes  # type: ignore[union-attr]
        assert _value(metrics["asyncpool.cache.tracking"]) == 1
        handle.uninstrument()
        assert (
            "asyncpool.cache.reads" not in _collect(reader)
            or not _collect(reader)["asyncpool.cache.reads"].data.data_points
        )


async def test_a_client_without_cache_reports_no_cache_metrics(redis_url: str) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    async with asyncpool.Redis.from_url(redis_url) as client:
        instrument(client, provider)
        await client.get("x")
        assert not set(_collect(reader)) & set(CACHE_METRICS)


async def test_a_miss_is_observed_as_the_read_and_a_hit_not_at_all(
    redis_url: str, unique_key: str
) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    async with asyncpool.Redis.from_url(redis_url, cache=True) as client:
        instrument(client, provider)
        await client.get(unique_key)  # a miss: GET and PTTL in one operation
        await client.get(unique_key)  # a hit: no operation
        await client.get(unique_key)
        duration = _collect(reader)["db.client.operation.duration"]
        names = {
            dict(p.attributes or {}).get("db.operation.name"): p.count
            for p in duration.data.data_points
        }
        assert names == {"GET": 1}
