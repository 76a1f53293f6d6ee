"""How asyncpool keeps its logs readable through an outage.

A state change (the circuit breaker opens, the server answers again) is logged
once, when it happens.  An event that repeats while nothing changes (a dial
that fails again, a health check that fails on the next connection) is logged
the first time, then at most once per :data:`REPEAT_INTERVAL` seconds with the
number of repeats it stands for.  Nothing here imports the rest of asyncpool.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable

__all__ = ["REPEAT_INTERVAL", "LogThrottle"]

#: Seconds between two records of the same repeating event (the later one counts the rest).
REPEAT_INTERVAL = 10.0


class _Entry:
    __slots__ = ("logged_at", "repeats")

    def __init__(self, now: float) -> None:
        self.logged_at = now
        self.repeats = 0


class LogThrottle:
    """Logs a repeating event once per interval, with a count of what it left out.

    Events are told apart by a key (``"dial failed"``, ``("check", name)`` ...).
    The interval is :data:`REPEAT_INTERVAL` at the time of each call, unless
    one is given.
    """

    __slots__ = ("_entries", "_interval", "logger")

    def __init__(self, logger: logging.Logger, interval: float | None = None) -> None:
        self.logger = logger
        self._interval = interval
        self._entries: dict[Hashable, _Entry] = {}

    @property
    def interval(self) -> float:
        """Seconds between two records of one key."""
        return REPEAT_INTERVAL if self._interval is None else self._interval

    def log(
        self, key: Hashable, level: int, msg: str, *args: object, exc_info: bool = False
    ) -> bool:
        """Log ``msg % args`` unless ``key`` was logged less than an interval ago.

        A left-out record is counted; the next one logged for ``key`` ends with
        ``(N more like this in the last S s)``.  ``exc_info`` adds the exception
        being handled (its traceback) to a record that is logged.  Returns whether
        it was logged.
        """
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry.logged_at < self.interval:
            entry.repeats += 1
            return False
        if entry is not None and entry.repeats:
            msg += " (%d more like this in the last %.0fs)"
            args = (*args, entry.repeats, now - entry.logged_at)
        self._entries[key] = _Entry(now)
        # stacklevel: the record names the caller's file and line
        self.logger.log(level, msg, *args, exc_info=exc_info, stacklevel=2)
        return True

    def hold(self, key: Hashable) -> None:
        """Count the next records of ``key`` for an interval, as if one was just logged.

        For an event a state-change record already announced (the first failed
        probe right after "circuit breaker open").
        """
        self._entries[key] = _Entry(time.monotonic())

    def forget(self, key: Hashable) -> int | None:
        """Stop tracking ``key`` (its state changed); return the repeats left out.

        ``None`` means ``key`` was not being tracked, so nothing about it was logged.
        """
        entry = self._entries.pop(key, None)
        return None if entry is None else entry.repeats
