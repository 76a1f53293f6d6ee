"""Typed command methods, grouped by family, combined into :class:`Commands`."""

from __future__ import annotations

from typing import Any, Awaitable

from ..base import CommandRunner, KeyT

__all__ = ["Commands"]


class Commands(CommandRunner):
    """Placeholder: the full command families land in this package."""

    __slots__ = ()

    def ping(self) -> Awaitable[Any]:
        """PING the server."""
        return self._cmd(("PING",))

    def get(self, name: KeyT) -> Awaitable[Any]:
        """GET a string value."""
        return self._cmd(("GET", name))

    def set(self, name: KeyT, value: Any) -> Awaitable[Any]:
        """SET a string value."""
        return self._cmd(("SET", name, value))
