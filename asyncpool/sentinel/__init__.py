"""Redis Sentinel: clients that follow a service's primary (and replicas) across failovers.

:class:`Sentinel` asks the sentinels where a service's primary is
(``SENTINEL MASTER``, each sentinel in turn, passing over one that lags), hands out
:class:`~asyncpool.Redis` clients whose pools dial there, checks each new
connection with ``ROLE``, and learns of failovers from ``+switch-master``
events (with a slow poll behind them).  See docs/sentinel.md.
"""

from .client import Sentinel, SentinelExecutor, SentinelRedis, SentinelStats
from .nodes import Address
from .service import Failover, Service
from .url import SentinelURL, parse_sentinel_url, redact_sentinel_url

__all__ = [
    "Address",
    "Failover",
    "Sentinel",
    "SentinelExecutor",
    "SentinelRedis",
    "SentinelStats",
    "SentinelURL",
    "Service",
    "parse_sentinel_url",
    "redact_sentinel_url",
]
