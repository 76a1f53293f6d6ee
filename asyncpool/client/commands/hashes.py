"""Hash commands: HSET, HGET, HGETALL, HINCRBY*, HSCAN, ..."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, overload

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT, KeyT
from ..replies import StrT
from ._base import CommandMixin, Reply
from ._util import check_runs_commands, keys_list, mapping_args, scan_items

__all__ = ["HashCommands"]


class HashCommands(CommandMixin[StrT]):
    """Commands on hash values."""

    __slots__ = ()

    def hset(
        self,
        name: KeyT,
        key: EncodableT | None = None,
        value: EncodableT | None = None,
        mapping: Mapping[Any, EncodableT] | None = None,
        items: Iterable[EncodableT] | None = None,
    ) -> Reply[int]:
        """HSET fields of ``name``; the number of fields that were new.

        Give one ``key``/``value``, a ``mapping`` of fields, a flat ``items``
        list ``[f1, v1, f2, v2, ...]``, or any combination.
        """
        args: list[Any] = ["HSET", name]
        if key is not None:
            if value is None:
                raise ConfigError("hset: key given without a value")
            args += (key, value)
        if mapping:
            for pair in mapping.items():
                args.extend(pair)
        if items is not None:
            flat = list(items)
            if len(flat) % 2:
                raise ConfigError("hset: items must hold field/value pairs")
            args.extend(flat)
        if len(args) == 2:
            raise ConfigError("hset needs key/value, mapping or items")
        return self._cmd(tuple(args))

    def hget(self, name: KeyT, key: EncodableT) -> Reply[StrT | None]:
        """HGET: the value of field ``key``, or ``None``."""
        return self._cmd(("HGET", name, key))

    def hmget(
        self, name: KeyT, keys: EncodableT | Iterable[EncodableT], *args: EncodableT
    ) -> Reply[list[StrT | None]]:
        """HMGET: the values of the fields, ``None`` for missing ones, in order."""
        fields = keys_list(keys, args)
        return self._cmd(("HMGET", name, *fields))

    def hgetall(self, name: KeyT) -> Reply[dict[StrT, StrT]]:
        """HGETALL: every ``{field: value}`` (``{}`` for a missing key)."""
        return self._cmd(("HGETALL", name), replies.to_dict)

    def hdel(self, name: KeyT, *keys: EncodableT) -> Reply[int]:
        """HDEL fields; the number removed."""
        return self._cmd(("HDEL", name, *keys))

    def hincrby(self, name: KeyT, key: EncodableT, amount: int = 1) -> Reply[int]:
        """HINCRBY: add ``amount`` to an integer field; the new value."""
        return self._cmd(("HINCRBY", name, key, amount))

    def hincrbyfloat(self, name: KeyT, key: EncodableT, amount: float = 1.0) -> Reply[float]:
        """HINCRBYFLOAT: add ``amount`` to a field; the new value as ``float``."""
        return self._cmd(("HINCRBYFLOAT", name, key, amount), replies.to_float)

    def hexists(self, name: KeyT, key: EncodableT) -> Reply[bool]:
        """HEXISTS: whether field ``key`` exists."""
        return self._cmd(("HEXISTS", name, key), replies.to_bool)

    def hkeys(self, name: KeyT) -> Reply[list[StrT]]:
        """HKEYS: the field names."""
        return self._cmd(("HKEYS", name))

    def hvals(self, name: KeyT) -> Reply[list[StrT]]:
        """HVALS: the values."""
        return self._cmd(("HVALS", name))

    def hlen(self, name: KeyT) -> Reply[int]:
        """HLEN: the number of fields."""
        return self._cmd(("HLEN", name))

    def hsetnx(self, name: KeyT, key: EncodableT, value: EncodableT) -> Reply[int]:
        """HSETNX: set field ``key`` only if it does not exist; 1 when set, else 0."""
        return self._cmd(("HSETNX", name, key, value))

    def hmset(self, name: KeyT, mapping: Mapping[Any, EncodableT]) -> Reply[bool]:
        """HMSET (deprecated by Redis in favour of :meth:`hset`): set the fields of ``mapping``."""
        return self._cmd(("HMSET", name, *mapping_args("hmset", mapping)), replies.ok)

    def hstrlen(self, name: KeyT, key: EncodableT) -> Reply[int]:
        """HSTRLEN: the length of field ``key``'s value (0 when absent)."""
        return self._cmd(("HSTRLEN", name, key))

    @overload
    def hrandfield(
        self, key: KeyT, count: None = None, withvalues: bool = False
    ) -> Reply[StrT | None]: ...
    @overload
    def hrandfield(self, key: KeyT, count: int, withvalues: bool = False) -> Reply[list[StrT]]: ...
    def hrandfield(
        self, key: KeyT, count: int | None = None, withvalues: bool = False
    ) -> Reply[Any]:
        """HRANDFIELD: a random field (``None`` for a missing key); with ``count`` a list
        of fields (negative: may repeat); with ``withvalues`` a flat
        ``[field, value, ...]`` list in both protocols."""
        args: list[Any] = ["HRANDFIELD", key]
        if count is not None:
            args.append(count)
        if withvalues:
            if count is None:
                raise ConfigError("hrandfield: withvalues needs count")
            args.append("WITHVALUES")
            return self._cmd(tuple(args), replies.flatten_pairs)
        return self._cmd(tuple(args))

    def hscan(
        self,
        name: KeyT,
        cursor: int = 0,
        match: EncodableT | None = None,
        count: int | None = None,
        no_values: bool | None = None,
    ) -> Reply[tuple[int, Any]]:
        """HSCAN one batch: ``(next cursor, {field: value})``; with ``no_values``
        (Redis 7.4) ``(next cursor, [field, ...])``."""
        args: tuple[Any, ...] = ("HSCAN", name, cursor)
        if match is not None:
            args += ("MATCH", match)
        if count is not None:
            args += ("COUNT", count)
        if no_values:
            return self._cmd((*args, "NOVALUES"), replies.scan_list)
        return self._cmd(args, replies.scan_dict)

    def hscan_iter(
        self,
        name: KeyT,
        match: EncodableT | None = None,
        count: int | None = None,
        no_values: bool | None = None,
    ) -> AsyncIterator[Any]:
        """Every ``(field, value)`` pair of the hash (with ``no_values``: every field),
        iterating HSCAN to the end."""
        check_runs_commands(self, "hscan_iter")
        return scan_items(
            self, "hscan_iter", lambda c: self.hscan(name, c, match, count, no_values)
        )
