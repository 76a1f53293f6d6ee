"""Sentinel clients against a real group (primary, replica, three sentinels) left undisturbed.

Failovers are in ``test_sentinel_failover.py``; these tests leave the primary
where it is (a paused sentinel is resumed and the group settles again).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

import asyncpool
from asyncpool.sentinel import Sentinel, Service, parse_sentinel_url, redact_sentinel_url
from asyncpool.testing import FaultProxy, SentinelGroup, free_port
from asyncpool.testing.sentinel import SentinelServer, wait_until


def _address(server: asyncpool.testing.RedisServer) -> tuple[str, int]:
    return server.host, server.port


async def _role(client: asyncpool.Redis) -> str:
    reply = await client.execute_command("ROLE")
    first = reply[0]
    return first.decode() if isinstance(first, bytes) else str(first)


async def test_master_for_and_replica_for_reach_the_right_servers(
    sentinel_group: SentinelGroup, unique_key: str
) -> None:
    group = sentinel_group
    async with Sentinel(group.sentinel_addresses) as sentinel:
        assert await sentinel.discover_master("mymaster") == _address(group.primary)
        assert await sentinel.discover_replicas("mymaster") == [_address(group.replicas[0])]
        primary = sentinel.master_for("mymaster")
        replica = sentinel.replica_for("mymaster")
        await primary.set(unique_key, "v")
        assert group.primary.command("GET", unique_key) == b"v"
        assert await _role(primary) == "master"
        assert await _role(replica) == "slave"
        await primary.execute_command("WAIT", 1, 2000)
        assert await replica.get(unique_key) == b"v"
        with pytest.raises(asyncpool.ReadOnlyError):
            await replica.set(unique_key, "nope")  # a replica client never finds a primary
        stats = sentinel.stats()
        assert stats.primaries == {"mymaster": f"127.0.0.1:{group.primary.port}"}
        assert stats.failovers == ()


async def test_unknown_service_raises_master_not_found(sentinel_group: SentinelGroup) -> None:
    async with Sentinel(sentinel_group.sentinel_addresses) as sentinel:
        with pytest.raises(asyncpool.MasterNotFoundError, match="does not know it"):
            await sentinel.discover_master("no-such-service")
        client = sentinel.master_for("no-such-service", dial_attempts=1)
        with pytest.raises(asyncpool.MasterNotFoundError):
            await client.ping()
        assert client.pool.stats().total == 0  # the failed dial gave its slot back


async def test_down_sentinels_are_skipped(sentinel_group: SentinelGroup) -> None:
    group = sentinel_group
    dead = ("127.0.0.1", free_port())
    paused = group.sentinels[0]
    paused.pause()
    try:
        addresses = [dead, _address(paused), *group.sentinel_addresses[1:]]
        async with Sentinel(addresses, sentinel_timeout=0.3, watch=False) as sentinel:
            started = time.monotonic()
            primary = sentinel.master_for("mymaster")
            assert await primary.ping()
            first = time.monotonic() - started
            assert first < 5  # the refused one at once, the frozen one after 0.3 s
            # the sentinel that answered is asked first from now on
            assert sentinel.nodes.addresses[0] == group.sentinel_addresses[1]
            assert set(sentinel.nodes.addresses[-2:]) == {dead, _address(paused)}  # tried last
            assert await sentinel.discover_master("mymaster") == _address(group.primary)
    finally:
        paused.resume()
    await asyncio.to_thread(group.wait_settled)


async def test_sentinel_list_is_learnt_and_configured_ones_kept(
    sentinel_group: SentinelGroup,
) -> None:
    group = sentinel_group
    dead = ("127.0.0.1", free_port())
    first = group.sentinel_addresses[0]
    async with Sentinel([first, dead], poll_interval=60, sentinel_timeout=2) as sentinel:
        assert await sentinel.master_for("mymaster").ping()
        deadline = time.monotonic() + 10
        while len(sentinel.stats().subscribed) < 3:  # learnt at once, and subscribed too
            assert time.monotonic() < deadline, sentinel.stats()
            await asyncio.sleep(0.05)
        known = set(sentinel.nodes.addresses)
        assert set(group.sentinel_addresses) <= known
        assert dead in known  # configured: never dropped, though no sentinel lists it


async def test_events_subscribed_on_every_sentinel(sentinel_group: SentinelGroup) -> None:
    async with Sentinel(sentinel_group.sentinel_addresses, poll_interval=None) as sentinel:
        assert await sentinel.master_for("mymaster").ping()
        deadline = time.monotonic() + 10
        while len(sentinel.stats().subscribed) < 3:
            assert time.monotonic() < deadline, sentinel.stats()
            await asyncio.sleep(0.05)
        assert set(sentinel.stats().subscribed) == {
            f"{h}:{p}" for h, p in sentinel_group.sentinel_addresses
        }


async def test_stale_address_is_rejected_by_role_and_rediscovered(
    sentinel_group: SentinelGroup, unique_key: str
) -> None:
    """A primary client told the replica's address (out of date) never writes there."""
    group = sentinel_group
    async with Sentinel(group.sentinel_addresses, watch=False, poll_interval=None) as sentinel:
        service = sentinel.service("mymaster")
        await sentinel.discover_master("mymaster")
        service.master = _address(group.replicas[0])  # as if we had missed a failover
        primary = sentinel.master_for("mymaster", dial_backoff=0.001)
        await primary.set(unique_key, "v")
        assert group.primary.command("GET", unique_key) == b"v"
        (failover,) = sentinel.failovers()
        assert failover.source == "stale primary"  # ROLE said so, not a READONLY reply
        assert failover.old == _address(group.replicas[0])
        assert failover.new == _address(group.primary)
        assert failover.switch_seconds is not None
        assert primary.pool.stats().errors_total >= 1  # the rejected dial


