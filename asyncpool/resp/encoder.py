"""Encode commands as RESP arrays of bulk strings (the only form Redis accepts from clients).

This is on every command's hot path.  A tuple whose arguments are all exactly
``bytes``, ``str`` or ``int`` (nearly every command) is packed by hiredis's C
encoder, ``hiredis.pack_command``, whose output for those types is the same
byte for byte.  Everything else (floats, whose NaN hiredis would send as
``nan``; bytearray, memoryview, subclasses; anything refused) takes the Python
path, which handles the common types by exact type checks first, takes small
headers from tables, builds each command with a single ``b"".join`` and raises
the errors documented below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .._types import EncodableT

_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _pack
except ImportError:  # pragma: no cover - hiredis is a dependency
    _pack = None

__all__ = ["EncodableT", "encode_command", "encode_commands"]

# What may be passed as a command argument: EncodableT.  ``bool`` is refused:
# Redis has no boolean argument type and ``True`` could mean ``1``, ``"true"`` or a flag.

_CRLF = b"\r\n"
_CACHE_SIZE = 1024
_BULK_HEADERS = [b"$%d\r\n" % n for n in range(_CACHE_SIZE)]
_ARRAY_HEADERS = [b"*%d\r\n" % n for n in range(64)]
_SMALL_INTS = [b"%d" % n for n in range(_CACHE_SIZE)]


def _to_bytes(arg: object, index: int) -> bytes:
    """The general (slow) path for one argument; exact ``bytes``/``str`` never get here."""
    if isinstance(arg, bool):
        raise TypeError(
            f"argument {index}: bool is not a valid Redis argument "
            "(pass 1/0 or a string explicitly)"
        )
    if isinstance(arg, int):
        return _SMALL_INTS[arg] if 0 <= arg < _CACHE_SIZE else b"%d" % arg
    if isinstance(arg, (bytes, bytearray)):
        return bytes(arg)
    if isinstance(arg, str):
        return arg.encode()
    if isinstance(arg, memoryview):
        return arg.tobytes()
    if isinstance(arg, float):
        if math.isnan(arg):
            raise ValueError(f"argument {index}: NaN cannot be sent to Redis")
        if math.isinf(arg):
            return b"inf" if arg > 0 else b"-inf"
        return repr(arg).encode()
    raise TypeError(
        f"argument {index}: cannot encode {type(arg).__name__!r}; expected bytes, str, int or float"
    )


def encode_command(args: Sequence[EncodableT]) -> bytes:
    """Encode one command (``("SET", "k", b"v")``) as a RESP array of bulk strings.

    ``str`` is encoded as UTF-8; ``int`` and ``float`` in their decimal form
    (``inf``/``-inf`` for infinities); binary data is sent unchanged.
    Raises :class:`TypeError` (or :class:`ValueError` for NaN and for an empty
    command) naming the position and type of the offending argument.
    """
    if args.__class__ is tuple and _pack is not None:
        for arg in args:
            kind = arg.__class__
            if kind is not bytes and kind is not str and kind is not int:
                break
        else:
            if args:
                return _pack(args)
    count = len(args)
    if not count:
        raise ValueError("cannot encode an empty command")
    parts = [_ARRAY_HEADERS[count] if count < 64 else b"*%d\r\n" % count]
    append = parts.append
    headers = _BULK_HEADERS
    for index, arg in enumerate(args):
        kind = type(arg)
        if kind is bytes:
            value: bytes = arg  # type: ignore[assignment]
        elif kind is str:
            value = arg.encode()  # type: ignore[union-attr]
        elif kind is int and 0 <= arg < _CACHE_SIZE:  # type: ignore[operator]
            value = _SMALL_INTS[arg]  # type: ignore[index]
        else:
            value = _to_bytes(arg, index)
        size = len(value)
        append(headers[size] if size < _CACHE_SIZE else b"$%d\r\n" % size)
        append(value)
        append(_CRLF)
    return b"".join(parts)


def encode_commands(commands: Iterable[Sequence[EncodableT]]) -> bytes:
    """Encode several commands (a pipeline) into one buffer, in order."""
    return b"".join([encode_command(command) for command in commands])
