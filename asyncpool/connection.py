"""One logical Redis connection: handshake, state, and request/reply.

A :class:`Connection` owns one :class:`~asyncpool.transport.RedisProtocol`.
It performs the handshake (``HELLO 3`` with a RESP2 fallback, AUTH, SELECT,
CLIENT SETNAME / SETINFO), keeps the metadata the pool needs (created, last
used, uses, errors, owed replies) and tracks the per-connection state that must
not leak to the next borrower (MULTI, WATCH, SELECT, SUBSCRIBE, CLIENT REPLY).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._compat import TIMEOUT_ERRORS, running_loop, timeout
from ._types import NOT_GIVEN, NotGiven
from .command import Command
from .deadlines import ReplyDeadlines
from .errors import (
    ConnectionError,
    ProtocolError,
    RedisError,
    ResponseError,
    TimeoutError,
)
from .handshake import handshake
from .options import ConnectionOptions
from .resp import encode_command, encode_commands
from .session import Session, follow
from .transport import Batch, RedisProtocol, Rerouted, open_transport

__all__ = ["Connection", "ConnectionInfo", "ConnectionState"]

_ids = itertools.count(1)
#: Commands whose RESP3 reply is a confirmation push.
_SUBSCRIBES = frozenset(
    ("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE")
)


class ConnectionState:
    """Names of the states a connection can be in (plain strings, for logs)."""

    CLEAN = "clean"
    MULTI = "multi"
    WATCHING = "watching"
    SUBSCRIBED = "subscribed"
    CLOSED = "closed"


@dataclass(frozen=True)
class ConnectionInfo:
    """A snapshot of one connection's metadata, safe to log (no secrets)."""

    id: int
    address: str
    protocol: int
    state: str
    dirty: bool
    pending_replies: int
    created_at: float
    last_used_at: float
    last_checked_at: float
    uses: int
    errors: int
    last_error: str | None


