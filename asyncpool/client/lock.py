"""A lock held in one Redis key, with redis-py's interface: :class:`Lock`.

What it is: a lease on a key of **one** Redis server (or one primary).  The
holder writes a random token into the key; release and extend check that
token in a Lua script, so a holder whose lease expired cannot release or
extend someone else's.  It is *not* Redlock: it gives no guarantee when the
server loses the key (a restart without persistence, a failover to a replica
that had not received it), and a holder paused longer than ``timeout`` loses
the lock without knowing.  Use it to keep workers from doing the same job
twice, not where two holders at once would corrupt data.

Cancellation.  An acquire cancelled while its command is in flight may have
taken the lock on the server; the cancelled call waits for that command's
outcome and releases the lock (by token) before the cancellation goes on,
so a cancelled acquire never leaves a lock held.  Acquiring is idempotent
per token (a repeated attempt of the same holder succeeds), so the acquire
command is safe to retry after a connection error.
"""

from __future__ import annotations

import asyncio
import secrets
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import LockError, LockNotOwnedError
from .script import Script

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from .base import CommandRunner, KeyT

    class LockClient(Protocol):
        """What a lock needs of its client (a :class:`~asyncpool.Redis`)."""

        def retryable(self, retryable: bool = True) -> CommandRunner: ...

        def exists(self, *names: KeyT) -> Awaitable[int]: ...

        def get(self, name: KeyT) -> Awaitable[Any]: ...


__all__ = ["Lock"]

#: Take the key when it is free, or when this token already holds it (a retried
#: attempt); ARGV[2] is the lease in ms ("" for none).
_ACQUIRE = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  return 1
end
if current then return 0 end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""

#: Delete the key only while it holds this token.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

