"""Set commands: SADD, SMEMBERS, set algebra, SPOP, SSCAN, ..."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, overload

from .. import replies
from ..base import EncodableT, KeyT
from ..replies import StrT
from ._base import CommandMixin, Reply
from ._util import KeysT, check_runs_commands, keys_list, scan_items

__all__ = ["SetCommands"]


class SetCommands(CommandMixin[StrT]):
    """Commands on set values.  Members come back as Python ``set`` s in both protocols."""

    __slots__ = ()

    def sadd(self, name: KeyT, *values: EncodableT) -> Reply[int]:
        """SADD members; the number that were new."""
        return self._cmd(("SADD", name, *values))

    def srem(self, name: KeyT, *values: EncodableT) -> Reply[int]:
        """SREM members; the number removed."""
        return self._cmd(("SREM", name, *values))

    def smembers(self, name: KeyT) -> Reply[set[StrT]]:
        """SMEMBERS: every member (an empty set for a missing key)."""
        return self._cmd(("SMEMBERS", name), replies.to_set)

    def sismember(self, name: KeyT, value: EncodableT) -> Reply[bool]:
        """SISMEMBER: whether ``value`` is a member."""
        return self._cmd(("SISMEMBER", name, value), replies.to_bool)

    def smismember(
        self, name: KeyT, values: EncodableT | Iterable[EncodableT], *args: EncodableT
    ) -> Reply[list[bool]]:
        """SMISMEMBER: membership of each value, in order (Redis 6.2)."""
        return self._cmd(("SMISMEMBER", name, *keys_list(values, args)), replies.to_bool_list)

    def scard(self, name: KeyT) -> Reply[int]:
        """SCARD: the number of members."""
        return self._cmd(("SCARD", name))

    def sinter(self, keys: KeysT, *args: KeyT) -> Reply[set[StrT]]:
        """SINTER: the members present in every set."""
        return self._cmd(("SINTER", *keys_list(keys, args)), replies.to_set)

    def sunion(self, keys: KeysT, *args: KeyT) -> Reply[set[StrT]]:
        """SUNION: the members present in any set."""
        return self._cmd(("SUNION", *keys_list(keys, args)), replies.to_set)

    def sdiff(self, keys: KeysT, *args: KeyT) -> Reply[set[StrT]]:
        """SDIFF: the members of the first set that are in none of the others."""
        return self._cmd(("SDIFF", *keys_list(keys, args)), replies.to_set)

    def smove(self, src: KeyT, dst: KeyT, value: EncodableT) -> Reply[bool]:
        """SMOVE ``value`` from set ``src`` to set ``dst``; ``True`` when it was moved."""
        return self._cmd(("SMOVE", src, dst, value), replies.to_bool)

    def sinterstore(self, dest: KeyT, keys: KeysT, *args: KeyT) -> Reply[int]:
        """SINTERSTORE the intersection into ``dest``; its size."""
        return self._cmd(("SINTERSTORE", dest, *keys_list(keys, args)))

    def sunionstore(self, dest: KeyT, keys: KeysT, *args: KeyT) -> Reply[int]:
        """SUNIONSTORE the union into ``dest``; its size."""
        return self._cmd(("SUNIONSTORE", dest, *keys_list(keys, args)))

    def sdiffstore(self, dest: KeyT, keys: KeysT, *args: KeyT) -> Reply[int]:
        """SDIFFSTORE the difference into ``dest``; its size."""
        return self._cmd(("SDIFFSTORE", dest, *keys_list(keys, args)))

    def sintercard(self, numkeys: int, keys: KeysT, limit: int = 0) -> Reply[int]:
        """SINTERCARD (Redis 7): the size of the intersection, counting up to ``limit``
        (0: no limit)."""
        names = keys_list(keys)
        return self._cmd(("SINTERCARD", numkeys, *names, "LIMIT", limit))

    @overload
    def spop(self, name: KeyT, count: None = None) -> Reply[StrT | None]: ...
    @overload
    def spop(self, name: KeyT, count: int) -> Reply[set[StrT]]: ...
    def spop(self, name: KeyT, count: int | None = None) -> Reply[StrT | set[StrT] | None]:
        """SPOP: a random member removed (``None`` when empty); with ``count`` a set of them."""
        if count is None:
            return self._cmd(("SPOP", name))
        return self._cmd(("SPOP", name, count), replies.to_set)

    @overload
    def srandmember(self, name: KeyT, number: None = None) -> Reply[StrT | None]: ...
    @overload
    def srandmember(self, name: KeyT, number: int) -> Reply[list[StrT]]: ...
    def srandmember(self, name: KeyT, number: int | None = None) -> Reply[StrT | list[StrT] | None]:
        """SRANDMEMBER: a random member (or ``None``); with ``number`` a list of them
        (a negative ``number`` may repeat members)."""
        if number is None:
            return self._cmd(("SRANDMEMBER", name))
        return self._cmd(("SRANDMEMBER", name, number))

    def sscan(
        self,
        name: KeyT,
        cursor: int = 0,
        match: EncodableT | None = None,
        count: int | None = None,
    ) -> Reply[tuple[int, set[StrT]]]:
        """SSCAN one batch: ``(next cursor, {members})``."""
        args: tuple[Any, ...] = ("SSCAN", name, cursor)
        if match is not None:
            args += ("MATCH", match)
        if count is not None:
            args += ("COUNT", count)
        return self._cmd(args, replies.scan_set)

    def sscan_iter(
        self, name: KeyT, match: EncodableT | None = None, count: int | None = None
    ) -> AsyncIterator[StrT]:
        """Every member of the set, iterating SSCAN to the end (a member may repeat)."""
        check_runs_commands(self, "sscan_iter")
        return scan_items(self, "sscan_iter", lambda c: self.sscan(name, c, match, count))
