"""Hash field expiration (Redis 7.4 / 8.0): HEXPIRE ... HPERSIST, HGETEX, HSETEX, HGETDEL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...errors import ConfigError
from ..base import EncodableT, KeyT
from ._base import CommandMixin, Reply, StrT
from ._util import (
    AbsExpiryT,
    ExpiryT,
    exclusive,
    expiry_args,
    milliseconds,
    seconds,
    unix_milliseconds,
    unix_seconds,
)

__all__ = ["HashFieldCommands"]


def _condition(command: str, nx: bool, xx: bool, gt: bool, lt: bool) -> list[str]:
    exclusive(command, nx=nx, xx=xx, gt=gt, lt=lt)
    return [word for word, on in (("NX", nx), ("XX", xx), ("GT", gt), ("LT", lt)) if on]


def _fields(command: str, fields: Sequence[Any]) -> list[Any]:
    if not fields:
        raise ConfigError(f"{command} needs at least one field")
    return ["FIELDS", len(fields), *fields]


class HashFieldCommands(CommandMixin[StrT]):
    """Per-field timeouts of hashes.

    The per-field replies are lists of ``int`` codes, as Redis sends them:
    for HEXPIRE* ``1`` set, ``0`` condition not met, ``2`` deleted (time in the
    past), ``-2`` no such field; for HTTL* ``-1`` means no timeout.
    """

    __slots__ = ()

    def _hexpire(
        self, command: str, name: KeyT, when: int, fields: Sequence[Any], flags: list[str]
    ) -> Reply[list[int]]:
        return self._cmd((command, name, when, *flags, *_fields(command.lower(), fields)))

    def hexpire(
        self,
        name: KeyT,
        seconds: ExpiryT,
        *fields: EncodableT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> Reply[list[int]]:
        """HEXPIRE (Redis 7.4): give ``fields`` a timeout of ``seconds``; a code per field."""
        flags = _condition("hexpire", nx, xx, gt, lt)
        return self._hexpire("HEXPIRE", name, _seconds(seconds), fields, flags)

    def hpexpire(
        self,
        name: KeyT,
        milliseconds: ExpiryT,
        *fields: EncodableT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> Reply[list[int]]:
        """HPEXPIRE (Redis 7.4): like :meth:`hexpire`, in milliseconds."""
        flags = _condition("hpexpire", nx, xx, gt, lt)
        return self._hexpire("HPEXPIRE", name, _milliseconds(milliseconds), fields, flags)

    def hexpireat(
        self,
        name: KeyT,
        unix_time_seconds: AbsExpiryT,
        *fields: EncodableT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> Reply[list[int]]:
        """HEXPIREAT (Redis 7.4): ``fields`` expire at a Unix time (or ``datetime``)."""
        flags = _condition("hexpireat", nx, xx, gt, lt)
        return self._hexpire("HEXPIREAT", name, unix_seconds(unix_time_seconds), fields, flags)

    def hpexpireat(
        self,
        name: KeyT,
        unix_time_milliseconds: AbsExpiryT,
        *fields: EncodableT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> Reply[list[int]]:
        """HPEXPIREAT (Redis 7.4): like :meth:`hexpireat`, in milliseconds."""
        flags = _condition("hpexpireat", nx, xx, gt, lt)
        when = unix_milliseconds(unix_time_milliseconds)
        return self._hexpire("HPEXPIREAT", name, when, fields, flags)

    def _per_field(self, command: str, key: KeyT, fields: Sequence[Any]) -> Reply[list[int]]:
        return self._cmd((command, key, *_fields(command.lower(), fields)))

    def httl(self, key: KeyT, *fields: EncodableT) -> Reply[list[int]]:
        """HTTL (Redis 7.4): each field's remaining seconds (-1 none, -2 no field)."""
        return self._per_field("HTTL", key, fields)

    def hpttl(self, key: KeyT, *fields: EncodableT) -> Reply[list[int]]:
        """HPTTL (Redis 7.4): like :meth:`httl`, in milliseconds."""
        return self._per_field("HPTTL", key, fields)

    def hexpiretime(self, key: KeyT, *fields: EncodableT) -> Reply[list[int]]:
        """HEXPIRETIME (Redis 7.4): each field's expiry as a Unix time in seconds."""
        return self._per_field("HEXPIRETIME", key, fields)

    def hpexpiretime(self, key: KeyT, *fields: EncodableT) -> Reply[list[int]]:
        """HPEXPIRETIME (Redis 7.4): like :meth:`hexpiretime`, in milliseconds."""
        return self._per_field("HPEXPIRETIME", key, fields)

    def hpersist(self, name: KeyT, *fields: EncodableT) -> Reply[list[int]]:
        """HPERSIST (Redis 7.4): remove the fields' timeouts (1 removed, -1 none, -2 no field)."""
        return self._per_field("HPERSIST", name, fields)

    def hgetdel(self, name: KeyT, *keys: EncodableT) -> Reply[list[StrT | None]]:
        """HGETDEL (Redis 8.0): the fields' values (``None`` for missing), deleting them."""
        return self._per_field("HGETDEL", name, keys)  # type: ignore[return-value]

    def hgetex(
        self,
        name: KeyT,
        *keys: EncodableT,
        ex: ExpiryT | None = None,
        px: ExpiryT | None = None,
        exat: AbsExpiryT | None = None,
        pxat: AbsExpiryT | None = None,
        persist: bool = False,
    ) -> Reply[list[StrT | None]]:
        """HGETEX (Redis 8.0): the fields' values, setting (or with ``persist``
        removing) their timeouts."""
        exclusive("hgetex", ex=ex, px=px, exat=exat, pxat=pxat, persist=persist)
        args: list[Any] = ["HGETEX", name, *expiry_args("hgetex", ex, px, exat, pxat)]
        if persist:
            args.append("PERSIST")
        return self._cmd((*args, *_fields("hgetex", keys)))

    def hsetex(
        self,
        name: KeyT,
        key: EncodableT | None = None,
        value: EncodableT | None = None,
        mapping: Mapping[Any, EncodableT] | None = None,
        items: Sequence[EncodableT] | None = None,
        ex: ExpiryT | None = None,
        px: ExpiryT | None = None,
        exat: AbsExpiryT | None = None,
        pxat: AbsExpiryT | None = None,
        data_persist_option: Any = None,
        keepttl: bool = False,
    ) -> Reply[int]:
        """HSETEX (Redis 8.0): set fields with a timeout; 1 when all were set, 0 when
        ``data_persist_option`` (``"FNX"``: none exists, ``"FXX"``: all exist) said no."""
        pairs: list[Any] = []
        if key is not None:
            if value is None:
                raise ConfigError("hsetex: key given without a value")
            pairs += (key, value)
        if mapping:
            for pair in mapping.items():
                pairs.extend(pair)
        if items:
            if len(items) % 2:
                raise ConfigError("hsetex: items must hold field/value pairs")
            pairs.extend(items)
        if not pairs:
            raise ConfigError("hsetex needs key/value, mapping or items")
        if keepttl:
            exclusive("hsetex", ex=ex, px=px, exat=exat, pxat=pxat, keepttl=keepttl)
        args: list[Any] = ["HSETEX", name]
        if data_persist_option is not None:
            option = str(getattr(data_persist_option, "value", data_persist_option)).upper()
            if option not in ("FNX", "FXX"):
                raise ConfigError(f"hsetex: data_persist_option must be FNX or FXX, not {option!r}")
            args.append(option)
        args += expiry_args("hsetex", ex, px, exat, pxat)
        if keepttl:
            args.append("KEEPTTL")
        return self._cmd((*args, "FIELDS", len(pairs) // 2, *pairs))


def _seconds(value: ExpiryT) -> int:
    return seconds(value)


def _milliseconds(value: ExpiryT) -> int:
    return milliseconds(value)
