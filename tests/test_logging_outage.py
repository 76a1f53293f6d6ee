"""Logs through an outage: a state change once, repeats at most once per interval, counted.

Before, every failed probe logged a WARNING (several a second for a whole
outage), and a script that configured no logging got them all on stderr.
"""

from __future__ import annotations

import itertools
import logging
import re
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import asyncpool
from asyncpool import _log_throttle
from asyncpool.testing import FaultProxy, RedisServer, free_port

from ._util import wait_until


def warnings_matching(caplog: pytest.LogCaptureFixture, pattern: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name.startswith("asyncpool")
        and r.levelno >= logging.WARNING
        and re.search(pattern, r.getMessage())
    ]


def fast_probing_pool(host: str, port: int, **options: Any) -> asyncpool.Pool:
    """A pool whose breaker opens after 3 failed dials and then probes every ~20 ms."""
    settings: dict[str, Any] = {
        "dial_attempts": 1,
        "breaker_threshold": 3,
        "dial_backoff": 0.005,
        "dial_backoff_max": 0.02,
        "connect_timeout": 1.0,
    }
    return asyncpool.Pool(host=host, port=port, **{**settings, **options})


async def fail_until_breaker_opens(pool: asyncpool.Pool) -> None:
    redis = asyncpool.Redis(pool=pool, retry=asyncpool.Retry(attempts=1))
    for _ in range(10):
        with pytest.raises(asyncpool.ConnectionError):
            await redis.ping()
        if pool.stats().breaker_open:
            return
    raise AssertionError("the breaker did not open")


