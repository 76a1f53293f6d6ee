"""More sorted-set commands: the classic range commands (ZRANGEBYSCORE, ZREVRANGE ...),
set operations (ZUNION/ZINTER/ZDIFF and their STORE forms), ZMPOP, ZRANDMEMBER."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, overload

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT, KeyT
from ._base import CommandMixin, Reply, StrT
from ._util import KeysT, keys_list
from .sorted_sets import BoundT, ScoreCastT, _pairs_or_members

__all__ = ["SortedSetMoreCommands"]

#: Keys of a ZUNION/ZINTER: a list, or ``{key: weight}``.
WeightedKeysT = Sequence[KeyT] | Mapping[Any, float]


def _limit(command: str, start: int | None, num: int | None) -> list[Any]:
    if (start is None) != (num is None):
        raise ConfigError(f"{command}: give both start and num, or neither")
    return [] if start is None else ["LIMIT", start, num]


def _weighted(command: str, keys: WeightedKeysT, aggregate: str | None) -> list[Any]:
    if isinstance(keys, Mapping):
        names, weights = list(keys), list(keys.values())
    else:
        names, weights = keys_list(keys), []
    if not names:
        raise ConfigError(f"{command} needs at least one key")
    args: list[Any] = [len(names), *names]
    if weights:
        args += ("WEIGHTS", *weights)
    if aggregate is not None:
        word = aggregate.upper()
        if word not in ("SUM", "MIN", "MAX"):
            raise ConfigError(f"{command}: aggregate must be SUM, MIN or MAX, not {aggregate!r}")
        args += ("AGGREGATE", word)
    return args


def _mpop_reply(reply: Any) -> list[Any] | None:
    """``[key, [[member, score], ...]]`` with float scores, or ``None``."""
    if reply is None:
        return None
    key, pairs = reply
    return [key, [[member, replies.to_float(score)] for member, score in pairs]]


def _member_score(reply: Any) -> list[Any] | None:
    """ZRANK ... WITHSCORE: ``[rank, score]`` (score as ``float``) or ``None``."""
    if reply is None:
        return None
    rank, score = reply
    return [rank, replies.to_float(score)]


class SortedSetMoreCommands(CommandMixin[StrT]):
    """The rest of the sorted-set commands."""

    __slots__ = ()

    @overload
    def zrangebyscore(
        self,
        name: KeyT,
        min: BoundT,
        max: BoundT,
        start: int | None = None,
        num: int | None = None,
        withscores: Literal[False] = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[StrT]]: ...
    @overload
    def zrangebyscore(
        self,
        name: KeyT,
        min: BoundT,
        max: BoundT,
        start: int | None = None,
        num: int | None = None,
        *,
        withscores: Literal[True],
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[tuple[StrT, float]]]: ...
    @overload
    def zrangebyscore(
        self,
        name: KeyT,
        min: BoundT,
        max: BoundT,
        start: int | None = None,
        num: int | None = None,
        withscores: bool = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[StrT] | list[tuple[StrT, float]]]: ...
    def zrangebyscore(
        self,
        name: KeyT,
        min: BoundT,
        max: BoundT,
        start: int | None = None,
        num: int | None = None,
        withscores: bool = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[StrT] | list[tuple[StrT, float]]]:
        """ZRANGEBYSCORE: members with a score in ``min..max`` (``"(1"`` is exclusive,
        ``"-inf"``/``"+inf"`` open), ascending; ``start``/``num`` page."""
        args = ["ZRANGEBYSCORE", name, min, max, *_limit("zrangebyscore", start, num)]
        if withscores:
            args.append("WITHSCORES")
        return self._cmd(tuple(args), _pairs_or_members(withscores, score_cast_func))

    @overload
    def zrevrangebyscore(
        self,
        name: KeyT,
        max: BoundT,
        min: BoundT,
        start: int | None = None,
        num: int | None = None,
        withscores: Literal[False] = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[StrT]]: ...
    @overload
    def zrevrangebyscore(
        self,
        name: KeyT,
        max: BoundT,
        min: BoundT,
        start: int | None = None,
        num: int | None = None,
        *,
        withscores: Literal[True],
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[tuple[StrT, float]]]: ...
    @overload
    def zrevrangebyscore(
        self,
        name: KeyT,
        max: BoundT,
        min: BoundT,
        start: int | None = None,
        num: int | None = None,
        withscores: bool = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[StrT] | list[tuple[StrT, float]]]: ...
    def zrevrangebyscore(
        self,
        name: KeyT,
        max: BoundT,
        min: BoundT,
        start: int | None = None,
        num: int | None = None,
        withscores: bool = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[StrT] | list[tuple[StrT, float]]]:
        """ZREVRANGEBYSCORE: like :meth:`zrangebyscore`, descending (``max`` first)."""
        args = ["ZREVRANGEBYSCORE", name, max, min, *_limit("zrevrangebyscore", start, num)]
        if withscores:
            args.append("WITHSCORES")
        return self._cmd(tuple(args), _pairs_or_members(withscores, score_cast_func))

    @overload
    def zrevrange(
        self,
        name: KeyT,
        start: int,
        end: int,
        withscores: Literal[False] = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[StrT]]: ...
    @overload
    def zrevrange(
        self,
        name: KeyT,
        start: int,
        end: int,
        withscores: Literal[True],
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[tuple[StrT, float]]]: ...
    @overload
    def zrevrange(
        self,
        name: KeyT,
        start: int,
        end: int,
        withscores: bool = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[StrT] | list[tuple[StrT, float]]]: ...
    def zrevrange(
        self,
        name: KeyT,
        start: int,
        end: int,
        withscores: bool = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[StrT] | list[tuple[StrT, float]]]:
        """ZREVRANGE: members by rank, highest score first."""
        args: list[Any] = ["ZREVRANGE", name, start, end]
        if withscores:
            args.append("WITHSCORES")
        return self._cmd(tuple(args), _pairs_or_members(withscores, score_cast_func))

    def zrangebylex(
        self,
        name: KeyT,
        min: EncodableT,
        max: EncodableT,
        start: int | None = None,
        num: int | None = None,
    ) -> Reply[list[StrT]]:
        """ZRANGEBYLEX: members between ``min`` and ``max`` (``"[a"``, ``"(b"``, ``"-"``,
        ``"+"``) of a set whose scores are all equal."""
        return self._cmd(("ZRANGEBYLEX", name, min, max, *_limit("zrangebylex", start, num)))

    def zrevrangebylex(
        self,
        name: KeyT,
        max: EncodableT,
        min: EncodableT,
        start: int | None = None,
        num: int | None = None,
    ) -> Reply[list[StrT]]:
        """ZREVRANGEBYLEX: like :meth:`zrangebylex`, descending (``max`` first)."""
        limit = _limit("zrevrangebylex", start, num)
        return self._cmd(("ZREVRANGEBYLEX", name, max, min, *limit))

    def zrangestore(
        self,
        dest: KeyT,
        name: KeyT,
        start: BoundT,
        end: BoundT,
        byscore: bool = False,
        bylex: bool = False,
        desc: bool = False,
        offset: int | None = None,
        num: int | None = None,
    ) -> Reply[int]:
        """ZRANGESTORE (Redis 6.2): store a :meth:`zrange` selection into ``dest``; its size."""
        if byscore and bylex:
            raise ConfigError("zrangestore: byscore and bylex are mutually exclusive")
        args: list[Any] = ["ZRANGESTORE", dest, name, start, end]
        if byscore:
            args.append("BYSCORE")
        elif bylex:
            args.append("BYLEX")
        if desc:
            args.append("REV")
        return self._cmd((*args, *_limit("zrangestore", offset, num)))

    def zlexcount(self, name: KeyT, min: EncodableT, max: EncodableT) -> Reply[int]:
        """ZLEXCOUNT: members between ``min`` and ``max`` in lex order."""
        return self._cmd(("ZLEXCOUNT", name, min, max))

    def zremrangebyscore(self, name: KeyT, min: BoundT, max: BoundT) -> Reply[int]:
        """ZREMRANGEBYSCORE: remove members with a score in ``min..max``; how many."""
        return self._cmd(("ZREMRANGEBYSCORE", name, min, max))

    def zremrangebyrank(self, name: KeyT, min: int, max: int) -> Reply[int]:
        """ZREMRANGEBYRANK: remove members ranked ``min..max``; how many."""
        return self._cmd(("ZREMRANGEBYRANK", name, min, max))

    def zremrangebylex(self, name: KeyT, min: EncodableT, max: EncodableT) -> Reply[int]:
        """ZREMRANGEBYLEX: remove members between ``min`` and ``max``; how many."""
        return self._cmd(("ZREMRANGEBYLEX", name, min, max))

    def zmscore(self, key: KeyT, members: Sequence[EncodableT]) -> Reply[list[float | None]]:
        """ZMSCORE (Redis 6.2): each member's score (``None`` when absent), in order."""
        if not members:
            raise ConfigError("zmscore needs at least one member")
        return self._cmd(
            ("ZMSCORE", key, *members),
            lambda reply: [replies.to_float_or_none(s) for s in reply],
        )

    @overload
    def zrandmember(
        self, key: KeyT, count: None = None, withscores: bool = False
    ) -> Reply[StrT | None]: ...
    @overload
    def zrandmember(self, key: KeyT, count: int, withscores: bool = False) -> Reply[list[StrT]]: ...
    def zrandmember(
        self, key: KeyT, count: int | None = None, withscores: bool = False
    ) -> Reply[Any]:
        """ZRANDMEMBER (Redis 6.2): a random member (``None`` for a missing key); with
        ``count`` a list; with ``withscores`` a flat ``[member, score, ...]`` list with
        scores as string replies, in both protocols (as redis-py's RESP2 shape)."""
        args: list[Any] = ["ZRANDMEMBER", key]
        if count is not None:
            args.append(count)
        if withscores:
            if count is None:
                raise ConfigError("zrandmember: withscores needs count")
            args.append("WITHSCORES")
            return self._cmd(tuple(args), replies.flatten_pairs)
        return self._cmd(tuple(args))

    # -- set operations ---------------------------------------------------------------
    def zunionstore(
        self, dest: KeyT, keys: WeightedKeysT, aggregate: str | None = None
    ) -> Reply[int]:
        """ZUNIONSTORE into ``dest`` (``keys`` may be ``{key: weight}``); its size."""
        return self._cmd(("ZUNIONSTORE", dest, *_weighted("zunionstore", keys, aggregate)))

    def zinterstore(
        self, dest: KeyT, keys: WeightedKeysT, aggregate: str | None = None
    ) -> Reply[int]:
        """ZINTERSTORE into ``dest`` (``keys`` may be ``{key: weight}``); its size."""
        return self._cmd(("ZINTERSTORE", dest, *_weighted("zinterstore", keys, aggregate)))

    def zdiffstore(self, dest: KeyT, keys: KeysT) -> Reply[int]:
        """ZDIFFSTORE (Redis 6.2): the first set minus the others, into ``dest``; its size."""
        names = keys_list(keys)
        return self._cmd(("ZDIFFSTORE", dest, len(names), *names))

    @overload
    def zunion(
        self,
        keys: WeightedKeysT,
        aggregate: str | None = None,
        withscores: Literal[False] = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[StrT]]: ...
    @overload
    def zunion(
        self,
        keys: WeightedKeysT,
        aggregate: str | None = None,
        *,
        withscores: Literal[True],
        score_cast_func: ScoreCastT = float,
    ) -> Reply[list[tuple[StrT, float]]]: ...
    @overload
    def zunion(
        self,
        keys: WeightedKeysT,
        aggregate: str | None = None,
        withscores: bool = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[Any]: ...
    def zunion(
        self,
        keys: WeightedKeysT,
        aggregate: str | None = None,
        withscores: bool = False,
        score_cast_func: ScoreCastT = float,
    ) -> Reply[Any]:
        """ZUNION (Redis 6.2): the union's members (``(member, score)`` with ``withscores``)."""
        args = ["ZUNION", *_weighted("zunion", keys, aggregate)]
        if withscores:
            args.append("WITHSCORES")
        return self._cmd(tuple(args), _pairs_or_members(withscores, score_cast_func))

    @overload
    def zinter(
        self, keys: WeightedKeysT, aggregate: str | None = None, withscores: Literal[False] = False
    ) -> Reply[list[StrT]]: ...
    @overload
    def zinter(
        self, keys: WeightedKeysT, aggregate: str | None = None, *, withscores: Literal[True]
    ) -> Reply[list[tuple[StrT, float]]]: ...
    @overload
    def zinter(
        self, keys: WeightedKeysT, aggregate: str | None = None, withscores: bool = False
    ) -> Reply[Any]: ...
    def zinter(
        self, keys: WeightedKeysT, aggregate: str | None = None, withscores: bool = False
    ) -> Reply[Any]:
        """ZINTER (Redis 6.2): the intersection's members (``(member, score)`` with
        ``withscores``)."""
        args = ["ZINTER", *_weighted("zinter", keys, aggregate)]
        if withscores:
            args.append("WITHSCORES")
        return self._cmd(tuple(args), _pairs_or_members(withscores))

    @overload
    def zdiff(self, keys: KeysT, withscores: Literal[False] = False) -> Reply[list[StrT]]: ...
    @overload
    def zdiff(self, keys: KeysT, withscores: Literal[True]) -> Reply[list[tuple[StrT, float]]]: ...
    @overload
    def zdiff(self, keys: KeysT, withscores: bool = False) -> Reply[Any]: ...
    def zdiff(self, keys: KeysT, withscores: bool = False) -> Reply[Any]:
        """ZDIFF (Redis 6.2): the first set minus the others (``(member, score)`` with
        ``withscores``)."""
        names = keys_list(keys)
        args: list[Any] = ["ZDIFF", len(names), *names]
        if withscores:
            args.append("WITHSCORES")
        return self._cmd(tuple(args), _pairs_or_members(withscores))

    def zintercard(self, numkeys: int, keys: KeysT, limit: int = 0) -> Reply[int]:
        """ZINTERCARD (Redis 7): the intersection's size, counting up to ``limit``."""
        return self._cmd(("ZINTERCARD", numkeys, *keys_list(keys), "LIMIT", limit))

    # -- multi-key pops ---------------------------------------------------------------
    def zmpop(
        self,
        num_keys: int,
        keys: KeysT,
        min: bool | None = False,
        max: bool | None = False,
        count: int | None = 1,
    ) -> Reply[list[Any] | None]:
        """ZMPOP (Redis 7): pop up to ``count`` lowest (``min``) or highest (``max``)
        members of the first non-empty set: ``[key, [[member, score], ...]]`` or ``None``."""
        args = ["ZMPOP", num_keys, *keys_list(keys), _min_max("zmpop", min, max)]
        if count not in (None, 1):
            args += ("COUNT", count)
        return self._cmd(tuple(args), _mpop_reply)

    def bzmpop(
        self,
        timeout: float,
        numkeys: int,
        keys: KeysT,
        min: bool | None = False,
        max: bool | None = False,
        count: int | None = 1,
    ) -> Reply[list[Any] | None]:
        """BZMPOP (Redis 7): :meth:`zmpop`, waiting up to ``timeout`` seconds (0: forever)."""
        if timeout < 0:
            raise ConfigError("bzmpop: timeout must be >= 0")
        args = ["BZMPOP", timeout, numkeys, *keys_list(keys), _min_max("bzmpop", min, max)]
        if count not in (None, 1):
            args += ("COUNT", count)
        return self._cmd(tuple(args), _mpop_reply)


def _min_max(command: str, low: bool | None, high: bool | None) -> str:
    if bool(low) == bool(high):
        raise ConfigError(f"{command}: give exactly one of min=True or max=True")
    return "MIN" if low else "MAX"
