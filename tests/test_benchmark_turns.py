"""The benchmark's turns: clients alternate slices, paused outside their own (no speed asserted)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from benchmarks.clients import AsyncpoolAdapter, AsyncpoolOtelAdapter, client_available
from benchmarks.workloads import Workload, run_interleaved


class Logged(AsyncpoolAdapter):
    """An asyncpool adapter that records its pauses and resumes in a shared log."""

    def __init__(self, name: str, log: list[str], host: str, port: int) -> None:
        super().__init__(host, port, 4)
        self.log_name, self.log = name, log

    def pause(self) -> None:
        super().pause()
        self.log.append(f"pause {self.log_name}")

    def resume(self) -> None:
        super().resume()
        self.log.append(f"resume {self.log_name}")


WORKLOAD = Workload("get50", "GET, 4 tasks", 4, 4, ("a", "b"))


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


async def test_clients_take_turns_backwards_every_other_turn(redis_url: str) -> None:
    host, port = _address(redis_url)
    log: list[str] = []
    async with Logged("a", log, host, port) as a, Logged("b", log, host, port) as b:
        samples, errors = await run_interleaved([("a", a), ("b", b)], WORKLOAD, 0.01, 0.06, 3)
    assert errors == {}
    turns = [entry.split()[1] for entry in log if entry.startswith("resume")]
    assert turns == ["a", "b", "b", "a", "a", "b"]
    # each slice runs between its client's resume and its pause, nobody else's
    assert log[2:] == [f"{verb} {who}" for who in turns for verb in ("resume", "pause")]
    for sample in samples.values():
        assert sample.ops > 0
        assert sample.seconds == pytest.approx(0.06, abs=0.05)  # three slices of 0.02 s
        assert len(sample.latencies) >= sample.ops


async def test_a_failing_client_is_dropped_and_the_others_finish(redis_url: str) -> None:
    host, port = _address(redis_url)

    class Broken(AsyncpoolAdapter):
        async def pipeline_get(self, keys: object) -> None:
            raise RuntimeError("broken on purpose")

    pipeline = Workload("pipeline", "pipeline", 1, 4, ("ok", "broken"))
    async with AsyncpoolAdapter(host, port, 4) as ok, Broken(host, port, 4) as broken:
        samples, errors = await run_interleaved(
            [("ok", ok), ("broken", broken)], pipeline, 0.01, 0.04, 2
        )
    assert list(samples) == ["ok"]
    assert samples["ok"].ops > 0
    assert errors == {"broken": "RuntimeError: broken on purpose"}


async def test_paused_otel_client_collects_in_its_own_running_time(redis_url: str) -> None:
    if not client_available("asyncpool+otel"):
        pytest.skip("the OpenTelemetry SDK is not installed")
    host, port = _address(redis_url)
    async with AsyncpoolOtelAdapter(host, port, 4) as adapter:
        assert adapter.collector is not None  # collecting from the start, as before turns
        adapter.pause()
        assert adapter.collector is None
        assert 0.0 < adapter._due_in <= adapter.collect_every  # what was left of the interval
        left = adapter._due_in
        adapter.pause()  # twice: nothing more to stop
        assert adapter._due_in == left
        adapter.resume()
        assert adapter.collector is not None
        assert not adapter.collector.done()
