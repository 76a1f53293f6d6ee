"""The cluster test harness: a real 3x2 cluster joined from Python, faults on demand."""

from __future__ import annotations

import pytest

from asyncpool.testing import LocalCluster, RedisServer
from asyncpool.testing.cluster import SLOTS


def test_cluster_is_joined_with_every_slot_served(redis_cluster: LocalCluster) -> None:
    primaries, replicas = redis_cluster.primaries(), redis_cluster.replicas()
    assert len(primaries) == 3
    assert len(replicas) == 3
    owners = {redis_cluster.owner(slot).port for slot in range(0, SLOTS, 97)}
    assert owners == {p.port for p in primaries}
    for node in redis_cluster.nodes:
        info = node.command("CLUSTER", "INFO")
        assert isinstance(info, bytes)
        assert b"cluster_state:ok" in info
        assert b"cluster_known_nodes:6" in info
    for primary in primaries:
        assert redis_cluster.replica_of(primary) in replicas


def test_kill_promotes_the_replica_and_restart_rejoins(
    redis_cluster_factory: type[LocalCluster],
) -> None:
    cluster = redis_cluster_factory(primaries=3, replicas=1)
    victim: RedisServer = cluster.owner(0)
    replica = cluster.replica_of(victim)
    cluster.kill(victim)
    assert not victim.is_running
    promoted = cluster.wait_for_promotion(victim)
    assert promoted.port == replica.port
    cluster.restart(victim)
    assert victim.is_running
    assert cluster.owner(0).port == replica.port  # the old primary came back as a replica
    assert victim in cluster.replicas()


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one primary"):
        LocalCluster(primaries=0)
