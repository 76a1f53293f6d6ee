"""The snapshot ``redis.cache.stats()`` returns: a client-side cache's counters and gauges."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CacheStats"]


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of a client-side cache's counters and gauges."""

    #: Reads answered from the cache.
    hits: int
    #: Cacheable reads sent to the server while the cache was usable.
    misses: int
    #: Reads that shared the reply of an identical read already in flight.
    joins: int
    #: Cacheable reads sent to the server because the cache could not be used
    #: (tracking down, a fence pending, a key outside ``prefixes``).
    bypasses: int
    #: Entries dropped to stay within ``max_entries`` / ``max_bytes``.
    evictions: int
    #: Entries dropped because their keys changed (server or own writes).
    invalidations: int
    #: Entries dropped because their TTL passed.
    expirations: int
    #: Times the whole cache was dropped (FLUSHALL/FLUSHDB, stream lost, closed).
    flushes: int
    #: Replies not stored because an invalidation crossed them in flight.
    races: int
    #: Entries held now.
    entries: int
    #: Estimated bytes held now.
    bytes: int
    max_entries: int
    max_bytes: int
    #: True while the invalidation stream is up (the cache serves hits).
    tracking: bool
    #: Times the tracking connection was (re)established.
    tracking_connects: int

    @property
    def hit_rate(self) -> float:
        """Share of cacheable reads that needed no round trip of their own.

        ``(hits + joins) / (hits + joins + misses + bypasses)``; 0.0 before any read.
        """
        total = self.hits + self.joins + self.misses + self.bypasses
        if not total:
            return 0.0
        return (self.hits + self.joins) / total
