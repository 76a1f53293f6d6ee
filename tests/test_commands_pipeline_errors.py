"""Pipeline error messages name the command's position and arguments, as redis-py's do."""

from __future__ import annotations

import pytest

import asyncpool
from asyncpool.client.commands._util import describe_command


async def test_error_names_position_and_arguments(r: asyncpool.Redis, unique_key: str) -> None:
    await r.set(unique_key, "text")
    async with r.pipeline() as pipe:
        pipe.get(unique_key).hset(unique_key, "f", "v")
        with pytest.raises(asyncpool.WrongTypeError) as info:
            await pipe.execute()
    message = str(info.value)
    assert message.startswith(f"Command # 2 (HSET {unique_key} f v) of pipeline caused error: ")
    assert "WRONGTYPE" in message
    assert info.value.command_index == 1  # type: ignore[attr-defined]


async def test_secrets_stay_out_of_the_message(r: asyncpool.Redis) -> None:
    async with r.pipeline() as pipe:
        pipe.execute_command("CONFIG", "SET", "requirepass", "hunter2", "no-such-option", "x")
        with pytest.raises(asyncpool.ResponseError) as info:
            await pipe.execute()
    assert "hunter2" not in str(info.value)
    assert "Command # 1 (CONFIG SET ...)" in str(info.value)


def test_long_commands_are_shortened() -> None:
    text = describe_command(("SET", "k", "x" * 500, b"\xff"))
    assert len(text) <= 100
    assert text.startswith("SET k")
    assert text.endswith("...")
    assert describe_command(("AUTH", "secret")) == "AUTH ..."
    assert describe_command(("ACL", "SETUSER", "u", ">pw")) == "ACL SETUSER ..."
