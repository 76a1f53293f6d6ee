"""Key slots: CRC16 of the key (or of its ``{hash tag}``) modulo 16384.

The same function as Redis Cluster's ``keyHashSlot``: CRC16/XMODEM
(polynomial 0x1021, initial value 0) of the key's bytes; when the key holds
a ``{...}`` with at least one byte inside, only those bytes are hashed, so
``{user:1}:name`` and ``{user:1}:mail`` share a slot.
"""

from __future__ import annotations

from binascii import crc_hqx
from typing import Any

__all__ = ["SLOTS", "hash_slot", "key_bytes"]

#: Slots in a Redis Cluster.
SLOTS = 16384


def key_bytes(key: Any) -> bytes:
    """The bytes a key is sent as (the encoder's rules: UTF-8 text, decimal numbers)."""
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode()
    if isinstance(key, (bytearray, memoryview)):
        return bytes(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return b"%d" % key
    if isinstance(key, float):
        return repr(key).encode()
    raise TypeError(f"cannot use a {type(key).__name__} as a key")


def crc16(data: bytes) -> int:
    """CRC16/XMODEM of ``data`` (``binascii.crc_hqx`` is that CRC, in C)."""
    return crc_hqx(data, 0)


def hash_slot(key: Any) -> int:
    """The cluster slot (0-16383) of ``key`` (``str``, ``bytes``, or a number)."""
    data = key if key.__class__ is bytes else key_bytes(key)
    start = data.find(b"{")
    if start != -1:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1 : end]
    return crc16(data) % SLOTS
