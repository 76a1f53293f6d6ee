"""The cache's invalidation stream: one dedicated connection in ``CLIENT TRACKING BCAST`` mode.

:class:`TrackingConnection` opens its own :class:`~asyncpool.Connection` (never
lent by the pool, not counted in ``max_connections``), speaks RESP3, and sends
``CLIENT TRACKING ON BCAST [PREFIX p ...]``.  From then on the server pushes an
``invalidate`` message for every key written by anyone (our own pool included)
and a null one on ``FLUSHALL``/``FLUSHDB``.  The pooled connections are left
exactly as they are: no tracking state on them, nothing for RESET or the
handshake to redo, nothing lost when the pool closes one.

The stream can end three ways and each is reported through ``on_lost``: the
socket closes (server restart, failover, a cut), a PING sent every
``health_check_interval`` is not answered within as long again (a silent
network), or :meth:`close`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..connection import Connection
from ..errors import ConfigError, ConnectionError, RedisError, ResponseError, TimeoutError
from ..options import ConnectionOptions
from ..resp import PushMessage, encode_command

__all__ = ["TrackingConnection"]

log = logging.getLogger("asyncpool.cache")

_INVALIDATE = (b"invalidate", "invalidate")


class TrackingConnection:
    """One live tracking session; made by :meth:`open`, ended by loss or :meth:`close`."""

    def __init__(
        self,
        conn: Connection,
        interval: float,
        on_invalidate: Callable[[Sequence[bytes] | None], None],
        on_lost: Callable[[TrackingConnection, BaseException | None], None],
    ) -> None:
        self._conn = conn
        self._interval = interval
        self._on_invalidate = on_invalidate
        self._on_lost = on_lost
        self._heartbeat: asyncio.Task[None] | None = None
        self.lost = False

    @classmethod
    async def open(
        cls,
        options: ConnectionOptions,
        prefixes: Sequence[bytes],
        interval: float,
        on_invalidate: Callable[[Sequence[bytes] | None], None],
        on_lost: Callable[[TrackingConnection, BaseException | None], None],
    ) -> TrackingConnection:
        """Connect and switch tracking on; invalidations flow once this returns.

        Raises :class:`~asyncpool.ConfigError` when the server cannot do it
        (no RESP3, no ``CLIENT TRACKING``), or the connection error.
        """
        # bytes keys whatever the client decodes; named apart in CLIENT LIST
        name = f"{options.client_name}:cache-tracking" if options.client_name else None
        opts = options.replace(protocol=3, decode_responses=False, client_name=name)
        conn = Connection(opts)
        await conn.connect()
        self = cls(conn, interval, on_invalidate, on_lost)
        try:
            if conn.protocol_version != 3:
                raise ConfigError(
                    f"client-side caching needs RESP3, and {opts.address} does not speak it"
                    " (Redis >= 6.0 is required)"
                )
            protocol = conn.protocol
            protocol.on_push = self._on_push  # set before tracking starts: no push is missed
            command: list[Any] = ["CLIENT", "TRACKING", "ON", "BCAST"]
            for prefix in prefixes:
                command += ["PREFIX", prefix]
            reply = await conn.send_command(command, timeout=max(interval, 1.0) * 5)
            if isinstance(reply, ResponseError):
                raise ConfigError(
                    f"client-side caching needs CLIENT TRACKING (Redis >= 6.0);"
                    f" {opts.address} refused it: {reply}"
                )
            if protocol.closed:
                raise ConnectionError("tracking connection closed during setup")
            protocol.on_lost = self._lost
        except BaseException:
            conn.close()
            raise
        self._heartbeat = asyncio.ensure_future(self._beat())
        return self

    @property
    def connection(self) -> Connection:
        """The underlying connection (for tests and diagnostics)."""
        return self._conn

    def ping(self) -> asyncio.Future[Any]:
        """Send a PING now; its reply comes after every invalidation the server sent before it."""
        fut = self._conn.protocol.request(encode_command(("PING",)))
        fut.add_done_callback(_retrieve)
        return fut

    def close(self) -> None:
        """End the session (no ``on_lost`` call)."""
        self.lost = True
        self._stop_heartbeat()
        protocol = self._conn.protocol_or_none
        if protocol is not None:
            protocol.on_lost = None
            protocol.on_push = None
        self._conn.close()

    # -- callbacks from the transport --------------------------------------------------------
    def _on_push(self, message: Any) -> None:
        if message.__class__ is not PushMessage or len(message) < 2:
            return
        if message[0] not in _INVALIDATE:
            return
        keys = message[1]
        if keys is None:
            self._on_invalidate(None)  # FLUSHALL / FLUSHDB: everything
        elif isinstance(keys, list):
            self._on_invalidate(keys)

    def _lost(self, reason: BaseException | None) -> None:
        if self.lost:
            return
        self.lost = True
        self._stop_heartbeat()
        log.warning("cache tracking connection lost: %s", reason)
        self._on_lost(self, reason)

    # -- liveness -------------------------------------------------------------------------------
    async def _beat(self) -> None:
        interval = self._interval
        try:
            while not self.lost:
                await asyncio.sleep(interval)
                if self.lost:
                    return
                try:
                    await self._conn.send_command(("PING",), timeout=interval)
                except (TimeoutError, ConnectionError, RedisError) as exc:
                    # a timeout closes the connection (Connection._wait): _lost follows
                    self._conn.close(exc)
                    return
        except asyncio.CancelledError:
            pass

    def _stop_heartbeat(self) -> None:
        task, self._heartbeat = self._heartbeat, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()
