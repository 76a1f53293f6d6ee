"""FaultProxy: forwarding, each fault, counters and a teardown that never hangs."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

import pytest

from asyncpool.testing import FaultProxy, RedisServer, free_port, sync_command
from asyncpool.testing.external import ExternalRedisServer
from asyncpool.testing.raw import async_command, encode_command, read_reply_async

AnyServer = RedisServer | ExternalRedisServer

PING = b"*1\r\n$4\r\nPING\r\n"


async def connect(proxy: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(proxy.host, proxy.port)


async def read_eof(reader: asyncio.StreamReader, timeout: float = 2.0) -> bytes:
    """Read until the peer closes; a reset counts as a close."""
    try:
        return await asyncio.wait_for(reader.read(), timeout)
    except ConnectionResetError:
        return b""


def direct(server: AnyServer, *args: str) -> object:
    auth = (server.password,) if server.password else ()
    return sync_command(server.host, server.port, *args, auth=auth)


async def test_forwards_and_counts(fault_proxy: FaultProxy) -> None:
    assert fault_proxy.url == f"redis://127.0.0.1:{fault_proxy.port}/0"
    reader, writer = await connect(fault_proxy)
    assert await async_command(reader, writer, "PING") == "PONG"
    assert (fault_proxy.connections_total, fault_proxy.connections_open) == (1, 1)
    assert fault_proxy.bytes_upstream == len(PING)
    await fault_proxy.wait_for(lambda p: p.bytes_downstream == len(b"+PONG\r\n"))
    writer.close()
    await fault_proxy.wait_for(lambda p: p.connections_open == 0)
    second_reader, second_writer = await connect(fault_proxy)
    assert await async_command(second_reader, second_writer, "ECHO", "hi") == b"hi"
    assert fault_proxy.connections_total == 2
    second_writer.close()


async def test_delay_adds_latency(fault_proxy: FaultProxy) -> None:
    reader, writer = await connect(fault_proxy)
    assert await async_command(reader, writer, "PING") == "PONG"
    fault_proxy.delay(0.15)
    started = time.monotonic()
    assert await async_command(reader, writer, "PING") == "PONG"
    assert time.monotonic() - started >= 0.25  # 0.15 s each way
    fault_proxy.delay(0)
    assert await async_command(reader, writer, "PING") == "PONG"
    writer.close()


async def test_cut_closes_open_connections_only(fault_proxy: FaultProxy) -> None:
    reader, writer = await connect(fault_proxy)
    assert await async_command(reader, writer, "PING") == "PONG"
    assert fault_proxy.cut() == 1
    assert await read_eof(reader) == b""
    writer.close()
    await fault_proxy.wait_for(lambda p: p.connections_open == 0)
    new_reader, new_writer = await connect(fault_proxy)
    assert await async_command(new_reader, new_writer, "PING") == "PONG"
    new_writer.close()


async def test_refuse_closes_new_connections(fault_proxy: FaultProxy) -> None:
    fault_proxy.refuse(True)
    reader, writer = await connect(fault_proxy)
    writer.write(PING)
    assert await read_eof(reader) == b""
    writer.close()
    assert fault_proxy.connections_refused == 1
    assert fault_proxy.connections_open == 0
    fault_proxy.refuse(False)
    reader, writer = await connect(fault_proxy)
    assert await async_command(reader, writer, "PING") == "PONG"
    writer.close()


async def test_blackhole_forwards_nothing_until_lifted(fault_proxy: FaultProxy) -> None:
    reader, writer = await connect(fault_proxy)
    assert await async_command(reader, writer, "PING") == "PONG"
    fault_proxy.blackhole(True)
    writer.write(encode_command("ECHO", "held"))
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(read_reply_async(reader), 0.5)
    late_reader, late_writer = await connect(fault_proxy)  # accepted, kept open
    late_writer.write(PING)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(late_reader.read(1), 0.2)
    assert fault_proxy.connections_open == 2
    fault_proxy.blackhole(False)
    assert await asyncio.wait_for(read_reply_async(reader), 5) == b"held"
    assert await asyncio.wait_for(read_reply_async(late_reader), 5) == "PONG"
    writer.close()
    late_writer.close()


async def test_chunk_delivers_the_whole_reply_in_pieces(
    fault_proxy: FaultProxy, redis_server: AnyServer, unique_key: str
) -> None:
    value = b"x" * 300
    assert direct(redis_server, "SET", unique_key, value.decode()) == "OK"
    fault_proxy.chunk(1)
    loop = asyncio.get_running_loop()
    sock = socket.create_connection((fault_proxy.host, fault_proxy.port))
    sock.setblocking(False)
    expected = b"$300\r\n" + value + b"\r\n"
    received, reads = b"", 0
    with sock:
        await loop.sock_sendall(sock, encode_command("GET", unique_key))
        while len(received) < len(expected):
            piece = await asyncio.wait_for(loop.sock_recv(sock, 4096), 5)
            assert piece, "the proxy closed the connection early"
            received += piece
            reads += 1
    assert received == expected
    assert reads > 1


async def test_cut_after_request_applies_the_command_but_drops_the_reply(
    fault_proxy: FaultProxy, redis_server: AnyServer, unique_key: str
) -> None:
    reader, writer = await connect(fault_proxy)
    assert await async_command(reader, writer, "PING") == "PONG"
    fault_proxy.cut_after_request(True)
    writer.write(encode_command("INCR", unique_key))
    assert await read_eof(reader) == b""
    writer.close()
    assert direct(redis_server, "GET", unique_key) == b"1"
    # Still armed: a fresh connection's first request is cut too.
    reader, writer = await connect(fault_proxy)
    writer.write(encode_command("INCR", unique_key))
    assert await read_eof(reader) == b""
    writer.close()
    assert direct(redis_server, "GET", unique_key) == b"2"
    fault_proxy.cut_after_request(False)
    reader, writer = await connect(fault_proxy)
    assert await async_command(reader, writer, "INCR", unique_key) == 3
    writer.close()


async def test_cut_after_request_once_disarms_itself(
    fault_proxy: FaultProxy, redis_server: AnyServer, unique_key: str
) -> None:
    fault_proxy.cut_after_request(True, once=True)
    reader, writer = await connect(fault_proxy)
    writer.write(encode_command("INCR", unique_key))
    assert await read_eof(reader) == b""
    writer.close()
    reader, writer = await connect(fault_proxy)
    assert await async_command(reader, writer, "INCR", unique_key) == 2
    writer.close()
    assert direct(redis_server, "GET", unique_key) == b"2"


async def test_unreachable_target_closes_the_client() -> None:
    async with FaultProxy("127.0.0.1", free_port()) as proxy:
        reader, writer = await connect(proxy)
        assert await read_eof(reader) == b""
        await proxy.wait_for(lambda p: p.connections_open == 0)
        assert proxy.connections_total == 1
        writer.close()


async def test_aclose_never_hangs_and_closes_everything(redis_server: AnyServer) -> None:
    proxy = await FaultProxy(redis_server.host, redis_server.port).start()
    reader, writer = await connect(proxy)
    assert await async_command(reader, writer, "PING") == "PONG"
    proxy.blackhole(True)
    held_reader, held_writer = await connect(proxy)
    held_writer.write(PING)
    await proxy.wait_for(lambda p: p.connections_open == 2)
    await asyncio.wait_for(proxy.aclose(), 3)
    assert await read_eof(reader) == b""
    assert await read_eof(held_reader) == b""
    assert proxy.connections_open == 0
    with pytest.raises(OSError):
        await connect(proxy)
    writer.close()
    held_writer.close()


async def test_wait_for_times_out(fault_proxy: FaultProxy) -> None:
    with pytest.raises(TimeoutError):
        await fault_proxy.wait_for(lambda p: p.connections_open == 1, timeout=0.1)


def test_proxy_only_listens_on_loopback() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        FaultProxy("127.0.0.1", 6379, host="0.0.0.0")
    assert FaultProxy("::1", 6379).host == "::1"


async def test_tls_passes_through(tls_redis_server: RedisServer) -> None:
    tls = tls_redis_server.tls
    assert tls is not None
    async with FaultProxy(tls_redis_server.host, tls_redis_server.port, scheme="rediss") as proxy:
        assert proxy.url.startswith("rediss://127.0.0.1:")
        reader, writer = await asyncio.open_connection(
            proxy.host, proxy.port, ssl=tls.client_context(), server_hostname="127.0.0.1"
        )
        assert await async_command(reader, writer, "PING") == "PONG"
        writer.close()


def _ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback_available(), reason="no IPv6 loopback (::1) here")
async def test_ipv6_server_and_proxy(redis_server_factory: Callable[..., RedisServer]) -> None:
    server = redis_server_factory(host="::1")
    assert server.url == f"redis://[::1]:{server.port}/0"
    async with FaultProxy(server.host, server.port) as proxy:
        assert proxy.host == "::1"
        reader, writer = await connect(proxy)
        assert await async_command(reader, writer, "PING") == "PONG"
        proxy.cut()
        assert await read_eof(reader) == b""
        writer.close()
