"""Run one command on the right node, following redirects: the cluster's hot path.

The loop of :func:`run`:

1. The slot comes from the command's keys (:mod:`asyncpool.keyspec`); keys
   in different slots raise :class:`~asyncpool.CrossSlotError` before
   anything is sent.
2. A connection is lent by that node's pool (``try_lend`` / ``lend`` / ``give_back``).
   A full pool *waits* (``acquire_timeout``); :class:`~asyncpool.PoolTimeout`
   is raised as is and never taken for a node failure.
3. Replies that redirect are followed, at most ``max_redirects`` times in all:
   ``MOVED`` patches the slot table at once (and schedules a refresh), ``ASK``
   sends ``ASKING`` and the command in one write on the **same** connection,
   ``TRYAGAIN``/``CLUSTERDOWN`` wait a jittered, doubling pause.
4. Connection failures follow the client's :class:`~asyncpool.Retry`: a
   command whose bytes may have reached the server is repeated only when
   safe (reads, idempotent writes, or ``retryable=True``); otherwise
   :class:`~asyncpool.OutcomeUnknownError`.  Each failure triggers a refresh.

The whole loop runs inside the retry policy's one overall ``deadline``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..command import Command
from ..command_info import command_name, is_safe_to_retry
from ..errors import (
    AskError,
    BusyLoadingError,
    ClusterDownError,
    ConnectionError,
    CrossSlotError,
    MovedError,
    OutcomeUnknownError,
    PoolClosed,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TimeoutError,
    TryAgainError,
)
from ..keyspec import key_indices
from ..pool import Pool
from ..pool.lease import DEFAULT
from .slots import hash_slot
from .topology import Address

if TYPE_CHECKING:
    from .client import RedisCluster

__all__ = ["observed_run", "redirect_address", "run", "run_on", "slot_of"]

_REDIRECTS = (
    MovedError,
    AskError,
    TryAgainError,
    ClusterDownError,
    ReadOnlyError,
    BusyLoadingError,
)


def slot_of(args: Sequence[Any]) -> int | None:
    """The one slot of a command's keys; ``None`` when it has none.

    Raises :class:`~asyncpool.CrossSlotError` when its keys span slots.
    """
    indices = key_indices(args)
    if not indices:
        return None
    slot = hash_slot(args[indices[0]])
    for i in indices[1:]:
        if hash_slot(args[i]) != slot:
            raise CrossSlotError(
                f"CROSSSLOT keys of {command_name(args)} hash to different slots"
                f" ({args[indices[0]]!r} and {args[i]!r}); use a {{hash tag}} to keep them"
                " together",
                "CROSSSLOT",
            )
    return slot


def redirect_address(error: MovedError | AskError, asked: Address) -> Address:
    """Where a redirect points (an empty host means the node that answered)."""
    return (error.host or asked[0], error.port)


def backoff(cluster: RedisCluster, n: int) -> float:
    """Jittered pause before the ``n``-th TRYAGAIN/CLUSTERDOWN retry."""
    cap = min(cluster.cluster_backoff_max, cluster.cluster_backoff * 2 ** (n - 1))
    return random.uniform(cap / 2, cap)


def _safe(args: Sequence[Any], retryable: bool | None) -> bool:
    return is_safe_to_retry(args) if retryable is None else retryable


async def observed_run(
    cluster: RedisCluster, args: Sequence[Any], retryable: bool | None, timeout: Any = DEFAULT
) -> Any:
    """:func:`run` timed as one operation (redirects included) for the observer of the pool
    that answered, so ``db.client.operation.duration`` carries that node's address."""
    where: list[Pool] = []
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        return await run(cluster, args, retryable, timeout, where=where)
    except BaseException as exc:
        error = exc
        raise
    finally:
        observer = where[0].observer if where else None
        if observer is not None:
            elapsed = time.perf_counter() - started
            observer.on_operation(where[0], Command(tuple(args)), elapsed, error)


