"""The byte-stream transport: one socket, replies matched in order to requests.

:class:`RedisProtocol` is an :class:`asyncio.Protocol`.  Every request
registers a *waiter* in a FIFO; each parsed reply resolves the oldest waiter.
A waiter whose caller went away (cancelled, timed out) stays in the FIFO so
its reply is still consumed in order and then dropped: a reply never reaches
the wrong caller, and the socket need not be closed to stay in sync.

:func:`open_transport` dials TCP (IPv4/IPv6 with happy eyeballs), TLS or a unix
socket, with TCP_NODELAY and keepalive, bounded by the connect timeout.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any, cast

from ._compat import TIMEOUT_ERRORS, timeout
from .errors import ConnectionError, ProtocolError, ResponseError, TimeoutError
from .options import ConnectionOptions
from .resp import Parser, PushMessage, make_parser

__all__ = ["CONGESTED_REPLY_BYTES", "Batch", "RedisProtocol", "Rerouted", "open_transport"]

#: Bytes of one reply read without completing it, after which its connection counts
#: as congested (:attr:`RedisProtocol.congested`): half a socket read (256 KiB).
CONGESTED_REPLY_BYTES = 128 * 1024

#: RESP3 pushes that are the reply to the command that caused them.
_CONFIRMATIONS = frozenset(
    form
    for kind in (
        "subscribe",
        "psubscribe",
        "ssubscribe",
        "unsubscribe",
        "punsubscribe",
        "sunsubscribe",
    )
    for form in (kind, kind.encode())
)


class Batch:
    """A waiter for ``count`` consecutive replies (a pipeline), resolved as a list."""

    __slots__ = ("future", "remaining", "replies")

    def __init__(self, future: asyncio.Future[list[Any]], count: int) -> None:
        self.future = future
        self.remaining = count
        self.replies: list[Any] = []


class Rerouted(Exception):
    """Set on a reply future that waited behind a congested reply: wait on :attr:`future`.

    Only the shared-connection policy sees it (:meth:`Connection.reroute_riders`):
    the reply will resolve :attr:`future` instead, and a caller whose command
    may be repeated sends it again on another connection.
    """

    def __init__(self, future: asyncio.Future[Any]) -> None:
        super().__init__("the reply comes on another future")
        self.future = future


class RedisProtocol(asyncio.Protocol):
    """Reads replies as they arrive and hands each to the request that asked."""

    def __init__(self, parser: Parser, loop: asyncio.AbstractEventLoop) -> None:
        self._parser = parser
        self._loop = loop
        #: ``loop.create_future``, without its Python frame on the stdlib loop.
        self._new_future: Callable[[], asyncio.Future[Any]] = (
            partial(asyncio.Future, loop=loop)
            if type(loop).create_future is asyncio.BaseEventLoop.create_future
            else loop.create_future
        )
        self._transport: asyncio.Transport | None = None
        #: The requests whose replies are owed, oldest first (a departed caller's
        #: included: its reply is read and dropped).  Read it, never change it,
        #: outside this class; a closed connection swaps in an empty one.
        self.waiters: deque[asyncio.Future[Any] | Batch] = deque()
        #: Waiters of (un)subscribe commands: the only ones a confirmation push answers.
        self._confirmable: set[asyncio.Future[Any] | Batch] = set()
        self._drained: asyncio.Future[None] | None = None
        #: Commands queued by :meth:`request_soon` during this loop tick (``None``: no
        #: cork open); written together by :meth:`_flush_corked` on the next one.
        self._corked: list[bytes] | None = None
        self._write_paused: asyncio.Future[None] | None = None
        self.closed = False
        #: Why the connection ended (``None`` while open or on a clean local close).
        self.close_reason: BaseException | None = None
        #: Called once with the reason when the connection ends, from the loop.
        self.on_lost: Callable[[BaseException | None], None] | None = None
        #: Receives replies that no request asked for (RESP3 pushes, pub/sub).
        self.on_push: Callable[[Any], None] | None = None
        #: When set, *every* reply goes to :attr:`on_push` (subscriber mode).
        self.route_all_to_push = False
        #: Called from :meth:`data_received` each time the last owed reply has been
        #: read, and soon after a close failed the replies still owed (the
        #: shared-connection policy hands the connection back then).  It must not
        #: raise: an exception in :meth:`data_received` closes the connection.
        self.on_drained: Callable[[], None] | None = None
        #: Bytes read since the last complete reply (about: a chunk's tail is not counted).
        self.receiving = 0
        #: True while a large reply is arriving (:data:`CONGESTED_REPLY_BYTES` read
        #: without completing it) or writes are paused: a command written now waits
        #: behind it, so the shared-connection policy sends new commands elsewhere.
        self.congested = False
        #: Called when a large reply makes the connection congested (shared use).
        self.on_congested: Callable[[], object] | None = None

    # -- asyncio.Protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's unix transports are not registered as asyncio.Transport: no isinstance
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        waiters = self.waiters
        try:
            parser.feed(data)
            # A reply that could not be decoded comes as a DecodeError: only its
            # caller gets the error; the stream stays in sync, the connection is kept.
            replies = parser.replies()
            if not replies:
                before = self.receiving
                received = self.receiving = before + len(data)
                if before < CONGESTED_REPLY_BYTES <= received:  # once per large reply
                    self.congested = True
                    if self.on_congested is not None:
                        self.on_congested()
            elif self.receiving:
                self.receiving = 0
                self.congested = self._write_paused is not None
            for reply in replies:
                if self.route_all_to_push:
                    if self.on_push is not None:
                        self.on_push(reply)
                    continue
                if reply.__class__ is PushMessage:
                    if self.on_push is not None:
                        self.on_push(reply)
                        continue
                    # Only a (un)subscribe confirmation answers a request, and only a
                    # pending (un)subscribe's: a published message, an invalidation or
                    # a stray confirmation is never handed to another caller as its reply.
                    if (
                        not waiters
                        or waiters[0] not in self._confirmable
                        or not reply
                        or reply[0] not in _CONFIRMATIONS
                    ):
                        continue
                if not waiters:
                    if isinstance(reply, ResponseError):
                        # a server refusing a client (maxclients ...) says why, then closes
                        refused = f"the server refused the connection: {reply}"
                        self.abort(ConnectionError(refused))
                        return
                    raise ProtocolError("received a reply that no request asked for")
                waiter = waiters[0]
                if waiter.__class__ is Batch:
                    assert isinstance(waiter, Batch)
                    waiter.replies.append(reply)
                    waiter.remaining -= 1
                    if waiter.remaining:
                        continue
                    waiters.popleft()
                    if not waiter.future.done():
                        waiter.future.set_result(waiter.replies)
                else:
                    waiters.popleft()
                    try:  # no done() call per reply: a departed caller's is rare
                        waiter.set_result(reply)  # type: ignore[union-attr]
                    except asyncio.InvalidStateError:
                        pass  # cancelled, timed out or rerouted: read and dropped
                if not waiters:
                    drained = self._drained
                    if drained is not None:
                        if not drained.done():
                            drained.set_result(None)
                        self._drained = None
                    if self.on_drained is not None:
                        self.on_drained()
            if parser.failed is not None:  # malformed after the replies above
                raise parser.failed
        except ProtocolError as exc:
            self.abort(exc)
        except Exception as exc:  # a parser bug must not kill the event loop
            self.abort(ProtocolError(f"could not parse a reply: {exc!r}"))

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.closed = True
            if self.close_reason is None:
                self.close_reason = exc or ConnectionError("server closed the connection")
        reason = self.close_reason
        self._fail_waiters(reason)
        if self._write_paused is not None and not self._write_paused.done():
            self._write_paused.set_result(None)
        callback, self.on_lost = self.on_lost, None
        if callback is not None:
            callback(reason)

    def pause_writing(self) -> None:
        if self._write_paused is None or self._write_paused.done():
            self._write_paused = self._loop.create_future()
        self.congested = True

    def resume_writing(self) -> None:
        if self._write_paused is not None and not self._write_paused.done():
            self._write_paused.set_result(None)
        self._write_paused = None
        self.congested = self.receiving >= CONGESTED_REPLY_BYTES

    # -- requests ----------------------------------------------------------
    @property
    def pending(self) -> int:
        """Replies still owed by the server (including those of departed callers)."""
        return len(self.waiters)

    def request(self, data: bytes) -> asyncio.Future[Any]:
        """Write one encoded command; the returned future resolves with its reply."""
        if self.closed:
            raise self._closed_error()
        if self._corked:
            self._flush_corked()  # bytes must leave in the order their waiters queued
        fut: asyncio.Future[Any] = self._new_future()
        self.waiters.append(fut)
        self._transport.write(data)  # type: ignore[union-attr]
        return fut

    def request_soon(self, data: bytes) -> asyncio.Future[Any]:
        """Like :meth:`request`, coalescing writes while replies are owed (shared use).

        On a connection that owes nothing the command is written at once (a
        lone caller pays nothing).  Otherwise it is queued, and every command
        queued during this loop tick leaves together, in one ``write``, on the
        next one: the commands of many callers share a syscall and a packet.
        """
        if self.closed:
            raise self._closed_error()
        fut: asyncio.Future[Any] = self._new_future()
        waiters = self.waiters
        corked = self._corked
        if corked is not None:
            corked.append(data)
        elif waiters:
            self._corked = [data]
            self._loop.call_soon(self._flush_corked)
        else:
            self._transport.write(data)  # type: ignore[union-attr]
        waiters.append(fut)
        return fut

    @property
    def write_pending(self) -> bool:
        """True while commands are queued for the next write (a cork is open)."""
        return self._corked is not None

    def _flush_corked(self) -> None:
        corked, self._corked = self._corked, None
        if corked and not self.closed:
            self._transport.write(b"".join(corked))  # type: ignore[union-attr]

    def request_subscribe(self, data: bytes) -> asyncio.Future[Any]:
        """Like :meth:`request`, for an (un)subscribe: a RESP3 confirmation push answers it."""
        fut = self.request(data)
        self._mark_confirmable(fut)
        return fut

    def request_many(
        self, data: bytes, count: int, *, subscribes: bool = False
    ) -> asyncio.Future[list[Any]]:
        """Write ``count`` encoded commands at once; resolves with all replies, in order.

        ``subscribes``: some of them are (un)subscribes, whose RESP3
        confirmation pushes count among the replies.
        """
        return self.request_batch(data, count, subscribes=subscribes).future

    def request_batch(self, data: bytes, count: int, *, subscribes: bool = False) -> Batch:
        """Like :meth:`request_many`, returning the :class:`Batch` itself.

        Its ``replies`` keep what arrived even when the connection ends early:
        the handshake reads a server's refusal from them.
        """
        if self.closed:
            raise self._closed_error()
        if self._corked:
            self._flush_corked()
        fut: asyncio.Future[list[Any]] = self._new_future()
        batch = Batch(fut, count)
        if count:
            self.waiters.append(batch)
            if subscribes:
                self._mark_confirmable(batch)
            self._transport.write(data)  # type: ignore[union-attr]
        else:
            fut.set_result([])
        return batch

    def _mark_confirmable(self, waiter: asyncio.Future[Any] | Batch) -> None:
        # Answered entries are never at the head of the FIFO again, so they do no
        # harm; dropping them now and then keeps the set small.
        confirmable = self._confirmable
        if len(confirmable) >= 16:
            confirmable = self._confirmable = {
                w for w in confirmable if not (w.future if isinstance(w, Batch) else w).done()
            }
        confirmable.add(waiter)

    def write(self, data: bytes) -> None:
        """Write bytes that expect no reply to a waiter (subscriber mode)."""
        if self.closed:
            raise self._closed_error()
        if self._corked:
            self._flush_corked()
        self._transport.write(data)  # type: ignore[union-attr]

    async def wait_writable(self) -> None:
        """Wait while the kernel buffer is full (flow control for large writes)."""
        paused = self._write_paused
        if paused is not None:
            await asyncio.shield(paused)

    async def wait_drained(self) -> None:
        """Wait until every owed reply has been read (and dropped if unclaimed)."""
        if not self.waiters or self.closed:
            return
        if self._drained is None:
            self._drained = self._loop.create_future()
        await asyncio.shield(self._drained)

    def abort(self, reason: BaseException | None = None) -> None:
        """Close at once; pending requests fail with ``reason`` (a ConnectionError)."""
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        if self._loop.is_closed():
            # its event loop is gone (asyncio.run() returned): nothing can be
            # scheduled there, so end the TCP connection directly; no one can
            # be waiting on a future of a closed loop either
            _shut_down(self._transport)
            self.waiters.clear()
            return
        if self._transport is not None:
            self._transport.abort()  # connection_lost runs soon, from the loop
        self._fail_waiters(reason)

    def _closed_error(self) -> ConnectionError:
        reason = self.close_reason
        if isinstance(reason, ConnectionError):
            err = ConnectionError(str(reason))
        elif reason is None:
            err = ConnectionError("connection is closed")
        else:
            err = ConnectionError(f"connection is closed: {reason}")
        err.request_not_sent = True
        return err

    def _fail_waiters(self, reason: BaseException | None) -> None:
        if not self.waiters and self._drained is None:
            return
        if isinstance(reason, (ConnectionError, ProtocolError, TimeoutError)):
            exc: BaseException = reason
        else:
            exc = ConnectionError(f"connection lost: {reason}" if reason else "connection closed")
        waiters, self.waiters = self.waiters, deque()
        for waiter in waiters:
            fut = waiter.future if isinstance(waiter, Batch) else waiter
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: nobody may be waiting any more
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None
        if waiters and self.on_drained is not None:
            # It owes nothing now either.  Called soon, not here: a close may come
            # from inside the pool, which the callback calls back into.
            self._loop.call_soon(self.on_drained)


async def open_transport(
    options: ConnectionOptions,
) -> tuple[asyncio.Transport, RedisProtocol]:
    """Open the socket described by ``options`` and attach a :class:`RedisProtocol`."""
    loop = asyncio.get_running_loop()
    encoding = options.encoding if options.decode_responses else None
    parser = make_parser(
        options.parser,
        limits=options.limits,
        encoding=encoding,
        errors=options.encoding_errors,
    )

    def factory() -> RedisProtocol:
        return RedisProtocol(parser, loop)

    try:
        if options.path is not None:
            coro = loop.create_unix_connection(
                factory,
                options.path,
                ssl=options.ssl,
                server_hostname=options.ssl_server_hostname if options.ssl else None,
            )
        else:
            coro = loop.create_connection(
                factory,
                options.host,
                options.port,
                ssl=options.ssl,
                server_hostname=(options.ssl_server_hostname or options.host)
                if options.ssl
                else None,
                **_HAPPY_EYEBALLS if isinstance(loop, asyncio.BaseEventLoop) else {},
            )
        async with timeout(options.connect_timeout):
            transport, protocol = await coro
    except TIMEOUT_ERRORS as exc:
        raise TimeoutError(
            f"connecting to {options.address} timed out after {options.connect_timeout}s"
        ) from exc
    except OSError as exc:
        raise ConnectionError(f"cannot connect to {options.address}: {_describe(exc)}") from exc
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if options.keepalive:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        except OSError:  # pragma: no cover - platform without these options
            pass
    return transport, protocol


def _shut_down(transport: asyncio.BaseTransport | None) -> None:
    """Send FIN (and stop reading) on the socket of a transport whose loop is closed."""
    sock = None if transport is None else transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except Exception:  # already gone (or a loop's socket wrapper refuses): nothing to do
            pass  # the garbage collector closes the descriptor


#: The stdlib loop races IPv4 and IPv6 addresses (RFC 8305); uvloop lacks the option.
_HAPPY_EYEBALLS: dict[str, Any] = {"happy_eyeballs_delay": 0.25}


def _describe(exc: OSError) -> str:
    text = exc.strerror or str(exc) or exc.__class__.__name__
    return f"{text} ({exc.__class__.__name__})"
