"""Stream commands added for redis-py parity: XCLAIM, XINFO, XGROUP *, XDELEX/XACKDEL."""

from __future__ import annotations

import pytest

import asyncpool

from ._commands import enc, need


@pytest.fixture
async def stream(client: asyncpool.Redis, unique_key: str) -> str:
    for i in range(3):
        await client.xadd(unique_key, {"n": i}, id=f"{i + 1}-0")
    await client.xgroup_create(unique_key, "g", id="0")
    return unique_key


async def test_xclaim(client: asyncpool.Redis, stream: str) -> None:
    await client.xreadgroup("g", "alice", {stream: ">"}, count=2)
    claimed = await client.xclaim(stream, "g", "bob", 0, ["1-0"])
    assert claimed == [(enc(client, "1-0"), enc(client, {"n": "0"}))]
    assert await client.xclaim(stream, "g", "bob", 0, ["2-0"], justid=True) == [enc(client, "2-0")]
    ids = await client.xclaim(
        stream, "g", "carol", 0, ["1-0"], idle=5000, retrycount=7, justid=True
    )
    assert ids == [enc(client, "1-0")]
    pending = await client.xpending_range(stream, "g", "-", "+", 10, consumername="carol")
    assert pending[0]["times_delivered"] == 7
    assert pending[0]["time_since_delivered"] >= 5000
    forced = await client.xclaim(stream, "g", "dave", 0, ["3-0"], force=True, justid=True)
    assert forced == [enc(client, "3-0")]


async def test_xinfo(client: asyncpool.Redis, stream: str) -> None:
    await client.xreadgroup("g", "alice", {stream: ">"}, count=1)
    info = await client.xinfo_stream(stream)
    assert info["length"] == 3
    assert info["groups"] == 1
    assert info["first-entry"] == (enc(client, "1-0"), enc(client, {"n": "0"}))
    assert info["last-entry"] == (enc(client, "3-0"), enc(client, {"n": "2"}))
    full = await client.xinfo_stream(stream, full=True)
    assert [entry[0] for entry in full["entries"]] == enc(client, ["1-0", "2-0", "3-0"])
    assert full["groups"][0]["name"] == enc(client, "g")
    assert full["groups"][0]["consumers"][0]["name"] == enc(client, "alice")
    (group,) = await client.xinfo_groups(stream)
    assert group["name"] == enc(client, "g")
    assert group["pending"] == 1
    (consumer,) = await client.xinfo_consumers(stream, "g")
    assert consumer["name"] == enc(client, "alice")
    assert consumer["pending"] == 1


async def test_xgroup_management(client: asyncpool.Redis, stream: str) -> None:
    assert await client.xgroup_createconsumer(stream, "g", "zed") == 1
    assert await client.xgroup_createconsumer(stream, "g", "zed") == 0
    await client.xreadgroup("g", "zed", {stream: ">"}, count=2)
    assert await client.xgroup_delconsumer(stream, "g", "zed") == 2
    assert await client.xgroup_setid(stream, "g", "0") is True
    assert await client.xgroup_destroy(stream, "g") is True
    assert await client.xgroup_destroy(stream, "g") is False
    await need(client, (7, 0), "ENTRIESREAD")
    assert await client.xgroup_create(stream, "h", id="0", entries_read=1) is True
    assert await client.xgroup_setid(stream, "h", "2-0", entries_read=2) is True
    (group,) = await client.xinfo_groups(stream)
    assert group["entries-read"] == 2


async def test_xdelex_xackdel(client: asyncpool.Redis, stream: str) -> None:
    await need(client, (8, 2), "XDELEX/XACKDEL")
    await client.xreadgroup("g", "alice", {stream: ">"}, count=2)
    # ACKED keeps an entry some group has not acknowledged yet
    assert await client.xdelex(stream, "1-0", ref_policy="ACKED") == [2]
    assert await client.xdelex(stream, "1-0", "9-0") == [1, -1]  # KEEPREF (default) deletes
    assert await client.xackdel(stream, "g", "2-0", ref_policy="ACKED") == [1]
    assert await client.xlen(stream) == 1
    assert await client.xtrim(stream, maxlen=0, approximate=False, ref_policy="KEEPREF") == 1
    new_id = await client.xadd(stream, {"n": 9}, maxlen=1, approximate=False, ref_policy="DELREF")
    assert new_id is not None
    assert await client.xlen(stream) == 1


def test_stream_bad_input(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.xclaim("k", "g", "c", 0, [])
    with pytest.raises(asyncpool.ConfigError):
        r.xdelex("k", "1-0", ref_policy="SOMETIMES")
    with pytest.raises(asyncpool.ConfigError):
        r.xackdel("k", "g")
