"""List commands: pushes, pops (blocking too), ranges, LMOVE, LPOS, LINSERT, LMPOP."""

from __future__ import annotations

from typing import Any, overload

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT, KeyT
from ..replies import StrT
from ._base import CommandMixin, Reply
from ._util import KeysT, keys_list

__all__ = ["ListCommands"]

_WHERE = ("LEFT", "RIGHT")


def _where(command: str, value: str) -> str:
    word = value.upper()
    if word not in _WHERE:
        raise ConfigError(f"{command}: direction must be LEFT or RIGHT, not {value!r}")
    return word


def _timeout(command: str, timeout: float) -> float | int:
    if timeout < 0:
        raise ConfigError(f"{command}: timeout must be >= 0 (0 waits forever)")
    return timeout


class ListCommands(CommandMixin[StrT]):
    """Commands on list values."""

    __slots__ = ()

    def lpush(self, name: KeyT, *values: EncodableT) -> Reply[int]:
        """LPUSH values at the head; the new length."""
        return self._cmd(("LPUSH", name, *values))

    def rpush(self, name: KeyT, *values: EncodableT) -> Reply[int]:
        """RPUSH values at the tail; the new length."""
        return self._cmd(("RPUSH", name, *values))

    @overload
    def lpop(self, name: KeyT, count: None = None) -> Reply[StrT | None]: ...
    @overload
    def lpop(self, name: KeyT, count: int) -> Reply[list[StrT] | None]: ...
    def lpop(self, name: KeyT, count: int | None = None) -> Reply[StrT | list[StrT] | None]:
        """LPOP: the head element (or ``None``); with ``count`` a list (or ``None``)."""
        if count is None:
            return self._cmd(("LPOP", name))
        return self._cmd(("LPOP", name, count))

    @overload
    def rpop(self, name: KeyT, count: None = None) -> Reply[StrT | None]: ...
    @overload
    def rpop(self, name: KeyT, count: int) -> Reply[list[StrT] | None]: ...
    def rpop(self, name: KeyT, count: int | None = None) -> Reply[StrT | list[StrT] | None]:
        """RPOP: the tail element (or ``None``); with ``count`` a list (or ``None``)."""
        if count is None:
            return self._cmd(("RPOP", name))
        return self._cmd(("RPOP", name, count))

    def lrange(self, name: KeyT, start: int, end: int) -> Reply[list[StrT]]:
        """LRANGE: the elements from ``start`` to ``end`` inclusive (negative from the tail)."""
        return self._cmd(("LRANGE", name, start, end))

    def llen(self, name: KeyT) -> Reply[int]:
        """LLEN: the length of the list (0 for a missing key)."""
        return self._cmd(("LLEN", name))

    def lrem(self, name: KeyT, count: int, value: EncodableT) -> Reply[int]:
        """LREM up to ``count`` occurrences of ``value`` (0: all; negative: from the tail)."""
        return self._cmd(("LREM", name, count, value))

    def ltrim(self, name: KeyT, start: int, end: int) -> Reply[bool]:
        """LTRIM: keep only the elements from ``start`` to ``end`` inclusive."""
        return self._cmd(("LTRIM", name, start, end), replies.ok)

    def lindex(self, name: KeyT, index: int) -> Reply[StrT | None]:
        """LINDEX: the element at ``index``, or ``None``."""
        return self._cmd(("LINDEX", name, index))

    def lmove(
        self, first_list: KeyT, second_list: KeyT, src: str = "LEFT", dest: str = "RIGHT"
    ) -> Reply[StrT | None]:
        """LMOVE one element from the ``src`` end (``"LEFT"``/``"RIGHT"``) of
        ``first_list`` to the ``dest`` end of ``second_list``; the element, or
        ``None`` when ``first_list`` is empty."""
        return self._cmd(
            ("LMOVE", first_list, second_list, _where("lmove", src), _where("lmove", dest))
        )

    def blpop(self, keys: KeysT, timeout: float = 0) -> Reply[tuple[StrT, StrT] | None]:
        """BLPOP: ``(key, element)`` from the first non-empty list, waiting up to
        ``timeout`` seconds (0: forever); ``None`` on timeout."""
        args = ("BLPOP", *keys_list(keys), _timeout("blpop", timeout))
        return self._cmd(args, replies.to_tuple_or_none)

    def brpop(self, keys: KeysT, timeout: float = 0) -> Reply[tuple[StrT, StrT] | None]:
        """BRPOP: like :meth:`blpop`, from the tails."""
        args = ("BRPOP", *keys_list(keys), _timeout("brpop", timeout))
        return self._cmd(args, replies.to_tuple_or_none)

    def blmove(
        self,
        first_list: KeyT,
        second_list: KeyT,
        timeout: float = 0,
        src: str = "LEFT",
        dest: str = "RIGHT",
    ) -> Reply[StrT | None]:
        """BLMOVE: :meth:`lmove`, waiting up to ``timeout`` seconds (0: forever);
        ``None`` on timeout."""
        return self._cmd(
            (
                "BLMOVE",
                first_list,
                second_list,
                _where("blmove", src),
                _where("blmove", dest),
                _timeout("blmove", timeout),
            )
        )

    def lset(self, name: KeyT, index: int, value: EncodableT) -> Reply[bool]:
        """LSET the element at ``index``; an out-of-range index is an error."""
        return self._cmd(("LSET", name, index, value), replies.ok)

    def linsert(
        self, name: KeyT, where: str, refvalue: EncodableT, value: EncodableT
    ) -> Reply[int]:
        """LINSERT ``value`` ``where`` (``"BEFORE"``/``"AFTER"``) the first ``refvalue``;
        the new length, -1 when ``refvalue`` is absent, 0 when the key is."""
        word = where.upper()
        if word not in ("BEFORE", "AFTER"):
            raise ConfigError(f"linsert: where must be BEFORE or AFTER, not {where!r}")
        return self._cmd(("LINSERT", name, word, refvalue, value))

    def lpos(
        self,
        name: KeyT,
        value: EncodableT,
        rank: int | None = None,
        count: int | None = None,
        maxlen: int | None = None,
    ) -> Reply[int | list[int] | None]:
        """LPOS: the index of ``value`` (``None`` if absent); with ``count`` a list of
        indexes (0: all).  ``rank`` picks the n-th match (negative: from the tail);
        ``maxlen`` bounds how many elements are compared."""
        args: list[Any] = ["LPOS", name, value]
        if rank is not None:
            args += ("RANK", rank)
        if count is not None:
            args += ("COUNT", count)
        if maxlen is not None:
            args += ("MAXLEN", maxlen)
        return self._cmd(tuple(args))

    def lpushx(self, name: KeyT, *values: EncodableT) -> Reply[int]:
        """LPUSHX: LPUSH only onto an existing list; the new length (0: no list)."""
        return self._cmd(("LPUSHX", name, *values))

    def rpushx(self, name: KeyT, *values: EncodableT) -> Reply[int]:
        """RPUSHX: RPUSH only onto an existing list; the new length (0: no list)."""
        return self._cmd(("RPUSHX", name, *values))

    def rpoplpush(self, src: KeyT, dst: KeyT) -> Reply[StrT | None]:
        """RPOPLPUSH: move the tail of ``src`` to the head of ``dst``; the element."""
        return self._cmd(("RPOPLPUSH", src, dst))

    def brpoplpush(self, src: KeyT, dst: KeyT, timeout: float | None = 0) -> Reply[StrT | None]:
        """BRPOPLPUSH: :meth:`rpoplpush`, waiting up to ``timeout`` seconds (0: forever)."""
        return self._cmd(("BRPOPLPUSH", src, dst, _timeout("brpoplpush", timeout or 0)))

    def lmpop(
        self, num_keys: int, *args: KeyT, direction: str, count: int | None = 1
    ) -> Reply[list[Any] | None]:
        """LMPOP (Redis 7): pop up to ``count`` elements from the ``direction`` end of the
        first non-empty of the ``num_keys`` lists; ``[key, [elements]]`` or ``None``."""
        cmd: list[Any] = ["LMPOP", num_keys, *args, _where("lmpop", direction)]
        if count != 1 and count is not None:
            cmd += ("COUNT", count)
        return self._cmd(tuple(cmd))

    def blmpop(
        self, timeout: float, numkeys: int, *args: KeyT, direction: str, count: int | None = 1
    ) -> Reply[list[Any] | None]:
        """BLMPOP (Redis 7): :meth:`lmpop`, waiting up to ``timeout`` seconds (0: forever)."""
        cmd: list[Any] = ["BLMPOP", _timeout("blmpop", timeout), numkeys, *args]
        cmd.append(_where("blmpop", direction))
        if count != 1 and count is not None:
            cmd += ("COUNT", count)
        return self._cmd(tuple(cmd))
