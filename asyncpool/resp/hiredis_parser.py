"""The hiredis-backed parser, with a cheap guard in front of it.

``hiredis.Reader`` is fast but, used alone, it (1) pre-allocates a list from an
aggregate header (``*2000000000`` asks for 16 GB), (2) knows nothing of our
limits, and (3) mishandles some RESP3 types: sets come back as lists, big
numbers as strings, push replies look like arrays, blob errors (``!``) are
rejected and a nested attribute (``|``) shifts the elements of its parent.

So every chunk is first scanned (in C, via one regex search) for *suspicious
headers*: a CRLF followed by ``~ ( ! | >``, or by an aggregate header of 7+
digits or a bulk header with enough digits to exceed ``max_bulk_length``.
Clean chunks (nearly all traffic) go straight to hiredis.  A suspicious chunk
switches this parser to the pure-Python parser from the last known reply
boundary; once that parser is past every suspicious header and between two
replies, the remaining bytes go back to a fresh hiredis reader.

hiredis also skips the two bytes after a bulk payload unread, so
``$3\r\nabcXX:1\r\n`` would read as ``b"abc"`` then ``1``.  A
:class:`~asyncpool.resp.terminators.TerminatorCheck` looks at every clean chunk
first (one regex match in the common case); a terminator that is not CRLF
counts as a suspicious header, and the pure-Python parser raises on it.

Finding the last reply boundary: the chunks fed since hiredis was last seen
empty right after returning a reply are kept (by reference), together with the
number of replies already returned from them.  If they grow past
``_RETAIN_LIMIT`` (4 MiB) the Python parser takes over the same way, which bounds the
extra memory.

``max_depth`` costs nothing for small replies: a reply deeper than
``max_depth`` needs at least ``4 * (max_depth + 1)`` bytes, so only past that
many bytes since the last boundary are ``*``/``%`` bytes counted, and only
when they could reach the limit is the returned reply walked.
"""

from __future__ import annotations

import re
from typing import Any

import hiredis

from ..errors import ProtocolError, ResponseError, error_from_reply
from ..options import ReplyLimits
from .base import NEED_MORE, decode_error, read_replies
from .python_parser import PythonParser
from .terminators import TerminatorCheck, clean_items, line_limit

__all__ = ["HiredisParser"]

_DEFAULT_LIMITS = ReplyLimits()
_RETAIN_LIMIT = 4 * 1024 * 1024
#: hiredis pre-allocates aggregates; at 7 digits (>= 10**6 elements) the Python
#: parser, which allocates only as elements arrive, takes the reply instead.
_MAX_PREALLOC_DIGITS = 7
#: What hiredis raises on input it cannot parse (a ``UnicodeDecodeError``, also a
#: ``ValueError``, is caught before these: it fails one reply, not the stream).
_HIREDIS_FAILURES = (hiredis.ProtocolError, TypeError, SystemError, ValueError)
_GUARDS: dict[tuple[int, int, int], tuple[re.Pattern[bytes], int]] = {}
_Digits = tuple[int, int, int]


def _digits_to_exceed(limit: int) -> int:
    """Fewest digits of a (not zero-padded) number that can be greater than ``limit``."""
    return len(str(limit + 1))


def _digits_for(limits: ReplyLimits) -> _Digits:
    """Digit counts from which an aggregate, map or bulk header is suspicious."""
    array = min(_digits_to_exceed(limits.max_aggregate_length), _MAX_PREALLOC_DIGITS)
    pairs = _digits_to_exceed(limits.max_aggregate_length // 2)  # a map counts pairs twice
    bulk = _digits_to_exceed(limits.max_bulk_length)
    return (array, pairs, bulk)


def _guard_for(key: _Digits) -> tuple[re.Pattern[bytes], int]:
    array, pairs, bulk = key
    guard = _GUARDS.get(key)
    if guard is None:
        pattern = re.compile(
            rb"\r\n(?:[~(!|>]|\*[0-9]{%d}|%%[0-9]{%d}|[$=][0-9]{%d})" % (array, pairs, bulk)
        )
        guard = _GUARDS[key] = (pattern, max(array, pairs, bulk) + 2)
    return guard


def _reply_error(message: str) -> ResponseError:
    return error_from_reply(message)


def _aggregate_marks(chunk: bytes) -> int:
    """How many ``*`` and ``%`` bytes ``chunk`` holds (an upper bound on its aggregate headers).

    ``bytes.count`` walks every byte; ``bytes.find`` of one byte is a
    ``memchr``, so a chunk without either (plain bulk replies) costs next to nothing.
    """
    if chunk.find(b"*") < 0 and chunk.find(b"%") < 0:
        return 0
    return chunk.count(b"*") + chunk.count(b"%")


def _too_deep(reply: object, limit: int) -> bool:
    """True when ``reply`` nests lists/dicts deeper than ``limit`` (iterative walk)."""
    if type(reply) is not list and type(reply) is not dict:
        return False
    todo: list[tuple[Any, int]] = [(reply, 1)]
    while todo:
        node, level = todo.pop()
        if level > limit:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) is list or type(child) is dict:
                todo.append((child, level + 1))
    return False


