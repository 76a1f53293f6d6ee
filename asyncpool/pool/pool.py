"""The connection pool: bounded, fair, self-healing and cancellation-safe.

Bookkeeping lives in one :class:`~asyncpool.pool.ledger.Ledger` (idle, lent,
in transit, reserved, waiting), all on the event loop thread without locks:

* ``total`` counts every connection that exists or is being dialed; it never
  exceeds ``max_connections``.  A slot is reserved *before* dialing, and given
  back on any failure or cancellation.
* ``_waiters`` is a FIFO of futures.  A released connection is handed straight
  to the oldest waiter (no barging); a freed slot is handed as ``None``, a
  permit to dial.  A waiter that leaves (cancelled, timed out) after being
  handed something passes it on, so nothing is ever stranded.

``_idle``, ``_lent`` and ``_waiters`` are the ledger's own containers, bound
to the pool for the hot path.  Lending an idle connection never yields to the
event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from asyncio import _get_running_loop as _running_loop
from collections.abc import Mapping
from functools import partial
from typing import Any

from .._compat import TIMEOUT_ERRORS, running_loop
from .._compat import timeout as _timeout
from .._types import NOT_GIVEN, NotGiven
from ..connection import Connection
from ..errors import ConfigError, ConnectionError, PoolClosed
from ..options import CONNECTION_FIELDS, POOL_FIELDS, ConnectionOptions, PoolOptions
from .dialing import Dialer, DialingMixin, Hook
from .health import HealthMixin
from .introspection import IntrospectionMixin
from .lease import AcquireContext
from .ledger import Ledger
from .loops import move_to_loop
from .maintenance import Maintenance
from .observer import NO_BATCHES, DurationBatch, OnCommand, PoolObserver
from .sharing import Sharing
from .waiting import WaitingMixin

__all__ = ["Hook", "Pool"]

log = logging.getLogger("asyncpool.pool")


class Pool(DialingMixin, HealthMixin, WaitingMixin, IntrospectionMixin):
    """A bounded pool of connections to one Redis server.

    ``Pool(host=..., port=..., max_connections=..., ...)`` accepts every field
    of :class:`~asyncpool.ConnectionOptions` and :class:`~asyncpool.PoolOptions`
    as keyword arguments; :meth:`from_url` reads them from a URL.  The pool
    opens itself on first use; ``async with pool`` or :meth:`open` also
    pre-warms ``min_idle`` connections.  ``dialer`` chooses where each new
    connection goes (see :mod:`asyncpool.pool.dialing`).
    """

    _maintenance: Maintenance

    def __init__(
        self,
        connection_options: ConnectionOptions | None = None,
        pool_options: PoolOptions | None = None,
        *,
        on_connect: Hook | None = None,
        on_acquire: Hook | None = None,
        on_release: Hook | None = None,
        dialer: Dialer | None = None,
        **options: Any,
    ) -> None:
        unknown = set(options) - CONNECTION_FIELDS - POOL_FIELDS
        if unknown:
            raise ConfigError(f"unknown pool option(s): {', '.join(sorted(unknown))}")
        conn_changes = {k: v for k, v in options.items() if k in CONNECTION_FIELDS}
        pool_changes = {k: v for k, v in options.items() if k in POOL_FIELDS}
        copts = connection_options or ConnectionOptions()
        popts = pool_options or PoolOptions()
        self.connection_options = copts.replace(**conn_changes) if conn_changes else copts
        self.options = popts.replace(**pool_changes) if pool_changes else popts
        self.name = self.options.name or self.connection_options.address
        #: Client-level options that came with a URL (decode, retries ...).
        self.client_options: dict[str, Any] = {}
        self._on_connect = on_connect
        self._on_acquire = on_acquire
        self._on_release = on_release
        self._dialer = dialer
        self._observer: PoolObserver | None = None
        self._on_command: OnCommand | None = None
        self._batches: Mapping[Any, DurationBatch] = NO_BATCHES

        self._max = self.options.max_connections
        self._ledger = ledger = Ledger(self._max)
        self._idle = ledger.idle
        self._lent = ledger.lent
        self._lent_stacks = ledger.lent_stacks
        self._transit = ledger.transit
        self._waiters = ledger.waiters
        self._generation = 0
        self._closed = False
        self._all_returned: asyncio.Event | None = None
        self._recovering: set[asyncio.Task[Any]] = set()
        self._maintenance = Maintenance(self)

        #: The event loop the connections and tasks belong to (see loops.py).
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The shared-connection policy (``multiplex=True``), else ``None``.
        self._sharing = Sharing(self) if self.options.multiplex else None
        self._lifo = self.options.lifo
        self._max_idle = self.options.max_idle
        self._check_after = self.options.borrow_check_after
        self._track_leaks = self.options.leak_threshold is not None
        #: Hooks or leak tracking: no synchronous lending then (try_lend says None).
        self._hooked = on_acquire is not None or on_release is not None
        self._slow_lend = self._track_leaks or self._hooked

        self._consecutive_dial_failures = 0
        self._breaker_open = False
        self._last_dial_error: BaseException | None = None

        self._created_total = 0
        self._closed_total = 0
        self._acquired_total = 0
        self._acquire_timeouts_total = 0
        self._errors_total = 0
        self._wait_time_total = 0.0

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Pool:
        """Build a pool from ``redis://``, ``rediss://`` or ``unix://`` URL.

        Keyword arguments override the URL's query parameters.
        """
        from ..url import parse_url

        names = ("on_connect", "on_acquire", "on_release", "dialer")
        hooks = {k: options.pop(k) for k in names if k in options}
        copts, popts, client = parse_url(url, **options)
        pool = cls(copts, popts, **hooks)
        pool.client_options = client
        return pool

    def __repr__(self) -> str:
        s = self.stats()
        return (
            f"<Pool {self.name} total={s.total}/{s.max_connections} idle={s.idle}"
            f" in_use={s.in_use} waiting={s.waiting}{' closed' if s.closed else ''}>"
        )

    # -- lifecycle --------------------------------------------------------------
    async def open(self) -> Pool:
        """Start background maintenance and pre-warm ``min_idle`` connections.

        Raises the dial error if a pre-warm connection cannot be opened.
        """
        self._bind_loop()
        self._raise_if_closed()
        need = self.options.min_idle - len(self._idle) - self._ledger.dialing
        if need > 0:
            results = await asyncio.gather(
                *(self._dial_into_idle() for _ in range(need)), return_exceptions=True
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        self._maintenance.start()
        return self

    async def __aenter__(self) -> Pool:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    async def close(self, timeout: float | None = 10.0) -> None:
        """Stop lending, wait up to ``timeout`` for lent connections, close everything.

        Waiters fail with :class:`~asyncpool.PoolClosed`; subscriber connections
        (:class:`~asyncpool.PubSub`) close at once; other connections still lent
        after ``timeout`` are closed under their users (who get a ConnectionError).
        """
        self._bind_loop()  # a pool left by a closed loop drops its connections at once
        if not self._closed:
            self._closed = True
            log.debug("closing pool %s", self.name)
            for fut in self._waiters:
                if not fut.done():
                    fut.set_exception(PoolClosed(f"pool {self.name} was closed"))
            self._waiters.clear()
            while self._idle:
                self._discard(self._idle.pop(), "pool closed")
            for conn in [c for c in self._lent if c.is_subscribed]:  # PubSub's: nothing to wait for
                conn.close(ConnectionError(f"pool {self.name} was closed"))
        if self._lent:
            self._all_returned = self._all_returned or asyncio.Event()
            try:
                async with _timeout(timeout):
                    await self._all_returned.wait()
            except TIMEOUT_ERRORS:
                log.warning(
                    "pool %s closed with %d connection(s) still lent", self.name, len(self._lent)
                )
                for conn in list(self._lent):
                    conn.close(ConnectionError(f"pool {self.name} was closed"))
        for task in list(self._recovering):
            task.cancel()
        if self._recovering:
            await asyncio.gather(*self._recovering, return_exceptions=True)
        await self._maintenance.stop()

    def expire_all(self) -> None:
        """Close idle connections now and lent ones when they come back."""
        self._generation += 1
        while self._idle:
            self._discard(self._idle.pop(), "expired")

    # -- acquiring ----------------------------------------------------------------
    def acquire(self, timeout: float | NotGiven | None = NOT_GIVEN) -> AcquireContext:
        """Lend a connection: ``async with pool.acquire() as conn: ...``.

        ``timeout`` overrides ``acquire_timeout`` (``None`` waits forever).
        Raises :class:`~asyncpool.PoolTimeout`, :class:`~asyncpool.PoolClosed`,
        or the dial error when no connection could be opened.
        """
        return AcquireContext(self, timeout)

    # -- the lending API (for executors; ``acquire()`` is built on it) -------------------
    def try_lend(self, timed: bool = True) -> Connection | None:
        """Lend an idle connection at once, without awaiting, or return ``None``.

        ``None`` also when lending needs work: no idle connection, callers
        queued (they go first), a borrow check due, hooks to run, or leak
        tracking (it records the acquiring stack).  Then await :meth:`lend`.
        With an observer the lease is timestamped here, for its use time;
        ``timed=False`` leaves that to the caller, who then reports the use
        time itself (``observer.on_use``): the executor does, from the clock
        reads that time the command anyway.
        Give the connection back with :meth:`give_back`.
        """
        if self._slow_lend:
            return None
        conn = self._take_idle()
        if conn is not None:
            self._lent[conn] = None if self._observer is None or not timed else time.monotonic()
            self._acquired_total += 1
        return conn

    async def lend(self, timeout: float | NotGiven | None = NOT_GIVEN) -> Connection:
        """Lend a connection, waiting for one if needed, and run the ``on_acquire`` hook.

        ``timeout`` overrides ``acquire_timeout`` (``None`` waits forever).
        Raises :class:`~asyncpool.PoolTimeout`, :class:`~asyncpool.PoolClosed`,
        or the dial error when no connection could be opened.
        """
        conn = await self._checkout(timeout)
        if self._on_acquire is not None:
            try:
                await self._on_acquire(conn)
            except BaseException:
                self._checkin(conn)
                raise
        return conn

    def give_back(self, conn: Connection) -> None:
        """Take back a connection from :meth:`try_lend` / :meth:`lend` (synchronous).

        It is reused, cleaned first (replies owed, state changed) or closed.
        With an ``on_release`` hook the hook runs first, in a task of the pool.
        Giving back twice, or a connection that was not lent, does nothing.
        """
        if self._on_release is None:
            self._checkin(conn)
        elif conn in self._lent:
            task = asyncio.ensure_future(self._release_lease(conn))
            self._recovering.add(task)
            task.add_done_callback(partial(self._released, conn))

    def _released(self, conn: Connection, task: asyncio.Task[None]) -> None:
        self._recovering.discard(task)
        if task.cancelled() and conn in self._lent:  # cancelled before the hook ran (closing)
            conn.close()
            self._checkin(conn)

    def release_now(self, conn: Connection) -> bool:
        """Take ``conn`` back at once, or ``False``: an ``on_release`` hook, ``await release()``."""
        if self._on_release is not None:
            return False
        self._checkin(conn)
        return True

    async def release(self, conn: Connection) -> None:
        """Like :meth:`give_back`, but awaits the ``on_release`` hook (cancellation-safe)."""
        if self.release_now(conn) or conn not in self._lent:
            return  # taken back at once, or given back twice
        # the release must finish even if we are cancelled now
        await asyncio.shield(asyncio.ensure_future(self._release_lease(conn)))

    async def _checkout(self, timeout: float | NotGiven | None = NOT_GIVEN) -> Connection:
        """Take a connection for the caller (hot path: no yield when one is idle)."""
        conn = self._take_idle()
        if conn is None:
            conn = await self._acquire_slow(timeout)
            self._transit.discard(conn)  # a connection handed over while we waited
        if self._track_leaks or self._observer is not None:
            self._lent[conn] = time.monotonic()
            if self._track_leaks:
                self._lent_stacks[conn] = "".join(traceback.format_stack(limit=16)[:-2])
        else:
            self._lent[conn] = None
        self._acquired_total += 1
        return conn

    def _take_idle(self) -> Connection | None:
        idle = self._idle
        if not idle or self._waiters or self._closed or self._loop is not _running_loop():
            return None  # (another event loop: the slow path sorts it out)
        conn = idle.pop() if self._lifo else idle.popleft()
        if conn.is_closed:
            self._discard(conn, "closed while idle")
            return None
        check_after = self._check_after
        if check_after is not None and time.monotonic() - conn.last_used_at > check_after:
            idle.append(conn) if self._lifo else idle.appendleft(conn)
            return None  # the slow path checks it first
        return conn

    async def _acquire_slow(self, timeout: float | NotGiven | None) -> Connection:
        loop = self._bind_loop()
        self._raise_if_closed()
        self._maintenance.start()
        wait = self.options.acquire_timeout if timeout is NOT_GIVEN else timeout
        started = loop.time()
        try:
            while True:
                self._raise_if_closed()
                if not self._waiters:
                    conn = await self._take_idle_checked()
                    if conn is not None:
                        return conn
                    if self._ledger.has_room:
                        self._ledger.reserve()
                        return await self._dial_reserved(started, wait)
                remaining = None if wait is None else max(0.0, started + wait - loop.time())
                got = await self._wait_turn(loop, remaining, started)
                if got is None:  # a permit to dial a slot that was freed for us
                    if self._closed:  # closed before we woke: give the slot back
                        self._pass_on(None)
                        self._raise_if_closed()
                    return await self._dial_reserved(started, wait)
                return got
        finally:  # time to get a connection: queueing, dialing and checks included
            waited = loop.time() - started
            self._wait_time_total += waited
            if self._observer is not None:
                self._observer.on_wait(self, waited)

    async def _take_idle_checked(self) -> Connection | None:
        """Pop idle connections, checking those idle for long, until one is good."""
        while self._idle:
            conn = self._idle.pop() if self._lifo else self._idle.popleft()
            if conn.is_closed:
                self._discard(conn, "closed while idle")
                continue
            check_after = self._check_after
            stale = check_after is not None and time.monotonic() - conn.last_used_at > check_after
            if stale:
                self._transit.add(conn)
                if not await self._ping(conn, "borrow check"):
                    continue
                self._transit.discard(conn)
            return conn
        return None

    # -- releasing ----------------------------------------------------------------------
    async def _release_lease(self, conn: Connection) -> None:
        if self._on_release is not None:
            try:
                await self._on_release(conn)
            except Exception:
                log.exception("on_release hook failed; discarding %r", conn)
                conn.close()
        self._checkin(conn)

    def _checkin(self, conn: Connection) -> None:
        """Take a connection back from a caller (synchronous: cannot be cut short)."""
        lent_at = self._lent.pop(conn, NOT_GIVEN)
        if lent_at is not None:  # a timestamp (observed / leak-tracked) or not lent at all
            if lent_at is NOT_GIVEN:
                return  # released twice
            if self._track_leaks:
                self._lent_stacks.pop(conn, None)
            if self._observer is not None:
                self._observer.on_use(self, time.monotonic() - lent_at)
        if (
            not self._closed
            and conn.ready_for_reuse()
            and conn.generation == self._generation
            and conn.last_used_at < conn.retire_at
        ):
            if not self._waiters and self._max_idle is None:
                self._idle.append(conn)  # the common case
            else:
                self._put_back(conn)
            return
        self._checkin_slow(conn)

    def _checkin_slow(self, conn: Connection) -> None:
        """A returned connection that is closed, dirty, retired, or the pool is closed."""
        if self._closed:
            self._discard(conn, "pool closed")
            if not self._lent and self._all_returned is not None:
                self._all_returned.set()
        elif conn.is_closed or conn.replies_suppressed:
            self._discard(conn, "broken" if conn.is_closed else "replies switched off")
        elif conn.generation != self._generation or conn.last_used_at >= conn.retire_at:
            self._discard(conn, "retired")
        elif conn.pending_replies or conn.is_dirty:
            self._spawn_recovery(conn)
        else:
            self._put_back(conn)

    def _put_back(self, conn: Connection) -> None:
        """Give a healthy connection to the oldest waiter, or make it idle."""
        self._transit.discard(conn)
        waiters = self._waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_result(conn)
                self._transit.add(conn)  # until the waiter resumes and takes it
                return
        if self._closed:
            self._discard(conn, "pool closed")
            return
        max_idle = self._max_idle
        if max_idle is not None and len(self._idle) >= max_idle:
            self._discard(conn, "above max_idle")
            return
        self._idle.append(conn)

    def _discard(self, conn: Connection, why: str) -> None:
        """Close a connection that is neither idle nor lent, and free its slot.

        The slot is given back even if closing raises: a leaked slot would be
        lost for good.
        """
        try:
            if conn.protocol_or_none is not None:
                conn.protocol_or_none.on_lost = None
            conn.close()
        except Exception:
            log.debug("closing %r raised", conn, exc_info=True)
        finally:
            self._transit.discard(conn)
            self._ledger.free()
            self._closed_total += 1
        log.debug("closed %r: %s", conn, why)
        self._grant_permits()
        self._maintenance.wake()

    def _grant_permits(self) -> None:
        """A slot is free: let the oldest waiter dial into it."""
        waiters = self._waiters
        ledger = self._ledger
        while waiters and ledger.has_room and not self._closed:
            fut = waiters.popleft()
            if not fut.done():
                ledger.reserve()
                fut.set_result(None)

    def _on_lost(self, conn: Connection, reason: BaseException | None) -> None:
        """The peer closed a connection: drop it at once if it is idle."""
        if not self._ledger.remove_idle(conn):
            return  # lent or in transit: whoever holds it will notice
        self._throttle.log(
            "lost", logging.INFO, "idle connection to %s lost: %s", self.name, reason
        )
        self._discard(conn, "lost while idle")

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, after moving the pool to it if it was used from another."""
        loop = running_loop()
        if loop is not self._loop:
            move_to_loop(self, loop)
        return loop

    def _raise_if_closed(self) -> None:
        if self._closed:
            raise PoolClosed(f"pool {self.name} is closed")
