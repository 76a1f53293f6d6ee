"""More stream commands: XCLAIM, XINFO *, XGROUP *, and Redis 8.2's XDELEX / XACKDEL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import ConfigError
from .. import replies
from ..base import EncodableT, KeyT
from ._base import CommandMixin, Reply, StrT

__all__ = ["StreamMoreCommands"]

StreamIdT = EncodableT
_REF_POLICIES = ("KEEPREF", "DELREF", "ACKED")


def ref_policy_word(command: str, policy: str | None) -> list[str]:
    """The KEEPREF / DELREF / ACKED word (Redis 8.2) of XADD, XTRIM, XDELEX, XACKDEL."""
    if policy is None:
        return []
    word = policy.upper()
    if word not in _REF_POLICIES:
        raise ConfigError(f"{command}: ref_policy must be KEEPREF, DELREF or ACKED, not {policy!r}")
    return [word]


def _info_dict(reply: Any) -> dict[str, Any]:
    return replies.to_str_dict(reply)


def _xinfo_stream(reply: Any) -> dict[str, Any]:
    info = _info_dict(reply)
    for key in ("first-entry", "last-entry"):
        if info.get(key) is not None:
            info[key] = replies.stream_entry(info[key])
    if "entries" in info:  # FULL
        info["entries"] = replies.stream_entries(info["entries"])
        groups = []
        for group in info.get("groups") or ():
            parsed = _info_dict(group)
            parsed["consumers"] = [_info_dict(c) for c in parsed.get("consumers") or ()]
            groups.append(parsed)
        info["groups"] = groups
    return info


def _info_list(reply: Any) -> list[dict[str, Any]]:
    return [_info_dict(item) for item in reply]


def _ids(command: str, ids: Sequence[Any]) -> list[Any]:
    if not ids:
        raise ConfigError(f"{command} needs at least one id")
    return ["IDS", len(ids), *ids]


class StreamMoreCommands(CommandMixin[StrT]):
    """Stream group management and introspection.

    XINFO replies are dicts with ``str`` keys (``"length"``, ``"groups"``,
    ...) in both protocols; values stay as Redis sends them, entries become
    ``(id, {field: value})``.
    """

    __slots__ = ()

    def xclaim(
        self,
        name: KeyT,
        groupname: EncodableT,
        consumername: EncodableT,
        min_idle_time: int,
        message_ids: Sequence[StreamIdT],
        idle: int | None = None,
        time: int | None = None,
        retrycount: int | None = None,
        force: bool = False,
        justid: bool = False,
    ) -> Reply[list[Any]]:
        """XCLAIM pending entries idle at least ``min_idle_time`` ms for ``consumername``.

        The claimed ``(id, fields)`` entries, or bare ids with ``justid``.
        ``idle``/``time`` set their idle time (ms) or last delivery (Unix ms).
        """
        if not message_ids:
            raise ConfigError("xclaim needs at least one message id")
        if idle is not None and time is not None:
            raise ConfigError("xclaim: idle and time are mutually exclusive")
        args: list[Any] = ["XCLAIM", name, groupname, consumername, min_idle_time, *message_ids]
        if idle is not None:
            args += ("IDLE", idle)
        if time is not None:
            args += ("TIME", time)
        if retrycount is not None:
            args += ("RETRYCOUNT", retrycount)
        if force:
            args.append("FORCE")
        if justid:
            args.append("JUSTID")
            return self._cmd(tuple(args))
        return self._cmd(tuple(args), replies.stream_entries)

    def xinfo_stream(self, name: KeyT, full: bool = False) -> Reply[dict[str, Any]]:
        """XINFO STREAM: length, groups, first/last entry ...; ``full`` adds every entry
        and group detail."""
        args: tuple[Any, ...] = ("XINFO", "STREAM", name)
        if full:
            args += ("FULL",)
        return self._cmd(args, _xinfo_stream)

    def xinfo_groups(self, name: KeyT) -> Reply[list[dict[str, Any]]]:
        """XINFO GROUPS: one dict per consumer group."""
        return self._cmd(("XINFO", "GROUPS", name), _info_list)

    def xinfo_consumers(self, name: KeyT, groupname: EncodableT) -> Reply[list[dict[str, Any]]]:
        """XINFO CONSUMERS: one dict per consumer of the group."""
        return self._cmd(("XINFO", "CONSUMERS", name, groupname), _info_list)

    def xgroup_destroy(self, name: KeyT, groupname: EncodableT) -> Reply[bool]:
        """XGROUP DESTROY the group; ``True`` when it existed."""
        return self._cmd(("XGROUP", "DESTROY", name, groupname), replies.to_bool)

    def xgroup_setid(
        self,
        name: KeyT,
        groupname: EncodableT,
        id: StreamIdT,
        entries_read: int | None = None,
    ) -> Reply[bool]:
        """XGROUP SETID: move the group's last delivered id (``entries_read``: Redis 7)."""
        args: tuple[Any, ...] = ("XGROUP", "SETID", name, groupname, id)
        if entries_read is not None:
            args += ("ENTRIESREAD", entries_read)
        return self._cmd(args, replies.ok)

    def xgroup_createconsumer(
        self, name: KeyT, groupname: EncodableT, consumername: EncodableT
    ) -> Reply[int]:
        """XGROUP CREATECONSUMER; 1 when created, 0 when it existed."""
        return self._cmd(("XGROUP", "CREATECONSUMER", name, groupname, consumername))

    def xgroup_delconsumer(
        self, name: KeyT, groupname: EncodableT, consumername: EncodableT
    ) -> Reply[int]:
        """XGROUP DELCONSUMER; the number of entries it still had pending."""
        return self._cmd(("XGROUP", "DELCONSUMER", name, groupname, consumername))

    def xdelex(self, name: KeyT, *ids: StreamIdT, ref_policy: str = "KEEPREF") -> Reply[list[int]]:
        """XDELEX (Redis 8.2): delete entries, choosing what happens to consumer groups'
        references (``KEEPREF``, ``DELREF``, ``ACKED``); a code per id (1 deleted,
        -1 not found, 2 kept because still referenced)."""
        policy = ref_policy_word("xdelex", ref_policy)
        return self._cmd(("XDELEX", name, *policy, *_ids("xdelex", ids)))

    def xackdel(
        self, name: KeyT, groupname: EncodableT, *ids: StreamIdT, ref_policy: str = "KEEPREF"
    ) -> Reply[list[int]]:
        """XACKDEL (Redis 8.2): acknowledge and delete entries in one step; a code per id
        as for :meth:`xdelex`."""
        policy = ref_policy_word("xackdel", ref_policy)
        return self._cmd(("XACKDEL", name, groupname, *policy, *_ids("xackdel", ids)))
