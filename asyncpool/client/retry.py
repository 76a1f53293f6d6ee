"""Retry policy: which failures are repeated, how often, and within what deadline."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["Retry"]


@dataclass(frozen=True)
class Retry:
    """How a client repeats a command after a connection failure.

    * A command whose bytes never left the process (no connection could be
      acquired or dialed, or it was closed before the write) is always safe
      to repeat.
    * After the bytes were sent, only commands classed safe to retry in
      :mod:`asyncpool.command` (reads and idempotent writes) are
      repeated; others raise :class:`~asyncpool.OutcomeUnknownError`.
    * :class:`~asyncpool.AuthenticationError` and server error replies are
      never retried.  Socket timeouts are retried only with
      ``retry_on_timeout=True`` (a timeout usually means an overloaded server).

    ``deadline`` bounds the whole call (acquire, connect, I/O and every
    retry); ``None`` leaves each step bounded by its own timeout.
    """

    #: Tries in total, the first included (1 disables retries).
    attempts: int = 3
    #: First pause between tries in seconds; doubles each time, full jitter.
    backoff: float = 0.008
    backoff_max: float = 0.5
    #: Overall seconds for one call, retries included (None: no overall bound).
    deadline: float | None = None
    retry_on_timeout: bool = False

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError("Retry.attempts must be >= 1")
        if self.backoff < 0 or self.backoff_max < self.backoff:
            raise ConfigError("Retry.backoff must be >= 0 and <= backoff_max")
        if self.deadline is not None and not self.deadline > 0:
            raise ConfigError("Retry.deadline must be > 0 or None")

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry number ``retry_number`` (1-based)."""
        cap = min(self.backoff_max, self.backoff * 2 ** (retry_number - 1))
        return random.uniform(cap / 2, cap)


#: A policy that never retries.
NO_RETRY = Retry(attempts=1)
