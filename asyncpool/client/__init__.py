"""The client layer: :class:`Redis`, command methods, pipelines, pub/sub, scripts."""

from .redis import PinnedConnection, Redis
from .retry import Retry

__all__ = ["PinnedConnection", "Redis", "Retry"]
