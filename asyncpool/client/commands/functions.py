"""Redis Functions (Redis 7): FUNCTION LOAD/LIST/DELETE/..., FCALL, FCALL_RO."""

from __future__ import annotations

from typing import Any

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT
from ._base import CommandMixin, Reply, StrT

__all__ = ["FunctionCommands"]


def _function_list(reply: Any) -> list[dict[str, Any]]:
    out = []
    for library in reply:
        lib = replies.to_str_dict(library)
        lib["functions"] = [replies.to_str_dict(f) for f in lib.get("functions") or ()]
        out.append(lib)
    return out


def _function_stats(reply: Any) -> dict[str, Any]:
    stats = replies.to_str_dict(reply)
    for key in ("running_script", "engines"):
        value = stats.get(key)
        if isinstance(value, (list, dict)):
            stats[key] = replies.to_str_dict(value)
    engines = stats.get("engines")
    if isinstance(engines, dict):
        stats["engines"] = {k: replies.to_str_dict(v) for k, v in engines.items()}
    return stats


class FunctionCommands(CommandMixin[StrT]):
    """Libraries of server-side functions and calls to them."""

    __slots__ = ()

    def function_load(self, code: str, replace: bool | None = False) -> Reply[StrT]:
        """FUNCTION LOAD a library (``replace``: over an existing one); its name."""
        if replace:
            return self._cmd(("FUNCTION", "LOAD", "REPLACE", code))
        return self._cmd(("FUNCTION", "LOAD", code))

    def function_delete(self, library: str) -> Reply[bool]:
        """FUNCTION DELETE a library."""
        return self._cmd(("FUNCTION", "DELETE", library), replies.ok)

    def function_flush(self, mode: str = "SYNC") -> Reply[bool]:
        """FUNCTION FLUSH every library (``mode`` ``"SYNC"`` or ``"ASYNC"``)."""
        if mode.upper() not in ("SYNC", "ASYNC"):
            raise ConfigError(f"function_flush: mode must be SYNC or ASYNC, not {mode!r}")
        return self._cmd(("FUNCTION", "FLUSH", mode.upper()), replies.ok)

    def function_list(
        self, library: str | None = "*", withcode: bool | None = False
    ) -> Reply[list[dict[str, Any]]]:
        """FUNCTION LIST: one dict (``str`` keys) per library matching ``library``."""
        args: list[Any] = ["FUNCTION", "LIST"]
        if library is not None:
            args += ("LIBRARYNAME", library)
        if withcode:
            args.append("WITHCODE")
        return self._cmd(tuple(args), _function_list)

    def function_dump(self) -> Reply[bytes]:
        """FUNCTION DUMP: every library as one binary payload (read it with a client
        that does not decode responses)."""
        return self._cmd(("FUNCTION", "DUMP"))

    def function_restore(self, payload: bytes, policy: str | None = "APPEND") -> Reply[bool]:
        """FUNCTION RESTORE a :meth:`function_dump` payload (``APPEND``, ``REPLACE``, ``FLUSH``)."""
        args: tuple[Any, ...] = ("FUNCTION", "RESTORE", payload)
        if policy is not None:
            args += (policy.upper(),)
        return self._cmd(args, replies.ok)

    def function_kill(self) -> Reply[bool]:
        """FUNCTION KILL the running read-only function."""
        return self._cmd(("FUNCTION", "KILL"), replies.ok)

    def function_stats(self) -> Reply[dict[str, Any]]:
        """FUNCTION STATS: the running function and the engines' counts (``str`` keys)."""
        return self._cmd(("FUNCTION", "STATS"), _function_stats)

    def fcall(self, function: str, numkeys: int, *keys_and_args: EncodableT) -> Reply[Any]:
        """FCALL ``function`` on ``numkeys`` keys then arguments; its raw reply."""
        return self._cmd(("FCALL", function, numkeys, *keys_and_args))

    def fcall_ro(self, function: str, numkeys: int, *keys_and_args: EncodableT) -> Reply[Any]:
        """FCALL_RO: :meth:`fcall` of a read-only function (allowed on replicas)."""
        return self._cmd(("FCALL_RO", function, numkeys, *keys_and_args))
