"""The raw ceiling: an ``asyncio.Protocol`` feeding hiredis, one connection per task.

No pool, no timeouts, no retries, no command objects, pre-encoded requests:
what "one awaited command per round trip" can reach on this loop.  asyncpool's
rows are reported as a fraction of it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import hiredis


def encode(*args: bytes) -> bytes:
    """RESP array of bulk strings for ``args``."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class RawProtocol(asyncio.Protocol):
    """Writes requests, resolves one future per reply, in order."""

    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        #: One entry per owed reply; ``None`` for replies nobody awaits (inside a batch).
        self.waiters: deque[asyncio.Future[Any] | None] = deque()
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance check
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        waiters = self.waiters
        while True:
            reply = reader.gets()
            if reply is False:
                return
            fut = waiters.popleft()
            if fut is not None and not fut.done():
                fut.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        while self.waiters:
            fut = self.waiters.popleft()
            if fut is not None and not fut.done():
                fut.set_exception(ConnectionError("connection lost"))

    def request(self, data: bytes, replies: int = 1) -> asyncio.Future[Any]:
        """Write ``data`` (``replies`` commands); the last reply resolves the future."""
        waiters = self.waiters
        for _ in range(replies - 1):
            waiters.append(None)
        fut = self.loop.create_future()
        waiters.append(fut)
        self.transport.write(data)  # type: ignore[union-attr]
        return fut


class RawConnection:
    """One raw connection; GET/SET of bytes keys and values."""

    def __init__(self, protocol: RawProtocol) -> None:
        self.protocol = protocol

    @classmethod
    async def open(cls, host: str, port: int) -> RawConnection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(RawProtocol, host, port)
        return cls(protocol)

    def get(self, key: bytes) -> asyncio.Future[Any]:
        return self.protocol.request(encode(b"GET", key))

    def set(self, key: bytes, value: bytes) -> asyncio.Future[Any]:
        return self.protocol.request(encode(b"SET", key, value))

    def many(self, data: bytes, count: int) -> asyncio.Future[Any]:
        return self.protocol.request(data, count)

    def close(self) -> None:
        if self.protocol.transport is not None:
            self.protocol.transport.close()
