"""Publish/subscribe on a dedicated connection that heals itself: :class:`PubSub`.

A subscriber connection stays in subscriber mode for its whole life.
:class:`PubSub` takes it from its client's :class:`~asyncpool.Pool` on the
first subscribe (so it goes where the pool's dialer says, passes the pool's
``on_connect`` / ``on_acquire`` hooks, counts against ``max_connections``,
respects the circuit breaker and is seen by the observer), keeps it lent for
as long as it lives, and closes it before handing it back: a subscriber
connection is never reused.  Its protocol is put in subscriber mode (every
reply goes to one handler, which turns it into a message).  RESP2 (messages
are arrays) and RESP3 (push messages) both work.

Messages are dicts in the redis-py shape ``{"type", "pattern", "channel",
"data"}``; ``data`` is bytes, or str with ``decode_responses``.  Types:
``message``, ``pmessage``, ``smessage`` (sharded), the (un)subscribe
confirmations ``subscribe``, ``psubscribe``, ``ssubscribe``, ``unsubscribe``,
``punsubscribe``, ``sunsubscribe`` (they carry the subscription count in
``data``), and asyncpool's own :data:`RECONNECTED`.  A channel subscribed with
a handler (``subscribe(news=handler)``) has its messages passed to the handler
by whichever call reads them (:meth:`PubSub.get_message`, iteration,
:meth:`PubSub.listen`, :meth:`PubSub.run`) instead of returned.

Reconnection.  When the connection drops (CLIENT KILL, server restart,
network), PubSub dials again with jittered exponential backoff, subscribes
every channel and pattern again, and once the server confirmed them all
delivers ``{"type": "reconnected", "pattern": None, "channel": None, "data":
<the exception that ended the old connection>}`` in the stream, ahead of any
later message, then calls ``on_reconnect(pubsub)`` (sync or async) if given.
Messages published while disconnected are lost (pub/sub has no memory);
every message published after the notice arrives.  The re-subscription
confirmations themselves are not delivered.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any

from .._log_throttle import LogThrottle
from .._types import NOT_GIVEN, NotGiven
from ..connection import Connection
from ..errors import ConfigError, ConnectionError, RedisError, TimeoutError
from ..pool import Pool
from ..resp import encode_command
from .pubsub_connection import SubscriberLink
from .pubsub_dispatch import (
    _CLOSED,
    _SUBSCRIBE_KINDS,
    _UNSUB,
    RECONNECTED,
    PubSubMessage,
    _Waiter,
)

__all__ = ["RECONNECTED", "PubSub", "PubSubMessage"]

log = logging.getLogger("asyncpool.pubsub")

#: A per-channel message handler: called with the message; may be a coroutine function.
Handler = Callable[[PubSubMessage], Awaitable[None] | None]


class PubSub(SubscriberLink):
    """A publish/subscribe session: ``async with redis.pubsub() as ps``.

    ::

        async with redis.pubsub(ignore_subscribe_messages=True) as ps:
            await ps.subscribe("news")
            await ps.psubscribe("alerts.*")
            async for message in ps:
                print(message["channel"], message["data"])

    ``subscribe`` / ``psubscribe`` / ``unsubscribe`` / ``punsubscribe`` return
    once the server confirmed them.  ``reconnect_backoff`` and
    ``reconnect_backoff_max`` shape the delay between reconnection attempts;
    ``max_reconnect_attempts`` (None: forever) bounds them, after which
    reading raises the last :class:`~asyncpool.ConnectionError`.
    Unread messages are buffered without bound: keep reading.
    """

    def __init__(
        self,
        pool: Pool,
        *,
        ignore_subscribe_messages: bool = False,
        on_reconnect: Callable[[PubSub], Awaitable[None] | None] | None = None,
        reconnect_backoff: float = 0.05,
        reconnect_backoff_max: float = 2.0,
        max_reconnect_attempts: int | None = None,
    ) -> None:
        self._pool = pool
        self.options = pool.connection_options
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.on_reconnect = on_reconnect
        self.reconnect_backoff = reconnect_backoff
        self.reconnect_backoff_max = reconnect_backoff_max
        self.max_reconnect_attempts = max_reconnect_attempts
        self._conn: Connection | None = None
        self._connecting: asyncio.Lock | None = None
        self._channels: dict[bytes, Any] = {}
        self._patterns: dict[bytes, Any] = {}
        self._shard_channels: dict[bytes, Any] = {}
        #: per-channel / per-pattern handlers: ``("channel" | "pattern", key) -> handler``
        self._handlers: dict[tuple[str, bytes], Handler] = {}
        self._messages: asyncio.Queue[Any] = asyncio.Queue()
        self._waiters: list[_Waiter] = []
        self._internal: list[_Waiter] = []  # waiters of a re-subscription in progress
        self._pings: list[asyncio.Future[Any]] = []
        self._reconnect_task: asyncio.Task[None] | None = None
        self._resubscribing = False
        self._notice: PubSubMessage | None = None
        self._closed = False
        #: Reconnect failures repeat through an outage: logged once per interval, counted.
        self._throttle = LogThrottle(log)

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("connected" if self.connected else "idle")
        return (
            f"<PubSub {self.options.address} channels={len(self._channels)}"
            f" patterns={len(self._patterns)} {state}>"
        )

    # -- lifecycle ---------------------------------------------------------------------
    async def __aenter__(self) -> PubSub:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection and stop reconnecting; iterators end (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._channels.clear()  # nothing is subscribed any more (``subscribed`` is False)
        self._patterns.clear()
        self._shard_channels.clear()
        self._handlers.clear()
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._drop_connection(ConnectionError("pubsub closed"))
        self._fail_all(ConnectionError("pubsub closed"))
        self._messages.put_nowait(_CLOSED)

    @property
    def connected(self) -> bool:
        """True while the subscriber connection is open."""
        return self._conn is not None and not self._conn.is_closed

    @property
    def subscribed(self) -> bool:
        """True when at least one channel or pattern is subscribed."""
        return bool(self._channels or self._patterns or self._shard_channels)

    @property
    def channels(self) -> list[Any]:
        """The subscribed channels, as given."""
        return list(self._channels.values())

    @property
    def patterns(self) -> list[Any]:
        """The subscribed patterns, as given."""
        return list(self._patterns.values())

    # -- subscribing -----------------------------------------------------------------------
    async def subscribe(self, *channels: Any, **handlers: Handler) -> None:
        """SUBSCRIBE ``channels``; returns once the server confirmed each one.

        ``subscribe(news=handler)`` subscribes ``news`` with a handler: its
        messages are passed to ``handler(message)`` (sync or async) by the
        reading call (:meth:`get_message`, iteration, :meth:`listen`,
        :meth:`run`) instead of being returned.
        """
        self._set_handlers("channel", handlers)
        names = [*channels, *handlers]
        await self._change("SUBSCRIBE", "subscribe", self._channels, names)

    async def psubscribe(self, *patterns: Any, **handlers: Handler) -> None:
        """PSUBSCRIBE ``patterns`` (glob-style); returns once confirmed.
        ``psubscribe(**{"news.*": handler})`` sets a handler as :meth:`subscribe` does."""
        self._set_handlers("pattern", handlers)
        names = [*patterns, *handlers]
        await self._change("PSUBSCRIBE", "psubscribe", self._patterns, names)

    async def ssubscribe(self, *channels: Any, **handlers: Handler) -> None:
        """SSUBSCRIBE shard ``channels`` (Redis 7; messages have type ``smessage``), with
        handlers as :meth:`subscribe`.  On a cluster the channels must share a slot."""
        self._set_handlers("shard", handlers)
        names = [*channels, *handlers]
        await self._change("SSUBSCRIBE", "ssubscribe", self._shard_channels, names)

    async def sunsubscribe(self, *channels: Any) -> None:
        """SUNSUBSCRIBE shard ``channels`` (none: every one); returns once confirmed."""
        self._drop_handlers("shard", channels, self._shard_channels)
        await self._change("SUNSUBSCRIBE", "sunsubscribe", self._shard_channels, channels)

    async def unsubscribe(self, *channels: Any) -> None:
        """UNSUBSCRIBE ``channels`` (none: every channel); returns once confirmed."""
        self._drop_handlers("channel", channels, self._channels)
        await self._change("UNSUBSCRIBE", "unsubscribe", self._channels, channels)

    async def punsubscribe(self, *patterns: Any) -> None:
        """PUNSUBSCRIBE ``patterns`` (none: every pattern); returns once confirmed."""
        self._drop_handlers("pattern", patterns, self._patterns)
        await self._change("PUNSUBSCRIBE", "punsubscribe", self._patterns, patterns)

    def _set_handlers(self, kind: str, handlers: dict[str, Handler]) -> None:
        for name, handler in handlers.items():
            if not callable(handler):
                raise ConfigError(f"the handler of {name!r} is not callable")
            self._handlers[(kind, self._key(name))] = handler

    def _drop_handlers(self, kind: str, names: Iterable[Any], registry: dict[bytes, Any]) -> None:
        for name in list(names) or list(registry.values()):
            self._handlers.pop((kind, self._key(name)), None)

    async def _change(
        self, command: str, kind: str, registry: dict[bytes, Any], names: Iterable[Any]
    ) -> None:
        self._raise_if_closed()
        given = list(names)
        if kind in _UNSUB:
            targets = given or list(registry.values())
            for name in targets:
                registry.pop(self._key(name), None)
            if not targets or not self.connected:
                return  # nothing subscribed, or the new connection will not subscribe them
        else:
            if not given:
                raise RedisError(f"{kind}() needs at least one name")
            targets = given
            for name in targets:
                registry[self._key(name)] = name
        waiter = self._expect(kind, targets)
        try:
            conn = await self._ensure_connected()
        except BaseException:
            if self._reconnect_task is None:  # no connection, and none coming: undo
                self._waiters.remove(waiter)
                if kind not in _UNSUB:
                    for name in targets:
                        registry.pop(self._key(name), None)
                raise
            conn = None  # the reconnection subscribes everything and resolves the waiter
        if conn is not None:
            try:
                conn.protocol.write(encode_command((command, *given)))
            except ConnectionError:
                pass  # lost just now: the reconnection takes over, as above
        await self._wait(waiter)

    def _expect(self, kind: str, names: Iterable[Any]) -> _Waiter:
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop.create_future(), {(kind, self._key(n)) for n in names})
        self._waiters.append(waiter)
        return waiter

    async def _wait(self, waiter: _Waiter) -> None:
        try:
            limit = self.options.socket_timeout
            if limit is None:
                await waiter.future
            else:
                await asyncio.wait_for(asyncio.shield(waiter.future), limit)
        except asyncio.TimeoutError:
            raise TimeoutError("the server did not confirm the subscription in time") from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    # -- reading ---------------------------------------------------------------------------
    def __aiter__(self) -> PubSub:
        return self

    async def __anext__(self) -> PubSubMessage:
        while True:
            message = await self._messages.get()
            if message is _CLOSED:
                self._messages.put_nowait(_CLOSED)  # wake every other reader too
                raise StopAsyncIteration
            if isinstance(message, BaseException):
                raise message
            if self._skip(message, self.ignore_subscribe_messages):
                continue
            if not await self._handled(message):
                return message  # type: ignore[no-any-return]

    async def listen(self) -> AsyncIterator[PubSubMessage]:
        """Every message, as they come, until the PubSub is closed (redis-py's ``listen``).

        Messages of channels with a handler go to the handler instead.
        """
        while True:
            try:
                yield await self.__anext__()
            except StopAsyncIteration:
                return

    async def get_message(
        self, ignore_subscribe_messages: bool = False, timeout: float | None = 0.0
    ) -> PubSubMessage | None:
        """The next message, or ``None`` when none arrives within ``timeout`` seconds.

        As redis-py: the default ``timeout=0.0`` only looks at what already
        arrived and returns at once; ``None`` waits as long as it takes.
        Subscribe confirmations are skipped when this call's
        ``ignore_subscribe_messages`` or the PubSub's is set.  A message
        passed to its channel's handler returns ``None``, as does a closed PubSub.
        """
        ignore = ignore_subscribe_messages or self.ignore_subscribe_messages
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            if not self._messages.empty():
                message = self._messages.get_nowait()
            elif deadline is None:
                message = await self._messages.get()
            else:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                try:
                    message = await asyncio.wait_for(self._messages.get(), remaining)
                except asyncio.TimeoutError:
                    return None
            if message is _CLOSED:
                self._messages.put_nowait(_CLOSED)
                return None
            if isinstance(message, BaseException):
                raise message
            if self._skip(message, ignore):
                continue
            if await self._handled(message):
                return None
            return message  # type: ignore[no-any-return]

    async def run(
        self,
        *,
        exception_handler: Callable[[BaseException, PubSub], Awaitable[None] | None] | None = None,
        poll_timeout: float = 1.0,
    ) -> None:
        """Pass every message to its handler until the PubSub is closed (redis-py's ``run``).

        Every subscribed channel and pattern needs a handler.  An exception
        from reading or from a handler ends the loop, unless
        ``exception_handler(exc, pubsub)`` (sync or async) takes it.
        Cancel the task or :meth:`aclose` the PubSub to stop it.
        """
        registries = (
            ("channel", self._channels),
            ("pattern", self._patterns),
            ("shard", self._shard_channels),
        )
        for kind, registry in registries:
            for key, name in registry.items():
                if (kind, key) not in self._handlers:
                    raise ConfigError(f"{kind} {name!r} has no handler; run() needs one for each")
        while not self._closed:
            try:
                await self.get_message(ignore_subscribe_messages=True, timeout=poll_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if exception_handler is None:
                    raise
                result = exception_handler(exc, self)
                if inspect.isawaitable(result):
                    await result

    async def _handled(self, message: PubSubMessage) -> bool:
        """Give ``message`` to its channel's (or pattern's) handler; False when it has none."""
        if not self._handlers or message["type"] not in ("message", "pmessage", "smessage"):
            return False
        if message["type"] == "pmessage":
            handler = self._handlers.get(("pattern", self._key(message["pattern"])))
        elif message["type"] == "smessage":
            handler = self._handlers.get(("shard", self._key(message["channel"])))
        else:
            handler = self._handlers.get(("channel", self._key(message["channel"])))
        if handler is None:
            return False
        result = handler(message)
        if inspect.isawaitable(result):
            await result
        return True

    @staticmethod
    def _skip(message: PubSubMessage, ignore_subscribe_messages: bool) -> bool:
        return ignore_subscribe_messages and message["type"] in _SUBSCRIBE_KINDS

    async def ping(self, timeout: float | NotGiven | None = NOT_GIVEN) -> bool:
        """PING the server over the subscriber connection; True when it answered.

        ``timeout`` defaults to ``socket_timeout``; ``None`` waits as long as it takes.
        """
        self._raise_if_closed()
        conn = await self._ensure_connected()
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pings.append(fut)
        try:
            conn.protocol.write(encode_command(("PING",)))
            limit = self.options.socket_timeout if timeout is NOT_GIVEN else timeout
            await asyncio.wait_for(asyncio.shield(fut), limit)
        except asyncio.TimeoutError:
            raise TimeoutError("no reply to PING on the subscriber connection") from None
        finally:
            if fut in self._pings and not fut.done():
                fut.cancel()  # its reply, if late, resolves no-one (see _on_pong)
        return True
