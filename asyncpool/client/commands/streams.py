"""Stream commands: XADD, XRANGE, XREAD(GROUP), consumer groups, XPENDING, XAUTOCLAIM."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, Literal, overload

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT, KeyT
from ..replies import StrT
from ._base import CommandMixin, Reply
from ._util import mapping_args
from .streams_more import ref_policy_word

__all__ = ["StreamCommands"]

#: A stream entry id such as ``"1700000000000-0"``, or ``"*"`` / ``"$"`` / ``">"``.
StreamIdT = EncodableT
#: One stream entry: ``(id, {field: value})`` (fields ``None`` if it was deleted).
EntryT = tuple[Any, Any]


def _trim_args(
    command: str,
    maxlen: int | None,
    minid: StreamIdT | None,
    approximate: bool,
    limit: int | None,
) -> list[Any]:
    if maxlen is not None and minid is not None:
        raise ConfigError(f"{command}: maxlen and minid are mutually exclusive")
    if maxlen is None and minid is None:
        if limit is not None:
            raise ConfigError(f"{command}: limit needs maxlen or minid")
        return []
    if limit is not None and not approximate:
        raise ConfigError(f"{command}: limit needs approximate=True")
    args: list[Any] = ["MAXLEN" if maxlen is not None else "MINID"]
    if approximate:
        args.append("~")
    args.append(maxlen if maxlen is not None else minid)
    if limit is not None:
        args += ("LIMIT", limit)
    return args


def _streams_args(command: str, streams: Mapping[Any, StreamIdT]) -> list[Any]:
    if not streams:
        raise ConfigError(f"{command} needs at least one stream")
    names = list(streams)
    return ["STREAMS", *names, *(streams[name] for name in names)]


def _read_options(command: str, count: int | None, block: int | None) -> list[Any]:
    args: list[Any] = []
    if count is not None:
        args += ("COUNT", count)
    if block is not None:
        if block < 0:
            raise ConfigError(f"{command}: block must be >= 0 milliseconds (0 waits forever)")
        args += ("BLOCK", block)
    return args


class StreamCommands(CommandMixin[StrT]):
    """Commands on stream values.  Entries come back as ``(id, {field: value})``."""

    __slots__ = ()

    @overload
    def xadd(
        self,
        name: KeyT,
        fields: Mapping[Any, EncodableT],
        id: StreamIdT = ...,
        maxlen: int | None = ...,
        approximate: bool = ...,
        nomkstream: Literal[False] = ...,
        minid: StreamIdT | None = ...,
        limit: int | None = ...,
        ref_policy: str | None = ...,
    ) -> Reply[StrT]: ...

    @overload
    def xadd(
        self,
        name: KeyT,
        fields: Mapping[Any, EncodableT],
        id: StreamIdT = ...,
        maxlen: int | None = ...,
        approximate: bool = ...,
        nomkstream: bool = ...,
        minid: StreamIdT | None = ...,
        limit: int | None = ...,
        ref_policy: str | None = ...,
    ) -> Reply[StrT | None]: ...

    def xadd(
        self,
        name: KeyT,
        fields: Mapping[Any, EncodableT],
        id: StreamIdT = "*",
        maxlen: int | None = None,
        approximate: bool = True,
        nomkstream: bool = False,
        minid: StreamIdT | None = None,
        limit: int | None = None,
        ref_policy: str | None = None,
    ) -> Reply[StrT | None]:
        """XADD an entry; its id, or ``None`` when ``nomkstream`` and the stream is missing.

        ``maxlen`` or ``minid`` trim the stream (``~`` when ``approximate``);
        ``ref_policy`` (Redis 8.2) says what trimming does to consumer groups'
        references, as for :meth:`xtrim`.
        """
        args: list[Any] = ["XADD", name]
        if nomkstream:
            args.append("NOMKSTREAM")
        args += _trim_args("xadd", maxlen, minid, approximate, limit)
        args += ref_policy_word("xadd", ref_policy)
        args += (id, *mapping_args("xadd", fields))
        return self._cmd(tuple(args))

    def xrange(
        self,
        name: KeyT,
        min: StreamIdT = "-",
        max: StreamIdT = "+",
        count: int | None = None,
    ) -> Reply[list[EntryT]]:
        """XRANGE: entries with ids between ``min`` and ``max``, oldest first."""
        args: tuple[Any, ...] = ("XRANGE", name, min, max)
        if count is not None:
            args += ("COUNT", count)
        return self._cmd(args, replies.stream_entries)

    def xrevrange(
        self,
        name: KeyT,
        max: StreamIdT = "+",
        min: StreamIdT = "-",
        count: int | None = None,
    ) -> Reply[list[EntryT]]:
        """XREVRANGE: entries from ``max`` down to ``min``, newest first."""
        args: tuple[Any, ...] = ("XREVRANGE", name, max, min)
        if count is not None:
            args += ("COUNT", count)
        return self._cmd(args, replies.stream_entries)

    def xread(
        self,
        streams: Mapping[Any, StreamIdT],
        count: int | None = None,
        block: int | None = None,
    ) -> Reply[dict[Any, list[EntryT]]]:
        """XREAD entries after the given id of each stream: ``{stream: [entries]}``.

        ``block`` waits up to that many milliseconds (0: forever) for new
        entries; a timeout gives ``{}``.
        """
        args = ["XREAD", *_read_options("xread", count, block), *_streams_args("xread", streams)]
        return self._cmd(tuple(args), replies.parse_xread)

    def xreadgroup(
        self,
        groupname: EncodableT,
        consumername: EncodableT,
        streams: Mapping[Any, StreamIdT],
        count: int | None = None,
        block: int | None = None,
        noack: bool = False,
    ) -> Reply[dict[Any, list[EntryT]]]:
        """XREADGROUP as ``consumername`` of ``groupname``: ``{stream: [entries]}``.

        Use id ``">"`` for new entries, or an id to re-read this consumer's
        pending ones.  ``block`` as for :meth:`xread`; ``{}`` on timeout.
        """
        args: list[Any] = ["XREADGROUP", "GROUP", groupname, consumername]
        args += _read_options("xreadgroup", count, block)
        if noack:
            args.append("NOACK")
        args += _streams_args("xreadgroup", streams)
        return self._cmd(tuple(args), replies.parse_xread)

    def xgroup_create(
        self,
        name: KeyT,
        groupname: EncodableT,
        id: StreamIdT = "$",
        mkstream: bool = False,
        entries_read: int | None = None,
    ) -> Reply[bool]:
        """XGROUP CREATE a consumer group starting after ``id`` (``"$"``: new entries only);
        ``entries_read`` (Redis 7) sets its read counter."""
        args: tuple[Any, ...] = ("XGROUP", "CREATE", name, groupname, id)
        if mkstream:
            args += ("MKSTREAM",)
        if entries_read is not None:
            args += ("ENTRIESREAD", entries_read)
        return self._cmd(args, replies.ok)

    def xack(self, name: KeyT, groupname: EncodableT, *ids: StreamIdT) -> Reply[int]:
        """XACK entries for a group; the number acknowledged."""
        return self._cmd(("XACK", name, groupname, *ids))

    def xlen(self, name: KeyT) -> Reply[int]:
        """XLEN: the number of entries."""
        return self._cmd(("XLEN", name))

    def xtrim(
        self,
        name: KeyT,
        maxlen: int | None = None,
        approximate: bool = True,
        minid: StreamIdT | None = None,
        limit: int | None = None,
        ref_policy: str | None = None,
    ) -> Reply[int]:
        """XTRIM to ``maxlen`` entries or ids from ``minid``; the number removed.

        ``ref_policy`` (Redis 8.2: ``KEEPREF``, ``DELREF``, ``ACKED``) says what
        happens to consumer groups' references to trimmed entries.
        """
        if maxlen is None and minid is None:
            raise ConfigError("xtrim needs maxlen or minid")
        trim = _trim_args("xtrim", maxlen, minid, approximate, limit)
        return self._cmd(("XTRIM", name, *trim, *ref_policy_word("xtrim", ref_policy)))

    def xdel(self, name: KeyT, *ids: StreamIdT) -> Reply[int]:
        """XDEL entries; the number deleted."""
        return self._cmd(("XDEL", name, *ids))

    def xpending(self, name: KeyT, groupname: EncodableT) -> Reply[dict[str, Any]]:
        """XPENDING summary: ``{"pending", "min", "max", "consumers": [{"name", "pending"}]}``."""
        return self._cmd(("XPENDING", name, groupname), replies.parse_xpending_summary)

    def xpending_range(
        self,
        name: KeyT,
        groupname: EncodableT,
        min: StreamIdT,
        max: StreamIdT,
        count: int,
        consumername: EncodableT | None = None,
        idle: int | None = None,
    ) -> Reply[list[dict[str, Any]]]:
        """XPENDING details: one dict per pending entry (``message_id``, ``consumer``,
        ``time_since_delivered`` ms, ``times_delivered``), optionally for one consumer
        or entries idle at least ``idle`` ms."""
        args: list[Any] = ["XPENDING", name, groupname]
        if idle is not None:
            args += ("IDLE", idle)
        args += (min, max, count)
        if consumername is not None:
            args.append(consumername)
        return self._cmd(tuple(args), replies.parse_xpending_range)

    def xautoclaim(
        self,
        name: KeyT,
        groupname: EncodableT,
        consumername: EncodableT,
        min_idle_time: int,
        start_id: StreamIdT = "0-0",
        count: int | None = None,
        justid: bool = False,
    ) -> Reply[tuple[Any, list[Any], list[Any]]]:
        """XAUTOCLAIM entries idle at least ``min_idle_time`` ms for ``consumername``.

        Returns ``(next start id, claimed entries, deleted ids)``; claimed
        entries are bare ids with ``justid``.  The deleted ids are always
        ``[]`` on Redis 6.2.
        """
        args: list[Any] = ["XAUTOCLAIM", name, groupname, consumername, min_idle_time, start_id]
        if count is not None:
            args += ("COUNT", count)
        if justid:
            args.append("JUSTID")
        return self._cmd(tuple(args), partial(replies.parse_xautoclaim, justid=justid))
