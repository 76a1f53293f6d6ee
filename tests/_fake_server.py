"""A scripted fake RESP server on 127.0.0.1, for hostile-server cases only.

Everything that a real ``redis-server`` can do is tested against one; this
stands in only where a test needs a server to send bytes that no real server
sends (a malformed reply, a push at the wrong moment, an HTTP answer).  It
answers the handshake itself (``HELLO``, ``CLIENT SETINFO``, ``PING``,
``SELECT``) unless told not to, and hands every other command to ``answer``,
whose bytes it writes back as they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType

from asyncpool.resp import NEED_MORE, PythonParser

__all__ = ["FakeServer", "resp"]

#: Given one command (its words as bytes), the raw bytes to send back (``b""``: nothing).
Answer = Callable[[list[bytes]], bytes]

_HELLO3 = (
    b"%3\r\n$6\r\nserver\r\n$4\r\nfake\r\n$5\r\nproto\r\n:3\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
)
_HELLO_UNKNOWN = b"-ERR unknown command 'HELLO'\r\n"


def resp(*items: bytes | int | None) -> bytes:
    """Encode plain replies: ``bytes`` as bulk strings, ``int`` as integers, ``None`` as null."""
    out = []
    for item in items:
        if item is None:
            out.append(b"$-1\r\n")
        elif isinstance(item, int):
            out.append(b":%d\r\n" % item)
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(item), item))
    return b"".join(out)


class FakeServer:
    """``async with FakeServer(answer) as server:`` then connect to ``server.host/port``.

    ``resp3`` decides whether ``HELLO 3`` succeeds (else the client falls back
    to RESP2); ``handshake=False`` sends every command, HELLO included, to
    ``answer``; ``greeting`` is written as soon as a client connects.
    ``commands`` records every command received, in order.
    """

    def __init__(
        self,
        answer: Answer | None = None,
        *,
        resp3: bool = True,
        handshake: bool = True,
        greeting: bytes = b"",
    ) -> None:
        self.answer: Answer = answer or (lambda command: b"+OK\r\n")
        self.resp3 = resp3
        self.handshake = handshake
        self.greeting = greeting
        self.host = "127.0.0.1"
        self.port = 0
        self.commands: list[list[bytes]] = []
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> FakeServer:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    def _handshake_reply(self, command: list[bytes]) -> bytes | None:
        name = command[0].upper()
        if name == b"HELLO":
            return _HELLO3 if self.resp3 and command[1:2] == [b"3"] else _HELLO_UNKNOWN
        if name == b"CLIENT" and command[1:2] and command[1].upper() == b"SETINFO":
            return b"+OK\r\n"
        if name in (b"PING", b"SELECT", b"AUTH"):
            return b"+PONG\r\n" if name == b"PING" else b"+OK\r\n"
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        parser = PythonParser()  # commands are RESP arrays of bulk strings: it reads them too
        try:
            if self.greeting:
                writer.write(self.greeting)
            while data := await reader.read(65536):
                parser.feed(data)
                while (command := parser.gets()) is not NEED_MORE:
                    assert isinstance(command, list)
                    self.commands.append(command)
                    reply = self._handshake_reply(command) if self.handshake else None
                    writer.write(self.answer(command) if reply is None else reply)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
