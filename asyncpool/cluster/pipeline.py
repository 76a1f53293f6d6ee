"""Cluster pipelines and transactions.

A plain :class:`ClusterPipeline` groups its commands per node, sends each
group in one write (all nodes concurrently) and returns the results in the
order the commands were queued; a command answered with a redirect is
followed on its own (see :func:`~asyncpool.cluster.batch.run_batch`).  It is
*not* atomic: each node applies its part independently.

A transaction (``transaction=True``, or :meth:`RedisCluster.transaction`)
must touch one slot only (else :class:`~asyncpool.CrossSlotError` before
anything is sent).  It runs as an ordinary MULTI/EXEC pipeline on a
connection of that slot's primary; if the slot moved meanwhile (MOVED while
queueing, so EXEC applied nothing) it is sent again to the new owner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

from ..client.base import Callback, CommandRunner
from ..client.commands import Commands
from ..client.executor import within_deadline
from ..client.pipeline import Pipeline
from ..client.redis import Redis
from ..command_info import command_name
from ..errors import (
    AskError,
    CrossSlotError,
    ExecAbortError,
    MovedError,
    RedisError,
    ResponseError,
    TryAgainError,
)
from .batch import run_batch
from .executor import backoff, redirect_address, slot_of

if TYPE_CHECKING:
    from .client import RedisCluster

    _Base = CommandRunner
else:
    _Base = Commands

__all__ = ["ClusterPipeline", "run_cluster_transaction"]


class _Queued(NamedTuple):
    args: tuple[Any, ...]
    callback: Callback | None
    retryable: bool | None


class ClusterPipeline(_Base):
    """Commands queued on a :class:`~asyncpool.RedisCluster` and sent per node::

    async with cluster.pipeline() as pipe:
        pipe.set("a", 1).set("b", 2).get("a")
        ok_a, ok_b, a = await pipe.execute()
    """

    __slots__ = ("_cluster", "_inner", "_queue", "_retryable", "_slot", "_transaction")

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Callable[..., ClusterPipeline]: ...

    def __init__(
        self, cluster: RedisCluster, transaction: bool = False, *, retryable: bool | None = None
    ) -> None:
        self._cluster = cluster
        self._transaction = transaction
        self._retryable = cluster._retryable if retryable is None else retryable
        self._queue: list[_Queued] = []
        #: After :meth:`watch`: the MULTI/EXEC pipeline pinned to the keys' primary.
        self._inner: Pipeline | None = None
        self._slot: int | None = None

    def __repr__(self) -> str:
        mode = "transaction" if self._transaction else "pipeline"
        return f"<ClusterPipeline {mode} queued={len(self._queue)}>"

    def __len__(self) -> int:
        return len(self._queue)

    def __bool__(self) -> bool:
        return True

    async def __aenter__(self) -> ClusterPipeline:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.reset()
        if self._inner is not None:
            inner, self._inner = self._inner, None
            await inner.reset()

    def reset(self) -> None:
        """Drop the queued commands (a watching pipeline: await :meth:`unwatch`)."""
        self._queue = []

    @property
    def _queues_commands(self) -> bool:
        """True while calls queue (cursor helpers such as ``scan_iter`` refuse to run)."""
        return self._inner is None or self._inner._queues_commands

    async def watch(self, *keys: Any) -> None:
        """WATCH ``keys`` (one slot) on a connection of that slot's primary.

        Like :meth:`Pipeline.watch <asyncpool.Pipeline.watch>`: commands then run
        at once on that connection until :meth:`multi`; :meth:`execute` sends
        MULTI/EXEC there and raises :class:`~asyncpool.WatchError` on a conflict.
        """
        slot = _one_slot([("WATCH", *keys)])
        if self._inner is None:
            cluster = self._cluster
            if cluster._nodes.topology is None:
                await cluster.initialize()
            if slot is None:
                raise RedisError("watch() needs at least one key")
            address = cluster._nodes.primary_of(slot)
            node = Redis(pool=cluster._nodes.pool(address), retry=cluster._retry)
            self._inner = node.pipeline(transaction=True, retryable=self._retryable)
            self._slot = slot
        elif slot != self._slot:
            raise CrossSlotError(
                "CROSSSLOT every watched key must be in one slot with the others", "CROSSSLOT"
            )
        await self._inner.watch(*keys)

    def multi(self) -> None:
        """Start queueing the transaction's commands (after :meth:`watch`)."""
        if self._inner is None:
            raise RedisError(
                "multi() on a cluster pipeline follows watch(); else pass transaction=True"
            )
        self._inner.multi()

    async def unwatch(self) -> None:
        """UNWATCH and release the pinned connection."""
        inner, self._inner = self._inner, None
        if inner is not None:
            try:
                await inner.unwatch()
            finally:
                await inner.reset()

    def _cmd(
        self,
        args: tuple[Any, ...],
        callback: Callback | None = None,
        *,
        retryable: bool | None = None,
    ) -> Any:
        inner = self._inner
        if inner is not None:
            if inner._queues_commands and slot_of(args) not in (None, self._slot):
                raise CrossSlotError(
                    f"CROSSSLOT {command_name(args)} is not in the watched keys' slot", "CROSSSLOT"
                )
            result = inner._cmd(args, callback, retryable=retryable)
            return self if result is inner else result
        self._queue.append(_Queued(args, callback, retryable))
        return self

    def execute_command(self, *args: Any, retryable: bool | None = None) -> Any:
        """Queue any command by name; returns the pipeline."""
        return self._cmd(args, None, retryable=retryable)

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        """Send the queued commands; results in queue order (see :class:`~asyncpool.Pipeline`).

        With ``raise_on_error`` the first error reply is raised after every
        reply was read, its message naming the command's index; otherwise
        errors stand in the list.  The queue is empty afterwards.
        """
        inner = self._inner
        if inner is not None:  # watch mode: MULTI/EXEC on the pinned connection
            self._inner = None
            try:
                return await inner.execute(raise_on_error=raise_on_error)
            finally:
                await inner.reset()
        queue, self._queue = self._queue, []
        if not queue:
            return []
        if self._transaction:
            run = self._transact(queue, raise_on_error)
        else:
            run = self._pipeline(queue, raise_on_error)
        deadline = self._cluster._retry.deadline
        if deadline is not None:
            run = within_deadline(deadline, ("MULTI" if self._transaction else "PIPELINE",), run)
        return await run

    async def _pipeline(self, queue: list[_Queued], raise_on_error: bool) -> list[Any]:
        retryables = [self._retryable if q.retryable is None else q.retryable for q in queue]
        replies = await run_batch(self._cluster, [q.args for q in queue], retryables)
        results: list[Any] = []
        first_error: ResponseError | None = None
        for index, (item, reply) in enumerate(zip(queue, replies, strict=True)):
            if isinstance(reply, ResponseError):
                if first_error is None:
                    first_error = _annotate(reply, index, item.args)
                results.append(reply)
            elif isinstance(reply, BaseException):
                raise reply
            else:
                results.append(reply if item.callback is None else item.callback(reply))
        if first_error is not None and raise_on_error:
            raise first_error
        return results

    async def _transact(self, queue: list[_Queued], raise_on_error: bool) -> list[Any]:
        cluster = self._cluster
        slot = _one_slot(item.args for item in queue)
        if cluster._nodes.topology is None:
            await cluster.initialize()
        redirects = 0
        while True:
            nodes = cluster._nodes
            address = nodes.primary_of(slot) if slot is not None else nodes.any_primary()
            node = Redis(pool=nodes.pool(address), retry=cluster._retry)
            pipe = node.pipeline(transaction=True, retryable=self._retryable)
            for item in queue:
                pipe._cmd(item.args, item.callback, retryable=item.retryable)
            try:
                return await pipe.execute(raise_on_error=raise_on_error)
            except ExecAbortError as exc:
                cause = exc.__cause__
                if not isinstance(cause, (MovedError, AskError, TryAgainError)):
                    raise
                redirects += 1
                if redirects > cluster.max_redirects:
                    raise
                if isinstance(cause, MovedError):
                    nodes.moved(cause.slot, redirect_address(cause, address))
                else:  # the slot is migrating: wait for it to settle, then MOVED follows
                    await asyncio.sleep(backoff(cluster, redirects))


