"""Connection and pool options, validated once at construction.

These dataclasses are the single place where option names, defaults and their
reasons live.  :mod:`asyncpool.url` fills them from a URL; the pool and the
connection read them.  Passwords are kept out of ``repr``.
"""

from __future__ import annotations

import dataclasses
import ssl
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ConfigError

__all__ = ["ClientOptions", "ConnectionOptions", "ParserKind", "PoolOptions", "ReplyLimits"]

ParserKind = Literal["auto", "hiredis", "python"]


@dataclass(frozen=True)
class ReplyLimits:
    """Upper bounds on what a single reply may announce in its headers.

    A header over a limit raises :class:`~asyncpool.ProtocolError` before
    anything of that size is allocated, and the connection is discarded.
    """

    #: Largest bulk string accepted (Redis' own proto-max-bulk-len default: 512 MiB).
    max_bulk_length: int = 512 * 1024 * 1024
    #: Most elements in one array, set, map or push (a map counts its pairs twice).
    max_aggregate_length: int = 2**32 - 1
    #: Deepest nesting of aggregates (Redis never nests replies this deep).
    max_depth: int = 64

    def __post_init__(self) -> None:
        for name in ("max_bulk_length", "max_aggregate_length", "max_depth"):
            _check_int(name, getattr(self, name))
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer")


