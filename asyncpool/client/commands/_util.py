"""Argument helpers shared by the command families (time values, option checks)."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from ...errors import ConfigError
from ..base import EncodableT, KeyT

__all__ = [
    "QUEUES_COMMANDS_ATTR",
    "AbsExpiryT",
    "ExpiryT",
    "KeysT",
    "check_runs_commands",
    "constant_reply",
    "describe_command",
    "exclusive",
    "expiry_args",
    "keys_list",
    "mapping_args",
    "milliseconds",
    "run_now",
    "scan_items",
    "seconds",
    "unix_milliseconds",
    "unix_seconds",
]

#: A relative expiry: whole seconds / milliseconds, or a ``timedelta``.
ExpiryT: TypeAlias = int | timedelta
#: An absolute expiry: a Unix timestamp, or a ``datetime`` (naive means local time).
AbsExpiryT: TypeAlias = int | datetime
#: One key, or an iterable of keys.
KeysT: TypeAlias = KeyT | Iterable[KeyT]

_MS = timedelta(milliseconds=1)


def seconds(value: ExpiryT) -> int:
    """Whole seconds of ``value`` (a ``timedelta`` is truncated)."""
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return int(value)


def milliseconds(value: ExpiryT) -> int:
    """Whole milliseconds of ``value``."""
    if isinstance(value, timedelta):
        return value // _MS
    return int(value)


def unix_seconds(value: AbsExpiryT) -> int:
    """A Unix timestamp in seconds."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(value)


def unix_milliseconds(value: AbsExpiryT) -> int:
    """A Unix timestamp in milliseconds."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return int(value)


def exclusive(command: str, **options: Any) -> None:
    """Raise :class:`ConfigError` when more than one of ``options`` is set."""
    given = [name for name, value in options.items() if value is not None and value is not False]
    if len(given) > 1:
        raise ConfigError(f"{command}: {' and '.join(given)} are mutually exclusive")


def expiry_args(
    command: str,
    ex: ExpiryT | None,
    px: ExpiryT | None,
    exat: AbsExpiryT | None,
    pxat: AbsExpiryT | None,
) -> list[EncodableT]:
    """The ``EX``/``PX``/``EXAT``/``PXAT`` words for SET and GETEX (at most one).

    An ``ex`` timedelta with a sub-second part is sent as ``PX`` so no
    precision is lost.
    """
    exclusive(command, ex=ex, px=px, exat=exat, pxat=pxat)
    if ex is not None:
        if isinstance(ex, timedelta) and ex % timedelta(seconds=1):
            return ["PX", milliseconds(ex)]
        return ["EX", seconds(ex)]
    if px is not None:
        return ["PX", milliseconds(px)]
    if exat is not None:
        return ["EXAT", unix_seconds(exat)]
    if pxat is not None:
        return ["PXAT", unix_milliseconds(pxat)]
    return []


def keys_list(keys: Any, args: tuple[Any, ...] = ()) -> list[Any]:
    """``keys`` (one key or an iterable of keys) followed by ``args``, as a list."""
    if isinstance(keys, (bytes, bytearray, str, memoryview, int, float)):
        return [keys, *args]
    return [*keys, *args]


def mapping_args(command: str, mapping: Mapping[Any, Any]) -> list[Any]:
    """``{k: v}`` flattened to ``[k, v, ...]``; an empty mapping is a :class:`ConfigError`."""
    if not mapping:
        raise ConfigError(f"{command} needs a non-empty mapping")
    out: list[Any] = []
    for pair in mapping.items():
        out.extend(pair)
    return out


#: Set to ``True`` on runners that queue commands instead of running them
#: (pipelines): the ``*scan_iter`` helpers refuse to run there.
QUEUES_COMMANDS_ATTR = "_queues_commands"


#: Commands whose arguments may hold secrets: error messages show only their name.
_SECRET_ARGS = frozenset({"AUTH", "HELLO", "MIGRATE", "ACL", "CONFIG"})


def describe_command(args: Sequence[Any], width: int = 100) -> str:
    """``args`` as one line for an error message (``SET key value``), shortened to
    ``width``; commands that may carry passwords show their name only."""
    words = [
        bytes(a).decode("utf-8", "replace")
        if isinstance(a, (bytes, bytearray, memoryview))
        else str(a)
        for a in args
    ]
    if words and words[0].upper() in _SECRET_ARGS:
        shown = 2 if words[0].upper() in ("ACL", "CONFIG") else 1  # keep the subcommand
        return f"{' '.join(words[:shown])} ..."
    return textwrap.shorten(" ".join(words), width=width, placeholder="...", break_long_words=True)


async def _constant(value: Any) -> Any:
    return value


def constant_reply(runner: Any, value: Any) -> Any:
    """What a command method returns when the answer is known without asking the server.

    A runner that queues (a pipeline) queues a PING whose reply stands for
    ``value``, so results keep their places; others get an awaitable of ``value``.
    """
    if getattr(runner, QUEUES_COMMANDS_ATTR, False):
        return runner._cmd(("PING",), lambda _reply: value)
    return _constant(value)


async def run_now(runner: Any, pending: Any, helper: str) -> Any:
    """Await the result of a command method, refusing runners that only queue it."""
    if not inspect.isawaitable(pending):
        raise TypeError(
            f"{helper}() needs a client that runs commands (Redis or a pinned connection),"
            f" not {type(runner).__name__}"
        )
    return await pending


def check_runs_commands(runner: Any, helper: str) -> None:
    """Raise ``TypeError`` when ``runner`` queues commands (a pipeline)."""
    if getattr(runner, QUEUES_COMMANDS_ATTR, False):
        raise TypeError(f"{helper}() cannot be used on {type(runner).__name__}; use the client")


async def scan_items(runner: Any, helper: str, fetch: Callable[[int], Any]) -> AsyncIterator[Any]:
    """Drive a SCAN-style cursor to the end, yielding every item of every batch.

    ``fetch(cursor)`` calls the command method; a dict batch (HSCAN) yields
    its ``(field, value)`` pairs.
    """
    cursor = 0
    while True:
        cursor, batch = await run_now(runner, fetch(cursor), helper)
        for item in batch.items() if isinstance(batch, dict) else batch:
            yield item
        if cursor == 0:
            return
