"""Where asyncpool's hot path spends its time: ``python -m benchmarks.profile``.

Two views, against a throwaway redis-server:

* ``cprofile``: workload 1 (50 tasks) and 3 (serial) under cProfile, top
  functions by own time, in microseconds per GET (cProfile inflates small
  functions; read it for ranking, the micro costs for magnitudes);
* ``micro``: the cost of each piece of the path in isolation (encode, the
  per-command timer, futures, checkout/checkin, coroutine frames), in ns;
* ``calls``: function calls per GET (C functions included) for workload 1 or 3,
  plain and with OpenTelemetry metrics on, and what OTel adds: a count, so it
  does not move with the machine's load (``--shared`` for ``multiplex=True``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.clients import AsyncpoolAdapter, AsyncpoolSharedAdapter
from benchmarks.workloads import VALUE_100, WORKLOADS, drive


def _per_op(fn: Callable[[], Any], n: int = 200_000) -> float:
    """Nanoseconds per call of a synchronous ``fn``."""
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n * 1e9


async def _per_op_async(fn: Callable[[], Any], n: int = 100_000) -> float:
    """Wall nanoseconds per awaited call; the CPU time of this process goes to ``_cpu``."""
    cpu = time.process_time()
    started = time.perf_counter()
    for _ in range(n):
        await fn()
    wall = (time.perf_counter() - started) / n * 1e9
    _cpu.append((time.process_time() - cpu) / n * 1e9)
    return wall


#: Client CPU ns per call of the last ``_per_op_async`` measurements (robust to a loaded box).
_cpu: list[float] = []


async def micro(host: str, port: int) -> list[tuple[str, float, float]]:
    """Isolated costs of the steps of ``Redis.get``: (name, wall ns, client CPU ns) per call."""
    from asyncpool.command_info import BLOCKING
    from asyncpool.resp import encode_command
    from benchmarks.ceiling import RawConnection

    loop = asyncio.get_running_loop()
    out: list[tuple[str, float, float]] = []

    def add_sync(name: str, fn: Callable[[], Any]) -> None:
        cpu = time.process_time()
        wall = _per_op(fn)
        out.append((name, wall, (time.process_time() - cpu) / 200_000 * 1e9))

    async def add(name: str, fn: Callable[[], Any], n: int = 100_000) -> None:
        wall = await _per_op_async(fn, n)
        out.append((name, wall, _cpu[-1]))

    args = ("GET", b"bench:key")
    add_sync("encode_command(('GET', key))", lambda: encode_command(args))
    add_sync("loop.create_future()", loop.create_future)
    add_sync("loop.call_later(30, f).cancel()", lambda: loop.call_later(30.0, print).cancel())
    add_sync("time.monotonic()", time.monotonic)
    add_sync("'GET' in BLOCKING", lambda: "GET" in BLOCKING)

    semaphore = asyncio.Semaphore(1)

    async def semaphore_cycle() -> None:
        async with semaphore:
            pass

    await add("calibration: asyncio.Semaphore acquire+release (0.6 us idle)", semaphore_cycle)

    async def leaf() -> None:
        return None

    async def one() -> None:
        await leaf()

    await add("await one coroutine (create+run+close)", leaf)
    await add("await a 2-deep coroutine chain", one)

    async def timeout_scope() -> None:
        async with getattr(asyncio, "timeout")(30):  # noqa: B009 - Python 3.11+ only
            pass

    if hasattr(asyncio, "timeout"):
        await add("async with asyncio.timeout(30)", timeout_scope)

    await _in_memory(host, port, add, add_sync)

    raw = await RawConnection.open(host, port)
    try:
        await add("raw ceiling: protocol GET round trip", lambda: raw.get(b"bench:key"), 20_000)
    finally:
        raw.close()
    async with AsyncpoolAdapter(host, port, 50) as adapter:
        redis = adapter.client
        pool = redis.pool
        await redis.set(b"bench:key", VALUE_100)

        async def checkout_checkin() -> None:
            conn = await pool._checkout()
            pool._checkin(conn)

        await add("pool._checkout() + _checkin() (idle)", checkout_checkin)

        async def acquire() -> None:
            async with pool.acquire():
                pass

        await add("async with pool.acquire() (idle)", acquire)
        conn = await pool._checkout()
        try:
            protocol = conn.protocol
            data = encode_command(args)
            await add(
                "RedisProtocol.request(bytes) round trip", lambda: protocol.request(data), 20_000
            )
            await add(
                "Connection.send_command(GET) round trip", lambda: conn.send_command(args), 20_000
            )
        finally:
            pool._checkin(conn)
        await add("redis.get() round trip (whole path)", lambda: redis.get(b"bench:key"), 20_000)
    return out


class _EchoTransport(asyncio.Transport):
    """Answers every write at once with ``reply`` (one command per write): no socket, no loop."""

    def __init__(self, protocol: Any, reply: bytes) -> None:
        super().__init__()
        self.protocol = protocol
        self.reply = reply

    def write(self, data: Any) -> None:
        self.protocol.data_received(self.reply)


async def _in_memory(host: str, port: int, add: Any, add_sync: Any) -> None:
    """The client's own CPU per GET: the reply arrives inside write(), so nothing yields."""
    import hiredis

    from asyncpool.resp import encode_command, make_parser
    from benchmarks.ceiling import RawProtocol, encode

    reply = b"$100\r\n" + VALUE_100 + b"\r\n"

    reader = hiredis.Reader()

    def hiredis_only() -> None:
        reader.feed(reply)
        reader.gets()
        reader.gets()

    parser = make_parser("auto")

    def asyncpool_parser() -> None:
        parser.feed(reply)
        parser.replies()  # what the transport calls, once per read

    batch = reply * 25
    replies = make_parser("auto")

    def asyncpool_parser_25() -> None:
        replies.feed(batch)
        replies.replies()

    add_sync("parse: hiredis.Reader feed+gets (100 B bulk)", hiredis_only)
    add_sync("parse: asyncpool parser feed+replies (same)", asyncpool_parser)
    add_sync("parse: asyncpool parser, 25 replies in one read (per read)", asyncpool_parser_25)

    raw = RawProtocol()
    raw.connection_made(_EchoTransport(raw, reply))
    get = encode(b"GET", b"bench:key")
    await add("in-memory: raw ceiling request + reply", lambda: raw.request(get))

    async with AsyncpoolAdapter(host, port, 1) as adapter:
        redis = adapter.client
        await redis.get(b"bench:key")
        conn = redis.pool._idle[0]
        protocol = conn.protocol
        real = protocol._transport
        protocol._transport = _EchoTransport(protocol, reply)
        try:
            data = encode_command(("GET", b"bench:key"))
            await add("in-memory: RedisProtocol.request + reply", lambda: protocol.request(data))
            await add(
                "in-memory: Connection.send_command(GET)",
                lambda: conn.send_command(("GET", b"bench:key")),
            )
            await add("in-memory: Redis.get (whole client path)", lambda: redis.get(b"bench:key"))
            try:
                from opentelemetry.sdk.metrics import MeterProvider
                from opentelemetry.sdk.metrics.export import InMemoryMetricReader

                from asyncpool.otel import instrument
            except ImportError:
                return
            provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
            handle = instrument(redis, meter_provider=provider)
            try:
                await add(
                    "in-memory: Redis.get with OTel metrics on", lambda: redis.get(b"bench:key")
                )
            finally:
                handle.uninstrument()
                provider.shutdown()
        finally:
            protocol._transport = real


