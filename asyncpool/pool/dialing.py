"""Dialing new connections: the dialer, retries with backoff, the circuit breaker, adoption.

:class:`DialingMixin` holds the part of :class:`~asyncpool.Pool` that opens
connections.  A slot is always reserved in the ledger before a dial starts and
given back on failure, so the bound holds while dials are in flight.

Where a new connection goes is the *dialer*'s choice: ``Pool(dialer=...)``
takes an async callable returning the address (``(host, port)``) or the
whole :class:`~asyncpool.ConnectionOptions` of the next connection; without
one every connection goes to the pool's own ``connection_options``.
Sentinel uses it to dial whatever the sentinels name as the primary.  After
the handshake the ``on_connect`` hook may vet the connection and reject it by
raising a :class:`~asyncpool.ConnectionError` (Sentinel's
:class:`~asyncpool.StalePrimaryError`): that dial counts as failed and is
retried with backoff, asking the dialer again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from .._log_throttle import LogThrottle
from ..connection import Connection
from ..errors import ConnectionError, PoolClosed, TimeoutError
from ..options import ConnectionOptions, PoolOptions
from .observer import PoolObserver

if TYPE_CHECKING:
    from .ledger import Ledger


class _Wakes(Protocol):
    def wake(self) -> None: ...


__all__ = ["DialTarget", "Dialer", "DialingMixin", "Hook"]

log = logging.getLogger("asyncpool.pool")

#: An async callback given a connection (``on_connect``, ``on_acquire``, ``on_release``).
Hook = Callable[[Connection], Awaitable[None]]
#: Where a dialer sends the next connection: ``(host, port)`` (the pool's other
#: connection options apply) or complete connection options.
DialTarget = tuple[str, int] | ConnectionOptions
#: Decides where each new connection goes; raising ConnectionError fails that dial.
Dialer = Callable[[], Awaitable[DialTarget]]


class DialingMixin:
    """Opens connections for :class:`~asyncpool.Pool` (which provides the state)."""

    options: PoolOptions
    connection_options: ConnectionOptions
    name: str
    _closed: bool
    _ledger: Ledger
    _generation: int
    _breaker_open: bool
    _consecutive_dial_failures: int
    _last_dial_error: BaseException | None
    _created_total: int
    _errors_total: int
    _recovering: set[asyncio.Task[Any]]
    _waiters: deque[asyncio.Future[Connection | None]]
    _on_connect: Hook | None
    _dialer: Dialer | None
    _observer: PoolObserver | None
    _maintenance: _Wakes
    _breaker_opened_at: float = 0.0
    _log_throttle: LogThrottle | None = None

    @property
    def _throttle(self) -> LogThrottle:
        """This pool's repeat limiter for log records (made on first use)."""
        throttle = self._log_throttle
        if throttle is None:
            throttle = self._log_throttle = LogThrottle(log)
        return throttle

    if TYPE_CHECKING:

        def _put_back(self, conn: Connection) -> None: ...
        def _grant_permits(self) -> None: ...
        def _on_lost(self, conn: Connection, reason: BaseException | None) -> None: ...

    async def _dial_reserved(self, started: float, wait: Any) -> Connection:
        """Dial into a slot already reserved in the ledger.

        The dial runs in its own task: a caller cancelled mid-dial leaves it to
        finish, and the new connection goes to the next waiter or the idle set,
        so a storm of cancellations does not become a storm of new connections.
        """
        deadline = None if wait is None else started + wait
        self._ledger.dialing += 1
        task = asyncio.ensure_future(self._dial(deadline))
        task.add_done_callback(self._dial_done)
        self._recovering.add(task)
        try:
            # asyncio.wait, not shield: a dial cancelled by close() must not look
            # like a cancellation of this caller, who was never cancelled.
            await asyncio.wait((task,))
        except asyncio.CancelledError:
            if task.done():
                if not task.cancelled() and task.exception() is None:
                    self._put_back(task.result())
            else:
                task.add_done_callback(self._adopt)
            raise
        if task.cancelled():
            if self._closed:
                raise PoolClosed(f"pool {self.name} was closed while connecting")
            raise ConnectionError(f"pool {self.name}: connecting was cancelled")
        return task.result()

    def _dial_done(self, task: asyncio.Task[Connection]) -> None:
        self._ledger.dialing -= 1
        self._recovering.discard(task)
        if task.cancelled() or task.exception() is not None:
            self._ledger.free()
            self._grant_permits()

    def _adopt(self, task: asyncio.Task[Connection]) -> None:
        """A dial finished after its caller left: the connection serves someone else."""
        if not task.cancelled() and task.exception() is None:
            self._put_back(task.result())

    async def _dial(
        self, deadline: float | None, attempts: int | None = None, probe: bool = False
    ) -> Connection:
        opts = self.options
        attempts = attempts or opts.dial_attempts
        loop = asyncio.get_running_loop()
        last: BaseException | None = None
        for attempt in range(attempts):
            if self._breaker_open and not probe:
                raise ConnectionError(
                    f"pool {self.name}: server unreachable, failing fast until it answers"
                    f" again (last error: {self._last_dial_error})"
                ) from self._last_dial_error
            begun = loop.time()
            conn = None
            try:
                conn = Connection(await self._dial_target())
                await conn.connect()
                if self._on_connect is not None:
                    await self._on_connect(conn)
            except (ConnectionError, TimeoutError) as exc:
                if conn is not None:
                    conn.close()
                last = exc
                self._dial_failed(exc)
                delay = min(opts.dial_backoff * 2**attempt, opts.dial_backoff_max)
                delay *= random.uniform(0.5, 1.0)
                if attempt + 1 == attempts or (
                    deadline is not None and loop.time() + delay > deadline
                ):
                    break
                log.debug("dial to %s failed (%s); retrying in %.3fs", self.name, exc, delay)
                await asyncio.sleep(delay)
                continue
            except BaseException as exc:
                if conn is not None:
                    conn.close()
                if not isinstance(exc, asyncio.CancelledError):
                    self._errors_total += 1
                raise
            self._dial_succeeded(conn, loop.time() - begun)
            return conn
        assert last is not None
        if probe:  # the maintenance task reports an outage's probes
            log.debug("pool %s: probe failed: %s", self.name, last)
        else:
            self._throttle.log(
                "connect",
                logging.WARNING,
                "pool %s: could not connect after %d attempt(s): %s",
                self.name,
                attempts,
                last,
            )
        raise last

    async def _dial_target(self) -> ConnectionOptions:
        """The options of the next connection: the dialer's choice, or the pool's own."""
        if self._dialer is None:
            return self.connection_options
        target = await self._dialer()
        if isinstance(target, ConnectionOptions):
            return target
        host, port = target
        return self.connection_options.replace(host=host, port=port, path=None)

    def dial_target_changed(self) -> None:
        """The dialer now answers differently (a failover): dial again at once.

        Forgets earlier dial failures, so an open circuit breaker closes and
        the next acquire dials the new target instead of failing fast.
        """
        self._consecutive_dial_failures = 0
        if self._breaker_open:
            self._breaker_open = False
            log.info("pool %s: dial target changed; circuit breaker reset", self.name)
        self._maintenance.wake()

    def _dial_failed(self, exc: BaseException) -> None:
        self._errors_total += 1
        self._last_dial_error = exc
        self._consecutive_dial_failures += 1
        if (
            not self._breaker_open
            and self._consecutive_dial_failures >= self.options.breaker_threshold
        ):
            self._breaker_open = True
            self._breaker_opened_at = time.monotonic()
            self._throttle.hold("probe")  # the first failed probes add nothing to this record
            log.warning(
                "pool %s: circuit breaker open after %d failed dials: %s",
                self.name,
                self._consecutive_dial_failures,
                exc,
            )
            for fut in self._waiters:  # nobody will free a slot soon: fail them fast
                if not fut.done():
                    fut.set_exception(ConnectionError(f"pool {self.name}: {exc}"))
            self._waiters.clear()
            self._maintenance.wake()

    def _dial_succeeded(self, conn: Connection, seconds: float) -> None:
        connect_repeats = self._throttle.forget("connect")
        if self._breaker_open:
            self._throttle.forget("probe")
            log.warning(
                "pool %s: circuit breaker closed, server answers again after %.1fs"
                " (%d failed dials)",
                self.name,
                time.monotonic() - self._breaker_opened_at,
                self._consecutive_dial_failures,
            )
        elif connect_repeats is not None:  # "could not connect" was logged: say it is over
            log.warning(
                "pool %s: server answers again (%d failed dials)",
                self.name,
                self._consecutive_dial_failures,
            )
        self._breaker_open = False
        self._consecutive_dial_failures = 0
        self._created_total += 1
        conn.generation = self._generation
        if self.options.max_lifetime is not None:
            conn.retire_at = conn.created_at + self.options.max_lifetime * random.uniform(0.9, 1.1)
        conn.protocol.on_lost = partial(self._on_lost, conn)
        log.debug("connected %r", conn)
        if self._observer is not None:
            self._observer.on_connection_created(self, seconds)  # type: ignore[arg-type]

    async def _dial_into_idle(self, probe: bool = False) -> None:
        """Open one connection straight into the idle set (pre-warm, refill, probe)."""
        ledger = self._ledger
        if not ledger.has_room:
            return
        ledger.reserve()
        ledger.dialing += 1
        try:
            conn = await self._dial(None, attempts=1, probe=probe)
        except BaseException:
            ledger.free()
            self._grant_permits()
            raise
        finally:
            ledger.dialing -= 1
        self._put_back(conn)
