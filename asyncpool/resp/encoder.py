"""Encode commands as RESP arrays of bulk strings (the only form Redis accepts from clients).

This is on every command's hot path.  The commonest commands, a ``str`` name
and one or two exact ``bytes``/``str`` arguments under 1 KiB (``GET k``,
``SET k v``, ``HGET h f`` ...), are joined from cached headers in one
``b"".join``: about half what a call into hiredis costs for them.  Any other
tuple whose arguments are all exactly ``bytes``, ``str`` or ``int`` is packed
by hiredis's C encoder, ``hiredis.pack_command``, whose output for those types
is the same byte for byte.  Everything else (floats, whose NaN hiredis would send as
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


#: Per command name (exact ``str``): the array and name headers of a 2- and a 3-item command.
_HEADS: dict[str, tuple[bytes, bytes]] = {}
_MAX_HEADS = 4096
_join = b"".join


def _heads_for(name: str) -> tuple[bytes, bytes] | None:
    """Cache the headers of the command name ``name`` (``None`` once the cache is full)."""
    if len(_HEADS) >= _MAX_HEADS:
        return None
    try:
        raw = name.encode()
    except UnicodeEncodeError:
        return None  # the general path raises it
    bulk = b"$%d\r\n%s\r\n" % (len(raw), raw)
    heads = _HEADS[name] = (b"*2\r\n" + bulk, b"*3\r\n" + bulk)
    return heads


def encode_command(args: Sequence[EncodableT]) -> bytes:
    """Encode one command (``("SET", "k", b"v")``) as a RESP array of bulk strings.

    ``str`` is encoded as UTF-8; ``int`` and ``float`` in their decimal form
    (``inf``/``-inf`` for infinities); binary data is sent unchanged.
    Raises :class:`TypeError` (or :class:`ValueError` for NaN and for an empty
    command) naming the position and type of the offending argument.
    """
    if args.__class__ is tuple:
        count = len(args)
        if count == 2 or count == 3:  # the commonest commands, joined from cached headers
            first: Any = args[0]
            heads = (_HEADS.get(first) or _heads_for(first)) if first.__class__ is str else None
            if heads is not None:
                second: Any = args[1]
                if second.__class__ is str:
                    second = second.encode()
                if second.__class__ is bytes and len(second) < _CACHE_SIZE:
                    if count == 2:
                        return _join((heads[0], _BULK_HEADERS[len(second)], second, _CRLF))
                    third: Any = args[2]
                    if third.__class__ is str:
                        third = third.encode()
                    if third.__class__ is bytes and len(third) < _CACHE_SIZE:
                        return _join(
                            (
                                heads[1],
                                _BULK_HEADERS[len(second)],
                                second,
                                _CRLF,
                                _BULK_HEADERS[len(third)],
                                third,
                                _CRLF,
                            )
                        )
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
