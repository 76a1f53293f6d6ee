"""The Sentinel test harness: a real primary, replica and three sentinels on loopback."""

from __future__ import annotations

from pathlib import Path

from asyncpool.testing import SentinelGroup
from asyncpool.testing.sentinel import wait_until


def _names(reply: object) -> set[tuple[str, int]]:
    assert isinstance(reply, list)
    out = set()
    for entry in reply:
        fields = dict(zip(entry[::2], entry[1::2], strict=True))
        out.add((fields[b"ip"].decode(), int(fields[b"port"])))
    return out


def test_group_settles_with_every_sentinel_agreeing(sentinel_group: SentinelGroup) -> None:
    group = sentinel_group
    primary, (replica,) = group.primary, group.replicas
    assert group.role(primary) == "master"
    assert group.role(replica) == "slave"
    addresses = set(group.sentinel_addresses)
    assert len(addresses) == 3
    for sentinel in group.sentinels:
        assert group.master_address(sentinel) == (primary.host, primary.port)
        replicas = sentinel.command("SENTINEL", "REPLICAS", group.service_name)
        assert _names(replicas) == {(replica.host, replica.port)}
        peers = sentinel.command("SENTINEL", "SENTINELS", group.service_name)
        assert _names(peers) == addresses - {(sentinel.host, sentinel.port)}
    # the URL names every sentinel and the service
    assert group.url(2).startswith("redis+sentinel://127.0.0.1:")
    assert group.url(2).endswith(f"/{group.service_name}/2")


def test_restarted_sentinel_keeps_the_config_it_rewrote(sentinel_group: SentinelGroup) -> None:
    group = sentinel_group
    sentinel = group.sentinels[2]
    conf = Path(sentinel.dir) / "redis.conf"
    before = conf.read_text()
    assert "sentinel myid" in before  # the sentinel rewrote its own file
    sentinel.restart()
    assert "sentinel myid" in conf.read_text()
    assert group.master_address(sentinel) == (group.primary.host, group.primary.port)
    group.wait_settled()


def test_paused_sentinel_does_not_answer_and_resumes(sentinel_group: SentinelGroup) -> None:
    group = sentinel_group
    sentinel = group.sentinels[1]
    sentinel.pause()
    try:
        try:
            sentinel.command("PING", timeout=0.3)
        except OSError:
            pass
        else:
            raise AssertionError("a paused sentinel answered")
        # the others still name the primary
        assert group.master_address() == (group.primary.host, group.primary.port)
    finally:
        sentinel.resume()
    assert sentinel.command("PING") == "PONG"


def test_failover_swaps_primary_and_replica(sentinel_group: SentinelGroup) -> None:
    group = sentinel_group
    old, new = group.failover()
    assert old is not new
    assert group.primary is new
    assert group.role(new) == "master"
    assert wait_until(lambda: group.role(old) == "slave", 10, "old primary demoted")
    for sentinel in group.sentinels:
        assert group.master_address(sentinel) == (new.host, new.port)
