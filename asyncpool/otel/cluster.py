"""OpenTelemetry metrics for every node pool of a :class:`~asyncpool.RedisCluster`."""

from __future__ import annotations

from typing import Any

from ..cluster import RedisCluster
from . import Instrumentation, instrument

__all__ = ["instrument_cluster"]


def instrument_cluster(cluster: RedisCluster, **options: Any) -> list[Instrumentation]:
    """:func:`~asyncpool.otel.instrument` each node's pool, including nodes found later.

    Each pool's metrics carry its node in ``server.address`` / ``server.port``
    and ``db.client.connection.pool.name`` (``host:port/0``).  ``options`` go
    to :func:`~asyncpool.otel.instrument` (``meter_provider``, ...; not
    ``pool_name``).  Returns the list of handles, which grows as pools are made.
    """
    if "pool_name" in options:
        raise TypeError("instrument_cluster() names each pool after its node; drop pool_name")
    handles: list[Instrumentation] = []
    cluster.nodes.on_new_pool(lambda pool: handles.append(instrument(pool, **options)))
    cluster._observed = True  # operations (redirects included) are timed per answering node
    return handles
