"""The connection layer against real servers: handshake, auth, TLS, unix, secrets."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

import asyncpool
from asyncpool.options import ConnectionOptions
from asyncpool.testing import FaultProxy

SECRET = "s3cret-pw"


async def _connect(**options: Any) -> asyncpool.Connection:
    conn = asyncpool.Connection(ConnectionOptions(**options))
    await conn.connect()
    return conn


async def test_hello_3_by_default_and_resp2_on_request(redis_server: Any) -> None:
    for protocol in (3, 2):
        conn = await _connect(host=redis_server.host, port=redis_server.port, protocol=protocol)
        try:
            assert conn.protocol_version == protocol
            hello = await conn.execute_command("HELLO")
            proto = hello[b"proto"] if isinstance(hello, dict) else hello[hello.index(b"proto") + 1]
            assert proto == protocol
        finally:
            conn.close()


async def test_falls_back_to_resp2_when_the_server_lacks_hello(redis_server_factory: Any) -> None:
    server = redis_server_factory(extra_args=["--rename-command", "HELLO", '""'])
    conn = await _connect(host=server.host, port=server.port, client_name="old-server")
    try:
        assert conn.protocol_version == 2
        assert await conn.execute_command("CLIENT", "GETNAME") == b"old-server"
    finally:
        conn.close()


async def test_handshake_sets_name_db_and_library(redis_server: Any) -> None:
    conn = await _connect(host=redis_server.host, port=redis_server.port, db=5, client_name="w-1")
    try:
        info = await conn.execute_command("CLIENT", "INFO")
        assert b" db=5 " in info
        assert b" name=w-1 " in info
        if redis_server.version >= (7, 2, 0):
            assert b"lib-name=asyncpool" in info
    finally:
        conn.close()


async def test_wrong_password_fails_after_exactly_one_connection(auth_redis_server: Any) -> None:
    async with FaultProxy(auth_redis_server.host, auth_redis_server.port) as proxy:
        pool = asyncpool.Pool(host=proxy.host, port=proxy.port, password="wrong-" + SECRET)
        async with asyncpool.Redis(pool=pool) as redis:
            with pytest.raises(asyncpool.AuthenticationError) as info:
                await redis.execute_command("PING")
            assert proxy.connections_total == 1
            assert SECRET not in str(info.value)
            assert SECRET not in repr(info.value)
            assert pool.stats().total == 0


async def test_missing_password_raises_authentication_error(auth_redis_server: Any) -> None:
    for protocol in (2, 3):
        with pytest.raises(asyncpool.AuthenticationError):
            await _connect(
                host=auth_redis_server.host, port=auth_redis_server.port, protocol=protocol
            )


async def test_password_and_acl_user_authenticate(auth_redis_server: Any) -> None:
    host, port = auth_redis_server.host, auth_redis_server.port
    for protocol in (2, 3):
        conn = await _connect(host=host, port=port, password=SECRET, protocol=protocol)
        assert await conn.execute_command("ACL", "WHOAMI") == b"default"
        conn.close()
        conn = await _connect(
            host=host, port=port, username="alice", password="alice-pw", protocol=protocol
        )
        assert await conn.execute_command("ACL", "WHOAMI") == b"alice"
        conn.close()


async def test_secrets_never_appear_in_reprs(auth_redis_server: Any) -> None:
    options = ConnectionOptions(
        host=auth_redis_server.host, port=auth_redis_server.port, password=SECRET
    )
    conn = asyncpool.Connection(options)
    await conn.connect()
    pool = asyncpool.Pool(options)
    redis = asyncpool.Redis(pool=pool)
    try:
        for obj in (options, conn, conn.info(), pool, pool.stats(), redis):
            assert SECRET not in repr(obj)
            assert SECRET not in str(obj)
    finally:
        conn.close()
        await pool.close()


async def test_unix_socket(unix_redis_server: Any) -> None:
    conn = await _connect(path=unix_redis_server.unix_path)
    try:
        assert await conn.execute_command("PING") == b"PONG"
    finally:
        conn.close()


async def test_tls_verifies_the_certificate_by_default(tls_redis_server: Any) -> None:
    host, port = tls_redis_server.host, tls_redis_server.port
    with pytest.raises(asyncpool.ConnectionError, match=r"(?i)certificate"):
        await _connect(host=host, port=port, ssl=ssl.create_default_context())
    conn = await _connect(host=host, port=port, ssl=tls_redis_server.tls.client_context())
    try:
        assert await conn.execute_command("PING") == b"PONG"
    finally:
        conn.close()


async def test_reply_split_into_single_bytes_parses(
    fault_proxy: FaultProxy, unique_key: str
) -> None:
    value = bytes(range(256)) * 8 + b"\r\n$-1\r\n*3\r\n"
    conn = await _connect(host=fault_proxy.host, port=fault_proxy.port)
    try:
        await conn.execute_command("SET", unique_key, value)
        await conn.execute_command("RPUSH", unique_key + "l", "a", "bb", value)
        fault_proxy.chunk(1)
        assert await conn.execute_command("GET", unique_key) == value
        assert await conn.execute_command("LRANGE", unique_key + "l", 0, -1) == [b"a", b"bb", value]
        assert await conn.execute_command("HELLO") is not None
    finally:
        conn.close()


async def test_error_reply_is_raised_and_connection_stays_usable(
    redis_server: Any, unique_key: str
) -> None:
    conn = await _connect(host=redis_server.host, port=redis_server.port)
    try:
        await conn.execute_command("LPUSH", unique_key, "x")
        with pytest.raises(asyncpool.WrongTypeError):
            await conn.execute_command("GET", unique_key)
        assert await conn.execute_command("PING") == b"PONG"
        assert conn.state == "clean"
    finally:
        conn.close()


async def test_oversized_reply_is_a_protocol_error_and_the_pool_stays_healthy(
    redis_server: Any, unique_key: str
) -> None:
    limits = asyncpool.ReplyLimits(max_bulk_length=1024)
    pool = asyncpool.Pool(host=redis_server.host, port=redis_server.port, limits=limits)
    async with asyncpool.Redis(pool=pool) as redis:
        await redis.execute_command("SET", unique_key, b"x" * 4096)
        with pytest.raises(asyncpool.ProtocolError):
            await redis.execute_command("GET", unique_key)
        assert pool.stats().in_use == 0
        assert await redis.execute_command("STRLEN", unique_key) == 4096


async def test_connect_refused_is_a_connection_error() -> None:
    from asyncpool.testing import free_port

    with pytest.raises(asyncpool.ConnectionError, match="cannot connect"):
        await _connect(host="127.0.0.1", port=free_port())


async def test_rediss_url_verifies_by_default_and_trusts_a_given_ca(tls_redis_server: Any) -> None:
    url = f"rediss://{tls_redis_server.host}:{tls_redis_server.port}/0"
    async with asyncpool.Redis.from_url(url, retry=asyncpool.Retry(attempts=1)) as redis:
        with pytest.raises(asyncpool.ConnectionError, match=r"(?i)certificate"):
            await redis.execute_command("PING")
    async with asyncpool.Redis.from_url(
        f"{url}?ssl_ca_certs={tls_redis_server.tls.ca_path}"
    ) as redis:
        assert await redis.execute_command("PING") == b"PONG"


async def test_pool_options_come_from_url_query(redis_server: Any) -> None:
    url = (
        f"redis://{redis_server.host}:{redis_server.port}/2?max_connections=7&min_idle=1"
        "&acquire_timeout=2.5&socket_timeout=3&idle_timeout=none&lifo=false&client_name=q"
    )
    async with asyncpool.Pool.from_url(url) as pool:
        assert pool.options.max_connections == 7
        assert pool.options.min_idle == 1
        assert pool.options.acquire_timeout == 2.5
        assert pool.options.idle_timeout is None
        assert pool.options.lifo is False
        assert pool.connection_options.socket_timeout == 3
        assert pool.connection_options.db == 2
        assert pool.stats().idle == 1
        async with pool.acquire() as lease:
            assert await lease.execute_command("CLIENT", "GETNAME") == b"q"


async def test_bad_url_names_the_bad_part_and_hides_the_password() -> None:
    for url in (
        f"redis://user:{SECRET}@host:notaport/0",
        f"redis://user:{SECRET}@host:6379/zero",
        f"redis://user:{SECRET}@host:6379/0?max_connections=-1",
        f"redis://user:{SECRET}@host:6379/0?no_such_option=1",
        f"http://user:{SECRET}@host:6379/0",
    ):
        with pytest.raises(asyncpool.InvalidURL) as info:
            asyncpool.Redis.from_url(url)
        assert isinstance(info.value, ValueError)
        assert SECRET not in str(info.value)
