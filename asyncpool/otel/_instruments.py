"""The instruments of one meter, shared by every pool instrumented with it.

An OpenTelemetry meter hands back the *existing* instrument when a name is
registered twice, dropping the second set of callbacks.  So each meter
provider gets one :class:`Instruments` whose observable callbacks walk every
registered pool; a pool leaves by :meth:`Instruments.remove`.

Observable callbacks may run on another thread (a Prometheus scrape does), so
the pool set is guarded by a lock and :meth:`PoolEntry.stats` retries the rare
snapshot that races with the event loop.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation

from .. import __version__
from ..pool import Pool, PoolStats
from . import _semconv as sc
from ._bulk import BulkHistogram, bulk_supported
from ._sharing import SHARING_METRICS, sharing_stats, snapshot

__all__ = ["Instruments", "PoolEntry", "instruments_for"]

_SCOPE = "asyncpool"


class PoolEntry:
    """One instrumented pool as the observable callbacks see it."""

    __slots__ = ("__weakref__", "attrs", "idle_attrs", "pool_ref", "used_attrs")

    def __init__(self, pool: Pool, pool_name: str) -> None:
        self.pool_ref = weakref.ref(pool)
        self.attrs: dict[str, Any] = {sc.POOL_NAME: pool_name}
        self.idle_attrs: dict[str, Any] = {**self.attrs, sc.STATE: sc.STATE_IDLE}
        self.used_attrs: dict[str, Any] = {**self.attrs, sc.STATE: sc.STATE_USED}

    def stats(self) -> PoolStats | None:
        """A snapshot of the pool, or ``None`` once it is closed or gone."""
        pool = self.pool_ref()
        if pool is None or pool.closed:
            return None
        return snapshot(pool.stats)  # the waiter deque may change under a scrape thread


class Instruments:
    """The synchronous instruments and the observable callbacks of one meter.

    The four time histograms are bulk histograms (see :mod:`asyncpool.otel._bulk`):
    values are pre-bucketed in-process and handed to the SDK at collection.
    """

    def __init__(self, meter: Meter, provider: MeterProvider | None = None) -> None:
        self.meter = meter
        self._lock = threading.Lock()
        self._entries: dict[int, PoolEntry] = {}
        buckets = list(sc.DURATION_BUCKETS)
        sdk = [_histogram(meter, spec, buckets) for spec in _HISTOGRAMS]
        bulk = provider is not None and all(bulk_supported(provider, h) for h in sdk)
        self.operation_duration, self.create_time, self.wait_time, self.use_time = (
            BulkHistogram(h, sc.DURATION_BUCKETS, bulk) for h in sdk
        )
        self.histograms = (self.operation_duration, self.create_time, self.wait_time, self.use_time)
        name, unit, description = sc.CONNECTION_TIMEOUTS
        self.timeouts = meter.create_counter(name, unit=unit, description=description)
        for spec, callback in (
            (sc.CONNECTION_COUNT, self._observe_count),
            (sc.CONNECTION_IDLE_MAX, self._observe_idle_max),
            (sc.CONNECTION_IDLE_MIN, self._observe_idle_min),
            (sc.CONNECTION_MAX, self._observe_max),
            (sc.CONNECTION_PENDING_REQUESTS, self._observe_pending),
        ):
            name, unit, description = spec
            meter.create_observable_up_down_counter(
                name, callbacks=[callback], unit=unit, description=description
            )
        for name, (unit, description, monotonic, _) in SHARING_METRICS.items():
            create = (
                meter.create_observable_counter
                if monotonic
                else meter.create_observable_up_down_counter
            )
            create(name, callbacks=[self._sharing(name)], unit=unit, description=description)

    def add(self, entry: PoolEntry) -> None:
        """Report ``entry``'s pool from the next collection on."""
        with self._lock:
            self._entries[id(entry)] = entry

    def remove(self, entry: PoolEntry) -> None:
        """Stop reporting ``entry``'s pool (idempotent)."""
        with self._lock:
            self._entries.pop(id(entry), None)

    def _live(self) -> Iterator[tuple[PoolEntry, PoolStats]]:
        with self._lock:
            entries = list(self._entries.values())
        for entry in entries:
            stats = entry.stats()
            if stats is not None:
                yield entry, stats

    def flush(self) -> None:
        """Hand the histograms' aggregated values to the SDK."""
        for histogram in self.histograms:
            histogram.flush()

    # The callbacks below run at collection time, never on the hot path.
    def _observe_count(self, options: CallbackOptions) -> Iterable[Observation]:
        # The SDK runs every observable callback before it reads the synchronous
        # instruments' aggregations: the place to hand over the histograms' values.
        self.flush()
        observations = []
        for entry, stats in self._live():
            observations.append(Observation(stats.idle, entry.idle_attrs))
            observations.append(Observation(stats.in_use, entry.used_attrs))
        return observations

    def _observe_idle_max(self, options: CallbackOptions) -> Iterable[Observation]:
        # No max_idle means idle connections are bounded by max_connections only.
        return [
            Observation(s.max_connections if s.max_idle is None else s.max_idle, e.attrs)
            for e, s in self._live()
        ]

    def _observe_idle_min(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.min_idle, e.attrs) for e, s in self._live()]

    def _observe_max(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.max_connections, e.attrs) for e, s in self._live()]

    def _observe_pending(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.waiting, e.attrs) for e, s in self._live()]

    def _sharing(self, name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        value = SHARING_METRICS[name][3]

        def observe(options: CallbackOptions) -> Iterable[Observation]:
            with self._lock:
                entries = list(self._entries.values())
            observations = []
            for entry in entries:
                pool = entry.pool_ref()  # only its sharing stats: no whole-pool snapshot
                stats = None if pool is None or pool.closed else sharing_stats(pool)
                if stats is not None:
                    observations.append(Observation(value(stats), entry.attrs))
            return observations

        return observe


_HISTOGRAMS = (
    sc.OPERATION_DURATION,
    sc.CONNECTION_CREATE_TIME,
    sc.CONNECTION_WAIT_TIME,
    sc.CONNECTION_USE_TIME,
)


def _histogram(meter: Meter, spec: tuple[str, str, str], buckets: list[float]) -> Any:
    name, unit, description = spec
    return meter.create_histogram(
        name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
    )


_by_provider: weakref.WeakKeyDictionary[MeterProvider, Instruments] = weakref.WeakKeyDictionary()
_by_provider_lock = threading.Lock()


def instruments_for(provider: MeterProvider) -> Instruments:
    """The shared :class:`Instruments` of ``provider``, created on first use."""
    with _by_provider_lock:
        found = _by_provider.get(provider)
        if found is None:
            found = Instruments(provider.get_meter(_SCOPE, __version__), provider)
            _by_provider[provider] = found
        return found
