"""A pure-Python RESP2/RESP3 reply parser, used when hiredis is missing or not wanted.

It is incremental: a reply may arrive cut at any byte, and a partly received
aggregate is kept on an explicit stack, so nothing is parsed twice and deep
nesting never recurses.  Every header is checked against
:class:`~asyncpool.options.ReplyLimits` before anything of that size is built;
aggregates are never pre-allocated from their announced length.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ProtocolError, error_from_reply
from ..options import ReplyLimits
from .base import NEED_MORE, PushMessage, read_replies
from .terminators import line_limit

__all__ = ["PythonParser"]

_DEFAULT_LIMITS = ReplyLimits()
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_DOUBLE = re.compile(rb"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|-?(?:inf|nan)", re.I)
_BIG = re.compile(rb"-?[0-9]+")

# Type bytes.
_BULK, _SIMPLE, _ERROR, _INT, _ARRAY = 36, 43, 45, 58, 42
_MAP, _SET, _PUSH, _ATTR = 37, 126, 62, 124
_NULL, _DOUBLE_T, _BIGNUM, _BOOL, _BLOBERR, _VERBATIM = 95, 44, 40, 35, 33, 61
_AGGREGATES = frozenset((_ARRAY, _MAP, _SET, _PUSH, _ATTR))
_TYPES = _AGGREGATES | {_BULK, _SIMPLE, _ERROR, _INT, _NULL, _DOUBLE_T, _BIGNUM, _BOOL}
_TYPES |= {_BLOBERR, _VERBATIM}
_DROP = object()  # a finished attribute: nothing to hand to the parent


def _bad(what: str, line: bytes | bytearray) -> ProtocolError:
    shown = bytes(line[:40])
    return ProtocolError(f"{what}: {shown!r}")


def _to_int(line: bytes | bytearray) -> int:
    """Strict RESP integer: ``-?[1-9][0-9]*`` or ``0`` (no sign, space, underscore, 0-padding)."""
    if line.isdigit():
        if line[0] == 48 and len(line) > 1:
            raise _bad("bad integer", line)
    elif not (len(line) > 1 and line[0] == 45 and line[1] != 48 and line[1:].isdigit()):
        raise _bad("bad integer", line)
    return int(line)


class PythonParser:
    """Incremental RESP2/RESP3 parser in pure Python (see :class:`~asyncpool.resp.Parser`)."""

    __slots__ = (
        "_buf",
        "_decode_error",
        "_encoding",
        "_errors",
        "_max_agg",
        "_max_bulk",
        "_max_depth",
        "_max_line",
        "_pos",
        "_stack",
        "failed",
    )

    def __init__(
        self,
        *,
        limits: ReplyLimits | None = None,
        encoding: str | None = None,
        errors: str = "strict",
    ) -> None:
        limits = limits or _DEFAULT_LIMITS
        self._max_bulk = limits.max_bulk_length
        self._max_agg = limits.max_aggregate_length
        self._max_depth = limits.max_depth
        self._max_line = line_limit(limits.max_bulk_length)
        self._encoding = encoding
        self._errors = errors
        self._buf: bytes | bytearray = b""
        self._pos = 0
        # Frames of partly received aggregates: [type byte, items, items still expected].
        self._stack: list[list[Any]] = []
        self._decode_error: UnicodeDecodeError | None = None
        #: Set once the input was found malformed; every later call raises it.
        self.failed: ProtocolError | None = None
        if encoding is not None:
            b"".decode(encoding, errors)  # unknown codec -> LookupError now, not mid-stream

    # -- input ---------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes received from the server."""
        if self.failed is not None:
            raise self.failed
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            self._buf = data if type(data) is bytes else bytes(data)
            self._pos = 0
        elif type(buf) is bytes:
            grown = bytearray(memoryview(buf)[pos:])
            grown += data
            self._buf = grown
            self._pos = 0
        else:
            if pos > 65536:
                del buf[:pos]  # type: ignore[union-attr]
                self._pos = 0
            buf += data

    def at_boundary(self) -> bool:
        """True when no reply is partly parsed (only unread whole bytes may remain)."""
        return not self._stack

    def unparsed(self) -> bytes:
        """The bytes not parsed yet (used by the hiredis wrapper to hand back control)."""
        return bytes(self._buf[self._pos :])

    # -- output --------------------------------------------------------------

    def replies(self) -> list[object]:
        """Every complete reply buffered now (see :meth:`Parser.replies`)."""
        return read_replies(self)

    def gets(self) -> object:
        """Return the next complete reply, or :data:`NEED_MORE`."""
        if self.failed is not None:
            raise self.failed
        try:
            value = self._parse()
        except ProtocolError as exc:
            self.failed = exc
            raise
        except (ValueError, TypeError, IndexError, OverflowError) as exc:
            self.failed = ProtocolError(f"malformed reply ({type(exc).__name__})")
            raise self.failed from None
        if self._decode_error is not None and value is not NEED_MORE:
            error, self._decode_error = self._decode_error, None
            raise error
        return value

    def _decode(self, raw: bytes) -> object:
        try:
            return raw.decode(self._encoding, self._errors)  # type: ignore[arg-type]
        except UnicodeDecodeError as exc:
            if self._decode_error is None:
                self._decode_error = exc
            return None

    def _parse(self) -> object:
        buf = self._buf
        pos = self._pos
        stack = self._stack
        size = len(buf)
        encoding = self._encoding
        value: object
        while True:
            end = buf.find(b"\r\n", pos)
            if end < 0:
                if pos < size and buf[pos] not in _TYPES:  # no need to wait for the line end
                    raise _bad(f"unknown reply type byte {bytes((buf[pos],))!r} in", buf[pos:])
                if size - pos > self._max_line + 1:  # + 1: its CR may be here already
                    raise ProtocolError(f"reply line longer than {self._max_line} bytes")
                self._pos = pos
                return NEED_MORE
            if end - pos > self._max_line:
                raise ProtocolError(f"reply line longer than {self._max_line} bytes")
            kind = buf[pos]
            line = buf[pos + 1 : end]
            if kind in (_BULK, _VERBATIM, _BLOBERR):
                if line.isdigit() and (line[0] != 48 or len(line) == 1):
                    length = int(line)
                elif line == b"-1" and kind != _BLOBERR:
                    pos = end + 2
                    value = None
                    length = -1
                else:
                    raise _bad("bad bulk length", line)
                if length >= 0:
                    if length > self._max_bulk:
                        raise ProtocolError(
                            f"bulk string of {length} bytes exceeds max_bulk_length "
                            f"({self._max_bulk})"
                        )
                    start = end + 2
                    stop = start + length
                    if stop + 2 > size:
                        self._pos = pos
                        return NEED_MORE
                    if buf[stop] != 13 or buf[stop + 1] != 10:
                        raise ProtocolError("bulk string not terminated by CRLF")
                    raw = buf[start:stop]
                    if type(raw) is not bytes:
                        raw = bytes(raw)
                    pos = stop + 2
                    if kind == _BULK:
                        value = raw if encoding is None else self._decode(raw)
                    elif kind == _VERBATIM:
                        if length < 4 or raw[3] != 58:
                            raise ProtocolError("verbatim string without a format prefix")
                        raw = raw[4:]
                        value = raw if encoding is None else self._decode(raw)
                    else:
                        value = error_from_reply(raw.decode("utf-8", "replace"))
            elif kind in (_SIMPLE, _ERROR):
                if 13 in line or 10 in line:
                    raise _bad("CR or LF inside a simple string", line)
                raw = line if type(line) is bytes else bytes(line)
                pos = end + 2
                if kind == _ERROR:
                    value = error_from_reply(raw.decode("utf-8", "replace"))
                else:
                    value = raw if encoding is None else self._decode(raw)
            elif kind == _INT:
                value = _to_int(line)
                if not _INT64_MIN <= value <= _INT64_MAX:
                    raise _bad("integer out of 64-bit range", line)
                pos = end + 2
            elif kind in _AGGREGATES:
                if line == b"-1" and kind != _ATTR:
                    value = None
                    pos = end + 2
                else:
                    count = _to_int(line)
                    if count < 0:
                        raise _bad("bad aggregate length", line)
                    if kind in (_MAP, _ATTR):
                        count *= 2
                    if count > self._max_agg:
                        raise ProtocolError(
                            f"aggregate of {count} elements exceeds max_aggregate_length "
                            f"({self._max_agg})"
                        )
                    if len(stack) >= self._max_depth:
                        raise ProtocolError(
                            f"reply nested deeper than max_depth ({self._max_depth})"
                        )
                    pos = end + 2
                    if count:
                        stack.append([kind, [], count])
                        continue
                    value = _finish(kind, [])
            elif kind == _NULL:
                if line:
                    raise _bad("bad null", line)
                value = None
                pos = end + 2
            elif kind == _DOUBLE_T:
                if _DOUBLE.fullmatch(line) is None:
                    raise _bad("bad double", line)
                value = float(line)
                pos = end + 2
            elif kind == _BIGNUM:
                if _BIG.fullmatch(line) is None:
                    raise _bad("bad big number", line)
                value = int(line)
                pos = end + 2
            elif kind == _BOOL:
                if line in (b"t", b"T"):
                    value = True
                elif line in (b"f", b"F"):
                    value = False
                else:
                    raise _bad("bad boolean", line)
                pos = end + 2
            else:
                raise _bad(f"unknown reply type byte {bytes((kind,))!r} in", buf[pos:end])
            # Hand the finished value to its parent aggregate(s).
            while stack:
                if value is _DROP:
                    break
                frame = stack[-1]
                frame[1].append(value)
                frame[2] -= 1
                if frame[2]:
                    break
                stack.pop()
                value = _finish(frame[0], frame[1])
            else:
                if value is _DROP:
                    continue
                self._pos = pos
                return value


def _finish(kind: int, items: list[Any]) -> object:
    """Turn a complete aggregate's items into its Python shape."""
    if kind == _ARRAY:
        return items
    if kind == _MAP:
        it = iter(items)
        try:
            return dict(zip(it, it, strict=False))
        except TypeError:
            raise ProtocolError("map reply with an unhashable key") from None
    if kind == _SET:
        try:
            return set(items)
        except TypeError:
            return items
    if kind == _PUSH:
        return PushMessage(items)
    return _DROP  # attribute: read and dropped