#: While the key holds this token: ARGV[3] == '1' sets the lease to ARGV[2] ms,
#: otherwise adds ARGV[2] ms to what is left.  0 when not held (or no lease).
_EXTEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then return 0 end
local lease = tonumber(ARGV[2])
if ARGV[3] ~= '1' then lease = lease + left end
redis.call('PEXPIRE', KEYS[1], lease)
return 1
"""


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("ascii", "replace")
    return str(value)


class Lock:
    """A lock on the key ``name``; get one with :meth:`Redis.lock <asyncpool.Redis.lock>`::

        async with redis.lock("jobs:nightly", timeout=60, blocking_timeout=5):
            ...  # only one holder at a time, for at most 60 s

    ``timeout`` (seconds, ``None``: no lease) bounds how long the lock is
    held if the holder never releases it.  ``blocking`` / ``blocking_timeout``
    are the defaults of :meth:`acquire`; ``sleep`` is the pause between
    attempts.  ``thread_local`` is accepted for redis-py compatibility: the
    token lives on this object (share it between tasks only on purpose).
    With ``raise_on_release_error=False`` leaving ``async with`` after the
    lease expired does not raise.  This is a single-instance lock, not
    Redlock: read the module notes before relying on it.
    """

    def __init__(
        self,
        redis: LockClient,
        name: KeyT,
        timeout: float | None = None,
        sleep: float = 0.1,
        blocking: bool = True,
        blocking_timeout: float | None = None,
        thread_local: bool = True,
        raise_on_release_error: bool = True,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise LockError("timeout must be > 0 seconds (or None for no lease)")
        if sleep < 0:
            raise LockError("sleep must be >= 0 seconds")
        self.redis = redis
        self.name = name
        self.timeout = timeout
        self.sleep = sleep
        self.blocking = blocking
        self.blocking_timeout = blocking_timeout
        self.thread_local = thread_local
        self.raise_on_release_error = raise_on_release_error
        #: The token of the current hold, or ``None``.
        self.token: str | None = None
        runner = redis.retryable()  # every script below is safe to repeat
        self._acquire = Script(runner, _ACQUIRE)
        self._release = Script(runner, _RELEASE)
        self._extend = Script(runner, _EXTEND)
        self._cleanups: set[asyncio.Task[Any]] = set()

    def __repr__(self) -> str:
        state = "held" if self.token is not None else "free"
        return f"<Lock {self.name!r} timeout={self.timeout} {state}>"

    async def __aenter__(self) -> Lock:
        if await self.acquire():
            return self
        raise LockError(f"could not acquire lock {self.name!r} in time")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.release()
        except LockNotOwnedError:
            if self.raise_on_release_error:
                raise

    # -- acquiring ---------------------------------------------------------------------
    async def acquire(
        self,
        blocking: bool | None = None,
        blocking_timeout: float | None = None,
        token: str | bytes | None = None,
    ) -> bool:
        """Take the lock; ``True`` when held, ``False`` when it could not be had in time.

        ``blocking=False`` makes one attempt; otherwise attempts repeat every
        ``sleep`` seconds for up to ``blocking_timeout`` seconds (``None``:
        until it is free).  ``token`` sets the holder's token (default: random).
        """
        blocking = self.blocking if blocking is None else blocking
        wait = self.blocking_timeout if blocking_timeout is None else blocking_timeout
        value = secrets.token_hex(16) if token is None else _text(token)
        loop = asyncio.get_running_loop()
        deadline = None if wait is None else loop.time() + wait
        while True:
            if await self._attempt(value):
                self.token = value
                return True
            if not blocking:
                return False
            if deadline is not None:
                left = deadline - loop.time()
                if left <= 0:
                    return False
                await asyncio.sleep(min(self.sleep, left))
            else:
                await asyncio.sleep(self.sleep)

    async def do_acquire(self, token: str | bytes) -> bool:
        """One attempt with ``token`` (redis-py's hook); ``True`` when it took the lock."""
        return await self._attempt(_text(token))

    async def _attempt(self, token: str) -> bool:
        lease = "" if self.timeout is None else str(int(self.timeout * 1000))
        call = asyncio.ensure_future(self._acquire(keys=[self.name], args=[token, lease]))
        try:
            return bool(await asyncio.shield(call))
        except asyncio.CancelledError:
            # the script may already have run: learn its outcome and undo it, then go on
            cleanup = asyncio.ensure_future(self._undo(call, token))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
            try:
                await asyncio.shield(cleanup)
            except asyncio.CancelledError:
                pass  # cancelled again: the cleanup still finishes in the background
            raise

    async def _undo(self, call: asyncio.Future[Any], token: str) -> None:
        try:
            acquired = bool(await call)
        except Exception:
            acquired = True  # unknown outcome: release by token (harmless if not held)
        if acquired:
            try:
                await self._release(keys=[self.name], args=[token])
            except Exception:
                pass  # the lease (if any) ends it; nothing else can be done here

    # -- state -------------------------------------------------------------------------
    async def locked(self) -> bool:
        """``True`` when anyone holds the lock."""
        return bool(await self.redis.exists(self.name))

    async def owned(self) -> bool:
        """``True`` when this object's token holds the lock."""
        if self.token is None:
            return False
        current = await self.redis.get(self.name)
        return current is not None and _text(current) == self.token

    # -- releasing and extending ---------------------------------------------------------
    async def release(self) -> None:
        """Release the lock; :class:`~asyncpool.LockNotOwnedError` when it is no longer
        ours (its lease expired and maybe someone else took it)."""
        token, self.token = self.token, None
        if token is None:
            raise LockError("cannot release a lock that is not held")
        await self.do_release(token)

    async def do_release(self, expected_token: str | bytes) -> None:
        """Release by ``expected_token`` (redis-py's hook)."""
        if not await self._release(keys=[self.name], args=[_text(expected_token)]):
            raise LockNotOwnedError(f"cannot release lock {self.name!r}: it is no longer owned")

    async def extend(self, additional_time: float, replace_ttl: bool = False) -> bool:
        """Add ``additional_time`` seconds to the lease (``replace_ttl``: set it to that);
        ``True``, or :class:`~asyncpool.LockNotOwnedError` when no longer ours."""
        if self.token is None:
            raise LockError("cannot extend a lock that is not held")
        if self.timeout is None:
            raise LockError("cannot extend a lock without a timeout")
        args = [self.token, str(int(additional_time * 1000)), "1" if replace_ttl else "0"]
        if not await self._extend(keys=[self.name], args=args):
            raise LockNotOwnedError(f"cannot extend lock {self.name!r}: it is no longer owned")
        return True

    async def reacquire(self) -> bool:
        """Reset the lease to the full ``timeout``; ``True``, or
        :class:`~asyncpool.LockNotOwnedError` when no longer ours."""
        if self.token is None:
            raise LockError("cannot reacquire a lock that is not held")
        if self.timeout is None:
            raise LockError("cannot reacquire a lock without a timeout")
        return await self.extend(self.timeout, replace_ttl=True)
