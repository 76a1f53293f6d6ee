"""The :class:`Sentinel` entry point and the clients it hands out."""

from __future__ import annotations

import ssl as _ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ..client import Redis, Retry
from ..client.cache_config import URL_KEYS as CACHE_URL_KEYS
from ..client.executing import Operation, Redirect
from ..client.executor import PoolExecutor
from ..connection import Connection
from ..errors import ConfigError, ConnectionError, ReadOnlyError, RedisError
from ..options import CONNECTION_FIELDS, POOL_FIELDS, ConnectionOptions, PoolOptions
from ..pool import Hook, Pool
from .nodes import Address, SentinelNodes
from .service import Failover, Service
from .url import parse_sentinel_url
from .watch import Watcher

__all__ = ["Sentinel", "SentinelExecutor", "SentinelRedis", "SentinelStats"]

_CLIENT_KEYS = frozenset({"retries", "deadline", "retry_on_timeout"})
_CLIENT_KEYS |= CACHE_URL_KEYS  # client-side cache: master_for(..., cache=...) (issue 15)
#: Keyword arguments of :class:`Sentinel` itself, as opposed to data-node options.
_OWN_KEYS = (
    "watch",
    "poll_interval",
    "retry",
    "sentinel_ssl",
    "sentinel_username",
    "sentinel_password",
    "sentinel_timeout",
)


@dataclass(frozen=True)
class SentinelStats:
    """A snapshot of what a :class:`Sentinel` knows."""

    #: Known sentinels (``host:port``), in the order they are asked.
    sentinels: tuple[str, ...]
    #: Sentinels whose ``+switch-master`` subscription is confirmed.
    subscribed: tuple[str, ...]
    #: Service name -> the primary's ``host:port`` as last named (None: not asked yet).
    primaries: dict[str, str | None]
    #: Every change of primary seen, oldest first.
    failovers: tuple[Failover, ...]


class SentinelExecutor(PoolExecutor):
    """The executor of a primary client: ``READONLY`` is followed like a redirect.

    A ``READONLY`` reply means the server was demoted and did not run the
    command.  The service is told (its pools' connections expire and the
    sentinels are asked again before the next dial), and the operation is
    sent once more, within the same deadline, on a fresh connection; the
    ``ROLE`` check makes sure that one reaches the primary.
    """

    __slots__ = ("service",)

    def __init__(self, pool: Pool, retry: Retry, service: Service) -> None:
        super().__init__(pool, retry)
        #: The service whose primary this executor follows.
        self.service = service

    def __repr__(self) -> str:
        return f"<SentinelExecutor {self.service.name} {self.pool!r}>"

    async def _redirect(self, op: Operation, error: RedisError) -> Redirect | None:
        if isinstance(error, ReadOnlyError):
            self.service.demoted()
            return Redirect(self.pool)
        return None


class SentinelRedis(Redis):
    """A :class:`~asyncpool.Redis` whose pool dials through the sentinels.

    A primary client runs on a :class:`SentinelExecutor`: a ``READONLY``
    error (the server was demoted) makes it ask the sentinels again and run
    the command (refused, so not applied) once more on the primary they name.
    """

    __slots__ = ("_service",)

    def __init__(
        self, pool: Pool, service: Service, *, primary: bool, retry: Retry | None = None
    ) -> None:
        super().__init__(pool=pool, retry=retry)
        self._owns_executor = True  # made for this client alone: closed with it
        if primary:
            self._executor = SentinelExecutor(pool, self.retry, service)
        self._service = service

    @property
    def service(self) -> Service:
        """The monitored service this client follows."""
        return self._service

    def __repr__(self) -> str:
        kind = "primary" if isinstance(self._executor, SentinelExecutor) else "replica"
        return f"<SentinelRedis {self._service.name} {kind} {self.pool!r}>"

    def retryable(self, retryable: bool = True) -> SentinelRedis:
        """A view whose commands are all (not) retried; see :meth:`Redis.retryable`."""
        view = super().retryable(retryable)
        assert isinstance(view, SentinelRedis)
        view._service = self._service
        return view


