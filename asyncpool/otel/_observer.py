"""The :class:`~asyncpool.PoolObserver` that feeds OpenTelemetry instruments and spans.

Every method is called by the pool or the client executor on the event loop
thread.  Attribute dictionaries are built once and reused; a method never
raises (a failing SDK must not fail a Redis command).

Only the command *name* (``args[0]``) is ever read from a command: keys,
values and passwords stay out of metrics and spans.  Error *messages* stay out
too (Redis echoes arguments in some of them); only error types are recorded.
"""

from __future__ import annotations

import re
import time
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from ..command import Command
from ..errors import ResponseError, WatchError
from ..pool import ObservedPool, Pool
from . import _semconv as sc
from ._bulk import FOLD, DirectSeries, Series
from ._instruments import Instruments

__all__ = ["OtelObserver", "error_attributes", "operation_attributes"]

#: What a Redis command name looks like; anything else is reported as ``_OTHER``.
_COMMAND_NAME = re.compile(r"[A-Z][A-Z0-9_.-]{0,63}")
#: Distinct operation names kept per pool before new ones become ``_OTHER``.
_MAX_OPERATION_NAMES = 512
#: Distinct (operation, error) attribute sets kept per pool; more are recorded directly.
_MAX_ERROR_SERIES = 1024
_error_types: dict[type[BaseException], str] = {}
_NAME_TYPES = (str, bytes)


def operation_attributes(pool: Pool) -> dict[str, Any]:
    """The attributes every operation on ``pool`` carries (server, namespace)."""
    copts = pool.connection_options
    attrs: dict[str, Any] = {
        sc.DB_SYSTEM_NAME: sc.DB_SYSTEM_REDIS,
        sc.DB_NAMESPACE: str(copts.db),
    }
    if copts.path:
        attrs[sc.SERVER_ADDRESS] = copts.path
    else:
        attrs[sc.SERVER_ADDRESS] = copts.host
        attrs[sc.SERVER_PORT] = copts.port
    return attrs


def error_type(exc: BaseException) -> str:
    """``error.type`` of an exception: its canonical (public) class name."""
    cls = type(exc)
    found = _error_types.get(cls)
    if found is None:
        module = cls.__module__
        if module.startswith("asyncpool."):
            module = "asyncpool"  # every error is exported from the package root
        found = cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"
        _error_types[cls] = found
    return found


def error_attributes(exc: BaseException) -> dict[str, Any]:
    """``error.type`` and, for a Redis error reply, ``db.response.status_code``.

    An error reply's type is its prefix (``WRONGTYPE``, ``ERR`` ...), as the
    Redis conventions ask; every other failure uses :func:`error_type`.
    """
    if isinstance(exc, ResponseError) and not isinstance(exc, WatchError):
        return {sc.ERROR_TYPE: exc.code, sc.DB_RESPONSE_STATUS_CODE: exc.code}
    return {sc.ERROR_TYPE: error_type(exc)}


