"""Servers that send what no real Redis sends: malformed replies, stray pushes, HTTP.

These are the only tests that talk to a fake server (``tests/_fake_server.py``):
a real ``redis-server`` cannot be made to misbehave this way.
"""

from __future__ import annotations

import asyncio

import pytest

import asyncpool
from asyncpool.resp import HIREDIS_AVAILABLE

from ._fake_server import FakeServer, resp

PARSERS = ["python", "hiredis"] if HIREDIS_AVAILABLE else ["python"]


@pytest.mark.parametrize("parser", PARSERS)
async def test_bulk_string_without_its_crlf_is_a_protocol_error(parser: str) -> None:
    # "$3\r\nabcXX:1\r\n": a parser that skips the two bytes after "abc" unread would
    # return [b"abc", 1], a reply to GET b that the server never sent.
    def answer(command: list[bytes]) -> bytes:
        return b"$3\r\nabcXX" if command == [b"GET", b"a"] else b":1\r\n"

    async with (
        FakeServer(answer) as server,
        asyncpool.Redis(host=server.host, port=server.port, parser=parser) as redis,
    ):
        async with redis.pipeline(transaction=False) as pipe:
            pipe.get("a").get("b")
            with pytest.raises(asyncpool.ProtocolError, match="CRLF"):
                await pipe.execute()
        stats = redis.pool.stats()
        assert (stats.in_use, stats.total) == (0, 0)  # the connection was discarded


@pytest.mark.parametrize("parser", PARSERS)
async def test_well_formed_replies_from_the_fake_server_parse(parser: str) -> None:
    # the control for the test above: the same exchange, correctly terminated
    def answer(command: list[bytes]) -> bytes:
        return resp(b"abc") if command == [b"GET", b"a"] else resp(1)

    async with (
        FakeServer(answer) as server,
        asyncpool.Redis(host=server.host, port=server.port, parser=parser) as redis,
        redis.pipeline(transaction=False) as pipe,
    ):
        assert await pipe.get("a").get("b").execute() == [b"abc", 1]


@pytest.mark.parametrize("parser", PARSERS)
async def test_a_reply_read_with_a_malformed_one_reaches_its_caller_and_the_rest_fail(
    parser: str,
) -> None:
    # Both replies arrive in one read: the parser hands over the good one, then
    # the connection fails every caller still waiting (none may hang).
    def answer(command: list[bytes]) -> bytes:
        return resp(b"va") + b"?bad\r\n" if command == [b"GET", b"a"] else b""

    async with (
        FakeServer(answer) as server,
        asyncpool.Redis(
            host=server.host,
            port=server.port,
            parser=parser,
            multiplex=True,  # both GETs ride one connection
            max_connections=1,
            retry=asyncpool.Retry(attempts=1),
        ) as redis,
    ):
        assert await redis.ping() is True  # the connection is open before both ride it
        first, second = await asyncio.wait_for(
            asyncio.gather(redis.get("a"), redis.get("b"), return_exceptions=True), 10
        )
        assert first == b"va"
        assert isinstance(second, asyncpool.ProtocolError), second  # not a hang, not retried
        stats = redis.pool.stats()
        assert (stats.in_use, stats.total) == (0, 0)  # the connection was discarded


_CONFIRMATION = b">3\r\n$9\r\nsubscribe\r\n$4\r\nchan\r\n:1\r\n"


async def test_a_stray_subscribe_confirmation_is_not_a_get_reply() -> None:
    # A push shaped like a subscribe confirmation, sent while a GET waits: only a
    # pending (un)subscribe may take it as its reply.
    def answer(command: list[bytes]) -> bytes:
        if command[0] == b"GET":
            return _CONFIRMATION + resp(b"value")
        return _CONFIRMATION  # SUBSCRIBE chan

    async with (
        FakeServer(answer) as server,
        asyncpool.Redis(host=server.host, port=server.port, protocol=3) as redis,
    ):
        assert await redis.get("a") == b"value"
        async with redis.pool.acquire() as lease:  # the control: a SUBSCRIBE takes it
            assert await lease.execute_command("SUBSCRIBE", "chan") == [b"subscribe", b"chan", 1]


@pytest.mark.parametrize("parser", PARSERS)
async def test_a_server_that_is_not_redis_gets_a_clear_error(parser: str) -> None:
    # an HTTP server on the port: "HTTP/1.1 400 ..." is not RESP
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(http, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with asyncpool.Redis(host="127.0.0.1", port=port, parser=parser) as redis:
            with pytest.raises(asyncpool.ProtocolError) as info:
                await redis.ping()
            assert "does not look like a Redis server" in str(info.value)
            assert "HTTP/1.1" in str(info.value) or '"H"' in str(info.value)
            assert redis.pool.stats().total == 0
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("parser", PARSERS)
async def test_a_tls_port_spoken_to_in_plain_text_says_so(parser: str) -> None:
    # a TLS server answers a plain-text client with an alert record (no CRLF in it)
    async with (
        FakeServer(
            handshake=False, answer=lambda command: b"\x15\x03\x03\x00\x02\x02\x46"
        ) as server,
        asyncpool.Redis(host=server.host, port=server.port, parser=parser) as redis,
    ):
        with pytest.raises(
            asyncpool.ProtocolError, match="does not look like a Redis server"
        ) as info:
            await redis.ping()
        assert "rediss://" in str(info.value)


async def test_under_trio_the_error_says_asyncio_is_required() -> None:
    trio = pytest.importorskip("trio")
    import anyio

    async def use_it() -> None:
        async with asyncpool.Redis(host="127.0.0.1", port=9) as redis:
            await redis.ping()

    def run_under_trio() -> None:
        anyio.run(use_it, backend="trio")

    with pytest.raises(asyncpool.EventLoopError, match=r"asyncio only.*backend='asyncio'") as info:
        await asyncio.to_thread(run_under_trio)  # trio runs in its own thread, away from ours
    assert isinstance(info.value, RuntimeError)
    assert trio is not None


def test_without_any_event_loop_the_error_says_asyncio_is_required() -> None:
    # the message path itself, whatever async library is installed
    from asyncpool._compat import running_loop

    with pytest.raises(asyncpool.EventLoopError, match=r"asyncio\.run\(\)"):
        running_loop()


@pytest.mark.parametrize("parser", PARSERS)
async def test_a_reply_line_that_never_ends_fails_instead_of_hanging(parser: str) -> None:
    # no CRLF, ever: without a bound the connection would buffer up to max_bulk_length
    # (512 MiB) and, with socket_timeout off by default, wait for it forever
    async with (
        FakeServer(answer=lambda command: b"+" + b"x" * 100_000) as server,
        asyncpool.Redis(host=server.host, port=server.port, parser=parser) as redis,
    ):
        with pytest.raises(asyncpool.ProtocolError, match="longer than 65536"):
            await asyncio.wait_for(redis.get("k"), timeout=10)
        assert redis.pool.stats().total == 0
