"""How :class:`~asyncpool.client.pubsub.PubSub` reads its connection's replies.

Every reply on a subscriber connection comes to :meth:`ReplyDispatch._on_reply`
from the event loop: messages are queued for the reader, (un)subscribe
confirmations resolve the callers waiting for them, PINGs resolve theirs, and
an error reply rolls back the subscription it rejected.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, TypedDict

from ..errors import ResponseError
from ..options import ConnectionOptions

__all__ = ["RECONNECTED", "PubSubMessage", "ReplyDispatch"]

log = logging.getLogger("asyncpool.pubsub")

#: ``type`` of the message PubSub delivers after it reconnected and re-subscribed.
RECONNECTED = "reconnected"

_SUBSCRIBE_KINDS = frozenset(
    {"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"}
)
_UNSUB = frozenset({"unsubscribe", "punsubscribe", "sunsubscribe"})
_CLOSED: Any = object()


class PubSubMessage(TypedDict):
    """One delivered message (the redis-py shape)."""

    type: str
    pattern: Any
    channel: Any
    data: Any


class _Waiter:
    """A caller waiting for the server to confirm some (un)subscriptions."""

    __slots__ = ("future", "keys")

    def __init__(self, future: asyncio.Future[None], keys: set[tuple[str, bytes]]) -> None:
        self.future = future
        self.keys = keys


class ReplyDispatch:
    """The reply-handling half of PubSub (PubSub provides the state)."""

    options: ConnectionOptions
    _channels: dict[bytes, Any]
    _patterns: dict[bytes, Any]
    _shard_channels: dict[bytes, Any]
    _messages: asyncio.Queue[Any]
    _waiters: list[_Waiter]
    _internal: list[_Waiter]
    _pings: list[asyncio.Future[Any]]
    _resubscribing: bool
    _notice: PubSubMessage | None

    # -- replies --------------------------------------------------------------------------------
    def _on_reply(self, reply: Any) -> None:
        """Every reply of the subscriber connection lands here (from the event loop)."""
        try:
            self._dispatch(reply)
        except Exception:  # never let a bad reply break the transport
            log.exception("could not handle a pubsub reply")

    def _dispatch(self, reply: Any) -> None:
        if isinstance(reply, list) and reply:
            kind = _text(reply[0]).lower()
            if kind == "message" and len(reply) >= 3:
                self._deliver("message", None, reply[1], reply[2])
            elif kind == "smessage" and len(reply) >= 3:
                self._deliver("smessage", None, reply[1], reply[2])
            elif kind == "pmessage" and len(reply) >= 4:
                self._deliver("pmessage", reply[1], reply[2], reply[3])
            elif kind in _SUBSCRIBE_KINDS and len(reply) >= 3:
                self._confirmed(kind, reply[1], reply[2])
            elif kind == "pong":
                self._on_pong(reply[1] if len(reply) > 1 else None)
            else:
                log.debug("ignored a pubsub reply of type %r", kind)
        elif isinstance(reply, ResponseError):
            self._on_error(reply)
        else:
            self._on_pong(reply)  # RESP3 (or not yet subscribed): PING answers plainly

    def _deliver(self, kind: str, pattern: Any, channel: Any, data: Any) -> None:
        message: PubSubMessage = {
            "type": kind,
            "pattern": pattern,
            "channel": channel,
            "data": data,
        }
        self._messages.put_nowait(message)

    def _confirmed(self, kind: str, name: Any, count: Any) -> None:
        if name is not None:
            key = (kind, self._key(name))
            for waiter in self._waiters:
                waiter.keys.discard(key)
                if not waiter.keys and not waiter.future.done():
                    waiter.future.set_result(None)
        if not self._resubscribing:
            self._deliver(kind, None, name, count)
        elif all(w.future.done() for w in self._internal):
            self._notify_reconnected()  # now, so that it precedes every later message

    def _notify_reconnected(self) -> None:
        notice, self._notice = self._notice, None
        if notice is not None:
            self._messages.put_nowait(notice)

    def _on_error(self, error: ResponseError) -> None:
        """An error reply: a rejected (un)subscription (say, by an ACL), else a PING's."""
        for waiter in self._waiters:
            if not waiter.future.done():
                for kind, key in waiter.keys:
                    if kind not in _UNSUB:
                        registry = {
                            "subscribe": self._channels,
                            "ssubscribe": self._shard_channels,
                        }.get(kind, self._patterns)
                        registry.pop(key, None)
                waiter.future.set_exception(error)
                return
        if not self._on_pong(error):
            log.warning("error reply on the subscriber connection: %s", error)

    def _on_pong(self, value: Any) -> bool:
        while self._pings:
            fut = self._pings.pop(0)
            if fut.done():
                continue  # its caller gave up; this is its late reply
            if isinstance(value, BaseException):
                fut.set_exception(value)
            else:
                fut.set_result(value)
            return True
        return False

    # -- helpers ----------------------------------------------------------------------------------
    def _key(self, name: Any) -> bytes:
        if isinstance(name, str):
            return name.encode(self.options.encoding, self.options.encoding_errors)
        if isinstance(name, (bytes, bytearray, memoryview)):
            return bytes(name)
        return str(name).encode()

    def _fail_all(self, exc: BaseException) -> None:
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_exception(exc)
                waiter.future.exception()
        for fut in self._pings:
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()
        self._pings.clear()


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)
