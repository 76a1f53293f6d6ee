"""Small helpers shared by asyncpool's own tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

#: Every byte value, plus a CRLF: binary data that must round-trip unchanged.
ALL_BYTES = bytes(range(256)) + b"\r\n"


async def wait_until(
    predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Poll ``predicate`` (state outside our control, e.g. the server's) until true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)
