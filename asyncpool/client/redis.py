"""The :class:`Redis` client: what users hold and await commands on."""

from __future__ import annotations

import ssl as _ssl
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from .._types import NOT_GIVEN, NotGiven
from ..command import Command, TimedCommand
from ..errors import ConfigError, RedisError
from ..options import CACHE_FIELDS, CLIENT_FIELDS, CONNECTION_FIELDS, POOL_FIELDS
from ..pool import Pool, PooledConnection
from .base import Callback, KeyT
from .cache import ClientCache  # client-side cache (issue 15)
from .cache_config import CacheConfig, cache_config_from
from .commands import Commands
from .executor import Executor, PoolExecutor
from .pipeline import Pipeline, run_transaction
from .pubsub import PubSub
from .replies import StrT
from .retry import Retry
from .script import Script

if TYPE_CHECKING:
    from .lock import Lock
    from .monitor import Monitor

__all__ = ["PinnedConnection", "Redis"]

_R = TypeVar("_R")

#: The client's own options (:class:`~asyncpool.options.ClientOptions`), shared with url.py.
_CLIENT_KEYS = CLIENT_FIELDS
#: Client-side cache keys (issue 15): ``cache=`` and the ``cache_*`` URL parameters.
_CACHE_KEYS = CACHE_FIELDS


def _retry_from(options: dict[str, Any], retry: Retry | None) -> Retry:
    """Fold the client options (:class:`~asyncpool.options.ClientOptions`) into a Retry."""
    if retry is not None:
        return retry
    kwargs: dict[str, Any] = {}
    if options.get("retries") is not None:
        kwargs["attempts"] = int(options["retries"]) + 1
    if options.get("deadline") is not None:
        kwargs["deadline"] = float(options["deadline"])
    if options.get("retry_on_timeout") is not None:
        kwargs["retry_on_timeout"] = bool(options["retry_on_timeout"])
    return Retry(**kwargs)


