"""Sorted-set commands: ZADD, ZRANGE (by rank, score or lex), scores, pops, ZSCAN."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Literal, overload

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT, KeyT
from ..replies import StrT
from ._base import CommandMixin, Reply
from ._util import KeysT, check_runs_commands, keys_list, scan_items

__all__ = ["SortedSetCommands"]

#: A score bound: a number, or a string such as ``"(1.5"``, ``"-inf"``, ``"[a"``.
BoundT = EncodableT
#: Turns a score (a ``float``) into what ``withscores`` replies hold (redis-py's name).
ScoreCastT = Callable[[float], Any]


def _pairs_or_members(withscores: bool, cast: ScoreCastT = float) -> Any:
    if not withscores:
        return None
    if cast is float:
        return replies.zset_pairs
    return lambda reply: [(m, cast(s)) for m, s in replies.zset_pairs(reply)]


def _rank_score(cast: ScoreCastT) -> Any:
    def parse(reply: Any) -> list[Any] | None:
        if reply is None:
            return None
        return [reply[0], cast(replies.to_float(reply[1]))]

    return parse


class SortedSetCommands(CommandMixin[StrT]):
    """Commands on sorted-set values.  Scores come back as ``float`` in both protocols."""

    __slots__ = ()

    def zadd(
        self,
        name: KeyT,
        mapping: Mapping[Any, float],
        nx: bool = False,
        xx: bool = False,
        ch: bool = False,
        incr: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> Reply[int | float | None]:
        """ZADD ``{member: score}``; the number of new members (changed ones with ``ch``).

        With ``incr=True`` (one member only) it returns the new score, or
        ``None`` when ``nx``/``xx``/``gt``/``lt`` stopped the update.
        """
        if not mapping:
            raise ConfigError("zadd needs a non-empty mapping")
        if nx and xx:
            raise ConfigError("zadd: nx and xx are mutually exclusive")
        if nx and (gt or lt):
            raise ConfigError("zadd: nx cannot be combined with gt or lt")
        if gt and lt:
            raise ConfigError("zadd: gt and lt are mutually exclusive")
        if incr and len(mapping) != 1:
            raise ConfigError("zadd: incr takes exactly one member")
        args: list[Any] = ["ZADD", name]
        for word, on in (("NX", nx), ("XX", xx), ("GT", gt), ("LT", lt), ("CH", ch)):
            if on:
                args.append(word)
        if incr:
            args.append("INCR")
        for member, score in mapping.items():
            args += (score, member)
        return self._cmd(tuple(args), replies.to_float_or_none if incr else None)

    @overload
    def zrange(
        self,
        name: KeyT,
        start: BoundT,
        end: BoundT,
        desc: bool = False,
        withscores: Literal[False] = False,
        score_cast_func: ScoreCastT = float,
        byscore: bool = False,
        bylex: bool = False,
        offset: int | None = None,
        num: int | None = None,
    ) -> Reply[list[StrT]]: ...
    @overload
    def zrange(
        self,
        name: KeyT,
        start: BoundT,
        end: BoundT,
        desc: bool = False,
        *,
        withscores: Literal[True],
        score_cast_func: ScoreCastT = float,
        byscore: bool = False,
        bylex: bool = False,
        offset: int | None = None,
        num: int | None = None,
    ) -> Reply[list[tuple[StrT, float]]]: ...
    @overload
    def zrange(
        self,
        name: KeyT,
        start: BoundT,
        end: BoundT,
        desc: bool,
        withscores: Literal[True],
        score_cast_func: ScoreCastT = float,
        byscore: bool = False,
        bylex: bool = False,
        offset: int | None = None,
        num: int | None = None,
    ) -> Reply[list[tuple[StrT, float]]]: ...
    @overload
    def zrange(
        self,
        name: KeyT,
        start: BoundT,
        end: BoundT,
        desc: bool = False,
        withscores: bool = False,
        score_cast_func: ScoreCastT = float,
        byscore: bool = False,
        bylex: bool = False,
        offset: int | None = None,
        num: int | None = None,
    ) -> Reply[list[StrT] | list[tuple[StrT, float]]]: ...
    def zrange(
        self,
        name: KeyT,
        start: BoundT,
        end: BoundT,
        desc: bool = False,
        withscores: bool = False,
        score_cast_func: ScoreCastT = float,
        byscore: bool = False,
        bylex: bool = False,
        offset: int | None = None,
        num: int | None = None,
    ) -> Reply[list[StrT] | list[tuple[StrT, float]]]:
        """ZRANGE: members by rank (default), by score or by lex, optionally reversed.

        With ``withscores`` a list of ``(member, score)``.  ``offset``/``num``
        page a ``byscore``/``bylex`` range.  With ``desc`` give the bounds
        high first, as Redis does (``start`` is the high end).
        """
        if byscore and bylex:
            raise ConfigError("zrange: byscore and bylex are mutually exclusive")
        if (offset is None) != (num is None):
            raise ConfigError("zrange: give both offset and num, or neither")
        if offset is not None and not (byscore or bylex):
            raise ConfigError("zrange: offset/num need byscore or bylex")
        if withscores and bylex:
            raise ConfigError("zrange: withscores cannot be used with bylex")
        args: list[Any] = ["ZRANGE", name, start, end]
        if byscore:
            args.append("BYSCORE")
        elif bylex:
            args.append("BYLEX")
        if desc:
            args.append("REV")
        if offset is not None:
            args += ("LIMIT", offset, num)
        if withscores:
            args.append("WITHSCORES")
        return self._cmd(tuple(args), _pairs_or_members(withscores, score_cast_func))

    def zrem(self, name: KeyT, *values: EncodableT) -> Reply[int]:
        """ZREM members; the number removed."""
        return self._cmd(("ZREM", name, *values))

    def zscore(self, name: KeyT, value: EncodableT) -> Reply[float | None]:
        """ZSCORE: the member's score, or ``None``."""
        return self._cmd(("ZSCORE", name, value), replies.to_float_or_none)

    def zincrby(self, name: KeyT, amount: float, value: EncodableT) -> Reply[float]:
        """ZINCRBY: add ``amount`` to the member's score; the new score."""
        return self._cmd(("ZINCRBY", name, amount, value), replies.to_float)

    def zcard(self, name: KeyT) -> Reply[int]:
        """ZCARD: the number of members."""
        return self._cmd(("ZCARD", name))

    def zcount(self, name: KeyT, min: BoundT, max: BoundT) -> Reply[int]:
        """ZCOUNT: members with a score between ``min`` and ``max``."""
        return self._cmd(("ZCOUNT", name, min, max))

    def zrank(
        self,
        name: KeyT,
        value: EncodableT,
        withscore: bool = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[Any]:
        """ZRANK: the member's 0-based rank by ascending score, or ``None``; with
        ``withscore`` (Redis 7.2) ``[rank, score]``."""
        if withscore:
            return self._cmd(("ZRANK", name, value, "WITHSCORE"), _rank_score(score_cast_func))
        return self._cmd(("ZRANK", name, value))

    def zrevrank(
        self,
        name: KeyT,
        value: EncodableT,
        withscore: bool = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[Any]:
        """ZREVRANK: the member's rank by descending score, or ``None``; with
        ``withscore`` (Redis 7.2) ``[rank, score]``."""
        if withscore:
            return self._cmd(("ZREVRANK", name, value, "WITHSCORE"), _rank_score(score_cast_func))
        return self._cmd(("ZREVRANK", name, value))

    def zpopmin(self, name: KeyT, count: int | None = None) -> Reply[list[tuple[Any, float]]]:
        """ZPOPMIN: remove and return the lowest ``(member, score)`` pairs (a list)."""
        args: tuple[Any, ...] = ("ZPOPMIN", name) if count is None else ("ZPOPMIN", name, count)
        return self._cmd(args, replies.zset_pairs)

    def zpopmax(self, name: KeyT, count: int | None = None) -> Reply[list[tuple[Any, float]]]:
        """ZPOPMAX: remove and return the highest ``(member, score)`` pairs (a list)."""
        args: tuple[Any, ...] = ("ZPOPMAX", name) if count is None else ("ZPOPMAX", name, count)
        return self._cmd(args, replies.zset_pairs)

    def bzpopmin(self, keys: KeysT, timeout: float = 0) -> Reply[tuple[StrT, StrT, float] | None]:
        """BZPOPMIN: ``(key, member, score)`` from the first non-empty set, waiting up to
        ``timeout`` seconds (0: forever); ``None`` on timeout."""
        if timeout < 0:
            raise ConfigError("bzpopmin: timeout must be >= 0")
        return self._cmd(("BZPOPMIN", *keys_list(keys), timeout), replies.zpop_blocking)

    def bzpopmax(self, keys: KeysT, timeout: float = 0) -> Reply[tuple[StrT, StrT, float] | None]:
        """BZPOPMAX: like :meth:`bzpopmin`, for the highest score."""
        if timeout < 0:
            raise ConfigError("bzpopmax: timeout must be >= 0")
        return self._cmd(("BZPOPMAX", *keys_list(keys), timeout), replies.zpop_blocking)

    def zscan(
        self,
        name: KeyT,
        cursor: int = 0,
        match: EncodableT | None = None,
        count: int | None = None,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[tuple[int, list[tuple[StrT, Any]]]]:
        """ZSCAN one batch: ``(next cursor, [(member, score), ...])``."""
        args: tuple[Any, ...] = ("ZSCAN", name, cursor)
        if match is not None:
            args += ("MATCH", match)
        if count is not None:
            args += ("COUNT", count)
        if score_cast_func is float:
            return self._cmd(args, replies.scan_pairs)
        pairs = _pairs_or_members(True, score_cast_func)
        return self._cmd(args, lambda reply: (replies.to_int(reply[0]), pairs(reply[1])))

    def zscan_iter(
        self,
        name: KeyT,
        match: EncodableT | None = None,
        count: int | None = None,
        score_cast_func: ScoreCastT = float,
    ) -> AsyncIterator[tuple[StrT, Any]]:
        """Every ``(member, score)`` of the sorted set, iterating ZSCAN to the end."""
        check_runs_commands(self, "zscan_iter")
        return scan_items(
            self, "zscan_iter", lambda c: self.zscan(name, c, match, count, score_cast_func)
        )
