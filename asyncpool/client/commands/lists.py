"""List commands: pushes, pops (blocking too), ranges, LMOVE."""

from __future__ import annotations

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

    def lpop(self, name: KeyT, count: int | None = None) -> Reply[StrT | list[StrT] | None]:
        """LPOP: the head element (or ``None``); with ``count`` a list (or ``None``)."""
        if count is None:
            return self._cmd(("LPOP", name))
        return self._cmd(("LPOP", name, count))

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
        self,
        src: KeyT,
        dst: KeyT,
        src_where: str = "LEFT",
        dest_where: str = "RIGHT",
    ) -> Reply[StrT | None]:
        """LMOVE one element from the ``src_where`` end of ``src`` to the ``dest_where``
        end of ``dst`` (``"LEFT"`` / ``"RIGHT"``); the element, or ``None`` when ``src``
        is empty."""
        return self._cmd(
            ("LMOVE", src, dst, _where("lmove", src_where), _where("lmove", dest_where))
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
        src: KeyT,
        dst: KeyT,
        timeout: float = 0,
        src_where: str = "LEFT",
        dest_where: str = "RIGHT",
    ) -> Reply[StrT | None]:
        """BLMOVE: :meth:`lmove`, waiting up to ``timeout`` seconds (0: forever);
        ``None`` on timeout."""
        return self._cmd(
            (
                "BLMOVE",
                src,
                dst,
                _where("blmove", src_where),
                _where("blmove", dest_where),
                _timeout("blmove", timeout),
            )
        )
