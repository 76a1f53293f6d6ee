"""Runs one command on a pool, with the retry policy: the client's hot path.

The executor is where "one connection per awaited command" happens: check a
connection out, write, await the reply, check it back in.  It knows nothing
of command names beyond the shared classification table, so a cluster client
can later pick a pool per key slot and reuse it unchanged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from .._compat import TIMEOUT_ERRORS, timeout
from ..command import Command
from ..errors import (
    ConnectionError,
    OutcomeUnknownError,
    RedisError,
    TimeoutError,
)
from ..pool import Pool
from .retry import Retry

__all__ = ["execute", "observed", "within_deadline"]


def execute(
    pool: Pool, command: Command, retry: Retry, timeout_override: Any = None
) -> Coroutine[Any, Any, Any]:
    """Run ``command`` on a connection from ``pool``; apply its callback to the reply.

    Returns the coroutine to await: one frame on the hot path; a deadline or
    an observer wraps it in one more.
    """
    coro = _execute(pool, command, retry, timeout_override)
    if retry.deadline is not None:
        coro = within_deadline(retry.deadline, command, coro)
    if pool._observer is not None:
        coro = observed(pool, command, coro)
    return coro


async def observed(pool: Pool, command: Command, coro: Coroutine[Any, Any, Any]) -> Any:
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
            observer.on_operation(pool, command, time.perf_counter() - started, error)


async def within_deadline(deadline: float, command: Command, coro: Coroutine[Any, Any, Any]) -> Any:
    """Await ``coro`` under the retry policy's overall deadline."""
    try:
        async with timeout(deadline):
            return await coro
    except TIMEOUT_ERRORS as exc:
        if isinstance(exc, RedisError):
            raise
        raise TimeoutError(
            f"{command.name} did not complete within the {deadline}s deadline"
        ) from None


async def _execute(pool: Pool, command: Command, retry: Retry, timeout_override: Any) -> Any:
    attempt = 1
    while True:
        sent = False
        try:
            conn = pool._lend_idle()  # the hot path: no coroutine when one is idle
            if conn is None:
                conn = await pool._checkout()
            try:
                sent = True
                if timeout_override is None:
                    reply = await conn.send_command(command)
                else:
                    reply = await conn.send_command(command, timeout=timeout_override)
            finally:
                pool._checkin(conn)
        except ConnectionError as exc:
            final = attempt >= retry.attempts
            if sent and not exc.request_not_sent and not command.retry_safe:
                raise OutcomeUnknownError(
                    f"connection failed after {command.name} was sent; the server"
                    f" may or may not have applied it ({exc})"
                ) from exc
            if final:
                raise
        except TimeoutError:
            if not sent or not retry.retry_on_timeout or attempt >= retry.attempts:
                raise
            if not command.retry_safe:
                raise
        else:
            if isinstance(reply, RedisError):
                raise reply
            callback = command.callback
            return reply if callback is None else callback(reply)
        await asyncio.sleep(retry.delay(attempt))
        attempt += 1
