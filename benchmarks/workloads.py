"""The workloads and the driver that times them.

Every concurrent workload runs its tasks flat out for ``warmup`` seconds (the
pool fills, caches warm up), then for ``duration`` seconds during which each
completed operation's latency is recorded, pool wait included.  Operations
completed inside that window are counted; throughput is count / window.

:func:`run_interleaved` times several clients, open side by side in one event
loop, in turns of a slice of the window each (``slices`` turns), so a change
in the machine's speed lasting longer than a slice hits every client alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from benchmarks.clients import Adapter, RawAdapter

VALUE_100 = b"v" * 100
VALUE_16K = b"x" * 16 * 1024
PIPELINE_SIZE = 100


@dataclass(frozen=True)
class Workload:
    """One row group of the report."""

    key: str
    title: str
    tasks: int
    pool: int
    clients: tuple[str, ...]
    #: "ops" (throughput, higher is better) or "ns" (cost per call, lower is better)
    metric: str = "ops"
    #: Measured in turns (:func:`run_interleaved`); False when its tail latency
    #: needs the whole window (a task starved for 0.5 s must show as 0.5 s).
    sliced: bool = True


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "get50",
        "1. GET 100 B, 50 tasks, pool 50",
        50,
        50,
        (
            "asyncpool",
            "asyncpool-shared",
            "asyncpool+otel",
            "asyncpool-shared+otel",
            "redis-py",
            "coredis",
            "glide",
            "raw",
        ),
    ),
    Workload(
        "contention",
        "2. GET, 200 tasks sharing 10 connections",
        200,
        10,
        ("asyncpool", "asyncpool-shared", "redis-py", "coredis", "glide"),
        sliced=False,
    ),
    Workload(
        "serial",
        "3. serial GET, one task",
        1,
        50,
        ("asyncpool", "asyncpool-shared", "asyncpool+otel", "redis-py", "coredis", "glide", "raw"),
    ),
    Workload(
        "pipeline",
        f"4. pipeline of {PIPELINE_SIZE} GETs, one task",
        1,
        50,
        ("asyncpool", "asyncpool-shared", "redis-py", "coredis", "glide", "raw"),
    ),
    Workload(
        "large",
        "5. SET+GET 16 KiB, 50 tasks, pool 50",
        50,
        50,
        ("asyncpool", "asyncpool-shared", "redis-py", "coredis", "glide", "raw"),
    ),
    Workload(
        "acquire",
        "6. pool acquire+release of an idle connection",
        1,
        50,
        ("asyncpool", "redis-py", "coredis"),
        metric="ns",
    ),
)
WORKLOAD_KEYS = tuple(w.key for w in WORKLOADS)


@dataclass
class Sample:
    """One client's result for one workload in one round."""

    ops: int
    seconds: float
    #: Operations (commands) per call, e.g. 100 for a pipeline of 100 GETs.
    per_call: int = 1
    latencies: list[float] = field(default_factory=list)
    #: Tasks that completed no call in the measured window.
    starved: int = 0

    @property
    def ops_per_s(self) -> float:
        return self.ops * self.per_call / self.seconds if self.seconds else 0.0

    @property
    def ns_per_op(self) -> float:
        return self.seconds / self.ops * 1e9 if self.ops else 0.0

    def percentile_us(self, q: float) -> float | None:
        """Latency percentile (of calls) in microseconds, or None without samples."""
        if not self.latencies:
            return None
        data = sorted(self.latencies)
        index = min(len(data) - 1, max(0, round(q / 100 * len(data)) - 1))
        return data[index] * 1e6


class _Window:
    __slots__ = ("completed", "measuring", "running")

    def __init__(self) -> None:
        self.running = True
        self.measuring = False
        self.completed = 0


async def _worker(
    call: Callable[[], Awaitable[Any]],
    window: _Window,
    out: list[float],
    inflight: list[float],
    done: list[int],
    index: int,
) -> None:
    perf = time.perf_counter
    while window.running:
        started = inflight[index] = perf()
        await call()
        if window.measuring:
            out.append(perf() - started)
            window.completed += 1
            done[index] += 1
    inflight[index] = 0.0


async def drive(
    calls: list[Callable[[], Awaitable[Any]]], warmup: float, duration: float, per_call: int = 1
) -> Sample:
    """Run one task per entry of ``calls`` flat out; time the window after ``warmup``.

    Throughput counts the calls completed inside the window.  Latencies are
    those of the calls completed inside it, plus, for each call still in flight
    when it closes, its age at that moment (a lower bound): a caller starved in
    a pool queue shows in the tail instead of vanishing from it.
    """
    window = _Window()
    latencies: list[float] = []
    inflight = [0.0] * len(calls)
    done = [0] * len(calls)
    tasks = [
        asyncio.ensure_future(_worker(call, window, latencies, inflight, done, i))
        for i, call in enumerate(calls)
    ]
    try:
        await asyncio.sleep(warmup)
        window.measuring = True
        started = time.perf_counter()
        await asyncio.sleep(duration)
        window.measuring = False
        ended = time.perf_counter()
        count = window.completed
        censored = [ended - t for t in inflight if t]
        window.running = False
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    return Sample(
        count,
        ended - started,
        per_call,
        latencies[:count] + censored,
        starved=sum(1 for n in done if n == 0),
    )


