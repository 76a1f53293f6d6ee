"""Server-assisted client-side caching: hot reads served from process memory, never stale.

A :class:`ClientCache` sits in front of a :class:`~asyncpool.Redis` client's
executor.  Cacheable reads (``GET``, ``HGETALL`` ...; see
:mod:`asyncpool.client.cache_keys`) are answered from a bounded LRU
(:class:`~asyncpool.client.cache_store.CacheStore`); a miss reads from the
server and stores the reply.  Entries are dropped when

* the server says a key changed: one tracking connection in ``CLIENT TRACKING
  BCAST`` mode (:mod:`asyncpool.client.cache_tracking`) receives an
  invalidation for every written key, and a null one on ``FLUSHALL`` /
  ``FLUSHDB`` (everything is dropped);
* the invalidation stream is lost (the tracking connection closes or stops
  answering PINGs): everything is dropped *synchronously*, in the callback
  that notices, so no read is served from the cache after the loss; reads go
  to the server until tracking is back;
* this client writes a key (its reply drops the entries of the keys written,
  before the caller sees it: read-your-writes without waiting for the server);
  a write whose keys are unknown (``EVAL``, an unknown command) *fences*: the
  cache serves no hits until a PING on the tracking connection, sent after the
  write's reply, comes back -- the server sends the write's invalidations
  before that PONG;
* the key's server TTL or the configured ``ttl`` passes (a miss also reads
  ``PTTL`` of each key, in the same round trip).

The read/invalidate race: a miss records, before it is sent, how many
invalidations each of its keys has seen (and the flush epoch); the reply is
stored only if those counts did not move.  An invalidation that crosses the
reply therefore prevents the store instead of being lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Coroutine, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .._log_throttle import LogThrottle
from .._types import NOT_GIVEN, NotGiven
from ..command import Command, TimedCommand, command_name
from ..errors import ConfigError, ConnectionError, RedisError, TimeoutError
from .base import Callback
from .cache_config import CacheConfig
from .cache_keys import CACHEABLE, FLUSHES, READ_ONLY, WRITE_KEYS, KeyFinder, key_bytes
from .cache_reads import MUTABLE, OwnerLeft, Pending, ReadWithTTL, copy_reply
from .cache_reads import cache_key as key_of
from .cache_stats import CacheStats
from .cache_store import CacheStore, Entry, ReadToken, estimate_size
from .cache_tracking import TrackingConnection
from .pipeline import Client

if TYPE_CHECKING:
    from ..pool import Pool


class CacheClient(Client, Protocol):
    """What the cache needs of its client (a :class:`~asyncpool.Redis`)."""

    @property
    def pool(self) -> Pool: ...


__all__ = ["CacheStats", "ClientCache"]

log = logging.getLogger("asyncpool.cache")

_INF = float("inf")
_NEW, _UP, _DOWN, _UNSUPPORTED, _CLOSED = "new", "up", "down", "unsupported", "closed"


class ClientCache:
    """The client-side cache of one :class:`~asyncpool.Redis` client (``redis.cache``)."""

    def __init__(self, client: CacheClient, config: CacheConfig) -> None:
        opts = client.pool.connection_options
        if opts.protocol != 3:
            raise ConfigError(
                "client-side caching needs RESP3 (protocol=3): invalidations are RESP3 pushes"
            )
        self._client = client
        self._pool = client.pool
        #: The pool's expire_all() generation the tracking session belongs to.
        self._generation = client.pool._generation
        self.config = config
        self._store = CacheStore(config.max_entries, config.max_bytes, config.entry_limit)
        #: By upper-case name (``command_name`` normalises case, str and bytes).
        self._finders: dict[str, KeyFinder] = {
            name: CACHEABLE[name] for name in config.command_names
        }
        self._prefixes = config.prefix_bytes
        self._ttl = config.ttl
        self._state = _NEW
        self._unsupported: ConfigError | None = None
        self._tracker: TrackingConnection | None = None
        self._starting: asyncio.Future[None] | None = None
        self._reconnect: asyncio.Task[None] | None = None
        #: Reconnect failures repeat through an outage: logged once per interval, counted.
        self._throttle = LogThrottle(log)
        self._write_seq = 0
        #: Reads in flight, by cache key, that a concurrent identical read may share.
        self._pending: dict[Any, Pending] = {}
        self._fenced_seq = 0
        self._fence_scheduled = False
        self.hits = 0
        self.misses = 0
        self.bypasses = 0
        self.joins = 0
        self.races = 0
        self.flushes = 0
        self.tracking_connects = 0

    def __repr__(self) -> str:
        return f"<ClientCache {self._state} entries={len(self._store)} bytes={self._store.bytes}>"

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the tracking connection now (otherwise the first cacheable read does).

        Raises :class:`~asyncpool.ConfigError` when the server cannot track
        keys.  An unreachable server is not an error: reads go to the server
        (uncached) while the cache keeps trying to connect in the background.
        """
        if self._state is _NEW:
            if self._starting is None:
                self._starting = asyncio.ensure_future(self._first_connect())
            await asyncio.shield(self._starting)
        if self._state is _UNSUPPORTED:
            raise ConfigError(str(self._unsupported))  # a fresh one: tracebacks do not pile up

    async def close(self) -> None:
        """Stop tracking and drop every entry; reads go to the server from now on."""
        self._state = _CLOSED
        for task in (self._starting, self._reconnect):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._starting = self._reconnect = None
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None
        self._flush()

    async def sync(self) -> None:
        """Wait until every invalidation the server sent before this call has been applied.

        One PING on the tracking connection: the server answers it after the
        invalidations it sent earlier.  Call it after learning of another
        client's write by other means (a message, a queue) to be sure the next
        read sees it.  Returns at once when tracking is down (nothing is served
        from the cache then).
        """
        tracker = self._tracker
        if self._state is not _UP or tracker is None or tracker.lost:
            return
        with contextlib.suppress(ConnectionError, TimeoutError):
            await tracker.ping()

    def flush(self) -> None:
        """Drop every entry now (reads in flight store nothing)."""
        self._flush()

    @property
    def tracking(self) -> TrackingConnection | None:
        """The live tracking session, if any (for diagnostics and tests)."""
        return self._tracker

    @property
    def usable(self) -> bool:
        """True when hits may be served (tracking up, no fence pending)."""
        return self._state is _UP and self._fenced_seq == self._write_seq

    def stats(self) -> CacheStats:
        """A snapshot of the counters (no await)."""
        store = self._store
        return CacheStats(
            hits=self.hits,
            misses=self.misses,
            joins=self.joins,
            bypasses=self.bypasses,
            evictions=store.evictions,
            invalidations=store.invalidations,
            expirations=store.expirations,
            flushes=self.flushes,
            races=self.races,
            entries=len(store),
            bytes=store.bytes,
            max_entries=store.max_entries,
            max_bytes=store.max_bytes,
            tracking=self._state is _UP,
            tracking_connects=self.tracking_connects,
        )

    # -- running commands -----------------------------------------------------------------
    def run(
        self,
        args: Sequence[Any],
        callback: Callback | None,
        retryable: bool | None,
        timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> Coroutine[Any, Any, Any]:
        """The client's command path when caching is on; returns the coroutine to await."""
        name = command_name(args)
        finder = self._finders.get(name)
        if finder is not None and timeout is NOT_GIVEN:
            return self._read(args, finder, callback, retryable)
        if timeout is NOT_GIVEN:
            command: Command = Command(tuple(args), callback, retryable)
        else:
            command = TimedCommand(tuple(args), callback, retryable, timeout=timeout)
        coro = self._client.executor.run(command)
        if name in READ_ONLY or name in CACHEABLE:
            return coro
        return self._write(args, coro)

    async def _write(self, args: Sequence[Any], coro: Coroutine[Any, Any, Any]) -> Any:
        try:
            return await coro
        finally:
            self.written((args,))

    def written(self, commands: Iterable[Sequence[Any]]) -> None:
        """Commands this client sent have completed: drop what they may have changed.

        Called for every command and pipeline the client runs (also when it
        failed or was cancelled after sending): known writes drop their keys'
        entries, flushes drop everything, unknown commands fence.
        """
        fence = False
        store = self._store
        for args in commands:
            if not args:
                continue
            name = command_name(args)
            if name in READ_ONLY or name in CACHEABLE:
                continue
            finder = WRITE_KEYS.get(name)
            if finder is not None:
                store.invalidate([key_bytes(k) for k in finder(args)])
            elif name in FLUSHES:
                self._flush()
            else:
                fence = True
        if fence:
            self._fence()

    async def _read(
        self,
        args: Sequence[Any],
        finder: KeyFinder,
        callback: Callback | None,
        retryable: bool | None,
    ) -> Any:
        if self._state is _NEW or self._state is _UNSUPPORTED:
            await self.start()
        if self._pool._generation != self._generation:
            self._target_changed()  # a failover (pool.expire_all): this stream is the old server's
        store = self._store
        usable = self._state is _UP
        cache_key = key_of(args)
        if usable and self._fenced_seq == self._write_seq:
            entry = store.get(cache_key)
            if entry is not None:
                self.hits += 1
                value = entry.value
                if value.__class__ in MUTABLE:
                    value = copy_reply(value)
                return value if callback is None else callback(value)
        keys = tuple(key_bytes(k) for k in finder(args))
        prefixes = self._prefixes
        if prefixes and not all(k.startswith(prefixes) for k in keys):
            usable = False
        if not usable:
            self.bypasses += 1
            return await self._client.executor.run(Command(tuple(args), callback, retryable))
        pending = self._pending.get(cache_key)
        if pending is not None and self._joinable(pending):
            # The same read is in flight and nothing it depends on changed since it
            # was sent: share its reply, as a hit would share a stored one.
            try:
                value = await asyncio.shield(pending.future)
            except OwnerLeft:
                pass
            else:
                self.joins += 1
                if value.__class__ in MUTABLE:
                    value = copy_reply(value)
                return value if callback is None else callback(value)
        value = await self._miss(cache_key, args, keys, retryable)
        if value.__class__ in MUTABLE:
            value = copy_reply(value)
        return value if callback is None else callback(value)

    async def _miss(
        self, cache_key: Any, args: Sequence[Any], keys: tuple[bytes, ...], retryable: bool | None
    ) -> Any:
        """Read from the server; store the reply unless an invalidation crossed it."""
        self.misses += 1
        store = self._store
        token = store.begin(keys)
        pending = Pending(token, self._write_seq)
        current = self._pending.get(cache_key)
        if current is None or not self._joinable(current):
            self._pending[cache_key] = pending
        try:
            started = time.monotonic()
            value, ttls = await self._fetch(args, keys, retryable)
            self._store_reply(cache_key, args, keys, value, ttls, started, token)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                pending.future.set_exception(OwnerLeft())
            else:
                pending.future.set_exception(exc)
            raise
        else:
            pending.future.set_result(value)
        finally:
            store.end(token)
            if self._pending.get(cache_key) is pending:
                del self._pending[cache_key]
        return value

    def _joinable(self, pending: Pending) -> bool:
        """True when nothing the in-flight read depends on changed since it was sent."""
        return pending.write_seq == self._write_seq and self._store.may_store(pending.token)

    async def _fetch(
        self, args: Sequence[Any], keys: tuple[bytes, ...], retryable: bool | None
    ) -> tuple[Any, list[Any]]:
        """The read's reply and each key's PTTL, in one round trip.

        One executor operation (retries, deadline, observer apply as to the
        read alone, and it is observed under the read's own name).
        """
        result: tuple[Any, list[Any]] = await self._client.executor.run(
            ReadWithTTL(args, keys, retryable)
        )
        return result

    def _store_reply(
        self,
        cache_key: Any,
        args: Sequence[Any],
        keys: tuple[bytes, ...],
        value: Any,
        ttls: list[Any],
        started: float,
        token: ReadToken,
    ) -> None:
        store = self._store
        if self._state is not _UP or not store.may_store(token):
            self.races += 1
            return
        expires_at = _INF if self._ttl is None else started + self._ttl
        for ttl in ttls:
            if not isinstance(ttl, int):
                return  # PTTL failed: do not guess
            if ttl >= 0:
                if ttl == 0:
                    return  # expiring now
                expires_at = min(expires_at, started + ttl / 1000.0)
        entry = Entry(value, keys, estimate_size(args, value), expires_at)
        store.put(cache_key, entry)

    # -- invalidation ---------------------------------------------------------------------
    def _on_invalidate(self, keys: Sequence[bytes] | None) -> None:
        if keys is None:
            self._flush()
        else:
            self._store.invalidate([k if k.__class__ is bytes else key_bytes(k) for k in keys])

    def _flush(self) -> None:
        self._store.flush()
        self.flushes += 1

    def _fence(self) -> None:
        self._write_seq += 1
        if not self._fence_scheduled and self._state is _UP:
            self._fence_scheduled = True
            asyncio.get_running_loop().call_soon(self._send_fence)

    def _send_fence(self) -> None:
        self._fence_scheduled = False
        tracker = self._tracker
        if tracker is None or tracker.lost:
            return  # the reconnect resets the fence
        covers = self._write_seq
        try:
            fut = tracker.ping()
        except ConnectionError:
            return
        fut.add_done_callback(lambda f: self._fenced(f, covers))

    def _fenced(self, fut: asyncio.Future[Any], covers: int) -> None:
        if not fut.cancelled() and fut.exception() is None and covers > self._fenced_seq:
            self._fenced_seq = covers

    # -- the tracking connection -------------------------------------------------------------
    async def _connect(self) -> None:
        config = self.config
        pool = self._pool
        generation = pool._generation
        tracker = await TrackingConnection.open(
            await pool._dial_target(),  # where the pool's next connection would go (Sentinel)
            config.prefix_bytes,
            config.health_check_interval,
            self._on_invalidate,
            self._on_lost,
        )
        if self._state is _CLOSED:
            tracker.close()
            return
        if pool._generation != generation:  # the target changed while connecting
            tracker.close()
            raise ConnectionError("the pool's dial target changed while tracking was set up")
        self._tracker = tracker
        self._generation = generation
        self._store.flush()  # nothing read before tracking was on may be served
        self._fenced_seq = self._write_seq  # the flush covers every earlier write
        self._state = _UP
        self.tracking_connects += 1
        log.debug("cache tracking on for %s", self._client.pool.name)

    async def _first_connect(self) -> None:
        try:
            await self._connect()
        except ConfigError as exc:
            self._state = _UNSUPPORTED
            self._unsupported = exc
        except (RedisError, OSError) as exc:
            log.warning("cache tracking connection failed (%s); reads are not cached", exc)
            self._go_down()

    def _on_lost(self, tracker: TrackingConnection, reason: BaseException | None) -> None:
        if tracker is not self._tracker:
            return
        self._tracker = None
        self._flush()  # synchronously: no read is served from a cache that may be stale
        if self._state is _UP:
            self._go_down()

    def _target_changed(self) -> None:
        """The pool expired its connections (Sentinel does on a failover): start over."""
        self._generation = self._pool._generation
        tracker, self._tracker = self._tracker, None
        self._flush()
        if tracker is not None:
            tracker.close()
        if self._state is _UP:
            self._go_down()

    def _go_down(self) -> None:
        if self._state is _CLOSED:
            return
        self._state = _DOWN
        if self._reconnect is None or self._reconnect.done():
            self._reconnect = asyncio.ensure_future(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        delay = 0.05
        failures = 0
        while self._state is _DOWN:
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            try:
                await self._connect()
            except (RedisError, OSError) as exc:  # ConfigError, auth errors: keep trying
                self._throttle.log(
                    "reconnect", logging.INFO, "cache tracking reconnect failed: %s", exc
                )
                delay = min(delay * 2, 2.0)
                failures += 1
                continue
            logged = self._throttle.forget("reconnect") is not None
            if logged and self._state is _UP:  # "reconnect failed" was logged: say it is over
                log.info(
                    "cache tracking on again for %s (%d failed reconnect(s))",
                    self._client.pool.name,
                    failures,
                )
