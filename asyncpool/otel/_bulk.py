"""Per-command histograms aggregated in-process and handed to the SDK once per collection.

One ``Histogram.record()`` of the OpenTelemetry Python SDK costs tens of
microseconds (it copies, cleans and hashes the attributes for every reader,
asks the exemplar filter, builds a ``Measurement``); two per command took
two thirds of a 50-task GET workload's throughput.  So the observer does not
call it per command.  Each attribute set gets a :class:`Series`: bucket
counts on the instrument's own boundaries, sum, min and max.  The event loop
thread appends each value to a buffer and folds the buffer into those in
batches of :data:`FOLD` (a sort and a few bisections, in C), so a command pays for one
``list.append``.

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
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any

__all__ = ["FOLD", "BulkHistogram", "DirectSeries", "Series", "bulk_supported"]

log = logging.getLogger("asyncpool.otel")

#: Most series (attribute sets) one histogram aggregates; more go to the SDK directly.
MAX_SERIES = 4096


#: Values a series buffers before the writer folds them into its buckets.
FOLD = 256


def _count(
    values: list[float], bounds: tuple[float, ...], counts: list[int]
) -> tuple[float, float]:
    """Add ``values`` to ``counts`` (bucket ``i``: ``bounds[i-1] < v <= bounds[i]``); min and max.

    The same buckets as ``bisect_left(bounds, v)`` per value, counted in C:
    the batch is sorted once (which also gives its min and max), and each
    boundary inside the span it covers costs one bisection of it: about
    40-55 ns per value for 256 latencies spanning one to three buckets, where
    one ``map`` of a comparison per boundary took 120-300 ns.
    """
    ordered = sorted(values)
    low, high = ordered[0], ordered[-1]
    first, last = bisect_left(bounds, low), bisect_left(bounds, high)
    below = 0
    for i in range(first, last):
        upto = bisect_right(ordered, bounds[i])  # the values <= bounds[i]
        counts[i] += upto - below
        below = upto
    counts[last] += len(ordered) - below
    return low, high


class Series:
    """Values of one attribute set, bucketed in batches; the SDK gets what is new at each flush.

    The event loop thread (the only writer) appends each value to
    :attr:`pending` and, once :data:`FOLD` have gathered, folds them into the
    bucket counts, sum, min and max with a sort and a few bisections (see
    :func:`_count`), so a value costs an ``append`` rather than a bisection
    and four updates.  :meth:`take`, on whichever thread collects, counts the pending
    values too: a collection sees every value added before it, and each value
    lands in exactly one flush, its min and max included.  Folding and taking
    hold a lock; appending needs none, because only the writer ever replaces
    :attr:`pending`.
    """

    __slots__ = (
        "_lock",
        "_reported",
        "_reported_len",
        "_taken",
        "_taken_sum",
        "attrs",
        "bounds",
        "counts",
        "fold_at",
        "max",
        "min",
        "pending",
        "sum",
    )

    def __init__(self, attrs: dict[str, Any], bounds: Sequence[float]) -> None:
        self.attrs = attrs
        #: :meth:`fold` is due at this many pending values (a
        #: :class:`~asyncpool.DurationBatch`); a slot, which the executor reads
        #: faster than a class attribute.
        self.fold_at = FOLD
        #: Upper bounds of the buckets (``counts`` has one more, for the rest).
        self.bounds = tuple(bounds)
        #: The folded values: bucket counts and sum, and the min and max of
        #: those no flush has reported yet.
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf
        #: Values not folded yet, oldest first (see :meth:`add`).
        self.pending: list[float] = []
        self._lock = threading.Lock()
        #: The pending list as the last flush saw it, and how many of its values it reported.
        self._reported: list[float] | None = None
        self._reported_len = 0
        self._taken = list(self.counts)
        self._taken_sum = 0.0

    def add(self, value: float) -> None:
        """Count one measured value (seconds); on the event loop thread only."""
        pending = self.pending
        pending.append(value)
        if len(pending) >= FOLD:
            self.fold()

    def fold(self) -> None:
        """Fold :attr:`pending` into the buckets (the writer, once :data:`FOLD` are buffered)."""
        with self._lock:
            batch = self.pending
            if not batch:
                return
            self.pending = []
            low, high = _count(batch, self.bounds, self.counts)
            self.sum += sum(batch)
            if self._reported is batch:  # a flush reported its first values, min and max too
                fresh = batch[self._reported_len :]
                low, high = (min(fresh), max(fresh)) if fresh else (math.inf, -math.inf)
            self._reported, self._reported_len = None, 0
            if low < self.min:
                self.min = low
            if high > self.max:
                self.max = high

    def take(self) -> tuple[list[int], float, float, float] | None:
        """The values added since the last call (counts, sum, min, max), or ``None``."""
        with self._lock:
            pending = self.pending
            seen = len(pending)  # the writer may append meanwhile: the next flush gets those
            values = pending[:seen]
            counts = list(self.counts)
            total = self.sum
            if values:
                _count(values, self.bounds, counts)
                total += sum(values)
            new = [now - before for now, before in zip(counts, self._taken, strict=True)]
            if not any(new):
                return None
            low, high = self.min, self.max
            fresh = values[self._reported_len :] if self._reported is pending else values
            if fresh:
                low, high = min(low, *fresh), max(high, *fresh)
            self.min, self.max = math.inf, -math.inf
            self._reported, self._reported_len = pending, seen
            added = total - self._taken_sum
            self._taken, self._taken_sum = counts, total
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