def _positive_or_none(name: str, value: float | None) -> None:
    if value is not None and (not _is_number(value) or not value > 0):
        raise ConfigError(f"{name} must be a positive number of seconds or None, got {value!r}")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_int(name: str, value: object) -> None:
    """A wrongly typed count is named, not left to a ``TypeError`` from a comparison."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{name} must be an integer, got {value!r}")


def _int_from_text(options: object, name: str) -> None:
    """Accept a numeric string (ports and databases often come from the environment)."""
    value = getattr(options, name)
    if isinstance(value, str) and value.strip().isdigit():
        object.__setattr__(options, name, int(value))
    elif not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{name} must be an integer or a numeric string, got {value!r}")


@dataclass(frozen=True)
class ConnectionOptions:
    """How to reach one Redis server and what to set up on each new connection."""

    host: str = "127.0.0.1"
    port: int = 6379
    #: Unix socket path; when set, ``host`` and ``port`` are ignored.
    path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: ``None`` for plain TCP; an :class:`ssl.SSLContext` for TLS (``rediss://``).
    ssl: ssl.SSLContext | None = field(default=None, repr=False)
    #: Host name checked against the server certificate (defaults to ``host``).
    ssl_server_hostname: str | None = None
    #: 3 sends ``HELLO 3`` and falls back to RESP2 when the server lacks HELLO.
    protocol: Literal[2, 3] = 3
    client_name: str | None = None
    #: Seconds to open the socket and finish the handshake.  10 s covers a
    #: slow TLS handshake across regions without hiding a dead host for long.
    connect_timeout: float | None = 10.0
    #: Seconds to wait for each reply; ``None`` waits forever.  Blocking
    #: commands extend it by their own timeout argument.
    socket_timeout: float | None = None
    #: TCP keepalive, so a peer that vanished is noticed by the kernel.
    keepalive: bool = True
    #: Send CLIENT SETINFO lib-name/lib-ver (ignored by servers before 7.2).
    set_lib_info: bool = True
    parser: ParserKind = "auto"
    limits: ReplyLimits = field(default_factory=ReplyLimits)
    #: Return bulk strings as ``str`` decoded with ``encoding`` instead of bytes.
    decode_responses: bool = False
    encoding: str = "utf-8"
    encoding_errors: str = "strict"

    def __post_init__(self) -> None:
        _int_from_text(self, "port")
        _int_from_text(self, "db")
        if self.path is None:
            if not self.host:
                raise ConfigError("host must not be empty")
            if not 0 < self.port < 65536:
                raise ConfigError(f"port must be 1-65535, got {self.port!r}")
        if self.db < 0:
            raise ConfigError(f"db must be >= 0, got {self.db!r}")
        if self.protocol not in (2, 3):
            raise ConfigError(f"protocol must be 2 or 3, got {self.protocol!r}")
        if self.parser not in ("auto", "hiredis", "python"):
            raise ConfigError(f"parser must be 'auto', 'hiredis' or 'python', got {self.parser!r}")
        _positive_or_none("connect_timeout", self.connect_timeout)
        _positive_or_none("socket_timeout", self.socket_timeout)

    @property
    def address(self) -> str:
        """``host:port/db`` (or ``unix:path/db``): a name for logs and metrics, no secrets."""
        where = f"unix:{self.path}" if self.path else f"{self._host_for_url()}:{self.port}"
        return f"{where}/{self.db}"

    def _host_for_url(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    def replace(self, **changes: Any) -> ConnectionOptions:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class PoolOptions:
    """How many connections a :class:`~asyncpool.Pool` keeps and how it tends them.

    Every default is documented in docs/configuration.md with its reason.
    """

    #: Hard bound on open connections, counting those being dialed.  50 serves
    #: ~30k ops/s at 1 ms round trips (Little's law) while staying far below
    #: Redis' default maxclients of 10000 with many processes.
    max_connections: int = 50
    #: Idle connections kept open and refilled in the background.  0 keeps a
    #: quiet process from holding sockets it does not use.
    min_idle: int = 0
    #: Idle connections above this are closed on release (None: no cap).
    max_idle: int | None = None
    #: Idle connections unused this long are closed, down to ``min_idle``.
    #: 300 s stays under common load-balancer idle cut-offs (350 s on AWS NLB).
    idle_timeout: float | None = 300.0
    #: Connections are retired after this age (+-10 % jitter), never while lent.
    max_lifetime: float | None = 3600.0
    #: Seconds a caller waits for a connection before :class:`PoolTimeout`.
    #: 10 s: long enough for a burst to clear, short enough to surface overload.
    acquire_timeout: float | None = 10.0
    #: The background task PINGs connections idle this long (seconds); ``None``
    #: or ``0`` (redis-py's "off") turns background checks off.
    health_check_interval: float | None = 30.0
    #: A connection idle longer than this gets a PING before it is lent.
    borrow_check_after: float | None = 5.0
    #: Seconds to read and drop replies owed by a cancelled caller before the
    #: connection is closed instead.
    drain_timeout: float = 1.0
    #: Attempts to dial a connection before acquire fails with the last error.
    dial_attempts: int = 3
    #: First back-off between dial attempts; doubles each time, with jitter.
    dial_backoff: float = 0.05
    dial_backoff_max: float = 2.0
    #: Consecutive failed dials that open the circuit breaker; while open,
    #: acquire fails fast and one background probe waits for the server.
    breaker_threshold: int = 5
    #: Reuse the most recently used idle connection (warm, lets others expire).
    lifo: bool = True
    #: Log a warning with the acquiring stack when a lent connection is held
    #: longer than this many seconds (None: off).
    leak_threshold: float | None = None
    #: Name used in logs, stats and metrics; default ``host:port/db``.
    name: str | None = None
    #: Shared-connection mode: a command that neither blocks nor changes
    #: connection state holds its connection only for the write and rides a
    #: busy one instead of queueing (see docs/sharing.md).  On by default: it
    #: is several times faster under load and as fast for a lone caller
    #: (docs/benchmarks.md); ``False`` gives every command a connection of its own.
    multiplex: bool = True
    #: In shared mode, most replies one connection may owe before a command
    #: looks elsewhere (or queues); it bounds head-of-line waits behind a slow
    #: command.  128 keeps a busy connection's pipeline deep enough to batch.
    max_in_flight: int = 128

    def __post_init__(self) -> None:
        for name in ("max_connections", "min_idle", "dial_attempts", "breaker_threshold"):
            _check_int(name, getattr(self, name))
        if self.max_idle is not None:
            _check_int("max_idle", self.max_idle)
        for name in ("drain_timeout", "dial_backoff", "dial_backoff_max"):
            value = getattr(self, name)
            if not _is_number(value):
                raise ConfigError(f"{name} must be a number of seconds, got {value!r}")
        if _is_number(self.health_check_interval) and self.health_check_interval == 0:
            object.__setattr__(self, "health_check_interval", None)  # 0 is "off", as in redis-py
        if self.max_connections < 1:
            raise ConfigError(f"max_connections must be >= 1, got {self.max_connections!r}")
        if not 0 <= self.min_idle <= self.max_connections:
            raise ConfigError(
                f"min_idle must be between 0 and max_connections ({self.max_connections}), "
                f"got {self.min_idle!r}"
            )
        if self.max_idle is not None and self.max_idle < self.min_idle:
            raise ConfigError(f"max_idle ({self.max_idle}) must be >= min_idle ({self.min_idle})")
        for name in (
            "idle_timeout",
            "max_lifetime",
            "acquire_timeout",
            "health_check_interval",
            "borrow_check_after",
            "leak_threshold",
        ):
            _positive_or_none(name, getattr(self, name))
        if not self.drain_timeout > 0:
            raise ConfigError("drain_timeout must be > 0")
        if self.dial_attempts < 1:
            raise ConfigError("dial_attempts must be >= 1")
        if self.dial_backoff < 0 or self.dial_backoff_max < self.dial_backoff:
            raise ConfigError("dial_backoff must be >= 0 and <= dial_backoff_max")
        if self.breaker_threshold < 1:
            raise ConfigError("breaker_threshold must be >= 1")
        if self.max_in_flight < 1:
            raise ConfigError(f"max_in_flight must be >= 1, got {self.max_in_flight!r}")

    def replace(self, **changes: Any) -> PoolOptions:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ClientOptions:
    """The client-level options a URL or ``Redis(...)`` may carry (the retry policy's).

    ``None`` leaves the :class:`~asyncpool.Retry` default.  Only their names and
    types live here; the client folds them into its ``Retry``.
    """

    #: Retries after the first try (``Retry.attempts - 1``).
    retries: int | None = None
    #: Overall seconds for one call, retries included.
    deadline: float | None = None
    #: Retry a retry-safe command after a socket timeout.
    retry_on_timeout: bool | None = None


CONNECTION_FIELDS = frozenset(f.name for f in dataclasses.fields(ConnectionOptions))
POOL_FIELDS = frozenset(f.name for f in dataclasses.fields(PoolOptions))
#: Option names for the client itself, shared by :mod:`asyncpool.url` and ``Redis``.
CLIENT_FIELDS = frozenset(f.name for f in dataclasses.fields(ClientOptions))
#: The client-side cache's option names (``?cache=true&cache_max_entries=...``),
#: converted by :meth:`asyncpool.client.cache_config.CacheConfig.from_params`.
CACHE_FIELDS = frozenset(
    {
        "cache",
        "cache_max_entries",
        "cache_max_bytes",
        "cache_ttl",
        "cache_commands",
        "cache_prefixes",
        "cache_health_check_interval",
    }
)
