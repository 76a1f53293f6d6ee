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
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._compat import TIMEOUT_ERRORS, running_loop, timeout
from .command_info import BLOCKING, STATEFUL, blocking_timeout, command_name
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
from .transport import RedisProtocol, open_transport

__all__ = ["Connection", "ConnectionInfo", "ConnectionState"]

_ids = itertools.count(1)
#: Commands whose RESP3 reply is a confirmation push.
_SUBSCRIBES = frozenset(
    ("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE")
)
_DEFAULT: Any = object()


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
        "_db",
        "_deadlines",
        "_in_multi",
        "_loop",
        "_modified",
        "_no_replies",
        "_protocol",
        "_subscribed",
        "_transport",
        "_watchdog",
        "_watching",
        "created_at",
        "errors",
        "generation",
        "id",
        "last_checked_at",
        "last_error",
        "last_used_at",
        "options",
        "protocol_version",
        "retire_at",
        "uses",
    )

    def __init__(self, options: ConnectionOptions) -> None:
        self.options = options
        self.id = next(_ids)
        self._protocol: RedisProtocol | None = None
        self._deadlines: deque[tuple[float, asyncio.Future[Any], float]] = deque()
        self._watchdog: asyncio.TimerHandle | None = None
        self._transport: asyncio.Transport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        now = time.monotonic()
        self.created_at = now
        self.last_used_at = now
        self.last_checked_at = now
        self.uses = 0
        self.errors = 0
        self.last_error: str | None = None
        self.protocol_version = 2
        self._db = options.db
        self._in_multi = False
        self._watching = False
        self._subscribed = False
        self._modified = False
        self._no_replies = False
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
                self.protocol_version = await handshake(self._protocol, opts)
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
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._deadlines.clear()
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
        self._in_multi = self._watching = self._subscribed = self._modified = False
        self._db = 0
        self.protocol_version = await handshake(protocol, self.options)
        self._db = self.options.db

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
    def is_subscribed(self) -> bool:
        """True once the connection entered subscriber (or MONITOR) mode."""
        return self._subscribed

    @property
    def is_closed(self) -> bool:
        """True once the socket is closed (by us or by the peer)."""
        return self._protocol is None or self._protocol.closed

    @property
    def pending_replies(self) -> int:
        """Replies the server still owes on this connection."""
        return 0 if self._protocol is None else self._protocol.pending

    def ready_for_reuse(self) -> bool:
        """Open, in sync (no reply owed) and clean: lendable as it is."""
        protocol = self._protocol
        return (
            protocol is not None
            and not protocol.closed
            and not protocol._waiters
            and not self.is_dirty
        )

    @property
    def replies_suppressed(self) -> bool:
        """True after CLIENT REPLY OFF/SKIP: the reply stream can no longer be trusted."""
        return self._no_replies

    @property
    def is_dirty(self) -> bool:
        """True when per-connection state differs from a fresh handshake."""
        return (
            self._in_multi
            or self._watching
            or self._subscribed
            or self._modified
            or self._db != self.options.db
        )

    @property
    def state(self) -> str:
        """One of :class:`ConnectionState`'s names."""
        if self._protocol is None or self._protocol.closed:
            return ConnectionState.CLOSED
        if self._subscribed:
            return ConnectionState.SUBSCRIBED
        if self._in_multi:
            return ConnectionState.MULTI
        if self._watching:
            return ConnectionState.WATCHING
        return ConnectionState.CLEAN

    def mark_subscribed(self) -> None:
        """Note that this connection entered subscriber mode (never lent again as is)."""
        self._subscribed = True

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

    def _track_state(self, args: Sequence[Any], reply: Any) -> None:
        name = command_name(args)
        if isinstance(reply, ResponseError):
            if name == "EXEC" or name == "DISCARD":
                self._in_multi = self._watching = False
            return
        if name == "MULTI":
            self._in_multi = True
        elif name in ("EXEC", "DISCARD", "RESET"):
            self._in_multi = self._watching = False
            if name == "RESET":
                self._subscribed = self._modified = False
                self._db = 0
        elif name == "WATCH":
            self._watching = True
        elif name == "UNWATCH":
            self._watching = False
        elif name == "SELECT" and len(args) > 1:
            try:
                self._db = int(args[1])
            except (TypeError, ValueError):
                pass
        elif name in ("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR"):
            self._subscribed = True
        elif name in ("HELLO", "AUTH", "READONLY", "READWRITE"):
            self._modified = True  # identity or protocol changed: treat as dirty
        elif name == "CLIENT" and len(args) > 1:
            sub = command_name(args[1:])
            if sub in ("REPLY", "TRACKING", "SETNAME", "NO-EVICT", "NO-TOUCH"):
                self._modified = True

    def _note_error(self, exc: BaseException) -> None:
        self.errors += 1
        self.last_error = exc.__class__.__name__

    # -- requests -------------------------------------------------------------
    async def execute_command(self, *args: Any, timeout: float | None = _DEFAULT) -> Any:
        """Send one command and return its reply; an error reply is raised.

        ``timeout`` overrides ``socket_timeout`` for this call.  Blocking
        commands (BLPOP, XREAD BLOCK, ...) get their own timeout added.
        """
        reply = await self.send_command(args, timeout=timeout)
        if isinstance(reply, RedisError):
            raise reply
        return reply

    async def send_command(self, args: Sequence[Any], *, timeout: float | None = _DEFAULT) -> Any:
        """Like :meth:`execute_command` but returns an error reply instead of raising it."""
        protocol = self._protocol
        if protocol is None:
            raise ConnectionError("connection is not open")
        if timeout is _DEFAULT:
            timeout = self.options.socket_timeout
        name = args[0] if args else None
        blocking = name in BLOCKING
        if blocking:
            timeout = _extend(timeout, blocking_timeout(args))
        if name in STATEFUL and _suppresses_replies(args):
            # CLIENT REPLY OFF/SKIP: the server will not answer, so no waiter is
            # queued; the connection is closed on release rather than reused.
            protocol.write(encode_command(args))
            self._no_replies = self._modified = True
            return None
        if name in STATEFUL and command_name(args) in _SUBSCRIBES:
            fut = protocol.request_subscribe(encode_command(args))
        else:
            fut = protocol.request(encode_command(args))
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
            if name in STATEFUL:
                # sent, but we never saw the reply (cancelled, timed out): the server
                # may be in MULTI, on another db ... so the connection must be reset
                self._modified = True
            raise
        if name in STATEFUL:
            self._track_state(args, reply)
        return reply

    def submit(self, args: Sequence[Any]) -> asyncio.Future[Any]:
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
        fut = protocol.request_soon(encode_command(args))
        self.uses += 1
        delay = self.options.socket_timeout
        if delay is not None:
            self._arm_deadline(fut, delay)
        return fut

    async def send_many(
        self, commands: Sequence[Sequence[Any]], *, timeout: float | None = _DEFAULT
    ) -> list[Any]:
        """Send commands in one write; return every reply (error replies as values)."""
        protocol = self._protocol
        if protocol is None:
            raise ConnectionError("connection is not open")
        if timeout is _DEFAULT:
            timeout = self.options.socket_timeout
        blocking = subscribes = False
        for args in commands:
            if args and args[0] in BLOCKING:
                blocking = True
                timeout = _extend(timeout, blocking_timeout(args))
            elif args and args[0] in STATEFUL and command_name(args) in _SUBSCRIBES:
                subscribes = True
        data = encode_commands(commands)
        fut = protocol.request_many(data, len(commands), subscribes=subscribes)
        self.uses += 1
        try:
            if len(data) > 65536:
                await protocol.wait_writable()
            replies: list[Any] = await self._wait(fut, timeout, blocking)
        except BaseException:
            if any(args and args[0] in STATEFUL for args in commands):
                self._modified = True  # replies unseen: state unknown, reset before reuse
            raise
        for args, reply in zip(commands, replies, strict=True):
            if args and args[0] in STATEFUL:
                self._track_state(args, reply)
        return replies

    async def _wait(self, fut: asyncio.Future[Any], delay: float | None, blocking: bool) -> Any:
        if delay is not None and delay != float("inf"):
            self._arm_deadline(fut, delay)
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
    def _arm_deadline(self, fut: asyncio.Future[Any], delay: float) -> None:
        loop = self._loop or asyncio.get_running_loop()
        deadline = loop.time() + delay
        pending = self._deadlines
        while pending and pending[0][1].done():
            pending.popleft()
        pending.append((deadline, fut, delay))
        watchdog = self._watchdog
        if watchdog is None or deadline < watchdog.when():
            # none armed, or armed later (for a long blocking command answered since)
            if watchdog is not None:
                watchdog.cancel()
            self._watchdog = loop.call_at(deadline, self._check_deadlines)

    def _check_deadlines(self) -> None:
        self._watchdog = None
        loop = self._loop
        assert loop is not None  # set by connect(), before any request
        now = loop.time()
        pending = self._deadlines
        while pending:
            deadline, fut, delay = pending[0]
            if fut.done():
                pending.popleft()
            elif deadline <= now:
                pending.popleft()
                fut.set_exception(
                    TimeoutError(f"no reply from {self.options.address} within {delay}s")
                )
            else:
                self._watchdog = loop.call_at(deadline, self._check_deadlines)
                return


def _extend(delay: float | None, extra: float | None) -> float | None:
    if delay is None or extra is None:
        return delay
    return delay + extra


def _suppresses_replies(args: Sequence[Any]) -> bool:
    """True for ``CLIENT REPLY OFF`` and ``CLIENT REPLY SKIP``."""
    if len(args) < 3 or command_name(args) != "CLIENT":
        return False
    return command_name(args[1:2]) == "REPLY" and command_name(args[2:3]) in ("OFF", "SKIP")
