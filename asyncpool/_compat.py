"""Small shims so the same code runs on Python 3.10 to 3.13."""

from __future__ import annotations

import asyncio
import builtins
import sys
from contextlib import AbstractAsyncContextManager
from typing import Any

from .errors import EventLoopError

__all__ = ["TIMEOUT_ERRORS", "running_loop", "timeout"]

#: On 3.10 ``asyncio.TimeoutError`` is not yet the builtin ``TimeoutError``.
TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (builtins.TimeoutError, asyncio.TimeoutError)


def running_loop() -> asyncio.AbstractEventLoop:
    """The running asyncio loop; :class:`~asyncpool.EventLoopError` saying so if there is none."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise EventLoopError(
            "asyncpool needs a running asyncio event loop and none runs in this thread:"
            " asyncpool supports asyncio only (not trio). Run your code with asyncio.run(),"
            " or with anyio.run(..., backend='asyncio')"
        ) from None


def timeout(delay: float | None) -> AbstractAsyncContextManager[Any]:
    """``asyncio.timeout(delay)``: raises builtin ``TimeoutError`` at the deadline.

    Python 3.10 lacks it (and ``Task.uncancel``, without which a hand-made
    version can leave a stray cancellation behind), so there anyio's
    ``fail_after`` does the job: its cancel scopes track their own
    cancellations.  Used only on cold paths (connect, drain, deadlines).
    """
    if sys.version_info >= (3, 11):
        return asyncio.timeout(delay)
    return _AnyioTimeout(delay)  # pragma: no cover - 3.10 only


class _AnyioTimeout(AbstractAsyncContextManager[Any]):  # pragma: no cover - 3.10 only
    """``anyio.fail_after`` (a plain ``with``) wearing ``async with``."""

    def __init__(self, delay: float | None) -> None:
        import anyio

        self._scope = anyio.fail_after(delay)

    async def __aenter__(self) -> Any:
        return self._scope.__enter__()

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        return self._scope.__exit__(*exc_info)
