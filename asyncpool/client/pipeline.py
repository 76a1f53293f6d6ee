"""Pipelines and transactions: many commands, one write, one pooled connection.

``pipe.incr("hits").expire("hits", 60)`` queues commands; ``await
pipe.execute()`` checks one connection out of the pool, writes them all at
once, reads every reply, applies each command's reply callback and returns
the results in order.  With ``transaction=True`` the batch is wrapped in
``MULTI`` ... ``EXEC``.

Watch mode follows redis-py: after ``await pipe.watch(*keys)`` the pipeline
holds one leased connection and commands run *immediately* on it (``await
pipe.get(key)``) until ``pipe.multi()`` switches back to queueing; then
``execute()`` sends ``MULTI`` ... ``EXEC`` on that same connection and raises
:class:`~asyncpool.WatchError` when a watched key changed.

Typing.  At run time :class:`Pipeline` inherits every command method from
:class:`~asyncpool.client.commands.Commands`, whose annotations promise an
awaitable reply.  A queued call returns the pipeline instead, so for type
checkers the pipeline inherits the same methods from a generated class
(``commands/_pipeline_types.py``) whose methods take the same parameters and
return :class:`PipelineChain`, a :class:`Pipeline` that is also awaitable.
Chaining (``pipe.incr(k).expire(k, 60)``), ``await pipe.execute()`` and the
awaited immediate calls of watch mode all type-check, and command arguments
are checked.  (Awaiting a *queued* call type-checks but fails at run time
with ``TypeError``; what an awaited watch-mode call returns is ``Any``.)

Retries.  A batch whose bytes never left the process is retried per the
client's :class:`~asyncpool.Retry`.  After the write, a plain pipeline is
retried only when every queued command is safe to repeat
(:attr:`Command.retry_safe <asyncpool.command.Command.retry_safe>`, or ``retryable=True``);
a transaction never is.  Otherwise :class:`~asyncpool.OutcomeUnknownError`
is raised.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol

from ..command import Command
from ..errors import (
    ConnectionError,
    ExecAbortError,
    OutcomeUnknownError,
    RedisError,
    ResponseError,
    WatchError,
)
from ..pool import PooledConnection
from .base import Callback, CommandRunner
from .commands import Commands
from .commands._util import describe_command
from .executing import Lender
from .executor import Executor
from .replies import StrT

if TYPE_CHECKING:
    from ..connection import Connection
    from .commands._pipeline_types import PipelineCommands

    class _PipelineBase(CommandRunner, PipelineCommands["PipelineChain[StrT]"], Generic[StrT]):
        """For type checkers: every command method, returning the chain."""

else:
    _PipelineBase = Commands

__all__ = ["Client", "Pipeline", "PipelineChain", "run_transaction"]


class Client(Protocol):
    """What a pipeline needs of the client that makes it (a :class:`~asyncpool.Redis`)."""

    _retryable: bool | None

    @property
    def executor(self) -> Executor: ...


class Script(Protocol):
    """A script a pipeline loads before its commands (a :class:`~asyncpool.Script`)."""

    @property
    def sha(self) -> str: ...

    @property
    def source(self) -> str | bytes: ...


class Pipeline(_PipelineBase[StrT]):
    """A batch of commands sent in one write; optionally a MULTI/EXEC transaction.

    Get one from :meth:`Redis.pipeline <asyncpool.Redis.pipeline>`::

        async with redis.pipeline(transaction=False) as pipe:
            pipe.incr("hits").expire("hits", 60)
            hits, _ = await pipe.execute()

    ``retryable`` (default: the client's) says whether every queued command
    may be repeated after a connection error; ``None`` decides per command.
    Leaving ``async with`` always releases a connection pinned by
    :meth:`watch`.  A pipeline is not meant to be shared between tasks.
    """

    __slots__ = (
        "_client",
        "_explicit_multi",
        "_lease",
        "_queue",
        "_retryable",
        "_scripts",
        "_transaction",
        "_watching",
    )

    def __init__(
        self, client: Client, transaction: bool = False, *, retryable: bool | None = None
    ) -> None:
        self._client = client
        self._transaction = transaction
        self._retryable = client._retryable if retryable is None else retryable
        self._queue: list[Command] = []
        self._scripts: dict[str, Script] = {}
        self._lease: PooledConnection | None = None
        self._watching = False
        self._explicit_multi = False

    def __repr__(self) -> str:
        mode = "transaction" if self._transaction or self._explicit_multi else "pipeline"
        watching = " watching" if self._watching else ""
        return f"<Pipeline {mode} queued={len(self._queue)}{watching}>"

    def __len__(self) -> int:
        return len(self._queue)

    def __bool__(self) -> bool:
        return True  # an empty pipeline is still a pipeline (len() would say False)

    async def __aenter__(self) -> Pipeline[StrT]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.reset()

    @property
    def watching(self) -> bool:
        """True between :meth:`watch` and :meth:`execute` / :meth:`unwatch` / :meth:`reset`."""
        return self._watching

    @property
    def _queues_commands(self) -> bool:
        """True while calls queue (cursor helpers such as ``scan_iter`` refuse to run)."""
        return self._lease is None or self._explicit_multi

    @property
    def _executor(self) -> Executor:
        return self._client.executor

    # -- queueing ------------------------------------------------------------------------
    def _cmd(
        self,
        args: tuple[Any, ...],
        callback: Callback | None = None,
        *,
        retryable: bool | None = None,
    ) -> Any:
        if self._lease is not None and not self._explicit_multi:
            return self._immediate(self._lease, args, callback)
        if retryable is None:
            retryable = self._retryable
        self._queue.append(Command(args, callback, retryable))
        return self

    def execute_command(self, *args: Any, retryable: bool | None = None) -> Any:
        """Queue any command by name (run it at once in watch mode); returns the pipeline."""
        return self._cmd(args, None, retryable=retryable)

    def _add_script(self, script: Script) -> None:
        """Make :meth:`execute` send SCRIPT LOAD for ``script`` before the queued commands."""
        self._scripts[script.sha] = script

    @staticmethod
    async def _immediate(
        lease: PooledConnection, args: tuple[Any, ...], callback: Callback | None
    ) -> Any:
        reply = await lease.send_command(args)
        if isinstance(reply, RedisError):
            raise reply
        return reply if callback is None else callback(reply)

    # -- watch mode ------------------------------------------------------------------------
    async def watch(self, *keys: Any) -> None:
        """WATCH ``keys`` on a connection this pipeline pins until execute or reset.

        Commands called afterwards run at once on that connection and return
        awaitables, until :meth:`multi`.
        """
        if self._explicit_multi:
            raise RedisError("WATCH is not allowed after multi(); call it before")
        if not keys:
            raise RedisError("watch() needs at least one key")
        command = Command(("WATCH", *keys))
        lease = self._lease
        if lease is None:
            # the first WATCH: run (and retried) like any command, but it keeps
            # its connection, pinned here until execute / unwatch / reset
            await self._executor.run(_Watch(command, self))
        else:
            # keys watched earlier live on this connection: never repeat elsewhere
            try:
                reply = await lease.send_command(command)
            except ConnectionError:
                await self._unpin()
                self._watching = False
                raise
            if isinstance(reply, RedisError):
                raise reply
        self._watching = True

    def multi(self) -> None:
        """Start queueing the transaction's commands (after :meth:`watch`)."""
        if self._explicit_multi:
            raise RedisError("multi() was already called")
        if self._queue:
            raise RedisError("multi() must come before any queued command")
        self._explicit_multi = True

    async def unwatch(self) -> None:
        """UNWATCH every key and release the pinned connection."""
        if self._lease is not None and self._watching:
            try:
                await self._lease.execute_command("UNWATCH")
            finally:
                self._watching = False
                await self._unpin()

    async def reset(self) -> None:
        """Drop queued commands, leave watch / multi mode, release the pinned connection.

        The pool resets a connection released while WATCHing before lending it again.
        """
        self._queue = []
        self._scripts = {}
        self._watching = False
        self._explicit_multi = False
        await self._unpin()

    def _pin(self, conn: Connection, lender: Lender) -> None:
        self._lease = PooledConnection(lender, conn)

    async def _unpin(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            await lease.release()

    # -- executing -------------------------------------------------------------------------
    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        """Send the queued commands and return their results in order.

        With ``raise_on_error`` the first error reply is raised (after every
        reply was read), its message naming the command's index; otherwise
        error instances stand in the list.  A transaction raises
        :class:`~asyncpool.ExecAbortError` when a command was rejected while
        queueing and :class:`~asyncpool.WatchError` when a watched key changed.
        The queue is empty afterwards, and a pinned connection is released.
        """
        queue, scripts = self._queue, list(self._scripts.values())
        self._queue, self._scripts = [], {}
        transaction = self._transaction or self._explicit_multi or self._watching
        run = self._run(queue, scripts, transaction, raise_on_error)
        cache = getattr(self._client, "_cache", None)
        if cache is None:
            return await run
        try:  # client-side cache (issue 15): the batch's writes drop what they change
            return await run
        finally:
            cache.written([command.args for command in queue])

    async def _run(
        self, queue: list[Command], scripts: list[Script], transaction: bool, raise_on_error: bool
    ) -> list[Any]:
        if self._lease is not None:
            name = _MULTI
            try:
                batch = _Batch(_wire(queue, scripts, True), name, retry_safe=False)
                replies = await self._executor.wrap(name, self._send_pinned(self._lease, batch))
            finally:
                await self.reset()
        else:
            self._explicit_multi = False
            if not queue:
                return []
            name = _MULTI if transaction else _PIPELINE
            safe = not transaction and all(command.retry_safe for command in queue)
            replies = await self._executor.run(
                _Batch(_wire(queue, scripts, transaction), name, retry_safe=safe)
            )
        return _results(queue, scripts, replies, transaction, raise_on_error)

    async def _send_pinned(self, lease: PooledConnection, batch: _Batch) -> list[Any]:
        try:
            return await lease.send_many(batch.commands)
        except ConnectionError as exc:
            if exc.request_not_sent and self._watching:
                raise WatchError(
                    "the connection was lost while watching keys; the transaction was not sent"
                ) from exc
            if exc.request_not_sent:
                raise
            raise OutcomeUnknownError(
                f"connection failed after the transaction was sent; it may or may not have"
                f" been applied ({exc})"
            ) from exc


class _Batch:
    """A pipeline's or transaction's commands as one operation of the executor."""

    __slots__ = ("command", "commands", "retry_safe")

    pins_connection = False

    def __init__(self, commands: list[Command], name: Command, *, retry_safe: bool) -> None:
        self.commands = commands
        #: ``PIPELINE`` or ``MULTI``: what observers and errors call it.
        self.command = name
        #: A plain pipeline of retry-safe commands only; never a transaction.
        self.retry_safe = retry_safe

    def send(self, conn: Connection) -> Awaitable[list[Any]]:
        return conn.send_many(self.commands)

    def result(self, replies: list[Any]) -> list[Any]:
        return replies


class _Watch:
    """A transaction's first WATCH: retried like a command, then keeps its connection."""

    __slots__ = ("command", "pipeline")

    retry_safe = True  # no key was watched before it, so repeating it loses nothing
    pins_connection = True

    def __init__(self, command: Command, pipeline: Pipeline[Any]) -> None:
        self.command = command
        self.pipeline = pipeline

    def send(self, conn: Connection) -> Awaitable[Any]:
        return conn.send_command(self.command)

    def adopt(self, conn: Connection, lender: Lender) -> None:
        self.pipeline._pin(conn, lender)

    def result(self, reply: Any) -> Any:
        return reply


_MULTI = Command(("MULTI",))
_EXEC = Command(("EXEC",))
_PIPELINE = Command(("PIPELINE",))


def _wire(queue: list[Command], scripts: list[Script], transaction: bool) -> list[Command]:
    """The commands to write: script loads, then the batch (in MULTI/EXEC if asked)."""
    commands = [Command(("SCRIPT", "LOAD", s.source)) for s in scripts]
    if transaction:
        commands.append(_MULTI)
    commands.extend(queue)
    if transaction:
        commands.append(_EXEC)
    return commands


def _results(
    queue: list[Command],
    scripts: list[Script],
    replies: list[Any],
    transaction: bool,
    raise_on_error: bool,
) -> list[Any]:
    """Check the replies of :func:`_wire`'s commands and apply the callbacks."""
    for reply in replies[: len(scripts)]:
        if isinstance(reply, ResponseError):
            raise reply
    replies = replies[len(scripts) :]
    if transaction:
        replies = _exec_replies(queue, replies)
    results: list[Any] = []
    first_error: ResponseError | None = None
    for index, (item, reply) in enumerate(zip(queue, replies, strict=True)):
        if isinstance(reply, ResponseError):
            if first_error is None:
                first_error = _annotate(reply, index, item)
            results.append(reply)
        elif isinstance(reply, RedisError):
            raise reply
        else:
            results.append(reply if item.callback is None else item.callback(reply))
    if first_error is not None and raise_on_error:
        raise first_error
    return results


def _exec_replies(queue: list[Command], replies: list[Any]) -> list[Any]:
    """Unwrap MULTI / QUEUED... / EXEC replies into EXEC's array."""
    multi, queued, exec_reply = replies[0], replies[1:-1], replies[-1]
    if isinstance(multi, ResponseError):
        raise multi
    for index, (item, reply) in enumerate(zip(queue, queued, strict=True)):
        if isinstance(reply, ResponseError):
            raise ExecAbortError(
                f"transaction discarded: Command # {index + 1} ({describe_command(item.args)})"
                f" was rejected: {reply}",
                "EXECABORT",
            ) from reply
    if isinstance(exec_reply, ResponseError):
        raise exec_reply
    if exec_reply is None:
        raise WatchError("a watched key changed; the transaction was not applied")
    if not isinstance(exec_reply, list) or len(exec_reply) != len(queue):
        raise RedisError(f"unexpected EXEC reply for {len(queue)} command(s): {exec_reply!r:.80}")
    return exec_reply


def _annotate(error: ResponseError, index: int, command: Command) -> ResponseError:
    """A copy of ``error`` whose message names the command's place in the pipeline."""
    annotated = type(error)(
        f"Command # {index + 1} ({describe_command(command.args)}) of pipeline caused error:"
        f" {error}"
    )
    annotated.code = error.code
    annotated.command_index = index  # type: ignore[attr-defined]
    annotated.__cause__ = error
    return annotated


async def run_transaction(
    client: Client,
    func: Callable[[Pipeline[Any]], Any],
    *watches: Any,
    value_from_callable: bool = False,
    watch_delay: float | None = None,
    max_attempts: int | None = None,
) -> Any:
    """Run ``func(pipe)`` under WATCH ``watches`` / MULTI / EXEC until it applies.

    ``func`` (sync or async) reads through the pipeline (commands run at once
    while watching), calls ``pipe.multi()`` and queues the writes.  On
    :class:`~asyncpool.WatchError` it runs again, after ``watch_delay``
    seconds, at most ``max_attempts`` times in all (``None``: no limit).
    Returns EXEC's results, or ``func``'s return value with
    ``value_from_callable=True``.
    """
    attempts = 0
    async with Pipeline(client, transaction=True) as pipe:
        while True:
            attempts += 1
            try:
                if watches:
                    await pipe.watch(*watches)
                value = func(pipe)
                if inspect.isawaitable(value):
                    value = await value
                results = await pipe.execute()
            except WatchError:
                if max_attempts is not None and attempts >= max_attempts:
                    raise
                if watch_delay:
                    await asyncio.sleep(watch_delay)
                continue
            finally:
                await pipe.reset()
            return value if value_from_callable else results


if TYPE_CHECKING:

    class PipelineChain(Pipeline[StrT]):
        """What a command method returns on a pipeline, for type checkers only.

        Queueing returns the pipeline (so calls chain); in watch mode the call
        returns an awaitable reply instead.
        """

        def __await__(self) -> Generator[Any, None, Any]: ...

else:
    PipelineChain = Pipeline
