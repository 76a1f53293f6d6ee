"""Shared mode, a lone caller: sent like an exclusive command until something rides behind it.

When nothing is shared, a shareable command takes an idle connection without
setting it up for sharing (``Sharing.alone``) and its executor hands it back
when the reply arrives.  A command that comes while that reply is owed rides
the same connection and turns it into an ordinary shared one, which then goes
back only when it owes nothing.  Every way the lone caller's wait can end is
here: a reply, a reply with riders behind, a cancel, a timeout, a cut.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import asyncpool
from asyncpool.command import Command
from asyncpool.testing import FaultProxy

from ._sharing import SLOW, make_pool, owed, sharing, slow
from ._util import wait_until


@pytest.fixture
async def shared(redis_server: Any) -> AsyncIterator[asyncpool.Redis]:
    """A client in shared mode with one connection, open and idle."""
    pool = make_pool(redis_server, multiplex=True, max_connections=1, min_idle=1)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await wait_until(lambda: pool.stats().idle == 1, timeout=5, what="the connection")
        yield redis


def the_connection(pool: asyncpool.Pool) -> Any:
    (conn,) = pool._ledger.idle  # the pool's only connection, idle between commands
    return conn


async def test_a_serial_caller_sends_alone_and_hands_its_connection_back(
    shared: asyncpool.Redis, unique_key: str
) -> None:
    pool, policy = shared.pool, sharing(shared)
    await shared.set(unique_key, "v")
    before = policy.stats()
    for _ in range(5):
        assert await shared.get(unique_key) == b"v"
        assert pool.stats().in_use == 0  # back at once, by the caller
        assert policy.stats().shared_connections == 0
        assert policy.alone is None
    after = policy.stats()
    assert after.alone_total == before.alone_total + 5
    assert after.rides_total == before.rides_total + 5  # they count as shared-mode commands
    assert after.busy_rides_total == before.busy_rides_total
    assert after.queued_total == before.queued_total  # never through the pool's checkout
    # never set up for sharing: nothing to call back when it drains
    assert the_connection(pool).protocol.on_drained is None
    assert pool.stats().created_total == 1


async def test_the_lone_callers_connection_is_shown_while_its_reply_is_owed(
    shared: asyncpool.Redis,
) -> None:
    policy = sharing(shared)
    lone = slow(shared, 100)
    await owed(shared, 1)  # counted in replies_owed although not set up for sharing
    assert policy.alone is not None
    assert policy.stats().shared_connections == 1
    assert shared.pool.stats().in_use == 1
    assert await lone == b"slow"
    assert policy.alone is None
    assert policy.stats().replies_owed == ()


async def test_a_command_riding_behind_a_lone_caller_keeps_the_connection_lent(
    shared: asyncpool.Redis,
) -> None:
    pool, policy = shared.pool, sharing(shared)
    first = slow(shared, 100)
    await owed(shared, 1)
    second = slow(shared, 100)  # the one connection is busy: it rides behind
    await owed(shared, 2)
    assert policy.alone is None  # set up for sharing by the rider
    assert await first == b"slow"
    # the lone caller must not hand it back: the rider's reply is still owed
    assert pool.stats().in_use == 1
    assert policy.stats().replies_owed == (1,)
    assert await second == b"slow"
    await wait_until(lambda: pool.stats().in_use == 0, timeout=5, what="handed back on drain")
    assert policy.stats().busy_rides_total >= 1
    assert pool.stats().created_total == 1


async def test_a_late_lone_caller_does_not_hand_back_a_connection_lent_again(
    shared: asyncpool.Redis, unique_key: str
) -> None:
    """The riders behind a lone caller resume after it has taken the connection alone again.

    All four replies come back in one read: the connection drains and goes back,
    the first caller (woken first) sends its next command alone on it, and only
    then do the riders resume.  None of them may take that for its own ride.
    """
    pool = shared.pool
    await shared.set(unique_key, "v")

    async def twice() -> Any:
        assert await shared.execute_command("EVAL", "return 'first'", 0) == b"first"
        return await shared.execute_command("EVAL", SLOW, 0, 150)  # sent as soon as it wakes

    lone = slow(shared, 100)
    await owed(shared, 1)
    first = asyncio.ensure_future(twice())
    riders = [asyncio.ensure_future(shared.get(unique_key)) for _ in range(3)]
    await owed(shared, 5)
    assert await lone == b"slow"
    assert await asyncio.gather(*riders) == [b"v"] * 3
    await owed(shared, 1)  # only the second command of `first` is owed now
    assert pool.stats().in_use == 1  # still lent to it
    assert await first == b"slow"
    await wait_until(lambda: pool.stats().in_use == 0, timeout=5, what="handed back")
    assert pool.stats().created_total == 1


async def test_a_cancelled_lone_caller_leaves_a_connection_that_comes_back_in_step(
    shared: asyncpool.Redis, unique_key: str
) -> None:
    pool, policy = shared.pool, sharing(shared)
    await shared.set(unique_key, "v")
    doomed = slow(shared, 100)
    await owed(shared, 1)
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    # its reply is still owed: the connection stays lent until it is read and dropped
    assert pool.stats().in_use == 1
    await wait_until(lambda: pool.stats().in_use == 0, timeout=5, what="handed back")
    assert policy.alone is None
    assert await shared.get(unique_key) == b"v"  # not b"slow"
    assert pool.stats().created_total == 1


async def test_a_lone_caller_cancelled_after_its_reply_was_read_hands_the_connection_back(
    shared: asyncpool.Redis,
) -> None:
    """The policy's own calls, in the order a cancel that lands just after the reply makes."""
    pool, policy = shared.pool, sharing(shared)
    ride = policy.ride(Command(("PING",)))
    assert ride is not None
    assert ride is policy.alone
    assert await ride[1] in (True, b"PONG")
    assert pool.stats().in_use == 1  # nobody has handed it back yet
    policy.abandoned(ride, asyncio.CancelledError())
    assert pool.stats().in_use == 0
    assert policy.alone is None
    assert await shared.ping() in (True, b"PONG")
    assert pool.stats().created_total == 1


