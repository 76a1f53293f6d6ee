"""The Command value: classification by normalised name, and state tracking that follows it.

Issue 18, defects 1 and 2: a command name in any case (str or bytes) must be
tracked like its upper-case form, and a user RESET / HELLO / AUTH / CLIENT
SETNAME must make the pool redo the handshake before the connection is reused.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import asyncpool
from asyncpool.command import Command, blocking_timeout, classify, command_name
from asyncpool.testing.pytest_plugin import AUTH_PASSWORD

NAME_FORMS = ["select", "Select", "SELECT", b"sElEcT", b"SELECT"]


@pytest.mark.parametrize("name", NAME_FORMS)
def test_any_case_and_bytes_classify_alike(name: Any) -> None:
    command = Command((name, 5))
    assert command.name == "SELECT"
    assert command.changes_state
    assert command.retry_safe
    assert not command.blocking
    assert classify(name) is classify(name)  # cached per raw name


def test_fields_of_some_commands() -> None:
    get = Command(("get", "k"))
    assert (get.name, get.retry_safe, get.read_only) == ("GET", True, True)
    assert not get.changes_state
    incr = Command((b"Incr", "k"))
    assert (incr.retry_safe, incr.read_only) == (False, False)
    assert Command(("INCR", "k"), retryable=True).retry_safe
    assert not Command(("GET", "k"), retryable=False).retry_safe
    blpop = Command(("bLpOp", "a", "b", 2))
    assert blpop.blocking
    assert blpop.blocking_timeout == 2.0
    xread = Command(("xread", "block", "0", "streams", "s", "$"))
    assert xread.blocking_timeout == float("inf")
    assert Command(("Client", "Reply", "Off")).suppresses_replies
    assert Command((b"client", b"reply", b"skip")).suppresses_replies
    assert not Command(("CLIENT", "REPLY", "ON")).suppresses_replies
    assert Command(("Client", "setName", "x")).subcommand == "SETNAME"
    assert Command(()).name == ""


def test_a_command_reads_as_its_arguments() -> None:
    command = Command(("Get", "k"), callback=len)
    assert (command[0], len(command), list(command)) == ("Get", 2, ["Get", "k"])
    assert command.callback is len
    assert command_name(command) == "GET"
    assert blocking_timeout(("WAIT", 1, 1500)) == 1.5


def test_keys_come_from_the_key_specs() -> None:
    assert Command(("MSET", "a", 1, "b", 2)).keys == ("a", "b")
    assert Command(("Eval", "return 1", 2, "x", "y", "arg")).key_indices == (3, 4)
    assert Command((b"xread", "COUNT", 1, "STREAMS", "s1", "s2", "0", "0")).keys == ("s1", "s2")
    assert Command(("PING",)).keys == ()


# -- defect 1: the name's case must not defeat state tracking --------------------------
@pytest.mark.parametrize("name", ["Select", b"select", "sElEcT"])
async def test_select_in_any_case_does_not_leak_the_db(redis_url: str, name: Any) -> None:
    async with asyncpool.Redis.from_url(redis_url, max_connections=1) as redis:
        await redis.execute_command(name, 5)
        info = await redis.execute_command("CLIENT", "INFO")
        assert b" db=0 " in info


@pytest.mark.parametrize("name", ["Multi", b"multi"])
async def test_multi_in_any_case_does_not_leak_queued(
    redis_url: str, unique_key: str, name: Any
) -> None:
    async with asyncpool.Redis.from_url(redis_url, max_connections=1) as redis:
        await redis.set(unique_key, "v")
        assert await redis.execute_command(name) == b"OK"
        assert await redis.get(unique_key) == b"v"  # not b"QUEUED"


async def test_client_reply_off_in_any_case_does_not_hang(redis_url: str) -> None:
    async with asyncpool.Redis.from_url(redis_url, max_connections=1) as redis:
        first = await redis.execute_command("CLIENT", "ID")
        assert await redis.execute_command("Client", "Reply", "Off") is None
        # the default socket_timeout is None: a hang would be forever
        assert await asyncio.wait_for(redis.execute_command("PING"), 10) == b"PONG"
        assert await asyncio.wait_for(redis.execute_command("CLIENT", "ID"), 10) != first


# -- defect 2: commands that undo the handshake lead to a new one -----------------------
def _auth_client(server: Any, **options: Any) -> asyncpool.Redis:
    return asyncpool.Redis(
        host=server.host, port=server.port, password=AUTH_PASSWORD, max_connections=1, **options
    )


async def _server_protocol(redis: asyncpool.Redis) -> int:
    """The protocol the server speaks on this connection, read from a reply's shape.

    (CLIENT INFO only shows ``resp=`` from Redis 7.0; an empty hash is a map in
    RESP3 and an array in RESP2 on every version.)
    """
    raw = await redis.execute_command("HGETALL", "asyncpool:test:no-such-hash")
    return 3 if isinstance(raw, dict) else 2


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("name", ["RESET", "reset", b"Reset"])
async def test_user_reset_is_followed_by_a_new_handshake(
    auth_redis_server: Any, protocol: int, name: Any
) -> None:
    async with _auth_client(auth_redis_server, protocol=protocol, client_name="me") as redis:
        assert await redis.execute_command(name) == b"RESET"
        # the next caller is authenticated again, on its db, named, on its protocol
        assert await redis.execute_command("ACL", "WHOAMI") == b"default"
        info = await redis.execute_command("CLIENT", "INFO")
        assert b" db=0 " in info
        assert b" name=me " in info
        assert await _server_protocol(redis) == protocol
        assert redis.pool.stats().total == 1


@pytest.mark.parametrize(
    "args",
    [
        ("CLIENT", "SETNAME", "someone-else"),
        ("Client", "SetName", "someone-else"),
        ("HELLO", 2),
        ("AUTH", "alice", "alice-pw"),
    ],
)
async def test_identity_changes_are_undone_before_reuse(
    auth_redis_server: Any, args: tuple[Any, ...]
) -> None:
    async with _auth_client(auth_redis_server, client_name="me") as redis:
        await redis.execute_command(*args)
        assert await redis.execute_command("ACL", "WHOAMI") == b"default"
        info = await redis.execute_command("CLIENT", "INFO")
        assert b" name=me " in info
        assert await _server_protocol(redis) == 3
