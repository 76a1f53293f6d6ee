"""Checking the CRLF after every bulk payload, for the hiredis fast path.

``hiredis.Reader`` skips the two bytes after a bulk (or verbatim) string's
payload without looking at them, so ``$3\\r\\nabcXX:1\\r\\n`` reads as ``b"abc"``
and then ``1``: a reply the server never sent.  :class:`TerminatorCheck` looks
at the bytes before hiredis does and reports the first terminator that is not
CRLF; the hiredis wrapper then lets the pure-Python parser (which checks it)
read that stretch and raise.

It also bounds every line (header, status, error, number) to
:data:`~asyncpool.resp.base.MAX_LINE` bytes, terminated or not, so a peer that
never sends CRLF cannot make a connection buffer up to ``max_bulk_length``.

It must cost next to nothing on clean traffic, so the common case is one C-level
regex match per chunk: from the known start of a line, a grammar of "a line of
up to ``MAX_LINE`` bytes that is not a bulk header" or "a bulk of 0-999 bytes
with exactly that many bytes and a CRLF" (the digits select the branch, as in a
trie) consumes every whole item.  Only where it stops (a larger bulk, an item
cut by the chunk's end, a line it does not take) does Python code measure the
next item: a bulk's terminator is checked (or remembered until its bytes
arrive), any other line is skipped to its end.  So the stream is followed line
by line and payload by payload: bytes inside a payload are never read as a
header, and the start of the line being received is always known.
"""

from __future__ import annotations

import re
import sys

from .base import MAX_LINE

__all__ = ["TerminatorCheck"]

#: Bulks up to this size are checked by the one-regex fast path.
_FAST_MAX = 999
_CLEAN: dict[tuple[int, int, int, int], re.Pattern[bytes]] = {}
#: The items never overlap, so nothing is lost by never backtracking into them;
#: a possessive repeat (Python 3.11+) skips saving the states to do so.
_REPEAT = b"*+" if sys.version_info >= (3, 11) else b"*"
#: A bulk or verbatim header (at a line start).
_HEADER_HERE = re.compile(rb"[$=]([0-9]+)\r\n")


def _lengths(prefix: str, largest: int) -> bytes:
    """Regex alternatives, after ``[$=]`` + ``prefix``, for lengths starting with ``prefix``."""
    alternatives: list[bytes] = []
    if prefix:
        size = int(prefix)
        alternatives.append(rb"\r\n(?s:.{%d})\r\n" % size if size else rb"\r\n\r\n")
    if prefix != "0":
        for digit in "0123456789":
            longer = prefix + digit
            if int(longer) <= largest:
                alternatives.append(digit.encode() + _lengths(longer, largest))
    if len(alternatives) == 1:
        return alternatives[0]
    return b"(?:" + b"|".join(alternatives) + b")"


def line_limit(max_bulk_length: int) -> int:
    """The longest line allowed: :data:`MAX_LINE`, or less under a small bulk limit."""
    return min(MAX_LINE, max_bulk_length + 64)


def clean_items(array: int, pairs: int, bulk: int, line: int) -> re.Pattern[bytes]:
    """The fast path's grammar: whole items the hiredis wrapper need not look at again.

    ``array``, ``pairs`` and ``bulk`` are the digit counts from which an
    aggregate, map or bulk header is suspicious (see the hiredis wrapper's
    guard); such headers, the RESP3 types it always hands to the Python parser
    (``~ ( ! | >``), bulks over 999 bytes and lines over ``line`` bytes are left
    out, so a chunk made only of clean items needs neither the guard nor any
    further check.
    """
    key = (array, pairs, bulk, line)
    pattern = _CLEAN.get(key)
    if pattern is None:

        def counts(digits: int) -> bytes:
            return b"-1" if digits <= 1 else rb"(?:-1|[0-9]{1,%d})" % (digits - 1)

        largest = min(_FAST_MAX, 10 ** (bulk - 1) - 1)
        pattern = _CLEAN[key] = re.compile(
            rb"(?:[^$=!~(|>*%%\r\n][^\r\n]{0,%d}\r\n|\*%b\r\n|%%%b\r\n|[$=](?:-1\r\n|%b))%b"
            % (line - 1, counts(array), counts(pairs), _lengths("", largest), _REPEAT)
        )
    return pattern


