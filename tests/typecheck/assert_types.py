"""Static typing checks, run by ``python dev.py check`` (mypy --strict over this file).

Nothing here runs: every line states the type a client call has for a type
checker, so a change that loosens or breaks a signature fails the check.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

import asyncpool
from asyncpool import Pipeline, Pool, Redis
from asyncpool.client.pipeline import PipelineChain


async def client_types(url: str, pool: Pool, flag: bool) -> None:
    raw = Redis()
    text = Redis(decode_responses=True)
    assert_type(raw, Redis[bytes])
    assert_type(text, Redis[str])
    assert_type(Redis.from_url(url), Redis[bytes])
    assert_type(Redis.from_url(url, decode_responses=True), Redis[str])
    assert_type(Redis.from_url(url, decode_responses=flag), Redis[Any])
    assert_type(Redis(decode_responses=flag), Redis[Any])
    assert_type(Redis(pool=pool), Redis[bytes])
    shared: Redis[str] = Redis(pool=pool)  # a decoding pool: say so
    bare: Redis = Redis()  # the default parameter is bytes
    assert_type(bare, Redis[bytes])
    async with Redis.from_url(url, decode_responses=True) as entered:
        assert_type(entered, Redis[str])
    assert_type(raw.retryable(), Redis[bytes])
    assert_type(await shared.get("k"), str | None)


async def string_replies(raw: Redis[bytes], text: Redis[str]) -> None:
    assert_type(await raw.get("k"), bytes | None)
    assert_type(await text.get("k"), str | None)
    assert_type(await raw.mget(["a", "b"]), list[bytes | None])
    assert_type(await text.mget("a", "b"), list[str | None])
    assert_type(await raw.incr("n"), int)
    assert_type(await text.incrbyfloat("n", 1.5), float)
    assert_type(await raw.getdel("k"), bytes | None)


async def collection_replies(raw: Redis[bytes], text: Redis[str]) -> None:
    assert_type(await raw.hgetall("h"), dict[bytes, bytes])
    assert_type(await text.hgetall("h"), dict[str, str])
    assert_type(await text.lrange("l", 0, -1), list[str])
    assert_type(await raw.smembers("s"), set[bytes])
    assert_type(await text.keys(), list[str])
    assert_type(await text.scan(0), tuple[int, list[str]])


async def withscores_flags(raw: Redis[bytes], text: Redis[str], flag: bool) -> None:
    assert_type(await raw.zrange("z", 0, -1), list[bytes])
    assert_type(await text.zrange("z", 0, -1), list[str])
    assert_type(await text.zrange("z", 0, -1, withscores=True), list[tuple[str, float]])
    assert_type(await raw.zrange("z", 0, -1, False, True), list[tuple[bytes, float]])
    assert_type(await text.zrange("z", 0, -1, withscores=flag), list[str] | list[tuple[str, float]])


async def pipelines(raw: Redis[bytes], text: Redis[str]) -> None:
    assert_type(raw.pipeline(), Pipeline[bytes])
    async with text.pipeline(transaction=True) as pipe:
        assert_type(pipe, Pipeline[str])
        chained = pipe.incr("hits").expire("hits", 60)
        assert_type(chained, PipelineChain[str])
        assert_type(await pipe.execute(), list[Any])


async def transactions(text: Redis[str]) -> None:
    async def body(pipe: Pipeline[str]) -> int:
        pipe.multi()
        pipe.incr("k")
        return 7

    def sync_body(pipe: Pipeline[str]) -> str:
        return "done"

    assert_type(await text.transaction(body, "k"), list[Any])
    assert_type(await text.transaction(body, "k", value_from_callable=True), int)
    assert_type(await text.transaction(sync_body, "k", value_from_callable=True), str)


async def pinned(text: Redis[str]) -> None:
    async with text.connection() as conn:
        assert_type(conn, asyncpool.PinnedConnection[str])
        assert_type(await conn.get("k"), str | None)


async def locks(text: Redis[str]) -> None:
    lock = text.lock("jobs", timeout=10, blocking_timeout=1)
    assert_type(lock, asyncpool.Lock)
    assert_type(await lock.acquire(blocking=False), bool)
    async with lock as held:
        assert_type(held, asyncpool.Lock)
        assert_type(await held.extend(5), bool)


async def monitors(raw: Redis[bytes]) -> None:
    async with raw.monitor() as monitor:
        assert_type(await monitor.next_command(), dict[str, Any])


async def count_and_flag_overloads(raw: Redis[bytes], text: Redis[str]) -> None:
    assert_type(await text.set("k", "v"), bool | None)
    assert_type(await text.set("k", "v", get=True), str | None)
    assert_type(await raw.lpop("l"), bytes | None)
    assert_type(await raw.lpop("l", 2), list[bytes] | None)
    assert_type(await text.rpop("l", 2), list[str] | None)
    assert_type(await text.spop("s"), str | None)
    assert_type(await text.spop("s", 3), set[str])
    assert_type(await raw.srandmember("s", 2), list[bytes])
    assert_type(await text.zrangebyscore("z", 0, 1, withscores=True), list[tuple[str, float]])
    assert_type(await raw.zrevrange("z", 0, 1), list[bytes])
    assert_type(await text.zunion(["a", "b"], withscores=True), list[tuple[str, float]])
    assert_type(await text.zinter(["a", "b"]), list[str])
    assert_type(await raw.zdiff(["a", "b"], withscores=True), list[tuple[bytes, float]])
    assert_type(await text.hgetdel("h", "f"), list[str | None])
    assert_type(await text.config_get("maxmemory"), dict[str, str])
    assert_type(await raw.acl_whoami(), str)
    assert_type(await raw.geohash("g", "m"), list[str | None])


async def pipeline_arguments_are_checked(text: Redis[str]) -> None:
    async with text.pipeline() as pipe:
        assert_type(pipe.get("k"), PipelineChain[str])
        assert_type(pipe.zrange("z", 0, -1, withscores=True).hgetall("h"), PipelineChain[str])
        pipe.incr("k", "one")  # type: ignore[arg-type]
        pipe.set("k", "v", nx=True, no_such_option=1)  # type: ignore[call-arg]
        pipe.scan_iter()  # type: ignore[attr-defined]
        await pipe.watch("k")
        value = await pipe.get("k")  # watch mode: runs at once
        assert_type(value, Any)


async def random_members(raw: Redis[bytes], text: Redis[str]) -> None:
    assert_type(await text.hrandfield("h"), str | None)
    assert_type(await raw.hrandfield("h", 2, withvalues=True), list[bytes])
    assert_type(await text.zrandmember("z", 3), list[str])
