"""What a pool shows of itself: stats, connections, observer, the invariant check.

:class:`IntrospectionMixin` is the read-only face of :class:`~asyncpool.Pool`
(plus installing the observer); everything it reports comes from the pool's
:class:`~asyncpool.pool.ledger.Ledger` and counters, without a lock or an await.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..connection import Connection, ConnectionInfo
from ..options import PoolOptions
from .ledger import InvariantError, Ledger
from .observer import NO_BATCHES, DurationBatch, OnCommand, PoolObserver
from .stats import PoolStats

if TYPE_CHECKING:
    from collections import deque

    from .sharing import Sharing

__all__ = ["IntrospectionMixin"]


class IntrospectionMixin:
    """Stats and checks of :class:`~asyncpool.Pool` (which provides the state)."""

    name: str
    options: PoolOptions
    _max: int
    _ledger: Ledger
    _idle: deque[Connection]
    _lent: dict[Connection, float | None]
    _waiters: deque[asyncio.Future[Connection | None]]
    _closed: bool
    _breaker_open: bool
    _sharing: Sharing | None
    _observer: PoolObserver | None
    _on_command: OnCommand | None
    _batches: Mapping[Any, DurationBatch]
    _created_total: int
    _closed_total: int
    _acquired_total: int
    _acquire_timeouts_total: int
    _errors_total: int
    _wait_time_total: float

    def stats(self) -> PoolStats:
        """A snapshot of the pool's gauges and counters (no lock, no await)."""
        return PoolStats(
            name=self.name,
            max_connections=self._max,
            min_idle=self.options.min_idle,
            max_idle=self.options.max_idle,
            total=self._ledger.total,
            idle=len(self._idle),
            in_use=len(self._lent),
            waiting=len(self._waiters),
            dialing=self._ledger.dialing,
            created_total=self._created_total,
            closed_total=self._closed_total,
            acquired_total=self._acquired_total,
            acquire_timeouts_total=self._acquire_timeouts_total,
            errors_total=self._errors_total,
            wait_time_total_s=self._wait_time_total,
            breaker_open=self._breaker_open,
            closed=self._closed,
        )

    def connections(self) -> list[ConnectionInfo]:
        """Metadata of every idle and lent connection."""
        return [c.info() for c in (*self._idle, *self._lent)]

    @property
    def sharing(self) -> Sharing | None:
        """The shared-connection mode (``multiplex=True``; its ``stats()``), else ``None``."""
        return self._sharing

    @property
    def observer(self) -> PoolObserver | None:
        """The installed metrics observer, if any."""
        return self._observer

    def set_observer(self, observer: PoolObserver | None) -> None:
        """Install (or remove) the metrics observer; see :class:`PoolObserver`."""
        self._observer = observer
        #: Its optional one-call method (:class:`~asyncpool.pool.observer.CommandObserver`).
        self._on_command = getattr(observer, "on_command", None)
        #: Its optional batches (:class:`~asyncpool.pool.observer.BatchingObserver`).
        #: (An empty mapping when it has none: the executor looks names up unconditionally.)
        batches = getattr(observer, "operation_batches", None)
        self._batches = NO_BATCHES if batches is None else batches

    def check_invariants(self, *, settled: bool = False) -> None:
        """Raise :class:`~asyncpool.pool.ledger.InvariantError` if the bookkeeping is broken.

        Always: ``total <= max_connections`` and every connection in exactly one
        place.  ``settled=True`` also wants nothing in flight (no dial, check,
        clean-up or waiter), as after :meth:`close` once every lease came back.
        """
        self._ledger.check(settled=settled)
        if settled and self._closed and (self._idle or self._lent):
            raise InvariantError("pool bookkeeping broken: a closed pool still holds connections")

    def _stats_text(self) -> str:
        return self._ledger.describe()
