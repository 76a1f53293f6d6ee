"""A pool used from a new event loop: move to it, or say why not.

A pool's connections, waiters and background tasks belong to the event loop
that made them; none of them may be touched from another loop.  The pool
notes its loop on first use, and when it is used from a different one:

* the old loop is **closed** (``asyncio.run()`` returned; a module-level
  client used by a second ``asyncio.run()``, a test suite with a loop per
  test, a later thread): the old loop's connections are dropped (their sockets
  shut down directly, since nothing can be scheduled on a closed loop) and the
  pool serves from the new loop, with its counters reset;
* the old loop is **still open** (running in another thread, or stopped but
  not closed, so its tasks may still run): the pool raises
  :class:`~asyncpool.EventLoopError` naming the fix, and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConnectionError, EventLoopError

if TYPE_CHECKING:
    from .ledger import Ledger
    from .sharing import Sharing


class _Forgets(Protocol):
    def forget(self) -> None: ...


class Pool(Protocol):
    """What moving needs of a pool (a :class:`~asyncpool.Pool`)."""

    name: str
    _loop: asyncio.AbstractEventLoop | None
    _ledger: Ledger
    _recovering: set[asyncio.Task[Any]]
    _closed_total: int
    _all_returned: asyncio.Event | None
    _sharing: Sharing | None

    @property
    def _maintenance(self) -> _Forgets: ...


__all__ = ["move_to_loop"]

log = logging.getLogger("asyncpool.pool")


def move_to_loop(pool: Pool, loop: asyncio.AbstractEventLoop) -> None:
    """Bind ``pool`` to ``loop`` (the running one), leaving a closed old loop behind."""
    old = pool._loop
    if old is not None:
        if not old.is_closed():
            where = "runs (in another thread?)" if old.is_running() else "is not closed"
            raise EventLoopError(
                f"pool {pool.name} is used from a second event loop while the loop its"
                f" connections belong to still {where}: a pool, and the client around it,"
                " serve one event loop at a time. Create one client per event loop (per"
                " thread), or close the first loop before using the client from another"
            )
        _leave_closed_loop(pool)
    pool._loop = loop


def _leave_closed_loop(pool: Pool) -> None:
    """Forget everything tied to the old (closed) loop; no callback of it can ever run."""
    log.info(
        "pool %s: used from a new event loop; dropping %d connection(s) of the closed one",
        pool.name,
        pool._ledger.total,
    )
    # dialing slots never finish on the dead loop: forgotten with the rest
    connections, reserved = pool._ledger.clear()
    pool._recovering.clear()
    reason = ConnectionError(f"pool {pool.name}: the event loop of this connection was closed")
    for conn in connections:
        try:
            conn.close(reason)  # shuts the socket down; schedules nothing on the dead loop
        except Exception:  # pragma: no cover - close is not expected to raise
            log.debug("closing %r raised", conn, exc_info=True)
    pool._closed_total += len(connections) + reserved
    pool._all_returned = None
    pool._maintenance.forget()
    if pool._sharing is not None:  # its shared connections were lent: closed above
        pool._sharing = pool._sharing.renewed()
