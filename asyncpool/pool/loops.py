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
from typing import TYPE_CHECKING

from ..errors import ConnectionError, EventLoopError

if TYPE_CHECKING:
    from .pool import Pool

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
    from .maintenance import Maintenance

    connections = [*pool._idle, *pool._lent]
    in_transit = pool._total - len(connections)  # dialing or being cleaned: never finishing
    log.info(
        "pool %s: used from a new event loop; dropping %d connection(s) of the closed one",
        pool.name,
        pool._total,
    )
    pool._idle.clear()
    pool._lent.clear()
    pool._lent_stacks.clear()
    pool._waiters.clear()
    pool._recovering.clear()
    reason = ConnectionError(f"pool {pool.name}: the event loop of this connection was closed")
    for conn in connections:
        try:
            conn.close(reason)  # shuts the socket down; schedules nothing on the dead loop
        except Exception:  # pragma: no cover - close is not expected to raise
            log.debug("closing %r raised", conn, exc_info=True)
    pool._closed_total += len(connections) + in_transit
    pool._total = 0
    pool._dialing = 0
    pool._all_returned = None
    pool._maintenance = Maintenance(pool)
