"""Sharded pub/sub: ``SSUBSCRIBE`` on the primary that owns each channel's slot.

A shard channel hashes to a slot like a key.  :class:`ShardedPubSub` keeps one
subscriber connection per primary that owns one of its channels.  It takes
that connection from the node's pool and never gives it back for reuse: it
closes the connection when done.  Messages from every node arrive in one
stream, as ``{"type": "smessage", "pattern": None, "channel", "data"}``.

Re-homing.  When a slot moves (migration or failover), the old owner sends an
unrequested ``sunsubscribe`` for its channels, or the connection drops.  The
session then refreshes the topology and subscribes those channels again on
the new owner, retrying with backoff (a ``MOVED`` reply also updates the slot
table).  Messages published in between are lost: pub/sub has no memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..errors import ConnectionError, MovedError, PoolClosed, ResponseError
from ..pool import PooledConnection
from ..resp import encode_command
from .executor import redirect_address
from .slots import hash_slot, key_bytes
from .topology import Address

if TYPE_CHECKING:
    from .client import RedisCluster

__all__ = ["ShardedPubSub"]

log = logging.getLogger("asyncpool.cluster")


class ShardedPubSub:
    """``async with cluster.sharded_pubsub() as ps: await ps.ssubscribe("ch")``."""

    def __init__(self, cluster: RedisCluster, *, rehome_backoff: float = 0.05) -> None:
        self._cluster = cluster
        self._leases: dict[Address, PooledConnection] = {}
        self._home: dict[bytes, Address] = {}  # channel -> the node it is subscribed on
        self._wanted: set[bytes] = set()
        self._pending: dict[bytes, asyncio.Future[None]] = {}
        self._messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._rehoming: set[asyncio.Task[None]] = set()
        self._backoff = rehome_backoff
        self._closed = False

    def __repr__(self) -> str:
        return f"<ShardedPubSub channels={len(self._wanted)} nodes={len(self._leases)}>"

    async def __aenter__(self) -> ShardedPubSub:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def channels(self) -> dict[bytes, Address]:
        """Each subscribed channel and the node it is subscribed on now."""
        return dict(self._home)

    async def ssubscribe(self, *channels: Any) -> None:
        """Subscribe ``channels``, each on its slot's primary; returns once all are confirmed."""
        names = [key_bytes(c) for c in channels]
        self._wanted.update(names)
        await asyncio.gather(*(self._subscribe_one(name) for name in names))

    async def sunsubscribe(self, *channels: Any) -> None:
        """Stop receiving ``channels`` (all of them when none is given)."""
        names = [key_bytes(c) for c in channels] or list(self._wanted)
        for name in names:
            self._wanted.discard(name)
            address = self._home.pop(name, None)
            lease = self._leases.get(address) if address is not None else None
            if lease is not None and not lease.released:
                lease.connection.protocol.write(encode_command(("SUNSUBSCRIBE", name)))

    async def get_message(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next ``smessage``, or ``None`` after ``timeout`` seconds."""
        try:
            return await asyncio.wait_for(self._messages.get(), timeout)
        except asyncio.TimeoutError:
            return None

    async def aclose(self) -> None:
        """Close every subscriber connection."""
        self._closed = True
        for task in list(self._rehoming):
            task.cancel()
        await asyncio.gather(*self._rehoming, return_exceptions=True)
        leases, self._leases = list(self._leases.values()), {}
        for lease in leases:
            self._drop(lease)

    # -- internals ---------------------------------------------------------------------------
    async def _subscribe_one(self, name: bytes) -> None:
        cluster = self._cluster
        if cluster._nodes.topology is None:
            await cluster.initialize()
        for attempt in range(1, cluster.max_redirects + 2):
            address = cluster._nodes.primary_of(hash_slot(name))
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._pending[name] = fut
            try:
                lease = await self._lease(address)
                lease.connection.protocol.write(encode_command(("SSUBSCRIBE", name)))
                await asyncio.wait_for(fut, cluster._nodes.topology_timeout)
            except MovedError as moved:
                cluster._nodes.moved(moved.slot, redirect_address(moved, address))
            except (ConnectionError, asyncio.TimeoutError, PoolClosed):
                await cluster._nodes.refresh()
                await asyncio.sleep(random.uniform(0, self._backoff * attempt))
            else:
                self._home[name] = address
                return
            finally:
                self._pending.pop(name, None)
        raise ConnectionError(f"could not subscribe shard channel {name!r}")

    async def _lease(self, address: Address) -> PooledConnection:
        lease = self._leases.get(address)
        if lease is not None and not lease.released and not lease.connection.is_closed:
            return lease
        lease = await self._cluster._nodes.pool(address).acquire()
        conn = lease.connection
        conn.mark_subscribed()  # never lent again as it is
        protocol = conn.protocol
        protocol.route_all_to_push = True
        protocol.on_push = lambda reply: self._on_reply(address, reply)
        protocol.on_lost = lambda reason: self._on_lost(address, lease)
        self._leases[address] = lease
        return lease

    def _drop(self, lease: PooledConnection) -> None:
        if lease.released:
            return
        conn = lease.connection
        protocol = conn.protocol_or_none
        if protocol is not None:
            protocol.on_push = None
            protocol.on_lost = None
        conn.close()
        task = asyncio.ensure_future(lease.release())  # closed: the pool frees its slot
        task.add_done_callback(lambda t: t.exception())

    def _on_reply(self, address: Address, reply: Any) -> None:
        if isinstance(reply, ResponseError):
            for fut in self._pending.values():  # a refused SSUBSCRIBE (MOVED ...)
                if not fut.done():
                    fut.set_exception(reply)
                    return
            log.warning("error reply on a shard subscriber connection: %s", reply)
            return
        if not isinstance(reply, list) or len(reply) < 3:
            return
        head = reply[0]
        kind_text = (head.decode() if isinstance(head, bytes) else str(head)).lower()
        name = key_bytes(reply[1])
        if kind_text == "smessage":
            self._messages.put_nowait(
                {"type": "smessage", "pattern": None, "channel": reply[1], "data": reply[2]}
            )
        elif kind_text == "ssubscribe":
            waiting = self._pending.get(name)
            if waiting is not None and not waiting.done():
                waiting.set_result(None)
        elif (
            kind_text == "sunsubscribe" and name in self._wanted and self._home.get(name) == address
        ):
            # not asked for: the slot moved away from this node; follow it
            del self._home[name]
            self._rehome([name])

    def _on_lost(self, address: Address, lease: PooledConnection) -> None:
        if self._leases.get(address) is lease:
            del self._leases[address]
        self._drop(lease)
        if self._closed:
            return
        lost = [n for n, a in self._home.items() if a == address]
        for name in lost:
            del self._home[name]
        if lost:
            log.info("shard subscriber connection to %s:%d lost; re-subscribing", *address)
            self._rehome(lost)

    def _rehome(self, names: list[bytes]) -> None:
        if self._closed:
            return

        async def again() -> None:
            self._cluster._nodes.schedule_refresh()
            await self._cluster._nodes.refresh()
            for name in names:
                if name in self._wanted:
                    with contextlib.suppress(ConnectionError):
                        await self._subscribe_one(name)

        task = asyncio.ensure_future(again())
        self._rehoming.add(task)
        task.add_done_callback(self._rehoming.discard)
