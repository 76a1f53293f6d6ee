"""RedisCluster on a real 3-primary / 3-replica cluster: routing, splits, pipelines, fan-out.

Every test shares the session cluster and writes only keys under its own
prefix; tests that move slots or kill nodes live in test_cluster_faults.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import asyncpool
from asyncpool.cluster import hash_slot
from asyncpool.testing import LocalCluster, RedisServer


@pytest.fixture
async def rc(redis_cluster: LocalCluster) -> AsyncIterator[asyncpool.RedisCluster]:
    async with asyncpool.RedisCluster.from_url(redis_cluster.url) as client:
        yield client


def _keys_on_every_primary(cluster: LocalCluster, prefix: str, per_node: int = 2) -> list[str]:
    """Keys under ``prefix`` with ``per_node`` keys owned by each primary."""
    want = {p.port: per_node for p in cluster.primaries()}
    out = []
    i = 0
    while any(want.values()):
        key = f"{prefix}{i}"
        port = cluster.owner(hash_slot(key)).port
        if want[port]:
            want[port] -= 1
            out.append(key)
        i += 1
    return out


def _offset(node: RedisServer) -> int:
    info = node.command("INFO", "replication")
    assert isinstance(info, bytes)
    line = next(
        x
        for x in info.split(b"\r\n")
        if x.startswith((b"master_repl_offset:", b"slave_repl_offset:"))
    )
    return int(line.split(b":")[1])


def _raw_get(node: RedisServer, key: str) -> object:
    return node.command("GET", key)


async def test_commands_land_on_the_slot_owner(
    rc: asyncpool.RedisCluster, redis_cluster: LocalCluster, unique_key: str
) -> None:
    keys = _keys_on_every_primary(redis_cluster, unique_key, per_node=3)
    for n, key in enumerate(keys):
        assert await rc.set(key, n)
    for n, key in enumerate(keys):
        owner = redis_cluster.owner(hash_slot(key))
        assert _raw_get(owner, key) == str(n).encode()
        others = [p for p in redis_cluster.primaries() if p.port != owner.port]
        for other in others:  # anyone else would answer MOVED
            reply = _raw_get(other, key)
            assert isinstance(reply, str)
            assert reply.startswith("MOVED")
        assert await rc.get(key) == str(n).encode()


async def test_hash_tags_keep_keys_together(rc: asyncpool.RedisCluster, unique_key: str) -> None:
    a, b = f"{{{unique_key}}}:a", f"{{{unique_key}}}:b"
    assert hash_slot(a) == hash_slot(b)
    await rc.set(a, "1")
    assert await rc.rename(a, b)
    assert await rc.get(b) == b"1"


async def test_cross_slot_command_raises_before_sending(
    rc: asyncpool.RedisCluster, redis_cluster: LocalCluster, unique_key: str
) -> None:
    a, b = _keys_on_every_primary(redis_cluster, unique_key, per_node=1)[:2]
    assert hash_slot(a) != hash_slot(b)
    with pytest.raises(asyncpool.CrossSlotError, match="different slots"):
        await rc.execute_command("MSETNX", a, "1", b, "2")
    assert await rc.exists(a, b) == 0  # nothing was sent
    await rc.set(a, "x")
    with pytest.raises(asyncpool.CrossSlotError):
        await rc.rename(a, b)
    assert await rc.get(a) == b"x"
    assert isinstance(asyncpool.CrossSlotError("x"), asyncpool.ResponseError)


async def test_mget_mset_split_by_slot_keep_order(
    rc: asyncpool.RedisCluster, redis_cluster: LocalCluster, unique_key: str
) -> None:
    keys = _keys_on_every_primary(redis_cluster, unique_key, per_node=4)
    keys.sort()  # interleave nodes
    assert await rc.mset({k: f"v-{k}" for k in keys})
    missing = f"{unique_key}missing"
    got = await rc.mget([*keys, missing, keys[0]])
    assert got == [f"v-{k}".encode() for k in keys] + [None, f"v-{keys[0]}".encode()]
    for key in keys:  # really stored on the owners
        assert _raw_get(redis_cluster.owner(hash_slot(key)), key) == f"v-{key}".encode()


async def test_del_unlink_exists_touch_split_and_sum(
    rc: asyncpool.RedisCluster, redis_cluster: LocalCluster, unique_key: str
) -> None:
    keys = _keys_on_every_primary(redis_cluster, unique_key, per_node=3)
    await rc.mset(dict.fromkeys(keys, "1"))
    absent = f"{unique_key}absent"
    assert await rc.exists(*keys, absent, keys[0]) == len(keys) + 1  # duplicates count twice
    assert await rc.execute_command("TOUCH", *keys, absent) == len(keys)
    assert await rc.delete(*keys[:5], absent) == 5
    assert await rc.unlink(*keys[5:], absent) == len(keys) - 5
    assert await rc.exists(*keys) == 0


async def test_pipeline_spans_every_node_in_caller_order(
    rc: asyncpool.RedisCluster, redis_cluster: LocalCluster, unique_key: str
) -> None:
    keys = _keys_on_every_primary(redis_cluster, unique_key, per_node=20)
    keys.sort()
    async with rc.pipeline() as pipe:
        for n, key in enumerate(keys):
            pipe.set(key, n).incr(key).get(key)
        results = await pipe.execute()
    assert results == [x for n in range(len(keys)) for x in (True, n + 1, str(n + 1).encode())]
    nodes_used = {a for a, pool in rc.nodes.pools.items() if pool.stats().acquired_total}
    assert len(nodes_used) == 3


async def test_pipeline_errors_stand_in_place(rc: asyncpool.RedisCluster, unique_key: str) -> None:
    key = f"{unique_key}h"
    await rc.hset(key, "f", "v")
    async with rc.pipeline() as pipe:
        pipe.set(f"{unique_key}s", "1").incr(key).get(f"{unique_key}s")
        results = await pipe.execute(raise_on_error=False)
    assert results[0] is True
    assert isinstance(results[1], asyncpool.WrongTypeError)
    assert results[2] == b"1"
    async with rc.pipeline() as pipe:
        pipe.incr(key)
        with pytest.raises(asyncpool.WrongTypeError, match="command #0"):
            await pipe.execute()


async def test_transaction_is_pinned_to_one_slot(
    rc: asyncpool.RedisCluster, redis_cluster: LocalCluster, unique_key: str
) -> None:
    tag = f"{{{unique_key}}}"
    async with rc.pipeline(transaction=True) as pipe:
        pipe.set(f"{tag}a", 1).incr(f"{tag}a").set(f"{tag}b", "x")
        assert await pipe.execute() == [True, 2, True]
    a, b = _keys_on_every_primary(redis_cluster, unique_key, per_node=1)[:2]
    async with rc.pipeline(transaction=True) as pipe:
        pipe.set(a, 1).set(b, 2)
        with pytest.raises(asyncpool.CrossSlotError):
            await pipe.execute()
    assert await rc.exists(a, b) == 0


async def test_watch_transaction_on_the_slot_primary(
    rc: asyncpool.RedisCluster, unique_key: str
) -> None:
    key = f"{{{unique_key}}}counter"
    await rc.set(key, 10)

    async def double(pipe: asyncpool.Pipeline) -> None:
        value = int(await pipe.get(key))
        pipe.multi()
        pipe.set(key, value * 2)

    assert await rc.transaction(double, key) == [True]
    assert await rc.get(key) == b"20"


async def test_fan_out_commands(
    rc: asyncpool.RedisCluster, redis_cluster: LocalCluster, unique_key: str
) -> None:
    keys = _keys_on_every_primary(redis_cluster, unique_key, per_node=2)
    await rc.mset(dict.fromkeys(keys, "1"))
    per_node = []
    for primary in redis_cluster.primaries():
        size = primary.command("DBSIZE")
        assert isinstance(size, int)
        per_node.append(size)
    assert await rc.dbsize() == sum(per_node)
    assert await rc.ping() is True
    assert sorted(await rc.keys(f"{unique_key}*")) == sorted(k.encode() for k in keys)
    scanned = [k async for k in rc.scan_iter(match=f"{unique_key}*", count=5)]
    assert sorted(scanned) == sorted(k.encode() for k in keys)
    info = await rc.info("server")
    assert len(info) == 3  # one entry per primary
    assert all(int(i["tcp_port"]) == int(addr.rsplit(":", 1)[1]) for addr, i in info.items())
    with pytest.raises(TypeError, match="scan_iter"):
        await rc.scan(0)


async def test_script_loads_on_every_primary(
    rc: asyncpool.RedisCluster, redis_cluster: LocalCluster, unique_key: str
) -> None:
    script = rc.register_script(f"return redis.call('GET', KEYS[1]) -- {unique_key}")
    key = f"{unique_key}k"
    await rc.set(key, "hello")
    assert await script(keys=[key]) == b"hello"  # NOSCRIPT, SCRIPT LOAD everywhere, EVALSHA
    for node in redis_cluster.primaries():
        assert node.command("SCRIPT", "EXISTS", script.sha) == [1]
    other = f"{unique_key}other"
    await rc.set(other, "again")
    assert await script(keys=[other]) == b"again"


async def test_full_pool_waits_instead_of_failing(
    redis_cluster: LocalCluster, unique_key: str
) -> None:
    key = f"{unique_key}k"
    async with asyncpool.RedisCluster.from_url(
        redis_cluster.url, max_connections=1, acquire_timeout=30
    ) as rc:
        await rc.set(key, "v")
        results = await asyncio.gather(*(rc.get(key) for _ in range(50)))
        assert results == [b"v"] * 50
        pool = rc.pool_for(key)
        stats = pool.stats()
        assert stats.total == 1
        assert stats.acquire_timeouts_total == 0
        assert stats.wait_time_total_s > 0  # callers queued for the one connection


async def test_full_pool_times_out_with_pool_timeout(
    redis_cluster: LocalCluster, unique_key: str
) -> None:
    key = f"{unique_key}k"
    async with asyncpool.RedisCluster.from_url(
        redis_cluster.url, max_connections=1, acquire_timeout=0.2
    ) as rc:
        await rc.set(key, "v")
        async with rc.pool_for(key).acquire():
            with pytest.raises(asyncpool.PoolTimeout):
                await rc.get(key)
        assert await rc.get(key) == b"v"  # the node was not taken for failed
        assert rc.nodes.refreshes == 1


async def test_replica_reads_go_to_replicas_with_readonly(
    redis_cluster: LocalCluster, unique_key: str
) -> None:
    key = f"{unique_key}k"
    primary = redis_cluster.owner(hash_slot(key))
    replica = redis_cluster.replica_of(primary)
    async with asyncpool.RedisCluster.from_url(redis_cluster.url, read_from="prefer_replica") as rc:
        await rc.set(key, "v")
        redis_cluster.wait_for(lambda: _offset(primary) == _offset(replica), 10, "replication")
        for _ in range(5):
            assert await rc.get(key) == b"v"
        replica_pool = rc.nodes.pools[(replica.host, replica.port)]
        assert replica_pool.stats().acquired_total == 5
        assert await rc.incr(f"{unique_key}n") == 1  # writes still go to primaries


async def test_options_are_validated() -> None:
    with pytest.raises(asyncpool.ConfigError, match="read_from"):
        asyncpool.RedisCluster(read_from="nearest")  # type: ignore[arg-type]
    with pytest.raises(asyncpool.ConfigError, match="database 0"):
        asyncpool.RedisCluster.from_url("redis://127.0.0.1:7000/2")
    with pytest.raises(asyncpool.ConfigError, match="host:port"):
        asyncpool.RedisCluster(startup_nodes=["nonsense"])
    with pytest.raises(asyncpool.ConfigError, match="unknown option"):
        asyncpool.RedisCluster(max_conections=3)


async def test_no_startup_node_answers() -> None:
    from asyncpool.testing import free_port

    port = free_port()
    rc = asyncpool.RedisCluster("127.0.0.1", port, topology_timeout=0.5)
    with pytest.raises(asyncpool.ConnectionError, match=f"127.0.0.1:{port}"):
        await rc.initialize()
    await rc.aclose()


async def test_unsafe_command_cut_after_sending_is_not_repeated(
    rc: asyncpool.RedisCluster, redis_cluster: LocalCluster, unique_key: str
) -> None:
    key = f"{unique_key}list"
    owner = redis_cluster.owner(hash_slot(key))
    popped = asyncio.ensure_future(rc.blpop([key], timeout=10))

    def blocked() -> bool:
        clients = owner.command("CLIENT", "LIST")
        return isinstance(clients, bytes) and b"cmd=blpop" in clients

    await asyncio.to_thread(redis_cluster.wait_for, blocked, 10, "BLPOP to block")
    owner.command("CLIENT", "KILL", "TYPE", "normal")  # cuts it after the write
    with pytest.raises(asyncpool.OutcomeUnknownError, match="BLPOP"):
        await popped
    await rc.rpush(key, "x")
    assert await rc.lrange(key, 0, -1) == [b"x"]  # the BLPOP was not sent again
    assert await rc.get(f"{unique_key}other") is None  # the client is still usable


async def test_classic_pubsub_hears_publishes_from_any_node(
    rc: asyncpool.RedisCluster, unique_key: str
) -> None:
    channel = f"{unique_key}ch"
    async with rc.pubsub() as ps:
        await ps.subscribe(channel)
        for primary in rc.nodes.topology.primaries():  # type: ignore[union-attr]
            await rc.execute_on(primary, "PUBLISH", channel, f"from-{primary[1]}")
        got = set()
        while len(got) < 3:
            message = await ps.get_message(ignore_subscribe_messages=True, timeout=5)
            assert message is not None
            got.add(message["data"])
    assert got == {f"from-{p[1]}".encode() for p in rc.nodes.topology.primaries()}  # type: ignore[union-attr]


async def test_stats_per_node_and_summed(rc: asyncpool.RedisCluster, unique_key: str) -> None:
    await rc.mset({f"{unique_key}{i}": i for i in range(30)})
    per_node = rc.stats()
    assert len(per_node) == 3
    totals = rc.total_stats()
    assert totals["nodes"] == 3
    assert totals["acquired_total"] == sum(s.acquired_total for s in per_node.values())
    assert totals["in_use"] == 0
    assert totals["max_connections"] == 3 * 50


async def test_refresh_is_single_flight_and_rate_limited(redis_cluster: LocalCluster) -> None:
    async with asyncpool.RedisCluster.from_url(redis_cluster.url, refresh_min_interval=0.3) as rc:
        nodes = rc.nodes
        assert nodes.refreshes == 1
        for _ in range(100):
            nodes.schedule_refresh()
        await asyncio.gather(*(nodes.refresh() for _ in range(20)))
        assert nodes.refreshes == 2  # 100 triggers and 20 waiters: one refresh
        started = asyncio.get_running_loop().time()
        await nodes.refresh()
        assert nodes.refreshes == 3
        assert asyncio.get_running_loop().time() - started >= 0.25  # waited for the window


async def test_otel_metrics_for_every_node_pool(
    rc: asyncpool.RedisCluster, redis_cluster: LocalCluster, unique_key: str
) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from asyncpool.otel.cluster import instrument_cluster

    reader = InMemoryMetricReader()
    handles = instrument_cluster(rc, meter_provider=MeterProvider(metric_readers=[reader]))
    keys = _keys_on_every_primary(redis_cluster, unique_key, per_node=1)
    for key in keys:
        await rc.set(key, "v")
    assert len(handles) == len(rc.nodes.pools) == 3
    data = reader.get_metrics_data()
    names: set[str] = set()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "db.client.connection.count":
                    for point in metric.data.data_points:
                        names.add(
                            str(dict(point.attributes or {})["db.client.connection.pool.name"])
                        )
    assert names == {f"127.0.0.1:{p.port}/0" for p in redis_cluster.primaries()}
    for handle in handles:
        handle.uninstrument()


async def test_retryable_view_shares_the_nodes_and_closes_nothing(
    rc: asyncpool.RedisCluster, unique_key: str
) -> None:
    view = rc.retryable()
    assert await view.incr(f"{unique_key}n") == 1
    await view.aclose()
    assert await rc.incr(f"{unique_key}n") == 2
    assert view.nodes is rc.nodes


@pytest.mark.parametrize("protocol", [2, 3])
async def test_resp2_and_resp3_with_decoded_replies(
    redis_cluster: LocalCluster, unique_key: str, protocol: int
) -> None:
    async with asyncpool.RedisCluster.from_url(
        redis_cluster.url, protocol=protocol, decode_responses=True
    ) as rc:
        topology = rc.nodes.topology
        assert topology is not None
        assert len(topology.shards) == 3
        assert len(topology.addresses()) == 6  # CLUSTER SHARDS/SLOTS parsed in this protocol
        keys = _keys_on_every_primary(redis_cluster, unique_key, per_node=2)
        await rc.mset({k: f"v{i}" for i, k in enumerate(keys)})
        assert await rc.mget(keys) == [f"v{i}" for i in range(len(keys))]
        assert sorted([k async for k in rc.scan_iter(match=f"{unique_key}*")]) == sorted(keys)


async def test_pipeline_watch_multi_exec_on_the_slot_primary(
    rc: asyncpool.RedisCluster, redis_cluster: LocalCluster, unique_key: str
) -> None:
    key = f"{{{unique_key}}}n"
    await rc.set(key, 1)
    async with rc.pipeline() as pipe:
        await pipe.watch(key)
        value = int(await pipe.get(key))  # runs at once while watching
        pipe.multi()
        pipe.set(key, value + 1).get(key)
        with pytest.raises(asyncpool.CrossSlotError):
            pipe.set(_keys_on_every_primary(redis_cluster, unique_key, 1)[0], "x")
        assert await pipe.execute() == [True, b"2"]
    async with rc.pipeline() as pipe:
        await pipe.watch(key)
        await rc.set(key, 100)  # another client changes the watched key
        pipe.multi()
        pipe.set(key, 3)
        with pytest.raises(asyncpool.WatchError):
            await pipe.execute()
    assert await rc.get(key) == b"100"
    for pool in rc.nodes.pools.values():
        assert pool.stats().in_use == 0
