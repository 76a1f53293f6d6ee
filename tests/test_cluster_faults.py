"""RedisCluster under topology changes: a slot migrated, a failover, a primary killed.

All on one cluster for this module (each test leaves it healthy), with 50
tasks of load running while the harness changes the cluster from a thread.
Recovery times are printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest

import asyncpool
from asyncpool.cluster import hash_slot
from asyncpool.testing import LocalCluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(redis_binary: str) -> Iterator[LocalCluster]:
    with LocalCluster(binary=redis_binary) as c:
        yield c


@pytest.fixture
async def rc(cluster: LocalCluster) -> AsyncIterator[asyncpool.RedisCluster]:
    cluster.wait_until_ok()
    async with asyncpool.RedisCluster.from_url(
        cluster.url, retry=asyncpool.Retry(attempts=2, deadline=10.0), refresh_min_interval=0.2
    ) as client:
        yield client


@dataclass
class Load:
    """Counters of a load run: every reply is checked against what the task expects."""

    ops: int = 0
    wrong: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def _counter_task(rc: asyncpool.RedisCluster, keys: list[str], load: Load) -> None:
    """INCR then GET own keys; only this task writes them, so values are predictable."""
    expected = dict.fromkeys(keys, 0)
    while not load.stop.is_set():
        for key in keys:
            try:
                got = await rc.incr(key)
            except asyncpool.RedisError as exc:
                load.errors.append(exc)
                await asyncio.sleep(0.01)
                continue
            expected[key] += 1
            if got != expected[key]:
                load.wrong.append(f"INCR {key}: {got} != {expected[key]}")
                expected[key] = got
            value = await rc.get(key)
            if value != str(expected[key]).encode():
                load.wrong.append(f"GET {key}: {value!r} != {expected[key]}")
            load.ops += 2


async def _pipeline_task(rc: asyncpool.RedisCluster, keys: list[str], load: Load) -> None:
    """Like :func:`_counter_task`, but INCR and GET every key in one pipeline."""
    expected = dict.fromkeys(keys, 0)
    while not load.stop.is_set():
        async with rc.pipeline() as pipe:
            for key in keys:
                pipe.incr(key).get(key)
            try:
                replies = await pipe.execute()
            except asyncpool.RedisError as exc:
                load.errors.append(exc)
                await asyncio.sleep(0.01)
                continue
        for i, key in enumerate(keys):
            expected[key] += 1
            if replies[2 * i] != expected[key] or replies[2 * i + 1] != str(expected[key]).encode():
                load.wrong.append(
                    f"pipeline {key}: {replies[2 * i : 2 * i + 2]} != {expected[key]}"
                )
                expected[key] = replies[2 * i]
        load.ops += 2 * len(keys)


async def test_slot_migration_under_load_ask_then_moved(
    rc: asyncpool.RedisCluster, cluster: LocalCluster, unique_key: str
) -> None:
    tag = f"{{{unique_key}}}"
    slot = hash_slot(tag)
    source = cluster.owner(slot)
    target = next(p for p in cluster.primaries() if p.port != source.port)
    keys = [f"{tag}:{i}" for i in range(200)]
    piped = [f"{tag}:p{i}" for i in range(40)]
    load = Load()
    tasks = [asyncio.ensure_future(_counter_task(rc, keys[j::50], load)) for j in range(50)]
    tasks += [asyncio.ensure_future(_pipeline_task(rc, piped[j::4], load)) for j in range(4)]
    try:
        await _wait(lambda: load.ops > 1000, "load before the migration")
        await asyncio.to_thread(cluster.begin_migration, slot, source, target)
        while await asyncio.to_thread(cluster.migrate_keys, slot, source, target, 5):
            await asyncio.sleep(0.02)  # let commands hit the half-migrated slot (ASK)
        await asyncio.to_thread(cluster.finish_migration, slot, target)
        done = load.ops
        await _wait(lambda: load.ops > done + 1000, "load after the migration")
    finally:
        load.stop.set()
        await asyncio.gather(*tasks)
    assert load.wrong == []
    assert load.errors == []
    assert rc.nodes.redirects.get("ASK", 0) > 0
    assert rc.nodes.redirects.get("MOVED", 0) > 0
    assert rc.nodes.primary_of(slot) == (target.host, target.port)
    assert cluster.owner(slot).port == target.port


async def test_manual_failover_under_load(
    rc: asyncpool.RedisCluster, cluster: LocalCluster, unique_key: str
) -> None:
    keys = [f"{unique_key}{i}" for i in range(200)]
    slot = hash_slot(keys[0])
    old = cluster.owner(slot)
    replica = cluster.replica_of(old)
    piped = [f"{unique_key}p{i}" for i in range(60)]  # pipelines spanning every node
    load = Load()
    tasks = [asyncio.ensure_future(_counter_task(rc, keys[j::50], load)) for j in range(50)]
    tasks += [asyncio.ensure_future(_pipeline_task(rc, piped[j::4], load)) for j in range(4)]
    try:
        await _wait(lambda: load.ops > 1000, "load before the failover")
        started = time.monotonic()
        await asyncio.to_thread(cluster.failover, replica)
        done = load.ops
        await _wait(lambda: load.ops > done + 1000, "load after the failover")
        print(f"\nmanual failover: load resumed {time.monotonic() - started:.2f}s after start")
    finally:
        load.stop.set()
        await asyncio.gather(*tasks)
    assert load.wrong == []
    assert load.errors == []
    assert rc.nodes.primary_of(slot) == (replica.host, replica.port)


async def test_kill_primary_under_load_writes_resume(
    rc: asyncpool.RedisCluster, cluster: LocalCluster, unique_key: str
) -> None:
    victim = cluster.owner(0)
    keys = [f"{unique_key}{i}" for i in range(400)]
    victim_keys = [k for k in keys if cluster.owner(hash_slot(k)).port == victim.port]
    assert victim_keys
    stop = asyncio.Event()
    ok_after: dict[str, float] = {}
    errors: list[BaseException] = []
    killed_at = 0.0

    async def writer(mine: list[str]) -> None:
        n = 0
        while not stop.is_set():
            for key in mine:
                n += 1
                try:
                    await rc.set(key, n)
                except asyncpool.RedisError as exc:
                    errors.append(exc)
                    await asyncio.sleep(0.01)
                    continue
                if killed_at and key in victim_keys:
                    ok_after.setdefault("first", time.monotonic())

    tasks = [asyncio.ensure_future(writer(keys[j::50])) for j in range(50)]
    try:
        await asyncio.sleep(0.5)  # load running before the kill
        killed_at = time.monotonic()
        await asyncio.to_thread(cluster.kill, victim)
        ok_after.clear()
        await _wait(lambda: "first" in ok_after, "writes to the killed shard", timeout=60)
        recovered = ok_after["first"] - killed_at
        promoted = await asyncio.to_thread(cluster.wait_for_promotion, victim)
        print(f"\nkill -9 of a primary: writes to its slots resumed after {recovered:.2f}s")
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await asyncio.to_thread(cluster.restart, victim)
    assert rc.nodes.primary_of(0) == (promoted.host, promoted.port)
    outage = (asyncpool.ConnectionError, asyncpool.TimeoutError, asyncpool.ClusterDownError)
    assert all(isinstance(e, outage) for e in errors)  # what an outage may look like, only
    assert await rc.set(victim_keys[0], "after") is True
    assert await rc.get(victim_keys[0]) == b"after"
    for pool in rc.nodes.pools.values():  # nothing leaked while nodes failed
        assert pool.stats().in_use == 0


async def _wait(check: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_node_added_then_removed_pool_closed(
    cluster: LocalCluster, unique_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="asyncpool.cluster")
    key = f"{{{unique_key}}}k"
    slot = hash_slot(key)
    home = cluster.owner(slot)
    async with asyncpool.RedisCluster.from_url(
        cluster.url, refresh_interval=0.2, refresh_min_interval=0.1
    ) as rc:
        await rc.set(key, "before")
        new = await asyncio.to_thread(cluster.add_node)
        address = (new.host, new.port)
        await asyncio.to_thread(cluster.begin_migration, slot, home, new)
        while await asyncio.to_thread(cluster.migrate_keys, slot, home, new):
            pass
        await asyncio.to_thread(cluster.finish_migration, slot, new)
        assert await rc.get(key) == b"before"  # MOVED (or the periodic refresh) led there
        assert await rc.set(key, "on-new") is True
        assert rc.nodes.primary_of(slot) == address
        pool = rc.nodes.pools[address]
        assert pool.stats().acquired_total >= 1

        await asyncio.to_thread(cluster.begin_migration, slot, new, home)
        while await asyncio.to_thread(cluster.migrate_keys, slot, new, home):
            pass
        await asyncio.to_thread(cluster.finish_migration, slot, home)
        await asyncio.to_thread(cluster.remove_node, new)
        await _wait(lambda: address not in rc.nodes.pools, "the periodic refresh to drop it")
        await _wait(lambda: pool.closed and pool.stats().total == 0, "its pool to close")
        assert await rc.get(key) == b"on-new"
        assert rc.nodes.primary_of(slot) == (home.host, home.port)
    logs = [r.getMessage() for r in caplog.records]
    joined = (f"added [('{new.host}', {new.port})", f"not seen before: {new.host}:{new.port}")
    assert any(any(text in m for text in joined) for m in logs)  # refresh or MOVED saw it
    assert any(f"removed [('{new.host}', {new.port})" in m for m in logs)
    assert any(f"departed node {new.host}:{new.port}" in r.getMessage() for r in caplog.records)


async def test_replica_killed_reads_fall_back_to_the_primary(
    cluster: LocalCluster, unique_key: str
) -> None:
    key = f"{unique_key}k"
    primary = cluster.owner(hash_slot(key))
    replica = cluster.replica_of(primary)
    async with asyncpool.RedisCluster.from_url(
        cluster.url, read_from="prefer_replica", retry=asyncpool.Retry(attempts=2)
    ) as rc:
        await rc.set(key, "v")
        cluster.wait_for(lambda: _offset(primary) == _offset(replica), 10, "replication")
        assert await rc.get(key) == b"v"
        replica_pool = rc.nodes.pools[(replica.host, replica.port)]
        assert replica_pool.stats().acquired_total == 1
        await asyncio.to_thread(cluster.kill, replica)
        try:
            results = await asyncio.gather(
                *(rc.get(key) for _ in range(200)), return_exceptions=True
            )
            assert results == [b"v"] * 200
            assert rc.nodes.pools[(primary.host, primary.port)].stats().acquired_total >= 200
        finally:
            await asyncio.to_thread(cluster.restart, replica)


def _offset(node: object) -> int:
    info = node.command("INFO", "replication")  # type: ignore[attr-defined]
    assert isinstance(info, bytes)
    for line in info.split(b"\r\n"):
        if line.startswith((b"slave_repl_offset:", b"master_repl_offset:")):
            return int(line.split(b":")[1])
    raise AssertionError("no replication offset")


async def test_multi_key_command_on_a_half_migrated_slot_tries_again(
    rc: asyncpool.RedisCluster, cluster: LocalCluster, unique_key: str
) -> None:
    tag = f"{{{unique_key}}}"
    a, b = f"{tag}a", f"{tag}b"
    slot = hash_slot(a)
    source = cluster.owner(slot)
    target = next(p for p in cluster.primaries() if p.port != source.port)
    await rc.mset({a: "1", b: "2"})
    await asyncio.to_thread(cluster.begin_migration, slot, source, target)
    source.command("MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", a)
    assert isinstance(source.command("MGET", a, b), str)  # the server says TRYAGAIN

    async def finish_soon() -> None:
        await _wait(lambda: rc.nodes.redirects.get("TRYAGAIN", 0) >= 2, "TRYAGAIN replies")
        while await asyncio.to_thread(cluster.migrate_keys, slot, source, target):
            pass
        await asyncio.to_thread(cluster.finish_migration, slot, target)

    finisher = asyncio.ensure_future(finish_soon())
    assert await rc.mget([a, b]) == [b"1", b"2"]  # backed off until the slot settled
    await finisher
    assert rc.nodes.redirects["TRYAGAIN"] >= 2


async def test_redirects_are_bounded_by_count_and_deadline(
    cluster: LocalCluster, unique_key: str
) -> None:
    tag = f"{{{unique_key}}}"
    a, b = f"{tag}a", f"{tag}b"
    slot = hash_slot(a)
    source = cluster.owner(slot)
    target = next(p for p in cluster.primaries() if p.port != source.port)
    async with asyncpool.RedisCluster.from_url(cluster.url, max_redirects=3) as rc:
        await rc.mset({a: "1", b: "2"})
    await asyncio.to_thread(cluster.begin_migration, slot, source, target)
    source.command("MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", a)
    try:
        async with asyncpool.RedisCluster.from_url(cluster.url, max_redirects=3) as rc:
            with pytest.raises(asyncpool.TryAgainError):
                await rc.mget([a, b])
            assert sum(rc.nodes.redirects.values()) == 4  # the first try and 3 more
            assert rc.nodes.redirects["TRYAGAIN"] >= 2
        async with asyncpool.RedisCluster.from_url(
            cluster.url, max_redirects=10_000, retry=asyncpool.Retry(deadline=0.3)
        ) as rc:
            started = time.monotonic()
            with pytest.raises(asyncpool.TimeoutError, match="deadline"):
                await rc.mget([a, b])
            assert time.monotonic() - started < 5
    finally:
        while await asyncio.to_thread(cluster.migrate_keys, slot, source, target):
            pass
        await asyncio.to_thread(cluster.finish_migration, slot, target)


async def test_sharded_pubsub_follows_its_slot_when_it_moves(
    rc: asyncpool.RedisCluster, cluster: LocalCluster, unique_key: str
) -> None:
    if cluster.nodes[0].version < (7, 0, 0):
        pytest.skip("sharded pub/sub needs Redis 7.0")
    channels = [f"{unique_key}ch{i}" for i in range(12)]
    moving = channels[0]
    slot = hash_slot(moving)
    source = cluster.owner(slot)
    target = next(p for p in cluster.primaries() if p.port != source.port)
    async with rc.sharded_pubsub() as ps:
        await ps.ssubscribe(*channels)
        homes = {a for a in ps.channels.values()}
        assert len(homes) == 3  # twelve channels land on every primary
        for ch in channels:
            assert await rc.execute_command("SPUBLISH", ch, f"hello {ch}") == 1
        got = [await ps.get_message(timeout=5) for _ in channels]
        assert sorted(m["data"] for m in got if m) == sorted(
            f"hello {c}".encode() for c in channels
        )

        await asyncio.to_thread(cluster.begin_migration, slot, source, target)
        await asyncio.to_thread(cluster.finish_migration, slot, target)
        await _wait(
            lambda: ps.channels.get(moving.encode()) == (target.host, target.port), "re-home"
        )
        assert await rc.execute_command("SPUBLISH", moving, "after the move") == 1
        message = await ps.get_message(timeout=5)
        assert message is not None
        assert message["data"] == b"after the move"
