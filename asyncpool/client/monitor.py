"""MONITOR: every command the server runs, as it runs it: :class:`Monitor`.

A monitoring connection never answers anything but the stream of commands,
so :class:`Monitor` takes a connection from the pool for its whole life and
closes it afterwards (the pool then opens a fresh one when needed).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..errors import ConnectionError, RedisError
from ..resp import encode_command
from .replies import to_str

if TYPE_CHECKING:
    from ..pool import AcquireContext, Pool, PooledConnection

__all__ = ["Monitor", "parse_monitor_line"]

_LINE = re.compile(
    r"^(?P<time>[\d.]+) \[(?P<db>\d+) (?P<client>\[[^\]]*\]:\d+|[^\]]*)\] (?P<command>.*)$", re.S
)
_WORD = re.compile(r'"((?:[^"\\]|\\.)*)"')
_CLOSED: Any = object()


def parse_monitor_line(line: str) -> dict[str, Any]:
    """One MONITOR line as redis-py's dict: ``time`` (float), ``db`` (int),
    ``client_address``, ``client_port``, ``client_type`` (``tcp``, ``unix``,
    ``lua``) and ``command`` (the words joined by spaces)."""
    match = _LINE.match(line)
    if match is None:
        return {"time": None, "db": None, "client_address": None, "client_port": None,
                "client_type": None, "command": line}  # fmt: skip
    client = match["client"]
    if client == "lua":
        address, port, kind = "lua", "", "lua"
    elif client.startswith("unix:"):
        address, port, kind = client[5:], "", "unix"
    else:
        address, _, port = client.rpartition(":")
        address = address.strip("[]")  # IPv6 addresses come as [::1]:port
        kind = "tcp"
    words = [w.replace('\\"', '"') for w in _WORD.findall(match["command"])]
    return {
        "time": float(match["time"]),
        "db": int(match["db"]),
        "client_address": address,
        "client_port": port,
        "client_type": kind,
        "command": " ".join(words),
    }


class Monitor:
    """``async with redis.monitor() as m:`` then ``await m.next_command()`` or
    ``async for command in m.listen()``; see :func:`parse_monitor_line` for the shape.

    MONITOR slows the server down noticeably: use it to debug, not in production.
    """

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._ctx: AcquireContext | None = None
        self._lease: PooledConnection | None = None
        self._lines: asyncio.Queue[Any] = asyncio.Queue()

    async def __aenter__(self) -> Monitor:
        ctx = self._pool.acquire()
        lease = await ctx.__aenter__()
        self._ctx, self._lease = ctx, lease
        conn = lease.connection
        protocol = conn.protocol
        protocol.route_all_to_push = True
        protocol.on_push = self._lines.put_nowait
        protocol.on_lost = lambda reason: self._lines.put_nowait(_CLOSED)
        protocol.write(encode_command(("MONITOR",)))
        first = await self._lines.get()
        if first is _CLOSED or to_str(first) != "OK":
            await self.aclose()
            raise RedisError(f"MONITOR failed: {first!r:.80}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop monitoring and close the connection (idempotent)."""
        ctx, lease, self._ctx, self._lease = self._ctx, self._lease, None, None
        if lease is not None:
            protocol = lease.connection.protocol_or_none
            if protocol is not None:
                protocol.on_push = None
                protocol.on_lost = None
            lease.connection.close(ConnectionError("monitor closed"))  # never lent again
        if ctx is not None:
            await ctx.__aexit__(None, None, None)
        self._lines.put_nowait(_CLOSED)

    async def next_command(self) -> dict[str, Any]:
        """The next command the server ran; :class:`~asyncpool.ConnectionError` once closed."""
        line = await self._lines.get()
        if line is _CLOSED:
            self._lines.put_nowait(_CLOSED)
            raise ConnectionError("the monitor connection is closed")
        if isinstance(line, BaseException):
            raise line
        return parse_monitor_line(to_str(line))

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        """Every command the server runs, until the monitor is closed."""
        while True:
            try:
                yield await self.next_command()
            except ConnectionError:
                return
