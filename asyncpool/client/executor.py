"""Executors: what a :class:`~asyncpool.Redis` client runs its commands on.

The client holds an :class:`Executor`, never a pool.  :class:`PoolExecutor`
(one pool) is today's; a cluster executor (a pool per node, chosen by key
slot) and a Sentinel executor (a pool whose dialer follows the master) are
others.  Each is a :class:`~asyncpool.client.executing.RetryingExecutor`, so
retry, the overall deadline and the observer wrap one whole operation once;
see :mod:`asyncpool.client.executing` for the loop and its redirect hooks.

The hot path of :class:`PoolExecutor` is "one connection per awaited
command": lend an idle connection without awaiting, write, await the reply,
give the connection back.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from ..command import Command
from .executing import Lender, Operation, RetryingExecutor, within_deadline
from .retry import Retry

if TYPE_CHECKING:
    from ..pool import AcquireContext, Pool, PoolObserver

__all__ = ["Executor", "PoolExecutor", "within_deadline"]


class Executor(Protocol):
    """What the client needs from whatever runs its commands.

    ``run`` is called for every command, batch and first ``WATCH``;
    ``acquire`` pins one connection (``redis.connection()``, a ``WATCH``ed
    transaction) for the node that owns ``command``'s keys when that matters.
    """

    #: The retry policy applied by :meth:`run`.
    retry: Retry

    def run(self, op: Operation) -> Coroutine[Any, Any, Any]:
        """The coroutine that runs ``op`` once, with retries, deadline and observer."""

    def wrap(self, command: Command, coro: Coroutine[Any, Any, Any]) -> Coroutine[Any, Any, Any]:
        """``coro`` under the same deadline and observer as :meth:`run` gives an operation."""

    def acquire(self, command: Command | None = None) -> AcquireContext:
        """``async with executor.acquire() as lease``: a connection pinned to the caller."""

    async def open(self) -> None:
        """Start background work and pre-warm connections."""

    async def aclose(self) -> None:
        """Close every pool this executor owns."""


class PoolExecutor(RetryingExecutor):
    """Runs everything on one :class:`~asyncpool.Pool`."""

    __slots__ = ("pool",)

    def __init__(self, pool: Pool, retry: Retry) -> None:
        super().__init__(retry, pool.sharing)
        #: The one pool.
        self.pool = pool

    def __repr__(self) -> str:
        return f"<PoolExecutor {self.pool!r}>"

    def run(self, op: Operation) -> Coroutine[Any, Any, Any]:
        """The coroutine that runs ``op`` (see :meth:`RetryingExecutor.run`)."""
        pool = self.pool
        if self.retry.deadline is None:  # the hot path: one coroutine frame
            observer = pool._observer
            if observer is None:
                return self._attempts(op, pool)
            return self._attempts(op, pool, observer, pool)
        return self.wrap(op.command, self._attempts(op, pool))

    def _route(self, op: Operation) -> Lender:
        return self.pool

    def _observer(self) -> tuple[Pool, PoolObserver] | None:
        observer = self.pool.observer
        return None if observer is None else (self.pool, observer)

    def acquire(self, command: Command | None = None) -> AcquireContext:
        """A lease on one connection of the pool (see :meth:`Pool.acquire`)."""
        return self.pool.acquire()

    async def open(self) -> None:
        """Open the pool (pre-warm ``min_idle``)."""
        await self.pool.open()

    async def aclose(self) -> None:
        """Close the pool."""
        await self.pool.close()
