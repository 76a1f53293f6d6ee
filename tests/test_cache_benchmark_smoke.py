"""The cache benchmark runs and reports every client (a smoke test, no speed assertions)."""

from __future__ import annotations

from benchmarks import cache as bench


async def test_cache_benchmark_reports_every_client_and_workload(redis_url: str) -> None:
    results = await bench.run_all(redis_url, tasks=4, duration=0.1, warmup=0.05)
    seen = {(r["workload"], r["client"]) for r in results}
    assert {(w, "asyncpool") for w in bench.WORKLOADS} <= seen
    assert {(w, "asyncpool+cache") for w in bench.WORKLOADS} <= seen
    cached = [r for r in results if r["client"] == "asyncpool+cache"]
    assert all(0.0 <= r["hit_rate"] <= 1.0 for r in cached)
    assert next(r for r in cached if r["workload"] == "hot-read")["hit_rate"] > 0.9
    table = bench.report(results)
    assert table.count("\n") == len(results) + 1
