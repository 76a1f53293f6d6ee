"""OpenTelemetry metrics of the shared-connection mode (see docs/sharing.md).

Read from :meth:`Sharing.stats <asyncpool.pool.sharing.Sharing.stats>` at
collection time, for each instrumented pool with ``multiplex=True``: nothing is
recorded per command.  The OpenTelemetry conventions have no such metrics, so
the names live under ``asyncpool.sharing``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..pool import Pool
from ..pool.sharing import SharingStats

__all__ = ["SHARING_METRICS", "sharing_stats", "snapshot"]

T = TypeVar("T")

#: name -> (unit, description, monotonic counter?, the value in a SharingStats)
SHARING_METRICS: dict[str, tuple[str, str, bool, Callable[[SharingStats], int]]] = {
    "asyncpool.sharing.rides": (
        "{command}",
        "Commands sent in shared mode.",
        True,
        lambda s: s.rides_total,
    ),
    "asyncpool.sharing.busy_rides": (
        "{command}",
        "Commands that rode a connection already owing replies instead of waiting for one.",
        True,
        lambda s: s.busy_rides_total,
    ),
    "asyncpool.sharing.queued": (
        "{command}",
        "Commands that found no connection to ride and went through the pool's checkout.",
        True,
        lambda s: s.queued_total,
    ),
    "asyncpool.sharing.rerouted": (
        "{command}",
        "Reads sent again on another connection because a large reply ahead of theirs"
        " congested their own.",
        True,
        lambda s: s.rerouted_total,
    ),
    "asyncpool.sharing.replies_owed": (
        "{reply}",
        "Replies the servers still owe on the connections carrying shared-mode commands.",
        False,
        lambda s: sum(s.replies_owed),
    ),
}


def sharing_stats(pool: Pool) -> SharingStats | None:
    """``pool``'s sharing snapshot, or ``None`` (sharing off, or a scrape kept racing)."""
    sharing = pool.sharing
    return None if sharing is None else snapshot(sharing.stats)


def snapshot(read: Callable[[], T]) -> T | None:
    """``read()``, tried three times: from a scrape thread it may race the event loop.

    A deque or dict the loop changes under the scrape thread raises
    ``RuntimeError``; ``None`` when every try did.
    """
    for _ in range(3):
        try:
            return read()
        except RuntimeError:
            continue
    return None
