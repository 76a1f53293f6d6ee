"""The connection handshake: protocol, authentication, database, client name.

Part of the connection layer; :class:`~asyncpool.connection.Connection` runs it
after the socket opens and again after ``RESET``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import AuthenticationError, ConnectionError, ProtocolError, ResponseError
from .options import ConnectionOptions
from .resp import encode_commands
from .transport import RedisProtocol

__all__ = ["LIB_NAME", "LIB_VERSION", "handshake"]

LIB_NAME = "asyncpool"
try:
    from importlib.metadata import version as _dist_version

    LIB_VERSION = _dist_version("asyncpool-redis")  # the distribution name
except Exception:  # pragma: no cover - running from a source tree
    LIB_VERSION = "0"


async def handshake(protocol: RedisProtocol, opts: ConnectionOptions) -> int:
    """Run the handshake on a fresh (or just RESET) connection; return its protocol.

    ``HELLO 3`` with AUTH and SETNAME in one round trip, with SELECT and CLIENT
    SETINFO pipelined behind it; a server without HELLO (or ``protocol=2``) gets
    AUTH / CLIENT SETNAME / SELECT instead, plus a PING that surfaces NOAUTH.
    Raises :class:`~asyncpool.AuthenticationError` for a rejected password and
    :class:`~asyncpool.ConnectionError` for any other refusal.
    """
    auth: list[Any] = []
    if opts.password is not None:
        auth = [opts.username or "default", opts.password]
    setinfo: list[tuple[Any, ...]] = []
    if opts.set_lib_info:
        setinfo = [
            ("CLIENT", "SETINFO", "LIB-NAME", LIB_NAME),
            ("CLIENT", "SETINFO", "LIB-VER", LIB_VERSION),
        ]
    select = [("SELECT", opts.db)] if opts.db else []
    if opts.protocol == 3:
        hello: tuple[Any, ...] = ("HELLO", 3)
        if auth:
            hello += ("AUTH", *auth)
        if opts.client_name:
            hello += ("SETNAME", opts.client_name)
        replies = await _request_many(protocol, [hello, *select, *setinfo], opts)
        first = replies[0]
        if not isinstance(first, ResponseError):
            _check(opts, replies[1 : 1 + len(select)])
            return 3
        if first.code in ("WRONGPASS", "NOAUTH") or "password" in str(first).lower():
            raise AuthenticationError(f"authentication failed for {opts.address}: {first}")
        if first.code != "NOPROTO" and "unknown command" not in str(first).lower():
            raise ConnectionError(f"HELLO failed on {opts.address}: {first}")
    # RESP2: an explicit request, or a server without HELLO.
    commands: list[tuple[Any, ...]] = []
    if auth:
        commands.append(("AUTH", *auth) if opts.username else ("AUTH", opts.password))
    if opts.client_name:
        commands.append(("CLIENT", "SETNAME", opts.client_name))
    commands += select
    if not auth:
        commands.append(("PING",))  # surfaces NOAUTH now rather than on first use
    if opts.protocol == 2:
        commands += setinfo
    replies = await _request_many(protocol, commands, opts)
    if auth and isinstance(replies[0], ResponseError):
        raise AuthenticationError(f"authentication failed for {opts.address}: {replies[0]}")
    n_checked = len(commands) - (len(setinfo) if opts.protocol == 2 else 0)
    _check(opts, replies[:n_checked])
    for reply in replies[n_checked:]:  # CLIENT SETINFO may fail, but not for want of AUTH
        if isinstance(reply, AuthenticationError):
            _check(opts, [reply])
    return 2


def _check(opts: ConnectionOptions, replies: Sequence[Any]) -> None:
    for reply in replies:
        if isinstance(reply, AuthenticationError):
            raise AuthenticationError(f"authentication failed for {opts.address}: {reply}")
        if isinstance(reply, ResponseError):
            raise ConnectionError(f"handshake with {opts.address} failed: {reply}")


async def _request_many(
    protocol: RedisProtocol, commands: Sequence[Sequence[Any]], opts: ConnectionOptions
) -> list[Any]:
    try:
        batch = protocol.request_batch(encode_commands(commands), len(commands))
    except ConnectionError as exc:  # closed before we could write: the server said why
        raise ConnectionError(f"handshake with {opts.address} failed: {exc}") from exc
    try:
        return await batch.future
    except ConnectionError as exc:
        # A server that refuses a client (max number of clients reached ...) answers
        # with an error and closes: that error, not the close, is the news.
        for reply in batch.replies:
            if isinstance(reply, ResponseError):
                raise ConnectionError(f"{opts.address} refused the connection: {reply}") from exc
        raise
    except ProtocolError as exc:
        if batch.replies:
            raise
        raise ProtocolError(
            f"{opts.address} does not look like a Redis server: {_not_resp(exc)}"
        ) from exc


def _not_resp(exc: ProtocolError) -> str:
    text = str(exc)
    if "\\x15" in text or "\\x16" in text:  # a TLS alert or handshake record
        return f"it answered in TLS (use rediss:// or ssl=True); {text}"
    return f"its first reply is not RESP ({text})"
