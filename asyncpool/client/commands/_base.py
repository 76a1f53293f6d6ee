"""The base of every command family mixin."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from ..base import Callback, CommandRunner
from ..replies import StrT

__all__ = ["CommandMixin", "Reply", "StrT"]

T = TypeVar("T")

#: What a command method returns: a coroutine of its reply, so that
#: ``asyncio.create_task(redis.blpop(...))`` type-checks as well as ``await``.
Reply: TypeAlias = Coroutine[Any, Any, T]


class CommandMixin(CommandRunner, Generic[StrT]):
    """:class:`~asyncpool.client.base.CommandRunner` as the command families see it.

    Generic in the client's string reply type ``StrT`` (``bytes``, or ``str``
    with ``decode_responses=True``), so ``Redis[str]().get(k)`` is typed
    ``str | None``.  ``Generic`` costs nothing per call.

    For the type checker ``_cmd`` returns a coroutine, so each method can
    declare the real reply type (``Reply[int]``, ...).  At run time
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
        ) -> Reply[Any]: ...
