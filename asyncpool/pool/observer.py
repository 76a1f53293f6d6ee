"""The hook through which metrics (e.g. :mod:`asyncpool.otel`) watch a pool.

A pool with no observer pays one ``is None`` test on its slow paths and at
check-in; gauges are read from :meth:`Pool.stats` instead of being pushed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from .stats import PoolStats

if TYPE_CHECKING:
    from ..command import Command
    from ..options import ConnectionOptions

__all__ = [
    "NO_BATCHES",
    "BatchingObserver",
    "CommandObserver",
    "DurationBatch",
    "ObservedPool",
    "OnCommand",
    "PoolObserver",
]


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
        """A connection was lent for ``seconds`` and came back.

        The pool reports it at check-in; for a lease lent with
        ``try_lend(timed=False)`` (a plain command's own lease) the executor
        does, with the command's duration.
        """

    def on_operation(
        self, pool: ObservedPool, command: Command, seconds: float, error: BaseException | None
    ) -> None:
        """A client operation on this pool finished (``error`` set when it raised).

        ``command.name`` is the upper-case command name (``PIPELINE`` or
        ``MULTI`` for a batch); ``command[0]`` is the name as given.  Never
        record the other arguments (they hold keys, values and possibly secrets).
        """


#: The type of :meth:`CommandObserver.on_command` (a pool keeps the bound method).
OnCommand = Callable[["ObservedPool", "Command", float, "BaseException | None"], None]


class CommandObserver(PoolObserver, Protocol):
    """A :class:`PoolObserver` that also takes a command and its lease in one call.

    Optional: when the installed observer has ``on_command``, the executor
    calls it, once, for a command that held one connection, lent at once,
    for all of its run (the common case), instead of :meth:`on_operation`
    followed by :meth:`on_use`.  Observers without it get those two calls.
    """

    def on_command(
        self, pool: ObservedPool, command: Command, seconds: float, error: BaseException | None
    ) -> None:
        """Record what ``on_operation(pool, command, seconds, error)`` and
        ``on_use(pool, seconds)`` would."""


class DurationBatch(Protocol):
    """Durations of one command name that a batching observer folds in itself.

    The executor appends a successful operation's ``seconds`` to
    :attr:`pending` and calls :meth:`fold` once it holds :attr:`fold_at`
    values; only the event loop's thread appends.
    """

    #: Seconds not folded in yet, oldest first.
    pending: list[float]
    #: :meth:`fold` is due once :attr:`pending` holds this many.
    fold_at: int

    def fold(self) -> None:
        """Fold :attr:`pending` into the observer's aggregates and empty it."""


class BatchingObserver(PoolObserver, Protocol):
    """A :class:`PoolObserver` whose successful operations need no call at all.

    Optional: when the installed observer has ``operation_batches``, the
    executor looks a finished operation up there by ``command[0]`` (the name
    as given) and, when it succeeded and its name is there, appends its
    duration to that :class:`DurationBatch` instead of calling
    :meth:`~PoolObserver.on_operation`.  Failed operations, and names not in
    the mapping (the observer may add them as it meets them), still get
    ``on_operation``.  The pool reads the attribute when the observer is
    installed, so the mapping must stay the same object.
    """

    #: Batches by the name as given (``command[0]``).
    operation_batches: Mapping[Any, DurationBatch]


#: The batches of an observer that has none (read-only, so nothing is ever appended to it).
NO_BATCHES: Mapping[Any, DurationBatch] = MappingProxyType({})
