"""The pool's one background task: health checks, expiry, refill, dial probe, leaks.

The task is a plain asyncio task owned by the pool, so it may be started in one
task and stopped from another (as pytest-asyncio does with fixtures).  Inside
it, each round runs its health checks concurrently in an anyio task group that
is entered and left within this same task, as anyio's cancel scopes require.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Protocol

import anyio

from .._compat import running_loop
from ..connection import Connection
from ..errors import RedisError

if TYPE_CHECKING:
    from .._log_throttle import LogThrottle
    from ..options import PoolOptions
    from .ledger import Ledger


class Upkept(Protocol):
    """What the upkeep needs of its pool (a :class:`~asyncpool.Pool`)."""

    options: PoolOptions
    name: str
    _ledger: Ledger
    _generation: int
    _breaker_open: bool
    _breaker_opened_at: float

    @property
    def _throttle(self) -> LogThrottle: ...

    @property
    def closed(self) -> bool: ...

    def _discard(self, conn: Connection, why: str) -> None: ...

    def _put_back(self, conn: Connection) -> None: ...

    async def _ping(self, conn: Connection, check: str) -> bool: ...

    async def _dial_into_idle(self, probe: bool = False) -> None: ...


__all__ = ["Maintenance"]

log = logging.getLogger("asyncpool.pool")


class Maintenance:
    """Runs the periodic upkeep of one pool while the pool is open."""

    def __init__(self, pool: Upkept) -> None:
        self._pool = pool
        self._task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._probe_delay = pool.options.dial_backoff or 0.05
        self._warned: set[int] = set()
        opts = pool.options
        intervals = [
            v
            for v in (
                opts.idle_timeout,
                opts.health_check_interval,
                opts.leak_threshold,
                None if opts.max_lifetime is None else opts.max_lifetime * 0.9,
            )
            if v is not None
        ]
        #: Seconds between rounds: a quarter of the shortest interval, 10 ms - 1 s.
        self.tick = min(1.0, max(0.01, min(intervals, default=1.0) / 4))

    @property
    def running(self) -> bool:
        """True while the background task is alive."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the task if it is not running (idempotent, synchronous)."""
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._task = running_loop().create_task(
                self._run(), name=f"asyncpool-maintenance:{self._pool.name}"
            )

    def forget(self) -> None:
        """Drop the task of a closed event loop (it can never run again); start anew later."""
        self._task = None
        self._wakeup = None
        self._warned.clear()

    def wake(self) -> None:
        """Run a round soon (something changed: a slot freed, the breaker opened)."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def stop(self) -> None:
        """Cancel the task and wait for it, from any task."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            # asyncio.wait never raises the task's own CancelledError; if *we* are
            # cancelled meanwhile, that one propagates as it should.
            await asyncio.wait({task})

    async def _run(self) -> None:
        pool = self._pool
        assert self._wakeup is not None
        while not pool.closed:
            try:
                await self.run_once()
            except Exception:  # upkeep must survive anything a round hits
                log.exception("pool %s: maintenance round failed", pool.name)
            delay = self._probe_delay if pool._breaker_open else self.tick
            wakeup = self._wakeup
            # a timer that sets the event: plain asyncio, no cancel scope to leave
            handle = asyncio.get_running_loop().call_later(delay, wakeup.set)
            try:
                await wakeup.wait()
            finally:
                handle.cancel()
            wakeup.clear()

    async def run_once(self) -> None:
        """One round of upkeep (also callable directly, e.g. from tests)."""
        pool = self._pool
        if pool.closed:
            return
        if pool._breaker_open:
            await self._probe()
            return
        self._probe_delay = pool.options.dial_backoff or 0.05
        self._expire_idle()
        await self._health_check()
        await self._refill()
        self._report_leaks()

    def _expire_idle(self) -> None:
        pool = self._pool
        opts = pool.options
        now = time.monotonic()
        keep = opts.min_idle
        ledger = pool._ledger
        for conn in list(ledger.idle):
            if conn.is_closed or now >= conn.retire_at or conn.generation != pool._generation:
                ledger.remove_idle(conn)
                pool._discard(conn, "retired" if not conn.is_closed else "closed while idle")
            elif (
                opts.idle_timeout is not None
                and now - conn.last_used_at > opts.idle_timeout
                and len(ledger.idle) > keep
            ):
                ledger.remove_idle(conn)
                pool._discard(conn, "idle timeout")

    async def _health_check(self) -> None:
        pool = self._pool
        interval = pool.options.health_check_interval
        if interval is None:
            return
        now = time.monotonic()
        ledger = pool._ledger
        due = [c for c in ledger.idle if now - max(c.last_used_at, c.last_checked_at) >= interval]
        if not due:
            return
        for conn in due:  # out of the idle set while checked, so nobody borrows them
            ledger.remove_idle(conn)
            ledger.transit.add(conn)
        started: set[Connection] = set()
        try:
            async with anyio.create_task_group() as tg:
                for conn in due:
                    tg.start_soon(self._check_one, conn, started)
        finally:
            for conn in due:
                if conn not in started:  # its check was cancelled before it began
                    pool._discard(conn, "health check cancelled")

    async def _check_one(self, conn: Connection, started: set[Connection]) -> None:
        started.add(conn)
        if await self._pool._ping(conn, "health check"):
            self._pool._put_back(conn)

    async def _refill(self) -> None:
        pool = self._pool
        ledger = pool._ledger
        need = pool.options.min_idle - len(ledger.idle) - ledger.dialing
        while need > 0 and ledger.has_room and not pool.closed and not pool._breaker_open:
            need -= 1
            try:
                await pool._dial_into_idle()
            except RedisError as exc:
                pool._throttle.log(
                    "refill", logging.INFO, "pool %s: min_idle refill failed: %s", pool.name, exc
                )
                return

    async def _probe(self) -> None:
        """While the breaker is open: one dial attempt, backing off, until it works."""
        pool = self._pool
        if not pool._ledger.has_room:
            return
        try:
            await pool._dial_into_idle(probe=True)
        except RedisError as exc:
            self._probe_delay = min(self._probe_delay * 2, pool.options.dial_backoff_max)
            log.debug(
                "pool %s: probe failed (%s); next in %.2fs", pool.name, exc, self._probe_delay
            )
            pool._throttle.log(
                "probe",
                logging.WARNING,
                "pool %s: server still unreachable after %.0fs: %s",
                pool.name,
                time.monotonic() - pool._breaker_opened_at,
                exc,
            )
            return

    def _report_leaks(self) -> None:
        pool = self._pool
        threshold = pool.options.leak_threshold
        if threshold is None:
            return
        now = time.monotonic()
        ledger = pool._ledger
        for conn, lent_at in list(ledger.lent.items()):
            if lent_at is not None and now - lent_at > threshold and conn.id not in self._warned:
                self._warned.add(conn.id)
                log.warning(
                    "pool %s: connection #%d held for %.1fs (leak_threshold=%ss); acquired at:\n%s",
                    pool.name,
                    conn.id,
                    now - lent_at,
                    threshold,
                    ledger.lent_stacks.get(conn, "(stack not recorded)"),
                )
        self._warned &= {c.id for c in ledger.lent}
