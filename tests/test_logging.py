"""What the pool logs through ``logging.getLogger("asyncpool")``, and what it never logs."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import asyncpool
from asyncpool._compat import timeout as compat_timeout
from asyncpool.testing import RedisServer, free_port, sync_command
from asyncpool.testing.external import ExternalRedisServer
from asyncpool.testing.pytest_plugin import AUTH_PASSWORD

AnyServer = RedisServer | ExternalRedisServer


class LogWatch(logging.Handler):
    """Collects every ``asyncpool`` record; :meth:`wait_for` awaits a matching one."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._loop = asyncio.get_running_loop()
        self._arrived = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self._loop.call_soon_threadsafe(self._arrived.set)

    def matching(self, pattern: str, level: int | None = None) -> list[logging.LogRecord]:
        return [
            r
            for r in self.records
            if re.search(pattern, r.getMessage()) and (level is None or r.levelno == level)
        ]

    async def wait_for(
        self, pattern: str, level: int | None = None, timeout: float = 10.0
    ) -> logging.LogRecord:
        """The first record matching ``pattern``, waiting up to ``timeout`` seconds for it."""
        async with compat_timeout(timeout):
            while True:
                found = self.matching(pattern, level)
                if found:
                    return found[0]
                self._arrived.clear()
                await self._arrived.wait()

    def texts(self) -> Iterator[str]:
        """Every record as a handler would write it, traceback included."""
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        for record in self.records:
            yield formatter.format(record)
            yield repr(record.args)


@pytest.fixture
async def logs() -> AsyncIterator[LogWatch]:
    watch = LogWatch()
    logger = logging.getLogger("asyncpool")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(watch)
    try:
        yield watch
    finally:
        logger.removeHandler(watch)
        logger.setLevel(old_level)


def make_pool(server: AnyServer, **options: Any) -> asyncpool.Pool:
    return asyncpool.Pool(host=server.host, port=server.port, password=server.password, **options)


def dead_port() -> int:
    return free_port("127.0.0.1")  # nothing listens there


async def test_records_come_from_asyncpool_loggers(redis_server: AnyServer, logs: LogWatch) -> None:
    async with make_pool(redis_server) as pool:
        await asyncpool.Redis(pool=pool).ping()
    assert logs.records
    assert all(r.name.startswith("asyncpool.") for r in logs.records)


async def test_connect_and_disconnect_with_reason(
    redis_server: AnyServer, logs: LogWatch, unique_key: str
) -> None:
    pool = make_pool(redis_server)
    redis = asyncpool.Redis(pool=pool)
    await redis.set(unique_key, "value-not-for-logs")
    address = pool.connection_options.address
    connected = logs.matching(rf"^connected <Connection #\d+ {re.escape(address)}", logging.DEBUG)
    assert len(connected) == 1
    pool.expire_all()
    assert logs.matching(r"^closed <Connection #\d+ .*>: expired$", logging.DEBUG)
    await redis.get(unique_key)
    await pool.close()
    assert logs.matching(r"^closed <Connection #\d+ .*>: pool closed$", logging.DEBUG)
    for text in logs.texts():
        assert unique_key not in text
        assert "value-not-for-logs" not in text


async def test_idle_connection_killed_by_the_server(
    redis_server: AnyServer, logs: LogWatch
) -> None:
    async with make_pool(redis_server) as pool:
        async with pool.acquire() as conn:
            client_id = await conn.execute_command("CLIENT", "ID")
        auth = (redis_server.password,) if redis_server.password else ()
        await asyncio.to_thread(
            sync_command,
            redis_server.host,
            redis_server.port,
            "CLIENT",
            "KILL",
            "ID",
            str(client_id),
            auth=auth,
        )
        record = await logs.wait_for(r"idle connection to .* lost", logging.INFO)
        assert pool.name in record.getMessage()
        await logs.wait_for(r"^closed <Connection .*>: lost while idle$", logging.DEBUG)
        assert pool.stats().idle == 0