async def run(
    cluster: RedisCluster,
    args: Sequence[Any],
    retryable: bool | None,
    timeout: Any = DEFAULT,
    slot: int | Any | None = DEFAULT,
    where: list[Pool] | None = None,
) -> Any:
    """Run ``args`` on the node serving its slot; return the reply (errors raised).

    ``where``, when given, is left holding the pool of the last node tried.
    """
    nodes = cluster._nodes
    if nodes.topology is None:
        await cluster.initialize()
    if slot is DEFAULT:
        slot = slot_of(args)
    readonly = cluster._reads_replicas and cluster._is_read(args)
    retry = cluster._retry
    attempt = redirects = 0
    ask: Address | None = None
    target: Address | None = None
    while True:
        if ask is not None:
            address = ask
        elif target is not None:
            address = target
        else:
            address = nodes.route(slot, readonly)
        sent = False
        try:
            pool = nodes.pool(address)
            if where is not None:
                where[:] = [pool]
            conn = pool.try_lend()  # the pool's lending API: no coroutine when one is idle
            if conn is None:
                conn = await pool.lend()
            try:
                sent = True
                if ask is not None:  # ASKING and the command in one write, one connection
                    replies = await conn.send_many([("ASKING",), args], timeout=timeout)
                    reply = replies[1]
                else:
                    reply = await conn.send_command(args, timeout=timeout)
            finally:
                pool.give_back(conn)
        except PoolClosed:
            if cluster._closed:
                raise
            redirects += 1  # the node left the topology as we picked it: route again
            if redirects > cluster.max_redirects:
                raise
            ask = target = None
            continue
        except ConnectionError as exc:
            nodes.node_failed(address)
            attempt += 1
            if sent and not exc.request_not_sent and not _safe(args, retryable):
                raise OutcomeUnknownError(
                    f"connection to {address[0]}:{address[1]} failed after"
                    f" {command_name(args)} was sent; the server may or may not have"
                    f" applied it ({exc})"
                ) from exc
            if attempt >= retry.attempts:
                raise
            await asyncio.sleep(retry.delay(attempt))
            await nodes.refresh()
            ask = target = None
            continue
        except TimeoutError:
            attempt += 1
            if not sent or not retry.retry_on_timeout or attempt >= retry.attempts:
                raise
            if not _safe(args, retryable):
                raise
            await asyncio.sleep(retry.delay(attempt))
            ask = target = None
            continue
        if not isinstance(reply, _REDIRECTS):
            if isinstance(reply, RedisError):
                raise reply
            return reply
        redirects += 1
        kind = reply.code
        nodes.redirects[kind] = nodes.redirects.get(kind, 0) + 1
        if redirects > cluster.max_redirects:
            raise reply
        ask = target = None
        if isinstance(reply, MovedError):
            target = redirect_address(reply, address)
            nodes.moved(reply.slot, target)
        elif isinstance(reply, AskError):
            ask = redirect_address(reply, address)
        elif isinstance(reply, ReadOnlyError):
            await nodes.refresh()  # a write reached a demoted primary
        elif isinstance(reply, BusyLoadingError):
            if slot is None or address == nodes.primary_of(slot):
                raise reply  # the primary itself is loading: nothing better to try
            nodes.node_failed(address)  # a replica still loading: read from the primary
            target = nodes.primary_of(slot)
        else:  # TRYAGAIN (keys of a migrating slot) or CLUSTERDOWN (failover under way)
            if isinstance(reply, ClusterDownError):
                nodes.schedule_refresh()
            await asyncio.sleep(backoff(cluster, redirects))


async def run_on(
    cluster: RedisCluster, address: Address, args: Sequence[Any], retryable: bool | None = None
) -> Any:
    """Run ``args`` on one given node (fan-out, per-node scans); the raw reply, errors raised.

    Connection failures before the write are retried per the client's policy.
    """
    retry = cluster._retry
    attempt = 0
    while True:
        sent = False
        try:
            pool = cluster._nodes.pool(address)
            conn = pool.try_lend()
            if conn is None:
                conn = await pool.lend()
            try:
                sent = True
                reply = await conn.send_command(args)
            finally:
                pool.give_back(conn)
        except ConnectionError as exc:
            cluster._nodes.node_failed(address)
            attempt += 1
            unsafe = sent and not exc.request_not_sent and not _safe(args, retryable)
            if unsafe or attempt >= retry.attempts:
                raise
            await asyncio.sleep(retry.delay(attempt))
            continue
        if isinstance(reply, ResponseError):
            raise reply
        return reply
