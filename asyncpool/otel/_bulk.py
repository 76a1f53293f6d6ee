"""Per-command histograms aggregated in-process and handed to the SDK once per collection.

One ``Histogram.record()`` of the OpenTelemetry Python SDK costs tens of
microseconds (it copies, cleans and hashes the attributes for every reader,
asks the exemplar filter, builds a ``Measurement``); two per command took
two thirds of a 50-task GET workload's throughput.  So the observer does not
call it per command.  Each attribute set gets a :class:`Series`: bucket
counts on the instrument's own boundaries, sum, min and max, updated on the
event loop thread for well under a microsecond.

At collection time (the first observable callback of every collection, which
the SDK runs before it reads its aggregations) :meth:`BulkHistogram.flush`
hands each series' new values to the SDK: one real ``record()`` (the SDK
creates the aggregation through its own views, cardinality limit and exemplar
filter), then the rest merged into that same explicit-bucket aggregation in
bulk.  The exported histogram is exactly what one ``record()`` per value
would have produced: count, sum, min, max and every bucket.

The merge reaches into SDK internals.  :func:`bulk_supported` checks, once
per meter provider, that they look as expected and that nothing would make
the merge differ from per-value recording (no views, default histogram
aggregation on every reader); otherwise :class:`DirectSeries` records each
value through the public API, as before.
"""

from __future__ import annotations

import logging
import math
import threading
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

__all__ = ["BulkHistogram", "DirectSeries", "Series", "bulk_supported"]

log = logging.getLogger("asyncpool.otel")

#: Most series (attribute sets) one histogram aggregates; more go to the SDK directly.
MAX_SERIES = 4096


class Series:
    """Values of one attribute set, pre-bucketed; the SDK gets what is new at each flush.

    :meth:`add` runs on the event loop thread (the only writer) and takes no
    lock: bucket counts and the sum only grow, and :meth:`take`, on whichever
    thread collects, hands over the difference from what it took last time.
    Copying the counts is one C call, so a flush never sees half an update of
    them; a value added while another thread flushes lands in this flush or
    the next, never in neither and never twice.  Min and max are per flush;
    a value arriving at that same instant may miss its interval's min/max.
    """

    __slots__ = ("_taken", "_taken_sum", "attrs", "bounds", "counts", "max", "min", "sum")

    def __init__(self, attrs: dict[str, Any], bounds: Sequence[float]) -> None:
        self.attrs = attrs
        #: Upper bounds of the buckets (``counts`` has one more, for the rest).
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf
        self._taken = list(self.counts)
        self._taken_sum = 0.0

    def add(self, value: float) -> None:
        """Count one measured value (seconds)."""
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value

    def take(self) -> tuple[list[int], float, float, float] | None:
        """The values added since the last call (counts, sum, min, max), or ``None``."""
        counts = list(self.counts)
        total = self.sum
        low, high = self.min, self.max
        new = [now - before for now, before in zip(counts, self._taken, strict=True)]
        if not any(new):
            return None
        self.min, self.max = math.inf, -math.inf
        added = total - self._taken_sum
        self._taken, self._taken_sum = counts, total
        if low > high:  # min/max reset raced with the writer: stay within the values
            low = high = added / sum(new)
        return new, added, low, high


class DirectSeries:
    """The same interface, recording every value through the SDK at once (fallback)."""

    __slots__ = ("attrs", "instrument")

    def __init__(self, instrument: Any, attrs: dict[str, Any]) -> None:
        self.instrument = instrument
        self.attrs = attrs

    def add(self, value: float) -> None:
        """Record ``value`` now."""
        self.instrument.record(value, self.attrs)


