"""More key commands: DUMP/RESTORE, COPY, MOVE, RENAMENX, TOUCH, RANDOMKEY, OBJECT,
EXPIRETIME, SORT."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT, KeyT
from ._base import CommandMixin, Reply, StrT

__all__ = ["KeyMoreCommands"]


def _sort_groups(reply: Any, size: int) -> list[tuple[Any, ...]]:
    return [tuple(reply[i : i + size]) for i in range(0, len(reply), size)]


def _sort_args(
    command: str,
    name: KeyT,
    start: int | None,
    num: int | None,
    by: EncodableT | None,
    get: EncodableT | Iterable[EncodableT] | None,
    desc: bool,
    alpha: bool,
) -> list[Any]:
    if (start is None) != (num is None):
        raise ConfigError(f"{command}: give both start and num, or neither")
    args: list[Any] = [command.upper(), name]
    if by is not None:
        args += ("BY", by)
    if start is not None:
        args += ("LIMIT", start, num)
    if get is not None:
        patterns = [get] if isinstance(get, (bytes, str, memoryview)) else list(get)  # type: ignore[arg-type]
        for pattern in patterns:
            args += ("GET", pattern)
    if desc:
        args.append("DESC")
    if alpha:
        args.append("ALPHA")
    return args


class KeyMoreCommands(CommandMixin[StrT]):
    """Less frequent commands that work on keys of any type."""

    __slots__ = ()

    def dump(self, name: KeyT) -> Reply[bytes | None]:
        """DUMP: the serialized value of ``name`` (``None`` when it does not exist).

        The payload is binary: read it with a client that does not decode
        responses (with ``decode_responses=True`` it fails to decode).
        """
        return self._cmd(("DUMP", name))

    def restore(
        self,
        name: KeyT,
        ttl: float,
        value: EncodableT,
        replace: bool = False,
        absttl: bool = False,
        idletime: int | None = None,
        frequency: int | None = None,
    ) -> Reply[bool]:
        """RESTORE a :meth:`dump` payload into ``name`` with a ``ttl`` in ms (0: none).

        ``replace`` overwrites an existing key; ``absttl`` makes ``ttl`` a Unix
        time in ms; ``idletime`` / ``frequency`` set the eviction hints.
        """
        args: list[Any] = ["RESTORE", name, ttl, value]
        if replace:
            args.append("REPLACE")
        if absttl:
            args.append("ABSTTL")
        if idletime is not None:
            args += ("IDLETIME", idletime)
        if frequency is not None:
            args += ("FREQ", frequency)
        return self._cmd(tuple(args), replies.ok)

    def copy(
        self,
        source: KeyT,
        destination: KeyT,
        destination_db: int | str | None = None,
        replace: bool = False,
    ) -> Reply[bool]:
        """COPY (Redis 6.2) ``source`` to ``destination`` (in ``destination_db``);
        ``True`` when copied (``False`` when the destination exists, unless ``replace``)."""
        args: list[Any] = ["COPY", source, destination]
        if destination_db is not None:
            args += ("DB", destination_db)
        if replace:
            args.append("REPLACE")
        return self._cmd(tuple(args), replies.to_bool)

    def move(self, name: KeyT, db: int) -> Reply[bool]:
        """MOVE ``name`` to database ``db``; ``True`` when moved."""
        return self._cmd(("MOVE", name, db), replies.to_bool)

    def renamenx(self, src: KeyT, dst: KeyT) -> Reply[bool]:
        """RENAMENX: rename ``src`` to ``dst`` only if ``dst`` does not exist."""
        return self._cmd(("RENAMENX", src, dst), replies.to_bool)

    def touch(self, *args: KeyT) -> Reply[int]:
        """TOUCH: update the keys' last access time; how many exist."""
        return self._cmd(("TOUCH", *args))

    def randomkey(self) -> Reply[StrT | None]:
        """RANDOMKEY: a random key name, or ``None`` when the database is empty."""
        return self._cmd(("RANDOMKEY",))

    def expiretime(self, key: KeyT) -> Reply[int]:
        """EXPIRETIME (Redis 7): the Unix time in seconds the key expires at; -1 / -2."""
        return self._cmd(("EXPIRETIME", key))

    def pexpiretime(self, key: KeyT) -> Reply[int]:
        """PEXPIRETIME (Redis 7): like :meth:`expiretime`, in milliseconds."""
        return self._cmd(("PEXPIRETIME", key))

    def object(self, infotype: str, key: KeyT) -> Reply[Any]:
        """OBJECT ``infotype`` (``"encoding"``, ``"refcount"``, ``"idletime"``, ``"freq"``).

        The encoding as a string reply (``None`` for a missing key), the others as ``int``.
        """
        return self._cmd(("OBJECT", infotype, key))

    def sort(
        self,
        name: KeyT,
        start: int | None = None,
        num: int | None = None,
        by: EncodableT | None = None,
        get: EncodableT | Iterable[EncodableT] | None = None,
        desc: bool = False,
        alpha: bool = False,
        store: KeyT | None = None,
        groups: bool = False,
    ) -> Reply[Any]:
        """SORT a list, set or sorted set: the sorted elements.

        ``by`` sorts by external keys (``"weight_*"``); ``get`` fetches external
        keys for each element (``"#"`` is the element); ``start``/``num`` page;
        ``alpha`` sorts lexicographically.  With ``store`` the result is saved
        there and its length returned.  ``groups=True`` (with several ``get``
        patterns) returns one tuple per element.
        """
        args = _sort_args("sort", name, start, num, by, get, desc, alpha)
        if store is not None:
            args += ("STORE", store)
        if groups:
            if get is None or isinstance(get, (bytes, str, memoryview)):
                raise ConfigError("sort: groups needs get= with several patterns")
            size = len(list(get))  # type: ignore[arg-type]
            return self._cmd(tuple(args), lambda reply: _sort_groups(reply, size))
        return self._cmd(tuple(args))

    def sort_ro(
        self,
        key: KeyT,
        start: int | None = None,
        num: int | None = None,
        by: EncodableT | None = None,
        get: EncodableT | Iterable[EncodableT] | None = None,
        desc: bool = False,
        alpha: bool = False,
    ) -> Reply[list[StrT]]:
        """SORT_RO (Redis 7): :meth:`sort` without ``store``, allowed on replicas."""
        return self._cmd(tuple(_sort_args("sort_ro", key, start, num, by, get, desc, alpha)))
