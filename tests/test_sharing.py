"""Shared-connection mode (``multiplex=True``): every invariant, tested in that mode.

A busy Lua script (it spins on TIME) keeps replies owed for a known time, so
commands can be caught riding a connection behind it.  It blocks the whole
server while it runs, which is what lets a test look at the in-flight state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import asyncpool
from asyncpool._compat import timeout as compat_timeout
from asyncpool.client.executing import Operation, Redirect
from asyncpool.client.executor import PoolExecutor
from asyncpool.command import Command
from asyncpool.errors import RedisError
from asyncpool.pool.sharing import shareable_name
from asyncpool.testing import FaultProxy

from ._sharing import SLOW, make_pool, owed, sharing, slow
from ._util import needs_shipped_defaults, wait_until


@pytest.fixture
async def shared(redis_server: Any) -> AsyncIterator[asyncpool.Redis]:
    """A client in shared mode with one connection."""
    pool = make_pool(redis_server, multiplex=True, max_connections=1)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        yield redis


# -- which commands share -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["BLPOP", "BRPOP", "XREAD", "WAIT", "MULTI", "EXEC", "WATCH", "SELECT", "SUBSCRIBE",
     "PSUBSCRIBE", "SSUBSCRIBE", "CLIENT", "MONITOR", "HELLO", "AUTH", "RESET", "QUIT",
     "SCRIPT", "FUNCTION"],
)  # fmt: skip
def test_commands_that_must_not_share(name: str) -> None:
    assert not shareable_name(name)


async def test_plain_commands_share_and_names_compare_case_insensitively(
    shared: asyncpool.Redis, unique_key: str
) -> None:
    # the executor's rule: a plain Command rides unless its name is exclusive
    for args in (("GET", "k"), (b"set", "k", "v"), ("Incr", "n"), ("EVAL", "return 1", 0)):
        assert not Command(args).info.exclusive, args
    for args in (("Select", 1), (b"multi",), ("bLpOp", "k", 0), ("client", "reply", "off")):
        assert Command(args).info.exclusive, args
    assert not Command((bytearray(b"GET"), "k")).info.exclusive  # classified like "GET"
    rides = sharing(shared).stats().rides_total
    await shared.execute_command("GET", unique_key)
    assert sharing(shared).stats().rides_total == rides + 1
    await shared.execute_command("GET", unique_key, timeout=1.0)  # own deadline: exclusive
    assert sharing(shared).stats().rides_total == rides + 1


@needs_shipped_defaults
def test_shared_mode_is_the_default() -> None:
    assert asyncpool.PoolOptions().multiplex is True
    assert asyncpool.Pool().sharing is not None
    assert asyncpool.Redis.from_url("redis://h/0").pool.sharing is not None


def test_options_keyword_url_and_validation(redis_server: Any) -> None:
    assert asyncpool.Pool(multiplex=False).sharing is None
    assert asyncpool.Redis.from_url("redis://h/0?multiplex=false").pool.sharing is None
    pool = asyncpool.Pool.from_url("redis://127.0.0.1:6379/0?multiplex=true&max_in_flight=8")
    assert pool.options.multiplex is True
    assert pool.sharing is not None
    assert pool.sharing.stats().max_in_flight == 8
    assert asyncpool.Pool(multiplex=True).options.max_in_flight == 128
    assert asyncpool.Pool.from_url("redis://h/0?multiplex=off").sharing is None
    with pytest.raises(asyncpool.ConfigError, match="max_in_flight"):
        asyncpool.Pool(multiplex=True, max_in_flight=0)
    with pytest.raises(asyncpool.InvalidURL):
        asyncpool.Pool.from_url("redis://h/0?multiplex=maybe")


# -- invariant 1: a reply never reaches the wrong caller ------------------------------------


async def test_commands_ride_one_connection_and_get_their_own_replies(
    shared: asyncpool.Redis, unique_key: str
) -> None:
    keys = [f"{unique_key}{i}" for i in range(50)]
    for key in keys:
        await shared.set(key, key)
    blocker = slow(shared, 100)
    gets = [asyncio.ensure_future(shared.get(key)) for key in keys]
    await owed(shared, 51)  # all 51 on the one connection at once
    assert sharing(shared).stats().shared_connections == 1
    assert await blocker == b"slow"
    assert await asyncio.gather(*gets) == [key.encode() for key in keys]
    stats = sharing(shared).stats()
    assert stats.busy_rides_total >= 50  # they rode a connection that owed replies
    assert shared.pool.stats().created_total == 1


async def test_a_cancelled_riders_reply_is_dropped_not_delivered(
    shared: asyncpool.Redis, unique_key: str
) -> None:
    await shared.set(unique_key + "a", "A")
    await shared.set(unique_key + "b", "B")
    blocker = slow(shared, 150)
    doomed = asyncio.ensure_future(shared.get(unique_key + "a"))
    after = asyncio.ensure_future(shared.get(unique_key + "b"))
    await owed(shared, 3)
    doomed.cancel()
    assert await blocker == b"slow"
    assert await after == b"B"  # not "A", the departed caller's reply
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert await shared.get(unique_key + "a") == b"A"  # still in step
    assert shared.pool.stats().created_total == 1  # no new connection for the cancel


async def test_when_the_last_rider_leaves_the_connection_still_comes_back(
    shared: asyncpool.Redis, unique_key: str
) -> None:
    doomed = slow(shared, 100)  # nobody rides behind it: no later rider hands it back
    await owed(shared, 1)
    doomed.cancel()
    pool = shared.pool
    await wait_until(lambda: pool.stats().in_use == 0, timeout=5, what="connection handed back")
    assert pool.stats().idle == 1
    assert sharing(shared).stats().shared_connections == 0
    async with pool.acquire() as lease:  # in step: an exclusive caller gets a clean one
        assert lease.info().pending_replies == 0
        assert await lease.execute_command("PING") in (True, b"PONG")
    assert pool.stats().created_total == 1


async def test_a_cut_under_departed_riders_still_hands_the_connection_back(
    fault_proxy: FaultProxy,
) -> None:
    """Every rider left before the cut: no rider is there to see the error and hand it back."""
    pool = asyncpool.Pool.from_url(fault_proxy.url, multiplex=True, max_connections=1)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        doomed = slow(redis, 300)
        await owed(redis, 1)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        assert fault_proxy.cut() == 1
        await wait_until(lambda: pool.stats().in_use == 0, timeout=5, what="connection back")
        assert sharing(redis).stats().shared_connections == 0
        assert await redis.ping() in (True, b"PONG")  # the slot is free for a new connection


# -- invariant 4/5: a broken connection fails every rider, each under its retry rule --------


async def test_a_cut_fails_every_rider_and_only_safe_commands_are_retried(
    fault_proxy: FaultProxy, unique_key: str
) -> None:
    pool = asyncpool.Pool.from_url(fault_proxy.url, multiplex=True, max_connections=1)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.set(unique_key, "v")
        blocker = slow(redis, 300)
        get = asyncio.ensure_future(redis.get(unique_key))
        incr = asyncio.ensure_future(redis.incr(unique_key + "n"))
        await owed(redis, 3)
        assert fault_proxy.cut() == 1
        assert await get == b"v"  # safe: retried on a new connection
        with pytest.raises(asyncpool.OutcomeUnknownError, match="INCR"):
            await incr
        with pytest.raises(asyncpool.OutcomeUnknownError, match="EVAL"):
            await blocker
        await wait_until(lambda: pool.stats().in_use == 0, timeout=5, what="pool settled")
        assert pool.stats().total <= 1
        assert await redis.get(unique_key) == b"v"


async def test_a_timed_out_reply_closes_the_connection_under_every_rider(
    redis_server: Any, unique_key: str
) -> None:
    pool = make_pool(redis_server, multiplex=True, max_connections=1, socket_timeout=0.4)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.set(unique_key, "v")
        blocker = slow(redis, 600)  # times out at 0.4 s; the server is busy until 0.6 s
        await owed(redis, 1)
        # a gap (not a synchronisation): the riders' own deadlines fall after the blocker's
        await asyncio.sleep(0.15)
        get = asyncio.ensure_future(redis.get(unique_key))
        incr = asyncio.ensure_future(redis.incr(unique_key + "n"))
        await owed(redis, 3)
        with pytest.raises(asyncpool.TimeoutError):
            await blocker
        with pytest.raises(asyncpool.OutcomeUnknownError, match="INCR"):
            await incr  # sent on the connection that was closed under it
        assert await get == b"v"  # safe: retried on a new connection
        assert pool.stats().closed_total >= 1
        assert pool.stats().created_total == 2


# -- invariant 2 and the bound ------------------------------------------------------------------


async def test_the_bound_holds_and_nothing_leaks_under_load(
    redis_server: Any, unique_key: str
) -> None:
    pool = make_pool(redis_server, multiplex=True, max_connections=3, max_in_flight=16)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.set(unique_key, "v")
        most = 0
        running = True

        async def sample() -> None:
            nonlocal most
            while running:
                most = max(most, pool.stats().total)
                assert max(sharing(redis).stats().replies_owed, default=0) <= 16
                await asyncio.sleep(0)

        async def worker() -> None:
            for _ in range(20):
                assert await redis.get(unique_key) == b"v"

        sampler = asyncio.ensure_future(sample())
        await asyncio.gather(*(worker() for _ in range(200)))
        running = False
        await sampler
        assert 1 <= most <= 3
        stats = sharing(redis).stats()
        assert stats.rides_total == 200 * 20 + 1  # and the SET
        assert stats.busy_rides_total > 0
        await wait_until(lambda: pool.stats().in_use == 0, timeout=5, what="all handed back")
        assert sharing(redis).stats().shared_connections == 0


async def test_head_of_line_waits_are_bounded_by_max_in_flight(
    redis_server: Any, unique_key: str
) -> None:
    # pre-warmed: the busy script would hold up the handshake of a new connection
    pool = make_pool(redis_server, multiplex=True, max_connections=4, max_in_flight=3, min_idle=4)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.set(unique_key, "v")
        blocker = slow(redis, 200)
        gets = [asyncio.ensure_future(redis.get(unique_key)) for _ in range(9)]
        await owed(redis, 10)
        by_connection = {info.id: info.pending_replies for info in pool.connections()}
        assert max(by_connection.values()) <= 3  # at most 2 wait behind the slow one
        assert pool.stats().total == 4
        assert await blocker == b"slow"
        assert await asyncio.gather(*gets) == [b"v"] * 9


# -- exclusive users: leases, state changes, blocking commands -------------------------------


async def test_a_lease_never_shares_and_waits_for_a_drained_connection(
    shared: asyncpool.Redis, unique_key: str
) -> None:
    await shared.set(unique_key, "v")
    blocker = slow(shared, 100)
    rider = asyncio.ensure_future(shared.get(unique_key))
    await owed(shared, 2)
    async with shared.connection() as pinned:
        assert blocker.done()  # handed over only once drained
        assert rider.done()
        assert pinned.lease.info().pending_replies == 0
        assert sharing(shared).stats().shared_connections == 0
        await pinned.execute_command("SELECT", 1)
        waiting = asyncio.ensure_future(shared.get(unique_key))
        done, _ = await asyncio.wait([waiting], timeout=0.1)
        assert not done  # it does not ride the pinned (exclusive) connection
    assert await waiting == b"v"  # db 0 again: the lease was reset before reuse
    assert await rider == b"v"


async def test_blocking_and_state_changing_commands_keep_a_connection_to_themselves(
    redis_server: Any, unique_key: str
) -> None:
    pool = make_pool(redis_server, multiplex=True, max_connections=2)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.set(unique_key, "v")
        queue = unique_key + "list"
        blpop = asyncio.ensure_future(redis.blpop([queue], timeout=60))
        await wait_until(lambda: pool.stats().in_use == 1, timeout=5, what="BLPOP lent")
        for _ in range(20):  # never queued behind the BLPOP, which waits for a minute
            assert await asyncio.wait_for(redis.get(unique_key), 10) == b"v"
        assert not blpop.done()
        assert await redis.rpush(queue, "x") == 1  # on the other connection too
        assert await asyncio.wait_for(blpop, 10) == (queue.encode(), b"x")
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(unique_key + "n").get(unique_key)
            assert await pipe.execute() == [1, b"v"]


async def test_queued_exclusive_callers_are_not_starved_by_riders(
    redis_server: Any, unique_key: str
) -> None:
    # one connection: riders must let it drain for the lease, or it never would
    pool = make_pool(redis_server, multiplex=True, max_connections=1, acquire_timeout=3)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.set(unique_key, "v")
        running = True

        async def rider() -> None:
            while running:
                await redis.get(unique_key)

        riders = [asyncio.ensure_future(rider()) for _ in range(40)]
        await wait_until(lambda: sharing(redis).stats().rides_total > 500, what="riding")
        try:
            for _ in range(3):
                async with pool.acquire() as lease:  # PoolTimeout if starved
                    assert lease.info().pending_replies == 0
        finally:
            running = False
            await asyncio.gather(*riders)


async def test_close_waits_for_riders_then_closes_everything(
    redis_server: Any, unique_key: str
) -> None:
    pool = make_pool(redis_server, multiplex=True, max_connections=1)
    redis = asyncpool.Redis(pool=pool)
    await redis.set(unique_key, "v")
    blocker = slow(redis, 100)
    get = asyncio.ensure_future(redis.get(unique_key))
    await owed(redis, 2)
    await pool.close()
    assert await blocker == b"slow"
    assert await get == b"v"
    assert pool.stats().total == 0
    with pytest.raises(asyncpool.PoolClosed):
        await redis.get(unique_key)


async def test_an_expired_connection_gets_no_new_riders(redis_server: Any, unique_key: str) -> None:
    """After ``expire_all`` (say a failover) a busy shared connection takes no new riders.

    Otherwise, under continuous load, it would never drain and never be closed.
    """
    pool = make_pool(redis_server, multiplex=True, max_connections=2)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.set(unique_key, "v")
        blocker = slow(redis, 150)
        await owed(redis, 1)
        (old,) = pool.connections()
        pool.expire_all()
        get = asyncio.ensure_future(redis.get(unique_key))
        await asyncio.sleep(0)  # let it choose a connection (the dial then waits)
        assert [c.pending_replies for c in pool.connections() if c.id == old.id] == [1]
        assert await blocker == b"slow"
        assert await get == b"v"
        await wait_until(
            lambda: old.id not in {c.id for c in pool.connections()},
            timeout=5,
            what="the expired connection closed",
        )


async def test_a_connection_past_its_lifetime_gets_no_new_riders(
    redis_server: Any, unique_key: str
) -> None:
    """A busy shared connection past ``max_lifetime`` takes at most 63 more riders.

    The lifetime is read every 64th ride (a clock read per ride costs 1 % of a
    shared GET); without the check, under load it would never drain and retire.
    """
    pool = make_pool(redis_server, multiplex=True, max_connections=2, max_lifetime=3600)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.set(unique_key, "v")
        blocker = slow(redis, 200)
        first = asyncio.ensure_future(redis.get(unique_key))  # rides: the connection is shared
        await owed(redis, 2)
        (old,) = pool.connections()
        shared = sharing(redis)._last
        assert shared is not None
        assert shared.id == old.id
        shared.retire_at = 0.0  # its lifetime is over
        gets = [asyncio.ensure_future(redis.get(unique_key)) for _ in range(100)]
        await asyncio.sleep(0)  # let each choose a connection (a dial then waits)
        assert 2 <= shared.pending_replies <= 2 + 63
        assert await blocker == b"slow"
        assert await asyncio.gather(first, *gets) == [b"v"] * 101
        await wait_until(
            lambda: old.id not in {c.id for c in pool.connections()},
            timeout=5,
            what="the retired connection closed",
        )


async def test_script_kill_does_not_queue_behind_the_script_it_kills(
    private_redis_server: Any,
) -> None:
    """A KILL riding the busy script's connection would wait for the script to end."""
    # pre-warmed: the busy script would hold up the handshake of a new connection
    pool = make_pool(private_redis_server, multiplex=True, max_connections=2, min_idle=2)
    async with pool, asyncpool.Redis(pool=pool) as redis:
        await redis.execute_command("CONFIG", "SET", "lua-time-limit", 50)  # BUSY after 50 ms
        blocker = asyncio.ensure_future(redis.execute_command("EVAL", SLOW, 0, 5000))
        await owed(redis, 1)
        async with compat_timeout(3):  # the script would run for 5 s
            while True:
                try:
                    await redis.execute_command("SCRIPT", "KILL")
                    break
                except asyncpool.ResponseError:  # NOTBUSY: the script has not started yet
                    await asyncio.sleep(0.01)
        with pytest.raises(asyncpool.ResponseError):
            await blocker  # killed


