"""Geospatial commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEORADIUS*, GEOSEARCH*."""

from __future__ import annotations

import pytest

import asyncpool

from ._commands import enc

PALERMO = (13.361389, 38.115556, "Palermo")
CATANIA = (15.087269, 37.502669, "Catania")


@pytest.fixture
async def sicily(client: asyncpool.Redis, unique_key: str) -> str:
    assert await client.geoadd(unique_key, [*PALERMO, *CATANIA]) == 2
    return unique_key


async def test_geoadd_flags(client: asyncpool.Redis, sicily: str) -> None:
    assert await client.geoadd(sicily, [*PALERMO], nx=True) == 0
    assert await client.geoadd(sicily, [13.0, 38.0, "Palermo"], xx=True, ch=True) == 1
    assert await client.geoadd(sicily, [13.0, 38.0, "Nowhere"], xx=True) == 0


async def test_dist_hash_pos(client: asyncpool.Redis, sicily: str) -> None:
    assert await client.geodist(sicily, "Palermo", "Catania") == pytest.approx(166274.15, 0.01)
    assert await client.geodist(sicily, "Palermo", "Catania", "km") == pytest.approx(166.27, 0.01)
    assert await client.geodist(sicily, "Palermo", "None") is None
    assert await client.geohash(sicily, "Palermo", "None") == ["sqc8b49rny0", None]  # str
    (lon, lat), missing = await client.geopos(sicily, "Palermo", "None")
    assert lon == pytest.approx(PALERMO[0], abs=1e-4)
    assert lat == pytest.approx(PALERMO[1], abs=1e-4)
    assert missing is None


async def test_georadius(client: asyncpool.Redis, sicily: str) -> None:
    assert await client.georadius(sicily, 15, 37, 200, "km", sort="ASC") == enc(
        client, ["Catania", "Palermo"]
    )
    rows = await client.georadius(sicily, 15, 37, 200, "km", withdist=True, withhash=True)
    by_name = {row[0]: row for row in rows}
    catania = by_name[enc(client, "Catania")]
    assert catania[1] == pytest.approx(56.4413, abs=1e-3)
    assert isinstance(catania[2], int)
    rows = await client.georadiusbymember(sicily, "Palermo", 100, "km", withcoord=True)
    assert rows[0][0] == enc(client, "Palermo")
    assert rows[0][1][0] == pytest.approx(PALERMO[0], abs=1e-4)
    out = sicily + "out"
    assert await client.georadius(sicily, 15, 37, 200, "km", store=out) == 2
    assert await client.georadiusbymember(sicily, "Palermo", 1, "km", store_dist=out) == 1
    assert await client.zscore(out, "Palermo") == 0.0


async def test_geosearch(client: asyncpool.Redis, sicily: str) -> None:
    near = await client.geosearch(sicily, longitude=15, latitude=37, radius=200, unit="km")
    assert sorted(near) == enc(client, ["Catania", "Palermo"])
    boxed = await client.geosearch(
        sicily, member="Palermo", width=400, height=400, unit="km", sort="DESC", count=1
    )
    assert boxed == enc(client, ["Catania"])
    rows = await client.geosearch(
        sicily, member="Catania", radius=1, unit="km", withdist=True, withcoord=True
    )
    assert rows[0][0] == enc(client, "Catania")
    assert rows[0][1] == pytest.approx(0.0, abs=1e-3)
    assert rows[0][2][1] == pytest.approx(CATANIA[1], abs=1e-4)
    out = sicily + "out"
    stored = await client.geosearchstore(
        out, sicily, longitude=15, latitude=37, radius=100, unit="km", storedist=True
    )
    assert stored == 1
    assert await client.zscore(out, "Catania") == pytest.approx(56.4413, abs=1e-3)


def test_geo_bad_input(r: asyncpool.Redis) -> None:
    with pytest.raises(asyncpool.ConfigError):
        r.geoadd("k", [1.0, 2.0])
    with pytest.raises(asyncpool.ConfigError):
        r.geosearch("k", radius=1)  # no center
    with pytest.raises(asyncpool.ConfigError):
        r.geosearch("k", member="m")  # no shape
    with pytest.raises(asyncpool.ConfigError):
        r.geodist("k", "a", "b", unit="parsec")
    with pytest.raises(asyncpool.ConfigError):
        r.georadius("k", 1, 2, 3, store="x", withdist=True)
