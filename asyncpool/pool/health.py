"""Checking and cleaning connections that are neither idle nor lent.

:class:`HealthMixin` holds the two repairs of :class:`~asyncpool.Pool`: a
``PING`` before a long-idle connection is lent (borrow check) or while it
idles (health check), and the drain-and-reset of a connection given back with
replies owed or state changed.  Either ends with the connection reusable or
discarded, never lent as it was.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from .._compat import timeout
from .._log_throttle import LogThrottle
from ..connection import Connection
from ..errors import ConnectionError, RedisError
from ..options import PoolOptions
from .ledger import Ledger

__all__ = ["HealthMixin"]

log = logging.getLogger("asyncpool.pool")


class HealthMixin:
    """Pings and repairs connections for :class:`~asyncpool.Pool` (which provides the state)."""

    options: PoolOptions
    name: str
    _errors_total: int
    _ledger: Ledger
    _recovering: set[asyncio.Task[Any]]

    if TYPE_CHECKING:

        @property
        def _throttle(self) -> LogThrottle: ...
        def _discard(self, conn: Connection, why: str) -> None: ...
        def _put_back(self, conn: Connection) -> None: ...

    async def _ping(self, conn: Connection, check: str) -> bool:
        """PING ``conn``; on failure discard it and return False.

        A check is not a use: ``last_used_at`` is kept, so ``idle_timeout``
        still closes a connection that only the health check touches.
        """
        used = conn.last_used_at
        try:
            await conn.execute_command("PING", timeout=min(1.0, 2 * self.options.drain_timeout))
        except RedisError as exc:
            self._errors_total += 1
            self._throttle.log(
                ("check", check),
                logging.WARNING,
                "pool %s: %s failed on %r: %s",
                self.name,
                check,
                conn,
                exc,
            )
            self._discard(conn, f"{check} failed: {exc.__class__.__name__}")
            return False
        except BaseException:
            self._discard(conn, f"cancelled during {check}")
            raise
        conn.last_used_at = used
        conn.last_checked_at = time.monotonic()
        return True

    def _spawn_recovery(self, conn: Connection) -> None:
        self._ledger.transit.add(conn)  # until _recover puts it back or discards it
        task = asyncio.ensure_future(self._recover(conn))
        self._recovering.add(task)
        task.add_done_callback(partial(self._recovery_done, conn))

    def _recovery_done(self, conn: Connection, task: asyncio.Task[None]) -> None:
        self._recovering.discard(task)
        if task.cancelled() and conn in self._ledger.transit:
            # cancelled before it ran (a pool closing): _recover never saw it
            self._discard(conn, "clean-up cancelled")

    async def _recover(self, conn: Connection) -> None:
        """Drain replies owed to departed callers, reset dirty state, then reuse."""
        try:
            async with timeout(self.options.drain_timeout):
                await conn.protocol.wait_drained()
                if conn.is_subscribed:
                    raise ConnectionError("subscribed connections are not reused")
                if conn.is_dirty:
                    await conn.reset()
        except BaseException as exc:
            self._discard(conn, f"could not be cleaned: {exc.__class__.__name__}")
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        if conn.is_closed:
            self._discard(conn, "broken")
        else:
            self._put_back(conn)
