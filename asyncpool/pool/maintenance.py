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
from typing import TYPE_CHECKING

import anyio

from .._compat import running_loop
from ..connection import Connection
from ..errors import RedisError

if TYPE_CHECKING:
    from .pool import Pool

__all__ = ["Maintenance"]

log = logging.getLogger("asyncpool.pool")


class Maintenance:
    """Runs the periodic upkeep of one pool while the pool is open."""

    def __init__(self, pool: Pool) -> None:
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
        for conn in list(pool._idle):
            if conn.is_closed or now >= conn.retire_at or conn.generation != pool._generation:
                pool._idle.remove(conn)
                pool._discard(conn, "retired" if not conn.is_closed else "closed while idle")
            elif (
                opts.idle_timeout is not None
                and now - conn.last_used_at > opts.idle_timeout
                and len(pool._idle) > keep
            ):
                pool._idle.remove(conn)
                pool._discard(conn, "idle timeout")

    async def _health_check(self) -> None:
        pool = self._pool
        interval = pool.options.health_check_interval
        if interval is None:
            return
        now = time.monotonic()
        due = [c for c in pool._idle if now - max(c.last_used_at, c.last_checked_at) >= interval]
        if not due:
            return
        for conn in due:  # out of the idle set while checked, so nobody borrows them
            pool._idle.remove(conn)
        async with anyio.create_task_group() as tg:
            for conn in due:
                tg.start_soon(self._check_one, conn)

    async def _check_one(self, conn: Connection) -> None:
        if await self._pool._ping(conn, "health check"):
            self._pool._put_back(conn)

    async def _refill(self) -> None:
        pool = self._pool
        need = pool.options.min_idle - len(pool._idle) - pool._dialing
        while need > 0 and pool._total < pool._max and not pool.closed and not pool._breaker_open:
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
        if pool._total >= pool._max:
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
        for conn, lent_at in list(pool._lent.items()):
            if lent_at is not None and now - lent_at > threshold and conn.id not in self._warned:
                self._warned.add(conn.id)
                log.warning(
                    "pool %s: connection #%d held for %.1fs (leak_threshold=%ss); acquired at:\n%s",
                    pool.name,
                    conn.id,
                    now - lent_at,
                    threshold,
                    pool._lent_stacks.get(conn, "(stack not recorded)"),
                )
        self._warned &= {c.id for c in pool._lent}
