"""The asyncpool exception hierarchy.

Every error asyncpool raises derives from :class:`RedisError`.  Timeout errors
are also builtin :class:`TimeoutError` s and configuration errors are also
:class:`ValueError` s, so generic handlers keep working.

Server error replies are mapped to :class:`ResponseError` subclasses by their
prefix (``WRONGTYPE``, ``NOSCRIPT``, ...); see :func:`error_from_reply`.
"""

from __future__ import annotations

import builtins

__all__ = [
    "AskError",
    "AuthenticationError",
    "BusyError",
    "BusyLoadingError",
    "ClusterDownError",
    "ConfigError",
    "ConnectionError",
    "CrossSlotError",
    "DecodeError",
    "EventLoopError",
    "ExecAbortError",
    "InvalidURL",
    "LockError",
    "LockNotOwnedError",
    "MasterNotFoundError",
    "MovedError",
    "NoPermissionError",
    "NoScriptError",
    "OutOfMemoryError",
    "OutcomeUnknownError",
    "PoolClosed",
    "PoolTimeout",
    "ProtocolError",
    "ReadOnlyError",
    "RedisError",
    "ResponseError",
    "StalePrimaryError",
    "TimeoutError",
    "TryAgainError",
    "WatchError",
    "WrongTypeError",
    "error_from_reply",
]


class RedisError(Exception):
    """Base class of every asyncpool error."""


class ConnectionError(RedisError):
    """The connection to the server failed, broke, or was closed.

    A command that fails with this error *before* its bytes were written is
    always safe to retry; see :class:`OutcomeUnknownError` for the other case.
    """

    #: True when the request was never written (the connection was already closed).
    request_not_sent: bool = False


class OutcomeUnknownError(ConnectionError):
    """The connection broke after a non-idempotent command was sent.

    The server may or may not have applied the command, so asyncpool does not
    retry it on its own.  Mark the call retryable if repeating it is safe.
    """


class StalePrimaryError(ConnectionError):
    """A connection meant for a primary reached a server that is not one (Sentinel).

    Checked with ``ROLE`` right after the handshake: the server was demoted
    or the address is out of date.  The connection is closed, the primary's
    address is asked of the sentinels again, and the dial is retried.
    """

    request_not_sent = True


class MasterNotFoundError(ConnectionError):
    """No sentinel could name the primary of a service (all down, or the name is unknown)."""

    request_not_sent = True


class TimeoutError(RedisError, builtins.TimeoutError):
    """An operation did not finish in time (also a builtin ``TimeoutError``)."""


class PoolTimeout(TimeoutError):
    """No connection could be acquired from the pool within ``acquire_timeout``."""


class PoolClosed(RedisError):
    """The pool was closed; it lends no more connections."""


class EventLoopError(RedisError, RuntimeError):
    """asyncpool was used without the asyncio event loop it needs (also a ``RuntimeError``).

    Raised when no asyncio loop runs in this thread (under trio, say: asyncpool
    supports asyncio only), and when a pool is used from a second event loop
    while the loop its connections belong to still runs (in another thread).
    The message names the fix.
    """


class ProtocolError(RedisError):
    """The server sent bytes that are not valid RESP, or a reply over a limit.

    The connection it arrived on is discarded.
    """


class ConfigError(RedisError, ValueError):
    """An option or argument has an invalid value (also a ``ValueError``)."""


class InvalidURL(ConfigError):
    """A connection URL could not be parsed.  The message never holds the password."""


