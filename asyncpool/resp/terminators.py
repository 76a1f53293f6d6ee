"""Checking the CRLF after every bulk payload, for the hiredis fast path.

``hiredis.Reader`` skips the two bytes after a bulk (or verbatim) string's
payload without looking at them, so ``$3\\r\\nabcXX:1\\r\\n`` reads as ``b"abc"``
and then ``1``: a reply the server never sent.  :class:`TerminatorCheck` looks
at the bytes before hiredis does and reports the first terminator that is not
CRLF; the hiredis wrapper then lets the pure-Python parser (which checks it)
read that stretch and raise.

It must cost next to nothing on clean traffic, so the common case is one C-level
regex match per chunk: from a known line start, a grammar of "a non-bulk line"
or "a bulk of 0-999 bytes with exactly that many bytes and a CRLF" (the digits
select the branch, as in a trie) consumes every whole item.  Only where it
stops (a larger bulk, an item cut by the chunk's end) is a bulk header found and
its terminator checked in Python; a terminator not received yet is remembered
and checked when its bytes arrive.  Headers are only looked for at line starts
and never inside a payload already measured, so payload bytes that look like a
header are not mistaken for one.
"""

from __future__ import annotations

import re

__all__ = ["TerminatorCheck"]

#: Bulks up to this size are checked by the one-regex fast path.
_FAST_MAX = 999
_CLEAN: dict[tuple[int, int, int], re.Pattern[bytes]] = {}
#: A bulk or verbatim header right here (at a line start) ...
_HEADER_HERE = re.compile(rb"[$=]([0-9]+)\r\n")
#: ... or at the start of a later line.
_HEADER_AFTER = re.compile(rb"\n[$=]([0-9]+)\r\n")


def _lengths(prefix: str, largest: int) -> bytes:
    """Regex alternatives, after ``[$=]`` + ``prefix``, for lengths starting with ``prefix``."""
    alternatives: list[bytes] = []
    if prefix:
        size = int(prefix)
        alternatives.append(rb"\r\n[\s\S]{%d}\r\n" % size if size else rb"\r\n\r\n")
    if prefix != "0":
        for digit in "0123456789":
            longer = prefix + digit
            if int(longer) <= largest:
                alternatives.append(digit.encode() + _lengths(longer, largest))
    if len(alternatives) == 1:
        return alternatives[0]
    return b"(?:" + b"|".join(alternatives) + b")"


def clean_items(array: int, pairs: int, bulk: int) -> re.Pattern[bytes]:
    """The fast path's grammar: whole items the hiredis wrapper need not look at again.

    ``array``, ``pairs`` and ``bulk`` are the digit counts from which an
    aggregate, map or bulk header is suspicious (see the hiredis wrapper's
    guard); such headers, the RESP3 types it always hands to the Python parser
    (``~ ( ! | >``) and bulks over 999 bytes are left out, so a chunk made only
    of clean items needs neither the guard nor any further check.
    """
    key = (array, pairs, bulk)
    pattern = _CLEAN.get(key)
    if pattern is None:

        def counts(digits: int) -> bytes:
            return b"-1" if digits <= 1 else rb"(?:-1|[0-9]{1,%d})" % (digits - 1)

        largest = min(_FAST_MAX, 10 ** (bulk - 1) - 1)
        pattern = _CLEAN[key] = re.compile(
            rb"(?:[^$=!~(|>*%%\r\n][^\r\n]*\r\n|\*%b\r\n|%%%b\r\n|[$=](?:-1\r\n|%b))*"
            % (counts(array), counts(pairs), _lengths("", largest))
        )
    return pattern


class TerminatorCheck:
    """Follows a RESP byte stream and finds bulk strings not terminated by CRLF.

    Stream offsets count every byte fed since the start.  The caller passes
    each new chunk together with the few bytes before it (``scanned``, starting
    at stream offset ``base``), so a header cut between two chunks is seen.
    """

    __slots__ = ("_checked", "_clean", "_line_start", "_terminator")

    def __init__(self, clean: re.Pattern[bytes]) -> None:
        self._clean = clean  # from clean_items()
        self._line_start = 0  # a line start up to which all is checked, or -1
        self._checked = 0  # all bulks starting before this were checked
        self._terminator = -1  # a bulk's terminator not received yet, or -1

    def reset(self, offset: int) -> None:
        """Restart at ``offset``, a reply boundary (everything before is someone else's)."""
        self._line_start = self._checked = offset
        self._terminator = -1

    def all_clean(self, scanned: bytes, base: int) -> bool:
        """True (and all checked) when ``scanned`` ends in whole, clean items from a line start.

        The fast path: one regex match, and neither the guard nor :meth:`check`
        is needed for this chunk.
        """
        start = self._line_start - base  # negative while a terminator is awaited
        if start < 0:
            return False
        size = len(scanned)
        if self._clean.match(scanned, start).end() != size:  # type: ignore[union-attr]
            return False
        self._line_start = self._checked = base + size
        return True

    def check(self, scanned: bytes, base: int) -> int:
        """Check ``scanned``; return the stream offset past a bad terminator, or -1."""
        size = len(scanned)
        end = base + size
        terminator = self._terminator
        if terminator >= 0:
            if terminator + 2 > end:
                return -1  # still inside that payload
            at = terminator - base
            if scanned[at] != 13 or scanned[at + 1] != 10:
                return terminator + 2
            self._terminator = -1
            pos = at + 2
            at_line = True
        elif self._line_start >= base:
            pos = self._line_start - base
            at_line = True
        else:
            pos = max(self._checked - base - 1, 0)  # the "\n" before a header counts
            at_line = False
        while True:
            if at_line:
                pos = self._clean.match(scanned, pos).end()  # type: ignore[union-attr]
                if pos == size:
                    self._line_start = self._checked = end
                    return -1
                match = _HEADER_HERE.match(scanned, pos) or _HEADER_AFTER.search(scanned, pos)
            else:
                match = _HEADER_AFTER.search(scanned, pos)
            if match is None:
                # No bulk header ahead: every "\n" ends a line, so the last one
                # marks where the (possibly cut) last line starts.
                newline = scanned.rfind(b"\n", max(pos - 1, 0))
                if newline >= 0:
                    self._line_start = self._checked = base + newline + 1
                else:
                    self._line_start = -1
                return -1
            at = match.end() + int(match[1])
            if at + 2 > size:
                self._terminator = base + at
                self._checked = base + at + 2
                self._line_start = -1
                return -1
            if scanned[at] != 13 or scanned[at + 1] != 10:
                return base + at + 2
            pos = at + 2
            at_line = True
