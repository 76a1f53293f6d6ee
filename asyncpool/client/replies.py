"""Reply callbacks: turn raw RESP2 / RESP3 replies into one documented Python shape.

Every function here is pure (reply in, value out) so it can be unit-tested
without a server.  The same command answers differently under the two
protocols (RESP2 sends a flat array where RESP3 sends a map, a set or a
double), and with ``decode_responses=True`` strings arrive as ``str`` instead
of ``bytes``; each callback accepts every such form and returns the same shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

__all__ = [
    "StrT",
    "flatten_pairs",
    "ok",
    "parse_client_info",
    "parse_client_list",
    "parse_info",
    "parse_xautoclaim",
    "parse_xpending_range",
    "parse_xpending_summary",
    "parse_xread",
    "scan_dict",
    "scan_list",
    "scan_pairs",
    "scan_set",
    "stream_entries",
    "stream_entry",
    "to_bool",
    "to_bool_list",
    "to_dict",
    "to_float",
    "to_float_or_none",
    "to_int",
    "to_set",
    "to_str",
    "to_str_dict",
    "to_str_list",
    "to_str_or_none",
    "to_tuple_or_none",
    "zpop_blocking",
    "zset_pairs",
]

#: The client's string reply type: ``bytes``, or ``str`` when it decodes responses.
#: Clients and command mixins are generic in it (``Redis[bytes]``, ``Redis[str]``).
#: Its default (``bytes``) is for type checkers only, so it needs no runtime dependency.
if TYPE_CHECKING:
    from typing_extensions import TypeVar

    StrT = TypeVar("StrT", bound="bytes | str", default=bytes)
else:
    from typing import TypeVar

    StrT = TypeVar("StrT", bound="bytes | str")


def to_str(value: Any) -> str:
    """``bytes`` as UTF-8 text (undecodable bytes replaced); anything else through ``str``."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def ok(reply: Any) -> bool:
    """``True`` for an ``OK`` status reply (bytes or str), ``False`` otherwise."""
    return reply in (b"OK", "OK")


def to_bool(reply: Any) -> bool:
    """An integer (or RESP3 boolean) reply as ``bool``."""
    return bool(reply)


def to_bool_list(reply: Any) -> list[bool]:
    """An array of integers as a list of ``bool``."""
    return [bool(item) for item in reply]


def to_int(reply: Any) -> int:
    """An integer or numeric string reply as ``int``."""
    return int(reply)


def to_float(reply: Any) -> float:
    """A RESP3 double or a RESP2 numeric string as ``float``."""
    return float(reply)


def to_float_or_none(reply: Any) -> float | None:
    """Like :func:`to_float`, passing a nil reply through as ``None``."""
    return None if reply is None else to_float(reply)


def to_set(reply: Any) -> set[Any]:
    """A RESP2 array or RESP3 set as a Python ``set``."""
    if reply is None:
        return set()
    return reply if isinstance(reply, set) else set(reply)


def to_dict(reply: Any) -> dict[Any, Any]:
    """A RESP3 map, or a RESP2 flat ``[k1, v1, k2, v2, ...]`` array, as a ``dict``."""
    if reply is None:
        return {}
    if isinstance(reply, dict):
        return reply
    it = iter(reply)
    return dict(zip(it, it, strict=False))


def flatten_pairs(reply: Any) -> list[Any]:
    """RESP3 ``[[a, b], [c, d]]`` (or RESP2's already flat list) as ``[a, b, c, d]``."""
    if not reply:
        return []
    if isinstance(reply[0], list):
        return [item for pair in reply for item in pair]
    return list(reply)


def to_str_list(reply: Any) -> list[Any]:
    """An array of strings as ``str`` (nil elements stay ``None``)."""
    return [None if item is None else to_str(item) for item in reply]


def to_str_or_none(reply: Any) -> str | None:
    """A string reply as ``str``; nil stays ``None``."""
    return None if reply is None else to_str(reply)


def to_str_dict(reply: Any) -> dict[str, Any]:
    """A map (or flat array) whose keys become ``str``, values left as they are."""
    return {to_str(k): v for k, v in to_dict(reply).items()}


def to_tuple_or_none(reply: Any) -> tuple[Any, ...] | None:
    """An array as a tuple (``BLPOP`` -> ``(key, value)``); nil stays ``None``."""
    return None if reply is None else tuple(reply)


def zset_pairs(reply: Any) -> list[tuple[Any, float]]:
    """Members with scores as ``[(member, score), ...]``.

    RESP2 sends a flat ``[m1, "s1", m2, "s2"]``; RESP3 sends ``[[m1, s1], ...]``
    (and a single flat ``[m, s]`` for ``ZPOPMIN`` without a count).
    """
    if not reply:
        return []
    if isinstance(reply[0], list):
        return [(member, to_float(score)) for member, score in reply]
    it = iter(reply)
    return [(member, to_float(score)) for member, score in zip(it, it, strict=False)]


def zpop_blocking(reply: Any) -> tuple[Any, Any, float] | None:
    """``BZPOPMIN`` / ``BZPOPMAX``: ``(key, member, score)``, or ``None`` on timeout."""
    if reply is None:
        return None
    key, member, score = reply
    return (key, member, to_float(score))


# -- SCAN family ----------------------------------------------------------------------
def scan_list(reply: Any) -> tuple[int, list[Any]]:
    """``SCAN``: ``(next cursor, [keys])``."""
    cursor, items = reply
    return (to_int(cursor), list(items))