class Sentinel:
    """Clients for services monitored by Redis Sentinel.

    ::

        sentinel = asyncpool.Sentinel([("10.0.0.1", 26379), ("10.0.0.2", 26379)])
        async with sentinel:
            primary = sentinel.master_for("mymaster")
            replica = sentinel.replica_for("mymaster")
            await primary.set("k", "v")
            await replica.get("k")

    ``sentinels`` are tried in turn for every question; more are learnt with
    ``SENTINEL SENTINELS`` (the given ones are never dropped).
    ``sentinel_username`` / ``sentinel_password`` authenticate to the
    sentinels; data-node credentials and every other connection, pool or
    retry option (``password``, ``db``, ``max_connections``, ``retries`` ...)
    go in ``options`` and apply to each client, which
    :meth:`master_for` / :meth:`replica_for` may override.

    ``sentinel_timeout`` bounds each question to a sentinel (connect and
    reply), so a sentinel that is down or frozen is skipped quickly.
    ``watch=True`` subscribes to ``+switch-master`` on every sentinel;
    ``poll_interval`` asks for the primary that often as well (``None``: no
    poll).  Closing the Sentinel closes the clients it made.
    """

    def __init__(
        self,
        sentinels: Iterable[tuple[str, int]],
        *,
        sentinel_username: str | None = None,
        sentinel_password: str | None = None,
        sentinel_timeout: float = 0.5,
        sentinel_ssl: _ssl.SSLContext | None = None,
        watch: bool = True,
        poll_interval: float | None = 10.0,
        service_name: str | None = None,
        retry: Retry | None = None,
        **options: Any,
    ) -> None:
        if not sentinel_timeout > 0:
            raise ConfigError("sentinel_timeout must be > 0")
        if poll_interval is not None and not poll_interval > 0:
            raise ConfigError("poll_interval must be > 0 or None")
        self._conn_options, self._pool_options, self._client_options = _split(
            ConnectionOptions(), PoolOptions(), {}, options
        )
        sentinel_options = ConnectionOptions(
            username=sentinel_username,
            password=sentinel_password,
            connect_timeout=sentinel_timeout,
            socket_timeout=sentinel_timeout,
            ssl=sentinel_ssl,
            protocol=2,
            set_lib_info=False,
        )
        try:
            self.nodes = SentinelNodes(sentinels, sentinel_options)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        #: The service name used when :meth:`master_for` / :meth:`replica_for` get none.
        self.service_name = service_name
        self._retry = retry
        self._services: dict[str, Service] = {}
        self._clients: list[SentinelRedis] = []
        self._watcher = Watcher(
            self.nodes,
            lambda: list(self._services.values()),
            subscribe=watch,
            poll_interval=poll_interval,
        )
        self._closed = False

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> Sentinel:
        """A Sentinel from a ``redis+sentinel://`` URL (see :mod:`asyncpool.sentinel.url`).

        The URL's service name becomes :attr:`service_name`; keyword
        arguments override the URL's data-node options or set Sentinel's own.
        """
        own: dict[str, Any] = {k: overrides.pop(k) for k in _OWN_KEYS if k in overrides}
        parsed = parse_sentinel_url(url, **overrides)
        kwargs: dict[str, Any] = {
            "sentinel_username": parsed.sentinel_username,
            "sentinel_password": parsed.sentinel_password,
        }
        if parsed.sentinel_timeout is not None:
            kwargs["sentinel_timeout"] = parsed.sentinel_timeout
        if parsed.connection_options.ssl is not None and "sentinel_ssl" not in own:
            kwargs["sentinel_ssl"] = parsed.connection_options.ssl
        kwargs.update(own)
        sentinel = cls(parsed.sentinels, service_name=parsed.service_name, **kwargs)
        sentinel._conn_options = parsed.connection_options
        sentinel._pool_options = parsed.pool_options
        sentinel._client_options = {
            k: v for k, v in parsed.client_options.items() if k in _CLIENT_KEYS
        }
        return sentinel

    def __repr__(self) -> str:
        return f"<Sentinel {self.nodes!r} services={sorted(self._services)}>"

    # -- lifecycle -----------------------------------------------------------------------------
    async def __aenter__(self) -> Sentinel:
        self._watcher.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the clients made by this Sentinel, stop watching, close sentinel connections."""
        if self._closed:
            return
        self._closed = True
        clients, self._clients = self._clients, []
        for client in clients:
            await client.aclose()
        await self._watcher.aclose()
        for service in self._services.values():
            service.close()
        await self.nodes.aclose()

    # -- clients ---------------------------------------------------------------------------------
    def service(self, name: str | None = None) -> Service:
        """The :class:`Service` state of ``name`` (created on first use)."""
        name = name or self.service_name
        if not name:
            raise ConfigError("no service name given (and none came with the URL)")
        service = self._services.get(name)
        if service is None:
            service = self._services[name] = Service(name, self.nodes)
        return service

    def master_for(
        self,
        name: str | None = None,
        *,
        retry: Retry | None = None,
        on_connect: Hook | None = None,
        **options: Any,
    ) -> SentinelRedis:
        """A client of the primary of ``name``, following it across failovers.

        Each new connection goes to the address the sentinels name and must
        answer ``ROLE`` with ``master`` (else :class:`~asyncpool.StalePrimaryError`,
        and the sentinels are asked again).  ``on_connect`` runs after that check.
        """
        service = self.service(name)
        pool = self._pool(
            service, "primary", options, service.dial_master, service.check_primary, on_connect
        )
        service.add_master_pool(pool)
        return self._client(pool, service, primary=True, retry=retry)

    def replica_for(
        self,
        name: str | None = None,
        *,
        retry: Retry | None = None,
        on_connect: Hook | None = None,
        **options: Any,
    ) -> SentinelRedis:
        """A client of the replicas of ``name``: round-robin over healthy ones, else the primary.

        Replicas the sentinels flag down (``s_down``, ``o_down``,
        ``disconnected``) are skipped, and each new connection must answer
        ``ROLE`` as a replica; with none left, connections go to the primary.
        """
        service = self.service(name)
        pool = self._pool(
            service, "replica", options, service.dial_replica, service.check_replica, on_connect
        )
        service.add_replica_pool(pool)
        return self._client(pool, service, primary=False, retry=retry)

    def _pool(
        self,
        service: Service,
        kind: str,
        options: dict[str, Any],
        dial: Callable[[Pool], Awaitable[Address]],
        check: Hook | None,
        on_connect: Hook | None,
    ) -> Pool:
        if self._closed:
            raise ConnectionError("this Sentinel is closed")
        conn, popts, client = _split(
            self._conn_options, self._pool_options, self._client_options, options
        )
        if popts.name is None:
            popts = popts.replace(name=f"sentinel:{service.name}/{conn.db} {kind}")
        watcher = self._watcher

        async def dialer() -> Address:
            watcher.start()  # first dial in a running loop: begin watching the sentinels
            return await dial(pool)

        pool = Pool(conn, popts, on_connect=_chain(check, on_connect), dialer=dialer)
        pool.client_options = client
        return pool

    def _client(
        self, pool: Pool, service: Service, *, primary: bool, retry: Retry | None
    ) -> SentinelRedis:
        client = SentinelRedis(pool, service, primary=primary, retry=retry or self._retry)
        self._clients.append(client)
        return client

    # -- questions ---------------------------------------------------------------------------------
    async def discover_master(self, name: str | None = None) -> Address:
        """Ask the sentinels for the primary's ``(host, port)`` now."""
        return await self.service(name).rediscover("discovery")

    async def discover_replicas(self, name: str | None = None) -> list[Address]:
        """The healthy replicas' addresses, as the first answering sentinel lists them."""
        return (await self.nodes.replicas(self.service(name).name))[0]

    def failovers(self, name: str | None = None) -> list[Failover]:
        """Every change of primary seen (of ``name``, or of every service)."""
        services = [self.service(name)] if name or self.service_name else self._services.values()
        return sorted((f for s in services for f in s.failovers), key=lambda f: f.detected_at)

    def stats(self) -> SentinelStats:
        """What this Sentinel knows now (no I/O)."""
        return SentinelStats(
            sentinels=tuple(f"{h}:{p}" for h, p in self.nodes.addresses),
            subscribed=tuple(f"{h}:{p}" for h, p in self._watcher.subscribed_to),
            primaries={
                name: None if s.master is None else f"{s.master[0]}:{s.master[1]}"
                for name, s in self._services.items()
            },
            failovers=tuple(f for s in self._services.values() for f in s.failovers),
        )


def _split(
    conn: ConnectionOptions,
    pool: PoolOptions,
    client: dict[str, Any],
    options: dict[str, Any],
) -> tuple[ConnectionOptions, PoolOptions, dict[str, Any]]:
    unknown = set(options) - CONNECTION_FIELDS - POOL_FIELDS - _CLIENT_KEYS
    if unknown:
        raise ConfigError(f"unknown option(s): {', '.join(sorted(unknown))}")
    conn_changes = {k: v for k, v in options.items() if k in CONNECTION_FIELDS}
    pool_changes = {k: v for k, v in options.items() if k in POOL_FIELDS}
    client = {**client, **{k: v for k, v in options.items() if k in _CLIENT_KEYS}}
    if conn_changes:
        conn = conn.replace(**conn_changes)
    if pool_changes:
        pool = pool.replace(**pool_changes)
    return conn, pool, client


def _chain(first: Hook | None, second: Hook | None) -> Hook | None:
    if first is None or second is None:
        return first or second

    async def both(conn: Connection) -> None:
        await first(conn)
        await second(conn)

    return both
