"""OpenTelemetry metrics of a client's client-side cache (see docs/caching.md).

:func:`~asyncpool.otel.instrument` on a :class:`~asyncpool.Redis` client with
``cache=`` also reports its :class:`~asyncpool.ClientCache`.  Everything is an
observable instrument read from :meth:`~asyncpool.ClientCache.stats` at
collection time: nothing is recorded per read, so a hit stays a dict lookup.
The OpenTelemetry conventions have no client-cache metrics, so the names live
under ``asyncpool.cache``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation

from .. import __version__
from ..client.cache import CacheStats, ClientCache
from . import _semconv as sc

__all__ = ["CACHE_METRICS", "forget", "observe"]

RESULT = "asyncpool.cache.result"
REASON = "asyncpool.cache.reason"

#: name -> (unit, description, monotonic counter?)
CACHE_METRICS: dict[str, tuple[str, str, bool]] = {
    "asyncpool.cache.reads": (
        "{read}",
        "Cacheable reads, by result: hit (served from the cache), miss (read from the server"
        " and stored), bypass (read from the server, cache not usable).",
        True,
    ),
    "asyncpool.cache.removals": (
        "{entry}",
        "Entries removed, by reason: eviction (size bounds), invalidation, expiration.",
        True,
    ),
    "asyncpool.cache.flushes": (
        "{flush}",
        "Times the whole cache was dropped (FLUSHALL/FLUSHDB, lost invalidation stream).",
        True,
    ),
    "asyncpool.cache.races": (
        "{read}",
        "Replies not stored because an invalidation of their keys crossed them.",
        True,
    ),
    "asyncpool.cache.entries": ("{entry}", "Entries held.", False),
    "asyncpool.cache.size": ("By", "Estimated bytes held.", False),
    "asyncpool.cache.tracking": (
        "{connection}",
        "1 while the invalidation stream is up (hits are served), else 0.",
        False,
    ),
}


class _Entry:
    __slots__ = ("__weakref__", "attrs", "cache_ref")

    def __init__(self, cache: ClientCache, pool_name: str) -> None:
        self.cache_ref = weakref.ref(cache)
        self.attrs: dict[str, Any] = {sc.POOL_NAME: pool_name}


def _reads(s: CacheStats) -> list[tuple[int, str]]:
    return [(s.hits, "hit"), (s.misses, "miss"), (s.bypasses, "bypass")]


def _removals(s: CacheStats) -> list[tuple[int, str]]:
    return [
        (s.evictions, "eviction"),
        (s.invalidations, "invalidation"),
        (s.expirations, "expiration"),
    ]


_LABELLED: dict[str, tuple[str, Callable[[CacheStats], list[tuple[int, str]]]]] = {
    "asyncpool.cache.reads": (RESULT, _reads),
    "asyncpool.cache.removals": (REASON, _removals),
}
_PLAIN: dict[str, Callable[[CacheStats], int]] = {
    "asyncpool.cache.flushes": lambda s: s.flushes,
    "asyncpool.cache.races": lambda s: s.races,
    "asyncpool.cache.entries": lambda s: s.entries,
    "asyncpool.cache.size": lambda s: s.bytes,
    "asyncpool.cache.tracking": lambda s: int(s.tracking),
}


class _CacheInstruments:
    """The cache instruments of one meter; their callbacks walk every registered cache."""

    def __init__(self, meter: Meter) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, _Entry] = {}
        for name, (unit, description, monotonic) in CACHE_METRICS.items():
            create = (
                meter.create_observable_counter
                if monotonic
                else meter.create_observable_up_down_counter
            )
            create(name, callbacks=[self._callback(name)], unit=unit, description=description)

    def add(self, entry: _Entry) -> None:
        with self._lock:
            self._entries[id(entry)] = entry

    def remove(self, entry: _Entry) -> None:
        with self._lock:
            self._entries.pop(id(entry), None)

    def _live(self) -> list[tuple[_Entry, CacheStats]]:
        with self._lock:
            entries = list(self._entries.values())
        out = []
        for entry in entries:
            cache = entry.cache_ref()
            if cache is not None:
                out.append((entry, cache.stats()))
        return out

    def _callback(self, name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        labelled = _LABELLED.get(name)
        plain = _PLAIN.get(name)

        def observe(options: CallbackOptions) -> Iterable[Observation]:
            observations = []
            for entry, stats in self._live():
                if labelled is not None:
                    attr, values = labelled
                    for value, label in values(stats):
                        observations.append(Observation(value, {**entry.attrs, attr: label}))
                elif plain is not None:
                    observations.append(Observation(plain(stats), entry.attrs))
            return observations

        return observe


_by_provider: weakref.WeakKeyDictionary[MeterProvider, _CacheInstruments] = (
    weakref.WeakKeyDictionary()
)
_registered: weakref.WeakKeyDictionary[Any, tuple[_CacheInstruments, _Entry]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def observe(target: Any, provider: MeterProvider, pool_name: str, handle: Any) -> None:
    """Report ``target``'s client-side cache (if it has one) until :func:`forget` ``(handle)``."""
    cache = getattr(target, "cache", None)
    if not isinstance(cache, ClientCache):
        return
    with _lock:
        instruments = _by_provider.get(provider)
        if instruments is None:
            meter = provider.get_meter("asyncpool", __version__)
            instruments = _by_provider[provider] = _CacheInstruments(meter)
    entry = _Entry(cache, pool_name)
    instruments.add(entry)
    _registered[handle] = (instruments, entry)


def forget(handle: Any) -> None:
    """Stop reporting the cache registered with ``handle`` (idempotent)."""
    found = _registered.pop(handle, None)
    if found is not None:
        instruments, entry = found
        instruments.remove(entry)