def test_a_script_without_logging_setup_prints_nothing() -> None:
    # Python's last-resort handler writes WARNINGs to stderr when no handler is found.
    script = textwrap.dedent(
        f"""
        import asyncio, asyncpool

        async def main():
            pool = asyncpool.Pool(port={free_port()}, dial_attempts=1, breaker_threshold=1)
            try:
                await asyncpool.Redis(pool=pool).ping()
            except asyncpool.ConnectionError:
                print("failed as expected")
            finally:
                await pool.close()

        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "failed as expected"
    assert result.stderr == ""  # no "could not connect", no "circuit breaker open"
    handlers = logging.getLogger("asyncpool").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


async def test_a_killed_server_logs_each_state_change_once(
    private_redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncpool")
    server = private_redis_server
    pool = fast_probing_pool(server.host, server.port, min_idle=2)
    async with pool:
        await wait_until(lambda: pool.stats().idle == 2, what="min_idle")
        server.kill()
        await fail_until_breaker_opens(pool)
        errors_at_open = pool.stats().errors_total
        # many probes fail while the server is down: each used to log a WARNING
        await wait_until(
            lambda: pool.stats().errors_total >= errors_at_open + 20, what="20 failed probes"
        )
        server.restart()
        await wait_until(lambda: not pool.stats().breaker_open, what="breaker closed")
        assert await asyncpool.Redis(pool=pool).ping() is True

    failed_probes = [r for r in caplog.records if "probe failed" in r.getMessage()]
    assert len(failed_probes) >= 20  # still there for whoever wants them, at DEBUG
    assert all(r.levelno == logging.DEBUG for r in failed_probes)

    assert len(warnings_matching(caplog, r"circuit breaker open after 3 failed dials")) == 1
    closed = warnings_matching(caplog, r"circuit breaker closed")
    assert len(closed) == 1
    count = re.search(r"\((\d+) failed dials\)", closed[0].getMessage())
    assert count is not None
    assert int(count[1]) >= 3 + 20
    assert len(warnings_matching(caplog, r"could not connect")) <= 1
    assert warnings_matching(caplog, r"still unreachable") == []  # within the first interval
    assert len(warnings_matching(caplog, r"")) <= 3  # open, (could not connect), closed
    lost = [r for r in caplog.records if "idle connection to" in r.getMessage()]
    assert len(lost) <= 1  # two idle connections died at once: one record


@pytest.fixture
def interval(redis_server: Any, monkeypatch: pytest.MonkeyPatch) -> float:
    """A plain server (the proxy speaks no TLS or AUTH) and a short log-repeat interval."""
    if redis_server.password or redis_server.tls_port:
        pytest.skip("needs a plain server")
    monkeypatch.setattr(_log_throttle, "REPEAT_INTERVAL", 0.3)
    return 0.3


async def test_a_long_outage_repeats_at_most_once_per_interval_with_a_count(
    redis_server: Any, caplog: pytest.LogCaptureFixture, interval: float
) -> None:
    caplog.set_level(logging.WARNING, logger="asyncpool")
    async with FaultProxy(redis_server.host, redis_server.port) as proxy:
        pool = fast_probing_pool("127.0.0.1", proxy.port)
        async with pool:
            assert await asyncpool.Redis(pool=pool).ping() is True
            proxy.refuse(True)
            proxy.cut()
            await fail_until_breaker_opens(pool)
            await wait_until(
                lambda: len(warnings_matching(caplog, "still unreachable")) >= 3,
                what="three reminders",
            )
            proxy.refuse(False)
            await wait_until(lambda: not pool.stats().breaker_open, what="breaker closed")
        refused = proxy.connections_refused

    reminders = warnings_matching(caplog, r"still unreachable after \d+s")
    assert len(warnings_matching(caplog, r"circuit breaker open")) == 1
    assert len(warnings_matching(caplog, r"circuit breaker closed")) == 1
    counted = 0
    for earlier, later in itertools.pairwise(reminders):
        assert later.created - earlier.created >= interval * 0.9  # never more often
        match = re.search(r"\((\d+) more like this in the last \d+s\)$", later.getMessage())
        assert match, later.getMessage()
        counted += int(match[1])
    # the records plus what they counted stand for every refused probe, and no more
    assert counted + len(reminders) <= refused
    assert counted >= len(reminders)  # probes ran every ~20 ms: most were left out


async def test_a_short_outage_says_when_the_server_is_back(
    redis_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Below the breaker threshold there is no breaker record: the recovery is still said."""
    if redis_server.password or redis_server.tls_port:
        pytest.skip("needs a plain server")
    caplog.set_level(logging.WARNING, logger="asyncpool")
    async with FaultProxy(redis_server.host, redis_server.port) as proxy:
        pool = fast_probing_pool("127.0.0.1", proxy.port, breaker_threshold=50)
        redis = asyncpool.Redis(pool=pool, retry=asyncpool.Retry(attempts=1))
        async with pool:
            proxy.refuse(True)
            for _ in range(5):
                with pytest.raises(asyncpool.ConnectionError):
                    await redis.ping()
            proxy.refuse(False)
            assert await redis.ping() is True
    assert len(warnings_matching(caplog, r"could not connect after 1 attempt")) == 1
    back = warnings_matching(caplog, r"server answers again")
    assert len(back) == 1
    assert "(5 failed dials)" in back[0].getMessage()
    assert warnings_matching(caplog, r"circuit breaker") == []


def test_records_point_at_the_code_that_logged() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("asyncpool.test-throttle")
    handler = Keep()
    logger.addHandler(handler)
    try:
        throttle = _log_throttle.LogThrottle(logger, interval=60)
        for _ in range(3):
            throttle.log("k", logging.WARNING, "event %s", "x")
        assert throttle.forget("k") == 2
        assert throttle.forget("k") is None
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == ["event x"]
    assert records[0].filename == "test_logging_outage.py"


def info_matching(caplog: pytest.LogCaptureFixture, pattern: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name.startswith("asyncpool")
        and r.levelno >= logging.INFO
        and re.search(pattern, r.getMessage())
    ]


def assert_throttled(records: list[logging.LogRecord], interval: float) -> int:
    """Records of one repeating event are an interval apart; returns the repeats they count."""
    counted = 0
    for earlier, later in itertools.pairwise(records):
        assert later.created - earlier.created >= interval * 0.9  # never more often
        match = re.search(r"\((\d+) more like this in the last \d+s\)$", later.getMessage())
        assert match, later.getMessage()
        counted += int(match[1])
    return counted


async def test_pubsub_reconnect_failures_repeat_once_per_interval_with_a_count(
    redis_server: Any, caplog: pytest.LogCaptureFixture, interval: float
) -> None:
    caplog.set_level(logging.INFO, logger="asyncpool")
    async with FaultProxy(redis_server.host, redis_server.port) as proxy:
        pool = fast_probing_pool("127.0.0.1", proxy.port)
        async with (
            pool,
            asyncpool.Redis(pool=pool).pubsub(
                reconnect_backoff=0.005, reconnect_backoff_max=0.02
            ) as ps,
        ):
            await ps.subscribe("log-throttle")
            proxy.refuse(True)
            proxy.cut()
            await wait_until(
                lambda: len(info_matching(caplog, r"pubsub reconnect attempt")) >= 3,
                what="three reconnect failure records",
            )
            proxy.refuse(False)
            await wait_until(
                lambda: bool(info_matching(caplog, r"pubsub reconnected")), what="reconnected"
            )

    failed = info_matching(caplog, r"pubsub reconnect attempt \d+ to .* failed")
    attempts = [int(re.search(r"attempt (\d+)", r.getMessage())[1]) for r in failed]  # type: ignore[index]
    assert attempts[0] == 1  # the first failure at once
    counted = assert_throttled(failed, interval)
    for (earlier, later), record in zip(itertools.pairwise(attempts), failed[1:], strict=True):
        match = re.search(r"\((\d+) more like", record.getMessage())
        assert match is not None
        assert int(match[1]) == later - earlier - 1  # the count is exactly what was left out
    assert counted >= len(failed)  # attempts ran every ~20 ms: most were left out
    back = info_matching(caplog, r"pubsub reconnected")
    assert len(back) == 1  # the state change: once
    total = int(re.search(r"after (\d+) attempt", back[0].getMessage())[1])  # type: ignore[index]
    assert total > attempts[-1]
    assert len(info_matching(caplog, r"pubsub connection to .* lost")) == 1


async def test_cache_tracking_reconnect_failures_repeat_once_per_interval_with_a_count(
    redis_server: Any, caplog: pytest.LogCaptureFixture, interval: float
) -> None:
    caplog.set_level(logging.INFO, logger="asyncpool")
    async with (
        FaultProxy(redis_server.host, redis_server.port) as proxy,
        asyncpool.Redis(host="127.0.0.1", port=proxy.port, cache=True) as client,
    ):
        cache = client.cache
        assert cache is not None
        await client.get("log-throttle")
        await wait_until(lambda: cache.stats().tracking, what="tracking on")
        proxy.refuse(True)
        proxy.cut()
        # the reconnect backs off 50 ms, 100 ms, ... 2 s: two records take about 2 s
        await wait_until(
            lambda: len(info_matching(caplog, r"cache tracking reconnect failed")) >= 2,
            what="two reconnect failure records",
        )
        proxy.refuse(False)
        await wait_until(lambda: cache.stats().tracking, what="tracking on again")
        refused = proxy.connections_refused

    failed = info_matching(caplog, r"cache tracking reconnect failed")
    counted = assert_throttled(failed, interval)
    assert counted >= 1  # the first backoffs are shorter than the interval
    back = info_matching(caplog, r"cache tracking on again")
    assert len(back) == 1
    total = int(re.search(r"\((\d+) failed reconnect", back[0].getMessage())[1])  # type: ignore[index]
    assert total >= counted + len(failed)
    assert total <= refused  # no more failures than refused connections
