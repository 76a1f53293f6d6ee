"""Small shims so the same code runs on Python 3.10 to 3.13."""

from __future__ import annotations

import asyncio
import builtins
import sys
from contextlib import AbstractAsyncContextManager
from types import TracebackType

__all__ = ["TIMEOUT_ERRORS", "timeout"]

#: On 3.10 ``asyncio.TimeoutError`` is not yet the builtin ``TimeoutError``.
TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (builtins.TimeoutError, asyncio.TimeoutError)


class _Timeout(AbstractAsyncContextManager["_Timeout"]):
    """A minimal ``asyncio.timeout`` for Python 3.10: cancels the task at the deadline."""

    def __init__(self, delay: float | None) -> None:
        self._delay = delay
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[object] | None = None
        self._fired = False

    async def __aenter__(self) -> _Timeout:
        self._task = asyncio.current_task()
        if self._delay is not None:
            self._handle = asyncio.get_running_loop().call_later(self._delay, self._fire)
        return self

    def _fire(self) -> None:
        self._fired = True
        if self._task is not None:
            self._task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if self._handle is not None:
            self._handle.cancel()
        if self._fired and exc_type is asyncio.CancelledError:
            raise builtins.TimeoutError() from exc
        return False


def timeout(delay: float | None) -> AbstractAsyncContextManager[object]:
    """``asyncio.timeout(delay)`` where available, else a small equivalent."""
    if sys.version_info >= (3, 11):
        return asyncio.timeout(delay)
    return _Timeout(delay)  # pragma: no cover - 3.10 only
