"""OpenTelemetry metrics (and optional spans) for an asyncpool pool.

Needs only ``opentelemetry-api`` (``pip install asyncpool-redis[otel]``); bring any
SDK or exporter.  ::

    from asyncpool.otel import instrument

    redis = asyncpool.Redis.from_url(url)
    handle = instrument(redis)                 # global meter provider
    ...
    handle.uninstrument()

Metric names, units and attributes follow the OpenTelemetry semantic
conventions for database clients; see docs/observability.md for the list and
for what to alert on.  Gauges are observable instruments read from
:meth:`~asyncpool.Pool.stats` at collection time, so they cost nothing per
command; timings arrive through the pool's :class:`~asyncpool.PoolObserver`.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from .. import __version__
from ..errors import ConfigError
from ..pool import Pool
from . import _cache  # client-side cache metrics (issue 15)
from ._instruments import Instruments, PoolEntry, instruments_for
from ._observer import OtelObserver, operation_attributes

__all__ = ["Instrumentation", "instrument"]

_active: weakref.WeakKeyDictionary[Pool, Instrumentation] = weakref.WeakKeyDictionary()
_active_lock = threading.Lock()


class Instrumentation:
    """What :func:`instrument` returns: the live link between one pool and OpenTelemetry."""

    def __init__(
        self,
        pool: Pool,
        pool_name: str,
        observer: OtelObserver,
        entry: PoolEntry,
        instruments: Instruments,
    ) -> None:
        self._pool_ref = weakref.ref(pool)
        self._observer = observer
        self._entry = entry
        self._instruments = instruments
        #: The ``db.client.connection.pool.name`` the pool's metrics carry.
        self.pool_name = pool_name

    def __repr__(self) -> str:
        state = "active" if self.active else "removed"
        return f"<Instrumentation pool={self.pool_name!r} {state}>"

    @property
    def pool(self) -> Pool | None:
        """The instrumented pool (``None`` once it was garbage-collected)."""
        return self._pool_ref()

    @property
    def active(self) -> bool:
        """True until :meth:`uninstrument` (or a replacing :func:`instrument`)."""
        pool = self._pool_ref()
        return pool is not None and _active.get(pool) is self

    def uninstrument(self) -> None:
        """Remove the observer and stop reporting the pool's gauges (idempotent).

        The OpenTelemetry API cannot delete instruments: they stay registered
        on the meter but report nothing more for this pool.
        """
        pool = self._pool_ref()
        with _active_lock:
            if pool is not None and _active.get(pool) is self:
                del _active[pool]
                if pool._observer is self._observer:
                    pool.set_observer(None)
        self._instruments.remove(self._entry)
        _cache.forget(self)  # client-side cache metrics (issue 15)


def instrument(
    client_or_pool: Any,
    meter_provider: MeterProvider | None = None,
    tracer_provider: TracerProvider | None = None,
    *,
    pool_name: str | None = None,
    trace_commands: bool = False,
    command_metrics: bool = True,
    replace: bool = False,
) -> Instrumentation:
    """Report a pool's metrics (and optionally one span per command) to OpenTelemetry.

    ``client_or_pool`` is a :class:`~asyncpool.Pool` or anything with a
    ``.pool`` attribute holding one (a :class:`~asyncpool.Redis` client).
    ``meter_provider`` / ``tracer_provider`` default to the global providers.
    ``pool_name`` overrides ``db.client.connection.pool.name`` (default: the
    pool's ``name``, which defaults to ``host:port/db``).  ``trace_commands``
    starts a CLIENT span per command named after the command (``"GET"``), with
    the metric attributes and no argument values.  ``command_metrics=False``
    skips the two per-command histograms (``db.client.operation.duration`` and
    ``db.client.connection.use_time``).  Their values are aggregated in-process
    and handed to the SDK at each collection, not recorded one SDK call per
    command (see :mod:`asyncpool.otel._bulk` and docs/observability.md).

    A pool may be instrumented once: a second call raises
    :class:`~asyncpool.ConfigError` unless ``replace=True``, which removes the
    earlier instrumentation (or a foreign observer) first.
    """
    pool = _pool_of(client_or_pool)
    provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
    tracer = None
    if trace_commands:
        tracers = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
        tracer = tracers.get_tracer("asyncpool", __version__)
    name = pool_name or pool.name
    instruments = instruments_for(provider)
    observer = OtelObserver(instruments, name, operation_attributes(pool), tracer, command_metrics)
    entry = PoolEntry(pool, name)
    handle = Instrumentation(pool, name, observer, entry, instruments)
    with _active_lock:
        previous = _active.get(pool)
        if not replace and (previous is not None or pool._observer is not None):
            what = "instrumented" if previous is not None else "observed by another PoolObserver"
            raise ConfigError(
                f"pool {pool.name} is already {what}; call uninstrument() on the earlier"
                " handle first, or pass replace=True"
            )
        _active[pool] = handle
        pool.set_observer(observer)
    if previous is not None:
        previous._instruments.remove(previous._entry)
        _cache.forget(previous)  # client-side cache metrics (issue 15)
    instruments.add(entry)
    _cache.observe(client_or_pool, provider, name, handle)  # client-side cache (issue 15)
    return handle


def _pool_of(target: Any) -> Pool:
    if isinstance(target, Pool):
        return target
    pool = getattr(target, "pool", None)
    if isinstance(pool, Pool):
        return pool
    raise TypeError(
        f"instrument() needs an asyncpool Pool or Redis client, got {type(target).__name__}"
    )
