"""Explicit session state: one value from which ``is_dirty`` and ``state`` both derive."""

from __future__ import annotations

from typing import Any

import pytest

import asyncpool
from asyncpool.command import Command
from asyncpool.connection import ConnectionState
from asyncpool.session import Session, follow

OK = b"OK"


def _after(*commands: tuple[Any, ...], authenticated: bool = False) -> Session:
    session = Session(db=0, protocol=3)
    for args in commands:
        session = follow(session, Command(args), OK, authenticated=authenticated)
    return session


def test_commands_move_the_session() -> None:
    assert _after(("MULTI",)).multi
    assert not _after(("MULTI",), ("EXEC",)).multi
    assert not _after(("WATCH", "k"), ("multi",), ("exec",)).watching
    assert _after(("Select", b"4")).db == 4
    assert _after(("SUBSCRIBE", "c")).subscribed
    assert _after(("CLIENT", "SETNAME", b"w1")).name == "w1"
    assert _after(("HELLO", 2)).protocol == 2
    assert _after(("AUTH", "pw")).changed
    assert _after(("CLIENT", "TRACKING", "ON")).changed
    reset = _after(("SELECT", 3), ("MULTI",), ("RESET",))
    assert reset == Session(db=0, protocol=2)  # RESP2, db 0, no name, out of MULTI
    assert _after(("RESET",), authenticated=True).changed  # and logged out


def test_an_error_reply_changes_nothing_but_ends_exec() -> None:
    session = _after(("MULTI",), ("WATCH", "k"))
    error = asyncpool.ResponseError("EXECABORT Transaction discarded")
    assert follow(session, Command(("SELECT", 2)), error, authenticated=False) == session
    after_exec = follow(session, Command(("EXEC",)), error, authenticated=False)
    assert not after_exec.multi
    assert not after_exec.watching


async def test_dirty_and_state_agree(redis_server: Any) -> None:
    conn = asyncpool.Connection(
        asyncpool.ConnectionOptions(host=redis_server.host, port=redis_server.port)
    )
    await conn.connect()
    try:
        assert (conn.state, conn.is_dirty) == (ConnectionState.CLEAN, False)
        await conn.execute_command("WATCH", "k")
        assert (conn.state, conn.is_dirty) == (ConnectionState.WATCHING, True)
        await conn.execute_command("MULTI")
        assert (conn.state, conn.is_dirty) == (ConnectionState.MULTI, True)
        await conn.execute_command("DISCARD")
        assert (conn.state, conn.is_dirty) == (ConnectionState.CLEAN, False)
        await conn.execute_command("SELECT", 1)
        assert conn.is_dirty
        assert conn.session.db == 1
        await conn.execute_command("select", 0)  # back where the handshake left it
        assert not conn.is_dirty
        assert conn.pending_replies == 0
    finally:
        conn.close()


@pytest.mark.parametrize("protocol", [2, 3])
async def test_returning_to_the_baseline_needs_no_reset(redis_server: Any, protocol: int) -> None:
    pool = asyncpool.Pool(
        host=redis_server.host,
        port=redis_server.port,
        max_connections=1,
        client_name="svc",
        protocol=protocol,
    )
    async with pool:
        async with pool.acquire() as lease:
            first = await lease.execute_command("CLIENT", "ID")
            await lease.execute_command("CLIENT", "SETNAME", "other")
            assert lease.connection.is_dirty
            await lease.execute_command("CLIENT", "SETNAME", "svc")
            assert not lease.connection.is_dirty
        async with pool.acquire() as lease:
            assert await lease.execute_command("CLIENT", "ID") == first
            assert lease.connection.session.name == "svc"
