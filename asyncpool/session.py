"""A connection's session state: one value that says what a borrower could notice.

Redis keeps per-connection state (database, transaction, watched keys,
subscriptions, client name, reply mode, protocol, user).  A
:class:`~asyncpool.Connection` keeps one :class:`Session` value that follows
the state-changing commands it sends, and the one its handshake produced
(its *baseline*).  The connection is dirty exactly when the two differ; its
``state`` name is derived from the same value, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .command import Command
from .errors import ResponseError

__all__ = ["Session", "follow"]


@dataclass(frozen=True)
class Session:
    """Per-connection state as the client believes the server holds it."""

    #: The selected database.
    db: int = 0
    #: Inside MULTI (commands are queued, not run).
    multi: bool = False
    #: Keys are WATCHed.
    watching: bool = False
    #: In subscriber mode (or MONITOR): only pushes come, never lent again as is.
    subscribed: bool = False
    #: The name given by CLIENT SETNAME (or the handshake).
    name: str | None = None
    #: CLIENT REPLY OFF/SKIP: the reply stream can no longer be trusted.
    replies_suppressed: bool = False
    #: The RESP version in use (2 or 3).
    protocol: int = 2
    #: Something only a new handshake undoes: another user (AUTH, RESET on a
    #: server with a password), READONLY, CLIENT TRACKING / NO-EVICT, or a
    #: state-changing command whose reply was never seen.
    changed: bool = False

    def replace(self, **changes: Any) -> Session:
        """A copy with some fields changed."""
        return replace(self, **changes)


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def follow(session: Session, command: Command, reply: Any, *, authenticated: bool) -> Session:
    """The session after ``command`` (which changes state) was answered with ``reply``.

    ``authenticated``: the handshake logged in (so a RESET logs out).
    """
    name = command.name
    args = command.args
    if isinstance(reply, ResponseError):
        if name == "EXEC" or name == "DISCARD":
            return session.replace(multi=False, watching=False)
        return session
    if name == "MULTI":
        return session.replace(multi=True)
    if name == "EXEC" or name == "DISCARD":
        return session.replace(multi=False, watching=False)
    if name == "WATCH":
        return session.replace(watching=True)
    if name == "UNWATCH":
        return session.replace(watching=False)
    if name == "SELECT":
        try:
            return session.replace(db=int(args[1]))
        except (IndexError, TypeError, ValueError):
            return session
    if name in ("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR"):
        return session.replace(subscribed=True)
    if name == "RESET":
        # RESET leaves RESP2, db 0, no name, no transaction, the default user
        return Session(protocol=2, changed=authenticated)
    if name == "HELLO":
        protocol = session.protocol
        if len(args) > 1:
            try:
                protocol = int(args[1])
            except (TypeError, ValueError):
                pass
        # HELLO may also carry AUTH and SETNAME: the identity is unknown now
        return session.replace(protocol=protocol, changed=True)
    if name in ("AUTH", "READONLY", "READWRITE"):
        return session.replace(changed=True)
    if name == "CLIENT":
        sub = command.subcommand
        if sub == "SETNAME" and len(args) > 2:
            return session.replace(name=_text(args[2]) or None)
        if sub in ("REPLY", "TRACKING", "NO-EVICT", "NO-TOUCH"):
            return session.replace(changed=True)
    return session
