"""asyncpool: an asyncio-native Redis client built around its connection pool.

::

    import asyncpool

    async with asyncpool.Redis.from_url("redis://localhost:6379/0") as redis:
        await redis.set("greeting", "hello")
        print(await redis.get("greeting"))
"""

from .client import PinnedConnection, Pipeline, PubSub, PubSubMessage, Redis, Retry, Script
from .connection import Connection, ConnectionInfo
from .errors import (
    AskError,
    AuthenticationError,
    BusyError,
    BusyLoadingError,
    ClusterDownError,
    ConfigError,
    ConnectionError,
    CrossSlotError,
    DecodeError,
    ExecAbortError,
    InvalidURL,
    MovedError,
    NoPermissionError,
    NoScriptError,
    OutcomeUnknownError,
    OutOfMemoryError,
    PoolClosed,
    PoolTimeout,
    ProtocolError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TimeoutError,
    TryAgainError,
    WatchError,
    WrongTypeError,
)
from .options import ConnectionOptions, PoolOptions, ReplyLimits
from .pool import Pool, PooledConnection, PoolObserver, PoolStats

__version__ = "0.1.0"

__all__ = [
    "AskError",
    "AuthenticationError",
    "BusyError",
    "BusyLoadingError",
    "ClusterDownError",
    "ConfigError",
    "Connection",
    "ConnectionError",
    "ConnectionInfo",
    "ConnectionOptions",
    "CrossSlotError",
    "DecodeError",
    "ExecAbortError",
    "InvalidURL",
    "MovedError",
    "NoPermissionError",
    "NoScriptError",
    "OutOfMemoryError",
    "OutcomeUnknownError",
    "PinnedConnection",
    "Pipeline",
    "Pool",
    "PoolClosed",
    "PoolObserver",
    "PoolOptions",
    "PoolStats",
    "PoolTimeout",
    "PooledConnection",
    "ProtocolError",
    "PubSub",
    "PubSubMessage",
    "ReadOnlyError",
    "Redis",
    "RedisError",
    "ReplyLimits",
    "ResponseError",
    "Retry",
    "Script",
    "TimeoutError",
    "TryAgainError",
    "WatchError",
    "WrongTypeError",
    "__version__",
]
