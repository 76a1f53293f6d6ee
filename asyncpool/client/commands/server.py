"""Connection and server commands: PING, INFO, CLIENT, CONFIG, FLUSH*, TIME, ..."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT
from ..replies import StrT
from ._base import CommandMixin, Reply

__all__ = ["ServerCommands"]


def _pong(reply: Any) -> bool:
    return reply in (b"PONG", "PONG")


def _str_pairs(reply: Any) -> dict[str, str]:
    return {replies.to_str(k): replies.to_str(v) for k, v in replies.to_dict(reply).items()}


def _time(reply: Any) -> tuple[int, int]:
    return (int(reply[0]), int(reply[1]))


class ServerCommands(CommandMixin[StrT]):
    """Commands about the connection and the server as a whole."""

    __slots__ = ()

    def ping(self) -> Reply[bool]:
        """PING: ``True`` when the server answers ``PONG``."""
        return self._cmd(("PING",), _pong)

    def echo(self, value: EncodableT) -> Reply[StrT]:
        """ECHO: ``value`` sent back by the server."""
        return self._cmd(("ECHO", value))

    def info(self, section: str | None = None, *args: str) -> Reply[dict[str, Any]]:
        """INFO: server information as a dict (numbers parsed), optionally for some sections."""
        command = ("INFO",) if section is None else ("INFO", section, *args)
        return self._cmd(command, replies.parse_info)

    def dbsize(self) -> Reply[int]:
        """DBSIZE: the number of keys in the selected database."""
        return self._cmd(("DBSIZE",))

    def flushdb(self, asynchronous: bool = False) -> Reply[bool]:
        """FLUSHDB: delete every key of the selected database (``ASYNC`` when asked)."""
        args: tuple[Any, ...] = ("FLUSHDB", "ASYNC") if asynchronous else ("FLUSHDB",)
        return self._cmd(args, replies.ok)

    def flushall(self, asynchronous: bool = False) -> Reply[bool]:
        """FLUSHALL: delete every key of every database (``ASYNC`` when asked)."""
        args: tuple[Any, ...] = ("FLUSHALL", "ASYNC") if asynchronous else ("FLUSHALL",)
        return self._cmd(args, replies.ok)

    def time(self) -> Reply[tuple[int, int]]:
        """TIME: the server clock as ``(unix seconds, microseconds)``."""
        return self._cmd(("TIME",), _time)

    # -- CLIENT ----------------------------------------------------------------------
    def client_setname(self, name: EncodableT) -> Reply[bool]:
        """CLIENT SETNAME on the connection that runs it.

        On a pooled :class:`~asyncpool.Redis` that connection is reset when it
        goes back to the pool, so use it on a pinned connection
        (``redis.connection()``) or set ``client_name`` in the options instead.
        """
        return self._cmd(("CLIENT", "SETNAME", name), replies.ok)

    def client_getname(self) -> Reply[str | None]:
        """CLIENT GETNAME: this connection's name as ``str``, or ``None``."""
        return self._cmd(("CLIENT", "GETNAME"), replies.to_str_or_none)

    def client_id(self) -> Reply[int]:
        """CLIENT ID: this connection's id on the server."""
        return self._cmd(("CLIENT", "ID"))

    def client_list(
        self, _type: str | None = None, client_id: Sequence[EncodableT] = ()
    ) -> Reply[list[dict[str, str]]]:
        """CLIENT LIST: one ``{field: value}`` dict (``str``) per connected client.

        ``_type`` filters by ``normal``, ``master``, ``replica`` or ``pubsub``;
        ``client_id`` by client ids.
        """
        args: tuple[Any, ...] = ("CLIENT", "LIST")
        if _type is not None:
            args += ("TYPE", _type)
        if client_id:
            args += ("ID", *client_id)
        return self._cmd(args, replies.parse_client_list)

    def client_kill(self, address: str) -> Reply[bool]:
        """CLIENT KILL ``ip:port`` (the old form): ``True`` when a client was closed."""
        return self._cmd(("CLIENT", "KILL", address), replies.ok)

    def client_kill_filter(
        self,
        _id: int | None = None,
        _type: str | None = None,
        addr: str | None = None,
        skipme: bool | None = None,
        laddr: str | None = None,
        user: str | None = None,
        maxage: int | None = None,
    ) -> Reply[int]:
        """CLIENT KILL with filters: the number of clients closed.

        At least one filter is required; ``skipme=False`` also allows closing
        the calling connection.
        """
        args: list[Any] = ["CLIENT", "KILL"]
        for word, value in (
            ("ID", _id),
            ("TYPE", _type),
            ("ADDR", addr),
            ("LADDR", laddr),
            ("USER", user),
            ("MAXAGE", maxage),
        ):
            if value is not None:
                args += (word, value)
        if skipme is not None:
            args += ("SKIPME", "yes" if skipme else "no")
        if len(args) == 2:
            raise ConfigError("client_kill_filter needs at least one filter")
        return self._cmd(tuple(args))

    # -- CONFIG ----------------------------------------------------------------------
    def config_get(self, pattern: str = "*", *args: str) -> Reply[dict[str, str]]:
        """CONFIG GET: ``{name: value}`` (both ``str``, whatever ``decode_responses``
        says) for the parameters matching the pattern(s)."""
        return self._cmd(("CONFIG", "GET", pattern, *args), _str_pairs)

    def config_set(self, name: str, value: EncodableT, *args: EncodableT) -> Reply[bool]:
        """CONFIG SET one parameter, or several: ``config_set(n1, v1, n2, v2)``."""
        if len(args) % 2:
            raise ConfigError("config_set: extra arguments must be name/value pairs")
        return self._cmd(("CONFIG", "SET", name, value, *args), replies.ok)
