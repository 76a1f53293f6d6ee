"""The one retry loop: how any executor runs one operation, with its deadline and observer.

An *operation* is what the client asks to run as one unit: a single
:class:`~asyncpool.command.Command`, a pipeline or transaction batch, or the
first ``WATCH`` of a transaction (which keeps its connection).  Whatever the
operation and whatever the executor (one pool, a cluster, a Sentinel-resolved
pool), :meth:`RetryingExecutor.run` wraps it exactly once in

1. the observer (the whole operation timed, retries and redirects included),
2. the retry policy's overall deadline (never restarted by a retry or redirect),
3. :meth:`RetryingExecutor._attempts`, the loop below: lend a connection,
   write, await the reply, give the connection back; on a connection error
   repeat only what is safe to repeat (:attr:`Operation.retry_safe`), never
   a write whose outcome is unknown.

Hooks for an executor with several pools (cluster), documented for whoever
writes one:

* :meth:`RetryingExecutor._route` picks the lender (pool) for an operation;
  it is asked again before every retry, so a changed topology is followed.
* :meth:`RetryingExecutor._redirect` (a coroutine: it may refresh the slot
  map or ask the sentinels) sees every error reply first.  Returning
  a :class:`Redirect` (for ``MOVED``: the new owner's pool; for ``ASK``: the
  importing node's pool and ``prelude=Command(("ASKING",))``) sends the
  operation again there, within the same deadline and without counting a
  retry attempt; the prelude is written on the same connection just before the
  operation.  A redirect reply means the server did not run the command, so a
  write is never repeated by it.  At most :attr:`RetryingExecutor.max_redirects`
  redirects are followed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any, Protocol, cast

from .._compat import TIMEOUT_ERRORS, timeout
from ..command import Command, command_name
from ..errors import ConnectionError, OutcomeUnknownError, RedisError, TimeoutError
from ..transport import Rerouted
from .retry import Retry

if TYPE_CHECKING:
    from ..connection import Connection
    from ..pool import Pool, PoolObserver
    from ..pool.sharing import Sharing

__all__ = [
    "Lender",
    "Operation",
    "PinningOperation",
    "Redirect",
    "RetryingExecutor",
    "observed",
    "within_deadline",
]


class Lender(Protocol):
    """Where connections come from: :class:`~asyncpool.Pool`'s public lending API."""

    def try_lend(self) -> Connection | None:
        """A connection at once, without awaiting, or ``None``.

        :class:`~asyncpool.Pool` also takes ``try_lend(False)``: an untimed
        lease, whose use time the caller reports to the observer itself (see
        :meth:`RetryingExecutor._attempts`); it is asked only of the pool whose
        observer times the operation.
        """

    async def lend(self) -> Connection:
        """A connection, waiting for one (``acquire_timeout`` applies)."""

    def give_back(self, conn: Connection) -> None:
        """Take a lent connection back (synchronous, so it cannot be cut short)."""

    async def release(self, conn: Connection) -> None:
        """Like :meth:`give_back`, awaiting the pool's ``on_release`` hook."""


class Operation(Protocol):
    """One unit an executor runs and may repeat.  :class:`~asyncpool.command.Command` is one."""

    #: May be sent again after a connection error even if it reached the server.
    retry_safe: bool
    #: True when a successful operation keeps its connection (see :meth:`adopt`).
    pins_connection: bool

    @property
    def command(self) -> Command:
        """The command that names it to observers and in errors (``PIPELINE`` for a batch)."""

    def send(self, conn: Connection) -> Awaitable[Any]:
        """Write it on ``conn`` and await the reply; error replies are returned, not raised."""

    def result(self, reply: Any) -> Any:
        """The caller's result from a reply that is not an error."""


class PinningOperation(Operation, Protocol):
    """An operation with ``pins_connection``: it takes ownership of its connection."""

    def adopt(self, conn: Connection, lender: Lender) -> None:
        """Keep ``conn`` after success; the operation gives it back to ``lender`` later."""


@dataclass(frozen=True)
class Redirect:
    """Where to send an operation again after a redirect reply (MOVED, ASK)."""

    #: The pool of the node that owns the key now.
    lender: Lender
    #: Written on the same connection just before the operation (``ASKING``).
    prelude: Command | None = None


