"""asyncpool: an asyncio-native Redis client built around its connection pool.

::

    import asyncpool

    async with asyncpool.Redis.from_url("redis://localhost:6379/0") as redis:
        await redis.set("greeting", "hello")
        print(await redis.get("greeting"))
"""

from . import errors as _errors
from .client import Lock, PinnedConnection, Pipeline, PubSub, PubSubMessage, Redis, Retry, Script
from .connection import Connection, ConnectionInfo
from .errors import *  # noqa: F403  (every error is public; the list lives in errors.py)
from .options import ConnectionOptions, PoolOptions, ReplyLimits
from .pool import Pool, PooledConnection, PoolObserver, PoolStats

__version__ = "0.1.0"

__all__ = [
    "Connection",
    "ConnectionInfo",
    "ConnectionOptions",
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
    "ReplyLimits",
    "Retry",
    "Script",
    "__version__",
    *_errors.__all__,
]