async def test_a_lone_callers_connection_closed_after_its_reply_gets_no_riders(
    shared: asyncpool.Redis,
) -> None:
    """Closed between its reply and its caller's resumption: the caller still hands it back."""
    pool, policy = shared.pool, sharing(shared)
    ride = policy.ride(Command(("PING",)))
    assert ride is not None
    assert await ride[1] in (True, b"PONG")
    ride[0].close()  # the server hung up before the lone caller resumed
    assert policy.ride(Command(("PING",))) is None  # nothing to ride: it would board
    assert ride is policy.alone  # still the lone caller's to hand back
    policy.finished_alone(ride)
    assert pool.stats().in_use == 0
    assert policy.stats().shared_connections == 0
    assert await shared.ping() in (True, b"PONG")
    assert pool.stats().created_total == 2


async def test_a_lone_callers_timeout_closes_its_connection_and_frees_the_slot(
    redis_server: Any, unique_key: str
) -> None:
    pool = make_pool(redis_server, multiplex=True, max_connections=1, socket_timeout=0.3)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.set(unique_key, "v")
        with pytest.raises(asyncpool.TimeoutError):
            await slow(redis, 600)
        assert pool.stats().in_use == 0
        assert pool.stats().closed_total == 1  # out of step: never reused
        assert sharing(redis).alone is None
        async with asyncpool.Redis(pool=make_pool(redis_server)) as other:
            await other.ping()  # answered once the script has ended
        assert await redis.get(unique_key) == b"v"
        assert pool.stats().created_total == 2


async def test_a_cut_under_a_lone_caller_fails_it_and_frees_the_slot(
    fault_proxy: FaultProxy, unique_key: str
) -> None:
    pool = asyncpool.Pool.from_url(fault_proxy.url, multiplex=True, max_connections=1)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.set(unique_key, "v")
        lone = slow(redis, 300)
        await owed(redis, 1)
        assert fault_proxy.cut() == 1
        with pytest.raises(asyncpool.OutcomeUnknownError, match="EVAL"):
            await lone  # sent: it may have run
        assert pool.stats().in_use == 0
        assert sharing(redis).alone is None
        assert await redis.get(unique_key) == b"v"  # a new connection
