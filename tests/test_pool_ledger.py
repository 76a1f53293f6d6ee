"""The pool's bookkeeping object and its invariant check (run after every test by conftest)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import asyncpool
from asyncpool.options import ConnectionOptions
from asyncpool.pool.ledger import InvariantError, Ledger


def _conn() -> asyncpool.Connection:
    return asyncpool.Connection(ConnectionOptions())


def test_a_consistent_ledger_passes() -> None:
    ledger = Ledger(3)
    a, b = _conn(), _conn()
    for _ in range(3):
        ledger.reserve()
    ledger.idle.append(a)
    ledger.lent[b] = None
    ledger.dialing = 1
    ledger.check()
    assert ledger.reserved == 1
    with pytest.raises(InvariantError, match="still reserved"):
        ledger.check(settled=True)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("over_max", "outside 0..max"),
        ("idle_twice", "idle twice"),
        ("idle_and_lent", "both idle and lent"),
        ("lent_and_transit", "both lent and in transit"),
        ("unreserved_dial", "dial"),
    ],
)
def test_each_broken_invariant_is_reported(breakage: str, message: str) -> None:
    ledger = Ledger(2)
    conn = _conn()
    ledger.reserve()
    if breakage == "over_max":
        ledger.reserve()
        ledger.reserve()
    elif breakage == "idle_twice":
        ledger.reserve()
        ledger.idle.extend([conn, conn])
    elif breakage == "idle_and_lent":
        ledger.reserve()
        ledger.idle.append(conn)
        ledger.lent[conn] = None
    elif breakage == "lent_and_transit":
        ledger.reserve()
        ledger.lent[conn] = None
        ledger.transit.add(conn)
    else:
        ledger.dialing = 2
    with pytest.raises(InvariantError, match=message):
        ledger.check()


async def test_a_busy_pool_keeps_its_books(redis_server: Any) -> None:
    pool = asyncpool.Pool(host=redis_server.host, port=redis_server.port, max_connections=3)
    redis = asyncpool.Redis(pool=pool)
    async with pool:

        async def work(i: int) -> None:
            for _ in range(20):
                await redis.incr(f"ledger:{i % 5}")
                pool.check_invariants()  # at any step of the loop, not only at rest

        await asyncio.gather(*(work(i) for i in range(12)))
        assert pool.stats().total <= 3
    pool.check_invariants(settled=True)
    assert pool.stats().total == 0