def scan_set(reply: Any) -> tuple[int, set[Any]]:
    """``SSCAN``: ``(next cursor, {members})``."""
    cursor, items = reply
    return (to_int(cursor), to_set(items))


def scan_dict(reply: Any) -> tuple[int, dict[Any, Any]]:
    """``HSCAN``: ``(next cursor, {field: value})``."""
    cursor, items = reply
    return (to_int(cursor), to_dict(items))


def scan_pairs(reply: Any) -> tuple[int, list[tuple[Any, float]]]:
    """``ZSCAN``: ``(next cursor, [(member, score), ...])``."""
    cursor, items = reply
    return (to_int(cursor), zset_pairs(items))


# -- server text replies ----------------------------------------------------------------
_INFO_STRINGS = frozenset(
    {"redis_git_sha1", "redis_build_id", "run_id", "master_replid", "master_replid2"}
)


def _info_value(value: str) -> Any:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        pass
    if "=" not in value:
        return value
    out: dict[str, Any] = {}
    for part in value.split(","):
        key, sep, sub = part.partition("=")
        if not sep:
            return value
        out[key] = _info_value(sub)
    return out


def parse_info(reply: Any) -> dict[str, Any]:
    """``INFO`` text as a dict.

    Numbers become ``int`` / ``float``; ``k=v,k=v`` values (``db0``,
    ``cmdstat_*``, replica lines) become nested dicts; ids such as ``run_id``
    stay strings.  Section headers (``# Server``) are skipped.
    """
    text = to_str(reply)
    info: dict[str, Any] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        info[key] = value if key in _INFO_STRINGS else _info_value(value)
    return info


def parse_client_list(reply: Any) -> list[dict[str, str]]:
    """``CLIENT LIST`` as one ``{field: value}`` dict (all ``str``) per client."""
    clients = []
    for line in to_str(reply).splitlines():
        if not line.strip():
            continue
        entry: dict[str, str] = {}
        for part in line.split(" "):
            key, _, value = part.partition("=")
            if key:
                entry[key] = value
        clients.append(entry)
    return clients


_CLIENT_INT_FIELDS = frozenset(
    "id age idle db sub psub ssub multi qbuf qbuf-free obl oll omem tot-mem argv-mem"
    " multi-mem rbs rbp io-thread watch tot-net-in tot-net-out tot-cmds".split()
)


def parse_client_info(reply: Any) -> dict[str, str | int]:
    """One ``CLIENT INFO`` / ACL LOG ``client-info`` line; counters (``id``, ``age``,
    ``db`` ...) as ``int``, the rest ``str``."""
    (entry,) = parse_client_list(reply) or [{}]
    out: dict[str, str | int] = {}
    for key, value in entry.items():
        numeric = key in _CLIENT_INT_FIELDS and value.lstrip("-").isdigit()
        out[key] = int(value) if numeric else value
    return out


# -- streams ------------------------------------------------------------------------------
def stream_entry(entry: Any) -> tuple[Any, dict[Any, Any] | None]:
    """One ``[id, [f1, v1, ...]]`` entry as ``(id, {f1: v1, ...})``.

    The fields are ``None`` for an entry deleted while pending (XREADGROUP /
    XAUTOCLAIM on older servers).
    """
    entry_id, fields = entry
    return (entry_id, None if fields is None else to_dict(fields))


def stream_entries(reply: Any) -> list[tuple[Any, dict[Any, Any] | None]]:
    """``XRANGE`` / ``XREVRANGE``: ``[(id, {field: value}), ...]``."""
    if reply is None:
        return []
    return [stream_entry(entry) for entry in reply]


def parse_xread(reply: Any) -> dict[Any, list[tuple[Any, dict[Any, Any] | None]]]:
    """``XREAD`` / ``XREADGROUP``: ``{stream: [(id, fields), ...]}``; ``{}`` on timeout.

    RESP2 sends ``[[stream, entries], ...]``; RESP3 sends a map.
    """
    if reply is None:
        return {}
    items: Iterable[Any] = reply.items() if isinstance(reply, dict) else reply
    return {stream: stream_entries(entries) for stream, entries in items}


def parse_xpending_summary(reply: Any) -> dict[str, Any]:
    """``XPENDING key group``: ``{"pending", "min", "max", "consumers": [{"name", "pending"}]}``."""
    count, lowest, highest, consumers = reply
    return {
        "pending": to_int(count),
        "min": lowest,
        "max": highest,
        "consumers": [
            {"name": name, "pending": to_int(pending)} for name, pending in consumers or ()
        ],
    }


def parse_xpending_range(reply: Any) -> list[dict[str, Any]]:
    """``XPENDING key group start end count``: one dict per pending message."""
    return [
        {
            "message_id": message_id,
            "consumer": consumer,
            "time_since_delivered": to_int(idle),
            "times_delivered": to_int(delivered),
        }
        for message_id, consumer, idle, delivered in reply
    ]


def parse_xautoclaim(reply: Any, justid: bool = False) -> tuple[Any, list[Any], list[Any]]:
    """``XAUTOCLAIM``: ``(next start id, claimed, deleted ids)``.

    ``claimed`` holds ``(id, fields)`` tuples, or bare ids with ``JUSTID``.
    Redis 6.2 sends no deleted-ids element; it is then ``[]``.
    """
    next_id = reply[0]
    claimed = list(reply[1]) if justid else stream_entries(reply[1])
    deleted = list(reply[2]) if len(reply) > 2 and reply[2] is not None else []
    return (next_id, claimed, deleted)