class RetryingExecutor:
    """Base of executors: the retry loop, deadline and observer, around hooks.

    Subclasses provide :meth:`_route` (and may override :meth:`_redirect` and
    :meth:`_observer`).  ``retry`` is the :class:`~asyncpool.Retry` policy.
    """

    __slots__ = ("_sharing", "retry")

    #: Redirects followed for one operation before the last error reply is raised.
    max_redirects = 5

    def __init__(self, retry: Retry, sharing: Sharing | None = None) -> None:
        self.retry = retry
        #: The shared-connection policy (``multiplex=True`` pools): plain
        #: commands it accepts ride a shared connection instead of a lent one.
        self._sharing = sharing

    # -- hooks ---------------------------------------------------------------------------
    def _route(self, op: Operation) -> Lender:
        """The lender (pool) that should run ``op``."""
        raise NotImplementedError

    async def _redirect(self, op: Operation, error: RedisError) -> Redirect | None:
        """Where to send ``op`` after the error reply ``error``, or ``None`` to raise it.

        Awaited only for error replies (never on the hot path), so it may
        refresh a topology or ask the sentinels first; the overall deadline
        keeps running meanwhile.
        """
        return None

    def _observer(self) -> tuple[Pool, PoolObserver] | None:
        """The pool and observer that time operations, if any."""
        return None

    # -- running -------------------------------------------------------------------------
    def run(self, op: Operation) -> Coroutine[Any, Any, Any]:
        """The coroutine that runs ``op`` to its result (retries, deadline, observer).

        One coroutine frame on the hot path, observed or not; a deadline adds one.
        """
        lender = self._route(op)
        if self.retry.deadline is None:
            observing = self._observer()
            if observing is None:
                return self._attempts(op, lender)
            return self._attempts(op, lender, observing[1], observing[0])
        return self.wrap(op.command, self._attempts(op, lender))

    def wrap(self, command: Command, coro: Coroutine[Any, Any, Any]) -> Coroutine[Any, Any, Any]:
        """``coro`` under the overall deadline and the observer, named by ``command``.

        For an operation that runs outside :meth:`run` (a transaction on a
        connection pinned by WATCH), so it is bounded and observed the same way.
        """
        deadline = self.retry.deadline
        if deadline is not None:
            coro = within_deadline(deadline, command, coro)
        observing = self._observer()
        if observing is not None:
            coro = observed(observing[0], observing[1], command, coro)
        return coro

    async def _attempts(
        self,
        op: Operation,
        lender: Lender,
        observer: PoolObserver | None = None,
        observed_pool: Pool | None = None,
    ) -> Any:
        """The retry loop, starting on ``lender`` (``_route(op)``).

        With ``observer``, the whole loop is timed for it in this frame (what
        :func:`observed` does around a coroutine, without a second frame on an
        instrumented pool's hot path).  The same two clock reads time the
        first lease of a plain command when it is lent at once (``try_lend``):
        the pool leaves that lease untimed and its use time is the command's
        duration, reported here (:meth:`PoolObserver.on_use`).  It includes the
        checkout and check-in themselves, a microsecond or two.

        A plain command that succeeds on any other lease (shared mode's rides
        above all) is appended to its :class:`~asyncpool.DurationBatch` right
        where it returns, which leaves the ``finally`` block nothing to do:
        the fewest bytecodes for the busiest observed path.  Everything else
        (failures, batches, names the observer has no batch for) reaches the
        observer from the ``finally`` block.
        """
        started = perf_counter() if observer is not None else 0.0
        error: BaseException | None = None
        plain = op.__class__ is Command  # the common case, sent without indirection
        untimed = False  # a lease this frame reports, not yet reported
        try:
            retry = self.retry
            prelude: Command | None = None
            attempt = 1
            redirects = 0
            sharing = self._sharing
            if sharing is not None and (not plain or op.info.exclusive):  # type: ignore[attr-defined]
                sharing = None  # batches, WATCH, per-call timeouts, stateful or blocking commands
            #: False while this frame may time a lease itself: a plain command, observed on
            #: its lender, not riding (leases after a redirect are the pool's to time).
            lease_timed = (
                sharing is not None or observer is None or not plain or lender is not observed_pool
            )
            while True:
                sent = False
                try:
                    if sharing is not None:  # held for the write only (see pool/sharing.py)
                        ride = sharing.ride(op) or await sharing.board(op)  # type: ignore[arg-type]
                        sent = True
                        try:  # awaited here, not in a coroutine of Sharing: one frame less
                            reply = await ride[1]
                        except Rerouted as moved:  # a large reply ahead: see Sharing.follow
                            ride, reply = await sharing.follow(op, ride, moved)  # type: ignore[arg-type]
                        except BaseException as exc:
                            sharing.abandoned(ride, exc)
                            raise
                        if ride is sharing.alone:  # a lone caller, and nobody rode behind it
                            sharing.finished_alone(ride)
                        elif sharing.room is not None:  # callers wait for room: wake them
                            sharing.replied()
                    else:
                        # the hot path: no coroutine when one is idle (any Lender takes
                        # try_lend(); only the observed pool is asked for an untimed lease)
                        conn = lender.try_lend() if lease_timed else lender.try_lend(False)  # type: ignore[call-arg]
                        if conn is None:
                            conn = await lender.lend()
                            lease_timed = True  # later leases (retries, redirects): the pool's
                        elif not lease_timed:
                            untimed = lease_timed = True
                        try:
                            sent = True
                            if prelude is not None:
                                await conn.send_command(prelude)
                            if plain:
                                reply = await conn.send_command(op)  # type: ignore[arg-type]
                            else:
                                reply = await op.send(conn)
                        except BaseException:
                            lender.give_back(conn)
                            raise
                        if op.pins_connection and not isinstance(reply, RedisError):
                            cast("PinningOperation", op).adopt(conn, lender)  # it gives it back
                        else:
                            lender.give_back(conn)
                except ConnectionError as exc:
                    if sent and not exc.request_not_sent and not op.retry_safe:
                        raise OutcomeUnknownError(
                            f"connection failed after {op.command.name} was sent; the server"
                            f" may or may not have applied it ({exc})"
                        ) from exc
                    if attempt >= retry.attempts:
                        raise
                except TimeoutError:
                    if not sent or not retry.retry_on_timeout or attempt >= retry.attempts:
                        raise
                    if not op.retry_safe:
                        raise
                else:
                    if isinstance(reply, RedisError):
                        redirect = await self._redirect(op, reply)
                        if redirect is None or redirects >= self.max_redirects:
                            raise reply
                        redirects += 1
                        if untimed:  # the first lease ended; the operation goes on
                            untimed = _report_use(observer, observed_pool, started)
                        lender, prelude = redirect.lender, redirect.prelude
                        sharing = None  # another lender, maybe a prelude: an exclusive connection
                        continue
                    if plain:
                        callback = op.callback  # type: ignore[attr-defined]
                        if observer is None:
                            return reply if callback is None else callback(reply)
                        result = reply if callback is None else callback(reply)
                        # (an untimed lease with on_command: one call, from the finally block)
                        if not untimed or observed_pool._on_command is None:  # type: ignore[union-attr]
                            try:  # the busiest observed path (shared rides), recorded here
                                # a BatchingObserver's batch by name (an empty mapping otherwise)
                                batch = observed_pool._batches.get(op.args[0])  # type: ignore[union-attr, attr-defined]
                            except TypeError:  # an unhashable name: the observer's own path
                                batch = None
                            if batch is not None:  # appended to without a call
                                seconds = perf_counter() - started
                                pending = batch.pending
                                pending.append(seconds)
                                if len(pending) >= batch.fold_at:
                                    batch.fold()
                                if untimed:  # the lease ended just before the operation did
                                    observer.on_use(observed_pool, seconds)  # type: ignore[arg-type]
                                observer = None  # recorded: nothing left for the finally block
                        return result
                    return op.result(reply)
                if untimed:  # the first lease ended; the operation goes on
                    untimed = _report_use(observer, observed_pool, started)
                await asyncio.sleep(retry.delay(attempt))
                attempt += 1
                lender, prelude = self._route(op), None
        except BaseException as exc:
            error = exc
            raise
        finally:
            if observer is not None:
                seconds = perf_counter() - started
                command: Command = op if plain else op.command  # type: ignore[assignment]
                pool: Any = observed_pool
                if untimed and pool._on_command is not None:  # the command and its lease
                    pool._on_command(pool, command, seconds, error)
                else:  # failed, a batch, or not a BatchingObserver's name
                    observer.on_operation(pool, command, seconds, error)
                    if untimed:  # the lease ended just before the operation did
                        observer.on_use(pool, seconds)
                error = None  # no cycle through the traceback


def _report_use(observer: PoolObserver | None, pool: Pool | None, started: float) -> bool:
    """Report an untimed lease that began at ``started`` and ended now; ``False``: reported."""
    if observer is not None and pool is not None:
        observer.on_use(pool, perf_counter() - started)
    return False


async def observed(
    pool: Pool, observer: PoolObserver, command: Command, coro: Coroutine[Any, Any, Any]
) -> Any:
    """Await ``coro``, timing the whole operation (retries included) for the observer."""
    started = perf_counter()
    error: BaseException | None = None
    try:
        return await coro
    except BaseException as exc:
        error = exc
        raise
    finally:
        observer.on_operation(pool, command, perf_counter() - started, error)


async def within_deadline(
    deadline: float, command: Command | Sequence[Any], coro: Coroutine[Any, Any, Any]
) -> Any:
    """Await ``coro`` under the retry policy's overall deadline (``command`` names it)."""
    try:
        async with timeout(deadline):
            return await coro
    except TIMEOUT_ERRORS as exc:
        if isinstance(exc, RedisError):
            raise
        name = command.name if isinstance(command, Command) else command_name(command)
        raise TimeoutError(f"{name} did not complete within the {deadline}s deadline") from None
