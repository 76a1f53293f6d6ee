"""The base of every command family mixin."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from ..base import Callback, CommandRunner

__all__ = ["CommandMixin"]


class CommandMixin(CommandRunner):
    """:class:`~asyncpool.client.base.CommandRunner` as the command families see it.

    For the type checker ``_cmd`` returns an awaitable, so each method can
    declare the real reply type (``Awaitable[int]``, ...).  At run time
    nothing changes: the concrete runner's ``_cmd`` is called directly.
    """

    __slots__ = ()

    if TYPE_CHECKING:

        def _cmd(
            self,
            args: tuple[Any, ...],
            callback: Callback | None = None,
            *,
            retryable: bool | None = None,
        ) -> Awaitable[Any]: ...