def _one_slot(commands: Any) -> int | None:
    slot: int | None = None
    for args in commands:
        s = slot_of(args)
        if s is None:
            continue
        if slot is not None and s != slot:
            raise CrossSlotError(
                f"CROSSSLOT a cluster transaction must keep to one slot; {command_name(args)}"
                f" touches slot {s}, an earlier command slot {slot}",
                "CROSSSLOT",
            )
        slot = s
    return slot


def _annotate(error: ResponseError, index: int, args: tuple[Any, ...]) -> ResponseError:
    annotated = type(error)(f"command #{index} ({command_name(args)}) of pipeline: {error}")
    annotated.code = error.code
    annotated.__cause__ = error
    return annotated


async def run_cluster_transaction(
    cluster: RedisCluster, func: Any, *watches: Any, **kwargs: Any
) -> Any:
    """:meth:`Redis.transaction` on the primary owning the watched keys' slot."""
    slot = _one_slot([("WATCH", *watches)]) if watches else None
    if cluster._nodes.topology is None:
        await cluster.initialize()
    redirects = 0
    while True:
        nodes = cluster._nodes
        address = nodes.primary_of(slot) if slot is not None else nodes.any_primary()
        node = Redis(pool=nodes.pool(address), retry=cluster._retry)
        try:
            return await node.transaction(func, *watches, **kwargs)
        except (MovedError, ExecAbortError) as exc:
            moved = exc if isinstance(exc, MovedError) else exc.__cause__
            if not isinstance(moved, MovedError):
                raise
            redirects += 1
            if redirects > cluster.max_redirects:
                raise
            nodes.moved(moved.slot, redirect_address(moved, address))
        except RedisError:
            raise
