"""Failovers of a real Sentinel group while clients keep working.

Timings measured here (``+switch-master`` to the first successful write,
and the client's own switch time) are printed and recorded as test
properties; they are reported, never asserted beyond generous deadlines.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

import asyncpool
from asyncpool.sentinel import Sentinel
from asyncpool.testing import FaultProxy, RedisServer, SentinelGroup, free_port

TASKS = 50
READERS = 5


@dataclass
class Load:
    """What the writer and reader tasks saw."""

    writes: list[tuple[float, float, str, int]] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    #: (started, key) of writes the old primary took and lost with its demotion.
    lost: list[tuple[float, str]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    reads: list[float] = field(default_factory=list)
    read_errors: list[BaseException] = field(default_factory=list)


class EventClock:
    """The test's own ``+switch-master`` listener on one sentinel: when did it happen?"""

    def __init__(self, sentinel: RedisServer) -> None:
        self._client = asyncpool.Redis(host=sentinel.host, port=sentinel.port, protocol=2)
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        self.at: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._pubsub.subscribe("+switch-master")
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        async for _ in self._pubsub:
            if self.at is None:
                self.at = time.time()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task})
        await self._pubsub.aclose()
        await self._client.aclose()


async def _writer(client: asyncpool.Redis, n: int, stop: asyncio.Event, load: Load) -> None:
    """INCRBY a fresh key by a number naming this task and step, GET it back.

    Both replies must be that number: any other is someone else's reply.
    INCRBY is not safe to repeat, so one in flight when a connection breaks
    raises OutcomeUnknownError instead of being retried.
    """
    j = 0
    while not stop.is_set():
        j += 1
        key = f"failover:{n}:{j}"
        tag = n * 1_000_000 + j
        started = time.time()
        try:
            reply = await client.incrby(key, tag)
            acked = time.time()
            value = await client.get(key)
        except (asyncpool.ConnectionError, asyncpool.TimeoutError, asyncpool.ReadOnlyError) as exc:
            load.errors.append(exc)
            await asyncio.sleep(0.01)
            continue
        if reply != tag:
            load.wrong.append(f"INCRBY {key}: {reply!r}")
        if value is None:
            # the INCRBY went to the old primary after the replica was promoted (async
            # replication loses it), the GET to the new one: allowed only before the
            # client learnt of the switch, which the checks after the run verify
            load.lost.append((started, key))
        elif value != str(tag).encode():
            load.wrong.append(f"{key}: {value!r}")  # not this task's reply: never allowed
        load.writes.append((started, acked, key, j))


async def _reader(client: asyncpool.Redis, key: str, stop: asyncio.Event, load: Load) -> None:
    while not stop.is_set():
        try:
            value = await client.get(key)
        except (asyncpool.ConnectionError, asyncpool.TimeoutError) as exc:
            load.read_errors.append(exc)
            await asyncio.sleep(0.01)
            continue
        if value != b"replicated":
            load.wrong.append(f"replica read of {key}: {value!r}")
        load.reads.append(time.time())
        await asyncio.sleep(0.002)


async def _wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout}s"
        await asyncio.sleep(0.01)


def _missing_on(server: RedisServer, keys: list[str]) -> list[str]:
    missing = []
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        values = server.command("MGET", *chunk, timeout=10)
        assert isinstance(values, list)
        missing += [k for k, v in zip(chunk, values, strict=True) if v is None]
    return missing


def _report(record_property: Callable[[str, object], None], name: str, value: float) -> None:
    record_property(name, round(value, 4))
    print(f"\n[sentinel timing] {name}: {value:.4f}s")


