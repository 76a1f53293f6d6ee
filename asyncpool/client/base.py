"""The seam between command methods and whatever runs them.

Command methods (``asyncpool.client.commands``) only build a command's
arguments and pick a reply callback, then call :meth:`CommandRunner._cmd`.
:class:`~asyncpool.Redis` runs it on a pooled connection and returns an
awaitable; a pipeline queues it and returns itself; a pinned connection runs
it on its lease.  So one set of methods serves all three.
"""

from __future__ import annotations

from typing import Any

from .._types import Callback, EncodableT, KeyT

__all__ = ["Callback", "CommandRunner", "EncodableT", "KeyT"]


class CommandRunner:
    """Base of every object that offers command methods."""

    __slots__ = ()

    def _cmd(
        self,
        args: tuple[Any, ...],
        callback: Callback | None = None,
        *,
        retryable: bool | None = None,
    ) -> Any:
        """Run or queue one command.  ``retryable`` overrides the retry class."""
        raise NotImplementedError