class BulkHistogram:
    """One SDK histogram fed in bulk from many :class:`Series`."""

    def __init__(self, instrument: Any, bounds: Sequence[float], bulk: bool) -> None:
        self.instrument = instrument
        self.bounds = tuple(bounds)
        self.bulk = bulk
        self._series: list[Series] = []
        self._lock = threading.Lock()
        self._warned = False

    def series(self, attrs: dict[str, Any]) -> Series | DirectSeries:
        """A new series for ``attrs`` (the caller caches it per attribute set)."""
        if not self.bulk or len(self._series) >= MAX_SERIES:
            return DirectSeries(self.instrument, attrs)
        found = Series(attrs, self.bounds)
        with self._lock:
            self._series.append(found)
        return found

    def flush(self) -> None:
        """Hand every series' new values to the SDK (called at collection time)."""
        if not self.bulk:
            return
        with self._lock:
            series = list(self._series)
        for one in series:
            taken = one.take()
            if taken is not None:
                try:
                    self._merge(one.attrs, *taken)
                except Exception:  # a changed SDK must not break collection
                    self._warn("the SDK's histogram internals changed")

    def _merge(
        self, attrs: dict[str, Any], counts: list[int], total: float, low: float, high: float
    ) -> None:
        # One real measurement: the SDK creates the aggregation for these
        # attributes in every reader (views, cardinality limit, exemplars).
        self.instrument.record(low, attrs)
        rest = list(counts)
        rest[bisect_left(self.bounds, low)] -= 1
        rest_sum = total - low
        if not any(rest):
            return
        for aggregation in _aggregations(self.instrument, attrs):
            if getattr(aggregation, "_boundaries", None) != self.bounds:
                self._warn("a reader aggregates this histogram differently")
                continue
            with aggregation._lock:
                value = aggregation._value
                if value is None:
                    value = aggregation._value = [0] * len(rest)
                for i, n in enumerate(rest):
                    if n:
                        value[i] += n
                aggregation._sum += rest_sum
                if aggregation._record_min_max:
                    aggregation._min = min(aggregation._min, low)
                    aggregation._max = max(aggregation._max, high)

    def _warn(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("asyncpool.otel: %s; some %s values were dropped", why, self.instrument)


_OVERFLOW = (("otel.metric.overflow", True),)


def _aggregations(instrument: Any, attrs: dict[str, Any]) -> list[Any]:
    """The SDK aggregation of ``attrs`` for ``instrument`` in every reader's storage."""
    wanted = frozenset(attrs.items())
    found = []
    for storage in list(instrument._measurement_consumer._reader_storages.values()):
        for match in storage._instrument_view_instrument_matches.get(instrument, ()):
            overflow = None
            for aggregation in list(match._attributes_aggregation.values()):
                have = frozenset((aggregation._attributes or {}).items())
                if have == wanted:
                    found.append(aggregation)
                    break
                if have == frozenset(_OVERFLOW):
                    overflow = aggregation
            else:
                if overflow is not None:  # past the SDK's cardinality limit
                    found.append(overflow)
    return found


def bulk_supported(provider: Any, instrument: Any) -> bool:
    """True when merging into ``provider``'s aggregations equals recording each value.

    Needs the OpenTelemetry SDK's internals as this module knows them, no
    views (a view may rename, filter attributes or re-aggregate), and the
    default histogram aggregation on every reader.
    """
    try:
        from opentelemetry.sdk.metrics._internal.aggregation import (
            DefaultAggregation,
            _ExplicitBucketHistogramAggregation,
        )
        from opentelemetry.sdk.metrics._internal.instrument import _Histogram

        if list(provider._sdk_config.views):
            return False
        if not isinstance(instrument, _Histogram):
            return False
        consumer: Any = instrument._measurement_consumer
        for reader, storage in consumer._reader_storages.items():
            if not isinstance(reader._instrument_class_aggregation[_Histogram], DefaultAggregation):
                return False
            if not isinstance(storage._instrument_view_instrument_matches, dict):
                return False
        names: set[str] = set()
        for cls in _ExplicitBucketHistogramAggregation.__mro__[:2]:
            names.update(vars(cls)["__init__"].__code__.co_names)
        wanted = ("_value", "_sum", "_min", "_max", "_record_min_max", "_boundaries", "_lock")
        return all(name in names for name in wanted)
    except Exception:
        return False
