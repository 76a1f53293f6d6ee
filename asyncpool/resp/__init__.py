"""RESP, the Redis wire protocol: command encoding and reply parsing (no I/O).

``encode_command`` / ``encode_commands`` turn arguments into bytes to write;
``make_parser`` returns a :class:`Parser` that turns received bytes back into
Python values.  Reply shapes (identical for both parsers):

========================  ===========================================
RESP type                 Python value
========================  ===========================================
simple string ``+``       ``bytes`` (``str`` with ``encoding``)
error ``-`` / ``!``       a :class:`~asyncpool.ResponseError` subclass, *returned*
integer ``:``             ``int``
bulk ``$`` / verbatim     ``bytes`` (``str`` with ``encoding``); verbatim
``=``                     drops its ``txt:`` style prefix
null (``$-1 *-1 _``)      ``None``
double ``,``              ``float`` (``inf``, ``-inf``, ``nan`` included)
big number ``(``          ``int``
boolean ``#``             ``bool``
array ``*``               ``list``
map ``%``                 ``dict``
set ``~``                 ``set`` (``list`` if a member is unhashable)
push ``>``                :class:`PushMessage` (a ``list`` subclass)
attribute ``|``           dropped; the reply it annotates is returned
========================  ===========================================
"""

from __future__ import annotations

from typing import Literal

from ..errors import ConfigError
from ..options import ReplyLimits
from .base import NEED_MORE, Parser, PushMessage
from .encoder import EncodableT, encode_command, encode_commands
from .python_parser import PythonParser

try:
    from .hiredis_parser import HiredisParser

    HIREDIS_AVAILABLE = True
except ImportError:  # pragma: no cover - hiredis is a dependency
    HIREDIS_AVAILABLE = False

__all__ = [
    "HIREDIS_AVAILABLE",
    "NEED_MORE",
    "EncodableT",
    "Parser",
    "PushMessage",
    "PythonParser",
    "encode_command",
    "encode_commands",
    "make_parser",
]


def make_parser(
    kind: Literal["auto", "hiredis", "python"] = "auto",
    *,
    limits: ReplyLimits | None = None,
    encoding: str | None = None,
    errors: str = "strict",
) -> Parser:
    """Create a reply parser.

    ``kind="auto"`` uses hiredis when it is importable, else the pure-Python
    parser; ``"hiredis"`` raises :class:`~asyncpool.ConfigError` when hiredis is
    missing.  ``encoding`` decodes bulk and simple strings to ``str`` (error
    messages are always decoded as UTF-8); ``limits`` bounds what one reply may
    announce.  An unknown ``encoding`` raises :class:`LookupError`.
    """
    if kind == "python" or (kind == "auto" and not HIREDIS_AVAILABLE):
        return PythonParser(limits=limits, encoding=encoding, errors=errors)
    if kind not in ("auto", "hiredis"):
        raise ConfigError(f"parser must be 'auto', 'hiredis' or 'python', got {kind!r}")
    if not HIREDIS_AVAILABLE:
        raise ConfigError("parser='hiredis' was asked for but hiredis is not installed")
    return HiredisParser(limits=limits, encoding=encoding, errors=errors)
