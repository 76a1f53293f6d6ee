"""Bitmap commands: SETBIT/GETBIT, BITCOUNT, BITOP, BITPOS, BITFIELD (and its builder)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import ConfigError
from ..base import EncodableT, KeyT
from ._base import CommandMixin, Reply, StrT

__all__ = ["BitCommands", "BitFieldOperation"]

_BIT_MODES = ("BYTE", "BIT")
_OVERFLOWS = ("WRAP", "SAT", "FAIL")


def _range_args(command: str, start: int | None, end: int | None, mode: str | None) -> list[Any]:
    if start is None and end is not None:
        raise ConfigError(f"{command}: end needs start")
    if mode is not None:
        if mode.upper() not in _BIT_MODES:
            raise ConfigError(f"{command}: mode must be BYTE or BIT, not {mode!r}")
        if start is None or end is None:
            raise ConfigError(f"{command}: mode needs start and end")
    out: list[Any] = [] if start is None else [start]
    if end is not None:
        out.append(end)
    if mode is not None:
        out.append(mode.upper())
    return out


def _overflow(value: str) -> str:
    word = value.upper()
    if word not in _OVERFLOWS:
        raise ConfigError(f"bitfield: overflow must be WRAP, SAT or FAIL, not {value!r}")
    return word


class BitFieldOperation:
    """Sub-commands of one BITFIELD call, built up and sent by :meth:`execute`.

    ::

        counters = redis.bitfield("stats").incrby("u8", 0, 1).get("u8", 8)
        first, second = await counters.execute()

    ``fmt`` is an integer type such as ``"u8"`` or ``"i16"``; ``offset`` a bit
    offset, or ``"#n"`` for the n-th field of that type.  ``overflow`` (WRAP,
    SAT, FAIL) applies to the ``set``/``incrby`` calls after it.
    """

    __slots__ = ("_client", "_default_overflow", "_key", "operations")

    def __init__(self, client: Any, key: KeyT, default_overflow: str | None = None) -> None:
        self._client = client
        self._key = key
        self._default_overflow = None if default_overflow is None else _overflow(default_overflow)
        self.operations: list[tuple[Any, ...]] = []
        self.reset()

    def reset(self) -> None:
        """Forget every sub-command (the default overflow stays)."""
        self.operations = []
        if self._default_overflow is not None:
            self.operations.append(("OVERFLOW", self._default_overflow))

    def overflow(self, overflow: str) -> BitFieldOperation:
        """OVERFLOW WRAP / SAT / FAIL for the following ``set``/``incrby``."""
        self.operations.append(("OVERFLOW", _overflow(overflow)))
        return self

    def incrby(
        self, fmt: str, offset: int | str, increment: int, overflow: str | None = None
    ) -> BitFieldOperation:
        """INCRBY the field; its new value is one of the results."""
        if overflow is not None:
            self.overflow(overflow)
        self.operations.append(("INCRBY", fmt, offset, increment))
        return self

    def get(self, fmt: str, offset: int | str) -> BitFieldOperation:
        """GET the field."""
        self.operations.append(("GET", fmt, offset))
        return self

    def set(self, fmt: str, offset: int | str, value: int) -> BitFieldOperation:
        """SET the field to ``value``; its old value is one of the results."""
        self.operations.append(("SET", fmt, offset, value))
        return self

    @property
    def command(self) -> tuple[Any, ...]:
        """The BITFIELD command these sub-commands make."""
        args: list[Any] = ["BITFIELD", self._key]
        for op in self.operations:
            args.extend(op)
        return tuple(args)

    def execute(self) -> Any:
        """Send BITFIELD; the results (``None`` where FAIL overflow stopped one), in order.

        On a client this is awaitable; on a pipeline it queues the command.
        """
        command = self.command
        self.reset()
        return self._client._cmd(command)


class BitCommands(CommandMixin[StrT]):
    """Commands on strings as bit arrays."""

    __slots__ = ()

    def setbit(self, name: KeyT, offset: int, value: int) -> Reply[int]:
        """SETBIT: set the bit at ``offset`` to ``value`` (0/1); the old bit."""
        return self._cmd(("SETBIT", name, offset, 1 if value else 0))

    def getbit(self, name: KeyT, offset: int) -> Reply[int]:
        """GETBIT: the bit at ``offset``."""
        return self._cmd(("GETBIT", name, offset))

    def bitcount(
        self, key: KeyT, start: int | None = None, end: int | None = None, mode: str | None = None
    ) -> Reply[int]:
        """BITCOUNT: the number of set bits, optionally in ``start..end``.

        The range is in bytes, or in bits with ``mode="BIT"`` (Redis 7).
        """
        if (start is None) != (end is None):
            raise ConfigError("bitcount: give both start and end, or neither")
        return self._cmd(("BITCOUNT", key, *_range_args("bitcount", start, end, mode)))

    def bitop(self, operation: str, dest: KeyT, *keys: KeyT) -> Reply[int]:
        """BITOP AND / OR / XOR / NOT (and Redis 8.2's DIFF, DIFF1, ANDOR, ONE) of
        ``keys`` into ``dest``; the length of the result in bytes."""
        if not keys:
            raise ConfigError("bitop needs at least one source key")
        return self._cmd(("BITOP", operation.upper(), dest, *keys))

    def bitpos(
        self,
        key: KeyT,
        bit: int,
        start: int | None = None,
        end: int | None = None,
        mode: str | None = None,
    ) -> Reply[int]:
        """BITPOS: the position of the first ``bit`` (0/1), optionally from ``start`` to
        ``end`` (bytes, or bits with ``mode="BIT"``); -1 when there is none."""
        if bit not in (0, 1):
            raise ConfigError("bitpos: bit must be 0 or 1")
        return self._cmd(("BITPOS", key, bit, *_range_args("bitpos", start, end, mode)))

    def bitfield(self, key: KeyT, default_overflow: str | None = None) -> BitFieldOperation:
        """A :class:`BitFieldOperation` for ``key``: chain get/set/incrby, then ``execute()``."""
        return BitFieldOperation(self, key, default_overflow)

    def bitfield_ro(
        self,
        key: KeyT,
        encoding: str,
        offset: int | str,
        items: Sequence[tuple[str, int | str]] | None = None,
    ) -> Reply[list[int]]:
        """BITFIELD_RO: GET the field ``encoding``/``offset`` and each ``(encoding, offset)``
        of ``items``; the values in order."""
        args: list[EncodableT] = ["BITFIELD_RO", key, "GET", encoding, offset]
        for fmt, off in items or ():
            args += ("GET", fmt, off)
        return self._cmd(tuple(args))