class Connection:
    """A single connection to a Redis server.

    Use :meth:`connect` then :meth:`execute_command`.  Not safe to share between
    concurrent callers unless they pipeline on purpose: the pool lends each
    connection to one caller at a time.
    """

    __slots__ = (
        "_authenticated",
        "_baseline",
        "_loop",
        "_protocol",
        "_session",
        "_transport",
        "created_at",
        "deadlines",
        "errors",
        "generation",
        "id",
        "last_checked_at",
        "last_error",
        "last_used_at",
        "options",
        "retire_at",
        "uses",
    )

    def __init__(self, options: ConnectionOptions) -> None:
        self.options = options
        self.id = next(_ids)
        self._protocol: RedisProtocol | None = None
        #: Read deadlines (``socket_timeout``) of the replies owed, one timer for all.
        self.deadlines = ReplyDeadlines(options.address)
        self._transport: asyncio.Transport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        now = time.monotonic()
        self.created_at = now
        self.last_used_at = now
        self.last_checked_at = now
        self.uses = 0
        self.errors = 0
        self.last_error: str | None = None
        self._authenticated = options.password is not None
        #: What the handshake set up; the connection is dirty when _session differs.
        self._baseline = self._session = self._fresh_session(2)
        #: Set by the pool: when this connection retires (monotonic seconds).
        self.retire_at = float("inf")
        #: Set by the pool: its ``expire_all`` generation at creation.
        self.generation = 0

    def __repr__(self) -> str:
        return (
            f"<Connection #{self.id} {self.options.address} {self.state}"
            f" pending={self.pending_replies}>"
        )

    # -- lifecycle ----------------------------------------------------------
    async def connect(self) -> None:
        """Open the socket and run the handshake, within ``connect_timeout``.

        Raises :class:`~asyncpool.AuthenticationError` for a rejected password,
        :class:`~asyncpool.ConnectionError` / :class:`~asyncpool.TimeoutError`
        when the server cannot be reached.
        """
        opts = self.options
        self._loop = running_loop()
        try:
            async with timeout(opts.connect_timeout):
                self._transport, self._protocol = await open_transport(opts)
                protocol_version = await handshake(self._protocol, opts)
                self._baseline = self._session = self._fresh_session(protocol_version)
        except TIMEOUT_ERRORS as exc:
            self.close()
            if isinstance(exc, TimeoutError):
                raise
            raise TimeoutError(
                f"connecting to {opts.address} timed out after {opts.connect_timeout}s"
            ) from None
        except BaseException:
            self.close()
            raise
        now = time.monotonic()
        self.created_at = self.last_used_at = self.last_checked_at = now

    def close(self, reason: BaseException | None = None) -> None:
        """Close the socket now; pending requests fail with a ConnectionError."""
        self.deadlines.clear()
        if self._protocol is not None:
            self._protocol.abort(reason)
        elif self._transport is not None:
            self._transport.abort()

    async def reset(self) -> None:
        """Return a dirty connection to its post-handshake state.

        Sends ``RESET`` (Redis >= 6.2) and redoes AUTH / SELECT / SETNAME; a
        server without RESET makes this raise, and the caller closes instead.
        """
        protocol = self._protocol
        if protocol is None or protocol.closed:
            raise ConnectionError("connection is closed")
        protocol.route_all_to_push = False
        protocol.on_push = None
        await protocol.wait_drained()
        reply = await protocol.request(encode_command(("RESET",)))
        if isinstance(reply, ResponseError):
            raise reply
        self._session = self._session.replace(changed=True)  # until the handshake is redone
        protocol_version = await handshake(protocol, self.options)
        self._baseline = self._session = self._fresh_session(protocol_version)

    def _fresh_session(self, protocol_version: int) -> Session:
        opts = self.options
        return Session(db=opts.db, name=opts.client_name or None, protocol=protocol_version)

    # -- state ----------------------------------------------------------------
    @property
    def protocol(self) -> RedisProtocol:
        """The transport protocol (for subscriber mode); raises when not connected."""
        if self._protocol is None:
            raise ConnectionError("connection is not open")
        return self._protocol

    @property
    def protocol_or_none(self) -> RedisProtocol | None:
        """The transport protocol, or ``None`` before :meth:`connect`."""
        return self._protocol

    @property
    def session(self) -> Session:
        """The per-connection state as the client believes the server holds it."""
        return self._session

    @property
    def protocol_version(self) -> int:
        """The RESP version in use (2 or 3)."""
        return self._session.protocol

    @property
    def is_subscribed(self) -> bool:
        """True once the connection entered subscriber (or MONITOR) mode."""
        return self._session.subscribed

    @property
    def is_closed(self) -> bool:
        """True once the socket is closed (by us or by the peer)."""
        return self._protocol is None or self._protocol.closed

    @property
    def congested(self) -> bool:
        """True while a large reply is arriving or writes are paused (see the transport)."""
        protocol = self._protocol
        return protocol is not None and protocol.congested

    @property
    def pending_replies(self) -> int:
        """Replies the server still owes on this connection."""
        return 0 if self._protocol is None else self._protocol.pending

    def ready_for_reuse(self) -> bool:
        """Open, in sync (no reply owed) and clean: lendable as it is."""
        protocol = self._protocol
        session = self._session  # not is_dirty: a property read costs a call on every check-in
        return (
            protocol is not None
            and not protocol.closed
            and not protocol.waiters
            and (session is self._baseline or session == self._baseline)
        )

    @property
    def replies_suppressed(self) -> bool:
        """True after CLIENT REPLY OFF/SKIP: the reply stream can no longer be trusted."""
        return self._session.replies_suppressed

    @property
    def is_dirty(self) -> bool:
        """True when the session state differs from what the handshake set up."""
        session = self._session
        return session is not self._baseline and session != self._baseline

    @property
    def state(self) -> str:
        """One of :class:`ConnectionState`'s names."""
        if self._protocol is None or self._protocol.closed:
            return ConnectionState.CLOSED
        session = self._session
        if session.subscribed:
            return ConnectionState.SUBSCRIBED
        if session.multi:
            return ConnectionState.MULTI
        if session.watching:
            return ConnectionState.WATCHING
        return ConnectionState.CLEAN

    def mark_subscribed(self) -> None:
        """Note that this connection entered subscriber mode (never lent again as is)."""
        self._session = self._session.replace(subscribed=True)

    def info(self) -> ConnectionInfo:
        """Metadata snapshot (no secrets)."""
        return ConnectionInfo(
            id=self.id,
            address=self.options.address,
            protocol=self.protocol_version,
            state=self.state,
            dirty=self.is_dirty,
            pending_replies=self.pending_replies,
            created_at=self.created_at,
            last_used_at=self.last_used_at,
            last_checked_at=self.last_checked_at,
            uses=self.uses,
            errors=self.errors,
            last_error=self.last_error,
        )

    def _track_state(self, command: Command, reply: Any) -> None:
        """Follow what a state-changing command did, given its reply."""
        self._session = follow(self._session, command, reply, authenticated=self._authenticated)

    def _note_error(self, exc: BaseException) -> None:
        self.errors += 1
        self.last_error = exc.__class__.__name__

    # -- requests -------------------------------------------------------------
    async def execute_command(
        self, *args: Any, timeout: float | NotGiven | None = NOT_GIVEN
    ) -> Any:
        """Send one command and return its reply; an error reply is raised.

        ``timeout`` overrides ``socket_timeout`` for this call (``None``: no
        timeout).  Blocking commands (BLPOP, XREAD BLOCK, ...) get their own
        timeout added.
        """
        reply = await self.send_command(Command(args), timeout=timeout)
        if isinstance(reply, RedisError):
            raise reply
        return reply

    async def send_command(
        self, command: Command | Sequence[Any], *, timeout: float | NotGiven | None = NOT_GIVEN
    ) -> Any:
        """Like :meth:`execute_command` but returns an error reply instead of raising it.

        ``command`` is a :class:`~asyncpool.command.Command` or the raw
        arguments (name first).
        """
        if not isinstance(command, Command):
            command = Command(tuple(command))
        protocol = self._protocol
        if protocol is None:
            raise ConnectionError("connection is not open")
        if timeout is NOT_GIVEN:
            timeout = self.options.socket_timeout
        info = command.info
        blocking = info.blocking
        if blocking:
            timeout = _extend(timeout, command.blocking_timeout)
        stateful = info.stateful
        if stateful and command.suppresses_replies:
            # CLIENT REPLY OFF/SKIP: the server will not answer, so no waiter is
            # queued; the connection is closed on release rather than reused.
            protocol.write(encode_command(command.args))
            self._session = self._session.replace(replies_suppressed=True, changed=True)
            return None
        if stateful and info.name in _SUBSCRIBES:
            fut = protocol.request_subscribe(encode_command(command.args))
        else:
            fut = protocol.request(encode_command(command.args))
        self.uses += 1
        try:
            if timeout is None and not blocking:  # the common case: no timer, one frame less
                try:
                    reply = await fut
                except (ConnectionError, ProtocolError) as exc:
                    self._note_error(exc)
                    raise
                finally:
                    self.last_used_at = time.monotonic()
            else:
                reply = await self._wait(fut, timeout, blocking)
        except BaseException:
            if stateful:
                # sent, but we never saw the reply (cancelled, timed out): the server
                # may be in MULTI, on another db ... so the connection must be reset
                self._session = self._session.replace(changed=True)
            raise
        if stateful:
            self._track_state(command, reply)
        return reply

    def submit(self, command: Command | Sequence[Any]) -> asyncio.Future[Any]:
        """Write one command now and return the future of its reply (shared use).

        Synchronous: the command is queued in order behind every reply this
        connection already owes, and written with the other commands of this
        loop tick (see :meth:`RedisProtocol.request_soon`).  A caller that stops
        waiting leaves its reply to be read and dropped, never delivered to the
        next waiter.  ``socket_timeout`` applies as a read deadline.  Only for
        commands that neither block nor change connection state: the sharing
        policy (:mod:`asyncpool.pool.sharing`) decides which those are.
        Raises :class:`~asyncpool.ConnectionError` (not sent) when closed.
        """
        protocol = self._protocol
        if protocol is None:
            err = ConnectionError("connection is not open")
            err.request_not_sent = True
            raise err
        args = (
            command.args
            if command.__class__ is Command or isinstance(command, Command)
            else command
        )
        fut = protocol.request_soon(encode_command(args))
        self.uses += 1
        delay = self.options.socket_timeout
        if delay is not None:
            self.deadlines.arm(fut, delay)
        return fut

    async def send_many(
        self,
        commands: Sequence[Command | Sequence[Any]],
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> list[Any]:
        """Send commands in one write; return every reply (error replies as values)."""
        protocol = self._protocol
        if protocol is None:
            raise ConnectionError("connection is not open")
        if timeout is NOT_GIVEN:
            timeout = self.options.socket_timeout
        batch = [c if isinstance(c, Command) else Command(tuple(c)) for c in commands]
        blocking = stateful = subscribes = False
        for command in batch:
            info = command.info
            if info.blocking:
                blocking = True
                timeout = _extend(timeout, command.blocking_timeout)
            elif info.stateful:
                stateful = True
                subscribes = subscribes or info.name in _SUBSCRIBES
        data = encode_commands([c.args for c in batch])
        fut = protocol.request_many(data, len(batch), subscribes=subscribes)
        self.uses += 1
        try:
            if len(data) > 65536:
                await protocol.wait_writable()
            replies: list[Any] = await self._wait(fut, timeout, blocking)
        except BaseException:
            if stateful:
                # replies unseen: state unknown, reset before reuse
                self._session = self._session.replace(changed=True)
            raise
        if stateful:
            for command, reply in zip(batch, replies, strict=True):
                if command.info.stateful:
                    self._track_state(command, reply)
        return replies

    async def _wait(self, fut: asyncio.Future[Any], delay: float | None, blocking: bool) -> Any:
        if delay is not None and delay != float("inf"):
            self.deadlines.arm(fut, delay)
        try:
            return await fut
        except asyncio.CancelledError:
            if blocking:
                # its reply may come much later and hold the connection: close it.
                self.close(ConnectionError("blocking command cancelled"))
            raise
        except TimeoutError as exc:
            # The server is slow or gone: the socket cannot be trusted any more.
            self._note_error(exc)
            self.close(exc)
            raise
        except (ConnectionError, ProtocolError) as exc:
            self._note_error(exc)
            raise
        finally:
            self.last_used_at = time.monotonic()

    # -- read deadlines ---------------------------------------------------------
    # One timer per connection instead of one per command: a timer per command
    # (call_later + cancel) cost a quarter of the throughput with socket_timeout
    # set, as cancelled handles pile up in the loop's heap.  Each request with a
    # deadline is queued here; replies come in order, so answered entries sit at
    # the front and are dropped as new ones arrive, and the timer only wakes for
    # the oldest request still waiting.
    def reroute_riders(self) -> int:
        """Give each reply owed behind the one arriving now a new future (head-of-line).

        Called by the shared-connection policy when a large reply congests this
        connection.  Every caller waiting behind it gets :class:`Rerouted` with
        the future its reply will now resolve (and the read deadline moves with
        it): one whose command may be repeated sends it again elsewhere and
        drops this one; the others wait on.  Returns how many were rerouted.
        """
        protocol = self._protocol
        if protocol is None or self._loop is None:
            return 0
        waiters = protocol.waiters
        moved: dict[asyncio.Future[Any], asyncio.Future[Any]] = {}
        for index in range(1, len(waiters)):
            old = waiters[index]
            if old.__class__ is Batch or old.done():  # type: ignore[union-attr]
                continue
            new = waiters[index] = self._loop.create_future()
            new.add_done_callback(_retrieve)
            moved[old] = new  # type: ignore[index]
        if moved:
            self.deadlines.moved(moved)
        for old, new in moved.items():
            old.add_done_callback(_retrieve)  # read even if its caller is cancelled first
            old.set_exception(Rerouted(new))
        return len(moved)


def _retrieve(fut: asyncio.Future[Any]) -> None:
    """Mark a rerouted future's outcome as read (its caller may have left)."""
    if not fut.cancelled():
        fut.exception()


def _extend(delay: float | None, extra: float | None) -> float | None:
    if delay is None or extra is None:
        return delay
    return delay + extra
