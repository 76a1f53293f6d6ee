"""Shared pieces of the RESP parsers: the ``NEED_MORE`` sentinel, push replies, the protocol."""

from __future__ import annotations

from typing import Final, Protocol

from ..errors import DecodeError, ProtocolError

__all__ = ["MAX_LINE", "NEED_MORE", "Parser", "PushMessage", "read_replies"]

#: The longest line a reply may hold, type byte included, CRLF not: a header
#: (``$5``, ``*3``) is a few bytes and Redis's own status and error lines a few
#: hundred; 64 KiB leaves room for long script error messages while a peer that
#: never sends CRLF costs at most this much memory before ``ProtocolError``.
MAX_LINE: Final = 65536


class _NeedMore:
    """Type of :data:`NEED_MORE`; a single falsy, printable instance."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_MORE"

    def __bool__(self) -> bool:
        return False


#: Returned by :meth:`Parser.gets` when no complete reply is buffered yet.
NEED_MORE: Final = _NeedMore()


class PushMessage(list):  # type: ignore[type-arg]
    """A RESP3 push reply (``>``): out-of-band data such as pub/sub messages.

    It is a ``list`` (so it compares and indexes like one) whose type tells it
    apart from an ordinary array reply: ``isinstance(reply, PushMessage)``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"PushMessage({list.__repr__(self)})"


class Parser(Protocol):
    """A RESP reply parser: bytes go in with :meth:`feed`, replies come out of :meth:`gets`.

    Server error replies are *returned* as :class:`~asyncpool.ResponseError`
    instances (also when nested in an aggregate), never raised.  Malformed input
    and replies over the configured :class:`~asyncpool.options.ReplyLimits` raise
    :class:`~asyncpool.ProtocolError`; the parser is unusable afterwards.  When a
    reply cannot be decoded with the configured ``encoding`` (and ``errors`` is
    ``"strict"``), the whole reply is consumed, then ``gets()`` raises the
    :class:`UnicodeDecodeError`; the parser stays usable (the stream is in sync).
    """

    #: Set once the input was found malformed; every later call raises it.  Read only.
    failed: ProtocolError | None

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes received from the server."""

    def gets(self) -> object:
        """Return the next complete reply, or :data:`NEED_MORE`."""

    def replies(self) -> list[object]:
        """Every complete reply buffered now, in order (``[]``: more bytes needed).

        A reply that cannot be decoded comes as a :class:`~asyncpool.DecodeError`
        in its place.  Malformed input raises :class:`~asyncpool.ProtocolError`
        when no reply comes before it; otherwise those replies are returned and
        :attr:`failed` is set (so one call per chunk suffices: check it after).
        """


def read_replies(parser: Parser) -> list[object]:
    """:meth:`Parser.replies` through ``parser.gets()``, one reply at a time."""
    out: list[object] = []
    while True:
        try:
            reply = parser.gets()
        except UnicodeDecodeError as exc:  # the whole reply was read: the stream is in sync
            out.append(decode_error(exc))
            continue
        except ProtocolError:
            if out:
                return out  # the parser keeps the error in ``failed``
            raise
        if reply is NEED_MORE:
            return out
        out.append(reply)


def decode_error(exc: UnicodeDecodeError) -> DecodeError:
    """The error that stands in for a reply that could not be decoded."""
    return DecodeError(f"reply could not be decoded: {exc}")
