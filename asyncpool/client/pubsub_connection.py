"""How :class:`~asyncpool.client.pubsub.PubSub` keeps its subscriber connection.

:class:`SubscriberLink` holds the connection half of a PubSub: take a
connection from the pool on first use, put its protocol in subscriber mode,
notice when it is lost, and reconnect with jittered exponential backoff,
subscribing every channel and pattern again before the ``reconnected``
notice is delivered.  :class:`~asyncpool.client.pubsub.PubSub` provides the
state and the public API.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._log_throttle import LogThrottle
from ..connection import Connection
from ..errors import ConnectionError, PoolClosed, TimeoutError
from ..resp import encode_command
from .pubsub_dispatch import _UNSUB, RECONNECTED, ReplyDispatch, _Waiter

if TYPE_CHECKING:
    from ..pool import Pool

__all__ = ["SubscriberLink"]

log = logging.getLogger("asyncpool.pubsub")


class SubscriberLink(ReplyDispatch):
    """The connection half of PubSub (PubSub provides the state)."""

    _pool: Pool
    _conn: Connection | None
    _connecting: asyncio.Lock | None
    _reconnect_task: asyncio.Task[None] | None
    _closed: bool
    _throttle: LogThrottle
    reconnect_backoff: float
    reconnect_backoff_max: float
    max_reconnect_attempts: int | None
    on_reconnect: Callable[[Any], Awaitable[None] | None] | None

    def _expect(self, kind: str, names: Iterable[Any]) -> _Waiter:
        raise NotImplementedError

    # -- the connection -----------------------------------------------------------------------
    async def _ensure_connected(self) -> Connection:
        conn = self._conn
        if conn is not None and not conn.is_closed:
            return conn
        if self._reconnect_task is not None:
            raise ConnectionError("the subscriber connection is being re-established")
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            self._raise_if_closed()
            if self._conn is None or self._conn.is_closed:
                self._conn = await self._dial()
            return self._conn

    async def _dial(self) -> Connection:
        pool = self._pool
        lease = await pool.acquire()  # dialer, hooks, limit, breaker, observer: the pool's
        conn = lease.connection
        if self._closed:
            self._give_back(conn)
            raise ConnectionError("pubsub closed")
        protocol = conn.protocol
        protocol.route_all_to_push = True
        protocol.on_push = self._on_reply
        protocol.on_lost = lambda reason: self._on_lost(conn, reason)
        conn.mark_subscribed()
        return conn

    def _give_back(self, conn: Connection, reason: BaseException | None = None) -> None:
        """Close a subscriber connection and return its slot to the pool."""
        proto = conn.protocol_or_none
        if proto is not None:
            proto.on_lost = None
            proto.on_push = None
        conn.close(reason)
        self._pool.give_back(conn)  # closed: the pool discards it and frees the slot

    def _drop_connection(self, reason: BaseException) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._give_back(conn, reason)

    def _on_lost(self, conn: Connection, reason: BaseException | None) -> None:
        if conn is not self._conn or self._closed:
            if conn is not self._conn:
                self._give_back(conn)
            return
        self._conn = None
        self._give_back(conn)
        error = reason if isinstance(reason, BaseException) else ConnectionError("connection lost")
        log.info("pubsub connection to %s lost: %s", self.options.address, error)
        for fut in self._pings:
            if not fut.done():
                fut.set_exception(ConnectionError(f"subscriber connection lost: {error}"))
        self._pings.clear()
        for waiter in self._internal:  # a re-subscription in progress failed with it
            if not waiter.future.done():
                waiter.future.set_exception(ConnectionError(f"connection lost: {error}"))
        if self._reconnect_task is None:
            self._reconnect_task = asyncio.ensure_future(self._reconnect(error))

    async def _reconnect(self, cause: BaseException) -> None:
        attempt = 0
        while not self._closed:
            attempt += 1
            cap = min(self.reconnect_backoff_max, self.reconnect_backoff * 2 ** (attempt - 1))
            await asyncio.sleep(random.uniform(0 if attempt == 1 else cap / 2, cap))
            self._notice = {"type": RECONNECTED, "pattern": None, "channel": None, "data": cause}
            try:
                await self._resubscribe()
            except PoolClosed as exc:  # the client was closed under us: nothing to heal
                self._reconnect_task = None
                self._notice = None
                self._fail_all(exc)
                self._messages.put_nowait(exc)
                return
            except Exception as exc:  # RedisError mostly; anything else must not end healing
                self._drop_connection(exc)
                self._throttle.log(
                    "reconnect",
                    logging.INFO,
                    "pubsub reconnect attempt %d to %s failed: %s",
                    attempt,
                    self.options.address,
                    exc,
                )
                if (
                    self.max_reconnect_attempts is not None
                    and attempt >= self.max_reconnect_attempts
                ):
                    self._reconnect_task = None
                    self._notice = None
                    self._fail_all(exc)
                    self._messages.put_nowait(exc)
                    return
                continue
            break
        self._reconnect_task = None
        repeats = self._throttle.forget("reconnect")
        if self._closed:
            return
        if repeats is not None:  # "attempt failed" was logged: say once that it is over
            log.info("pubsub reconnected to %s after %d attempt(s)", self.options.address, attempt)
        self._notify_reconnected()
        callback = self.on_reconnect
        if callback is not None:
            try:
                result = callback(self)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("pubsub on_reconnect callback failed")

    async def _resubscribe(self) -> None:
        conn = await self._dial()
        self._conn = conn
        waiters = self._internal
        self._resubscribing = True
        try:
            for command, kind, registry in (
                ("SUBSCRIBE", "subscribe", self._channels),
                ("PSUBSCRIBE", "psubscribe", self._patterns),
                ("SSUBSCRIBE", "ssubscribe", self._shard_channels),
            ):
                names = list(registry.values())
                if names:
                    waiters.append(self._expect(kind, names))
                    conn.protocol.write(encode_command((command, *names)))
            # unsubscriptions lost with the old connection are done: it is gone
            for waiter in self._waiters:
                waiter.keys = {k for k in waiter.keys if k[0] not in _UNSUB}
                if not waiter.keys and not waiter.future.done():
                    waiter.future.set_result(None)
            limit = self.options.socket_timeout or self.options.connect_timeout
            for waiter in waiters:
                await asyncio.wait_for(asyncio.shield(waiter.future), limit)
        except asyncio.TimeoutError:
            raise TimeoutError("the server did not confirm the re-subscription in time") from None
        finally:
            self._resubscribing = False
            for waiter in waiters:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                if not waiter.future.done():
                    waiter.future.cancel()
            waiters.clear()

    def _raise_if_closed(self) -> None:
        if self._closed:
            raise ConnectionError("pubsub is closed")
