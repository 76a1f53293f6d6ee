"""ACL commands."""

from __future__ import annotations

import pytest

import asyncpool
from asyncpool.testing import RedisServer

from ._commands import enc, need


async def test_acl_read_only(client: asyncpool.Redis) -> None:
    # always str, as redis-py gives them
    assert "read" in await client.acl_cat()
    assert "get" in await client.acl_cat("string")
    assert await client.acl_whoami() == "default"
    assert len(await client.acl_genpass()) == 64
    assert len(await client.acl_genpass(128)) == 32
    assert any("SETUSER" in line for line in await client.acl_help())
    assert "default" in await client.acl_users()
    assert any(line.startswith("user default") for line in await client.acl_list())


async def test_acl_users_lifecycle(client: asyncpool.Redis, unique_key: str) -> None:
    name = "u" + unique_key.replace(":", "")[-12:]
    try:
        ok = await client.acl_setuser(
            name,
            enabled=True,
            passwords=["+first", "second"],
            categories=["+@string"],
            commands=["-append"],
            keys=["cache:*"],
            channels=["news.*"],
            reset=True,
            reset_channels=True,  # Redis 6.2 starts a reset user with every channel
        )
        assert ok is True
        user = await client.acl_getuser(name)
        assert user is not None
        assert "on" in user["flags"]
        assert len(user["passwords"]) == 2
        assert user["enabled"] is True
        assert user["categories"] == ["-@all", "+@string"]
        assert user["commands"] == ["-append"]
        assert user["keys"] in (["~cache:*"], ["cache:*"])  # Redis 6.2 drops the ~ and &
        assert user["channels"] in (["&news.*"], ["news.*"])
        assert await client.acl_setuser(name, passwords=["-first"], nopass=False) is True
        assert len((await client.acl_getuser(name))["passwords"]) == 1  # type: ignore[index]
        await need(client, (7, 0), "ACL DRYRUN and selectors")
        assert await client.acl_dryrun(name, "GET", "cache:1") == enc(client, "OK")
        assert await client.acl_dryrun(name, "GET", "other") != enc(client, "OK")
        assert await client.acl_setuser(name, enabled=True, selectors=[("+get", "other:*")])
        selectors = (await client.acl_getuser(name))["selectors"]  # type: ignore[index]
        assert selectors[0]["keys"] == "~other:*"
    finally:
        assert await client.acl_deluser(name) == 1
    assert await client.acl_getuser(name) is None


async def test_acl_log_and_files(private_redis_server: RedisServer, protocol: int) -> None:
    async with asyncpool.Redis.from_url(private_redis_server.url, protocol=protocol) as r:
        await r.acl_setuser("limited", enabled=True, passwords=["pw"], commands=["+ping"])
        assert await r.acl_log_reset() is True
        async with asyncpool.Redis.from_url(
            private_redis_server.url, username="limited", password="pw", protocol=protocol
        ) as limited:
            with pytest.raises(asyncpool.ResponseError, match="NOPERM"):
                await limited.get("k")
        (entry,) = await r.acl_log(count=1)
        assert entry["reason"] == "command"
        assert entry["username"] == "limited"
        assert isinstance(entry["age-seconds"], float)
        assert entry["client-info"]["user"] == "limited"
        with pytest.raises(asyncpool.ResponseError, match="ACL file"):
            await r.acl_load()
        with pytest.raises(asyncpool.ResponseError, match="ACL file"):
            await r.acl_save()


def test_acl_bad_input(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.acl_genpass(0)