async def test_a_dial_that_outlives_a_switch_is_rejected(sentinel_group: SentinelGroup) -> None:
    """The old primary says "master" until demoted: only the sentinels' address counts."""
    group = sentinel_group
    async with Sentinel(group.sentinel_addresses, watch=False, poll_interval=None) as sentinel:
        service = sentinel.service("mymaster")
        await sentinel.discover_master("mymaster")
        conn = asyncpool.Connection(
            asyncpool.ConnectionOptions(host=group.primary.host, port=group.primary.port)
        )
        await conn.connect()
        try:
            await service.check_primary(conn)  # the primary, as named: accepted
            service.switch(_address(group.replicas[0]), "test")  # news arrives mid-dial
            with pytest.raises(asyncpool.StalePrimaryError, match="moved"):
                await service.check_primary(conn)
        finally:
            conn.close()


def _flags(sentinel: SentinelServer) -> str:
    reply = sentinel.command("SENTINEL", "MASTER", sentinel.service_name)
    assert isinstance(reply, list)
    info = dict(zip(reply[::2], reply[1::2], strict=False))
    flags = info[b"flags"]
    assert isinstance(flags, bytes)
    return flags.decode()


async def test_a_sentinel_that_flags_the_primary_down_is_passed_over(
    sentinel_group: SentinelGroup,
) -> None:
    """A sentinel still naming a primary it sees down (it lags a failover) is not followed."""
    group = sentinel_group
    gone = ("127.0.0.1", free_port())
    lagging = SentinelServer(service_name="mymaster", primary=gone, quorum=1, down_after_ms=100)
    with lagging:
        await asyncio.to_thread(wait_until, lambda: "s_down" in _flags(lagging), 10, "s_down")
        addresses = [_address(lagging), *group.sentinel_addresses]
        async with Sentinel(addresses, watch=False, poll_interval=None) as sentinel:
            assert await sentinel.discover_master("mymaster") == _address(group.primary)
            assert sentinel.nodes.addresses[0] != _address(lagging)
        # when no sentinel has a better answer, the one it has is still the answer
        async with Sentinel([_address(lagging)], watch=False, poll_interval=None) as sentinel:
            assert await sentinel.discover_master("mymaster") == gone


