"""Where every connection of one pool is: the pool's bookkeeping, in one object.

A pool's ``max_connections`` slots are each in exactly one place:

========== ==============================================================
idle       ready to lend (:attr:`Ledger.idle`)
lent       lent to a caller (:attr:`Ledger.lent`, with when and where)
in transit an existing connection nobody may use now: being checked
           (borrow check, health check), cleaned (drain, RESET), or
           handed to a waiting caller who has not resumed yet
           (:attr:`Ledger.transit`)
reserved   a slot counted before its connection exists: being dialed,
           or a permit to dial handed to a waiting caller
========== ==============================================================

``total`` counts all four; ``reserved`` is what remains of it.  Everything
runs on the event loop thread without locks, so :meth:`Ledger.check` can
verify at any moment between two steps of the loop that ``total <= max``, that
no connection is in two places, and (once the pool has settled) that nothing
is in transit or reserved.  The tests run it after every test.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["InvariantError", "Ledger"]


class InvariantError(AssertionError):
    """The pool's bookkeeping is inconsistent (a bug in asyncpool)."""


class Ledger:
    """The places of one pool's connections, and the counts derived from them."""

    __slots__ = ("dialing", "idle", "lent", "lent_stacks", "max", "total", "transit", "waiters")

    def __init__(self, max_connections: int) -> None:
        #: Connections ready to lend, oldest first.
        self.idle: deque[Connection] = deque()
        #: Lent connections -> monotonic time lent (``None`` when not timestamped).
        self.lent: dict[Connection, float | None] = {}
        #: Where each lent connection was acquired (leak tracking only).
        self.lent_stacks: dict[Connection, str] = {}
        #: Existing connections neither idle nor lent (checked, cleaned, handed over).
        self.transit: set[Connection] = set()
        #: Callers waiting, oldest first; each gets a connection or ``None`` (a permit).
        self.waiters: deque[asyncio.Future[Connection | None]] = deque()
        #: Every slot in use: idle + lent + in transit + reserved.
        self.total = 0
        #: Dials in flight (each holds a reserved slot).
        self.dialing = 0
        #: The bound on :attr:`total`.
        self.max = max_connections

    @property
    def reserved(self) -> int:
        """Slots counted before their connection exists (dialing, or a permit handed out)."""
        return self.total - len(self.idle) - len(self.lent) - len(self.transit)

    @property
    def has_room(self) -> bool:
        """True when another slot may be reserved."""
        return self.total < self.max

    def reserve(self) -> None:
        """Count a slot for a connection about to be dialed."""
        self.total += 1

    def free(self) -> None:
        """Give back a slot whose connection is gone (closed, or never opened)."""
        self.total -= 1

    def clear(self) -> tuple[list[Connection], int]:
        """Forget every place (the event loop they belong to is gone).

        Returns the connections that existed and the number of reserved slots.
        """
        connections = [*self.idle, *self.lent, *self.transit]
        reserved = self.reserved
        self.idle.clear()
        self.lent.clear()
        self.lent_stacks.clear()
        self.transit.clear()
        self.waiters.clear()
        self.total = self.dialing = 0
        return connections, reserved

    def remove_idle(self, conn: Connection) -> bool:
        """Take ``conn`` out of the idle set; False when it was not idle."""
        try:
            self.idle.remove(conn)
        except ValueError:
            return False
        return True

    def check(self, *, settled: bool = False) -> None:
        """Raise :class:`InvariantError` if the bookkeeping is inconsistent.

        ``settled``: nothing is in flight (no dial, check, clean-up or waiter),
        as when a pool is closed and every lease was given back.
        """
        problems: list[str] = []
        idle, lent, transit = self.idle, self.lent, self.transit
        if not 0 <= self.total <= self.max:
            problems.append(f"total={self.total} outside 0..max={self.max}")
        if len(set(idle)) != len(idle):
            problems.append("a connection is idle twice")
        both = set(idle) & set(lent)
        if both:
            problems.append(f"{len(both)} connection(s) both idle and lent")
        for name, place in (("idle", idle), ("lent", lent)):
            moving = transit.intersection(place)
            if moving:
                problems.append(f"{len(moving)} connection(s) both {name} and in transit")
        if set(self.lent_stacks) - set(lent):
            problems.append("an acquire stack is kept for a connection not lent")
        reserved = self.reserved
        if reserved < self.dialing:
            problems.append(f"reserved={reserved} slots but {self.dialing} dial(s) in flight")
        if self.dialing < 0:
            problems.append(f"dialing={self.dialing}")
        if settled:
            if transit:
                problems.append(f"{len(transit)} connection(s) still in transit")
            if reserved:
                problems.append(f"{reserved} slot(s) still reserved")
            pending = [w for w in self.waiters if not w.done()]
            if pending:
                problems.append(f"{len(pending)} caller(s) still waiting")
        if problems:
            raise InvariantError("pool bookkeeping broken: " + "; ".join(problems))

    def describe(self) -> str:
        """The counts, for error messages and logs."""
        return (
            f"total={self.total}/{self.max} idle={len(self.idle)} in_use={len(self.lent)}"
            f" waiting={len(self.waiters)} dialing={self.dialing}"
        )