def _calls(adapter: Adapter, workload: Workload) -> tuple[list[Callable[[], Awaitable[Any]]], int]:
    calls: list[Callable[[], Awaitable[Any]]] = []
    per_call = 1
    for i in range(workload.tasks):
        target = adapter.for_task(i)
        if workload.key in ("get50", "contention", "serial"):
            calls.append(partial(target.get, b"bench:key"))
        elif workload.key == "pipeline":
            calls.append(partial(adapter.pipeline_get, [b"bench:key"] * PIPELINE_SIZE))
            per_call = PIPELINE_SIZE
        elif workload.key == "large":
            calls.append(partial(_set_get, target, b"bench:large:%d" % i))
            per_call = 2
        else:  # pragma: no cover - guarded by the CLI
            raise ValueError(workload.key)
    return calls, per_call


async def _set_get(target: Any, key: bytes) -> None:
    await target.set(key, VALUE_16K)
    await target.get(key)


async def _acquire_loop(adapter: Adapter, warmup: float, duration: float) -> Sample:
    await adapter.acquire_release(100)  # ensures one idle, warm connection
    deadline = time.perf_counter() + warmup
    while time.perf_counter() < deadline:
        await adapter.acquire_release(200)
    ops = 0
    chunk = 1000
    started = time.perf_counter()
    end = started + duration
    while True:
        await adapter.acquire_release(chunk)
        ops += chunk
        now = time.perf_counter()
        if now >= end:
            break
    return Sample(ops, now - started)


Measure = Callable[[float, float], Awaitable[Sample]]


async def prepare(adapter: Adapter, workload: Workload) -> Measure:
    """Set ``adapter`` (already open) up for ``workload``: ``measure(warmup, duration)``."""
    setter = adapter.for_task if isinstance(adapter, RawAdapter) else None
    if isinstance(adapter, RawAdapter):
        await adapter.connect(workload.tasks)
    await (setter(0) if setter else adapter.client).set(b"bench:key", VALUE_100)
    if workload.key == "acquire":
        return partial(_acquire_loop, adapter)
    calls, per_call = _calls(adapter, workload)
    return partial(drive, calls, per_call=per_call)


#: Unmeasured seconds at the start of every slice after a client's first.
SLICE_WARMUP = 0.02


async def run_interleaved(
    adapters: Sequence[tuple[str, Adapter]],
    workload: Workload,
    warmup: float,
    duration: float,
    slices: int,
) -> tuple[dict[str, Sample], dict[str, str]]:
    """Time each open adapter on ``workload`` in turns: ``(samples, errors)`` by client name.

    The window of ``duration`` seconds is cut into ``slices`` slices; the
    clients take turns, one slice each, in the given order on even turns and
    backwards on odd ones.  A client's first slice warms it up for ``warmup``
    seconds, later ones for :data:`SLICE_WARMUP`; between its slices a client
    is paused (:meth:`Adapter.pause`), so its background work (metric
    collection) runs in its own turns only.  Its sample is the sum of its
    slices.  A client that raises is dropped with its error.
    """
    slices = max(1, slices)
    errors: dict[str, str] = {}
    measures: dict[str, Measure] = {}
    for name, adapter in adapters:
        adapter.pause()
        try:
            measures[name] = await prepare(adapter, workload)
        except Exception as exc:
            errors[name] = f"{exc.__class__.__name__}: {exc}"
    adapter_of = dict(adapters)
    parts: dict[str, list[Sample]] = {name: [] for name in measures}
    names = list(measures)
    for turn in range(slices):
        for name in names if turn % 2 == 0 else names[::-1]:
            if name in errors:
                continue
            adapter_of[name].resume()
            try:
                parts[name].append(
                    await measures[name](warmup if turn == 0 else SLICE_WARMUP, duration / slices)
                )
            except Exception as exc:
                errors[name] = f"{exc.__class__.__name__}: {exc}"
            finally:
                adapter_of[name].pause()
    return {name: _merged(p) for name, p in parts.items() if name not in errors}, errors


def _merged(parts: list[Sample]) -> Sample:
    """One sample from the slices of one client (``starved``: its worst slice)."""
    return Sample(
        sum(p.ops for p in parts),
        sum(p.seconds for p in parts),
        parts[0].per_call,
        [latency for p in parts for latency in p.latencies],
        starved=max(p.starved for p in parts),
    )