class Redis(Commands[StrT]):
    """An asyncio Redis client over a connection :class:`~asyncpool.Pool`.

    Each awaited command checks one connection out of the pool and back in,
    so one client is shared by every task of a process::

        async with asyncpool.Redis.from_url("redis://localhost:6379/0") as redis:
            await redis.set("greeting", "hello", ex=60)
            print(await redis.get("greeting"))

    Build it from a URL (:meth:`from_url`), from keyword arguments (every
    :class:`~asyncpool.ConnectionOptions` and :class:`~asyncpool.PoolOptions`
    field), or around an existing pool with ``Redis(pool=pool)``, which it
    never closes.  ``retry`` sets the :class:`~asyncpool.Retry` policy; the same
    default applies however the client is built.  ``cache`` (a
    :class:`~asyncpool.CacheConfig`, or ``True`` for the defaults) turns on
    client-side caching; see docs/caching.md.

    The client is generic in its string reply type: ``Redis[bytes]`` by
    default, ``Redis[str]`` with ``decode_responses=True`` (the overloads of
    ``__init__`` and :meth:`from_url` pick it); for ``Redis(pool=pool)``
    annotate it (``Redis[str](pool=pool)``) when that pool decodes.

    Commands run on an :class:`~asyncpool.client.executor.Executor`; by default
    a :class:`~asyncpool.client.executor.PoolExecutor` over one pool.
    ``Redis(executor=...)`` runs them elsewhere (a cluster); that client does
    not own (close) the executor.
    """

    __slots__ = ("_cache", "_executor", "_owns_executor", "_pubsubs", "_retryable")

    @overload
    def __init__(self, *, executor: Executor) -> None: ...
    @overload
    def __init__(self, *, pool: Pool, retry: Retry | None = None, **options: Any) -> None: ...
    @overload
    def __init__(
        self: Redis[str],
        host: str | None = None,
        port: int | None = None,
        db: int | None = None,
        *,
        decode_responses: Literal[True],
        retry: Retry | None = None,
        ssl: bool | _ssl.SSLContext | None = None,
        **options: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: Redis[bytes],
        host: str | None = None,
        port: int | None = None,
        db: int | None = None,
        *,
        decode_responses: Literal[False] = False,
        retry: Retry | None = None,
        ssl: bool | _ssl.SSLContext | None = None,
        **options: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: Redis[Any],
        host: str | None = None,
        port: int | None = None,
        db: int | None = None,
        *,
        decode_responses: bool,
        retry: Retry | None = None,
        ssl: bool | _ssl.SSLContext | None = None,
        **options: Any,
    ) -> None: ...
    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        db: int | None = None,
        *,
        pool: Pool | None = None,
        retry: Retry | None = None,
        ssl: bool | _ssl.SSLContext | None = None,
        cache: CacheConfig | bool | None = None,
        executor: Executor | None = None,
        **options: Any,
    ) -> None:
        self._retryable: bool | None = None
        self._cache: ClientCache | None = None
        self._pubsubs: weakref.WeakSet[PubSub] = weakref.WeakSet()  # closed with the client
        if executor is not None:
            given = (host, port, db, pool, retry, ssl, cache)
            if options or any(value is not None for value in given):
                raise ConfigError("executor= takes no pool, retry, cache or connection options")
            self._executor: Executor = executor
            self._owns_executor = False
            return
        for name, value in (("host", host), ("port", port), ("db", db)):
            if value is not None:
                options[name] = value
        if ssl is True:
            options["ssl"] = _ssl.create_default_context()
        elif isinstance(ssl, _ssl.SSLContext):
            options["ssl"] = ssl
        if pool is not None:
            misplaced = set(options) - _CLIENT_KEYS - _CACHE_KEYS
            if misplaced:
                raise ConfigError(
                    "connection and pool options belong to the pool when pool= is given;"
                    f" got {', '.join(sorted(misplaced))}"
                )
            owns = False
            client_options = {**pool.client_options, **options}
        else:
            unknown = set(options) - CONNECTION_FIELDS - POOL_FIELDS - _CLIENT_KEYS - _CACHE_KEYS
            if unknown:
                raise ConfigError(f"unknown option(s): {', '.join(sorted(unknown))}")
            client_options = {
                k: options.pop(k) for k in list(options) if k in _CLIENT_KEYS | _CACHE_KEYS
            }
            pool = Pool(**options)
            owns = True
        self._executor = PoolExecutor(pool, _retry_from(client_options, retry))
        self._owns_executor = owns
        # client-side cache (issue 15): None unless asked for
        config = cache_config_from(cache, client_options)
        self._cache = None if config is None else ClientCache(self, config)

    @overload
    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        decode_responses: Literal[True],
        retry: Retry | None = None,
        **options: Any,
    ) -> Redis[str]: ...
    @overload
    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        decode_responses: Literal[False] = False,
        retry: Retry | None = None,
        **options: Any,
    ) -> Redis[bytes]: ...
    @overload
    @classmethod
    def from_url(
        cls, url: str, *, decode_responses: bool, retry: Retry | None = None, **options: Any
    ) -> Redis[Any]: ...
    @classmethod
    def from_url(cls, url: str, *, retry: Retry | None = None, **options: Any) -> Redis[Any]:
        """A client for ``redis://``, ``rediss://`` or ``unix://`` URLs.

        Keyword arguments (connection, pool and client options) override the
        URL's query parameters.  The client owns the pool it creates.
        """
        pool = Pool.from_url(url, **{k: v for k, v in options.items() if k not in _CLIENT_KEYS})
        client_options = {**pool.client_options}
        client_options.update({k: v for k, v in options.items() if k in _CLIENT_KEYS})
        pool.client_options = client_options
        client = cls(pool=pool, retry=retry)
        client._owns_executor = True
        return client

    def __repr__(self) -> str:
        executor = self._executor
        where = executor.pool if isinstance(executor, PoolExecutor) else executor
        return f"<Redis {where!r}>"

    # -- lifecycle ----------------------------------------------------------------
    @property
    def executor(self) -> Executor:
        """What this client runs its commands on."""
        return self._executor

    @property
    def pool(self) -> Pool:
        """The connection pool this client runs commands on (one-pool executors only).

        Raises :class:`~asyncpool.ConfigError` for an executor of several pools.
        """
        executor = self._executor
        if not isinstance(executor, PoolExecutor):
            raise ConfigError(f"this client runs on {executor!r}, not on one pool")
        return executor.pool

    @property
    def retry(self) -> Retry:
        """The retry policy."""
        return self._executor.retry

    @property
    def cache(self) -> ClientCache | None:
        """The client-side cache (``None`` unless ``cache=`` was given); see docs/caching.md."""
        return self._cache

    async def __aenter__(self) -> Redis[StrT]:
        if self._owns_executor:
            await self._executor.open()
        if self._cache is not None:  # client-side cache (issue 15): tracking on now
            await self._cache.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the PubSubs opened from this client, its cache, and the pool if this
        client created it (a shared pool is left open)."""
        for pubsub in list(self._pubsubs):
            await pubsub.aclose()
        if self._cache is not None:  # client-side cache (issue 15)
            await self._cache.close()
        if self._owns_executor:
            await self._executor.aclose()

    # -- running commands -----------------------------------------------------------
    def _cmd(
        self,
        args: tuple[Any, ...],
        callback: Callback | None = None,
        *,
        retryable: bool | None = None,
    ) -> Any:
        if retryable is None:
            retryable = self._retryable
        if self._cache is not None:  # client-side cache (issue 15)
            return self._cache.run(args, callback, retryable)
        return self._executor.run(Command(args, callback, retryable))

    async def execute_command(
        self,
        *args: Any,
        retryable: bool | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> Any:
        """Run any command by name and return its raw reply.

        ``retryable=True`` allows a retry after a connection error even for a
        write (say so only when repeating it is harmless); ``timeout``
        overrides ``socket_timeout`` for this call (``None``: no timeout,
        left out: ``socket_timeout``).  Error replies raise
        :class:`~asyncpool.ResponseError` subclasses.
        """
        if retryable is None:
            retryable = self._retryable
        if self._cache is not None:  # client-side cache (issue 15)
            return await self._cache.run(args, None, retryable, timeout)
        if timeout is NOT_GIVEN:
            return await self._executor.run(Command(args, None, retryable))
        return await self._executor.run(TimedCommand(args, None, retryable, timeout=timeout))

    def retryable(self, retryable: bool = True) -> Redis[StrT]:
        """A view of this client whose commands are all (not) retried after connection errors.

        ``await redis.retryable().incr("counter")`` says an INCR may be repeated
        when the connection broke after it was sent.  The view shares the pool.
        """
        view = object.__new__(type(self))
        view._executor = self._executor
        view._owns_executor = False
        view._retryable = retryable
        view._pubsubs = self._pubsubs
        view._cache = self._cache  # client-side cache (issue 15): shared with the view
        return view

    # -- higher-level features --------------------------------------------------------
    @asynccontextmanager
    async def connection(self) -> AsyncIterator[PinnedConnection[StrT]]:
        """Pin one connection for a sequence of commands (WATCH, CLIENT SETNAME, ...).

        State the sequence leaves behind (MULTI, WATCH, SELECT ...) is reset
        before the connection is lent again.
        """
        async with self._executor.acquire() as lease:
            yield PinnedConnection(lease)

    def pipeline(
        self, transaction: bool = False, *, retryable: bool | None = None
    ) -> Pipeline[StrT]:
        """Queue commands and send them in one write; see :class:`~asyncpool.Pipeline`.

        ``retryable=True`` lets a non-transactional pipeline of writes be sent
        again after a connection error (say so only when that is harmless).
        """
        return Pipeline(self, transaction=transaction, retryable=retryable)

    @overload
    async def transaction(
        self,
        func: Callable[[Pipeline[StrT]], Awaitable[_R]],
        *watches: KeyT,
        value_from_callable: Literal[True],
        watch_delay: float | None = None,
        max_attempts: int | None = None,
    ) -> _R: ...
    @overload
    async def transaction(
        self,
        func: Callable[[Pipeline[StrT]], _R],
        *watches: KeyT,
        value_from_callable: Literal[True],
        watch_delay: float | None = None,
        max_attempts: int | None = None,
    ) -> _R: ...
    @overload
    async def transaction(
        self,
        func: Callable[[Pipeline[StrT]], object],
        *watches: KeyT,
        value_from_callable: Literal[False] = False,
        watch_delay: float | None = None,
        max_attempts: int | None = None,
    ) -> list[Any]: ...
    async def transaction(self, func: Any, *watches: Any, **kwargs: Any) -> Any:
        """Run ``func(pipe)`` under WATCH/MULTI/EXEC, retrying on a watched-key conflict.

        Returns EXEC's results, or what ``func`` returned (awaited when it is
        a coroutine) with ``value_from_callable=True``.
        """
        return await run_transaction(self, func, *watches, **kwargs)

    def pubsub(self, **kwargs: Any) -> PubSub:
        """A publish/subscribe session on a connection of its own from this client's pool.

        See :class:`~asyncpool.PubSub`.
        """
        pubsub = PubSub(self.pool, **kwargs)
        self._pubsubs.add(pubsub)
        return pubsub

    def monitor(self) -> Monitor:
        """``async with redis.monitor() as m``: every command the server runs; see
        :class:`~asyncpool.client.monitor.Monitor`."""
        from .monitor import Monitor

        return Monitor(self.pool)

    def lock(
        self,
        name: KeyT,
        timeout: float | None = None,
        sleep: float = 0.1,
        blocking: bool = True,
        blocking_timeout: float | None = None,
        lock_class: type[Lock] | None = None,
        thread_local: bool = True,
        raise_on_release_error: bool = True,
    ) -> Lock:
        """A :class:`~asyncpool.Lock` on the key ``name`` (single-instance, not Redlock)."""
        from .lock import Lock

        return (lock_class or Lock)(
            self, name, timeout, sleep, blocking, blocking_timeout, thread_local,
            raise_on_release_error,
        )  # fmt: skip

    def register_script(self, script: str | bytes) -> Script:
        """A :class:`~asyncpool.Script` bound to this client (EVALSHA, EVAL on NOSCRIPT)."""
        return Script(self, script)


class PinnedConnection(Commands[StrT]):
    """Command methods bound to one leased connection (no automatic retries)."""

    __slots__ = ("_lease",)

    def __init__(self, lease: PooledConnection) -> None:
        self._lease = lease

    @property
    def lease(self) -> PooledConnection:
        """The pool lease behind this object."""
        return self._lease

    def _cmd(
        self,
        args: tuple[Any, ...],
        callback: Callback | None = None,
        *,
        retryable: bool | None = None,
    ) -> Any:
        return self._run(args, callback)

    async def _run(self, args: tuple[Any, ...], callback: Callback | None) -> Any:
        reply = await self._lease.send_command(args)
        if isinstance(reply, RedisError):
            raise reply
        return reply if callback is None else callback(reply)

    async def execute_command(
        self, *args: Any, timeout: float | NotGiven | None = NOT_GIVEN
    ) -> Any:
        """Run any command on the pinned connection and return its raw reply.

        ``timeout`` overrides ``socket_timeout`` (``None``: no timeout).
        """
        return await self._lease.execute_command(*args, timeout=timeout)
