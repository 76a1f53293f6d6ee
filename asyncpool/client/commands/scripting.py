"""Lua scripting: EVAL, EVALSHA and the SCRIPT subcommands."""

from __future__ import annotations

from typing import Any

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT
from ._base import CommandMixin, Reply, StrT

__all__ = ["ScriptingCommands"]


class ScriptingCommands(CommandMixin[StrT]):
    """EVAL / EVALSHA and script cache management.

    For everyday use prefer ``redis.register_script(...)``, which runs EVALSHA
    and falls back to EVAL when the server does not know the script.
    """

    __slots__ = ()

    def eval(self, script: EncodableT, numkeys: int, *keys_and_args: EncodableT) -> Reply[Any]:
        """EVAL a Lua script on ``numkeys`` keys then arguments; the script's raw reply."""
        return self._cmd(("EVAL", script, numkeys, *keys_and_args))

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: EncodableT) -> Reply[Any]:
        """EVALSHA a cached script; raises :class:`~asyncpool.NoScriptError` when unknown."""
        return self._cmd(("EVALSHA", sha, numkeys, *keys_and_args))

    def script_load(self, script: EncodableT) -> Reply[str]:
        """SCRIPT LOAD: cache a script; its SHA1 as ``str`` (whatever ``decode_responses`` says)."""
        return self._cmd(("SCRIPT", "LOAD", script), replies.to_str)

    def script_exists(self, *args: str) -> Reply[list[bool]]:
        """SCRIPT EXISTS: whether each SHA1 is cached, in order."""
        return self._cmd(("SCRIPT", "EXISTS", *args), replies.to_bool_list)

    def script_flush(self, sync_type: str | None = None) -> Reply[bool]:
        """SCRIPT FLUSH the script cache; ``sync_type`` ``"ASYNC"`` or ``"SYNC"``."""
        args: tuple[Any, ...] = ("SCRIPT", "FLUSH")
        if sync_type is not None:
            if sync_type.upper() not in ("ASYNC", "SYNC"):
                raise ConfigError(
                    f"script_flush: sync_type must be ASYNC or SYNC, not {sync_type!r}"
                )
            args += (sync_type.upper(),)
        return self._cmd(args, replies.ok)

    def eval_ro(self, script: EncodableT, numkeys: int, *keys_and_args: EncodableT) -> Reply[Any]:
        """EVAL_RO (Redis 7): EVAL of a read-only script (allowed on replicas)."""
        return self._cmd(("EVAL_RO", script, numkeys, *keys_and_args))

    def evalsha_ro(self, sha: str, numkeys: int, *keys_and_args: EncodableT) -> Reply[Any]:
        """EVALSHA_RO (Redis 7): EVALSHA of a read-only script."""
        return self._cmd(("EVALSHA_RO", sha, numkeys, *keys_and_args))

    def script_kill(self) -> Reply[bool]:
        """SCRIPT KILL the running read-only script (an error when none runs)."""
        return self._cmd(("SCRIPT", "KILL"), replies.ok)
