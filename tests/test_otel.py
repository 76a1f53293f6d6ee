"""asyncpool.otel: metric names, units, attributes and values after known workloads."""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import Histogram as SdkHistogram
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    InMemoryMetricReader,
    Metric,
    NumberDataPoint,
    Sum,
)
from opentelemetry.sdk.metrics.view import View
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import asyncpool
from asyncpool._compat import timeout as compat_timeout
from asyncpool.otel import instrument
from asyncpool.otel._sharing import SHARING_METRICS
from asyncpool.testing import RedisServer
from asyncpool.testing.external import ExternalRedisServer

AnyServer = RedisServer | ExternalRedisServer

POOL = "db.client.connection.pool.name"
STATE = "db.client.connection.state"

#: name -> (unit, OpenTelemetry data type, monotonic sum?) from the conventions.
EXPECTED = {
    "db.client.connection.count": ("{connection}", Sum, False),
    "db.client.connection.idle.max": ("{connection}", Sum, False),
    "db.client.connection.idle.min": ("{connection}", Sum, False),
    "db.client.connection.max": ("{connection}", Sum, False),
    "db.client.connection.pending_requests": ("{request}", Sum, False),
    "db.client.connection.timeouts": ("{timeout}", Sum, True),
    "db.client.connection.create_time": ("s", Histogram, None),
    "db.client.connection.wait_time": ("s", Histogram, None),
    "db.client.connection.use_time": ("s", Histogram, None),
    "db.client.operation.duration": ("s", Histogram, None),
}


class Metrics:
    """One collection from an in-memory reader, indexed by metric name."""

    def __init__(self, reader: InMemoryMetricReader) -> None:
        data = reader.get_metrics_data()
        self.by_name: dict[str, Metric] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                assert scope.scope.name == "asyncpool"
                for metric in scope.metrics:
                    self.by_name[metric.name] = metric

    def points(self, name: str, **attrs: Any) -> list[Any]:
        """Data points of ``name`` whose attributes include ``attrs`` (dots as ``__``)."""
        want = {k.replace("__", "."): v for k, v in attrs.items()}
        metric = self.by_name.get(name)
        if metric is None:
            return []
        return [
            p
            for p in metric.data.data_points
            if all(attrs_of(p).get(k) == v for k, v in want.items())
        ]

    def value(self, name: str, **attrs: Any) -> int | float:
        (point,) = self.points(name, **attrs)
        assert isinstance(point, NumberDataPoint)
        return point.value

    def histogram(self, name: str, **attrs: Any) -> HistogramDataPoint:
        (point,) = self.points(name, **attrs)
        assert isinstance(point, HistogramDataPoint)
        return point


def attrs_of(point: Any) -> dict[str, Any]:
    """A data point's attributes as a plain dict."""
    return dict(point.attributes or {})


def make_pool(server: AnyServer, **options: Any) -> asyncpool.Pool:
    return asyncpool.Pool(host=server.host, port=server.port, password=server.password, **options)


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def provider(reader: InMemoryMetricReader) -> MeterProvider:
    return MeterProvider(metric_readers=[reader])


@pytest_asyncio.fixture
async def pool(redis_server: AnyServer) -> AsyncIterator[asyncpool.Pool]:
    p = make_pool(redis_server, max_connections=4, max_idle=3)
    try:
        yield p
    finally:
        await p.close()


