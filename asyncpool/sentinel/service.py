"""One monitored service (a primary and its replicas): where it is, and failing over.

:class:`Service` holds the primary's address as the sentinels last named it,
dials for the pools of :meth:`Sentinel.master_for` / ``replica_for``, checks
each new primary connection with ``ROLE``, and on a change of primary
(``+switch-master``, the poll, a stale primary, a ``READONLY`` reply) expires
every pool's connections and records a :class:`Failover`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any

from ..connection import Connection
from ..errors import ConnectionError, StalePrimaryError
from ..pool import Pool
from .nodes import Address, SentinelNodes, text

__all__ = ["Failover", "Service"]

log = logging.getLogger("asyncpool.sentinel")

#: Seconds a list of replicas from the sentinels is reused by new replica dials.
REPLICA_LIST_TTL = 1.0
#: Seconds a replica that failed a dial is passed over by the round-robin.
AVOID_FAILED_REPLICA = 2.0
#: Least seconds between rediscoveries prompted by failed dials.
REDISCOVER_MIN_INTERVAL = 0.05


@dataclass
class Failover:
    """One change of primary, as this client saw it.

    ``source`` says how it was noticed: ``"+switch-master"`` (a sentinel's
    event), ``"poll"`` (the periodic check), ``"stale primary"`` (a new
    connection found a replica), ``"readonly"`` (a write was refused) or
    ``"dial failure"``.  ``switch_seconds`` is the time from noticing it to
    the first connection checked (``ROLE``) to be the new primary; ``None``
    until then.
    """

    service: str
    old: Address | None
    new: Address
    source: str
    #: Wall-clock time (``time.time()``) it was noticed.
    detected_at: float
    switch_seconds: float | None = None


def _addr(address: Address | None) -> str:
    return "(unknown)" if address is None else f"{address[0]}:{address[1]}"


class Service:
    """The client's view of one service name; shared by all its pools."""

    def __init__(self, name: str, nodes: SentinelNodes) -> None:
        self.name = name
        self.nodes = nodes
        #: The primary's address as the sentinels last named it.
        self.master: Address | None = None
        #: Every change of primary seen, oldest first.
        self.failovers: list[Failover] = []
        self._stale = True
        self._stale_reason = "dial failure"
        self._discovery: asyncio.Task[Address] | None = None
        self._last_discovery = 0.0
        self._pending: tuple[Failover, float] | None = None
        #: Configuration epoch of the last answer, and the least one still current.
        self._epoch = 0
        self._min_epoch = 0
        #: ``+switch-master`` events seen: an answer to a query begun before one is older.
        self._events = 0
        #: The known primary said it is not one (``ROLE``, ``READONLY``).
        self._disproved = False
        self._master_pools: weakref.WeakSet[Pool] = weakref.WeakSet()
        self._replica_pools: weakref.WeakSet[Pool] = weakref.WeakSet()
        self._errors_seen: weakref.WeakKeyDictionary[Pool, int] = weakref.WeakKeyDictionary()
        self._replicas: list[Address] = []
        self._flagged: list[Address] = []
        self._replicas_at = float("-inf")
        self._replica_fetch: asyncio.Task[tuple[list[Address], list[Address]]] | None = None
        self._next_replica = 0
        self._last_replica: weakref.WeakKeyDictionary[Pool, tuple[Address, int]] = (
            weakref.WeakKeyDictionary()
        )
        self._avoid: dict[Address, float] = {}

    def __repr__(self) -> str:
        return f"<Service {self.name} primary={_addr(self.master)}>"

    # -- pools -----------------------------------------------------------------------------
    def add_master_pool(self, pool: Pool) -> None:
        """Dial ``pool``'s connections to the primary (its dialer calls :meth:`dial_master`)."""
        self._master_pools.add(pool)

    def add_replica_pool(self, pool: Pool) -> None:
        """Expire ``pool`` on failover too (its dialer calls :meth:`dial_replica`)."""
        self._replica_pools.add(pool)

    # -- the primary -------------------------------------------------------------------------
    async def dial_master(self, pool: Pool | None = None) -> Address:
        """Where the next primary connection goes: the known primary, or ask the sentinels.

        The sentinels are asked when no address is known, when it was found
        stale, and (at most every 50 ms) when ``pool`` failed a dial since.
        """
        if pool is not None:
            errors = pool.stats().errors_total
            failed = self._errors_seen.get(pool, errors) != errors
            if failed and time.monotonic() - self._last_discovery >= REDISCOVER_MIN_INTERVAL:
                self.stale("dial failure")
            self._errors_seen[pool] = errors
        if self.master is None or self._stale:
            return await self.rediscover(self._stale_reason)
        return self.master

    async def rediscover(self, source: str) -> Address:
        """Ask the sentinels for the primary now (one query at a time, shared by callers).

        A different answer than the one known is a failover, recorded with
        ``source``.
        """
        task = self._discovery
        if task is None or task.done():
            task = asyncio.ensure_future(self._discover(source))
            self._discovery = task
        return await asyncio.shield(task)

    async def _discover(self, source: str) -> Address:
        events = self._events
        address, epoch, current = await self.nodes.master_address(
            self.name, min_epoch=self._min_epoch
        )
        self._last_discovery = time.monotonic()
        self._stale = False
        ignored = self._not_followed(address, current=current, events=events)
        if ignored is not None:
            log.info("sentinel: ignoring %s for %r: %s", _addr(address), self.name, ignored)
            return self.master or address  # (ignored only when a primary is known)
        if self.master is None:
            self._epoch = self._min_epoch = epoch
            self.master = address
            log.info("sentinel: primary of %r is %s", self.name, _addr(address))
        else:
            self.switch(address, source, epoch=epoch)
        return address

    def _not_followed(self, address: Address, *, current: bool, events: int) -> str | None:
        """Why an answer naming another primary is not followed (None: it is).

        Answers older than a switch already seen are passed over by epoch
        (:meth:`SentinelNodes.master_address`).  But during a failover the
        leader names the old primary, already with the new epoch, until it
        switches; so an answer is also dropped when a switch event arrived
        while it was asked for, or when every sentinel flags the primary it
        names down (unless the known primary said it is not one).
        """
        if self.master is None or address == self.master:
            return None
        if events != self._events:
            return "asked for before the last +switch-master"
        if not current and not self._disproved:
            return "every sentinel flags it down"
        return None

    def switch(self, new: Address, source: str, *, epoch: int | None = None) -> None:
        """The primary is now ``new``: expire every pool, record and log the failover.

        Repeated news of the same switch (each sentinel publishes it) is ignored.
        A switch event means a configuration newer than the last answer:
        answers from sentinels that have not caught up with it are ignored
        from now on, and so are answers to queries begun before it.
        """
        self._stale = False
        if epoch is not None:  # a sentinel's answer, with the epoch of its configuration
            # never backwards: a down primary's fallback answer may carry an older one
            self._epoch = max(self._epoch, epoch)
            self._min_epoch = max(self._min_epoch, epoch)
        else:  # an event: answers to queries already under way are older
            self._events += 1
        if new == self.master:
            return
        if epoch is None:  # an event: newer than any answer seen so far
            self._min_epoch = self._epoch + 1
        self._errors_seen.clear()  # dials that failed before the switch are not news
        self._disproved = False
        old, self.master = self.master, new
        record = Failover(self.name, old, new, source, time.time())
        self.failovers.append(record)
        self._pending = (record, time.monotonic())
        log.warning(
            "sentinel: %r failed over from %s to %s (noticed by %s)",
            self.name,
            _addr(old),
            _addr(new),
            source,
        )
        self._replicas_at = float("-inf")
        if old is not None:  # dead, or about to be demoted and resynced: not for reads now
            self._avoid[old] = time.monotonic() + AVOID_FAILED_REPLICA
        for pool in (*self._master_pools, *self._replica_pools):
            pool.expire_all()  # idle ones close now, lent ones when they come back
            pool.dial_target_changed()

    async def check_primary(self, conn: Connection) -> None:
        """``on_connect`` of primary pools: reject a connection that is not to the primary.

        The server must answer ``ROLE`` with ``master`` *and* still be the
        address the sentinels name (a dial begun before a switch may finish
        after it, on the old primary, which says ``master`` until the
        sentinels demote it).
        """
        role = await role_of(conn)
        address = (conn.options.host, conn.options.port)
        if role != "master":
            self._min_epoch = self._epoch  # the news we followed was wrong
            if address == self.master:
                self._disproved = True
            self.stale("stale primary")
            raise StalePrimaryError(
                f"{_addr(address)} is a {role}, not the primary of {self.name!r};"
                " asking the sentinels again"
            )
        if address != self.master:
            raise StalePrimaryError(
                f"the primary of {self.name!r} moved to {_addr(self.master)}"
                f" while connecting to {_addr(address)}"
            )
        pending = self._pending
        if pending is not None and pending[0].new == address:
            self._pending = None
            record, started = pending
            record.switch_seconds = time.monotonic() - started
            log.warning(
                "sentinel: %r switched to %s in %.3fs",
                self.name,
                _addr(address),
                record.switch_seconds,
            )

    def demoted(self) -> None:
        """A primary connection got ``READONLY``: the server was demoted; drop its connections."""
        self._disproved = True
        self.stale("readonly")
        for pool in self._master_pools:
            pool.expire_all()

    # -- replicas -------------------------------------------------------------------------------
    async def dial_replica(self, pool: Pool | None = None) -> Address:
        """Round-robin over the replicas the sentinels consider healthy, else the primary.

        An address that failed this pool's last dial (and the old primary
        after a failover) is passed over for two seconds.  With no healthy
        replica left the primary is dialed; if it is passed over too, a
        replica the sentinels flagged (a link they lost for a moment, as
        during a promotion) is tried before giving up on the round-robin.
        """
        healthy, flagged = await self.replicas()
        now = time.monotonic()
        if pool is not None:
            errors = pool.stats().errors_total
            last = self._last_replica.get(pool)
            if last is not None and last[1] != errors:  # the last one we named failed
                if self._avoid.get(last[0], 0.0) <= now:
                    pool.dial_target_changed()  # others remain: no need to fail fast
                self._avoid[last[0]] = now + AVOID_FAILED_REPLICA

        def fine(address: Address) -> bool:
            return self._avoid.get(address, 0.0) <= now

        candidates = [r for r in healthy if fine(r)]
        if not candidates:
            if self.master is None or self._stale:
                await self.rediscover(self._stale_reason)
            assert self.master is not None
            candidates = [self.master] if fine(self.master) else [r for r in flagged if fine(r)]
            candidates = candidates or [self.master]
        self._next_replica = (self._next_replica + 1) % len(candidates)
        chosen = candidates[self._next_replica]
        if pool is not None:
            self._last_replica[pool] = (chosen, pool.stats().errors_total)
        return chosen

    async def check_replica(self, conn: Connection) -> None:
        """``on_connect`` of replica pools: a data node (replica, or a primary) serves reads.

        A listed replica may say ``master``: the promoted one before the
        switch is announced, the old primary before the sentinels demote it,
        or the primary itself as the fallback.  Each holds the data, so reads
        go on; anything else (a sentinel) is rejected.
        """
        role = await role_of(conn)
        if role not in ("slave", "master"):
            address = (conn.options.host, conn.options.port)
            raise StalePrimaryError(
                f"{_addr(address)} is a {role}, not a data node of {self.name!r}"
            )

    async def replicas(self) -> tuple[list[Address], list[Address]]:
        """(healthy, flagged) replicas from ``SENTINEL REPLICAS``, reused for up to a second."""
        if time.monotonic() - self._replicas_at < REPLICA_LIST_TTL:
            return self._replicas, self._flagged
        task = self._replica_fetch
        if task is None or task.done():
            task = asyncio.ensure_future(self._fetch_replicas())
            self._replica_fetch = task
        return await asyncio.shield(task)

    async def _fetch_replicas(self) -> tuple[list[Address], list[Address]]:
        try:
            self._replicas, self._flagged = await self.nodes.replicas(self.name)
        except ConnectionError as exc:
            log.info("sentinel: cannot list replicas of %r: %s", self.name, exc)
            return self._replicas, self._flagged  # the last list, until a sentinel answers
        self._replicas_at = time.monotonic()
        return self._replicas, self._flagged

    def stale(self, reason: str) -> None:
        """Ask the sentinels before the next dial; ``reason`` names a failover found so."""
        if not self._stale:
            self._stale_reason = reason
        self._stale = True

    def close(self) -> None:
        """Cancel background queries."""
        for task in (self._discovery, self._replica_fetch):
            if task is not None and not task.done():
                task.cancel()


async def role_of(conn: Connection) -> str:
    """The first element of ``ROLE`` on ``conn``: ``master``, ``slave`` or ``sentinel``."""
    reply: Any = await conn.execute_command("ROLE")
    if not isinstance(reply, (list, tuple)) or not reply:
        raise ConnectionError(f"unexpected ROLE reply from {conn.options.address}: {reply!r}")
    return text(reply[0])
