"""Generic key commands: DEL, EXISTS, EXPIRE*, TTL, TYPE, RENAME, KEYS, SCAN."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ...errors import ConfigError
from .. import replies
from ..base import KeyT
from ..replies import StrT
from ._base import CommandMixin, Reply
from ._util import (
    AbsExpiryT,
    ExpiryT,
    check_runs_commands,
    milliseconds,
    scan_items,
    seconds,
    unix_milliseconds,
    unix_seconds,
)

__all__ = ["KeyCommands"]


def _expire_flags(command: str, nx: bool, xx: bool, gt: bool, lt: bool) -> tuple[str, ...]:
    if nx and (xx or gt or lt):
        raise ConfigError(f"{command}: nx cannot be combined with xx, gt or lt")
    if gt and lt:
        raise ConfigError(f"{command}: gt and lt are mutually exclusive")
    return tuple(word for word, on in (("NX", nx), ("XX", xx), ("GT", gt), ("LT", lt)) if on)


def _type_name(reply: Any) -> str:
    return replies.to_str(reply)


class KeyCommands(CommandMixin[StrT]):
    """Commands that work on keys of any type."""

    __slots__ = ()

    def delete(self, *names: KeyT) -> Reply[int]:
        """DEL: remove keys; the number that existed."""
        return self._cmd(("DEL", *names))

    def unlink(self, *names: KeyT) -> Reply[int]:
        """UNLINK: remove keys, freeing memory in the background; the number that existed."""
        return self._cmd(("UNLINK", *names))

    def exists(self, *names: KeyT) -> Reply[int]:
        """EXISTS: how many of ``names`` exist (a key named twice counts twice)."""
        return self._cmd(("EXISTS", *names))

    def expire(
        self,
        name: KeyT,
        time: ExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> Reply[bool]:
        """EXPIRE ``name`` in ``time`` seconds; ``True`` when the timeout was set.

        ``nx``/``xx``/``gt``/``lt`` (Redis 7) set it only when the key has no
        timeout / has one / the new one is greater / is less.
        """
        flags = _expire_flags("expire", nx, xx, gt, lt)
        return self._cmd(("EXPIRE", name, seconds(time), *flags), replies.to_bool)

    def pexpire(
        self,
        name: KeyT,
        time: ExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> Reply[bool]:
        """PEXPIRE ``name`` in ``time`` milliseconds; see :meth:`expire`."""
        flags = _expire_flags("pexpire", nx, xx, gt, lt)
        return self._cmd(("PEXPIRE", name, milliseconds(time), *flags), replies.to_bool)

    def expireat(
        self,
        name: KeyT,
        when: AbsExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> Reply[bool]:
        """EXPIREAT: expire ``name`` at a Unix time (seconds) or ``datetime``."""
        flags = _expire_flags("expireat", nx, xx, gt, lt)
        return self._cmd(("EXPIREAT", name, unix_seconds(when), *flags), replies.to_bool)

    def pexpireat(
        self,
        name: KeyT,
        when: AbsExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> Reply[bool]:
        """PEXPIREAT: expire ``name`` at a Unix time in milliseconds or a ``datetime``."""
        flags = _expire_flags("pexpireat", nx, xx, gt, lt)
        return self._cmd(("PEXPIREAT", name, unix_milliseconds(when), *flags), replies.to_bool)

    def ttl(self, name: KeyT) -> Reply[int]:
        """TTL in seconds; -1 when the key has no timeout, -2 when it does not exist."""
        return self._cmd(("TTL", name))

    def pttl(self, name: KeyT) -> Reply[int]:
        """PTTL in milliseconds; -1 / -2 as for :meth:`ttl`."""
        return self._cmd(("PTTL", name))

    def persist(self, name: KeyT) -> Reply[bool]:
        """PERSIST: remove the timeout; ``True`` when there was one."""
        return self._cmd(("PERSIST", name), replies.to_bool)

    def type(self, name: KeyT) -> Reply[str]:
        """TYPE of the value at ``name`` as ``str`` (``"string"``, ``"hash"``, ..., ``"none"``)."""
        return self._cmd(("TYPE", name), _type_name)

    def rename(self, src: KeyT, dst: KeyT) -> Reply[bool]:
        """RENAME ``src`` to ``dst`` (overwriting it); a missing ``src`` is an error."""
        return self._cmd(("RENAME", src, dst), replies.ok)

    def keys(self, pattern: KeyT = "*") -> Reply[list[StrT]]:
        """KEYS matching ``pattern``.  It blocks the server: prefer :meth:`scan_iter`."""
        return self._cmd(("KEYS", pattern))

    def scan(
        self,
        cursor: int = 0,
        match: KeyT | None = None,
        count: int | None = None,
        _type: str | None = None,
    ) -> Reply[tuple[int, list[StrT]]]:
        """SCAN one batch: ``(next cursor, keys)``; the cursor is 0 when done."""
        args: tuple[Any, ...] = ("SCAN", cursor)
        if match is not None:
            args += ("MATCH", match)
        if count is not None:
            args += ("COUNT", count)
        if _type is not None:
            args += ("TYPE", _type)
        return self._cmd(args, replies.scan_list)

    def scan_iter(
        self,
        match: KeyT | None = None,
        count: int | None = None,
        _type: str | None = None,
    ) -> AsyncIterator[StrT]:
        """Every key (matching ``match`` / of ``_type``), iterating SCAN to the end::

            async for key in redis.scan_iter(match="user:*"):
                ...

        A key may be yielded more than once (a SCAN guarantee).  Not available
        on pipelines.
        """
        check_runs_commands(self, "scan_iter")
        return scan_items(self, "scan_iter", lambda c: self.scan(c, match, count, _type))
