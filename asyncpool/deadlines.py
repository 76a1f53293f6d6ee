"""Read deadlines of the replies one connection owes: one timer for all of them.

``socket_timeout`` bounds the wait for each reply.  A timer per request would
cost a heap push and a cancel per command; instead :class:`ReplyDeadlines`
keeps ``(deadline, future, delay)`` in send order, so the earliest pending
deadline is at the front, and one watchdog timer is armed for it.  A reply that
does not come in time gets :class:`~asyncpool.TimeoutError` (the connection
then closes: see :class:`~asyncpool.Connection`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from .errors import TimeoutError

__all__ = ["ReplyDeadlines"]


class ReplyDeadlines:
    """The pending read deadlines of one connection, checked by one watchdog timer."""

    __slots__ = ("_address", "_loop", "_pending", "_watchdog")

    def __init__(self, address: str) -> None:
        self._address = address
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: deque[tuple[float, asyncio.Future[Any], float]] = deque()
        self._watchdog: asyncio.TimerHandle | None = None

    def arm(self, fut: asyncio.Future[Any], delay: float) -> None:
        """Fail ``fut`` with a timeout unless it is done within ``delay`` seconds."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        pending = self._pending
        while pending and pending[0][1].done():
            pending.popleft()
        pending.append((deadline, fut, delay))
        watchdog = self._watchdog
        if watchdog is None or deadline < watchdog.when():
            # none armed, or armed later (for a long blocking command answered since)
            if watchdog is not None:
                watchdog.cancel()
            self._watchdog = loop.call_at(deadline, self._check)

    def moved(self, replaced: dict[asyncio.Future[Any], asyncio.Future[Any]]) -> None:
        """Each future in ``replaced`` was swapped for its value: the deadline follows it."""
        if self._pending:
            self._pending = deque((d, replaced.get(f, f), delay) for d, f, delay in self._pending)

    def futures(self) -> set[asyncio.Future[Any]]:
        """The futures a deadline is armed for (for diagnostics and tests)."""
        return {fut for _, fut, _ in self._pending if not fut.done()}

    def clear(self) -> None:
        """Forget every deadline (the connection closed)."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._pending.clear()
        self._loop = None

    def _check(self) -> None:
        self._watchdog = None
        loop = self._loop
        assert loop is not None  # set by arm()
        now = loop.time()
        pending = self._pending
        while pending:
            deadline, fut, delay = pending[0]
            if fut.done():
                pending.popleft()
            elif deadline <= now:
                pending.popleft()
                fut.set_exception(TimeoutError(f"no reply from {self._address} within {delay}s"))
            else:
                self._watchdog = loop.call_at(deadline, self._check)
                return
