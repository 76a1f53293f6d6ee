"""What a pool's observer is told: each command once, each lease once, from the same clock.

A plain command lent a connection at once is timed by the executor alone: the
pool leaves that lease untimed (``try_lend(timed=False)``) and the executor
reports its use time with the command's own duration, in one call to an
observer that has ``on_command`` or as ``on_operation`` plus ``on_use`` to one
that has not.  A lease that ends before the command does (a retry, a
redirect) is reported when it ends; later leases are timed by their pool.
These are the exclusive mode's leases (``multiplex=False``); a shared
connection's use is one period from its first command to its last reply.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import asyncpool
from asyncpool.command import Command
from asyncpool.connection import Connection

from .test_executor import RedirectingExecutor


class Recorder:
    """A :class:`~asyncpool.PoolObserver` without ``on_command``: what it hears, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_wait(self, pool: Any, seconds: float) -> None:
        pass

    def on_acquire_timeout(self, pool: Any) -> None:
        pass

    def on_connection_created(self, pool: Any, seconds: float) -> None:
        pass

    def on_use(self, pool: Any, seconds: float) -> None:
        self.events.append(("use", seconds))

    def on_operation(
        self, pool: Any, command: Command, seconds: float, error: BaseException | None
    ) -> None:
        self.events.append(("operation", command.name, seconds, error))


class OneCallRecorder(Recorder):
    """The same, with the optional one-call method."""

    def on_command(
        self, pool: Any, command: Command, seconds: float, error: BaseException | None
    ) -> None:
        self.events.append(("command", command.name, seconds, error))


def _kinds(events: list[tuple[Any, ...]]) -> list[str]:
    return [event[0] for event in events]


@pytest.mark.parametrize("observer_class", [Recorder, OneCallRecorder])
async def test_each_command_and_each_lease_is_reported_once(
    redis_server: Any, unique_key: str, observer_class: type[Recorder]
) -> None:
    observer = observer_class()
    async with asyncpool.Pool(
        host=redis_server.host, port=redis_server.port, multiplex=False
    ) as pool:
        pool.set_observer(observer)
        redis = asyncpool.Redis(pool=pool)
        await redis.ping()  # dials: a lease the pool times, then the operation
        assert _kinds(observer.events) == ["use", "operation"]
        observer.events.clear()
        for _ in range(5):
            assert await redis.get(unique_key) is None
        with pytest.raises(asyncpool.ResponseError):
            await redis.execute_command("NOSUCHCOMMAND")
        events = observer.events
        if observer_class is OneCallRecorder:
            assert _kinds(events) == ["command"] * 6
            assert [e[1] for e in events] == ["GET"] * 5 + ["NOSUCHCOMMAND"]
            assert isinstance(events[-1][3], asyncpool.ResponseError)
        else:  # the lease's use time is the command's duration, reported right after it
            assert _kinds(events) == ["operation", "use"] * 6
            for operation, use in zip(events[::2], events[1::2], strict=True):
                assert use[1] == operation[2] > 0
        assert pool.stats().in_use == 0


async def test_a_retried_command_reports_both_leases(fault_proxy: Any, unique_key: str) -> None:
    observer = OneCallRecorder()
    async with asyncpool.Pool(
        host=fault_proxy.host, port=fault_proxy.port, multiplex=False
    ) as pool:
        pool.set_observer(observer)
        redis = asyncpool.Redis(pool=pool)
        await redis.ping()
        observer.events.clear()
        fault_proxy.cut_after_request(once=True)  # the GET reaches the server, its reply never
        assert await redis.get(unique_key) is None  # GET is safe to repeat: retried
        events = observer.events
        # the first lease, reported when it ended; the second, timed by the pool; the command
        assert _kinds(events) == ["use", "use", "operation"]
        assert events[-1][1:] == ("GET", events[-1][2], None)
        assert 0 < events[0][1] <= events[-1][2]
        assert 0 < events[1][1] <= events[-1][2]
        assert pool.stats().in_use == 0


def _home_and_away(server: Any) -> tuple[asyncpool.Pool, asyncpool.Pool]:
    """Two exclusive-mode pools on one server, db 0 and db 1: a redirect's two lenders."""
    home, away = (
        asyncpool.Pool(host=server.host, port=server.port, db=db, multiplex=False) for db in (0, 1)
    )
    return home, away


