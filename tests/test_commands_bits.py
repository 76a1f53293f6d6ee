"""Bitmap commands: SETBIT/GETBIT, BITCOUNT, BITOP, BITPOS, BITFIELD(_RO)."""

from __future__ import annotations

import pytest

import asyncpool

from ._commands import need


async def test_setbit_getbit_bitcount(client: asyncpool.Redis, unique_key: str) -> None:
    assert await client.setbit(unique_key, 7, 1) == 0
    assert await client.setbit(unique_key, 7, 1) == 1
    assert await client.getbit(unique_key, 7) == 1
    assert await client.getbit(unique_key, 6) == 0
    await client.set(unique_key, "foobar")
    assert await client.bitcount(unique_key) == 26
    assert await client.bitcount(unique_key, 1, 1) == 6


async def test_bitcount_bit_mode(client: asyncpool.Redis, unique_key: str) -> None:
    await need(client, (7, 0), "BITCOUNT BIT")
    await client.set(unique_key, "foobar")
    assert await client.bitcount(unique_key, 5, 30, "BIT") == 17
    assert await client.bitpos(unique_key, 1, 7, 15, mode="bit") == 9


async def test_bitop(client: asyncpool.Redis, unique_key: str) -> None:
    a, b, dest = unique_key + "a", unique_key + "b", unique_key + "d"
    await client.set(a, b"\x0f")
    await client.set(b, b"\xf1")
    assert await client.bitop("AND", dest, a, b) == 1
    raw = await client.get(dest)
    assert raw in (b"\x01", "\x01")
    assert await client.bitop("or", dest, a, b) == 1
    assert await client.bitcount(dest) == 8
    assert await client.bitop("NOT", dest, a) == 1
    assert await client.bitcount(dest) == 4


async def test_bitpos(client: asyncpool.Redis, unique_key: str) -> None:
    await client.set(unique_key, b"\xff\xf0\x00")
    assert await client.bitpos(unique_key, 0) == 12
    assert await client.bitpos(unique_key, 1, 2) == -1
    assert await client.bitpos(unique_key, 1, 0, 1) == 0


async def test_bitfield_builder(client: asyncpool.Redis, unique_key: str) -> None:
    op = client.bitfield(unique_key).incrby("u8", 0, 200).get("u8", 0).set("u8", "#1", 3)
    assert await op.execute() == [200, 200, 0]
    wrapping = client.bitfield(unique_key).incrby("u8", 0, 100)  # WRAP is the default
    assert await wrapping.execute() == [44]
    saturating = client.bitfield(unique_key, default_overflow="SAT").incrby("u8", 0, 250)
    assert await saturating.execute() == [255]
    failing = client.bitfield(unique_key).incrby("u8", 0, 10, overflow="FAIL")
    assert failing.command[:4] == ("BITFIELD", unique_key, "OVERFLOW", "FAIL")
    assert await failing.execute() == [None]
    assert failing.operations == []  # execute() resets the builder
    fields = await client.bitfield_ro(unique_key, "u8", 0, items=[("u4", 8), ("u4", 12)])
    assert fields == [255, 0, 3]


async def test_bitfield_in_a_pipeline(client: asyncpool.Redis, unique_key: str) -> None:
    async with client.pipeline() as pipe:
        pipe.bitfield(unique_key).set("u8", 0, 7).execute()
        pipe.bitfield_ro(unique_key, "u8", 0)
        assert await pipe.execute() == [[0], [7]]


def test_bits_bad_input(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.bitpos("k", 2)
    with pytest.raises(asyncpool.ConfigError):
        r.bitcount("k", 0, 1, "WORD")
    with pytest.raises(asyncpool.ConfigError):
        r.bitop("AND", "dest")
    with pytest.raises(asyncpool.ConfigError):
        r.bitfield("k", default_overflow="EXPLODE")