async def take(pool: asyncpool.Pool) -> asyncpool.PooledConnection:
    return await pool.acquire(timeout=None)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Yield to the loop until ``predicate()`` holds (functional deadline)."""
    async with compat_timeout(timeout):
        while not predicate():
            await asyncio.sleep(0)


# -- names, units, attributes -----------------------------------------------------------


async def test_every_metric_has_its_convention_name_unit_and_pool_name(
    pool: asyncpool.Pool, provider: MeterProvider, reader: InMemoryMetricReader, unique_key: str
) -> None:
    redis = asyncpool.Redis(pool=pool)
    handle = instrument(redis, provider)
    assert handle.pool_name == f"{pool.connection_options.host}:{pool.connection_options.port}/0"
    await redis.set(unique_key, "v")
    with pytest.raises(asyncpool.PoolTimeout):  # one wait and one timeout
        async with pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire():
            await pool.acquire(timeout=0.01)
    metrics = Metrics(reader)
    sharing = set(SHARING_METRICS) if pool.sharing is not None else set()  # shared mode's own
    assert set(metrics.by_name) == set(EXPECTED) | sharing
    for name, (unit, kind, monotonic) in EXPECTED.items():
        metric = metrics.by_name[name]
        assert metric.unit == unit, name
        assert isinstance(metric.data, kind), name
        if monotonic is not None:
            assert isinstance(metric.data, Sum)
            assert metric.data.is_monotonic is monotonic, name
        if name != "db.client.operation.duration":
            for point in metric.data.data_points:
                assert attrs_of(point)[POOL] == handle.pool_name, name
    states = {attrs_of(p)[STATE] for p in metrics.points("db.client.connection.count")}
    assert states == {"idle", "used"}
    handle.uninstrument()


async def test_histograms_use_the_recommended_buckets(
    pool: asyncpool.Pool, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    redis = asyncpool.Redis(pool=pool)
    instrument(redis, provider)
    await redis.ping()
    metrics = Metrics(reader)
    point = metrics.histogram("db.client.operation.duration", db__operation__name="PING")
    assert tuple(point.explicit_bounds) == (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10)


async def test_pool_name_option_wins(
    redis_server: AnyServer, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    async with make_pool(redis_server, name="sessions") as named:
        instrument(named, provider)
        assert Metrics(reader).value("db.client.connection.max", **{POOL: "sessions"}) == 50
    async with make_pool(redis_server) as other:
        handle = instrument(other, provider, pool_name="cache")
        assert handle.pool_name == "cache"
        assert Metrics(reader).value("db.client.connection.max", **{POOL: "cache"}) == 50


# -- values after known workloads ---------------------------------------------------------


async def test_gauges_follow_the_pool(
    redis_server: AnyServer, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    async with make_pool(redis_server, max_connections=3, min_idle=2, max_idle=2) as pool:
        name = instrument(pool, provider).pool_name
        metrics = Metrics(reader)
        assert metrics.value("db.client.connection.max", **{POOL: name}) == 3
        assert metrics.value("db.client.connection.idle.max", **{POOL: name}) == 2
        assert metrics.value("db.client.connection.idle.min", **{POOL: name}) == 2
        assert metrics.value("db.client.connection.count", **{STATE: "idle"}) == 2
        assert metrics.value("db.client.connection.count", **{STATE: "used"}) == 0

        async with pool.acquire(), pool.acquire():
            metrics = Metrics(reader)
            assert metrics.value("db.client.connection.count", **{STATE: "used"}) == 2
            assert metrics.value("db.client.connection.count", **{STATE: "idle"}) == 0
            async with pool.acquire():
                waiter = asyncio.ensure_future(take(pool))
                await until(lambda: pool.stats().waiting == 1)
                metrics = Metrics(reader)
                assert metrics.value("db.client.connection.pending_requests") == 1
                assert metrics.value("db.client.connection.count", **{STATE: "used"}) == 3
            lease = await waiter  # handed the released connection
            await lease.release()
        metrics = Metrics(reader)
        assert metrics.value("db.client.connection.pending_requests") == 0
        assert metrics.value("db.client.connection.count", **{STATE: "used"}) == 0
        wait = metrics.histogram("db.client.connection.wait_time")
        assert wait.count == 2  # the third acquire dialed, the fourth queued; two were idle


async def test_no_max_idle_reports_max_connections_as_idle_max(
    redis_server: AnyServer, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    async with make_pool(redis_server, max_connections=7) as pool:
        instrument(pool, provider)
        assert Metrics(reader).value("db.client.connection.idle.max") == 7


async def test_three_acquire_timeouts_count_three(
    redis_server: AnyServer, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    async with make_pool(redis_server, max_connections=1, acquire_timeout=0.05) as pool:
        name = instrument(pool, provider).pool_name
        async with pool.acquire():
            for _ in range(3):
                with pytest.raises(asyncpool.PoolTimeout):
                    await pool.acquire()
        metrics = Metrics(reader)
        assert metrics.value("db.client.connection.timeouts", **{POOL: name}) == 3
        wait = metrics.histogram("db.client.connection.wait_time", **{POOL: name})
        assert wait.count == 4  # the first acquire dialed, then three timed out
        assert wait.sum >= 3 * 0.04  # each waited for its acquire_timeout
        create = metrics.histogram("db.client.connection.create_time", **{POOL: name})
        assert create.count == pool.stats().created_total == 1
        assert create.sum > 0


async def test_use_time_and_operation_duration_per_command(
    pool: asyncpool.Pool, provider: MeterProvider, reader: InMemoryMetricReader, unique_key: str
) -> None:
    redis = asyncpool.Redis(pool=pool)
    instrument(redis, provider)
    await redis.set(unique_key, "value-1")
    for _ in range(4):
        assert await redis.get(unique_key) == b"value-1"
    metrics = Metrics(reader)
    assert metrics.histogram("db.client.connection.use_time").count == 5
    get = metrics.histogram("db.client.operation.duration", db__operation__name="GET")
    assert get.count == 4
    assert 0 < get.min <= get.max < 10
    attrs = attrs_of(get)
    assert attrs == {
        "db.system.name": "redis",
        "db.operation.name": "GET",
        "db.namespace": "0",
        "server.address": pool.connection_options.host,
        "server.port": pool.connection_options.port,
    }
    assert metrics.histogram("db.client.operation.duration", db__operation__name="SET").count == 1


async def test_failed_operations_carry_error_type_and_status_code(
    redis_server: AnyServer, provider: MeterProvider, reader: InMemoryMetricReader, unique_key: str
) -> None:
    async with make_pool(redis_server, max_connections=1, acquire_timeout=0.05) as pool:
        redis = asyncpool.Redis(pool=pool)
        instrument(redis, provider)
        await redis.set(unique_key, "a-string")
        with pytest.raises(asyncpool.WrongTypeError):
            await redis.execute_command("LPUSH", unique_key, "x")
        with pytest.raises(asyncpool.ResponseError):
            await redis.execute_command("INCRBY", unique_key, "not-a-number")
        async with pool.acquire():
            with pytest.raises(asyncpool.PoolTimeout):
                await redis.get(unique_key)
        metrics = Metrics(reader)
        lpush = metrics.histogram("db.client.operation.duration", db__operation__name="LPUSH")
        assert attrs_of(lpush)["error.type"] == "WRONGTYPE"
        assert attrs_of(lpush)["db.response.status_code"] == "WRONGTYPE"
        incr = metrics.histogram("db.client.operation.duration", db__operation__name="INCRBY")
        assert attrs_of(incr)["error.type"] == attrs_of(incr)["db.response.status_code"] == "ERR"
        get = metrics.histogram("db.client.operation.duration", db__operation__name="GET")
        assert attrs_of(get)["error.type"] == "asyncpool.PoolTimeout"
        assert "db.response.status_code" not in attrs_of(get)
        ok = metrics.points("db.client.operation.duration", db__operation__name="SET")
        assert len(ok) == 1
        assert "error.type" not in attrs_of(ok[0])


async def test_operation_names_are_upper_cased_and_odd_ones_hidden(
    pool: asyncpool.Pool, provider: MeterProvider, reader: InMemoryMetricReader, unique_key: str
) -> None:
    redis = asyncpool.Redis(pool=pool)
    instrument(redis, provider)
    await redis.execute_command("set", unique_key, "secret-value")
    await redis.execute_command(b"get", unique_key)
    with pytest.raises(asyncpool.ResponseError):  # Redis echoes the arguments in this error
        await redis.execute_command(f"no such command {unique_key}", "secret-value")
    metrics = Metrics(reader)
    names = {
        attrs_of(p)["db.operation.name"] for p in metrics.points("db.client.operation.duration")
    }
    assert names == {"SET", "GET", "_OTHER"}
    for metric in metrics.by_name.values():
        for point in metric.data.data_points:
            text = repr(attrs_of(point))
            assert unique_key not in text
            assert "secret-value" not in text


async def test_pipelines_are_one_operation(
    pool: asyncpool.Pool, provider: MeterProvider, reader: InMemoryMetricReader, unique_key: str
) -> None:
    redis = asyncpool.Redis(pool=pool)
    instrument(redis, provider)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(unique_key, "1").get(unique_key)
        await pipe.execute()
    metrics = Metrics(reader)
    point = metrics.histogram("db.client.operation.duration", db__operation__name="PIPELINE")
    assert point.count == 1


async def test_command_metrics_off_keeps_pool_metrics(
    pool: asyncpool.Pool, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    redis = asyncpool.Redis(pool=pool)
    instrument(redis, provider, command_metrics=False)
    for _ in range(3):  # a name seen before takes the observer's fast path
        await redis.ping()
    metrics = Metrics(reader)
    assert metrics.points("db.client.operation.duration") == []
    assert metrics.points("db.client.connection.use_time") == []
    assert metrics.histogram("db.client.connection.create_time").count == 1
    assert metrics.value("db.client.connection.count", **{STATE: "idle"}) == 1


# -- several pools, lifecycle ----------------------------------------------------------------


async def test_pools_sharing_a_provider_are_reported_apart(
    redis_server: AnyServer, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    a = make_pool(redis_server, name="a", max_connections=2)
    b = make_pool(redis_server, name="b", max_connections=5, min_idle=1)
    instrument(a, provider)
    instrument(b, provider)
    async with a, b:  # b pre-warms one connection
        await asyncpool.Redis(pool=a).ping()
        metrics = Metrics(reader)
        assert metrics.value("db.client.connection.max", **{POOL: "a"}) == 2
        assert metrics.value("db.client.connection.max", **{POOL: "b"}) == 5
        assert metrics.value("db.client.connection.count", **{POOL: "b", STATE: "idle"}) == 1
        assert metrics.histogram("db.client.connection.create_time", **{POOL: "a"}).count == 1
        assert metrics.histogram("db.client.connection.create_time", **{POOL: "b"}).count == 1
        assert metrics.histogram("db.client.connection.use_time", **{POOL: "a"}).count == 1
        assert metrics.points("db.client.connection.use_time", **{POOL: "b"}) == []


async def test_instrumenting_twice_raises_unless_replacing(
    pool: asyncpool.Pool, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    first = instrument(pool, provider)
    with pytest.raises(asyncpool.ConfigError, match="already instrumented"):
        instrument(pool, provider)
    assert first.active
    second = instrument(pool, provider, replace=True, pool_name="renamed")
    assert not first.active
    assert second.active
    await asyncpool.Redis(pool=pool).ping()
    metrics = Metrics(reader)
    assert [attrs_of(p)[POOL] for p in metrics.points("db.client.connection.max")] == ["renamed"]
    first.uninstrument()  # a stale handle leaves the new one alone
    assert second.active
    assert metrics.histogram("db.client.connection.use_time", **{POOL: "renamed"}).count == 1


async def test_a_foreign_observer_is_not_overwritten_silently(
    pool: asyncpool.Pool, provider: MeterProvider
) -> None:
    class Mine:
        def on_wait(self, pool: asyncpool.Pool, seconds: float) -> None: ...
        def on_acquire_timeout(self, pool: asyncpool.Pool) -> None: ...
        def on_connection_created(self, pool: asyncpool.Pool, seconds: float) -> None: ...
        def on_use(self, pool: asyncpool.Pool, seconds: float) -> None: ...
        def on_operation(self, pool: asyncpool.Pool, *args: Any) -> None: ...

    pool.set_observer(Mine())
    with pytest.raises(asyncpool.ConfigError, match="another PoolObserver"):
        instrument(pool, provider)
    assert instrument(pool, provider, replace=True).active


async def test_uninstrument_stops_everything(
    pool: asyncpool.Pool, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    redis = asyncpool.Redis(pool=pool)
    handle = instrument(redis, provider)
    await redis.ping()
    handle.uninstrument()
    handle.uninstrument()  # idempotent
    assert not handle.active
    await redis.ping()
    metrics = Metrics(reader)
    assert metrics.histogram("db.client.operation.duration").count == 1  # not 2
    assert metrics.points("db.client.connection.count") == []
    assert instrument(redis, provider).active  # may be instrumented again


async def test_a_closed_pool_is_no_longer_reported(
    redis_server: AnyServer, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    pool = make_pool(redis_server)
    instrument(pool, provider)
    await asyncpool.Redis(pool=pool).ping()
    assert Metrics(reader).points("db.client.connection.max") != []
    await pool.close()
    assert Metrics(reader).points("db.client.connection.max") == []


async def test_collection_from_another_thread(
    pool: asyncpool.Pool, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    """A Prometheus scrape runs the callbacks on its HTTP thread."""
    instrument(pool, provider)
    async with pool.acquire():
        metrics = await asyncio.to_thread(Metrics, reader)
    assert metrics.value("db.client.connection.count", **{STATE: "used"}) == 1


def test_instrument_needs_a_pool_or_client() -> None:
    with pytest.raises(TypeError, match="Pool or Redis client"):
        instrument(object())


async def test_prometheus_exposition_uses_the_convention_names(
    pool: asyncpool.Pool,
) -> None:
    prometheus = pytest.importorskip("opentelemetry.exporter.prometheus")
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    provider = MeterProvider(metric_readers=[prometheus.PrometheusMetricReader(registry=registry)])
    try:
        instrument(pool, provider)
        await asyncpool.Redis(pool=pool).ping()
        text = generate_latest(registry).decode()
    finally:
        provider.shutdown()
    assert "db_client_connection_count" in text
    assert 'db_client_connection_state="idle"' in text
    assert "db_client_operation_duration_seconds_bucket" in text
    assert 'db_operation_name="PING"' in text


# -- spans ----------------------------------------------------------------------------------


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(spans: InMemorySpanExporter) -> TracerProvider:
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(spans))
    return tp


async def test_no_spans_by_default(
    pool: asyncpool.Pool,
    provider: MeterProvider,
    tracer_provider: TracerProvider,
    spans: InMemorySpanExporter,
) -> None:
    redis = asyncpool.Redis(pool=pool)
    instrument(redis, provider, tracer_provider)
    await redis.ping()
    assert spans.get_finished_spans() == ()


async def test_a_span_per_command_without_values(
    pool: asyncpool.Pool,
    provider: MeterProvider,
    tracer_provider: TracerProvider,
    spans: InMemorySpanExporter,
    unique_key: str,
) -> None:
    redis = asyncpool.Redis(pool=pool)
    instrument(redis, provider, tracer_provider, trace_commands=True)
    parent_tracer = tracer_provider.get_tracer("test")
    with parent_tracer.start_as_current_span("handler") as parent:
        await redis.set(unique_key, "secret-value")
        assert await redis.get(unique_key) == b"secret-value"
        with pytest.raises(asyncpool.WrongTypeError):
            await redis.execute_command("LPUSH", unique_key, "secret-value")
    with parent_tracer.start_as_current_span("again"):
        for _ in range(3):  # names seen before: still a span for every command
            await redis.get(unique_key)
    finished: tuple[ReadableSpan, ...] = spans.get_finished_spans()
    assert [s.name for s in finished if s.name != "handler"][-4:] == ["GET", "GET", "GET", "again"]
    commands = [s for s in finished if s.name != "handler"][:3]
    assert [s.name for s in commands] == ["SET", "GET", "LPUSH"]
    for span in commands:
        assert span.kind is SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == parent.get_span_context().span_id
        assert span.start_time is not None
        assert span.end_time is not None
        assert 0 < span.end_time - span.start_time < 10 * 10**9
        assert span.attributes is not None
        assert span.attributes["db.system.name"] == "redis"
        assert span.attributes["db.operation.name"] == span.name
        assert span.attributes["server.port"] == pool.connection_options.port
        text = span.to_json()
        assert unique_key not in text
        assert "secret-value" not in text
        assert span.events == ()
    ok, _, failed = commands
    assert ok.status.status_code is StatusCode.UNSET
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "WRONGTYPE"
    assert failed.attributes is not None
    assert failed.attributes["db.response.status_code"] == "WRONGTYPE"


async def test_span_duration_matches_the_metric(
    pool: asyncpool.Pool,
    provider: MeterProvider,
    reader: InMemoryMetricReader,
    tracer_provider: TracerProvider,
    spans: InMemorySpanExporter,
) -> None:
    redis = asyncpool.Redis(pool=pool)
    instrument(redis, provider, tracer_provider, trace_commands=True, command_metrics=True)
    await redis.ping()
    (span,) = spans.get_finished_spans()
    assert span.start_time is not None
    assert span.end_time is not None
    recorded = Metrics(reader).histogram("db.client.operation.duration").sum
    assert abs((span.end_time - span.start_time) / 1e9 - recorded) < 1e-5


async def test_operation_name_cardinality_is_bounded(
    pool: asyncpool.Pool, provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    redis = asyncpool.Redis(pool=pool)
    instrument(redis, provider)
    for i in range(520):  # unknown commands: each an ERR reply
        with pytest.raises(asyncpool.ResponseError):
            await redis.execute_command(f"NOSUCHCMD{i}")
    names = {
        attrs_of(p)["db.operation.name"]
        for p in Metrics(reader).points("db.client.operation.duration")
    }
    assert len(names) == 513
    assert "_OTHER" in names
    assert "NOSUCHCMD0" in names
    assert "NOSUCHCMD519" not in names


# -- bulk hand-over: what the SDK exports equals what was measured ---------------------------


def expected_histogram(values: list[float]) -> dict[str, Any]:
    """What one SDK ``record()`` per value would export, computed here."""
    bounds = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10)
    buckets = [0] * (len(bounds) + 1)
    for v in values:
        buckets[bisect.bisect_left(bounds, v)] += 1
    return {"count": len(values), "sum": sum(values), "min": min(values), "max": max(values),
            "bucket_counts": tuple(buckets)}  # fmt: skip


def exported(point: HistogramDataPoint) -> dict[str, Any]:
    return {"count": point.count, "sum": point.sum, "min": point.min, "max": point.max,
            "bucket_counts": tuple(point.bucket_counts)}  # fmt: skip


def same(got: dict[str, Any], want: dict[str, Any]) -> bool:
    return {k: v for k, v in got.items() if k != "sum"} == {
        k: v for k, v in want.items() if k != "sum"
    } and abs(got["sum"] - want["sum"]) < 1e-9


class _TapList:
    """A batch's pending list that also records what is appended to it."""

    def __init__(self, target: list[float], log: list[float]) -> None:
        self.target, self.log = target, log

    def append(self, value: float) -> None:
        self.log.append(value)
        self.target.append(value)

    def __len__(self) -> int:
        return len(self.target)