class ResponseError(RedisError):
    """The server answered with an error reply.

    ``code`` holds the reply's prefix (``"ERR"``, ``"WRONGTYPE"``, ...).
    The connection stays healthy and is reused.
    """

    code: str = "ERR"

    def __init__(self, message: str = "", code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class AuthenticationError(ResponseError):
    """Wrong password or user, or a command needs authentication.

    Raised during the handshake and for ``WRONGPASS`` / ``NOAUTH`` replies.
    Never retried: repeating a wrong password only adds load.
    """


class WrongTypeError(ResponseError):
    """``WRONGTYPE``: the key holds a value of another type."""


class NoScriptError(ResponseError):
    """``NOSCRIPT``: no script with this SHA1 is cached on the server."""


class ReadOnlyError(ResponseError):
    """``READONLY``: write sent to a read-only replica."""


class BusyLoadingError(ResponseError):
    """``LOADING``: the server is loading its dataset into memory."""


class _Redirect(ResponseError):
    """A cluster redirect: ``MOVED <slot> <host>:<port>`` or ``ASK ...``."""

    def _parts(self) -> tuple[int, str, int]:
        words = str(self).split()
        try:
            host, _, port = words[2].rpartition(":")
            return int(words[1]), host, int(port)
        except (IndexError, ValueError):
            return -1, "", 0

    @property
    def slot(self) -> int:
        """The slot the reply is about (-1 if the reply could not be parsed)."""
        return self._parts()[0]

    @property
    def host(self) -> str:
        """The node to go to (``""``: the host of the node that answered)."""
        return self._parts()[1]

    @property
    def port(self) -> int:
        """The port of the node to go to."""
        return self._parts()[2]


class MovedError(_Redirect):
    """``MOVED``: a cluster slot lives on another node (``slot``, ``host``, ``port``)."""


class AskError(_Redirect):
    """``ASK``: a cluster slot is migrating; ask ``host``:``port`` once, after ``ASKING``."""


class TryAgainError(ResponseError):
    """``TRYAGAIN``: a multi-key cluster command hit a migrating slot."""


class ClusterDownError(ResponseError):
    """``CLUSTERDOWN``: the cluster cannot serve the request."""


class CrossSlotError(ResponseError):
    """``CROSSSLOT``: keys of one command live in different slots.

    :class:`~asyncpool.RedisCluster` raises it before sending such a command.
    """


class NoPermissionError(ResponseError):
    """``NOPERM``: the ACL user may not run this command or touch this key."""


class OutOfMemoryError(ResponseError):
    """``OOM``: the server is at ``maxmemory`` and refuses writes."""


class BusyError(ResponseError):
    """``BUSY``: a script or function is running on the server."""


class ExecAbortError(ResponseError):
    """``EXECABORT``: a transaction was discarded because a queued command failed."""


class DecodeError(ResponseError):
    """A reply could not be decoded with the configured ``encoding``.

    Not a server error, but handled like one: it fails that one reply
    (``decode_responses=True`` and a value that is not valid text), stands in
    a pipeline's results like an error reply, and the connection stays in
    sync and is reused.  Read such values with ``decode_responses=False``.
    """

    code = "DECODE"


class WatchError(ResponseError):
    """A watched key changed, so ``EXEC`` returned nil and nothing was applied."""

    code = "WATCH"


class LockError(RedisError):
    """A :class:`~asyncpool.Lock` could not be acquired in time, or was used while not held."""


class LockNotOwnedError(LockError):
    """The lock was released, extended or reacquired after another holder took it
    (its timeout expired), or was never held."""


_BY_PREFIX: dict[str, type[ResponseError]] = {
    "WRONGTYPE": WrongTypeError,
    "NOSCRIPT": NoScriptError,
    "READONLY": ReadOnlyError,
    "LOADING": BusyLoadingError,
    "MOVED": MovedError,
    "ASK": AskError,
    "TRYAGAIN": TryAgainError,
    "CLUSTERDOWN": ClusterDownError,
    "CROSSSLOT": CrossSlotError,
    "NOAUTH": AuthenticationError,
    "WRONGPASS": AuthenticationError,
    "NOPERM": NoPermissionError,
    "OOM": OutOfMemoryError,
    "BUSY": BusyError,
    "EXECABORT": ExecAbortError,
}


def error_from_reply(message: str) -> ResponseError:
    """Build the :class:`ResponseError` subclass matching a server error reply.

    ``message`` is the error text without the leading ``-`` / ``!`` marker, for
    example ``"WRONGTYPE Operation against a key holding the wrong kind of value"``.
    The exception is returned, not raised.
    """
    code, _, _ = message.partition(" ")
    cls = _BY_PREFIX.get(code, ResponseError)
    if code and code.isupper():
        return cls(message, code)
    return cls(message)
