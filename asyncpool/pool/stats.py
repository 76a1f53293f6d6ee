"""Pool statistics: a frozen snapshot taken without a lock or an await."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PoolStats"]


@dataclass(frozen=True)
class PoolStats:
    """Counters and gauges of one :class:`~asyncpool.Pool`, at one instant.

    Gauges: ``total`` open connections (idle + in use + dialing), ``idle``,
    ``in_use`` (lent to callers), ``waiting`` callers queued for a connection,
    ``dialing`` connections being opened.  Counters (``*_total``) only grow;
    ``wait_time_total_s`` adds up the time callers not served at once from the
    idle set spent getting a connection (queueing, dialing, a borrow check).
    """

    name: str
    max_connections: int
    min_idle: int
    max_idle: int | None
    total: int
    idle: int
    in_use: int
    waiting: int
    dialing: int
    created_total: int
    closed_total: int
    acquired_total: int
    acquire_timeouts_total: int
    errors_total: int
    wait_time_total_s: float
    breaker_open: bool
    closed: bool