class _TapBatch:
    """An observer's batch, its appends recorded (a DurationBatch)."""

    def __init__(self, series: Any, log: list[float]) -> None:
        self.series, self.log = series, log

    @property
    def pending(self) -> _TapList:
        return _TapList(self.series.pending, self.log)  # the list fold() has not replaced yet

    @property
    def fold_at(self) -> int:
        return int(self.series.fold_at)

    def fold(self) -> None:
        self.series.fold()


class _TapBatches(dict[Any, Any]):
    """The observer's own batches by name, each handed out tapped."""

    def __init__(self, real: dict[Any, Any], measured: dict[str, list[float]]) -> None:
        super().__init__()
        self.real, self.measured = real, measured

    def get(self, key: Any, default: Any = None) -> Any:
        series = self.real.get(key)
        return default if series is None else _TapBatch(series, self.measured[str(key)])


@pytest.mark.parametrize("multiplex", [False, True], ids=["exclusive", "shared"])
async def test_recorded_histogram_equals_what_was_measured(
    redis_server: AnyServer, unique_key: str, multiplex: bool
) -> None:
    async with make_pool(redis_server, max_connections=4, max_idle=3, multiplex=multiplex) as pool:
        await _recorded_histogram_equals_what_was_measured(pool, unique_key, multiplex)


