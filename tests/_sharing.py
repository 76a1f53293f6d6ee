"""Helpers of the shared-connection tests: a busy script, pools, and the policy's state."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpool

from ._util import wait_until

#: Spin for ARGV[1] milliseconds on the server, then answer "slow".  Redis 8 freezes
#: TIME inside a script (a TIME loop would spin until BUSY), so it clocks with
#: os.clock() where the sandbox has it (7.2+) and with TIME before that.
SLOW = """
local ms = tonumber(ARGV[1])
local ok, clock = pcall(function() return os.clock end)
if ok and clock then
  local start = clock()
  repeat until clock() - start >= ms / 1000
else
  local t = redis.call('TIME')
  local start = t[1] * 1000000 + t[2]
  repeat
    t = redis.call('TIME')
  until t[1] * 1000000 + t[2] - start >= ms * 1000
end
return 'slow'
"""


def make_pool(server: Any, **options: Any) -> asyncpool.Pool:
    host = getattr(server, "host", "127.0.0.1")
    return asyncpool.Pool(
        host=host, port=server.port, password=getattr(server, "password", None), **options
    )


def slow(redis: asyncpool.Redis, ms: int) -> asyncio.Future[Any]:
    return asyncio.ensure_future(redis.execute_command("EVAL", SLOW, 0, ms))


def sharing(redis: asyncpool.Redis) -> asyncpool.pool.sharing.Sharing:
    found = redis.pool.sharing
    assert found is not None
    return found


async def owed(redis: asyncpool.Redis, count: int) -> None:
    """Wait until the shared connections owe ``count`` replies in all."""
    await wait_until(
        lambda: sum(sharing(redis).stats().replies_owed) == count,
        timeout=5,
        what=f"{count} replies owed",
    )