class OtelObserver:
    """Records one pool's timings into the shared :class:`Instruments`.

    Each attribute set has a series (see :mod:`asyncpool.otel._bulk`) made
    on first use and cached: a timing costs a bucket increment, not an SDK call.
    """

    def __init__(
        self,
        instruments: Instruments,
        pool_name: str,
        operation_attrs: dict[str, Any],
        tracer: Tracer | None,
        command_metrics: bool = True,
    ) -> None:
        self._command_metrics = command_metrics
        self._pool_attrs: dict[str, Any] = {sc.POOL_NAME: pool_name}
        self._operation_attrs = operation_attrs
        self._by_name: dict[Any, tuple[dict[str, Any], Series | DirectSeries]] = {}
        #: Series by raw command name, for the successful commands of a pool
        #: without spans: one dictionary lookup and one append.  The executor
        #: appends to them itself (:class:`~asyncpool.BatchingObserver`); only
        #: a name's first command comes through :meth:`on_operation`.
        self.operation_batches: dict[Any, Series] = {}
        self._by_error: dict[tuple[str, str, Any], Series | DirectSeries] = {}
        self._tracer = tracer
        self._instruments = instruments
        self._duration = instruments.operation_duration
        self._wait_time = instruments.wait_time.series(self._pool_attrs)
        self._use_time = instruments.use_time.series(self._pool_attrs)
        #: The same, when :meth:`on_command` may append to it directly.
        self._use_series = (
            self._use_time if command_metrics and isinstance(self._use_time, Series) else None
        )
        self._create_time = instruments.create_time.series(self._pool_attrs)
        self._timeouts = instruments.timeouts
        self._other: tuple[dict[str, Any], Series | DirectSeries] | None = None

    # -- pool timings ---------------------------------------------------------------
    def on_wait(self, pool: ObservedPool, seconds: float) -> None:
        """Record a queued caller's wait."""
        try:
            self._wait_time.add(seconds)
        except Exception:  # pragma: no cover - a broken SDK must not break the pool
            pass

    def on_acquire_timeout(self, pool: ObservedPool) -> None:
        """Count an acquire timeout."""
        try:
            self._timeouts.add(1, self._pool_attrs)
        except Exception:  # pragma: no cover
            pass

    def on_connection_created(self, pool: ObservedPool, seconds: float) -> None:
        """Record how long a new connection took to open."""
        try:
            self._create_time.add(seconds)
        except Exception:  # pragma: no cover
            pass

    def on_use(self, pool: ObservedPool, seconds: float) -> None:
        """Record how long a connection was lent."""
        if not self._command_metrics:
            return
        try:
            self._use_time.add(seconds)
        except Exception:  # pragma: no cover
            pass

    # -- operations -------------------------------------------------------------------
    def on_command(
        self, pool: ObservedPool, command: Command, seconds: float, error: BaseException | None
    ) -> None:
        """:meth:`on_operation` and :meth:`on_use` of the same ``seconds``, in one call.

        The executor's fast path: a command that held one connection for all of its run.
        """
        use = self._use_series
        if error is None and use is not None:
            try:  # on_operation's fast path, then the lease's
                fast = self.operation_batches[command.args[0]]
            except Exception:
                pass
            else:  # Series.add twice, inlined: this runs once per command
                pending = fast.pending
                pending.append(seconds)
                if len(pending) >= FOLD:
                    fast.fold()
                pending = use.pending
                pending.append(seconds)
                if len(pending) >= FOLD:
                    use.fold()
                return
        self.on_operation(pool, command, seconds, error)
        self.on_use(pool, seconds)

    def on_operation(
        self, pool: ObservedPool, command: Command, seconds: float, error: BaseException | None
    ) -> None:
        """Record a command's duration (and its span when tracing is on)."""
        if error is None:
            try:  # the hot path: a name seen before, metrics only, no error
                fast = self.operation_batches[command.args[0]]
            except Exception:  # new name, no args, unhashable name
                pass
            else:  # Series.add, inlined: this runs once per command
                pending = fast.pending
                pending.append(seconds)
                if len(pending) >= FOLD:
                    fast.fold()
                return
        if not self._command_metrics and self._tracer is None:
            return
        try:
            key = command.args[0] if command.args else None
            found = self._by_name.get(key) if key.__class__ in _NAME_TYPES else None
            if found is None:
                found = self._series_for(key, command)
            attrs, series = found
            if error is not None:
                attrs, series = self._error_series(attrs, error)
            if self._command_metrics:
                series.add(seconds)
            if self._tracer is not None:
                self._span(attrs, seconds, error)
        except Exception:  # pragma: no cover
            pass

    def _series_for(
        self, key: Any, command: Command
    ) -> tuple[dict[str, Any], Series | DirectSeries]:
        """Attributes and series for a command name not seen before (cached, up to a bound)."""
        name = command.name
        if not _COMMAND_NAME.fullmatch(name) or len(self._by_name) >= _MAX_OPERATION_NAMES:
            # odd names, and names past the bound (keeps the cardinality bounded)
            if self._other is None:
                attrs = {**self._operation_attrs, sc.DB_OPERATION_NAME: sc.OTHER}
                self._other = (attrs, self._duration.series(attrs))
            return self._other
        attrs = {**self._operation_attrs, sc.DB_OPERATION_NAME: name}
        found = (attrs, self._duration.series(attrs))
        if key.__class__ in _NAME_TYPES:
            self._by_name[key] = found
            if self._command_metrics and self._tracer is None and isinstance(found[1], Series):
                self.operation_batches[key] = found[1]
        return found

    def _error_series(
        self, attrs: dict[str, Any], error: BaseException
    ) -> tuple[dict[str, Any], Series | DirectSeries]:
        extra = error_attributes(error)
        key = (
            attrs[sc.DB_OPERATION_NAME],
            extra[sc.ERROR_TYPE],
            extra.get(sc.DB_RESPONSE_STATUS_CODE),
        )
        attrs = {**attrs, **extra}
        series = self._by_error.get(key)
        if series is None:
            if len(self._by_error) >= _MAX_ERROR_SERIES:
                return attrs, DirectSeries(self._duration.instrument, attrs)
            series = self._by_error[key] = self._duration.series(attrs)
        return attrs, series

    def _span(self, attrs: dict[str, Any], seconds: float, error: BaseException | None) -> None:
        """A CLIENT span after the fact, with the operation's real start and end."""
        assert self._tracer is not None
        end = time.time_ns()
        span = self._tracer.start_span(
            attrs[sc.DB_OPERATION_NAME],
            kind=SpanKind.CLIENT,
            attributes=attrs,
            start_time=end - int(seconds * 1e9),
        )
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, attrs[sc.ERROR_TYPE]))
        span.end(end_time=end)
