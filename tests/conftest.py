"""Shared fixtures for asyncpool's own tests.

Real-server fixtures (``redis_server``, ``private_redis_server``,
``fault_proxy``, ...) come from :mod:`asyncpool.testing.pytest_plugin`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import asyncpool

from ._util import MULTIPLEX_OVERRIDE, override_multiplex_default

pytest_plugins = ["asyncpool.testing.pytest_plugin"]

if MULTIPLEX_OVERRIDE is not None:  # see tests/_util.py
    override_multiplex_default(MULTIPLEX_OVERRIDE not in ("0", "false", "off"))


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request: pytest.FixtureRequest) -> int:
    """The RESP protocol version to test under; a test using it runs once for each."""
    version: int = request.param
    return version


@pytest.fixture
def unique_key(request: pytest.FixtureRequest) -> str:
    """A key prefix no other test (or run) uses: ``test:<test name>:<random>:``."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    return f"test:{name}:{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def r(redis_url: str, protocol: int) -> AsyncIterator[asyncpool.Redis]:
    """A client on the session server, under the ``protocol`` being tested."""
    async with asyncpool.Redis.from_url(redis_url, protocol=protocol) as client:
        yield client


@pytest.fixture
async def rd(redis_url: str, protocol: int) -> AsyncIterator[asyncpool.Redis]:
    """Like ``r`` with ``decode_responses=True``."""
    async with asyncpool.Redis.from_url(
        redis_url, protocol=protocol, decode_responses=True
    ) as client:
        yield client


@pytest.fixture(params=[False, True], ids=["bytes", "str"])
async def client(
    redis_url: str, protocol: int, request: pytest.FixtureRequest
) -> AsyncIterator[asyncpool.Redis]:
    """A client under each protocol, with and without ``decode_responses`` (four runs)."""
    async with asyncpool.Redis.from_url(
        redis_url, protocol=protocol, decode_responses=request.param
    ) as c:
        yield c


@pytest.fixture(autouse=True)
def _pool_invariants(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """After every test, each pool it made has consistent bookkeeping (``Pool.check_invariants``).

    ``total <= max_connections`` and every connection in exactly one place,
    always; a closed pool with every lease back must also have nothing in flight.
    """
    made: list[asyncpool.Pool] = []
    init, close = asyncpool.Pool.__init__, asyncpool.Pool.close

    def recording(self: asyncpool.Pool, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(self)

    async def checked_close(self: asyncpool.Pool, *args: Any, **kwargs: Any) -> None:
        self.check_invariants()  # the state the test left, before closing tidies it
        await close(self, *args, **kwargs)

    monkeypatch.setattr(asyncpool.Pool, "__init__", recording)
    monkeypatch.setattr(asyncpool.Pool, "close", checked_close)
    yield
    for pool in made:
        pool.check_invariants(settled=pool.closed and not pool.stats().in_use)
