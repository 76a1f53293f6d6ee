"""What a client-side cache miss runs, and what identical reads in flight share.

:class:`ReadWithTTL` is the executor operation of a miss (the read and ``PTTL``
of each of its keys, in one write); :class:`Pending` is a read in flight that
identical reads wait for instead of sending their own; :func:`cache_key` and
:func:`copy_reply` are how the cache keys and hands out replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

from ..command import Command
from ..errors import RedisError
from .cache_keys import key_bytes
from .cache_store import ReadToken

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["MUTABLE", "OwnerLeft", "Pending", "ReadWithTTL", "cache_key", "copy_reply"]

#: Reply types a caller could change: handed out as copies.
MUTABLE = (list, dict, set)


class ReadWithTTL:
    """An executor operation: a cacheable read and ``PTTL`` of each of its keys, in one write."""

    __slots__ = ("_wire", "command", "retry_safe")

    pins_connection = False

    def __init__(
        self, args: Sequence[Any], keys: tuple[bytes, ...], retryable: bool | None
    ) -> None:
        #: Names the operation (``GET``) to observers and in errors.
        self.command = Command(tuple(args), None, retryable)
        #: Reads are safe to repeat unless the caller said otherwise.
        self.retry_safe = retryable is not False
        self._wire = [self.command.args, *(("PTTL", key) for key in keys)]

    def send(self, conn: Connection) -> Awaitable[Any]:
        return conn.send_many(self._wire)

    def result(self, replies: list[Any]) -> tuple[Any, list[Any]]:
        value = replies[0]
        if isinstance(value, RedisError):
            raise value
        return value, replies[1:]


class OwnerLeft(Exception):
    """The read being shared was cancelled: its sharers read for themselves."""


class Pending:
    """A read in flight that identical reads may wait for instead of sending their own."""

    __slots__ = ("future", "token", "write_seq")

    def __init__(self, token: ReadToken, write_seq: int) -> None:
        self.token = token
        self.write_seq = write_seq
        self.future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.future.add_done_callback(_retrieve)


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()


def cache_key(args: Sequence[Any]) -> Any:
    """``args`` itself when every part is str/bytes (the common case), else a typed tuple.

    Typing keeps ``1`` and ``1.0`` (equal in Python, different on the wire) apart.
    """
    for arg in args:
        kind = arg.__class__
        if kind is not str and kind is not bytes:
            return tuple(
                a if a.__class__ in (str, bytes) else (a.__class__.__name__, key_bytes(a))
                for a in args
            )
    return args if args.__class__ is tuple else tuple(args)


def copy_reply(value: Any) -> Any:
    """A copy of a mutable reply, so a caller cannot change the cached one."""
    kind = value.__class__
    if kind is list:
        return [copy_reply(v) if v.__class__ in MUTABLE else v for v in value]
    if kind is dict:
        return {k: copy_reply(v) if v.__class__ in MUTABLE else v for k, v in value.items()}
    if kind is set:
        return set(value)
    return value
