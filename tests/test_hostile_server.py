"""Servers that send what no real Redis sends: malformed replies, stray pushes, HTTP.

These are the only tests that talk to a fake server (``tests/_fake_server.py``):
a real ``redis-server`` cannot be made to misbehave this way.
"""

from __future__ import annotations

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
