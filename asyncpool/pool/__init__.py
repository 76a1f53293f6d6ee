"""The connection pool layer: :class:`Pool` and what it hands out."""

from .dialing import Dialer, DialTarget
from .lease import AcquireContext, PooledConnection
from .observer import (
    BatchingObserver,
    CommandObserver,
    DurationBatch,
    ObservedPool,
    PoolObserver,
)
from .pool import Hook, Pool
from .stats import PoolStats

__all__ = [
    "AcquireContext",
    "BatchingObserver",
    "CommandObserver",
    "DialTarget",
    "Dialer",
    "DurationBatch",
    "Hook",
    "ObservedPool",
    "Pool",
    "PoolObserver",
    "PoolStats",
    "PooledConnection",
]
