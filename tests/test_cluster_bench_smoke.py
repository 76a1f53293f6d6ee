"""The cluster benchmark runs end to end (tiny durations; no assertion on speed)."""

from __future__ import annotations

from asyncpool.testing import LocalCluster
from benchmarks import cluster as bench


async def test_cluster_benchmark_runs_every_workload_for_both_clients(
    redis_cluster: LocalCluster,
) -> None:
    results = await bench.run(redis_cluster.url, tasks=2, warmup=0.05, duration=0.2)
    assert set(results) == {"GET", "SET+GET", "pipeline 100", "MGET 10 slots"}
    for row in results.values():
        assert {"asyncpool", "redis-py"} <= set(row) <= {"asyncpool", "redis-py", "coredis"}
        assert all(rate > 0 for rate in row.values())
    table = bench.report(results)
    assert "vs redis-py" in table
    assert "MGET 10 slots" in table