async def profiled(host: str, port: int, workload: str, duration: float) -> tuple[str, int]:
    """cProfile output for asyncpool on ``workload`` and the number of GETs it covered."""
    wl = next(w for w in WORKLOADS if w.key == workload)
    async with AsyncpoolAdapter(host, port, wl.pool) as adapter:
        redis = adapter.client
        await redis.set(b"bench:key", VALUE_100)
        calls = [lambda: redis.get(b"bench:key") for _ in range(wl.tasks)]
        await drive(calls, 0.2, 0.2)  # warm: the pool fills
        prof = cProfile.Profile()
        prof.enable()
        sample = await drive(calls, 0.0, duration)
        prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(25)
    return buf.getvalue(), sample.ops


async def gets_on_one_key(
    host: str, port: int, workload: str, shared: bool, otel: bool, gets: int, measured: Any
) -> None:
    """Warm the pool, then ``gets`` GETs from ``workload``'s tasks inside ``measured``.

    ``measured`` is a context manager around the measured part only (a
    ``cProfile.Profile``, or ``contextlib.nullcontext()``); OpenTelemetry, with
    ``otel``, collects only at the end.
    """
    wl = next(w for w in WORKLOADS if w.key == workload)
    adapter_class = AsyncpoolSharedAdapter if shared else AsyncpoolAdapter
    adapter_class = type("Counted", (adapter_class,), {"otel": otel, "collect_every": 3600.0})
    async with adapter_class(host, port, wl.pool) as adapter:
        redis = adapter.client
        await redis.set(b"bench:key", VALUE_100)

        async def worker(n: int) -> None:
            for _ in range(n):
                await redis.get(b"bench:key")

        await asyncio.gather(*(worker(20) for _ in range(wl.tasks)))  # warm: the pool fills
        with measured:
            await asyncio.gather(*(worker(gets // wl.tasks) for _ in range(wl.tasks)))


async def call_counts(
    host: str, port: int, workload: str, shared: bool, otel: bool, gets: int = 10_000
) -> dict[str, float]:
    """Calls per GET by function (cProfile's counts), over ``gets`` GETs of ``workload``."""
    prof = cProfile.Profile()
    await gets_on_one_key(host, port, workload, shared, otel, gets, prof)
    stats: Any = pstats.Stats(prof)
    return {f"{Path(key[0]).name}:{key[2]}": value[1] / gets for key, value in stats.stats.items()}


def _print_counts(plain: dict[str, float], otel: dict[str, float]) -> None:
    print(f"calls per GET: plain {sum(plain.values()):.1f}, with OTel {sum(otel.values()):.1f}")
    print("added by OTel:")
    for name in sorted(set(plain) | set(otel), key=lambda n: plain.get(n, 0) - otel.get(n, 0)):
        added = otel.get(name, 0) - plain.get(name, 0)
        if abs(added) >= 0.05:
            print(f"  {added:+6.2f}  {name}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    p.add_argument("mode", choices=("micro", "cprofile", "calls"), nargs="?", default="micro")
    p.add_argument("--shared", action="store_true", help="calls: multiplex=True")
    p.add_argument("--workload", default="serial", choices=("get50", "serial"))
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--uvloop", action="store_true")
    args = p.parse_args(argv)
    from asyncpool.testing import RedisServer

    if args.uvloop:
        from benchmarks.cli import loop_factory

        factory = loop_factory("uvloop")
    else:
        factory = asyncio.new_event_loop
    with RedisServer() as server:
        loop = factory()
        try:
            if args.mode == "micro":
                print("      wall   client CPU  (ns per call)")
                for name, wall, cpu in loop.run_until_complete(micro(server.host, server.port)):
                    print(f"{wall:10,.0f} {cpu:10,.0f}   {name}")
            elif args.mode == "calls":
                counts = [
                    loop.run_until_complete(
                        call_counts(server.host, server.port, args.workload, args.shared, otel)
                    )
                    for otel in (False, True)
                ]
                _print_counts(*counts)
            else:
                text, ops = loop.run_until_complete(
                    profiled(server.host, server.port, args.workload, args.duration)
                )
                print(f"{ops} GETs profiled ({args.workload}); divide tottime by it for s/op")
                print(text)
        finally:
            loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
