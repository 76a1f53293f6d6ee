"""Small helpers shared by asyncpool's own tests."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import asyncpool

#: ``ASYNCPOOL_TEST_MULTIPLEX=0`` runs the suite with ``PoolOptions.multiplex``
#: defaulting to ``False`` (every test that does not choose a mode then runs in
#: the exclusive mode); CI does that for one of its Redis versions, so both modes
#: get the whole suite.  Unset: the shipped default.
MULTIPLEX_OVERRIDE = os.environ.get("ASYNCPOOL_TEST_MULTIPLEX")
needs_shipped_defaults = pytest.mark.skipif(
    MULTIPLEX_OVERRIDE is not None, reason="ASYNCPOOL_TEST_MULTIPLEX overrides a default"
)


def override_multiplex_default(value: bool) -> None:
    """Make ``value`` the default of ``PoolOptions.multiplex`` (this process only)."""
    init = asyncpool.PoolOptions.__init__
    with_defaults = [f.name for f in dataclasses.fields(asyncpool.PoolOptions) if f.init]
    defaults = list(init.__defaults__ or ())
    names = with_defaults[len(with_defaults) - len(defaults) :]
    defaults[names.index("multiplex")] = value
    init.__defaults__ = tuple(defaults)
    assert asyncpool.PoolOptions().multiplex is value


#: Every byte value, plus a CRLF: binary data that must round-trip unchanged.
ALL_BYTES = bytes(range(256)) + b"\r\n"


async def wait_until(
    predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Poll ``predicate`` (state outside our control, e.g. the server's) until true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


def make_pool(server: Any, **options: Any) -> asyncpool.Pool:
    """A pool on a harness server (or fault proxy): its host, port and password."""
    return asyncpool.Pool(
        host=server.host, port=server.port, password=getattr(server, "password", None), **options
    )


async def client_ids(pool: asyncpool.Pool, n: int) -> set[int]:
    """Borrow ``n`` connections at once and return their server-side client ids."""
    leases = [await pool.acquire() for _ in range(n)]
    try:
        return {await lease.execute_command("CLIENT", "ID") for lease in leases}
    finally:
        for lease in leases:
            await lease.release()


async def client_info(other: asyncpool.Redis, client_id: int) -> dict[str, str]:
    """How the *server* sees one client (``CLIENT LIST ID``), read over another connection."""
    listing = await other.execute_command("CLIENT", "LIST", "ID", client_id)
    text = listing.decode() if isinstance(listing, bytes) else str(listing)
    line = text.strip()
    assert line, f"client {client_id} is not connected"
    return dict(field.split("=", 1) for field in line.split(" "))


async def blocked_clients(other: asyncpool.Redis) -> int:
    """How many clients the server holds blocked (BLPOP, XREAD BLOCK ...)."""
    info = await other.execute_command("INFO", "clients")
    text = info.decode() if isinstance(info, bytes) else str(info)
    for line in text.splitlines():
        if line.startswith("blocked_clients:"):
            return int(line.split(":")[1])
    raise AssertionError("INFO clients has no blocked_clients line")


async def wait_until_async(
    predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Like :func:`wait_until` for a condition that needs a round trip (the server's state)."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)
