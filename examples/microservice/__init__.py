"""An example API gateway built on asyncpool: see ``examples/README.md``.

* :func:`create_app` -- the FastAPI gateway (one Redis client per process,
  one httpx pool per process, registry/health/cache/rate limits in Redis);
* :func:`create_upstream` -- a fake upstream service;
* :class:`BackgroundServer` -- serve either with uvicorn inside the running loop.
"""

from .app import Gateway, create_app, open_redis
from .registry import publish_registry
from .serving import BackgroundServer
from .settings import Settings
from .upstream import create_upstream

__all__ = [
    "BackgroundServer",
    "Gateway",
    "Settings",
    "create_app",
    "create_upstream",
    "open_redis",
    "publish_registry",
]
