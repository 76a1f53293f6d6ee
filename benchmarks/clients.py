"""One adapter per client under test, all driven the same way by the workloads.

An adapter opens its client inside the running event loop (``async with``),
with ``max_connections`` connections at most, and exposes:

* ``for_task(i)``: what task ``i`` calls ``get``/``set`` on (the shared
  client for pooled clients; the task's own connection for the raw ceiling),
  whose methods are the client's own bound methods, so no wrapper frame is
  timed;
* ``pipeline_get(keys)``: one pipeline of ``GET key`` for every key;
* ``acquire_release(n)``: check an idle connection out of the pool and back
  in, ``n`` times, the way each library documents it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.metadata
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from benchmarks.ceiling import RawConnection, encode

#: Every client, in the order they appear in the tables.
ALL_CLIENTS = (
    "asyncpool",
    "asyncpool-shared",
    "asyncpool+otel",
    "asyncpool-shared+otel",
    "redis-py",
    "coredis",
    "glide",
    "raw",
)


def version_of(dist: str) -> str:
    """Installed version of a distribution ("-" when absent)."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def otel_available() -> bool:
    """True when asyncpool.otel.instrument and the OpenTelemetry SDK import."""
    try:
        from opentelemetry.sdk.metrics import MeterProvider  # noqa: F401
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: F401

        from asyncpool.otel import instrument  # noqa: F401
    except Exception:
        return False
    return True


_MODULES = {"redis-py": "redis.asyncio", "coredis": "coredis", "glide": "glide", "raw": "hiredis"}


def client_available(name: str) -> bool:
    """True when the library behind client ``name`` is installed (asyncpool always is)."""
    if name.endswith("+otel"):
        return otel_available()
    module = _MODULES.get(name)
    if module is None:
        return True
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


class Adapter:
    """Base class: a client opened with a bound on its connections."""

    name = "?"

    def __init__(self, host: str, port: int, max_connections: int) -> None:
        self.host = host
        self.port = port
        self.max_connections = max_connections

    async def __aenter__(self) -> Adapter:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def for_task(self, index: int) -> Any:
        """The object task ``index`` calls ``get``/``set`` on."""
        return self.client

    client: Any = None

    async def pipeline_get(self, keys: Sequence[bytes]) -> Any:
        raise NotImplementedError

    async def acquire_release(self, n: int) -> None:
        raise NotImplementedError

    def pause(self) -> None:
        """Stop this client's own background work: another client's slice begins."""

    def resume(self) -> None:
        """Restart what :meth:`pause` stopped: this client's slice begins."""


class AsyncpoolAdapter(Adapter):
    """``asyncpool.Redis`` on its own pool (defaults, RESP3, hiredis)."""

    name = "asyncpool"
    otel = False
    multiplex = False
    #: Seconds between metric collections with ``otel`` (an exporter's interval,
    #: far shorter than the usual 15-60 s, so collecting is not left out),
    #: counted in this client's own slices only (see :meth:`pause`).
    collect_every = 0.2
    collector: asyncio.Future[None] | None = None
    #: Seconds of this client's running time left until the next collection.
    _due_in = 0.0
    _due_at = 0.0

    async def open(self) -> None:
        import asyncpool

        self.client = asyncpool.Redis(
            host=self.host,
            port=self.port,
            max_connections=self.max_connections,
            multiplex=self.multiplex,
        )
        await self.client.__aenter__()
        if self.otel:
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import InMemoryMetricReader

            from asyncpool.otel import instrument

            self.reader = InMemoryMetricReader()
            self.provider = MeterProvider(metric_readers=[self.reader])
            self.handle = instrument(self.client, meter_provider=self.provider)
            self._due_in = self.collect_every
            self.resume()

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(max(0.0, self._due_at - loop.time()))
            self.reader.get_metrics_data()  # on the loop thread: its cost is in the window
            self._due_at = loop.time() + self.collect_every

    def pause(self) -> None:
        """Collections keep their interval in this client's running time, not the clock's."""
        if self.collector is not None:
            self._due_in = max(0.0, self._due_at - asyncio.get_running_loop().time())
            self.collector.cancel()
            self.collector = None

    def resume(self) -> None:
        if self.otel and self.collector is None:
            self._due_at = asyncio.get_running_loop().time() + self._due_in
            self.collector = asyncio.ensure_future(self._collect())

    async def close(self) -> None:
        if self.otel:
            self.pause()
            self.reader.get_metrics_data()
            self.handle.uninstrument()
            self.provider.shutdown()
        await self.client.aclose()

    async def pipeline_get(self, keys: Sequence[bytes]) -> Any:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
        return await pipe.execute()

    async def acquire_release(self, n: int) -> None:
        pool = self.client.pool
        for _ in range(n):
            async with pool.acquire():
                pass


