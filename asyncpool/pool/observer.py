"""The hook through which metrics (e.g. :mod:`asyncpool.otel`) watch a pool.

A pool with no observer pays one ``is None`` test on its slow paths and at
check-in; gauges are read from :meth:`Pool.stats` instead of being pushed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .stats import PoolStats

if TYPE_CHECKING:
    from ..command import Command
    from ..options import ConnectionOptions

__all__ = ["ObservedPool", "PoolObserver"]


class ObservedPool(Protocol):
    """What an observer may read from the pool it is told about (a :class:`~asyncpool.Pool`)."""

    name: str
    connection_options: ConnectionOptions

    def stats(self) -> PoolStats: ...


class PoolObserver(Protocol):
    """Receives timings from a pool; every method must be fast and never raise."""

    def on_wait(self, pool: ObservedPool, seconds: float) -> None:
        """A caller waited ``seconds`` in the queue for a connection."""

    def on_acquire_timeout(self, pool: ObservedPool) -> None:
        """A caller gave up waiting (``acquire_timeout``)."""

    def on_connection_created(self, pool: ObservedPool, seconds: float) -> None:
        """A new connection was opened; dial plus handshake took ``seconds``."""

    def on_use(self, pool: ObservedPool, seconds: float) -> None:
        """A connection was lent for ``seconds`` and came back."""

    def on_operation(
        self, pool: ObservedPool, command: Command, seconds: float, error: BaseException | None
    ) -> None:
        """A client operation on this pool finished (``error`` set when it raised).

        ``command.name`` is the upper-case command name (``PIPELINE`` or
        ``MULTI`` for a batch); ``command[0]`` is the name as given.  Never
        record the other arguments (they hold keys, values and possibly secrets).
        """