async def test_a_redirected_command_reports_the_lease_it_left(
    redis_server: Any, unique_key: str
) -> None:
    home_observer, away_observer = Recorder(), Recorder()
    home, away = _home_and_away(redis_server)
    async with home, away:
        await asyncpool.Redis(pool=home).lpush(unique_key, "x")  # GET on it: WRONGTYPE
        await asyncpool.Redis(pool=away).set(unique_key, "in-db-1")
        home.set_observer(home_observer)
        away.set_observer(away_observer)
        executor = RedirectingExecutor(home, away, Command(("PING",)))
        assert await asyncpool.Redis(executor=executor).get(unique_key) == b"in-db-1"
        # home: its lease, reported at the redirect, then the whole command
        assert _kinds(home_observer.events) == ["use", "operation"]
        assert home_observer.events[0][1] <= home_observer.events[1][2]
        # away: the lease the command moved to, timed by that pool
        assert _kinds(away_observer.events) == ["use"]


class PlainLender:
    """A lender of the documented protocol only: ``try_lend()`` takes no argument."""

    def __init__(self, pool: asyncpool.Pool) -> None:
        self.pool = pool
        self.lent = 0

    def try_lend(self) -> Connection | None:
        conn = self.pool.try_lend()
        self.lent += conn is not None
        return conn

    async def lend(self) -> Connection:
        self.lent += 1
        return await self.pool.lend()

    def give_back(self, conn: Connection) -> None:
        self.pool.give_back(conn)

    async def release(self, conn: Connection) -> None:
        await self.pool.release(conn)


async def test_an_observed_command_redirected_to_any_lender_runs_there(
    redis_server: Any, unique_key: str
) -> None:
    home, away = _home_and_away(redis_server)
    async with home, away:
        await asyncpool.Redis(pool=home).lpush(unique_key, "x")  # GET on it: WRONGTYPE
        await asyncpool.Redis(pool=away).set(unique_key, "in-db-1")
        observer = Recorder()
        home.set_observer(observer)
        lender = PlainLender(away)
        executor = RedirectingExecutor(home, away, Command(("PING",)))
        executor.away = lender  # type: ignore[assignment]
        assert await asyncpool.Redis(executor=executor).get(unique_key) == b"in-db-1"
        assert lender.lent == 1
        assert _kinds(observer.events) == ["use", "operation"]


class RecordingBatch:
    """A :class:`~asyncpool.DurationBatch` that keeps what it folds."""

    fold_at = 4

    def __init__(self) -> None:
        self.pending: list[float] = []
        self.folded: list[float] = []
        self.folds = 0

    def fold(self) -> None:
        self.folded += self.pending
        self.pending = []
        self.folds += 1


class BatchingRecorder(Recorder):
    """A :class:`~asyncpool.BatchingObserver` with a batch for GET only."""

    def __init__(self) -> None:
        super().__init__()
        self.get_batch = RecordingBatch()
        self.operation_batches = {"GET": self.get_batch}


@pytest.mark.parametrize("multiplex", [False, True], ids=["exclusive", "shared"])
async def test_a_batching_observer_gets_successful_commands_appended_not_called(
    redis_server: Any, unique_key: str, multiplex: bool
) -> None:
    observer = BatchingRecorder()
    pool = asyncpool.Pool(host=redis_server.host, port=redis_server.port, multiplex=multiplex)
    async with pool:
        pool.set_observer(observer)
        redis = asyncpool.Redis(pool=pool)
        await redis.ping()  # dials first
        observer.events.clear()
        started = time.perf_counter()
        for _ in range(10):
            assert await redis.get(unique_key) is None
        elapsed = time.perf_counter() - started
        await redis.rpush(unique_key + ":list", "x")  # a name without a batch
        with pytest.raises(asyncpool.ResponseError):  # a failed GET: the observer's own call
            await redis.get(unique_key + ":list")
        await redis.delete(unique_key + ":list")
    batch = observer.get_batch
    assert batch.folds == 2  # at 4 and at 8
    assert len(batch.folded) == 8
    assert len(batch.pending) == 2
    assert all(0 < seconds <= elapsed for seconds in batch.folded + batch.pending)
    operations = [(e[1], type(e[3])) for e in observer.events if e[0] == "operation"]
    assert operations[:2] == [("RPUSH", type(None)), ("GET", asyncpool.WrongTypeError)]
    if not multiplex:  # each lease still reported once, batched command or not
        assert _kinds(observer.events).count("use") == 13
