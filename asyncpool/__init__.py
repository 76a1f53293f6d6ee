"""asyncpool: an asyncio-native Redis client built around its connection pool.

::

    import asyncpool

    async with asyncpool.Redis.from_url("redis://localhost:6379/0") as redis:
        await redis.set("greeting", "hello")
        print(await redis.get("greeting"))
"""

import logging as _std_logging
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from . import errors as _errors
from .client import (
    CacheConfig,
    CacheStats,
    ClientCache,
    Lock,
    PinnedConnection,
    Pipeline,
    PubSub,
    PubSubMessage,
    Redis,
    Retry,
    Script,
)
from .connection import Connection, ConnectionInfo
from .errors import *  # noqa: F403  (every error is public; the list lives in errors.py)
from .options import ConnectionOptions, PoolOptions, ReplyLimits
from .pool import (
    BatchingObserver,
    CommandObserver,
    DurationBatch,
    Pool,
    PooledConnection,
    PoolObserver,
    PoolStats,
)
from .sentinel import Sentinel

__version__ = "0.1.0"

# A library leaves output to the application: without logging configured, nothing is printed
# (Python's last-resort handler would otherwise write every WARNING to stderr).
_std_logging.getLogger("asyncpool").addHandler(_std_logging.NullHandler())

__all__ = [
    "BatchingObserver",
    "CacheConfig",
    "CacheStats",
    "ClientCache",
    "ClusterPipeline",
    "CommandObserver",
    "Connection",
    "ConnectionInfo",
    "ConnectionOptions",
    "DurationBatch",
    "Lock",
    "PinnedConnection",
    "Pipeline",
    "Pool",
    "PoolObserver",
    "PoolOptions",
    "PoolStats",
    "PooledConnection",
    "PubSub",
    "PubSubMessage",
    "Redis",
    "RedisCluster",
    "ReplyLimits",
    "Retry",
    "Script",
    "Sentinel",
    "__version__",
    *_errors.__all__,
]


if _TYPE_CHECKING:
    from .cluster import ClusterPipeline, RedisCluster


def __getattr__(name: str) -> _Any:
    # The cluster package (and its command table) loads on first use, so that
    # ``import asyncpool`` stays as quick as before for single-server users.
    if name in ("RedisCluster", "ClusterPipeline"):
        from . import cluster

        return getattr(cluster, name)
    raise AttributeError(f"module 'asyncpool' has no attribute {name!r}")
