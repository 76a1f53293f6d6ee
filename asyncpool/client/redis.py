"""The :class:`Redis` client: what users hold and await commands on."""

from __future__ import annotations

import ssl as _ssl
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from ..errors import ConfigError, RedisError
from ..options import CONNECTION_FIELDS, POOL_FIELDS
from ..pool import Pool, PooledConnection
from .base import Callback, KeyT
from .cache import ClientCache  # client-side cache (issue 15)
from .cache_config import URL_KEYS as CACHE_URL_KEYS
from .cache_config import CacheConfig, cache_config_from
from .commands import Commands
from .executor import execute
from .replies import StrT
from .retry import Retry

if TYPE_CHECKING:
    from .lock import Lock
    from .monitor import Monitor
    from .pipeline import Pipeline
    from .pubsub import PubSub
    from .script import Script

__all__ = ["PinnedConnection", "Redis"]

_R = TypeVar("_R")

_CLIENT_KEYS = frozenset({"retry", "retries", "deadline", "retry_on_timeout"})
#: Client-side cache keys (issue 15): ``cache=`` and the ``cache_*`` URL parameters.
_CACHE_KEYS = CACHE_URL_KEYS


def _retry_from(options: dict[str, Any], retry: Retry | None) -> Retry:
    """Fold the URL-level retry keys into a :class:`Retry`."""
    if retry is not None:
        return retry
    kwargs: dict[str, Any] = {}
    if "retries" in options:
        kwargs["attempts"] = int(options["retries"]) + 1
    if options.get("deadline") is not None:
        kwargs["deadline"] = float(options["deadline"])
    if "retry_on_timeout" in options:
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
    """

    __slots__ = ("_cache", "_owns_pool", "_pool", "_pubsubs", "_retry", "_retryable")

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
        **options: Any,
    ) -> None:
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
            self._pool = pool
            self._owns_pool = False
            client_options = {**pool.client_options, **options}
        else:
            unknown = set(options) - CONNECTION_FIELDS - POOL_FIELDS - _CLIENT_KEYS - _CACHE_KEYS
            if unknown:
                raise ConfigError(f"unknown option(s): {', '.join(sorted(unknown))}")
            client_options = {
                k: options.pop(k) for k in list(options) if k in _CLIENT_KEYS | _CACHE_KEYS
            }
            self._pool = Pool(**options)
            self._owns_pool = True
        self._retry = _retry_from(client_options, retry)
        self._retryable: bool | None = None
        self._pubsubs: weakref.WeakSet[PubSub] = weakref.WeakSet()  # closed with the client
        # client-side cache (issue 15): None unless asked for
        config = cache_config_from(cache, client_options)
        self._cache: ClientCache | None = None if config is None else ClientCache(self, config)

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
        client._owns_pool = True
        return client

    def __repr__(self) -> str:
        return f"<Redis {self._pool!r}>"

    # -- lifecycle ----------------------------------------------------------------
    @property
    def pool(self) -> Pool:
        """The connection pool this client runs commands on."""
        return self._pool

    @property
    def retry(self) -> Retry:
        """The retry policy."""
        return self._retry

    @property
    def cache(self) -> ClientCache | None:
        """The client-side cache (``None`` unless ``cache=`` was given); see docs/caching.md."""
        return self._cache

    async def __aenter__(self) -> Redis[StrT]:
        if self._owns_pool:
            await self._pool.open()
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
        if self._owns_pool:
            await self._pool.close()

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
        return execute(self._pool, args, callback, self._retry, retryable)

    async def execute_command(
        self, *args: Any, retryable: bool | None = None, timeout: float | None = None
    ) -> Any:
        """Run any command by name and return its raw reply.

        ``retryable=True`` allows a retry after a connection error even for a
        write (say so only when repeating it is harmless); ``timeout``
        overrides ``socket_timeout`` for this call.  Error replies raise
        :class:`~asyncpool.ResponseError` subclasses.
        """
        if retryable is None:
            retryable = self._retryable
        if self._cache is not None:  # client-side cache (issue 15)
            return await self._cache.run(args, None, retryable, timeout)
        return await execute(self._pool, args, None, self._retry, retryable, timeout)

    def retryable(self, retryable: bool = True) -> Redis[StrT]:
        """A view of this client whose commands are all (not) retried after connection errors.

        ``await redis.retryable().incr("counter")`` says an INCR may be repeated
        when the connection broke after it was sent.  The view shares the pool.
        """
        view = object.__new__(type(self))
        view._pool = self._pool
        view._owns_pool = False
        view._retry = self._retry
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
        async with self._pool.acquire() as lease:
            yield PinnedConnection(lease)

    def pipeline(
        self, transaction: bool = False, *, retryable: bool | None = None
    ) -> Pipeline[StrT]:
        """Queue commands and send them in one write; see :class:`~asyncpool.Pipeline`.

        ``retryable=True`` lets a non-transactional pipeline of writes be sent
        again after a connection error (say so only when that is harmless).
        """
        from .pipeline import Pipeline

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
        from .pipeline import run_transaction

        return await run_transaction(self, func, *watches, **kwargs)

    def pubsub(self, **kwargs: Any) -> PubSub:
        """A publish/subscribe session on a connection of its own from this client's pool.

        See :class:`~asyncpool.PubSub`.
        """
        from .pubsub import PubSub

        pubsub = PubSub(self._pool, **kwargs)
        self._pubsubs.add(pubsub)
        return pubsub

    def monitor(self) -> Monitor:
        """``async with redis.monitor() as m``: every command the server runs; see
        :class:`~asyncpool.client.monitor.Monitor`."""
        from .monitor import Monitor

        return Monitor(self._pool)

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
        from .script import Script

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

    async def execute_command(self, *args: Any, timeout: float | None = None) -> Any:
        """Run any command on the pinned connection and return its raw reply."""
        if timeout is None:
            return await self._lease.execute_command(*args)
        return await self._lease.execute_command(*args, timeout=timeout)