class TerminatorCheck:
    """Follows a RESP byte stream and finds bulk strings not terminated by CRLF.

    Stream offsets count every byte fed since the start.  The caller passes
    each new chunk together with the few bytes before it (``scanned``, starting
    at stream offset ``base``), so a header cut between two chunks is seen.
    """

    __slots__ = ("_clean", "_line_start", "_max_line", "_terminator")

    def __init__(self, clean: re.Pattern[bytes], max_line: int) -> None:
        self._clean = clean  # from clean_items(..., max_line)
        self._max_line = max_line
        self._line_start = 0  # where the line being received starts (-1: in a payload)
        self._terminator = -1  # a bulk's terminator not received yet, or -1

    def reset(self, offset: int) -> None:
        """Restart at ``offset``, a reply boundary (everything before is someone else's)."""
        self._line_start = offset
        self._terminator = -1

    def clean_prefix(self, scanned: bytes, base: int) -> int:
        """Consume the whole, clean items that start ``scanned`` at the known line start.

        Returns the index in ``scanned`` where they end: ``len(scanned)`` (the
        common case: one regex match, and the chunk needs neither the guard nor
        :meth:`check`), else where :meth:`check` and the guard must look on, or
        0 while the line start is not in ``scanned`` (inside a payload or a long
        line).  A payload cut by the last chunk is finished first.
        """
        terminator = self._terminator
        if terminator >= 0:  # first the end of the payload the last chunk cut
            at = terminator - base
            if at + 2 > len(scanned) or scanned[at] != 13 or scanned[at + 1] != 10:
                return 0  # still in it, or a bad terminator: check() says which
            self._terminator = -1
            self._line_start = terminator + 2
        start = self._line_start - base  # negative inside a long line
        if start < 0:
            return 0
        end = self._clean.match(scanned, start).end()  # type: ignore[union-attr]
        self._line_start = base + end
        return end

    def check(self, scanned: bytes, base: int) -> int:
        """Check ``scanned``; return the stream offset past a bad spot, or -1.

        A bad spot is a bulk terminator that is not CRLF or a line longer than
        ``max_line`` (terminated or not yet).
        """
        size = len(scanned)
        end = base + size
        max_line = self._max_line
        terminator = self._terminator
        if terminator >= 0:
            if terminator + 2 > end:
                return -1  # still inside that payload
            at = terminator - base
            if scanned[at] != 13 or scanned[at + 1] != 10:
                return terminator + 2
            self._terminator = -1
            pos = at + 2
        else:
            line_start = self._line_start
            pos = line_start - base
            if pos < 0:  # still in a line that began before ``scanned``: a long one
                newline = scanned.find(b"\n")
                if newline < 0:
                    return end if end - line_start > max_line + 1 else -1
                if base + newline - 1 - line_start > max_line:
                    return base + newline + 1
                pos = newline + 1
        clean = self._clean.match
        while True:
            pos = clean(scanned, pos).end()  # type: ignore[union-attr]
            if pos == size:
                self._line_start = end
                return -1
            match = _HEADER_HERE.match(scanned, pos)
            if match is not None:
                at = match.end() + int(match[1])
                if at + 2 > size:
                    self._terminator = base + at
                    self._line_start = -1
                    return -1
                if scanned[at] != 13 or scanned[at + 1] != 10:
                    return base + at + 2
                pos = at + 2
                continue
            # a line the fast grammar does not take (cut short, long, or odd):
            # hiredis judges its content, we only bound its length
            newline = scanned.find(b"\n", pos)
            if newline < 0:
                self._line_start = base + pos
                return end if size - pos > max_line + 1 else -1
            if newline - 1 - pos > max_line:
                return base + newline + 1
            pos = newline + 1
