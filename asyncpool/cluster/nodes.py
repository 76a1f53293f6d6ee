"""The cluster's nodes: one ordinary pool per node, and the topology they serve.

:class:`ClusterNodes` owns a :class:`~asyncpool.Pool` per node address (each
with the user's connection and pool options, so every limit applies per
node), the current :class:`~asyncpool.cluster.topology.Topology`, and its
refresh:

* **Single-flight.**  Triggers (a MOVED reply, a connection failure to a
  node, the periodic check) merge into one background refresh; a caller that
  needs the result awaits that same task.
* **Rate-limited.**  Refreshes start at most once per ``refresh_min_interval``;
  a trigger inside the window schedules the next one instead of being lost.
* **Several nodes asked.**  ``CLUSTER SHARDS`` (``CLUSTER SLOTS`` on servers
  without it) goes to known primaries, then replicas, then the startup
  nodes, which are never forgotten; the first answer covering every slot
  wins, else the best seen.
* **No leaks.**  A node that left the topology has its pool closed.
* Every change is logged on ``asyncpool.cluster`` at INFO.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

from .._compat import TIMEOUT_ERRORS, timeout
from .._log_throttle import LogThrottle
from ..connection import Connection
from ..errors import ConnectionError, RedisError, ResponseError
from ..options import ConnectionOptions, PoolOptions
from ..pool import Hook, Pool
from ..resp import encode_command
from .topology import Address, Topology, parse_shards, parse_slots

__all__ = ["ClusterNodes", "ReadFrom"]

log = logging.getLogger("asyncpool.cluster")

#: Where read-only commands go: see docs/cluster.md.
ReadFrom = Literal["primary", "prefer_replica", "round_robin", "lowest_latency"]

#: Seconds a replica that failed is skipped by replica reads.
REPLICA_PENALTY = 5.0


class ClusterNodes:
    """Pools per node plus the topology, refreshed in the background."""

    def __init__(
        self,
        startup: Sequence[Address],
        connection_options: ConnectionOptions,
        pool_options: PoolOptions,
        *,
        read_from: ReadFrom = "primary",
        refresh_interval: float | None = 60.0,
        refresh_min_interval: float = 0.5,
        topology_timeout: float = 2.0,
        on_connect: Hook | None = None,
    ) -> None:
        self.startup: tuple[Address, ...] = tuple(dict.fromkeys(startup))
        self.connection_options = connection_options
        self.pool_options = pool_options
        self.read_from: ReadFrom = read_from
        self.refresh_interval = refresh_interval
        self.refresh_min_interval = refresh_min_interval
        self.topology_timeout = topology_timeout
        self._user_on_connect = on_connect
        self.topology: Topology | None = None
        self.pools: dict[Address, Pool] = {}
        #: Topology refreshes that got an answer.
        self.refreshes = 0
        #: Redirect replies followed, by kind ("MOVED", "ASK", "TRYAGAIN", ...).
        self.redirects: dict[str, int] = {}
        self._refresh: asyncio.Task[Topology | None] | None = None
        self._last_refresh = float("-inf")
        self._periodic: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[Any]] = set()
        self._down: dict[Address, float] = {}
        self._use_slots = False
        self._rr = 0
        self._closed = False
        self._pool_hooks: list[Callable[[Pool], None]] = []
        #: Round-trip seconds per node (a moving average of PINGs), for lowest_latency reads.
        self.latency: dict[Address, float] = {}
        #: Refresh failures repeat through an outage: logged once per interval, counted.
        self._throttle = LogThrottle(log)
        self._refresh_failures = 0

    # -- pools ---------------------------------------------------------------------
    def pool(self, address: Address) -> Pool:
        """The pool of the node at ``address`` (made on first use)."""
        pool = self.pools.get(address)
        if pool is None:
            if self._closed:
                from ..errors import PoolClosed

                raise PoolClosed("the cluster client is closed")
            host, port = address
            options = self.connection_options.replace(host=host, port=port)
            pool = Pool(options, self.pool_options, on_connect=self._on_connect)
            self.pools[address] = pool
            for hook in self._pool_hooks:
                hook(pool)
        return pool

    def on_new_pool(self, hook: Callable[[Pool], None]) -> None:
        """Call ``hook(pool)`` for every node pool, now and when one is made (metrics)."""
        self._pool_hooks.append(hook)
        for pool in list(self.pools.values()):
            hook(pool)

    async def _on_connect(self, conn: Connection) -> None:
        if self.read_from != "primary":
            # READONLY lets a replica serve reads; a primary ignores it.  Sent below the
            # connection's state tracking so the pool does not count it as dirty.
            reply = await conn.protocol.request(encode_command(("READONLY",)))
            if isinstance(reply, ResponseError):
                raise reply
        if self._user_on_connect is not None:
            await self._user_on_connect(conn)

    # -- routing -------------------------------------------------------------------
    def primary_of(self, slot: int) -> Address:
        """The primary serving ``slot`` (any primary when the slot is not covered)."""
        topology = self.topology
        assert topology is not None
        shard = topology.table[slot]
        if shard is None:
            return self.any_primary()
        return shard.primary

    def route(self, slot: int | None, readonly: bool) -> Address:
        """Where a command on ``slot`` goes (``None``: a keyless command)."""
        topology = self.topology
        assert topology is not None
        if slot is None:
            return self.any_primary()
        shard = topology.table[slot]
        if shard is None:
            return self.any_primary()
        if not readonly or self.read_from == "primary" or not shard.replicas:
            return shard.primary
        now = time.monotonic()
        replicas = [r for r in shard.replicas if self._down.get(r, 0.0) <= now]
        if self.read_from == "lowest_latency":
            latency = self.latency
            best = shard.primary
            for replica in replicas:
                if latency.get(replica, float("inf")) < latency.get(best, float("inf")):
                    best = replica
            return best
        choices = replicas if self.read_from == "prefer_replica" else [shard.primary, *replicas]
        if not choices:
            return shard.primary
        self._rr += 1
        return choices[self._rr % len(choices)]

    def any_primary(self) -> Address:
        topology = self.topology
        assert topology is not None
        primaries = topology.primaries()
        if not primaries:
            return self.startup[0]
        return random.choice(primaries)

    # -- events from the executor ------------------------------------------------------
    def moved(self, slot: int, address: Address) -> None:
        """A MOVED reply: serve ``slot`` from ``address`` now, and refresh soon."""
        if self.topology is not None and 0 <= slot < len(self.topology.table):
            if address not in self.topology.addresses():
                log.info("slot %d moved to a node not seen before: %s:%d", slot, *address)
            self.topology = self.topology.moved(slot, address)
        self.schedule_refresh()

    def node_failed(self, address: Address) -> None:
        """A connection to ``address`` failed: skip it for replica reads, refresh soon."""
        self._down[address] = time.monotonic() + REPLICA_PENALTY
        self.schedule_refresh()

    def recently_failed(self) -> set[Address]:
        """Nodes whose connection failed in the last few seconds (replica reads skip them)."""
        now = time.monotonic()
        return {a for a, until in self._down.items() if until > now}

    # -- lifecycle -----------------------------------------------------------------------
    async def initialize(self) -> None:
        """Load the first topology (raises when no startup node answers)."""
        if self.topology is not None:
            return
        topology = await self.refresh(force=True)
        if topology is None:
            raise ConnectionError(
                "no cluster node answered CLUSTER SHARDS/SLOTS; tried "
                + ", ".join(f"{h}:{p}" for h, p in self.startup)
            )
        if self._periodic is None and self.refresh_interval:
            self._periodic = asyncio.ensure_future(self._periodic_refresh())

    async def aclose(self) -> None:
        """Stop refreshing and close every node's pool."""
        self._closed = True
        for task in (self._periodic, self._refresh):
            if task is not None and not task.done():
                task.cancel()
        for task in (self._periodic, self._refresh):
            if task is not None:
                with contextlib.suppress(BaseException):
                    await task
        pools, self.pools = list(self.pools.values()), {}
        await asyncio.gather(*(p.close() for p in pools), *self._closing, return_exceptions=True)

    # -- refreshing ------------------------------------------------------------------------
    def schedule_refresh(self) -> None:
        """Ask for a refresh in the background (merged with one in flight)."""
        if self._closed or (self._refresh is not None and not self._refresh.done()):
            return
        self._refresh = asyncio.ensure_future(self._refresh_task(force=False))

    async def refresh(self, force: bool = False) -> Topology | None:
        """Refresh (or join the refresh in flight) and return the topology."""
        task = self._refresh
        if task is None or task.done():
            if self._closed:
                return self.topology
            task = self._refresh = asyncio.ensure_future(self._refresh_task(force=force))
        return await asyncio.shield(task)

    async def _refresh_task(self, force: bool) -> Topology | None:
        wait = self._last_refresh + self.refresh_min_interval - time.monotonic()
        if wait > 0 and not force:
            await asyncio.sleep(wait)  # rate limit: one refresh per refresh_min_interval
        self._last_refresh = time.monotonic()
        topology = await self._discover()
        if topology is not None:
            self._apply(topology)
            if self.read_from == "lowest_latency":
                await self._measure(topology)
        return self.topology

    async def _measure(self, topology: Topology) -> None:
        """PING every node of ``topology`` and fold the round trip into :attr:`latency`."""

        async def ping(address: Address) -> None:
            try:
                async with timeout(self.topology_timeout), self.pool(address).acquire() as conn:
                    started = time.perf_counter()
                    reply = await conn.send_command(("PING",))
                    elapsed = time.perf_counter() - started
            except (RedisError, OSError, *TIMEOUT_ERRORS):  # type: ignore[misc]
                return
            if isinstance(reply, ResponseError):
                return
            old = self.latency.get(address)
            self.latency[address] = elapsed if old is None else 0.7 * old + 0.3 * elapsed

        await asyncio.gather(*(ping(a) for a in sorted(topology.addresses())))

    async def _periodic_refresh(self) -> None:
        interval = self.refresh_interval
        assert interval
        while not self._closed:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except Exception:  # a failed periodic check must not end the loop
                self._throttle.log(
                    "periodic",
                    logging.ERROR,
                    "periodic cluster topology refresh failed",
                    exc_info=True,
                )
            else:
                self._throttle.forget("periodic")

    def _candidates(self) -> list[Address]:
        out: list[Address] = []
        if self.topology is not None:
            primaries = self.topology.primaries()
            random.shuffle(primaries)
            replicas = [r for s in self.topology.shards for r in s.replicas]
            random.shuffle(replicas)
            out += primaries + replicas
        out += [a for a in self.startup if a not in out]
        now = time.monotonic()
        return sorted(out, key=lambda a: self._down.get(a, 0.0) > now)  # failed nodes last

    async def _discover(self) -> Topology | None:
        best: Topology | None = None
        errors: list[str] = []
        for address in self._candidates():
            try:
                topology = await self._ask(address)
            except (RedisError, OSError, *TIMEOUT_ERRORS) as exc:  # type: ignore[misc]
                errors.append(f"{address[0]}:{address[1]}: {exc}")
                continue
            if topology.covered() == len(topology.table):
                self._refresh_works(errors)
                return topology
            if best is None or topology.covered() > best.covered():
                best = topology
        if best is None:
            self._refresh_failures += 1
            self._throttle.log(
                "refresh",
                logging.WARNING,
                "cluster topology refresh failed: %s",
                "; ".join(errors) or "no nodes",
            )
        else:
            self._refresh_works(errors)
        return best

    def _refresh_works(self, errors: list[str]) -> None:
        """A node answered: if "refresh failed" was logged, say once that it is over."""
        failures, self._refresh_failures = self._refresh_failures, 0
        if self._throttle.forget("refresh") is not None:
            log.warning(
                "cluster topology refresh works again (%d failed refresh(es);"
                " %d node(s) did not answer this time)",
                failures,
                len(errors),
            )

    async def _ask(self, address: Address) -> Topology:
        host, port = address
        options = self.connection_options.replace(
            host=host, port=port, connect_timeout=self.topology_timeout
        )
        conn = Connection(options)
        try:
            async with timeout(self.topology_timeout):
                await conn.connect()
                if not self._use_slots:
                    reply = await conn.send_command(("CLUSTER", "SHARDS"))
                    if not isinstance(reply, ResponseError):
                        return parse_shards(reply, host)
                    self._use_slots = True  # before Redis 7.0
                reply = await conn.send_command(("CLUSTER", "SLOTS"))
                if isinstance(reply, ResponseError):
                    raise reply
                return parse_slots(reply, host)
        finally:
            conn.close()

    def _apply(self, new: Topology) -> None:
        old = self.topology
        self.refreshes += 1
        if old is not None and old.same_layout(new):
            self.topology = new
            return
        self.topology = new
        if old is None:
            log.info(
                "cluster topology loaded: %d shard(s), %d node(s), %d/%d slots covered",
                len(new.shards),
                len(new.addresses()),
                new.covered(),
                len(new.table),
            )
            return
        added, gone = new.addresses() - old.addresses(), old.addresses() - new.addresses()
        changed = sum(
            1
            for a, b in zip(old.table, new.table, strict=True)
            if (a.primary if a else None) != (b.primary if b else None)
        )
        log.info(
            "cluster topology changed: %d slot(s) changed primary; nodes added %s, removed %s",
            changed,
            sorted(added) or "none",
            sorted(gone) or "none",
        )
        for address in gone:
            pool = self.pools.pop(address, None)
            if pool is not None:
                log.info("closing the pool of departed node %s:%d", *address)
                task = asyncio.ensure_future(pool.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
