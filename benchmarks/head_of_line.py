"""Head-of-line: small GETs beside one task reading a large value, shared against exclusive.

``python -m benchmarks.head_of_line [--size BYTES] [--rounds N] [--url redis://...]``

50 tasks ``GET`` a 100-byte value as fast as they can while one more task
``GET``s a ``--size`` value (1 MiB by default) in a loop, on one client with
``max_connections=50``, once with ``multiplex=True`` and once with ``False``
(alternating which goes first).  Printed per round and mode: the small GETs'
rate and latency (p50, p99, max) and how many large GETs completed.  In shared
mode the small GETs written behind a large reply on its connection wait for
all of it; in exclusive mode they are on other connections.  Ratios between the
two modes in one run are what mean anything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass

import asyncpool

TASKS = 50


@dataclass(frozen=True)
class Sample:
    """One mode's window: the small GETs' rate and latency, and the large GETs done."""

    small_per_s: float
    p50_us: float
    p99_us: float
    max_us: float
    large_done: int


async def measure(url: str, multiplex: bool, size: int, seconds: float) -> Sample:
    """Run the mix for ``seconds`` (after 0.3 s of warm-up) in one mode."""
    async with asyncpool.Redis.from_url(url, max_connections=TASKS, multiplex=multiplex) as r:
        await r.set("hol:small", b"x" * 100)
        await r.set("hol:large", b"y" * size)
        latencies: list[float] = []
        large_done = 0
        running = True

        async def small() -> None:
            while running:
                started = time.perf_counter()
                await r.get("hol:small")
                latencies.append(time.perf_counter() - started)

        async def large() -> None:
            nonlocal large_done
            while running:
                await r.get("hol:large")
                large_done += 1

        tasks = [asyncio.ensure_future(small()) for _ in range(TASKS)]
        tasks.append(asyncio.ensure_future(large()))
        await asyncio.sleep(0.3)  # warm-up: the pool fills
        latencies.clear()
        large_done = 0
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        window = latencies[:]
        done, elapsed = large_done, time.perf_counter() - started
        running = False
        await asyncio.gather(*tasks)
    cuts = statistics.quantiles(window, n=100)
    return Sample(len(window) / elapsed, cuts[49] * 1e6, cuts[98] * 1e6, max(window) * 1e6, done)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.head_of_line", description=__doc__)
    parser.add_argument("--size", type=int, default=1 << 20, help="the large value, in bytes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=1.5)
    parser.add_argument("--url", help="an existing server (default: start one)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            from asyncpool.testing import RedisServer

            url = stack.enter_context(RedisServer()).url
        print(f"{TASKS} tasks GET 100 B beside one task GETting {args.size:,} B")
        for round_ in range(args.rounds):
            order = (False, True) if round_ % 2 == 0 else (True, False)
            for multiplex in order:
                s = asyncio.run(measure(url, multiplex, args.size, args.duration))
                mode = "shared   " if multiplex else "exclusive"
                print(
                    f"round {round_} {mode} small GET/s {s.small_per_s:8,.0f}"
                    f"  p50 {s.p50_us:7,.0f}  p99 {s.p99_us:7,.0f}  max {s.max_us:7,.0f} µs"
                    f"  large GETs {s.large_done}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
