"""Waiting for a connection: the FIFO turn of a caller who found none free.

:class:`WaitingMixin` holds the part of :class:`~asyncpool.Pool` where a
caller queues.  Its future in the ledger's ``waiters`` gets a connection (handed
straight over, no barging) or ``None`` (a permit to dial a freed slot); a caller
that leaves after being handed something passes it on, so nothing is stranded.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..connection import Connection
from ..errors import PoolTimeout
from .observer import PoolObserver

if TYPE_CHECKING:
    from collections import deque

    from ..options import ConnectionOptions
    from .ledger import Ledger
    from .stats import PoolStats

__all__ = ["WaitingMixin"]


class WaitingMixin:
    """Queues callers of :class:`~asyncpool.Pool` (which provides the state)."""

    name: str
    connection_options: ConnectionOptions
    _ledger: Ledger
    _waiters: deque[asyncio.Future[Connection | None]]
    _observer: PoolObserver | None
    _acquire_timeouts_total: int

    if TYPE_CHECKING:

        def _put_back(self, conn: Connection) -> None: ...
        def _grant_permits(self) -> None: ...
        def _stats_text(self) -> str: ...
        def stats(self) -> PoolStats: ...

    async def _wait_turn(
        self, loop: asyncio.AbstractEventLoop, remaining: float | None, started: float
    ) -> Connection | None:
        fut: asyncio.Future[Connection | None] = loop.create_future()
        self._waiters.append(fut)
        handle = None if remaining is None else loop.call_later(remaining, _time_out, fut)
        try:
            return await fut
        except BaseException as exc:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self._pass_on(fut.result())  # handed to us as we left: give it on
            else:
                try:
                    self._waiters.remove(fut)
                except ValueError:
                    pass
            if isinstance(exc, _WaitTimeout):
                self._acquire_timeouts_total += 1
                if self._observer is not None:
                    self._observer.on_acquire_timeout(self)
                raise PoolTimeout(
                    f"no connection available from pool {self.name} within "
                    f"{loop.time() - started:.3g}s: {self._stats_text()}"
                ) from None
            raise
        finally:
            if handle is not None:
                handle.cancel()

    def _pass_on(self, item: Connection | None) -> None:
        if item is None:
            self._ledger.free()
            self._grant_permits()
        else:
            self._put_back(item)


class _WaitTimeout(PoolTimeout):
    """Internal marker set on a waiter's future when acquire_timeout expires."""


def _time_out(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_exception(_WaitTimeout())
