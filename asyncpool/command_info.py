"""What asyncpool knows about Redis commands: one table, used by every layer.

* **Retry class.**  After a connection error, a command whose bytes may have
  reached the server is retried only when it is in :data:`SAFE_TO_RETRY`
  (read-only, or idempotent so that running it twice equals running it once).
  Everything else (INCR, LPUSH, XADD, EVAL, LREM, LTRIM, ZREMRANGEBYRANK, ...)
  raises :class:`~asyncpool.OutcomeUnknownError` instead.  A command whose
  bytes never left the process is always retried.  Idempotent writes leave
  the same data when repeated, but their *reply* can differ: a retried
  ``DEL`` may count 0, a retried ``SET NX`` may answer nil.
* **Blocking.**  Commands in :data:`BLOCKING` wait on the server; their read
  deadline is extended by their own timeout argument, and a cancelled
  blocking command closes its connection (its reply could arrive much later).
* **State.**  Commands in :data:`STATEFUL` change per-connection state that
  must not leak to the next borrower (MULTI, WATCH, SELECT, SUBSCRIBE, ...).

Names are matched case-insensitively; both ``str`` and ``bytes`` work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "BLOCKING",
    "SAFE_TO_RETRY",
    "STATEFUL",
    "blocking_timeout",
    "command_name",
    "is_safe_to_retry",
]


def _names(words: Iterable[str]) -> frozenset[Any]:
    out: set[Any] = set()
    for w in words:
        for form in (w.upper(), w.lower()):
            out.add(form)
            out.add(form.encode())
    return frozenset(out)


#: Read-only or idempotent commands: retried after a connection error.
SAFE_TO_RETRY_NAMES = (
    # connection / server
    "PING ECHO INFO DBSIZE TIME HELLO SELECT CLIENT CONFIG COMMAND LASTSAVE ROLE MEMORY"
    # keys
    " EXISTS TTL PTTL EXPIRETIME PEXPIRETIME TYPE KEYS SCAN RANDOMKEY DUMP OBJECT TOUCH"
    " DEL UNLINK PERSIST EXPIRE PEXPIRE EXPIREAT PEXPIREAT"
    # strings
    " GET MGET GETRANGE STRLEN SUBSTR SET MSET GETEX LCS"
    # hashes
    " HGET HMGET HGETALL HEXISTS HKEYS HVALS HLEN HSCAN HSTRLEN HRANDFIELD HSET HMSET HDEL"
    # lists
    " LRANGE LLEN LINDEX LPOS LSET"
    # sets
    " SMEMBERS SISMEMBER SMISMEMBER SCARD SINTER SINTERCARD SUNION SDIFF SSCAN SRANDMEMBER"
    " SADD SREM SINTERSTORE SUNIONSTORE SDIFFSTORE"
    # sorted sets
    " ZRANGE ZRANGEBYSCORE ZRANGEBYLEX ZREVRANGE ZREVRANGEBYSCORE ZREVRANGEBYLEX ZSCORE ZMSCORE"
    " ZCARD ZCOUNT ZLEXCOUNT ZRANK ZREVRANK ZSCAN ZRANDMEMBER ZREM ZREMRANGEBYSCORE"
    " ZREMRANGEBYLEX ZRANGESTORE ZINTER ZUNION ZDIFF ZINTERSTORE ZUNIONSTORE"
    # streams (reads only)
    " XRANGE XREVRANGE XLEN XINFO XPENDING XREAD"
    # hyperloglog, bitmaps, geo
    " PFCOUNT GETBIT BITCOUNT BITPOS BITFIELD_RO GEOPOS GEODIST GEOHASH GEORADIUS_RO"
    " GEORADIUSBYMEMBER_RO GEOSEARCH PFADD SETBIT"
    # scripting metadata
    " SCRIPT EVALSHA_RO EVAL_RO FCALL_RO PUBSUB"
).split()

#: Commands that block on the server, with the index of their timeout
#: argument counted from the command name (negative: from the end).
BLOCKING_TIMEOUT_INDEX: dict[str, int] = {
    "BLPOP": -1,
    "BRPOP": -1,
    "BRPOPLPUSH": -1,
    "BLMOVE": -1,
    "BZPOPMIN": -1,
    "BZPOPMAX": -1,
    "BLMPOP": 1,
    "BZMPOP": 1,
    "WAIT": 2,
    "WAITAOF": 3,
}

SAFE_TO_RETRY = _names(SAFE_TO_RETRY_NAMES)
BLOCKING = _names([*BLOCKING_TIMEOUT_INDEX, "XREAD", "XREADGROUP"])
STATEFUL = _names(
    [
        "MULTI",
        "EXEC",
        "DISCARD",
        "WATCH",
        "UNWATCH",
        "SELECT",
        "SUBSCRIBE",
        "PSUBSCRIBE",
        "SSUBSCRIBE",
        "UNSUBSCRIBE",
        "PUNSUBSCRIBE",
        "SUNSUBSCRIBE",
        "CLIENT",
        "RESET",
        "MONITOR",
        "HELLO",
        "AUTH",
        "READONLY",
        "READWRITE",
    ]
)

#: Seconds are the unit of these commands' timeout argument; the rest use ms.
_TIMEOUT_IN_MS = frozenset({"WAIT", "WAITAOF", "XREAD", "XREADGROUP"})


def command_name(args: Sequence[Any]) -> str:
    """The upper-case command name of ``args`` (``""`` when empty)."""
    if not args:
        return ""
    name = args[0]
    if isinstance(name, (bytes, bytearray, memoryview)):
        return bytes(name).decode("ascii", "replace").upper()
    return str(name).upper()


def is_safe_to_retry(args: Sequence[Any]) -> bool:
    """Whether repeating ``args`` after a connection error is safe by default."""
    return bool(args) and args[0] in SAFE_TO_RETRY


def _as_float(value: Any) -> float | None:
    try:
        if isinstance(value, (bytes, bytearray)):
            value = value.decode()
        return float(value)
    except (TypeError, ValueError):
        return None


def blocking_timeout(args: Sequence[Any]) -> float | None:
    """How long a blocking command may legitimately wait on the server.

    Returns ``None`` for a non-blocking command, ``float("inf")`` when it may
    wait forever (timeout 0), else the timeout in seconds.  XREAD and
    XREADGROUP block only with a ``BLOCK`` argument.
    """
    if not args or args[0] not in BLOCKING:
        return None
    name = command_name(args)
    if name in ("XREAD", "XREADGROUP"):
        for i, a in enumerate(args):
            word = a.decode() if isinstance(a, (bytes, bytearray)) else str(a)
            if word.upper() == "BLOCK" and i + 1 < len(args):
                ms = _as_float(args[i + 1])
                if ms is None:
                    return None
                return float("inf") if ms == 0 else ms / 1000.0
        return None
    index = BLOCKING_TIMEOUT_INDEX[name]
    if index >= len(args) or -index > len(args) - 1:
        return None
    value = _as_float(args[index])
    if value is None:
        return None
    if name in _TIMEOUT_IN_MS:
        value = value / 1000.0
    return float("inf") if value == 0 else value
