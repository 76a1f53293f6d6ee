"""Sorted-set commands added for redis-py parity (classic ranges, set operations, ZMPOP)."""

from __future__ import annotations

import pytest

import asyncpool

from ._commands import enc, need


@pytest.fixture
async def zkey(client: asyncpool.Redis, unique_key: str) -> str:
    await client.zadd(unique_key, {"a": 1, "b": 2, "c": 3, "d": 4})
    return unique_key


async def test_classic_ranges(client: asyncpool.Redis, zkey: str) -> None:
    assert await client.zrangebyscore(zkey, 2, "+inf") == enc(client, ["b", "c", "d"])
    assert await client.zrangebyscore(zkey, "(1", 3, start=1, num=1) == enc(client, ["c"])
    assert await client.zrangebyscore(zkey, 1, 2, withscores=True) == enc(
        client, [("a", 1.0), ("b", 2.0)]
    )
    assert await client.zrevrangebyscore(zkey, 4, 3) == enc(client, ["d", "c"])
    assert await client.zrevrangebyscore(zkey, "+inf", "-inf", 0, 1, withscores=True) == enc(
        client, [("d", 4.0)]
    )
    assert await client.zrevrange(zkey, 0, 1) == enc(client, ["d", "c"])
    assert await client.zrevrange(zkey, 0, 0, withscores=True, score_cast_func=int) == enc(
        client, [("d", 4)]
    )
    assert await client.zrange(zkey, 0, 0, withscores=True, score_cast_func=int) == enc(
        client, [("a", 1)]
    )


async def test_lex_ranges(client: asyncpool.Redis, unique_key: str) -> None:
    await client.zadd(unique_key, {"a": 0, "b": 0, "c": 0, "d": 0})
    assert await client.zrangebylex(unique_key, "[b", "+") == enc(client, ["b", "c", "d"])
    assert await client.zrangebylex(unique_key, "-", "+", 1, 2) == enc(client, ["b", "c"])
    assert await client.zrevrangebylex(unique_key, "(c", "-") == enc(client, ["b", "a"])
    assert await client.zlexcount(unique_key, "[b", "[c") == 2
    assert await client.zremrangebylex(unique_key, "[a", "(c") == 2
    assert await client.zrange(unique_key, 0, -1) == enc(client, ["c", "d"])


async def test_remove_ranges(client: asyncpool.Redis, zkey: str) -> None:
    assert await client.zremrangebyscore(zkey, "-inf", "(2") == 1
    assert await client.zremrangebyrank(zkey, -1, -1) == 1
    assert await client.zrange(zkey, 0, -1) == enc(client, ["b", "c"])


async def test_zrank_withscore(client: asyncpool.Redis, zkey: str) -> None:
    assert await client.zrank(zkey, "c") == 2
    assert await client.zrevrank(zkey, "c") == 1
    await need(client, (7, 2), "ZRANK WITHSCORE")
    assert await client.zrank(zkey, "c", withscore=True) == [2, 3.0]
    assert await client.zrevrank(zkey, "c", True) == [1, 3.0]
    assert await client.zrank(zkey, "none", withscore=True) is None


async def test_store_operations(client: asyncpool.Redis, zkey: str, unique_key: str) -> None:
    other, out = unique_key + "o", unique_key + "out"
    await client.zadd(other, {"b": 10, "e": 5})
    assert await client.zunionstore(out, [zkey, other]) == 5
    assert await client.zscore(out, "b") == 12.0
    assert await client.zinterstore(out, {zkey: 2, other: 1}, aggregate="max") == 1
    assert await client.zrange(out, 0, -1, withscores=True) == enc(client, [("b", 10.0)])
    assert await client.zdiffstore(out, [zkey, other]) == 3
    assert await client.zrangestore(out, zkey, 2, 3, byscore=True) == 2
    assert await client.zrange(out, 0, -1) == enc(client, ["b", "c"])
    assert await client.zrangestore(out, zkey, 0, 0, desc=True) == 1
    assert await client.zrange(out, 0, -1) == enc(client, ["d"])


async def test_read_operations(client: asyncpool.Redis, zkey: str, unique_key: str) -> None:
    other = unique_key + "o"
    await client.zadd(other, {"b": 10, "e": 5})
    assert await client.zunion([zkey, other]) == enc(client, ["a", "c", "d", "e", "b"])
    assert await client.zunion({zkey: 1, other: 0}, withscores=True) == enc(
        client, [("e", 0.0), ("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0)]
    )
    assert await client.zinter([zkey, other], aggregate="MIN", withscores=True) == enc(
        client, [("b", 2.0)]
    )
    assert await client.zdiff([zkey, other]) == enc(client, ["a", "c", "d"])
    assert await client.zdiff([other, zkey], withscores=True) == enc(client, [("e", 5.0)])
    assert await client.zmscore(zkey, ["a", "none", "d"]) == [1.0, None, 4.0]


async def test_zrandmember(client: asyncpool.Redis, zkey: str) -> None:
    assert await client.zrandmember(zkey) in enc(client, ["a", "b", "c", "d"])
    assert sorted(await client.zrandmember(zkey, 10)) == enc(client, ["a", "b", "c", "d"])
    flat = await client.zrandmember(zkey, 1, withscores=True)
    assert len(flat) == 2
    assert flat[0] in enc(client, ["a", "b", "c", "d"])
    assert float(flat[1]) in (1.0, 2.0, 3.0, 4.0)
    assert await client.zrandmember(zkey + "none") is None


async def test_zintercard_zmpop(client: asyncpool.Redis, zkey: str, unique_key: str) -> None:
    await need(client, (7, 0), "ZINTERCARD/ZMPOP")
    other = unique_key + "o"
    await client.zadd(other, {"b": 10, "c": 5})
    assert await client.zintercard(2, [zkey, other]) == 2
    assert await client.zintercard(2, [zkey, other], limit=1) == 1
    empty = unique_key + "empty"
    assert await client.zmpop(2, [empty, zkey], min=True) == [
        enc(client, zkey),
        [[enc(client, "a"), 1.0]],
    ]
    assert await client.zmpop(1, [zkey], max=True, count=2) == [
        enc(client, zkey),
        [[enc(client, "d"), 4.0], [enc(client, "c"), 3.0]],
    ]
    assert await client.bzmpop(1, 1, [other], min=True) == [
        enc(client, other),
        [[enc(client, "c"), 5.0]],
    ]
    assert await client.zmpop(1, [empty], min=True) is None
    assert await client.bzmpop(0.05, 1, [empty], max=True) is None


def test_sorted_set_bad_input(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.zrangebyscore("k", 0, 1, start=1)
    with pytest.raises(asyncpool.ConfigError):
        r.zunionstore("d", [], aggregate="sum")
    with pytest.raises(asyncpool.ConfigError):
        r.zinter(["a"], aggregate="avg")
    with pytest.raises(asyncpool.ConfigError):
        r.zmpop(1, ["k"], min=True, max=True)
    with pytest.raises(asyncpool.ConfigError):
        r.zrandmember("k", withscores=True)
