"""Geospatial commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEORADIUS*, GEOSEARCH*."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT, KeyT
from ._base import CommandMixin, Reply, StrT

__all__ = ["GeoCommands"]

_UNITS = ("m", "km", "mi", "ft")  # Redis 6.2 takes lower case only


def _unit(command: str, unit: str | None) -> list[str]:
    if unit is None:
        return ["m"]
    word = unit.lower()
    if word not in _UNITS:
        raise ConfigError(f"{command}: unit must be m, km, mi or ft, not {unit!r}")
    return [word]


def _coords(pair: Any) -> tuple[float, float] | None:
    return None if pair is None else (float(pair[0]), float(pair[1]))


def _geopos(reply: Any) -> list[tuple[float, float] | None]:
    return [_coords(item) for item in reply]


def _rows(withdist: bool, withhash: bool, withcoord: bool) -> Any:
    """Rows of a GEOSEARCH / GEORADIUS reply: bare members, or ``[member, dist?, hash?,
    (lon, lat)?]`` lists (the order Redis sends them in), with typed fields."""
    if not (withdist or withhash or withcoord):
        return None

    def parse(reply: Any) -> list[list[Any]]:
        rows = []
        for item in reply:
            row: list[Any] = [item[0]]
            rest = iter(item[1:])
            if withdist:
                row.append(replies.to_float(next(rest)))
            if withhash:
                row.append(replies.to_int(next(rest)))
            if withcoord:
                row.append(_coords(next(rest)))
            rows.append(row)
        return rows

    return parse


def _sort(command: str, sort: str | None) -> list[str]:
    if sort is None:
        return []
    word = sort.upper()
    if word not in ("ASC", "DESC"):
        raise ConfigError(f"{command}: sort must be ASC or DESC, not {sort!r}")
    return [word]


def _count(command: str, count: int | None, any: bool) -> list[Any]:
    if count is None:
        if any:
            raise ConfigError(f"{command}: any needs count")
        return []
    return ["COUNT", count, "ANY"] if any else ["COUNT", count]


def _with(withdist: bool, withcoord: bool, withhash: bool) -> list[str]:
    return [
        w
        for w, on in (("WITHDIST", withdist), ("WITHCOORD", withcoord), ("WITHHASH", withhash))
        if on
    ]


def _search_area(
    command: str,
    member: EncodableT | None,
    longitude: float | None,
    latitude: float | None,
    unit: str,
    radius: float | None,
    width: float | None,
    height: float | None,
) -> list[Any]:
    if (member is None) == (longitude is None or latitude is None):
        raise ConfigError(f"{command}: give member, or longitude and latitude")
    if (radius is None) == (width is None or height is None):
        raise ConfigError(f"{command}: give radius, or width and height")
    args: list[Any] = (
        ["FROMMEMBER", member]
        if member is not None
        else [
            "FROMLONLAT",
            longitude,
            latitude,
        ]
    )
    if radius is not None:
        args += ("BYRADIUS", radius)
    else:
        args += ("BYBOX", width, height)
    return [*args, *_unit(command, unit)]


class GeoCommands(CommandMixin[StrT]):
    """Commands on geospatial indexes (sorted sets of geohashes)."""

    __slots__ = ()

    def geoadd(
        self,
        name: KeyT,
        values: Sequence[EncodableT],
        nx: bool = False,
        xx: bool = False,
        ch: bool = False,
    ) -> Reply[int]:
        """GEOADD ``values``, a flat ``[longitude, latitude, member, ...]`` sequence;
        the number of new members (changed ones with ``ch``)."""
        if nx and xx:
            raise ConfigError("geoadd: nx and xx are mutually exclusive")
        if not values or len(values) % 3:
            raise ConfigError("geoadd: values must hold longitude, latitude, member triples")
        flags = [w for w, on in (("NX", nx), ("XX", xx), ("CH", ch)) if on]
        return self._cmd(("GEOADD", name, *flags, *values))

    def geodist(
        self, name: KeyT, place1: EncodableT, place2: EncodableT, unit: str | None = None
    ) -> Reply[float | None]:
        """GEODIST between two members in ``unit`` (default metres); ``None`` if one is missing."""
        args: list[Any] = ["GEODIST", name, place1, place2]
        if unit is not None:
            args += _unit("geodist", unit)
        return self._cmd(tuple(args), replies.to_float_or_none)

    def geohash(self, name: KeyT, *values: EncodableT) -> Reply[list[str | None]]:
        """GEOHASH: each member's 11-character geohash as ``str`` (``None`` when missing)."""
        return self._cmd(("GEOHASH", name, *values), replies.to_str_list)

    def geopos(self, name: KeyT, *values: EncodableT) -> Reply[list[tuple[float, float] | None]]:
        """GEOPOS: each member's ``(longitude, latitude)`` (``None`` when missing)."""
        return self._cmd(("GEOPOS", name, *values), _geopos)

    def georadius(
        self,
        name: KeyT,
        longitude: float,
        latitude: float,
        radius: float,
        unit: str | None = None,
        withdist: bool = False,
        withcoord: bool = False,
        withhash: bool = False,
        count: int | None = None,
        sort: str | None = None,
        store: KeyT | None = None,
        store_dist: KeyT | None = None,
        any: bool = False,
    ) -> Reply[Any]:
        """GEORADIUS (deprecated by Redis for :meth:`geosearch`): members within
        ``radius`` of a point; see :meth:`geosearch` for the row shape."""
        return self._radius(
            ("GEORADIUS", name, longitude, latitude, radius),
            unit, withdist, withcoord, withhash, count, sort, store, store_dist, any,
        )  # fmt: skip

    def georadiusbymember(
        self,
        name: KeyT,
        member: EncodableT,
        radius: float,
        unit: str | None = None,
        withdist: bool = False,
        withcoord: bool = False,
        withhash: bool = False,
        count: int | None = None,
        sort: str | None = None,
        store: KeyT | None = None,
        store_dist: KeyT | None = None,
        any: bool = False,
    ) -> Reply[Any]:
        """GEORADIUSBYMEMBER (deprecated for :meth:`geosearch`): around a member."""
        return self._radius(
            ("GEORADIUSBYMEMBER", name, member, radius),
            unit, withdist, withcoord, withhash, count, sort, store, store_dist, any,
        )  # fmt: skip

    def _radius(
        self,
        head: tuple[Any, ...],
        unit: str | None,
        withdist: bool,
        withcoord: bool,
        withhash: bool,
        count: int | None,
        sort: str | None,
        store: KeyT | None,
        store_dist: KeyT | None,
        any: bool,
    ) -> Reply[Any]:
        command = str(head[0]).lower()
        if (store is not None or store_dist is not None) and (withdist or withcoord or withhash):
            raise ConfigError(f"{command}: store cannot be combined with withdist/coord/hash")
        args: list[Any] = [*head, *_unit(command, unit), *_with(withdist, withcoord, withhash)]
        args += _count(command, count, any) + _sort(command, sort)
        if store is not None:
            args += ("STORE", store)
        if store_dist is not None:
            args += ("STOREDIST", store_dist)
        return self._cmd(tuple(args), _rows(withdist, withhash, withcoord))

    def geosearch(
        self,
        name: KeyT,
        member: EncodableT | None = None,
        longitude: float | None = None,
        latitude: float | None = None,
        unit: str = "m",
        radius: float | None = None,
        width: float | None = None,
        height: float | None = None,
        sort: str | None = None,
        count: int | None = None,
        any: bool = False,
        withcoord: bool = False,
        withdist: bool = False,
        withhash: bool = False,
    ) -> Reply[Any]:
        """GEOSEARCH (Redis 6.2): members within a radius or box around a member or point.

        Bare members; with any ``with*`` flag one ``[member, dist, hash,
        (lon, lat)]`` list per member holding only the fields asked for, in
        that order (dist ``float``, hash ``int``).
        """
        area = _search_area("geosearch", member, longitude, latitude, unit, radius, width, height)
        args = ["GEOSEARCH", name, *area, *_sort("geosearch", sort)]
        args += _count("geosearch", count, any) + _with(withdist, withcoord, withhash)
        return self._cmd(tuple(args), _rows(withdist, withhash, withcoord))

    def geosearchstore(
        self,
        dest: KeyT,
        name: KeyT,
        member: EncodableT | None = None,
        longitude: float | None = None,
        latitude: float | None = None,
        unit: str = "m",
        radius: float | None = None,
        width: float | None = None,
        height: float | None = None,
        sort: str | None = None,
        count: int | None = None,
        any: bool = False,
        storedist: bool = False,
    ) -> Reply[int]:
        """GEOSEARCHSTORE (Redis 6.2): store a :meth:`geosearch` result in ``dest``
        (distances as scores with ``storedist``); its size."""
        area = _search_area(
            "geosearchstore", member, longitude, latitude, unit, radius, width, height
        )
        args = ["GEOSEARCHSTORE", dest, name, *area, *_sort("geosearchstore", sort)]
        args += _count("geosearchstore", count, any)
        if storedist:
            args.append("STOREDIST")
        return self._cmd(tuple(args))
