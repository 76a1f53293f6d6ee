"""Helpers for the command-family tests: expected values in the client's string type,
and skipping by server version."""

from __future__ import annotations

from typing import Any

import pytest

import asyncpool


def decodes(client: Any) -> bool:
    """True when ``client`` returns ``str`` replies."""
    return bool(client.pool.connection_options.decode_responses)


def enc(client: Any, value: Any) -> Any:
    """``value`` with every ``str`` inside it as the client returns strings.

    Lists, tuples, sets and dicts (keys and values) are converted deeply;
    numbers, ``None`` and bools are left alone.
    """
    if isinstance(value, str):
        return value if decodes(client) else value.encode()
    if isinstance(value, list):
        return [enc(client, v) for v in value]
    if isinstance(value, tuple):
        return tuple(enc(client, v) for v in value)
    if isinstance(value, set):
        return {enc(client, v) for v in value}
    if isinstance(value, dict):
        return {enc(client, k): enc(client, v) for k, v in value.items()}
    return value


async def server_version(client: asyncpool.Redis) -> tuple[int, ...]:
    """``redis_version`` from INFO server, as a tuple of ints."""
    info = await client.info("server")
    return tuple(int(part) for part in str(info["redis_version"]).split("."))


async def need(client: asyncpool.Redis, version: tuple[int, ...], what: str) -> None:
    """Skip the test when the server is older than ``version`` (by INFO, not by errors)."""
    have = await server_version(client)
    if have < version:
        pytest.skip(f"{what} needs Redis {'.'.join(map(str, version))}, server is {have}")
