"""Hand-rolled RESP2 helpers for the harness and its tests.

They let the harness check a server (readiness, auth, TLS) without the
client layers.  Only what tests need: encode a command, read one reply.
Replies decode to ``str`` (simple strings), ``int``, ``bytes`` (bulk),
``None`` (null), ``list`` (arrays) and :class:`RawError` (error replies,
returned, not raised).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Protocol, TypeAlias

__all__ = [
    "RawError",
    "Reply",
    "async_command",
    "encode_command",
    "read_reply",
    "read_reply_async",
    "sync_command",
]


class RawError(str):
    """An error reply (``-ERR ...``), kept as a value so tests can assert on it."""

    __slots__ = ()


Reply: TypeAlias = "str | int | bytes | RawError | list[Reply] | None"


def encode_command(*args: str | bytes | int) -> bytes:
    """Encode ``args`` as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _LineSource(Protocol):
    def readline(self) -> bytes: ...  # pragma: no cover
    def read(self, n: int) -> bytes: ...  # pragma: no cover


def _parse_scalar(line: bytes) -> tuple[bool, Reply | int]:
    """Decode a header line; return (needs_more, value-or-length)."""
    if not line.endswith(b"\r\n"):
        raise EOFError("connection closed in the middle of a reply")
    kind, body = line[:1], line[1:-2].decode()
    if kind == b"+":
        return False, body
    if kind == b"-":
        return False, RawError(body)
    if kind == b":":
        return False, int(body)
    if kind in (b"$", b"*"):
        return True, int(body)
    raise ValueError(f"unexpected RESP type byte {kind!r}")


def read_reply(stream: _LineSource) -> Reply:
    """Read one reply from a binary file-like object (``socket.makefile("rb")``)."""
    line = stream.readline()
    needs_more, value = _parse_scalar(line)
    if not needs_more:
        return value
    assert isinstance(value, int)
    if value < 0:
        return None
    if line[:1] == b"$":
        data = stream.read(value + 2)
        if len(data) != value + 2:
            raise EOFError("connection closed in the middle of a bulk string")
        return data[:-2]
    return [read_reply(stream) for _ in range(value)]


async def read_reply_async(reader: asyncio.StreamReader) -> Reply:
    """Read one reply from an asyncio stream; :class:`EOFError` on a closed stream."""
    line = await reader.readline()
    needs_more, value = _parse_scalar(line)
    if not needs_more:
        return value
    assert isinstance(value, int)
    if value < 0:
        return None
    if line[:1] == b"$":
        try:
            data = await reader.readexactly(value + 2)
        except asyncio.IncompleteReadError as exc:
            raise EOFError("connection closed in the middle of a bulk string") from exc
        return data[:-2]
    return [await read_reply_async(reader) for _ in range(value)]


async def async_command(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *args: str | bytes | int
) -> Reply:
    """Send one command on an open asyncio stream and read its reply."""
    writer.write(encode_command(*args))
    await writer.drain()
    return await read_reply_async(reader)


def sync_command(
    host: str,
    port: int,
    *args: str | bytes | int,
    timeout: float = 2.0,
    ssl_context: ssl.SSLContext | None = None,
    unix_path: str | None = None,
    auth: tuple[str, ...] = (),
) -> Reply:
    """Open a blocking connection, optionally ``AUTH``, run one command, return its reply.

    ``auth`` is the argument list of ``AUTH`` (``("pw",)`` or ``("user", "pw")``);
    an error reply to it is returned instead of running the command.
    Socket errors and timeouts propagate as :class:`OSError` subclasses.
    """
    sock: socket.socket
    if unix_path is not None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        target: str | tuple[str, int] = unix_path
    else:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        target = (host, port)
    with sock:
        sock.connect(target)
        conn = sock
        if ssl_context is not None:
            conn = ssl_context.wrap_socket(sock, server_hostname=host)
        with conn, conn.makefile("rb") as stream:
            if auth:
                conn.sendall(encode_command("AUTH", *auth))
                reply = read_reply(stream)
                if isinstance(reply, RawError):
                    return reply
            conn.sendall(encode_command(*args))
            return read_reply(stream)