class _Redirecting(PoolExecutor):
    """WRONGTYPE on ``home`` -> run again on ``away`` after ``SELECT 2`` (a stand-in for ASK)."""

    def __init__(self, home: asyncpool.Pool, away: asyncpool.Pool) -> None:
        super().__init__(home, asyncpool.Retry())
        self.away = away

    async def _redirect(self, op: Operation, error: RedisError) -> Redirect | None:
        if isinstance(error, asyncpool.ResponseError) and error.code == "WRONGTYPE":
            return Redirect(self.away, Command(("SELECT", 2)))
        return None


async def test_a_redirected_command_leaves_the_shared_path(
    redis_server: Any, unique_key: str
) -> None:
    """After a redirect the command runs on the new lender, prelude first: not shared."""
    home = make_pool(redis_server, multiplex=True)
    away = make_pool(redis_server, multiplex=True, db=1)
    async with home, away:
        await asyncpool.Redis(pool=home).lpush(unique_key, "x")  # GET on it: WRONGTYPE
        async with away.acquire() as lease:
            await lease.execute_command("SELECT", 2)
            await lease.execute_command("SET", unique_key, "in-db-2")
        redis = asyncpool.Redis(executor=_Redirecting(home, away))
        assert await redis.get(unique_key) == b"in-db-2"
        assert home.stats().in_use == away.stats().in_use == 0