async def _run_load_through(
    group: SentinelGroup,
    trigger: Callable[[], None],
    record_property: Callable[[str, object], None],
    prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> Load:
    old = group.primary
    clock = EventClock(group.sentinels[-1])
    await clock.start()
    async with Sentinel(group.sentinel_addresses) as sentinel:
        primary = sentinel.master_for("mymaster", max_connections=TASKS, socket_timeout=5)
        replica = sentinel.replica_for("mymaster", socket_timeout=5)
        await primary.set(f"{prefix}:replicated", "replicated")
        await primary.execute_command("WAIT", 1, 5000)
        assert await primary.ping()
        await _wait_for(lambda: len(sentinel.stats().subscribed) == 3, 10, "subscriptions")
        stop = asyncio.Event()
        load = Load()
        tasks = [asyncio.ensure_future(_writer(primary, n, stop, load)) for n in range(TASKS)]
        tasks += [
            asyncio.ensure_future(_reader(replica, f"{prefix}:replicated", stop, load))
            for _ in range(READERS)
        ]
        try:
            await _wait_for(lambda: len(load.writes) > 200, 20, "writes before the failover")
            with caplog.at_level(logging.WARNING, logger="asyncpool.sentinel"):
                kicked = time.time()
                await asyncio.to_thread(trigger)
                await _wait_for(lambda: sentinel.failovers(), 30, "the client seeing a failover")
                failover = sentinel.failovers()[0]
                # keep the load on for two seconds after the switch
                await _wait_for(
                    lambda: (
                        time.time() > failover.detected_at + 2
                        and sum(1 for w in load.writes if w[0] > failover.detected_at) > 500
                    ),
                    30,
                    "writes after the switch",
                )
        finally:
            stop.set()
            await asyncio.gather(*tasks)
        new = group.server_at(*failover.new)
        assert new is not old
        assert failover.old == (old.host, old.port)
        assert failover.source == "+switch-master"
        assert failover.switch_seconds is not None
        assert any("failed over from" in r.getMessage() for r in caplog.records)
        assert sentinel.stats().primaries["mymaster"] == f"{new.host}:{new.port}"
        # every connection to the old primary was closed: idle ones at once, lent ones on return
        addresses = {c.address for c in primary.pool.connections()}
        assert addresses == {f"{new.host}:{new.port}/0"}

    await clock.aclose()
    assert clock.at is not None
    assert load.wrong == []  # zero wrong replies, primary and replica
    late = [key for started, key in load.lost if started > failover.detected_at]
    assert late == [], "writes begun after the switch went to the old primary"
    after = [w for w in load.writes if w[0] > failover.detected_at]
    missing = _missing_on(new, [w[2] for w in after])
    assert missing == [], f"{len(missing)} writes after the switch are not on the new primary"
    event = min(clock.at, failover.detected_at)  # the first sentinel to publish it
    first_ok = min(w[1] for w in after if w[0] >= event)
    _report(record_property, "trigger_to_switch_master_event", event - kicked)
    _report(record_property, "switch_master_event_to_first_write", first_ok - event)
    _report(record_property, "client_switch_seconds", failover.switch_seconds)
    _report(record_property, "client_detection_lag", failover.detected_at - clock.at)
    print(
        f"[sentinel load] writes={len(load.writes)} errors={len(load.errors)}"
        f" lost_before_switch={len(load.lost)} reads={len(load.reads)}"
        f" read_errors={len(load.read_errors)}"
    )
    assert first_ok - event < 5  # a functional deadline; the goal is well under 1 s
    # replica reads kept working: reads succeeded all through, no long gap
    window = [t for t in load.reads if kicked <= t <= failover.detected_at + 2]
    assert window, "no replica read succeeded around the failover"
    gaps = [b - a for a, b in itertools.pairwise(window)]
    assert max(gaps, default=0) < 3
    assert [t for t in load.reads if t > failover.detected_at + 1]
    return load


async def test_sentinel_failover_under_load(
    sentinel_group: SentinelGroup,
    record_property: Callable[[str, object], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SENTINEL FAILOVER while 50 tasks write and read: nothing lost after the switch."""
    group = sentinel_group
    service = group.service_name
    await _run_load_through(
        group,
        lambda: _force_failover(group, service),
        record_property,
        "forced",
        caplog,
    )
    await asyncio.to_thread(group.wait_settled)


def _force_failover(group: SentinelGroup, service: str) -> None:
    reply = group.sentinels[0].command("SENTINEL", "FAILOVER", service)
    assert reply == "OK", reply


async def test_readonly_from_a_demoted_primary_rediscovers(
    sentinel_group_factory: Callable[..., SentinelGroup], unique_key: str
) -> None:
    """A primary demoted behind the client's back answers READONLY: ask again, run it there.

    A Sentinel failover kills the clients of the servers it reconfigures (the
    ROLE check then finds the demotion); a demotion by hand does not, which
    leaves an open connection to a replica.  Its own group: this one's
    sentinels are re-pointed by hand.
    """
    group = sentinel_group_factory()
    old, new = group.primary, group.replicas[0]
    async with Sentinel(group.sentinel_addresses, watch=False, poll_interval=None) as sentinel:
        primary = sentinel.master_for("mymaster")
        await primary.set(unique_key, "before")
        assert primary.pool.stats().idle == 1  # open to the old primary, and stays open
        assert new.command("REPLICAOF", "NO", "ONE") == "OK"
        assert old.command("REPLICAOF", new.host, str(new.port)) == "OK"
        for s in group.sentinels:
            assert s.command("SENTINEL", "REMOVE", "mymaster") == "OK"
            assert s.command("SENTINEL", "MONITOR", "mymaster", new.host, new.port, 2) == "OK"
        assert group.role(old) == "slave"
        await primary.set(unique_key, "after")  # READONLY, rediscovered, run once more
        assert new.command("GET", unique_key) == b"after"
        (failover,) = sentinel.failovers()
        assert failover.source == "readonly"
        assert (failover.old, failover.new) == ((old.host, old.port), (new.host, new.port))
        assert failover.switch_seconds is not None
        # demoted again, but now the sentinels still name it: READONLY is the answer
        assert primary.pool.stats().idle == 1  # open to `new`
        assert old.command("REPLICAOF", "NO", "ONE") == "OK"
        assert new.command("REPLICAOF", old.host, str(old.port)) == "OK"
        with pytest.raises(asyncpool.ReadOnlyError):
            await primary.set(unique_key, "refused")
        assert primary.pool.stats().idle == 0  # its connections were expired
        assert len(sentinel.failovers()) == 1
        assert b"refused" not in (old.command("GET", unique_key), new.command("GET", unique_key))


async def test_kill_9_of_the_primary(
    sentinel_group_factory: Callable[..., SentinelGroup],
    record_property: Callable[[str, object], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The primary dies (SIGKILL): writes fail for a while, then resume on the promoted replica."""
    group = sentinel_group_factory(down_after_ms=500, failover_timeout_ms=2000)
    load = await _run_load_through(group, group.primary.kill, record_property, "killed", caplog)
    # writes failed while there was no primary, each with a connection error: those in
    # flight when it died as OutcomeUnknownError (never repeated on the new primary
    # behind the caller's back), the rest as refused dials.  Whether any was in flight
    # at the instant of the kill depends on scheduling, so it is not asserted here
    # (tests/test_pool_faults.py cuts a connection after the request, deterministically).
    assert load.errors
    assert all(isinstance(e, asyncpool.ConnectionError) for e in load.errors)


async def test_an_answer_asked_for_before_a_switch_event_does_not_undo_it(
    sentinel_group_factory: Callable[..., SentinelGroup],
) -> None:
    """A query under way when ``+switch-master`` arrives is older news, whatever its epoch.

    During a failover the leader names the old primary, already with the new
    epoch, until it switches and publishes the event; its answer given just
    before may be read just after the event, and once undid it (a flap back to
    the dead primary).  Mirrored here with a real epoch change: the client
    knows epoch e, a forced failover takes the group to e+1, and an event
    arrives while the client's next question, slowed by a proxy, is under way.
    """
    group = sentinel_group_factory()
    first = group.sentinels[0]
    async with FaultProxy(first.host, first.port) as proxy:
        proxied = [(proxy.host, proxy.port)]
        async with Sentinel(
            proxied, watch=False, poll_interval=None, sentinel_timeout=10
        ) as sentinel:
            service = sentinel.service("mymaster")
            assert await sentinel.discover_master("mymaster") == (
                group.primary.host,
                group.primary.port,
            )
            _, new = await asyncio.to_thread(group.failover)
            elsewhere = ("127.0.0.1", free_port())
            proxy.delay(1.0)  # each way: the answer is read a second after the question arrives
            sent = proxy.bytes_upstream
            asking = asyncio.ensure_future(service.rediscover("poll"))
            await proxy.wait_for(lambda p: p.bytes_upstream > sent, timeout=10)
            service.switch(elsewhere, "+switch-master")
            assert await asking == elsewhere
            assert service.master == elsewhere
            assert [f.source for f in sentinel.failovers()] == ["+switch-master"]
            # asked afresh, the sentinel's current answer is followed again
            proxy.delay(0)
            assert await service.rediscover("poll") == (new.host, new.port)
            assert [f.source for f in sentinel.failovers()] == ["+switch-master", "poll"]
