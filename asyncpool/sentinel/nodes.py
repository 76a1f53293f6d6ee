"""Talking to the sentinels: the list of them, one small client each, queries tried in turn.

:class:`SentinelNodes` keeps the sentinels in the order to try them: the one
that last answered first, one that failed last.  The sentinels given by the
user are never dropped; others learnt from ``SENTINEL SENTINELS`` are added,
and dropped again when no sentinel lists them any more.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from ..client import Redis, Retry
from ..errors import (
    ConnectionError,
    MasterNotFoundError,
    RedisError,
    ResponseError,
    TimeoutError,
)
from ..options import ConnectionOptions
from ..pool import Pool

__all__ = ["Address", "SentinelNodes", "fields", "text"]

log = logging.getLogger("asyncpool.sentinel")

#: ``(host, port)`` of a server.
Address = tuple[str, int]
T = TypeVar("T")

#: Flags by which sentinels mark an instance they consider unusable.
DOWN_FLAGS = frozenset({"s_down", "o_down", "disconnected"})


def text(value: Any) -> str:
    """A reply element as text."""
    return value.decode() if isinstance(value, (bytes, bytearray)) else str(value)


def fields(entry: Any) -> dict[str, str]:
    """One instance description (RESP2 flat list or RESP3 map) as a dict of text."""
    if isinstance(entry, dict):
        return {text(k): text(v) for k, v in entry.items()}
    items = [text(x) for x in entry]
    return dict(zip(items[::2], items[1::2], strict=False))


def usable(info: dict[str, str]) -> bool:
    """False when the sentinel flags the instance down or disconnected."""
    flags = set(info.get("flags", "").split(","))
    return not flags & DOWN_FLAGS


class SentinelNodes:
    """The known sentinels and a client for each (created on first use)."""

    def __init__(self, configured: Iterable[Address], options: ConnectionOptions) -> None:
        self.configured: tuple[Address, ...] = tuple((h, int(p)) for h, p in configured)
        if not self.configured:
            raise ValueError("at least one sentinel address is needed")
        self.options = options
        self._order: list[Address] = list(self.configured)
        self._clients: dict[Address, Redis] = {}
        self._closed = False

    @property
    def addresses(self) -> list[Address]:
        """Every known sentinel, in the order they are tried."""
        return list(self._order)

    def client(self, address: Address) -> Redis:
        """The (lazily created) client of one sentinel: no retries, short timeouts."""
        client = self._clients.get(address)
        if client is None:
            host, port = address
            opts = self.options.replace(host=host, port=port, path=None)
            pool = Pool(
                opts,
                max_connections=4,
                dial_attempts=1,
                health_check_interval=None,
                borrow_check_after=None,
                breaker_threshold=1_000_000,  # a down sentinel is skipped, not fenced off
                name=f"sentinel {host}:{port}",
            )
            client = Redis(pool=pool, retry=Retry(attempts=1))
            self._clients[address] = client
        return client

    async def ask(
        self, query: Callable[[Redis], Awaitable[T | None]], what: str
    ) -> tuple[Address, T]:
        """Run ``query`` on each sentinel in turn until one gives an answer (not None).

        The sentinel that answered moves to the front; one that failed moves
        to the back.  Raises :class:`~asyncpool.MasterNotFoundError` when none
        answered, naming each sentinel's error.
        """
        errors: list[str] = []
        for address in list(self._order):
            try:
                answer = await query(self.client(address))
            except (ConnectionError, TimeoutError, RedisError) as exc:
                errors.append(f"{address[0]}:{address[1]}: {exc}")
                self._move(address, front=False)
                continue
            if answer is None:
                errors.append(f"{address[0]}:{address[1]}: does not know it")
                continue
            self._move(address, front=True)
            return address, answer
        raise MasterNotFoundError(f"no sentinel could tell {what} ({'; '.join(errors)})")

    async def master_address(
        self, service: str, *, min_epoch: int = 0
    ) -> tuple[Address, int, bool]:
        """``(primary, config epoch, current)`` by the first sentinel with a current answer.

        ``SENTINEL MASTER`` is asked of each sentinel in turn.  An answer is
        passed over when that sentinel flags the primary down (it may lag
        behind a failover the others finished) or its configuration epoch is
        older than ``min_epoch`` (the client already saw a newer switch).
        When no sentinel gives a current answer, the newest of the passed-over
        ones is returned with ``current`` false: a primary that is down is
        still where it is.
        """
        passed_over: list[tuple[int, Address]] = []

        async def query(client: Redis) -> tuple[Address, int] | None:
            try:
                reply = await client.execute_command("SENTINEL", "MASTER", service)
            except ResponseError as exc:
                if "no such master" in str(exc).lower():
                    return None
                raise
            info = fields(reply)
            if "ip" not in info:
                return None
            address = (info["ip"], int(info["port"]))
            epoch = int(info.get("config-epoch", "0"))
            if usable(info) and epoch >= min_epoch:
                return address, epoch
            passed_over.append((epoch, address))
            return None

        try:
            address, epoch = (await self.ask(query, f"the primary of {service!r}"))[1]
        except MasterNotFoundError:
            if not passed_over:
                raise
            epoch, address = max(passed_over)
            return address, epoch, False
        return address, epoch, True

    async def replicas(self, service: str) -> tuple[list[Address], list[Address]]:
        """Replicas of ``service`` by the first answering sentinel: (unflagged, flagged down).

        The replicas' own link state in the answer lags (refreshed every
        10 s), so it is not used: the ROLE check on connect decides.
        """

        async def query(client: Redis) -> tuple[list[Address], list[Address]] | None:
            reply = await client.execute_command("SENTINEL", "REPLICAS", service)
            healthy: list[Address] = []
            flagged: list[Address] = []
            for entry in reply or ():
                info = fields(entry)
                (healthy if usable(info) else flagged).append((info["ip"], int(info["port"])))
            return healthy, flagged

        return (await self.ask(query, f"the replicas of {service!r}"))[1]

    async def refresh(self, service: str) -> None:
        """Learn the other sentinels of ``service`` (``SENTINEL SENTINELS``).

        Configured sentinels stay whatever the answer; learnt ones not listed
        any more (or flagged down) are forgotten.
        """

        async def query(client: Redis) -> list[Address] | None:
            reply = await client.execute_command("SENTINEL", "SENTINELS", service)
            return [
                (info["ip"], int(info["port"]))
                for info in map(fields, reply or ())
                if usable(info) and "ip" in info
            ]

        answered, peers = await self.ask(query, f"the sentinels of {service!r}")
        known = {answered, *peers, *self.configured}
        for address in peers:
            if address not in self._order:
                log.info("sentinel: learnt of sentinel %s:%d", *address)
                self._order.append(address)
        for address in list(self._order):
            if address not in known:
                log.info("sentinel: forgetting sentinel %s:%d", *address)
                self._order.remove(address)
                client = self._clients.pop(address, None)
                if client is not None:
                    await client.pool.close()

    def _move(self, address: Address, *, front: bool) -> None:
        if address in self._order:
            self._order.remove(address)
            if front:
                self._order.insert(0, address)
            else:
                self._order.append(address)

    async def aclose(self) -> None:
        """Close every sentinel client."""
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.pool.close()

    def __repr__(self) -> str:
        shown = ", ".join(f"{h}:{p}" for h, p in self._order)
        return f"<SentinelNodes [{shown}]>"


def addresses_text(addresses: Sequence[Address]) -> str:
    """``host:port, host:port`` for messages."""
    return ", ".join(f"{h}:{p}" for h, p in addresses)
