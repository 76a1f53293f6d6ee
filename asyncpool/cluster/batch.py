"""Many commands across the cluster: per-node batches, slot splits, fan-out.

* :func:`run_batch` groups commands by node, sends each group in one write
  on one connection of that node's pool, all groups concurrently, and
  returns the replies in the caller's order.  A command answered with a
  redirect (or whose group lost its connection before the write) is then
  run alone, in order, through the single-command loop.
* :func:`split` runs ``MGET``/``MSET``/``DEL``/``UNLINK``/``EXISTS``/``TOUCH``
  whose keys span slots as one sub-command per slot and recombines the
  replies (MGET values in key order, counts summed).  Atomic per slot only.
* :func:`fan_out` sends a command to every primary (or every node) and
  combines the replies as Redis's ``response_policy`` tip says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..command_info import command_name
from ..errors import ConnectionError, OutcomeUnknownError, PoolClosed, ResponseError
from .executor import _REDIRECTS, _safe, run, run_on, slot_of
from .slots import hash_slot
from .topology import Address

if TYPE_CHECKING:
    from ..client.base import Callback
    from .client import RedisCluster

__all__ = ["SPLIT_NAMES", "fan_out", "run_batch", "split"]

_AGAIN: Any = object()

#: Multi-key commands that are split by slot rather than refused.
SPLIT_NAMES = frozenset({"MGET", "MSET", "DEL", "UNLINK", "EXISTS", "TOUCH"})


async def run_batch(
    cluster: RedisCluster, commands: Sequence[Sequence[Any]], retryables: Sequence[bool | None]
) -> list[Any]:
    """Replies of ``commands`` in order; error replies and failures stand in as values."""
    nodes = cluster._nodes
    if nodes.topology is None:
        await cluster.initialize()
    slots = [slot_of(c) for c in commands]  # CrossSlotError before anything is sent
    groups: dict[Address, list[int]] = {}
    for i, args in enumerate(commands):
        readonly = cluster._reads_replicas and cluster._is_read(args)
        groups.setdefault(nodes.route(slots[i], readonly), []).append(i)
    results: list[Any] = [None] * len(commands)

    async def send(address: Address, indices: list[int]) -> None:
        sent = False
        try:
            async with nodes.pool(address).acquire() as conn:
                sent = True
                replies = await conn.send_many([commands[i] for i in indices])
        except (ConnectionError, PoolClosed) as exc:
            if isinstance(exc, ConnectionError):
                nodes.node_failed(address)
            unknown = sent and isinstance(exc, ConnectionError) and not exc.request_not_sent
            for i in indices:
                if unknown and not _safe(commands[i], retryables[i]):
                    results[i] = OutcomeUnknownError(
                        f"connection to {address[0]}:{address[1]} failed after"
                        f" {command_name(commands[i])} was sent; the server may or may not"
                        f" have applied it ({exc})"
                    )
                else:
                    results[i] = _AGAIN
            return
        for i, reply in zip(indices, replies, strict=True):
            results[i] = reply

    await asyncio.gather(*(send(a, idx) for a, idx in groups.items()))
    for i, reply in enumerate(results):  # in order: writes to one key keep their order
        if reply is _AGAIN or isinstance(reply, _REDIRECTS):
            try:
                results[i] = await run(cluster, commands[i], retryables[i], slot=slots[i])
            except ResponseError as exc:
                results[i] = exc
            except (ConnectionError, PoolClosed) as exc:
                results[i] = exc
    return results


async def split(cluster: RedisCluster, args: Sequence[Any], retryable: bool | None) -> Any:
    """Run a multi-key command whose keys may span slots; the raw combined reply."""
    name = command_name(args)
    step = 2 if name == "MSET" else 1
    by_slot: dict[int, list[int]] = {}
    for i in range(1, len(args), step):
        by_slot.setdefault(hash_slot(args[i]), []).append(i)
    if len(by_slot) <= 1:
        return await run(cluster, args, retryable)
    positions = list(by_slot.values())
    subs = [(args[0], *[a for p in group for a in args[p : p + step]]) for group in positions]
    replies = await run_batch(cluster, subs, [retryable] * len(subs))
    for reply in replies:
        if isinstance(reply, BaseException):
            raise reply
    if name == "MGET":
        values: list[Any] = [None] * (len(args) - 1)
        for group, reply in zip(positions, replies, strict=True):
            for p, value in zip(group, reply, strict=True):
                values[p - 1] = value
        return values
    if name == "MSET":
        return replies[0]
    return sum(replies)


async def fan_out(
    cluster: RedisCluster,
    args: Sequence[Any],
    addresses: Sequence[Address],
    response: str | None,
    callback: Callback | None,
) -> Any:
    """Run ``args`` on every node in ``addresses``; combine per ``response`` policy."""
    replies = await asyncio.gather(
        *(run_on(cluster, a, args) for a in addresses), return_exceptions=True
    )
    errors = [r for r in replies if isinstance(r, BaseException)]
    if response == "one_succeeded":
        for reply in replies:
            if not isinstance(reply, BaseException):
                return reply if callback is None else callback(reply)
        raise errors[0]
    if errors:
        raise errors[0]
    if response == "agg_sum":
        combined: Any = sum(replies)
    elif response == "agg_min":
        combined = min(replies)  # type: ignore[type-var]
    elif response == "agg_max":
        combined = max(replies)  # type: ignore[type-var]
    elif response in ("agg_logical_and", "agg_logical_or"):
        pick = all if response == "agg_logical_and" else any
        combined = [int(pick(col)) for col in zip(*replies, strict=True)]
    elif response == "all_succeeded":
        combined = replies[0]
    elif all(isinstance(r, list) for r in replies):
        combined = [item for r in replies for item in r]  # type: ignore[union-attr]
    else:  # one answer per node (INFO, MEMORY STATS ...): keyed by "host:port"
        return {
            f"{h}:{p}": (r if callback is None else callback(r))
            for (h, p), r in zip(addresses, replies, strict=True)
        }
    return combined if callback is None else callback(combined)