async def test_health_check_failure(private_redis_server: RedisServer, logs: LogWatch) -> None:
    pool = make_pool(
        private_redis_server, min_idle=1, health_check_interval=0.05, connect_timeout=0.5
    )
    await pool.open()
    try:
        private_redis_server.pause()  # the idle connection stays open but PING gets no answer
        try:
            record = await logs.wait_for(r"health check failed", logging.WARNING)
        finally:
            private_redis_server.resume()
        message = record.getMessage()
        assert pool.name in message
        assert "no reply" in message  # the timeout, not a value
    finally:
        await pool.close()


async def test_dial_backoff(logs: LogWatch) -> None:
    port = dead_port()
    pool = asyncpool.Pool(port=port, dial_attempts=3, dial_backoff=0.01, dial_backoff_max=0.02)
    try:
        with pytest.raises(asyncpool.ConnectionError):
            async with pool.acquire():
                pass
    finally:
        await pool.close()
    retries = logs.matching(rf"dial to 127\.0\.0\.1:{port}/0 failed .*; retrying in", logging.DEBUG)
    assert len(retries) == 2  # between three attempts (detail: DEBUG)
    assert len(logs.matching(r"could not connect after 3 attempt", logging.WARNING)) == 1


async def test_circuit_breaker_open_and_close(
    private_redis_server: RedisServer, logs: LogWatch
) -> None:
    pool = make_pool(
        private_redis_server,
        dial_attempts=1,
        breaker_threshold=2,
        dial_backoff=0.01,
        dial_backoff_max=0.05,
    )
    try:
        private_redis_server.stop()
        for _ in range(2):
            with pytest.raises(asyncpool.ConnectionError):
                async with pool.acquire():
                    pass
        opened = await logs.wait_for(r"circuit breaker open after 2 failed dials", logging.WARNING)
        assert pool.name in opened.getMessage()
        assert pool.stats().breaker_open
        private_redis_server.restart()  # same port
        closed = await logs.wait_for(r"circuit breaker closed", logging.WARNING)
        assert pool.name in closed.getMessage()
        assert not pool.stats().breaker_open
    finally:
        await pool.close()


async def test_leak_warning_names_the_acquiring_code(
    redis_server: AnyServer, logs: LogWatch
) -> None:
    async with make_pool(redis_server, leak_threshold=0.05) as pool:
        async with pool.acquire():
            record = await logs.wait_for(r"held for .*leak_threshold", logging.WARNING)
        message = record.getMessage()
        assert pool.name in message
        assert "test_leak_warning_names_the_acquiring_code" in message  # the stack
        assert len(logs.matching(r"held for")) == 1  # warned once per lease


async def test_password_never_logged(
    auth_redis_server: RedisServer, logs: LogWatch, unique_key: str
) -> None:
    assert auth_redis_server.password == AUTH_PASSWORD
    async with make_pool(auth_redis_server, leak_threshold=0.05) as pool:
        redis = asyncpool.Redis(pool=pool)
        await redis.set(unique_key, "v")
        async with pool.acquire():
            await logs.wait_for(r"held for", logging.WARNING)
        pool.expire_all()
        await redis.get(unique_key)
        assert AUTH_PASSWORD not in repr(pool)
        assert AUTH_PASSWORD not in repr(pool.connection_options)

    wrong_user = make_pool(auth_redis_server, username="nobody", dial_attempts=1)
    with pytest.raises(asyncpool.AuthenticationError) as caught:
        await asyncpool.Redis(pool=wrong_user).ping()
    assert AUTH_PASSWORD not in str(caught.value)
    await wrong_user.close()

    dead = asyncpool.Pool(
        port=dead_port(),
        password=AUTH_PASSWORD,
        dial_attempts=2,
        dial_backoff=0.01,
        breaker_threshold=2,
    )
    with pytest.raises(asyncpool.ConnectionError) as failed:
        await asyncpool.Redis(pool=dead).ping()
    assert AUTH_PASSWORD not in str(failed.value)
    await dead.close()

    assert logs.matching(r"^connected ")
    assert logs.matching(r"retrying in")
    assert logs.matching(r"circuit breaker open")
    for text in logs.texts():
        assert AUTH_PASSWORD not in text
