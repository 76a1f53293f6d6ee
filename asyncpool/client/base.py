"""The seam between command methods and whatever runs them.

Command methods (``asyncpool.client.commands``) only build a command's
arguments and pick a reply callback, then call :meth:`CommandRunner._cmd`.
:class:`~asyncpool.Redis` runs it on a pooled connection and returns an
awaitable; a pipeline queues it and returns itself; a pinned connection runs
it on its lease.  So one set of methods serves all three.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Callback", "CommandRunner", "EncodableT", "KeyT"]

#: What may be sent as an argument (the encoder accepts exactly these).
EncodableT = bytes | bytearray | memoryview | str | int | float
#: A key name.
KeyT = bytes | str | memoryview
#: Turns a raw reply into the documented Python shape.
Callback = Callable[[Any], Any]


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