async def test_a_known_primary_is_not_left_for_one_every_sentinel_flags_down(
    sentinel_group: SentinelGroup,
) -> None:
    """With the current sentinel unreachable, a lagging one's down primary is not followed.

    Mid-failover the leader names the old, dead primary with the new epoch;
    when it is the only one answering, the client stays where it is.
    """
    group = sentinel_group
    gone = ("127.0.0.1", free_port())
    lagging = SentinelServer(service_name="mymaster", primary=gone, quorum=1, down_after_ms=100)
    current = group.sentinels[0]
    with lagging:
        await asyncio.to_thread(wait_until, lambda: "s_down" in _flags(lagging), 10, "s_down")
        async with FaultProxy(current.host, current.port) as proxy:
            addresses = [_address(lagging), (proxy.host, proxy.port)]
            async with Sentinel(addresses, watch=False, poll_interval=None) as sentinel:
                service = sentinel.service("mymaster")
                assert await sentinel.discover_master("mymaster") == _address(group.primary)
                proxy.refuse()
                proxy.cut()
                assert await service.rediscover("poll") == _address(group.primary)
                assert service.master == _address(group.primary)
                assert sentinel.failovers() == []


async def test_answers_older_than_a_switch_event_are_ignored(
    sentinel_group: SentinelGroup,
) -> None:
    """After ``+switch-master``, a sentinel that has not caught up does not switch us back."""
    group = sentinel_group
    async with Sentinel(group.sentinel_addresses, watch=False, poll_interval=None) as sentinel:
        service = sentinel.service("mymaster")
        assert await sentinel.discover_master("mymaster") == _address(group.primary)
        moved = _address(group.replicas[0])
        service.switch(moved, "+switch-master")  # as the event would; the sentinels still lag
        assert await service.rediscover("dial failure") == moved
        assert service.master == moved
        assert [f.new for f in sentinel.failovers()] == [moved]
        # the new primary's ROLE disproves the news: the sentinels are believed again
        primary = sentinel.master_for("mymaster", dial_backoff=0.001)
        assert await primary.ping()
        assert service.master == _address(group.primary)
        assert [f.source for f in sentinel.failovers()] == ["+switch-master", "stale primary"]


async def test_from_url_with_every_sentinel(sentinel_group: SentinelGroup, unique_key: str) -> None:
    group = sentinel_group
    async with Sentinel.from_url(group.url(db=2) + "?max_connections=7") as sentinel:
        assert sentinel.service_name == "mymaster"
        primary = sentinel.master_for()
        assert primary.pool.options.max_connections == 7
        await primary.set(unique_key, "in db 2")
        assert group.primary.command("GET", unique_key) is None  # not in db 0
    async with Sentinel.from_url(group.url(db=2)) as sentinel:
        assert await sentinel.master_for().get(unique_key) == b"in db 2"


async def test_sentinel_and_data_node_credentials_are_separate(
    sentinel_group_factory: Callable[..., SentinelGroup], unique_key: str
) -> None:
    group = sentinel_group_factory(password="data-pw", sentinel_password="sentinel-pw")
    hosts = ",".join(f"{h}:{p}" for h, p in group.sentinel_addresses)
    url = f"redis+sentinel://:data-pw@{hosts}/mymaster?sentinel_password=sentinel-pw"
    async with Sentinel.from_url(url) as sentinel:
        primary = sentinel.master_for()
        await primary.set(unique_key, "v")
        assert await primary.get(unique_key) == b"v"
    wrong = f"redis+sentinel://:data-pw@{hosts}/mymaster?sentinel_password=data-pw"
    async with Sentinel.from_url(wrong) as sentinel:
        with pytest.raises(asyncpool.MasterNotFoundError) as info:
            await sentinel.master_for(dial_attempts=1).ping()
        assert "data-pw" not in str(info.value)


# -- the URL form (no server needed) -------------------------------------------------------------
def test_url_lists_sentinels_service_db_and_both_credentials() -> None:
    parsed = parse_sentinel_url(
        "redis+sentinel://app:data%40pw@10.0.0.1:26380,10.0.0.2,[::1]:5000/cache/3"
        "?sentinel_username=mon&sentinel_password=s%26pw&sentinel_timeout=0.25"
        "&max_connections=9&socket_timeout=2"
    )
    assert parsed.sentinels == (("10.0.0.1", 26380), ("10.0.0.2", 26379), ("::1", 5000))
    assert parsed.service_name == "cache"
    assert parsed.connection_options.db == 3
    assert parsed.connection_options.username == "app"
    assert parsed.connection_options.password == "data@pw"
    assert parsed.connection_options.socket_timeout == 2.0
    assert parsed.pool_options.max_connections == 9
    assert parsed.sentinel_username == "mon"
    assert parsed.sentinel_password == "s&pw"
    assert parsed.sentinel_timeout == 0.25
    assert "s&pw" not in repr(parsed)
    assert "data@pw" not in repr(parsed)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://h:1/0", "not a Sentinel URL"),
        ("redis+sentinel://h:1", "missing service name"),
        ("redis+sentinel://h:1/", "missing service name"),
        ("redis+sentinel:///mymaster", "no sentinel host"),
        ("redis+sentinel://h:99999/mymaster", "invalid sentinel port"),
        ("redis+sentinel://h:1/mymaster/x", "invalid path"),
        ("redis+sentinel://h:1/mymaster/0?bogus=1", "unknown query parameter"),
        ("redis+sentinel://h:1/mymaster?sentinel_timeout=-1", "sentinel_timeout"),
        ("redis+sentinel://h,/mymaster", "empty sentinel host"),
    ],
)
def test_bad_urls_raise_invalid_url(url: str, message: str) -> None:
    with pytest.raises(asyncpool.InvalidURL, match=message):
        parse_sentinel_url(url)