async def _recorded_histogram_equals_what_was_measured(
    pool: asyncpool.Pool, unique_key: str, multiplex: bool
) -> None:
    cumulative = InMemoryMetricReader()
    delta = InMemoryMetricReader(preferred_temporality={SdkHistogram: AggregationTemporality.DELTA})
    provider = MeterProvider(metric_readers=[cumulative, delta])
    redis = asyncpool.Redis(pool=pool)
    handle = instrument(redis, provider)
    assert handle._instruments.operation_duration.bulk  # the SDK gets values in bulk
    observer = pool.observer
    assert observer is not None
    measured: dict[str, list[float]] = {"GET": [], "BLPOP": []}
    real, real_command = observer.on_operation, observer.on_command  # type: ignore[attr-defined]

    def spy(p: asyncpool.Pool, args: Any, seconds: float, error: BaseException | None) -> None:
        measured[str(args[0])].append(seconds)
        real(p, args, seconds, error)

    def spy_command(p: asyncpool.Pool, args: Any, seconds: float, error: Any) -> None:
        measured[str(args[0])].append(seconds)
        observer.on_operation = real  # type: ignore[method-assign]  # its fallback: not twice
        try:
            real_command(p, args, seconds, error)
        finally:
            observer.on_operation = spy  # type: ignore[method-assign]

    observer.on_operation = spy  # type: ignore[method-assign]
    observer.on_command = spy_command  # type: ignore[attr-defined]
    # the values the executor appends to the observer's batches itself, tapped on their way
    real_batches = observer.operation_batches  # type: ignore[attr-defined]
    observer.operation_batches = _TapBatches(real_batches, measured)  # type: ignore[attr-defined]
    pool.set_observer(observer)  # the pool keeps the one-call method and batches it finds here

    async def phase() -> None:
        await asyncio.gather(*(redis.execute_command("GET", unique_key) for _ in range(40)))
        for _ in range(3):  # ~20 ms each: another bucket
            await redis.execute_command("BLPOP", unique_key + "none", "0.02")

    await phase()
    first = {name: list(values) for name, values in measured.items()}
    Metrics(delta)  # the delta reader starts a new interval
    at_first = Metrics(cumulative)
    for name, values in first.items():
        point = at_first.histogram("db.client.operation.duration", db__operation__name=name)
        assert same(exported(point), expected_histogram(values)), name

    for values in measured.values():
        values.clear()
    await phase()
    second = Metrics(delta)
    at_end = Metrics(cumulative)
    for name, values in measured.items():
        point = second.histogram("db.client.operation.duration", db__operation__name=name)
        assert same(exported(point), expected_histogram(values)), name
        point = at_end.histogram("db.client.operation.duration", db__operation__name=name)
        assert same(exported(point), expected_histogram(first[name] + values)), name
    use_periods = at_end.histogram("db.client.connection.use_time").count
    if multiplex:  # one per shared period (the 40 GETs share a few); the BLPOPs lease their own
        assert 2 * 3 < use_periods < 2 * 43
    else:  # one lease per command
        assert use_periods == 2 * 43
    handle.uninstrument()
    provider.shutdown()


async def test_a_view_makes_every_value_go_through_the_sdk(
    pool: asyncpool.Pool, unique_key: str
) -> None:
    """With a view the SDK may filter or re-aggregate: bulk merging is not used then."""
    reader = InMemoryMetricReader()
    view = View(instrument_name="db.client.connection.use_time", attribute_keys=set())
    provider = MeterProvider(metric_readers=[reader], views=[view])
    redis = asyncpool.Redis(pool=pool)
    handle = instrument(redis, provider)
    assert not handle._instruments.operation_duration.bulk
    for _ in range(5):
        await redis.get(unique_key)
    metrics = Metrics(reader)
    assert metrics.histogram("db.client.operation.duration", db__operation__name="GET").count == 5
    (use,) = metrics.points("db.client.connection.use_time")
    assert use.count == 5
    assert attrs_of(use) == {}  # the view's attribute filter applied
    handle.uninstrument()
    provider.shutdown()
