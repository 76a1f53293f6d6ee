"""String commands: GET/SET and friends (SETEX, SETNX, GETSET, MSETNX ...), INCR*, GETEX, LCS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT, KeyT
from ..replies import StrT
from ._base import CommandMixin, Reply
from ._util import (
    AbsExpiryT,
    ExpiryT,
    KeysT,
    constant_reply,
    exclusive,
    expiry_args,
    keys_list,
    mapping_args,
    milliseconds,
    seconds,
)

__all__ = ["StringCommands"]


def _lcs_reply(reply: Any) -> dict[str, Any]:
    return {replies.to_str(k): v for k, v in replies.to_dict(reply).items()}


def _set_ok(reply: Any) -> bool | None:
    return None if reply is None else replies.ok(reply)


class StringCommands(CommandMixin[StrT]):
    """Commands on string values, including bit operations."""

    __slots__ = ()

    def get(self, name: KeyT) -> Reply[StrT | None]:
        """GET: the value of ``name``, or ``None`` when the key does not exist."""
        return self._cmd(("GET", name))

    @overload
    def set(
        self,
        name: KeyT,
        value: EncodableT,
        ex: ExpiryT | None = None,
        px: ExpiryT | None = None,
        nx: bool = False,
        xx: bool = False,
        keepttl: bool = False,
        get: Literal[False] = False,
        exat: AbsExpiryT | None = None,
        pxat: AbsExpiryT | None = None,
    ) -> Reply[bool | None]: ...
    @overload
    def set(
        self,
        name: KeyT,
        value: EncodableT,
        ex: ExpiryT | None = None,
        px: ExpiryT | None = None,
        nx: bool = False,
        xx: bool = False,
        keepttl: bool = False,
        *,
        get: Literal[True],
        exat: AbsExpiryT | None = None,
        pxat: AbsExpiryT | None = None,
    ) -> Reply[StrT | None]: ...
    @overload
    def set(
        self,
        name: KeyT,
        value: EncodableT,
        ex: ExpiryT | None = None,
        px: ExpiryT | None = None,
        nx: bool = False,
        xx: bool = False,
        keepttl: bool = False,
        get: bool = False,
        exat: AbsExpiryT | None = None,
        pxat: AbsExpiryT | None = None,
    ) -> Reply[bool | StrT | None]: ...
    def set(
        self,
        name: KeyT,
        value: EncodableT,
        ex: ExpiryT | None = None,
        px: ExpiryT | None = None,
        nx: bool = False,
        xx: bool = False,
        keepttl: bool = False,
        get: bool = False,
        exat: AbsExpiryT | None = None,
        pxat: AbsExpiryT | None = None,
    ) -> Reply[bool | StrT | None]:
        """SET ``name`` to ``value``.

        Returns ``True``, or ``None`` when ``nx`` / ``xx`` kept it from being
        set.  With ``get=True`` it returns the old value (``None`` when there
        was none) instead.  ``ex``/``px`` take seconds / milliseconds or a
        ``timedelta``; ``exat``/``pxat`` a Unix time or a ``datetime``; only one
        of them (or ``keepttl``) may be given.
        """
        if nx and xx:
            raise ConfigError("set: nx and xx are mutually exclusive")
        if keepttl:
            exclusive("set", ex=ex, px=px, exat=exat, pxat=pxat, keepttl=keepttl)
        args: list[Any] = ["SET", name, value, *expiry_args("set", ex, px, exat, pxat)]
        if keepttl:
            args.append("KEEPTTL")
        if nx:
            args.append("NX")
        if xx:
            args.append("XX")
        if get:
            args.append("GET")
            return self._cmd(tuple(args))
        return self._cmd(tuple(args), _set_ok)

    def mget(self, keys: KeysT, *args: KeyT) -> Reply[list[StrT | None]]:
        """MGET: the values of the keys (``None`` for missing ones), in order.

        No keys (``mget([])``) gives ``[]`` without a round trip to the server.
        """
        names = keys_list(keys, args)
        if not names:
            return constant_reply(self, [])  # type: ignore[no-any-return]
        return self._cmd(("MGET", *names))

    def msetnx(self, mapping: Mapping[Any, EncodableT]) -> Reply[bool]:
        """MSETNX: set every key of ``mapping`` only if none of them exists; ``True`` if set."""
        return self._cmd(("MSETNX", *mapping_args("msetnx", mapping)), replies.to_bool)

    def setex(self, name: KeyT, time: ExpiryT, value: EncodableT) -> Reply[bool]:
        """SETEX: set ``value`` with a timeout of ``time`` seconds (or a ``timedelta``)."""
        return self._cmd(("SETEX", name, seconds(time), value), replies.ok)

    def psetex(self, name: KeyT, time_ms: ExpiryT, value: EncodableT) -> Reply[bool]:
        """PSETEX: set ``value`` with a timeout of ``time_ms`` milliseconds (or a ``timedelta``)."""
        return self._cmd(("PSETEX", name, milliseconds(time_ms), value), replies.ok)

    def setnx(self, name: KeyT, value: EncodableT) -> Reply[bool]:
        """SETNX: set ``value`` only if ``name`` does not exist; ``True`` when it was set."""
        return self._cmd(("SETNX", name, value), replies.to_bool)

    def getset(self, name: KeyT, value: EncodableT) -> Reply[StrT | None]:
        """GETSET: set ``value`` and return the old one (``None`` if there was none)."""
        return self._cmd(("GETSET", name, value))

    def mset(self, mapping: Mapping[Any, EncodableT]) -> Reply[bool]:
        """MSET every ``{key: value}`` of ``mapping`` at once."""
        return self._cmd(("MSET", *mapping_args("mset", mapping)), replies.ok)

    def incr(self, name: KeyT, amount: int = 1) -> Reply[int]:
        """INCRBY ``amount`` (default 1); the new value."""
        return self.incrby(name, amount)

    def incrby(self, name: KeyT, amount: int = 1) -> Reply[int]:
        """INCRBY: add ``amount`` to the integer at ``name``; the new value."""
        if amount == 1:
            return self._cmd(("INCR", name))
        return self._cmd(("INCRBY", name, amount))

    def incrbyfloat(self, name: KeyT, amount: float = 1.0) -> Reply[float]:
        """INCRBYFLOAT: add ``amount``; the new value as ``float``."""
        return self._cmd(("INCRBYFLOAT", name, amount), replies.to_float)

    def decr(self, name: KeyT, amount: int = 1) -> Reply[int]:
        """DECRBY ``amount`` (default 1); the new value."""
        return self.decrby(name, amount)

    def decrby(self, name: KeyT, amount: int = 1) -> Reply[int]:
        """DECRBY: subtract ``amount``; the new value."""
        if amount == 1:
            return self._cmd(("DECR", name))
        return self._cmd(("DECRBY", name, amount))

    def append(self, key: KeyT, value: EncodableT) -> Reply[int]:
        """APPEND ``value``; the new length."""
        return self._cmd(("APPEND", key, value))

    def getdel(self, name: KeyT) -> Reply[StrT | None]:
        """GETDEL: the value, deleting the key (Redis 6.2)."""
        return self._cmd(("GETDEL", name))

    def getex(
        self,
        name: KeyT,
        ex: ExpiryT | None = None,
        px: ExpiryT | None = None,
        exat: AbsExpiryT | None = None,
        pxat: AbsExpiryT | None = None,
        persist: bool = False,
    ) -> Reply[StrT | None]:
        """GETEX: the value, setting (or with ``persist=True`` removing) its timeout."""
        exclusive("getex", ex=ex, px=px, exat=exat, pxat=pxat, persist=persist)
        args: list[Any] = ["GETEX", name, *expiry_args("getex", ex, px, exat, pxat)]
        if persist:
            args.append("PERSIST")
        return self._cmd(tuple(args))

    def getrange(self, key: KeyT, start: int, end: int) -> Reply[StrT]:
        """GETRANGE: the substring between byte offsets ``start`` and ``end`` (inclusive)."""
        return self._cmd(("GETRANGE", key, start, end))

    def setrange(self, name: KeyT, offset: int, value: EncodableT) -> Reply[int]:
        """SETRANGE: overwrite from byte ``offset``; the new length."""
        return self._cmd(("SETRANGE", name, offset, value))

    def substr(self, name: KeyT, start: int, end: int = -1) -> Reply[StrT]:
        """SUBSTR: the old name of GETRANGE (``end`` defaults to the last byte)."""
        return self._cmd(("SUBSTR", name, start, end))

    def lcs(
        self,
        key1: KeyT,
        key2: KeyT,
        len: bool | None = False,
        idx: bool | None = False,
        minmatchlen: int | None = 0,
        withmatchlen: bool | None = False,
    ) -> Reply[Any]:
        """LCS (Redis 7): the longest common substring of two string values.

        The substring itself; with ``len=True`` its length; with ``idx=True``
        a dict ``{"matches": [...], "len": n}`` (``minmatchlen`` drops short
        matches, ``withmatchlen`` adds each match's length).
        """
        args: list[Any] = ["LCS", key1, key2]
        if len:
            args.append("LEN")
        if idx:
            args.append("IDX")
        if minmatchlen:
            args += ("MINMATCHLEN", minmatchlen)
        if withmatchlen:
            args.append("WITHMATCHLEN")
        return self._cmd(tuple(args), _lcs_reply if idx else None)

    def strlen(self, name: KeyT) -> Reply[int]:
        """STRLEN: the length of the value in bytes (0 for a missing key)."""
        return self._cmd(("STRLEN", name))
