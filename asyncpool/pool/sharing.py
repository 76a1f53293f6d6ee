"""Shared-connection mode (``multiplex=True``): commands ride busy connections.

In the exclusive mode a caller holds its connection from checkout until its
reply has arrived, so a connection carries one command per round trip.  Here a
*shareable* command holds a connection only for its write: the reply future is
matched in order by the protocol's FIFO of waiters, and the next command may
ride the same connection before that reply is back.

Where a shareable command goes, in order (all synchronous, no await):

0. **A lone caller**: when nothing is shared (no connection written last, none
   owing replies to riders), an idle connection is lent and written as in step
   2, but not set up for sharing (:attr:`Sharing.alone`).  If no command rides
   behind it before its reply arrives, the executor hands it back itself
   (:meth:`Sharing.finished_alone`), as in the exclusive mode, so a serial
   caller pays almost nothing for the mode; the first command that rides behind
   it sets it up as any shared connection (step 1).
1. **The connection written last**, while it is still shared and owes fewer
   than ``max_in_flight`` replies: commands of one loop tick join the write
   that is about to leave (one syscall, one packet for many callers), and a
   busy connection fills up before another is taken.  (Joining only the
   connection written *in this tick*, and preferring idle connections
   otherwise, needed a callback per write to close the tick; it cost a lone
   serial caller 10-30 %: see docs/sharing.md.)
2. **An idle connection**, lent through the pool's ordinary fast path.
3. **The shared connection owing the fewest replies**, below ``max_in_flight``.
   While callers wait in the pool's queue for a connection of their own (a
   lease, a transaction, a blocking command), the *busiest* one with room
   instead, and none at all when only one is shared: the others then drain
   and are handed to the queue in FIFO order, so exclusive callers are never
   starved by riders.
4. Otherwise *board*: the pool's ordinary checkout (dial below
   ``max_connections``, or wait in the FIFO queue), while every reply that
   frees room on a shared connection wakes the caller to try steps 1-3 again.

A shared connection stays lent (the pool counts it in use) until it owes no
reply; the moment its last reply is read, it goes back through the pool's
ordinary check-in.  What keeps the invariants:

* a departed caller's reply is read and dropped by the protocol, never handed
  to another waiter; the protocol reports every time a shared connection owes
  nothing any more (``RedisProtocol.on_drained``), and that hands it back, so a
  connection whose last rider left goes back too;
* a reply that times out closes the connection; a broken connection fails
  every rider with a :class:`~asyncpool.ConnectionError`, and each rider's own
  retry rule applies (safe commands retried, others
  :class:`~asyncpool.OutcomeUnknownError`);
* connections still come only from the pool: the bound holds;
* commands that block, change connection state or need the connection to
  themselves never share (:func:`shareable_name`); nor do explicit leases
  (``pool.acquire()``, ``redis.connection()``), pipelines and transactions;
* head-of-line waits are bounded: at most ``max_in_flight - 1`` commands queue
  behind a slow one on its connection, new commands prefer the connection
  owing the fewest replies, and ``socket_timeout`` (when set) bounds any wait;
  a *congested* connection (a large reply arriving, or writes paused:
  ``RedisProtocol.congested``) takes no new riders in any step until it is not,
  and when a large reply congests it, the callers waiting behind it are
  rerouted (:meth:`Sharing.follow`): reads are sent again elsewhere, writes
  wait for their own reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from .._types import NOT_GIVEN
from ..command import Command, classify
from ..connection import Connection
from ..errors import ConnectionError, TimeoutError
from ..transport import Rerouted

if TYPE_CHECKING:
    from ..options import PoolOptions
    from ..transport import RedisProtocol

log = logging.getLogger("asyncpool.pool")


class Pool(Protocol):
    """What the sharing policy needs of its pool (a :class:`~asyncpool.Pool`)."""

    name: str
    options: PoolOptions
    _closed: bool
    _generation: int
    _waiters: deque[asyncio.Future[Connection | None]]

    def try_lend(self) -> Connection | None: ...

    async def lend(self) -> Connection: ...

    def give_back(self, conn: Connection) -> None: ...


__all__ = ["Sharing", "SharingStats", "shareable_name"]

#: ``retire_at`` of a connection without ``max_lifetime``: no clock read needed.
_NEVER = float("inf")


def shareable_name(name: str) -> bool:
    """Whether the command ``name`` may ride a shared connection.

    Not blocking, not state-changing (:data:`~asyncpool.command.STATEFUL`,
    :data:`~asyncpool.command.BLOCKING`) and not in
    :data:`~asyncpool.command.NEVER_SHARED`: ``CommandInfo.exclusive``.
    """
    return not classify(name).exclusive


@dataclass(frozen=True)
class SharingStats:
    """A snapshot of the shared-connection mode of one pool.

    ``replies_owed`` has one entry per connection carrying shared-mode
    commands now (replies its server still owes, departed callers' included;
    a lone caller's connection counts too); ``rides_total`` counts commands
    sent in shared mode, ``alone_total`` those of them sent while nothing was
    shared (a lone caller, on a connection set up for sharing only if a command
    rode behind it), ``busy_rides_total`` those that rode a connection already
    owing replies (instead of waiting for one), and ``queued_total`` those that
    found no connection to ride and went through the pool's checkout (dial or
    queue).  ``rerouted_total`` counts read-only commands sent again on another
    connection because a large reply ahead of theirs congested their own.
    """

    max_in_flight: int
    shared_connections: int
    replies_owed: tuple[int, ...]
    rides_total: int
    busy_rides_total: int
    queued_total: int
    alone_total: int
    rerouted_total: int


class Sharing:
    """The sharing policy of one pool; the executor calls it for shareable commands."""

    __slots__ = (
        "_alone_total",
        "_boarding",
        "_busy",
        "_last",
        "_last_protocol",
        "_max",
        "_pool",
        "_queued",
        "_rerouted",
        "_rides",
        "_shared",
        "alone",
        "room",
    )

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._max = pool.options.max_in_flight
        #: Connections carrying riders (all of them also lent, for the pool),
        #: each with its protocol (a connection keeps one for life).
        self._shared: dict[Connection, RedisProtocol | None] = {}
        #: The connection written last: joining its open cork coalesces writes.
        self._last: Connection | None = None
        #: Its protocol (a connection keeps one for life), read without a property.
        self._last_protocol: RedisProtocol | None = None
        self._alone_total = 0
        self._rides = 0
        self._busy = 0
        self._queued = 0
        self._rerouted = 0
        #: Callers inside :meth:`board` whose checkout is pending (dialing or queued).
        self._boarding = 0
        #: What boarding callers wait on (``None`` while nobody does): resolved,
        #: and replaced, when room frees up on a shared connection.  While it is
        #: set the executor calls :meth:`replied` after every shared reply.
        self.room: asyncio.Future[None] | None = None
        #: The ride of a lone caller (``None`` when there is none): sent when
        #: nothing was shared, on a connection lent like any other but not set
        #: up for sharing unless a command rides behind it.  If none does, the
        #: executor hands it back itself when its reply arrives
        #: (:meth:`finished_alone`), as in the exclusive mode.
        self.alone: tuple[Connection, asyncio.Future[Any]] | None = None

    def renewed(self) -> Sharing:
        """A fresh policy for the same pool (its connections belonged to a closed loop)."""
        return Sharing(self._pool)

    def __repr__(self) -> str:
        return f"<Sharing {self._pool.name} shared={len(self._shared)} max_in_flight={self._max}>"

    # -- the executor's calls ------------------------------------------------------
    def ride(self, args: Command | Sequence[Any]) -> tuple[Connection, asyncio.Future[Any]] | None:
        """Write ``args`` on a connection now (steps 1-3), or ``None``: use :meth:`board`."""
        pool = self._pool
        if pool._closed:
            return None
        conn = self._last
        if conn is None:
            alone = self.alone
            if alone is None:
                if not self._shared:  # nothing shared: a lone caller (see alone)
                    conn = pool.try_lend()
                    if conn is None:
                        return None
                    try:
                        fut = conn.submit(args)
                    except BaseException:
                        pool.give_back(conn)
                        raise
                    self._alone_total += 1
                    ride = self.alone = (conn, fut)
                    return ride
            elif len(pool._waiters) <= self._boarding and _usable(alone[0], pool._generation):
                # Behind a lone caller: its connection is shared from now on, and
                # step 1 finds it written last.  (Not a closed one: it may owe nothing
                # and never report a drain, so its lone caller keeps handing it back.)
                self.alone = None
                conn = self._last = alone[0]
                self._last_protocol = self._register(conn)
        limit = self._max
        # Callers queued for a connection of their own (not our boarders): let
        # connections drain for them instead of keeping every one busy.
        exclusive_waiting = len(pool._waiters) > self._boarding
        generation = pool._generation
        if conn is not None and not exclusive_waiting:
            protocol: Any = self._last_protocol
            owed = len(protocol.waiters)
            if (
                owed < limit
                and not protocol.closed
                and not protocol.congested
                and conn.generation == generation
                # the lifetime every 64th ride (a clock read per ride is 1 % of a
                # shared GET): past it, a busy connection takes at most 63 more riders
                and (self._rides & 63 or time.monotonic() < conn.retire_at)
            ):
                try:  # _send, inlined: the busiest path of all
                    fut = conn.submit(args)
                except BaseException:
                    self._give_back(conn)
                    raise
                self._rides += 1
                if owed:
                    self._busy += 1
                return conn, fut
        conn = pool.try_lend()
        if conn is not None:
            return self._send(conn, args, True)
        best = None
        if exclusive_waiting:
            # Pile onto the busiest connection with room, so the others drain and
            # go to the queue in turn; with a single one, wait (board) instead.
            if len(self._shared) > 1:
                most = -1
                for candidate in self._shared:
                    owed = candidate.pending_replies
                    if most < owed < limit and _usable(candidate, generation):
                        best, most = candidate, owed
        else:
            for candidate in self._shared:
                owed = candidate.pending_replies
                if owed < limit and _usable(candidate, generation):
                    best, limit = candidate, owed
        if best is not None:
            return self._send(best, args)
        return None

    async def board(self, args: Command | Sequence[Any]) -> tuple[Connection, asyncio.Future[Any]]:
        """No connection to ride now: check one out the ordinary way, or ride one later.

        The pool's checkout dials (below ``max_connections``) or queues; while
        it waits, every reply that frees room on a shared connection wakes this
        caller to try :meth:`ride` again.  Raises what the checkout raises
        (:class:`~asyncpool.PoolTimeout`, a dial error), before anything is sent.
        """
        self._queued += 1
        pool = self._pool
        loop = asyncio.get_running_loop()
        checkout: asyncio.Task[Connection] | None = None
        try:
            while True:
                if checkout is None:
                    self._boarding += 1
                    checkout = asyncio.ensure_future(pool.lend())
                    checkout.add_done_callback(self._boarded)
                room = self.room
                if room is None:
                    room = self.room = loop.create_future()
                await asyncio.wait((checkout, room), return_when=asyncio.FIRST_COMPLETED)
                if checkout.done():
                    conn = checkout.result()
                    checkout = None
                    self._wake()  # a new shared connection: others may ride it
                    return self._send(conn, args, True)
                ride = self.ride(args)
                if ride is not None:
                    return ride
        finally:
            # a checkout that finished as we left: hand back what it got
            if (
                checkout is not None
                and not checkout.cancel()
                and not checkout.cancelled()
                and checkout.exception() is None
            ):
                pool.give_back(checkout.result())

    async def follow(
        self, command: Command, ride: tuple[Connection, asyncio.Future[Any]], moved: Rerouted
    ) -> tuple[tuple[Connection, asyncio.Future[Any]], Any]:
        """A large reply congested ``ride``'s connection ahead of its reply (``moved``).

        A read-only command that may be repeated is sent again on another
        connection (its first reply is read and dropped); any other waits on
        where ``moved`` says its reply will arrive.  Returns the ride that
        answered and the reply.
        """
        while True:
            if command.info.read_only and command.retry_safe and not self._pool._closed:
                moved.future.cancel()  # read and dropped when it comes
                self._rerouted += 1
                ride = self.ride(command) or await self.board(command)
            else:
                ride = (ride[0], moved.future)
            try:
                return ride, await ride[1]
            except Rerouted as again:
                moved = again
            except BaseException as exc:
                self.abandoned(ride, exc)
                raise

    def replied(self) -> None:
        """A rider got its reply while callers board (:attr:`room` set): let them try again.

        The executor awaits the future :meth:`ride` or :meth:`board` returned
        itself (no coroutine of this class per command), and calls this only
        while :attr:`room` is set; a drained connection goes back by itself
        (``on_drained``).  When the await raised, it calls :meth:`abandoned`.
        """
        self._wake()

    def abandoned(self, ride: tuple[Connection, asyncio.Future[Any]], exc: BaseException) -> None:
        """A rider stopped waiting for its reply (``ride`` from :meth:`ride`) because of ``exc``.

        A cancelled rider's reply is read and dropped; the connection goes back
        once it owes nothing (``on_drained``), as after any other reply.
        """
        conn = ride[0]
        if ride is self.alone:  # from now on it is shared like any other
            if not conn.pending_replies:  # its reply was read already: nothing to drain
                self.finished_alone(ride)
                return
            self.alone = None
            self._register(conn)
        if isinstance(exc, asyncio.CancelledError):
            return
        if isinstance(exc, TimeoutError):
            # The socket cannot be trusted any more; the other riders get a
            # ConnectionError (their own retry rules apply), this one its timeout.
            conn.close(ConnectionError(f"shared connection closed after a reply timed out: {exc}"))
        self._give_back(conn)

    def finished_alone(self, ride: tuple[Connection, asyncio.Future[Any]]) -> None:
        """The lone caller (:attr:`alone`) got its reply and nobody rode behind it."""
        self.alone = None
        conn = ride[0]
        conn.last_used_at = time.monotonic()
        self._pool.give_back(conn)

    # -- introspection ----------------------------------------------------------------
    def stats(self) -> SharingStats:
        """Connections shared now, the replies each owes, and the ride counters."""
        carrying = list(self._shared)
        if self.alone is not None:
            carrying.append(self.alone[0])
        return SharingStats(
            max_in_flight=self._max,
            shared_connections=len(carrying),
            replies_owed=tuple(c.pending_replies for c in carrying),
            rides_total=self._rides + self._alone_total,
            busy_rides_total=self._busy,
            queued_total=self._queued,
            alone_total=self._alone_total,
            rerouted_total=self._rerouted,
        )

    # -- internals ---------------------------------------------------------------------
    def _send(
        self, conn: Connection, args: Command | Sequence[Any], new: bool = False
    ) -> tuple[Connection, Any]:
        """Write ``args`` on ``conn``: shared already and with room, or ``new`` (just lent).

        A new one starts being shared and goes back to the pool the moment it
        owes nothing (``on_drained``).  A lone caller comes here with a new
        connection for every command, so this is one frame.
        """
        if new:
            protocol = self._register(conn)
            busy = 0
        else:
            protocol = self._shared.get(conn)
            busy = conn.pending_replies
        try:
            fut = conn.submit(args)
        except BaseException:
            self._give_back(conn)
            raise
        self._last = conn
        self._last_protocol = protocol
        self._rides += 1
        if busy:
            self._busy += 1
        return conn, fut

    def _register(self, conn: Connection) -> RedisProtocol | None:
        """Share ``conn`` from now on: it goes back when it owes nothing (``on_drained``)."""
        protocol = self._shared[conn] = conn.protocol_or_none
        if protocol is not None:
            protocol.on_drained = partial(self._give_back, conn)
            protocol.on_congested = conn.reroute_riders
        return protocol

    def _boarded(self, task: asyncio.Future[Any]) -> None:
        self._boarding -= 1
        if not task.cancelled():
            task.exception()  # retrieved: board() re-raises it, or it left

    def _wake(self) -> None:
        """Room on a shared connection: let every boarding caller try to ride."""
        room, self.room = self.room, None
        if room is not None and not room.done():
            room.set_result(None)

    def _give_back(self, conn: Connection) -> None:
        """Hand ``conn`` back to the pool if it is still shared (once).

        Also its ``on_drained``: the protocol calls it inside ``data_received``
        when the last owed reply was read, where it must not raise (an
        exception there would close the connection).
        """
        protocol = self._shared.pop(conn, NOT_GIVEN)
        if protocol is NOT_GIVEN:
            return  # already given back by another rider
        if self._last is conn:
            self._last = self._last_protocol = None
        if protocol is not None:
            protocol.on_drained = protocol.on_congested = None
        conn.last_used_at = time.monotonic()  # its last reply: idle from now on
        try:
            self._pool.give_back(conn)
        except Exception:  # pragma: no cover - give_back does not raise
            log.exception("could not hand back the shared connection %r", conn)


def _usable(conn: Connection, generation: int) -> bool:
    """Open, not congested, not expired (``expire_all``), not past its lifetime: fit for riders.

    An expired or retired connection gets no new riders, so it drains and is
    closed at check-in, however busy the pool (a Sentinel failover relies on it).
    A congested one (a large reply arriving, writes paused) gets none while it
    is: what rode it would wait for all of it (head-of-line blocking).
    """
    return (
        not conn.is_closed
        and not conn.congested
        and conn.generation == generation
        and (conn.retire_at == _NEVER or time.monotonic() < conn.retire_at)
    )