class HiredisParser:
    """RESP2/RESP3 parser on ``hiredis.Reader`` with the same results as :class:`PythonParser`."""

    __slots__ = (
        "_agg",
        "_bulks",
        "_delivered",
        "_depth_bytes",
        "_encoding",
        "_errors",
        "_guard",
        "_last_dirty",
        "_limits",
        "_max_depth",
        "_py",
        "_reader",
        "_retain_limit",
        "_retained",
        "_since",
        "_stream",
        "_tail",
        "_window",
        "failed",
    )

    def __init__(
        self,
        *,
        limits: ReplyLimits | None = None,
        encoding: str | None = None,
        errors: str = "strict",
    ) -> None:
        self._limits = limits = limits or _DEFAULT_LIMITS
        self._encoding = encoding
        self._errors = errors
        self._max_depth = limits.max_depth
        self._depth_bytes = 4 * (limits.max_depth + 1)
        # Past this many bytes without a known boundary the Python parser takes
        # over (lines are bounded by MAX_LINE, in both parsers).
        self._retain_limit = min(_RETAIN_LIMIT, limits.max_bulk_length + 64)
        digits = _digits_for(limits)
        self._guard, self._window = _guard_for(digits)
        self._reader: Any = self._new_reader()
        self._py: PythonParser | None = None
        self._retained: list[bytes] = []  # chunks since the last known reply boundary
        self._since = 0  # their total size
        self._delivered = 0  # replies hiredis returned from them
        self._agg = 0  # '*' and '%' bytes among them, counted once _since >= _depth_bytes
        self._tail = b"\r\n"  # last bytes of the stream (a header may span two chunks)
        self._stream = 0  # bytes fed so far
        self._last_dirty = -1  # stream offset just past the last suspicious header seen
        # what hiredis does not check: the CRLF after each bulk payload
        max_line = line_limit(limits.max_bulk_length)
        self._bulks = TerminatorCheck(clean_items(*digits, max_line), max_line)
        #: Set once the input was found malformed; every later call raises it.
        self.failed: ProtocolError | None = None

    def _new_reader(self) -> Any:
        return hiredis.Reader(
            notEnoughData=NEED_MORE,
            replyError=_reply_error,
            encoding=self._encoding,
            errors=self._errors,
        )

    # -- input ---------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes received from the server."""
        if self.failed is not None:
            raise self.failed
        if type(data) is not bytes:
            data = bytes(data)
        tail = self._tail
        scanned = tail + data
        self._tail = scanned[-self._window :]
        base = self._stream - len(tail)  # stream offset of scanned[0]
        self._stream += len(data)
        py = self._py
        clean_to = 0 if py is not None else self._bulks.clean_prefix(scanned, base)
        clean = clean_to == len(scanned)
        if clean:
            dirty = None  # the common case: one regex match, no guard needed
        else:  # clean items hold no suspicious header: guard from the CRLF before the rest
            dirty = self._guard.search(scanned, max(clean_to - 2, 0))
            if dirty is not None:
                last = dirty
                for last in self._guard.finditer(scanned, dirty.start() + 1):  # noqa: B007
                    pass
                end = base + last.end()  # stream offset past the header
                if end > self._last_dirty:
                    self._last_dirty = end
        if py is not None:
            py.feed(data)
            return
        self._retained.append(data)
        since = self._since = self._since + len(data)
        suspicious = dirty is not None or since > self._retain_limit
        if not (suspicious or clean) and (bad := self._bulks.check(scanned, base)) >= 0:
            # a bulk not terminated by CRLF: the Python parser raises on it
            if bad > self._last_dirty:
                self._last_dirty = bad
            suspicious = True
        if suspicious:
            self._to_python()
            return
        self._reader.feed(data)
        if since >= self._depth_bytes:
            if since - len(data) < self._depth_bytes:
                self._agg = sum(_aggregate_marks(c) for c in self._retained)
            else:
                self._agg += _aggregate_marks(data)

    def _to_python(self) -> None:
        """Hand everything since the last reply boundary to a pure-Python parser."""
        py = PythonParser(limits=self._limits, encoding=self._encoding, errors=self._errors)
        for chunk in self._retained:
            py.feed(chunk)
        skip = self._delivered
        self._forget()
        self._reader = None
        self._py = py
        try:
            while skip:  # replies hiredis already returned
                try:
                    py.gets()
                except UnicodeDecodeError:
                    pass
                skip -= 1
        except ProtocolError as exc:
            self.failed = exc
            raise

    def _to_hiredis(self, py: PythonParser) -> None:
        """Back to hiredis once the Python parser is between replies and past the danger."""
        rest = py.unparsed()
        start = self._stream - len(rest)  # a reply boundary
        self._bulks.reset(start)
        bad = self._bulks.check(rest, start)
        if bad >= 0:  # the Python parser will meet it and raise
            self._last_dirty = max(self._last_dirty, bad)
            return
        self._py = None
        self._reader = reader = self._new_reader()
        self._retained = [rest] if rest else []
        self._since = len(rest)
        self._delivered = 0
        self._agg = _aggregate_marks(rest)
        if rest:
            reader.feed(rest)

    # -- output --------------------------------------------------------------

    def replies(self) -> list[object]:
        """Every complete reply buffered now (see :meth:`Parser.replies`).

        On the fast path (hiredis reading, no reply deep enough to check) one
        call drains hiredis in a loop: no Python frame per reply, and the
        boundary bookkeeping of :meth:`gets` once per call.
        """
        reader = self._reader
        if self._py is not None or self.failed is not None or self._agg > self._max_depth:
            return read_replies(self)  # the Python parser, a failure, or a depth to check
        out: list[object] = []
        # Empty right after a reply: a known boundary.  Asked after each reply,
        # because the call that returns NEED_MORE may have taken in the start of
        # the next reply, which leaves hiredis empty too.
        boundary = False
        while True:
            try:
                reply = reader.gets()
                while reply is not NEED_MORE:
                    out.append(reply)
                    boundary = not reader.has_data()
                    reply = reader.gets()
                break
            except UnicodeDecodeError as exc:  # hiredis read the whole reply
                out.append(decode_error(exc))
                boundary = not reader.has_data()
            except _HIREDIS_FAILURES as exc:
                failed = self._malformed(exc)
                if out:
                    return out  # the caller finds the error in ``failed``
                raise failed from None
        if boundary:  # _forget(), inlined: once per read, on the hot path
            self._retained = []
            self._since = self._delivered = self._agg = 0
        else:
            self._delivered += len(out)
        return out

    def gets(self) -> object:
        """Return the next complete reply, or :data:`NEED_MORE`."""
        if self.failed is not None:
            raise self.failed
        py = self._py
        if py is not None:
            try:
                reply = py.gets()
            except ProtocolError as exc:
                self.failed = exc
                raise
            except UnicodeDecodeError:
                self._maybe_leave_python(py)
                raise
            if reply is not NEED_MORE:
                self._maybe_leave_python(py)
            return reply
        reader = self._reader
        try:
            reply = reader.gets()
        except UnicodeDecodeError:
            self._after_reply()
            raise
        except _HIREDIS_FAILURES as exc:
            raise self._malformed(exc) from None
        if reply is NEED_MORE:
            return reply
        if self._agg > self._max_depth and _too_deep(reply, self._max_depth):
            self.failed = ProtocolError(f"reply nested deeper than max_depth ({self._max_depth})")
            raise self.failed
        if reader.has_data():
            self._delivered += 1
        elif self._since:  # hiredis is empty right after a whole reply: a known boundary
            self._forget()
        return reply

    def _malformed(self, exc: Exception) -> ProtocolError:
        """Fail the parser for good after hiredis raised ``exc``; the error to raise."""
        if isinstance(exc, hiredis.ProtocolError):
            self.failed = ProtocolError(f"malformed reply: {exc}")
        else:  # e.g. an unhashable map key
            self.failed = ProtocolError(f"malformed reply ({type(exc).__name__})")
        return self.failed

    def _after_reply(self) -> None:
        if self._reader.has_data():
            self._delivered += 1
        else:
            self._forget()

    def _forget(self) -> None:
        """A reply boundary: nothing before it is needed again (see :meth:`_to_python`)."""
        self._retained = []
        self._since = self._delivered = self._agg = 0

    def _maybe_leave_python(self, py: PythonParser) -> None:
        if py.at_boundary():
            rest = len(py.unparsed()) if self._last_dirty >= 0 else 0
            if self._stream - rest >= self._last_dirty:
                self._to_hiredis(py)
