"""The client layer: :class:`Redis`, command methods, pipelines, pub/sub, scripts."""

from .cache import CacheStats, ClientCache
from .cache_config import CacheConfig
from .lock import Lock
from .pipeline import Pipeline
from .pubsub import RECONNECTED, PubSub, PubSubMessage
from .redis import PinnedConnection, Redis
from .retry import Retry
from .script import Script

__all__ = [
    "RECONNECTED",
    "CacheConfig",
    "CacheStats",
    "ClientCache",
    "Lock",
    "PinnedConnection",
    "Pipeline",
    "PubSub",
    "PubSubMessage",
    "Redis",
    "Retry",
    "Script",
]