def test_no_password_in_url_errors() -> None:
    url = "redis+sentinel://:topsecret@h:1/mymaster/0?sentinel_password=alsosecret&bogus=1"
    with pytest.raises(asyncpool.InvalidURL) as info:
        parse_sentinel_url(url)
    assert "topsecret" not in str(info.value)
    assert "alsosecret" not in str(info.value)
    assert "alsosecret" not in redact_sentinel_url(url)


async def test_replica_reads_round_robin_skip_flagged_and_fall_back(
    sentinel_group_factory: Callable[..., SentinelGroup],
) -> None:
    """Two replicas share new connections; a down one is skipped; with none, the primary."""
    group = sentinel_group_factory(replicas=2, down_after_ms=500)
    first, second = group.replicas

    def flagged(server: asyncpool.testing.RedisServer) -> bool:
        reply = group.sentinels[0].command("SENTINEL", "REPLICAS", "mymaster")
        assert isinstance(reply, list)
        for entry in reply:
            info = dict(zip(entry[::2], entry[1::2], strict=True))
            if int(info[b"port"]) == server.port:
                return b"s_down" in info[b"flags"]
        return False

    async def ports(client: asyncpool.Redis, n: int) -> list[int]:
        leases = [await client.pool.acquire() for _ in range(n)]
        out = [lease.connection.options.port for lease in leases]
        for lease in leases:
            await lease.release()
        client.pool.expire_all()  # the next ones are dialed afresh
        return out

    async def until_listed(service: Service, healthy: list[int]) -> None:
        deadline = time.monotonic() + 10
        while [p for _, p in (await service.replicas())[0]] != healthy:
            assert time.monotonic() < deadline, "the replica list never changed"
            await asyncio.sleep(0.05)

    async with Sentinel(group.sentinel_addresses, watch=False) as sentinel:
        replica = sentinel.replica_for("mymaster")
        service = sentinel.service("mymaster")
        assert sorted(await ports(replica, 4)) == sorted([first.port, second.port] * 2)
        first.kill()
        await asyncio.to_thread(wait_until, lambda: flagged(first), 10, "s_down")
        await until_listed(service, [second.port])
        errors = replica.pool.stats().errors_total
        assert await ports(replica, 3) == [second.port] * 3
        assert replica.pool.stats().errors_total == errors  # the flagged one was not even tried
        second.kill()
        await asyncio.to_thread(wait_until, lambda: flagged(second), 10, "s_down")
        await until_listed(service, [])
        assert await ports(replica, 2) == [group.primary.port] * 2
        assert await _role(replica) == "master"


def test_rediss_sentinel_url_uses_tls_for_data_nodes_and_sentinels() -> None:
    sentinel = Sentinel.from_url("rediss+sentinel://h1,h2/mymaster")
    context = sentinel.master_for().pool.connection_options.ssl
    assert context is not None
    assert sentinel.nodes.options.ssl is context
    assert Sentinel.from_url("redis+sentinel://h1/mymaster").nodes.options.ssl is None


def test_redis_from_url_points_sentinel_urls_to_sentinel() -> None:
    url = "redis+sentinel://:pw@h1/mymaster?sentinel_password=secret"
    with pytest.raises(asyncpool.InvalidURL, match=r"Sentinel\.from_url") as info:
        asyncpool.Redis.from_url(url)
    assert "secret" not in str(info.value)
    assert "pw" not in str(info.value)
