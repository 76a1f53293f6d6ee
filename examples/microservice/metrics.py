"""Counters of what the gateway did, exported as JSON (``/stats``) and Prometheus (``/metrics``).

Metrics go through the OpenTelemetry SDK: a :class:`MeterProvider` with a
:class:`PrometheusMetricReader` that writes into this app's own
``CollectorRegistry``, rendered by ``prometheus_client.generate_latest``.
Pool metrics come from ``asyncpool.otel.instrument`` when that module is
available, otherwise from observable gauges over ``pool.stats()``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

import asyncpool

__all__ = ["CONTENT_TYPE_LATEST", "Counters", "Metrics"]

log = logging.getLogger("gateway.metrics")


@dataclass
class Counters:
    """Running totals of this process (what ``/stats`` returns)."""

    requests: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    cache_bypassed: int = 0
    fallbacks: int = 0
    rate_limited: int = 0
    ratelimit_fail_open: int = 0
    upstream_failures: int = 0
    bad_gateway: int = 0
    registry_stale: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return asdict(self)


_EVENTS = frozenset(f.name for f in fields(Counters))


class Metrics:
    """Owns the OpenTelemetry meter provider of one gateway app."""

    def __init__(self, redis: asyncpool.Redis) -> None:
        self.counters = Counters()
        self.registry = CollectorRegistry(auto_describe=True)
        self._reader = PrometheusMetricReader(registry=self.registry)
        self.provider = MeterProvider(
            metric_readers=[self._reader],
            resource=Resource.create({"service.name": "asyncpool-gateway"}),
        )
        meter = self.provider.get_meter("gateway")
        self._events = meter.create_counter(
            "gateway.events", unit="1", description="Requests and what the gateway did for them"
        )
        self._uninstrument: Callable[[], None] | None = None
        self.pool_metrics = self._instrument_pool(redis)

    def _instrument_pool(self, redis: asyncpool.Redis) -> str:
        try:
            from asyncpool.otel import instrument
        except ImportError:  # an asyncpool without the otel module: report the basics
            pass
        else:
            self._uninstrument = instrument(redis, meter_provider=self.provider).uninstrument
            return "asyncpool.otel"
        pool = redis.pool
        meter = self.provider.get_meter("gateway.pool")

        def gauge(field: str) -> None:
            def observe(_: CallbackOptions) -> Iterable[Observation]:
                value = getattr(pool.stats(), field)
                return [Observation(int(value), {"pool.name": pool.name})]

            meter.create_observable_gauge(f"gateway.pool.{field}", callbacks=[observe], unit="1")

        for field in ("total", "idle", "in_use", "waiting", "max_connections"):
            gauge(field)
        return "gateway fallback gauges"

    def incr(self, event: str, amount: int = 1) -> None:
        """Count ``event`` (a :class:`Counters` field) in ``/stats`` and ``/metrics``."""
        if event not in _EVENTS:
            raise ValueError(f"unknown event {event!r}")
        setattr(self.counters, event, getattr(self.counters, event) + amount)
        self._events.add(amount, {"event": event})

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        """Detach from the pool and stop the meter provider (unregisters the collector)."""
        if self._uninstrument is not None:
            self._uninstrument()
        self.provider.shutdown()