class AsyncpoolOtelAdapter(AsyncpoolAdapter):
    """asyncpool with OpenTelemetry metrics on (SDK MeterProvider, in-memory reader)."""

    name = "asyncpool+otel"
    otel = True


class AsyncpoolSharedAdapter(AsyncpoolAdapter):
    """asyncpool in shared-connection mode (``multiplex=True``, default ``max_in_flight``)."""

    name = "asyncpool-shared"
    multiplex = True


class AsyncpoolSharedOtelAdapter(AsyncpoolAdapter):
    """Shared-connection mode with OpenTelemetry metrics on."""

    name = "asyncpool-shared+otel"
    multiplex = True
    otel = True


class RedisPyAdapter(Adapter):
    """``redis.asyncio.Redis`` over a ``BlockingConnectionPool`` (hiredis when installed)."""

    name = "redis-py"

    async def open(self) -> None:
        import redis.asyncio as aioredis

        self.pool = aioredis.BlockingConnectionPool(
            host=self.host, port=self.port, max_connections=self.max_connections, timeout=20
        )
        self.client = aioredis.Redis(connection_pool=self.pool)
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()
        await self.pool.disconnect()

    async def pipeline_get(self, keys: Sequence[bytes]) -> Any:
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
            return await pipe.execute()

    async def acquire_release(self, n: int) -> None:
        pool = self.pool
        for _ in range(n):
            conn = await pool.get_connection()  # type: ignore[no-untyped-call]
            await pool.release(conn)


class CoredisAdapter(Adapter):
    """``coredis.Redis`` (anyio based; it releases a connection before the reply arrives)."""

    name = "coredis"

    async def open(self) -> None:
        import coredis

        self.client = coredis.Redis(
            host=self.host, port=self.port, max_connections=self.max_connections
        )
        self._stack = contextlib.AsyncExitStack()
        await self._stack.enter_async_context(self.client)
        await self.client.ping()

    async def close(self) -> None:
        await self._stack.aclose()

    async def pipeline_get(self, keys: Sequence[bytes]) -> Any:
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
        return pipe.results

    async def acquire_release(self, n: int) -> None:
        pool = self.client.connection_pool
        for _ in range(n):
            conn = await pool.get_connection()
            pool.release(conn)


class GlideAdapter(Adapter):
    """valkey-glide's ``GlideClient``: a Rust core multiplexing every task on one connection.

    It has no pool, so ``max_connections`` does not apply and it has no
    acquire row.
    """

    name = "glide"

    async def open(self) -> None:
        from glide import GlideClient, GlideClientConfiguration, NodeAddress

        config = GlideClientConfiguration(
            [NodeAddress(self.host, self.port)], request_timeout=20_000
        )
        self.client = await GlideClient.create(config)
        await self.client.ping()

    async def close(self) -> None:
        await self.client.close()

    async def pipeline_get(self, keys: Sequence[bytes]) -> Any:
        from glide import Batch

        batch = Batch(is_atomic=False)
        for key in keys:
            batch.get(key)
        return await self.client.exec(batch, raise_on_error=True)


class RawAdapter(Adapter):
    """The ceiling: each task owns one raw connection (see :mod:`benchmarks.ceiling`)."""

    name = "raw"

    async def open(self) -> None:
        self.conns: list[RawConnection] = []

    async def connect(self, count: int) -> None:
        """Open ``count`` connections (one per task); done before timing starts."""
        while len(self.conns) < count:
            self.conns.append(await RawConnection.open(self.host, self.port))

    async def close(self) -> None:
        for conn in self.conns:
            conn.close()

    def for_task(self, index: int) -> Any:
        return self.conns[index % len(self.conns)]

    async def pipeline_get(self, keys: Sequence[bytes]) -> Any:
        data = b"".join([encode(b"GET", key) for key in keys])
        return await self.conns[0].many(data, len(keys))


ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls
    for cls in (
        AsyncpoolAdapter,
        AsyncpoolSharedAdapter,
        AsyncpoolOtelAdapter,
        AsyncpoolSharedOtelAdapter,
        RedisPyAdapter,
        CoredisAdapter,
        GlideAdapter,
        RawAdapter,
    )
}
