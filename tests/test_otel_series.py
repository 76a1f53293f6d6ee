"""The in-process histogram series behind asyncpool.otel: exact, and safe to collect from a thread.

A :class:`~asyncpool.otel._bulk.Series` buffers values and folds them into
buckets in batches; these tests check that what a collection takes is exactly
what one bucket update per value would have given, however the values fall
around the folds, and that a collector thread taking while the writer adds
never loses or doubles a value.
"""

from __future__ import annotations

import bisect
import math
import random
import threading

import pytest

pytest.importorskip("opentelemetry.sdk")

from asyncpool.otel._bulk import FOLD, Series

BOUNDS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10)


def expected(values: list[float]) -> tuple[list[int], float, float, float]:
    counts = [0] * (len(BOUNDS) + 1)
    for value in values:
        counts[bisect.bisect_left(BOUNDS, value)] += 1
    return counts, math.fsum(values), min(values), max(values)


def sample(rng: random.Random) -> float:
    """Latencies that cross bucket boundaries, exact boundary values included."""
    pick = rng.random()
    if pick < 0.1:
        return float(rng.choice(BOUNDS))
    if pick < 0.6:
        return rng.uniform(0.0, 0.002)  # around the first boundary
    return rng.expovariate(20.0)


@pytest.mark.parametrize("seed", range(6))
def test_every_take_reports_exactly_the_values_added_since_the_last(seed: int) -> None:
    rng = random.Random(seed)
    series = Series({}, BOUNDS)
    assert series.take() is None
    for _ in range(12):
        added = [sample(rng) for _ in range(rng.choice((1, 3, FOLD - 1, FOLD, FOLD + 7, 700)))]
        for value in added:
            series.add(value)
        taken = series.take()
        assert taken is not None
        counts, total, low, high = taken
        want_counts, want_total, want_low, want_high = expected(added)
        assert counts == want_counts
        assert total == pytest.approx(want_total, rel=1e-9, abs=1e-12)
        assert (low, high) == (want_low, want_high)  # this interval's own min and max
        assert series.take() is None  # nothing twice


@pytest.mark.parametrize("bucket", range(len(BOUNDS) + 1))
def test_a_fold_within_one_bucket_counts_every_value_there(bucket: int) -> None:
    """The fold's one-bucket shortcut: boundary values belong to the bucket they close."""
    low = 0.0 if bucket == 0 else BOUNDS[bucket - 1]
    high = BOUNDS[bucket] if bucket < len(BOUNDS) else 2 * BOUNDS[-1]
    rng = random.Random(bucket)
    values = (
        [high] + [math.nextafter(low, math.inf)] + [rng.uniform(low, high) for _ in range(FOLD)]
    )
    values = [v for v in values if v != low][:FOLD]  # (low itself is the bucket below)
    series = Series({}, BOUNDS)
    for value in values:
        series.add(value)
    assert not series.pending  # folded
    counts, total, got_low, got_high = series.take()  # type: ignore[misc]
    assert counts == expected(values)[0]
    assert counts[bucket] == FOLD
    assert total == pytest.approx(math.fsum(values), rel=1e-9)
    assert (got_low, got_high) == (min(values), max(values))


def test_a_take_between_folds_is_not_counted_again_by_the_fold() -> None:
    series = Series({}, BOUNDS)
    for _ in range(FOLD - 2):
        series.add(0.0002)
    first = series.take()
    assert first is not None
    assert first[0][0] == FOLD - 2
    series.add(0.02)
    series.add(0.03)  # the fold: the first FOLD - 2 values are in the buckets now
    assert not series.pending
    counts, _total, low, high = series.take()  # type: ignore[misc]
    assert sum(counts) == 2
    assert counts[bisect.bisect_left(BOUNDS, 0.02)] == 2
    assert (low, high) == (0.02, 0.03)  # not the min of the values flushed before


def test_a_collector_thread_taking_while_the_writer_adds_loses_and_doubles_nothing() -> None:
    series = Series({}, BOUNDS)
    rng = random.Random(7)
    values = [sample(rng) for _ in range(60_000)]
    taken: list[tuple[list[int], float, float, float]] = []
    done = threading.Event()

    def collect() -> None:
        while not done.is_set():
            one = series.take()
            if one is not None:
                taken.append(one)
        last = series.take()
        if last is not None:
            taken.append(last)

    collector = threading.Thread(target=collect)
    collector.start()
    try:
        for value in values:
            series.add(value)
    finally:
        done.set()
        collector.join(timeout=30)
    assert not collector.is_alive()
    assert len(taken) > 1  # the collector really ran between the writer's adds
    counts = [sum(one[0][i] for one in taken) for i in range(len(BOUNDS) + 1)]
    want_counts, want_total, want_low, want_high = expected(values)
    assert counts == want_counts
    assert sum(one[1] for one in taken) == pytest.approx(want_total, rel=1e-9)
    assert min(one[2] for one in taken) == want_low
    assert max(one[3] for one in taken) == want_high
