"""A loopback TCP proxy that injects network faults between a client and a server.

:class:`FaultProxy` runs in the test's event loop.  Faults can be switched at
any time and apply to live connections as well as new ones.  The proxy never
parses RESP: it forwards bytes, so it works for TLS too (point a ``rediss://``
client at it with ``scheme="rediss"``; certificates are for 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType

from asyncpool.testing._util import format_url

__all__ = ["FaultProxy"]

_READ_SIZE = 65536


def _consume_result(task: asyncio.Task[None]) -> None:
    """Retrieve a finished pump's exception so asyncio does not log it."""
    if not task.cancelled():
        task.exception()


class _Link:
    """One proxied client connection and its upstream twin."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.client_reader = reader
        self.client_writer = writer
        self.upstream_reader: asyncio.StreamReader | None = None
        self.upstream_writer: asyncio.StreamWriter | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.closed = False
        self.doomed = False  # cut_after_request fired: drop replies, then close
        self.reply_seen = asyncio.Event()

    def close(self) -> None:
        """Close both sockets now (FIN, or RST if unread data) and cancel the link's tasks."""
        self.closed = True
        self.client_writer.transport.abort()
        if self.upstream_writer is not None:
            self.upstream_writer.transport.abort()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()


class FaultProxy:
    """Forward ``127.0.0.1:<port>`` (or ``[::1]``) to ``target_host:target_port``, with faults.

    Faults (each may be switched on or off at any time):

    * :meth:`delay` -- hold every forwarded chunk, both ways, for some seconds;
    * :meth:`cut` -- close every open connection now (new ones are accepted);
    * :meth:`refuse` -- close new connections as soon as they are accepted;
    * :meth:`blackhole` -- keep connections open but forward nothing;
    * :meth:`chunk` -- split server-to-client data into small separate writes;
    * :meth:`cut_after_request` -- let the next request reach the server, then
      close the connection before the reply reaches the client.

    Counters: :attr:`connections_total` (accepted since start, refused ones
    included), :attr:`connections_refused`, :attr:`connections_open`,
    :attr:`bytes_upstream`, :attr:`bytes_downstream`.  :meth:`wait_for`
    waits for a condition on them without sleeping.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        host: str | None = None,
        scheme: str = "redis",
        connect_timeout: float = 5.0,
        settle_timeout: float = 1.0,
    ) -> None:
        if host is None:
            host = "::1" if target_host == "::1" else "127.0.0.1"
        if host not in ("127.0.0.1", "::1"):
            raise ValueError("FaultProxy only listens on 127.0.0.1 or ::1")
        self.target_host = target_host
        self.target_port = target_port
        self.host = host
        self.port = 0
        self.scheme = scheme
        self.connect_timeout = connect_timeout
        #: How long cut_after_request waits for the server's first reply bytes.
        self.settle_timeout = settle_timeout
        self.connections_total = 0
        self.connections_refused = 0
        self.bytes_upstream = 0
        self.bytes_downstream = 0
        self._links: set[_Link] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._delay = 0.0
        self._chunk: int | None = None
        self._refuse = False
        self._cut_after_request = False
        self._cut_once = False
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._changed = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> FaultProxy:
        """Listen on a free port of :attr:`host`; return ``self``."""
        if self._server is None:
            self._server = await asyncio.start_server(self._handle, self.host, 0)
            self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def aclose(self) -> None:
        """Stop listening, close every connection and cancel every task (bounded in time)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = set(self._handlers)
        for link in list(self._links):
            tasks |= link.tasks
            link.close()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        if server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        self._flowing.set()

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0`` (with :attr:`scheme`), no credentials."""
        return format_url(self.scheme, self.host, self.port)

    @property
    def connections_open(self) -> int:
        """Client connections currently open through the proxy."""
        return len(self._links)

    # -- faults ---------------------------------------------------------------------------

    def delay(self, seconds: float) -> None:
        """Delay every forwarded chunk, each direction, by ``seconds`` (0 turns it off).

        Chunks of one direction are delayed one after another, so the delay
        also limits throughput; that is fine for latency tests.
        """
        if seconds < 0:
            raise ValueError("delay must be >= 0")
        self._delay = seconds

    def cut(self) -> int:
        """Close every open connection now; return how many were closed."""
        links = list(self._links)
        for link in links:
            link.close()
        return len(links)

    def refuse(self, enabled: bool = True) -> None:
        """While enabled, new connections are closed as soon as they are accepted."""
        self._refuse = enabled

    def blackhole(self, enabled: bool = True) -> None:
        """While enabled, connections are accepted and kept open but nothing is forwarded.

        Bytes read meanwhile are held and forwarded once the blackhole ends.
        """
        if enabled:
            self._flowing.clear()
        else:
            self._flowing.set()

    def chunk(self, size: int | None) -> None:
        """Forward server-to-client bytes in writes of at most ``size`` bytes (None: off)."""
        if size is not None and size < 1:
            raise ValueError("chunk size must be >= 1 or None")
        self._chunk = size

    def cut_after_request(self, enabled: bool = True, *, once: bool = False) -> None:
        """While enabled, a connection's next client bytes reach the server, then it dies.

        The reply is never forwarded: the proxy waits (up to
        :attr:`settle_timeout`) for the server's first reply bytes, drops them and
        closes both sides, so the client sees EOF after the server acted.  With
        ``once=True`` the fault disarms itself after firing once.
        """
        self._cut_after_request = enabled
        self._cut_once = once

    def reset(self) -> None:
        """Turn every fault off (open connections are left alone)."""
        self.delay(0)
        self.refuse(False)
        self.blackhole(False)
        self.chunk(None)
        self.cut_after_request(False)

    async def wait_for(self, predicate: Callable[[FaultProxy], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate(proxy)`` is true; it is re-checked on every proxy event.

        Raises :class:`TimeoutError` (builtin) after ``timeout`` seconds.
        """

        async def until() -> None:
            while True:
                changed = self._changed
                if predicate(self):
                    return
                await changed.wait()

        try:
            await asyncio.wait_for(until(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"proxy condition not met within {timeout}s") from None

    def __repr__(self) -> str:
        return (
            f"<FaultProxy {self.host}:{self.port} -> {self.target_host}:{self.target_port}"
            f" open={self.connections_open}>"
        )

    # -- internals ------------------------------------------------------------------------

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_total += 1
        if self._refuse or self._server is None:
            self.connections_refused += 1
            writer.transport.abort()
            self._notify()
            return
        task = asyncio.current_task()
        assert task is not None
        link = _Link(reader, writer)
        link.tasks.add(task)
        self._handlers.add(task)
        self._links.add(link)
        self._notify()
        try:
            await self._flowing.wait()  # a blackhole does not even reach the server
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(self.target_host, self.target_port),
                self.connect_timeout,
            )
            link.upstream_reader, link.upstream_writer = up_reader, up_writer
            if link.closed:
                return
            pumps = {
                asyncio.create_task(self._client_to_server(link)),
                asyncio.create_task(self._server_to_client(link)),
            }
            for pump in pumps:
                pump.add_done_callback(_consume_result)
            link.tasks |= pumps
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        except (OSError, asyncio.TimeoutError):
            pass  # upstream unreachable: the client just sees the connection close
        except asyncio.CancelledError:
            # Only cut()/aclose() cancel this task, which nothing awaits; ending it
            # normally keeps asyncio's stream callback from logging the cancellation.
            pass
        finally:
            link.close()
            self._links.discard(link)
            self._handlers.discard(task)
            self._notify()

    async def _forward_delay(self) -> None:
        await self._flowing.wait()
        if self._delay > 0:
            await asyncio.sleep(self._delay)
            await self._flowing.wait()

    async def _client_to_server(self, link: _Link) -> None:
        assert link.upstream_writer is not None
        while True:
            data = await link.client_reader.read(_READ_SIZE)
            if not data:
                return
            await self._forward_delay()
            if self._cut_after_request:
                if self._cut_once:
                    self._cut_after_request = False
                link.doomed = True
            link.upstream_writer.write(data)
            await link.upstream_writer.drain()
            self.bytes_upstream += len(data)
            self._notify()
            if link.doomed:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(link.reply_seen.wait(), self.settle_timeout)
                return  # the handler closes both sides

    async def _server_to_client(self, link: _Link) -> None:
        assert link.upstream_reader is not None
        writer = link.client_writer
        while True:
            data = await link.upstream_reader.read(_READ_SIZE)
            if not data:
                return
            if not link.doomed:
                await self._forward_delay()
            if link.doomed:
                link.reply_seen.set()
                continue
            size = self._chunk
            if size is None:
                writer.write(data)
                await writer.drain()
            else:
                for start in range(0, len(data), size):
                    writer.write(data[start : start + size])
                    await writer.drain()
                    await asyncio.sleep(0)  # let the client's loop see each piece
            self.bytes_downstream += len(data)
            self._notify()
