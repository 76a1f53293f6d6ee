"""Runs one command on a pool, with the retry policy: the client's hot path.

The executor is where "one connection per awaited command" happens: check a
connection out, write, await the reply, check it back in.  It knows nothing
of command names beyond the shared classification table, so a cluster client
can later pick a pool per key slot and reuse it unchanged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from .._compat import TIMEOUT_ERRORS, timeout
from ..command_info import command_name, is_safe_to_retry
from ..errors import (
    ConnectionError,
    OutcomeUnknownError,
    RedisError,
    TimeoutError,
)
from ..pool import Pool
from .retry import Retry

__all__ = ["execute", "observed", "within_deadline"]

Callback = Callable[[Any], Any]


def execute(
    pool: Pool,
    args: Sequence[Any],
    callback: Callback | None,
    retry: Retry,
    retryable: bool | None,
    timeout_override: Any = None,
) -> Coroutine[Any, Any, Any]:
    """Run ``args`` on a connection from ``pool``; apply ``callback`` to the reply.

    Returns the coroutine to await: one frame on the hot path; a deadline or
    an observer wraps it in one more.
    """
    coro = _execute(pool, args, callback, retry, retryable, timeout_override)
    if retry.deadline is not None:
        coro = within_deadline(retry.deadline, args, coro)
    if pool._observer is not None:
        coro = observed(pool, args, coro)
    return coro


async def observed(pool: Pool, args: Sequence[Any], coro: Coroutine[Any, Any, Any]) -> Any:
    """Await ``coro``, timing the whole operation (retries included) for the observer."""
    observer = pool._observer
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        return await coro
    except BaseException as exc:
        error = exc
        raise
    finally:
        if observer is not None:
            observer.on_operation(pool, args, time.perf_counter() - started, error)


async def within_deadline(
    deadline: float, args: Sequence[Any], coro: Coroutine[Any, Any, Any]
) -> Any:
    """Await ``coro`` under the retry policy's overall deadline."""
    try:
        async with timeout(deadline):
            return await coro
    except TIMEOUT_ERRORS as exc:
        if isinstance(exc, RedisError):
            raise
        raise TimeoutError(
            f"{command_name(args)} did not complete within the {deadline}s deadline"
        ) from None


async def _execute(
    pool: Pool,
    args: Sequence[Any],
    callback: Callback | None,
    retry: Retry,
    retryable: bool | None,
    timeout_override: Any,
) -> Any:
    attempt = 1
    sharing = pool._sharing
    while True:
        sent = False
        try:
            if sharing is not None and sharing.shareable(args, timeout_override):
                # shared mode: the connection is held for the write only
                ride = sharing.ride(args) or await sharing.board(args)
                sent = True
                reply = await sharing.wait(*ride)
            else:
                conn = pool._lend_idle()  # the hot path: no coroutine when one is idle
                if conn is None:
                    conn = await pool._checkout()
                try:
                    sent = True
                    if timeout_override is None:
                        reply = await conn.send_command(args)
                    else:
                        reply = await conn.send_command(args, timeout=timeout_override)
                finally:
                    pool._checkin(conn)
        except ConnectionError as exc:
            final = attempt >= retry.attempts
            if sent and not exc.request_not_sent:
                safe = is_safe_to_retry(args) if retryable is None else retryable
                if not safe:
                    raise OutcomeUnknownError(
                        f"connection failed after {command_name(args)} was sent; the server"
                        f" may or may not have applied it ({exc})"
                    ) from exc
            if final:
                raise
        except TimeoutError:
            if not sent or not retry.retry_on_timeout or attempt >= retry.attempts:
                raise
            if not (is_safe_to_retry(args) if retryable is None else retryable):
                raise
        else:
            if isinstance(reply, RedisError):
                raise reply
            return reply if callback is None else callback(reply)
        await asyncio.sleep(retry.delay(attempt))
        attempt += 1
